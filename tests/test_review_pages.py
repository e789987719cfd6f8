"""Headquarters' aggregation pages: counts, filters, paging in fixed queries, dispositions, links, publication."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from consult.core import clock as app_clock
from consult.extensions import db


def submit(app, round_id, org_id, user_id, opinions=None, proposals=(), do_submit=True, no_opinion=False):
    """Save and submit an answer through the real operations. opinions: {item index: (stance, proposed, reason)}."""
    from consult.answers.operations import (
        AnswerInput,
        LateError,
        OpinionInput,
        ProposalInput,
        save_answer,
        submit_no_opinion,
    )
    from consult.auth.models import User
    from consult.rounds.models import Round

    with app.app_context():
        round_ = db.session.get(Round, round_id)
        user = db.session.get(User, user_id)
        if no_opinion:
            submit_no_opinion(round_, org_id, user, None, app_clock.app_now())
        else:
            items = round_.items
            data = AnswerInput(
                opinions={
                    items[i].id: OpinionInput(stance=s, referred_text=f"現行{i}", proposed_text=p, reason=r)
                    for i, (s, p, r) in (opinions or {}).items()
                },
                proposals=[ProposalInput(heading=h, proposed_text=p, reason="提案理由") for h, p in proposals],
            )
            try:
                save_answer(round_, org_id, user, data, None, app_clock.app_now(), submit=do_submit)
            except LateError:
                db.session.commit()  # the late payload is stored aside on the answer
                raise
        db.session.commit()


def opinion_id(app, org_id, item_index=0, round_id=None):
    from consult.answers.models import Answer, Opinion
    from consult.rounds.models import RoundItem

    with app.app_context():
        stmt = select(Opinion).join(Answer).where(Answer.organization_id == org_id)
        if item_index is None:
            stmt = stmt.where(Opinion.item_id.is_(None))
        else:
            stmt = stmt.join(RoundItem, RoundItem.id == Opinion.item_id).where(RoundItem.position == item_index + 1)
        return db.session.scalars(stmt).one().id


def get_opinion(app, oid):
    from consult.answers.models import Opinion

    with app.app_context():
        op = db.session.get(Opinion, oid)
        return op.disposition, op.hq_view, [ri.id for ri in op.request_items]


@pytest.fixture
def staff(make_user):
    return make_user("staff", name="本部 花子")


@pytest.fixture
def world(app, make_org, make_round, make_user, staff):
    """Four prefectures targeted, three answers submitted, one draft, one 「意見なし」; items 1–3."""
    orgs = [make_org(name) for name in ("北海道本部", "青森県本部", "岩手県本部", "宮城県本部", "秋田県本部")]
    round_ = make_round(items=3, targets=orgs)
    sid = staff.id
    submit(
        app,
        round_.id,
        orgs[0].id,
        sid,
        {0: ("agree", "", "賛成です"), 1: ("amend", "=SUM(A1)", "窓口の負担")},
        proposals=[("人材育成", "研修を増やす")],
    )
    submit(
        app,
        round_.id,
        orgs[1].id,
        sid,
        {0: ("amend", "標準化の期限を延ばす", "準備不足"), 1: ("amend", "デジタル人材", "人員不足")},
    )
    submit(app, round_.id, orgs[2].id, sid, {0: ("oppose", "撤回", "住民サービス低下")})
    submit(app, round_.id, orgs[3].id, sid, {0: ("agree", "", "下書きだけ")}, do_submit=False)
    submit(app, round_.id, orgs[4].id, sid, no_opinion=True)
    with app.app_context():
        from consult.rounds.models import Round

        items = [i.id for i in db.session.get(Round, round_.id).items]
    return {"round": round_, "orgs": orgs, "items": items}


@pytest.fixture
def hq_client(login_as, staff):
    return login_as(staff)


# ---------------------------------------------------------------- overview


def test_overview_counts_submitted_opinions_per_item_and_stance(app, world):
    from consult.review.queries import overview
    from consult.rounds.models import Round

    with app.app_context():
        ov = overview(db.session.get(Round, world["round"].id))
    first, second, third = ov.rows
    assert first.counts == {"agree": 1, "amend": 1, "add": 0, "delete": 0, "oppose": 1, "other": 0}
    assert second.counts["amend"] == 2 and second.total == 2
    assert third.total == 0
    assert ov.proposals.total == 1  # proposals have stance "add"
    # The draft (宮城) is not counted; 「意見なし」 (秋田) counts as answered with no opinions.
    assert (ov.answered, ov.targets, ov.no_opinion) == (4, 5, 1)
    assert sum(seg.width for seg in first.segments) == 100


def test_overview_page_shows_bars_counts_and_answered(app, world, hq_client):
    html = hq_client.get(f"/rounds/{world['round'].id}/aggregate").get_data(as_text=True)
    assert "回答 4 / 5 組織" in html
    assert "新しい項目の提案" in html
    assert 'class="s-amend w100"' in html  # item 2: both opinions are 修正
    assert "w33" in html and "w34" in html  # item 1: three stances, widths adding to 100
    assert "style=" not in html
    assert "aggregation.css" in html


def test_overview_reads_no_opinion_rows(app, world, hq_client):
    """The overview is GROUP BY only: the number of statements does not grow with the opinions."""
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert hq_client.get(f"/rounds/{world['round'].id}/aggregate").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert not any(re.search(r"SELECT opinion\.id", s) for s in statements)


def test_percentages_always_add_up():
    from consult.review.queries import percentages

    assert percentages([1, 1, 1]) == [34, 33, 33]
    assert percentages([0, 0]) == [0, 0]
    assert sum(percentages([7, 13, 1, 0, 2, 99])) == 100


# ---------------------------------------------------------------- item page and filters


def test_item_page_lists_opinions_with_organisation_and_counts(app, world, hq_client):
    html = hq_client.get(f"/rounds/{world['round'].id}/aggregate/items/{world['items'][0]}").get_data(as_text=True)
    assert "北海道本部" in html and "青森県本部" in html and "岩手県本部" in html
    assert "宮城県本部" not in html  # a draft is not aggregated
    assert "標準化の期限を延ばす" in html and "住民サービス低下" in html
    assert "3 件" in html


def test_filter_by_stance_organisation_and_text(app, world, hq_client):
    base = f"/rounds/{world['round'].id}/aggregate/items/{world['items'][0]}"
    html = hq_client.get(base + "?stance=oppose").get_data(as_text=True)
    assert "岩手県本部" in html and "青森県本部" not in html
    html = hq_client.get(base + "?org=青森").get_data(as_text=True)
    assert "青森県本部" in html and "岩手県本部" not in html
    html = hq_client.get(base + "?q=準備不足").get_data(as_text=True)
    assert "青森県本部" in html and "北海道本部" not in html
    html = hq_client.get(base + "?q=%25").get_data(as_text=True)  # a LIKE wildcard is searched literally
    assert "条件に合う意見はありません" in html
    assert hq_client.get(base + "?stance=bogus&page=x").status_code == 200


def test_proposals_page_and_unknown_ids(app, world, hq_client):
    rid = world["round"].id
    html = hq_client.get(f"/rounds/{rid}/aggregate/proposals").get_data(as_text=True)
    assert "人材育成" in html and "研修を増やす" in html
    assert hq_client.get(f"/rounds/{rid + 99}/aggregate").status_code == 404
    assert hq_client.get(f"/rounds/{rid}/aggregate/items/999999").status_code == 404
    assert hq_client.post(f"/rounds/{rid}/aggregate/opinions/999999", data={}).status_code == 404


def test_item_of_another_round_is_404(app, world, make_round, hq_client):
    other = make_round(items=1, targets=world["orgs"][:1])
    assert hq_client.get(f"/rounds/{world['round'].id}/aggregate/items/{other.items[0].id}").status_code == 404


def test_page_uses_the_same_number_of_queries_for_10_and_50_rows(app, make_org, make_round, staff, login_as):
    from consult.letters.models import Campaign, Letter, RequestItem, RequestItemOpinion

    orgs = [make_org(f"単組{n:02d}", kind="local") for n in range(50)]
    round_ = make_round(items=1, targets=orgs)
    for n, org in enumerate(orgs):
        submit(app, round_.id, org.id, staff.id, {0: (("agree", "amend", "oppose")[n % 3], f"案{n}", f"理由{n}")})
    with app.app_context():
        campaign = Campaign(
            title="要請",
            round_id=round_.id,
            date_year=2025,
            date_month=3,
            sender_org="本部",
            created_at=app_clock.app_now(),
        )
        letter = Letter(campaign=campaign, title="自治体DXの推進に関する要請書")
        db.session.add_all([campaign, letter])
        db.session.flush()
        request_item = RequestItem(letter_id=letter.id, text="標準化について", position=1)
        db.session.add(request_item)
        db.session.flush()
        from consult.answers.models import Opinion

        for op in db.session.scalars(select(Opinion)).all()[::2]:
            db.session.add(RequestItemOpinion(request_item_id=request_item.id, opinion_id=op.id))
        db.session.commit()
    client = login_as(staff)
    url = f"/rounds/{round_.id}/aggregate/items/{round_.items[0].id}"

    def statements_for(size):
        app.config["PAGE_SIZE"] = size
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", count)
            try:
                html = client.get(url).get_data(as_text=True)
            finally:
                event.remove(db.engine, "before_cursor_execute", count)
        assert html.count('<article class="opinion') == size
        assert "要請書『自治体DXの推進に関する要請書』" in html
        return len(seen)

    assert statements_for(10) == statements_for(50)


def test_paging_shows_every_opinion_once(app, make_org, make_round, staff, login_as):
    orgs = [make_org(f"単組{n:02d}", kind="local") for n in range(7)]
    round_ = make_round(items=1, targets=orgs)
    for n, org in enumerate(orgs):
        submit(app, round_.id, org.id, staff.id, {0: ("amend", f"案{n:02d}番", "理由")})
    app.config["PAGE_SIZE"] = 3
    client = login_as(staff)
    url = f"/rounds/{round_.id}/aggregate/items/{round_.items[0].id}"
    seen = []
    for page in (1, 2, 3):
        html = client.get(f"{url}?page={page}").get_data(as_text=True)
        seen += re.findall(r"案\d\d番", html)
    assert sorted(seen) == [f"案{n:02d}番" for n in range(7)]
    assert "3 / 3 ページ" in client.get(f"{url}?page=99").get_data(as_text=True)


# ---------------------------------------------------------------- dispositions


def _form(oid, disposition="", view="", seen=None, **extra):
    from consult.review.operations import disposition_token

    data = {
        f"op-{oid}-disposition": disposition,
        f"op-{oid}-hq_view": view,
        f"op-{oid}-seen": disposition_token(None, "") if seen is None else seen,
    }
    data.update(extra)
    return data


def test_save_disposition_and_view_redirects_to_the_filtered_page(app, world, hq_client):
    oid = opinion_id(app, world["orgs"][1].id, 0)
    rid, item = world["round"].id, world["items"][0]
    response = hq_client.post(
        f"/rounds/{rid}/aggregate/opinions/{oid}",
        data=_form(oid, "partly", "期限の延長を国に求めます。\r\n次年度も確認します。", stance="amend", q="期限"),
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert f"/aggregate/items/{item}" in location and "stance=amend" in location and f"#op-{oid}" in location
    assert get_opinion(app, oid)[:2] == ("partly", "期限の延長を国に求めます。\n次年度も確認します。")
    html = hq_client.get(f"/rounds/{rid}/aggregate/items/{item}?disposition=partly").get_data(as_text=True)
    assert "青森県本部" in html and "岩手県本部" not in html
    html = hq_client.get(f"/rounds/{rid}/aggregate/items/{item}?disposition=none").get_data(as_text=True)
    assert "青森県本部" not in html and "岩手県本部" in html


def test_stale_disposition_is_refused_and_typed_text_kept(app, world, hq_client):
    from consult.review.operations import disposition_token

    oid = opinion_id(app, world["orgs"][1].id, 0)
    rid = world["round"].id
    opened = disposition_token(None, "")
    assert (
        hq_client.post(
            f"/rounds/{rid}/aggregate/opinions/{oid}", data=_form(oid, "adopted", "先に保存した考え方", seen=opened)
        ).status_code
        == 302
    )
    response = hq_client.post(
        f"/rounds/{rid}/aggregate/opinions/{oid}", data=_form(oid, "rejected", "後から書いた考え方", seen=opened)
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "別の方が変更しました" in html
    assert "後から書いた考え方" in html and "先に保存した考え方" in html
    assert get_opinion(app, oid)[:2] == ("adopted", "先に保存した考え方")
    # Saving again from the refreshed page (its token now matches what is stored) goes through.
    token = re.search(rf'name="op-{oid}-seen" type="hidden" value="([0-9a-f]+)"', html) or re.search(
        rf'id="op-{oid}-seen" name="op-{oid}-seen" type="hidden" value="([0-9a-f]+)"', html
    )
    assert token and token.group(1) == disposition_token("adopted", "先に保存した考え方")
    assert (
        hq_client.post(
            f"/rounds/{rid}/aggregate/opinions/{oid}",
            data=_form(oid, "rejected", "後から書いた考え方", seen=token.group(1)),
        ).status_code
        == 302
    )
    assert get_opinion(app, oid)[:2] == ("rejected", "後から書いた考え方")


def test_bad_disposition_and_long_view_get_messages_not_500(app, world, hq_client):
    oid = opinion_id(app, world["orgs"][0].id, 0)
    rid = world["round"].id
    response = hq_client.post(f"/rounds/{rid}/aggregate/opinions/{oid}", data=_form(oid, "maybe", "考え方"))
    assert response.status_code == 200
    assert "対応は一覧から選んでください" in response.get_data(as_text=True)
    long_view = "長" * 10_001
    response = hq_client.post(f"/rounds/{rid}/aggregate/opinions/{oid}", data=_form(oid, "reference", long_view))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "10,000文字以内" in html and long_view in html
    assert get_opinion(app, oid)[:2] == (None, "")


def test_operation_refuses_unknown_disposition(app, world):
    from consult.answers.models import Opinion
    from consult.core.errors import DomainError
    from consult.review.operations import set_disposition

    oid = opinion_id(app, world["orgs"][0].id, 0)
    with app.app_context():
        with pytest.raises(DomainError):
            set_disposition(db.session.get(Opinion, oid), "approved", "", None, app_clock.app_now())


def test_draft_opinion_cannot_be_disposed(app, world, hq_client):
    oid = opinion_id(app, world["orgs"][3].id, 0)  # 宮城: draft only
    response = hq_client.post(f"/rounds/{world['round'].id}/aggregate/opinions/{oid}", data=_form(oid, "adopted"))
    assert response.status_code == 404


# ---------------------------------------------------------------- links to request items


def _letters(app, round_id, other_round_id=None):
    """A two-level letter on this round (section 1 with two items) and a letter on another round."""
    from consult.letters.models import Campaign, Letter, RequestItem

    with app.app_context():
        campaign = Campaign(
            title="DX要請",
            round_id=round_id,
            date_year=2025,
            date_month=3,
            sender_org="本部",
            created_at=app_clock.app_now(),
        )
        letter = Letter(campaign=campaign, title="自治体DXの推進に関する要請書", numbering="dot-paren")
        db.session.add_all([campaign, letter])
        db.session.flush()
        section = RequestItem(letter_id=letter.id, text="情報システムの標準化・共通化について", position=1)
        db.session.add(section)
        db.session.flush()
        first = RequestItem(letter_id=letter.id, parent_id=section.id, text="期限を柔軟にすること。", position=1)
        second = RequestItem(letter_id=letter.id, parent_id=section.id, text="財政支援を行うこと。", position=2)
        db.session.add_all([first, second])
        ids = {"section": section.id}
        if other_round_id:
            other_campaign = Campaign(
                title="別",
                round_id=other_round_id,
                date_year=2025,
                date_month=4,
                sender_org="本部",
                created_at=app_clock.app_now(),
            )
            other_letter = Letter(campaign=other_campaign, title="別の要請書")
            db.session.add_all([other_campaign, other_letter])
            db.session.flush()
            foreign = RequestItem(letter_id=other_letter.id, text="別のこと。", position=1)
            db.session.add(foreign)
            db.session.flush()
            ids["foreign"] = foreign.id
        db.session.commit()
        ids.update(first=first.id, second=second.id)
    return ids


def test_link_opinion_to_request_item_and_show_it(app, world, make_round, hq_client):
    other = make_round(items=1, targets=world["orgs"][:1])
    ids = _letters(app, world["round"].id, other.id)
    oid = opinion_id(app, world["orgs"][1].id, 0)
    rid, item = world["round"].id, world["items"][0]
    plain = hq_client.get(f"/rounds/{rid}/aggregate/items/{item}").get_data(as_text=True)
    assert "期限を柔軟にすること。" not in plain and f"link={oid}#op-{oid}" in plain  # the long select only on demand
    page = hq_client.get(f"/rounds/{rid}/aggregate/items/{item}?link={oid}").get_data(as_text=True)
    assert "期限を柔軟にすること。" in page and "別のこと。" not in page
    response = hq_client.post(
        f"/rounds/{rid}/aggregate/opinions/{oid}",
        data=_form(oid, "adopted", "要請に入れます", **{f"op-{oid}-request_item": ids["second"]}),
    )
    assert response.status_code == 302
    assert get_opinion(app, oid)[2] == [ids["second"]]
    html = hq_client.get(f"/rounds/{rid}/aggregate/items/{item}").get_data(as_text=True)
    assert "要請書『自治体DXの推進に関する要請書』 １．（２）" in html
    # Linking the same item again adds no second row; a request item of another round is refused.
    from consult.review.operations import disposition_token

    seen = disposition_token("adopted", "要請に入れます")
    hq_client.post(
        f"/rounds/{rid}/aggregate/opinions/{oid}",
        data=_form(oid, "adopted", "要請に入れます", seen, **{f"op-{oid}-request_item": ids["second"]}),
    )
    assert get_opinion(app, oid)[2] == [ids["second"]]
    response = hq_client.post(
        f"/rounds/{rid}/aggregate/opinions/{oid}",
        data=_form(oid, "adopted", "要請に入れます", seen, **{f"op-{oid}-request_item": ids["foreign"]}),
    )
    assert response.status_code == 200 and "要請項目は一覧から選んでください" in response.get_data(as_text=True)
    # Unlinking from the same form.
    response = hq_client.post(
        f"/rounds/{rid}/aggregate/opinions/{oid}",
        data=_form(oid, "adopted", "要請に入れます", seen, **{f"op-{oid}-unlink": ids["second"]}),
    )
    assert response.status_code == 302
    assert get_opinion(app, oid)[2] == []


def test_without_letters_the_page_says_so(app, world, hq_client):
    html = hq_client.get(f"/rounds/{world['round'].id}/aggregate/items/{world['items'][0]}").get_data(as_text=True)
    assert "要請書はまだありません" in html


# ---------------------------------------------------------------- publication and access


def test_publish_and_unpublish_control_what_branches_see(app, world, make_user, hq_client, login_as, staff):
    rid = world["round"].id
    aomori = make_user("member", world["orgs"][1])
    oid = opinion_id(app, world["orgs"][2].id, 0)
    hq_client.post(f"/rounds/{rid}/aggregate/opinions/{oid}", data=_form(oid, "rejected", "現行どおりとします"))

    member = login_as(aomori)
    assert member.get(f"/rounds/{rid}/published").status_code == 404
    login_as(staff).post(f"/rounds/{rid}/aggregate/publish")
    html = login_as(aomori).get(f"/rounds/{rid}/published").get_data(as_text=True)
    assert "現行どおりとします" in html and "不採用" in html
    assert "青森県本部" in html and "自組織" in html  # own name shown
    assert "岩手県本部" not in html and "他の組織" in html  # others anonymised for branches
    assert "宮城" not in html
    own = login_as(aomori).get(f"/rounds/{rid}/published?mine=1").get_data(as_text=True)
    assert "現行どおりとします" not in own and "標準化の期限を延ばす" in own

    hq_html = login_as(staff).get(f"/rounds/{rid}/published").get_data(as_text=True)
    assert "岩手県本部" in hq_html
    login_as(staff).post(f"/rounds/{rid}/aggregate/unpublish")
    assert login_as(aomori).get(f"/rounds/{rid}/published").status_code == 404


def test_published_table_is_for_target_members_only(app, world, make_org, make_user, login_as, staff):
    rid = world["round"].id
    login_as(staff).post(f"/rounds/{rid}/aggregate/publish")
    outsider = make_user("member", make_org("沖縄県本部"))
    assert login_as(outsider).get(f"/rounds/{rid}/published").status_code == 403
    assert login_as(outsider).get(f"/rounds/{rid + 99}/published").status_code == 404


def test_draft_round_cannot_be_published(app, make_round, staff, login_as):
    round_ = make_round(status="draft")
    client = login_as(staff)
    response = client.post(f"/rounds/{round_.id}/aggregate/publish", follow_redirects=True)
    assert "公開できません" in response.get_data(as_text=True)
    from consult.rounds.models import Round

    with app.app_context():
        assert db.session.get(Round, round_.id).answers_published_at is None


def test_members_are_refused_every_headquarters_route(app, world, make_user, login_as, client):
    rid = world["round"].id
    oid = opinion_id(app, world["orgs"][0].id, 0)
    member = login_as(make_user("member", world["orgs"][0]))
    urls = [
        f"/rounds/{rid}/aggregate",
        f"/rounds/{rid}/aggregate/items/{world['items'][0]}",
        f"/rounds/{rid}/aggregate/proposals",
        f"/rounds/{rid}/export/opinions.csv",
        f"/rounds/{rid}/export/answers.xlsx",
        f"/rounds/{rid}/export/answers.docx",
    ]
    for url in urls:
        assert member.get(url).status_code == 403, url
    for url in (
        f"/rounds/{rid}/aggregate/opinions/{oid}",
        f"/rounds/{rid}/aggregate/publish",
        f"/rounds/{rid}/aggregate/unpublish",
    ):
        assert member.post(url, data=_form(oid, "adopted")).status_code == 403, url
    assert get_opinion(app, oid)[0] is None
    member.post("/logout")
    response = client.get(f"/rounds/{rid}/aggregate")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_late_payload_is_not_aggregated(app, world, clock, staff):
    """An answer sent after the deadline is kept aside on the answer, not counted."""
    from consult.answers.operations import LateError
    from consult.review.queries import overview
    from consult.rounds.models import Round

    clock.advance(days=8)
    with pytest.raises(LateError):
        submit(app, world["round"].id, world["orgs"][3].id, staff.id, {2: ("delete", "削る", "遅れた")})
    clock.advance(seconds=-timedelta(days=8).total_seconds())
    with app.app_context():
        ov = overview(db.session.get(Round, world["round"].id))
    assert ov.rows[2].total == 0 and ov.answered == 4
    from consult.answers.models import Answer

    with app.app_context():
        late = db.session.scalars(select(Answer).where(Answer.organization_id == world["orgs"][3].id)).one()
        assert late.late_payload is not None  # it did arrive, and was kept aside
