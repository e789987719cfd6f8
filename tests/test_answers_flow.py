"""A branch reads a round and writes, submits, withdraws and revises its answer; deadlines and conflicts."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from test_answers_support import answer_post, edit_url, hidden_version, new_client, stored

from consult.extensions import db


@pytest.fixture
def world(app, clock, make_org, make_user, make_round, hq):
    pref = make_org("北海道本部")
    other = make_org("青森県本部")
    round_ = make_round(
        title="社会保障政策の討議",
        targets=[pref, other],
        deadline=clock() + timedelta(days=7),
        background="第一段落です。\n\n第二段落です。",
    )
    return SimpleNamespace(
        pref=pref,
        other=other,
        round=round_,
        items=[item.id for item in round_.items],
        member=make_user("member", pref, name="佐藤花子"),
        colleague=make_user("member", pref, name="鈴木一郎"),
        staff=make_user("staff", hq, name="本部太郎"),
        deadline=round_.deadline,
    )


def post(client, w, version=0, opinions=None, **kwargs):
    return client.post(edit_url(w.round, w.pref), data=answer_post(version, opinions, item_ids=w.items, **kwargs))


def test_index_lists_rounds_open_to_my_org_with_time_left_and_state(world, make_round, make_org, login_as):
    w = world
    make_round(title="準備中の討議", targets=[w.pref], status="draft")
    make_round(title="よその討議", targets=[w.other])
    client = login_as(w.member)
    html = client.get("/answers/").get_data(as_text=True)
    assert "社会保障政策の討議" in html and "あと7日0時間" in html and "未着手" in html
    assert "2025年3月17日(月) 10:00" in html
    assert "準備中の討議" not in html and "よその討議" not in html
    assert post(client, w, 0, {w.items[0]: {"stance": "agree"}}).status_code == 302
    assert "下書き" in client.get("/answers/").get_data(as_text=True)


def test_hq_visiting_answers_is_sent_to_rounds(world, login_as):
    response = login_as(world.staff).get("/answers/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/rounds/")


def test_round_page_shows_whole_draft(app, world, clock, login_as):
    from consult.rounds import operations as rops
    from consult.rounds.models import Round

    with app.app_context():
        round_ = db.session.get(Round, world.round.id)
        rops.add_milestone(
            round_, date(2025, 3, 24), "中央執行委員会", "自治労案を決定し各県本部に周知", user=None, now=clock()
        )
        attachment = rops.add_attachment(round_, "素案.pdf", b"%PDF-1.4 test", None, clock(), 1024 * 1024)
        db.session.commit()
        aid = attachment.id
    html = login_as(world.member).get(f"/answers/{world.round.id}").get_data(as_text=True)
    assert "<p>第一段落です。</p>" in html and "<p>第二段落です。</p>" in html
    assert "項目1の本文" in html and "項目3" in html
    assert f'href="/rounds/attachments/{aid}"' in html and "素案.pdf" in html
    assert "2025年3月24日(月)" in html and "中央執行委員会" in html and "各県本部に周知" in html
    assert "未着手" in html and "回答を入力する" in html and "意見なしで提出" in html


def test_save_draft_and_resave(app, world, login_as):
    w = world
    client = login_as(w.member)
    html = client.get(edit_url(w.round, w.pref)).get_data(as_text=True)
    assert hidden_version(html) == 0 and f'name="item-{w.items[0]}-stance"' in html
    response = post(
        client,
        w,
        0,
        {
            w.items[0]: {
                "stance": "amend",
                "referred_text": "第3段落",
                "proposed_text": "拡充すること",
                "reason": "現場の声",
            }
        },
    )
    assert response.status_code == 302
    first = stored(app, w.round.id, w.pref.id)
    assert first["status"] == "draft"
    assert first["opinions"] == {w.items[0]: ("amend", "第3段落", "拡充すること", "現場の声")}
    html = client.get(edit_url(w.round, w.pref)).get_data(as_text=True)
    assert "拡充すること" in html and hidden_version(html) == first["version"]
    response = post(
        client,
        w,
        first["version"],
        {w.items[0]: {"stance": "oppose", "reason": "反対の理由"}},
        general_comment="全体として賛成",
    )
    assert response.status_code == 302
    second = stored(app, w.round.id, w.pref.id)
    assert second["opinions"] == {w.items[0]: ("oppose", "", "", "反対の理由")}
    assert second["general_comment"] == "全体として賛成" and second["version"] > first["version"]
    assert [e[0] for e in second["events"]] == ["save", "save"]


def test_submit_withdraw_and_resubmit(app, world, login_as):
    w = world
    client = login_as(w.member)
    assert (
        post(client, w, 0, {w.items[1]: {"stance": "add", "proposed_text": "追加案"}}, action="submit").status_code
        == 302
    )
    answer = stored(app, w.round.id, w.pref.id)
    assert answer["status"] == "submitted" and not answer["no_opinion"]
    # A submitted answer is read-only with the withdraw button.
    response = client.get(edit_url(w.round, w.pref))
    assert response.status_code == 302
    html = client.get(f"/answers/{w.round.id}/org/{w.pref.id}").get_data(as_text=True)
    assert "提出を取り下げて修正する" in html and "追加案" in html and "<textarea" not in html
    # Saving over a submitted answer is refused with a message, text kept.
    response = post(client, w, answer["version"], {w.items[1]: {"stance": "add", "proposed_text": "別案"}})
    assert response.status_code == 200 and "提出済み" in response.get_data(as_text=True)
    assert "別案" in response.get_data(as_text=True)
    response = client.post(f"/answers/{w.round.id}/org/{w.pref.id}/withdraw", data={"version": answer["version"]})
    assert response.status_code == 302 and response.headers["Location"].endswith("/edit")
    withdrawn = stored(app, w.round.id, w.pref.id)
    assert withdrawn["status"] == "draft"
    assert (
        post(
            client,
            w,
            withdrawn["version"],
            {w.items[1]: {"stance": "add", "proposed_text": "改めた案"}},
            action="submit",
        ).status_code
        == 302
    )
    final = stored(app, w.round.id, w.pref.id)
    assert final["status"] == "submitted" and final["opinions"][w.items[1]][2] == "改めた案"
    assert [e[0] for e in final["events"]] == ["submit", "withdraw", "submit"]


def test_submit_with_nothing_typed_is_refused(app, world, login_as):
    response = post(login_as(world.member), world, 0, {}, action="submit")
    assert response.status_code == 200 and "意見なしで提出" in response.get_data(as_text=True)
    assert stored(app, world.round.id, world.pref.id) is None


def test_no_opinion_answer(app, world, login_as):
    w = world
    client = login_as(w.member)
    response = client.post(f"/answers/{w.round.id}/org/{w.pref.id}/no-opinion", data={"version": 0})
    assert response.status_code == 302
    answer = stored(app, w.round.id, w.pref.id)
    assert answer["status"] == "submitted" and answer["no_opinion"] is True
    assert "意見なし" in client.get("/answers/").get_data(as_text=True)
    html = client.get(f"/answers/{w.round.id}/org/{w.pref.id}").get_data(as_text=True)
    assert "「意見なし」として提出されています" in html
    # A second, stale no-opinion press is a conflict, not a second event.
    response = client.post(f"/answers/{w.round.id}/org/{w.pref.id}/no-opinion", data={"version": 0})
    assert response.status_code == 200 and "先に保存しました" in response.get_data(as_text=True)
    assert [e[0] for e in stored(app, w.round.id, w.pref.id)["events"]] == ["no_opinion"]


def test_save_one_second_before_deadline_is_accepted(app, world, clock, login_as):
    client = login_as(world.member)
    clock.set(world.deadline - timedelta(seconds=1))
    assert post(client, world, 0, {world.items[0]: {"stance": "agree"}}, action="submit").status_code == 302
    assert stored(app, world.round.id, world.pref.id)["status"] == "submitted"


def test_save_at_the_deadline_second_is_accepted(app, world, clock, login_as):
    client = login_as(world.member)
    clock.set(world.deadline)
    assert post(client, world, 0, {world.items[0]: {"stance": "agree"}}).status_code == 302


def test_one_second_late_is_refused_and_kept_as_late_draft(app, world, clock, login_as):
    w = world
    client = login_as(w.member)
    post(client, w, 0, {w.items[0]: {"stance": "amend", "proposed_text": "期限内の案"}})
    in_time = stored(app, w.round.id, w.pref.id)
    clock.set(w.deadline + timedelta(seconds=1))
    response = post(client, w, in_time["version"], {w.items[0]: {"stance": "amend", "proposed_text": "遅れた案"}})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "締切（2025年3月17日(月) 10:00）を過ぎたため、提出できませんでした" in html
    assert "遅れた案" in html
    after = stored(app, w.round.id, w.pref.id)
    assert after["opinions"] == in_time["opinions"] and after["status"] == "draft"
    assert after["late_payload"]["opinions"][str(w.items[0])]["proposed_text"] == "遅れた案"
    assert after["late_at"] == w.deadline + timedelta(seconds=1)
    assert after["events"][-1][0] == "late"
    # Headquarters sees the late content in its marked box, apart from the answer sent in time.
    staff_client = new_client(app, w.staff)
    html = staff_client.get(f"/answers/{w.round.id}/org/{w.pref.id}").get_data(as_text=True)
    assert "締切後に送信された内容（未提出）" in html and "遅れた案" in html and "期限内の案" in html


def test_after_deadline_the_answer_is_read_only(app, world, clock, login_as):
    w = world
    client = login_as(w.member)
    post(client, w, 0, {w.items[0]: {"stance": "agree", "reason": "賛成理由"}})
    clock.set(w.deadline + timedelta(minutes=1))
    response = client.get(edit_url(w.round, w.pref))
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "締切を過ぎたため" in html and "賛成理由" in html
    assert "<textarea" not in html and "<select" not in html and "/edit" not in html
    response = client.post(f"/answers/{w.round.id}/org/{w.pref.id}/no-opinion", data={"version": 1})
    assert response.status_code == 200 and "提出できませんでした" in response.get_data(as_text=True)
    assert stored(app, w.round.id, w.pref.id)["status"] == "draft"


def test_before_opening_and_after_an_early_close_nothing_is_kept_as_late(app, world, clock, make_round, login_as):
    from consult.rounds import operations as rops
    from consult.rounds.models import Round

    w = world
    client = login_as(w.member)
    future = make_round(title="来週からの討議", targets=[w.pref], opens_at=clock() + timedelta(days=1))
    assert client.get(f"/answers/{future.id}/org/{w.pref.id}/edit").status_code == 302
    assert "まだ回答の受付が始まっていません" in client.get(f"/answers/{future.id}").get_data(as_text=True)
    ids = [item.id for item in future.items]
    response = client.post(
        f"/answers/{future.id}/org/{w.pref.id}/edit",
        data=answer_post(0, {ids[0]: {"stance": "agree", "reason": "早すぎた"}}, item_ids=ids),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "まだ回答の受付を始めていません" in html and "早すぎた" in html
    assert stored(app, future.id, w.pref.id) is None
    with app.app_context():
        rops.close_round(db.session.get(Round, w.round.id), clock(), user=None)
        db.session.commit()
    response = post(client, w, 0, {w.items[0]: {"stance": "agree"}})
    assert response.status_code == 200 and "本部が受付を締め切ったため" in response.get_data(as_text=True)


def grant(app, w, until, clock):
    from consult.rounds import operations as rops
    from consult.rounds.models import Round

    with app.app_context():
        rops.grant_extension(db.session.get(Round, w.round.id), w.pref.id, until, "災害対応のため", None, clock())
        db.session.commit()


def test_extension_accepts_after_deadline_until_its_end(app, world, clock, login_as):
    w = world
    client = login_as(w.member)
    until = w.deadline + timedelta(hours=2)
    clock.set(w.deadline)
    grant(app, w, until, clock)
    clock.set(w.deadline + timedelta(seconds=1))
    html = client.get("/answers/").get_data(as_text=True)
    assert "延長" in html and "2025年3月17日(月) 12:00" in html and "あと1時間59分" in html
    assert post(client, w, 0, {w.items[0]: {"stance": "agree"}}).status_code == 302
    clock.set(until + timedelta(seconds=1))
    version = stored(app, w.round.id, w.pref.id)["version"]
    response = post(client, w, version, {w.items[0]: {"stance": "oppose"}})
    assert response.status_code == 200 and "12:00）を過ぎたため" in response.get_data(as_text=True)
    assert stored(app, w.round.id, w.pref.id)["opinions"][w.items[0]][0] == "agree"
    # The other organisation had no extension.
    other = stored(app, w.round.id, w.other.id)
    assert other is None


def test_extension_prefills_what_was_sent_late(app, world, clock, login_as):
    w = world
    client = login_as(w.member)
    post(client, w, 0, {w.items[0]: {"stance": "agree", "reason": "古い理由"}})
    clock.set(w.deadline + timedelta(seconds=5))
    post(
        client,
        w,
        stored(app, w.round.id, w.pref.id)["version"],
        {w.items[0]: {"stance": "amend", "reason": "締切後に書いた理由"}},
    )
    clock.advance(hours=1)
    grant(app, w, clock() + timedelta(days=1), clock)
    html = client.get(edit_url(w.round, w.pref)).get_data(as_text=True)
    assert "締切後に書いた理由" in html and "古い理由" not in html and "入力欄に戻しました" in html
    response = client.post(
        edit_url(w.round, w.pref),
        data=answer_post(
            hidden_version(html), {w.items[0]: {"stance": "amend", "reason": "締切後に書いた理由"}}, item_ids=w.items
        ),
    )
    assert response.status_code == 302
    # Once saved normally, the late draft no longer overrides the stored answer.
    html = client.get(edit_url(w.round, w.pref)).get_data(as_text=True)
    assert "入力欄に戻しました" not in html and "締切後に書いた理由" in html


def test_two_people_of_one_branch_do_not_overwrite_each_other(app, world, clock, login_as):
    w = world
    first = login_as(w.member)
    second = new_client(app, w.colleague)
    v1 = hidden_version(first.get(edit_url(w.round, w.pref)).get_data(as_text=True))
    v2 = hidden_version(second.get(edit_url(w.round, w.pref)).get_data(as_text=True))
    assert v1 == v2 == 0
    clock.set(w.deadline - timedelta(hours=2))  # 08:00 JST on the deadline day
    assert post(first, w, v1, {w.items[0]: {"stance": "amend", "proposed_text": "佐藤の案"}}).status_code == 302
    response = post(second, w, v2, {w.items[0]: {"stance": "oppose", "proposed_text": "鈴木の案"}})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "同じ組織の別の方が先に保存しました" in html
    assert "鈴木の案" in html and "佐藤の案" in html
    assert "あなたの入力" in html and "保存済みの内容（佐藤花子さんが 08:00 に保存）" in html
    assert 'class="compare"' in html
    assert stored(app, w.round.id, w.pref.id)["opinions"][w.items[0]][2] == "佐藤の案"
    # The re-render carries the current version: saving again overwrites knowingly.
    current = stored(app, w.round.id, w.pref.id)["version"]
    assert hidden_version(html) == current
    assert post(second, w, current, {w.items[0]: {"stance": "oppose", "proposed_text": "鈴木の案"}}).status_code == 302
    assert stored(app, w.round.id, w.pref.id)["opinions"][w.items[0]][2] == "鈴木の案"


def test_conflict_on_withdraw(app, world, login_as):
    w = world
    first = login_as(w.member)
    second = new_client(app, w.colleague)
    post(first, w, 0, {w.items[0]: {"stance": "agree"}}, action="submit")
    version = stored(app, w.round.id, w.pref.id)["version"]
    url = f"/answers/{w.round.id}/org/{w.pref.id}/withdraw"
    assert first.post(url, data={"version": version}).status_code == 302
    response = second.post(url, data={"version": version})
    assert response.status_code == 200 and "先に保存しました" in response.get_data(as_text=True)
    answer = stored(app, w.round.id, w.pref.id)
    assert answer["status"] == "draft" and [e[0] for e in answer["events"]] == ["submit", "withdraw"]


def test_history_lists_changes_and_marks_proxy_entry(app, world, login_as):
    w = world
    client = login_as(w.member)
    post(client, w, 0, {w.items[0]: {"stance": "amend", "proposed_text": "最初の案"}})
    version = stored(app, w.round.id, w.pref.id)["version"]
    post(client, w, version, {w.items[0]: {"stance": "amend", "proposed_text": "直した案"}}, action="submit")
    version = stored(app, w.round.id, w.pref.id)["version"]
    client.post(f"/answers/{w.round.id}/org/{w.pref.id}/withdraw", data={"version": version})
    staff = new_client(app, w.staff)
    form = staff.get(edit_url(w.round, w.pref)).get_data(as_text=True)
    assert "北海道本部の回答を本部が代理で入力しています" in form
    response = staff.post(
        edit_url(w.round, w.pref),
        data=answer_post(
            hidden_version(form),
            {w.items[0]: {"stance": "amend", "proposed_text": "直した案"}},
            general_comment="本部が電話で聞き取った意見",
            item_ids=w.items,
        ),
    )
    assert response.status_code == 302
    events = stored(app, w.round.id, w.pref.id)["events"]
    assert [(e[0], e[1]) for e in events] == [("save", False), ("submit", False), ("withdraw", False), ("save", True)]
    html = client.get(f"/answers/{w.round.id}/org/{w.pref.id}/history").get_data(as_text=True)
    for label in ("下書き保存", "提出", "提出取り下げ", "本部による代理入力", "佐藤花子", "本部太郎"):
        assert label in html
    assert "最初の案" in html and "直した案" in html and "修正案" in html and "本部が電話で聞き取った意見" in html
    assert "2025年3月10日(月) 10:00:00" in html


def test_opinion_on_revised_item_shows_old_wording(app, world, clock, login_as):
    from consult.rounds import operations as rops
    from consult.rounds.models import RoundItem

    w = world
    client = login_as(w.member)
    post(client, w, 0, {w.items[0]: {"stance": "amend", "proposed_text": "旧本文への意見"}})
    with app.app_context():
        item = db.session.get(RoundItem, w.items[0])
        rops.update_item(item, rops.ItemDraft("1", "項目1（改）", "新しい本文"), clock(), user=None)
        db.session.commit()
    for url in (edit_url(w.round, w.pref), f"/answers/{w.round.id}/org/{w.pref.id}"):
        html = client.get(url).get_data(as_text=True)
        assert "この意見は改訂前の本文（第1版）に対するものです" in html, url
        assert "項目1の本文" in html and "新しい本文" in html
    # Saving from the form re-answers the current wording.
    version = stored(app, w.round.id, w.pref.id)["version"]
    post(client, w, version, {w.items[0]: {"stance": "amend", "proposed_text": "新本文への意見"}})
    assert "改訂前の本文" not in client.get(f"/answers/{w.round.id}/org/{w.pref.id}").get_data(as_text=True)


def test_opinion_on_withdrawn_item_is_kept_and_shown(app, world, clock, login_as):
    from consult.rounds import operations as rops
    from consult.rounds.models import RoundItem

    w = world
    client = login_as(w.member)
    post(client, w, 0, {w.items[2]: {"stance": "delete", "reason": "不要"}, w.items[0]: {"stance": "agree"}})
    with app.app_context():
        assert rops.remove_item(db.session.get(RoundItem, w.items[2]), clock(), user=None) == "withdrawn"
        db.session.commit()
    html = client.get(edit_url(w.round, w.pref)).get_data(as_text=True)
    assert f"item-{w.items[2]}-stance" not in html
    version = hidden_version(html)
    response = client.post(
        edit_url(w.round, w.pref), data=answer_post(version, {w.items[0]: {"stance": "oppose"}}, item_ids=w.items[:2])
    )
    assert response.status_code == 302
    answer = stored(app, w.round.id, w.pref.id)
    assert answer["opinions"][w.items[2]] == ("delete", "", "", "不要")
    assert answer["opinions"][w.items[0]][0] == "oppose"
    html = client.get(f"/answers/{w.round.id}/org/{w.pref.id}").get_data(as_text=True)
    assert "取り下げられた項目への意見" in html and "不要" in html


def test_proposals_get_more_slots_without_saving_then_save(app, world, login_as):
    w = world
    client = login_as(w.member)
    body = answer_post(
        0,
        {w.items[0]: {"stance": "agree"}},
        item_ids=w.items,
        proposals=[{"heading": "新しい項目", "proposed_text": "提案本文"}, {}],
        action="more",
    )
    response = client.post(edit_url(w.round, w.pref), data=body)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="proposal-2-heading"' in html and "提案本文" in html
    assert stored(app, w.round.id, w.pref.id) is None
    body.update(
        {"action": "save", "proposal-2-heading": "三つ目", "proposal-2-reason": "理由3", "proposal-2-proposed_text": ""}
    )
    assert client.post(edit_url(w.round, w.pref), data=body).status_code == 302
    assert stored(app, w.round.id, w.pref.id)["proposals"] == [("新しい項目", "提案本文", ""), ("三つ目", "", "理由3")]
    html = client.get(edit_url(w.round, w.pref)).get_data(as_text=True)
    assert 'name="proposal-3-heading"' in html and 'name="proposal-4-heading"' not in html
