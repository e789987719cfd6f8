"""The follow-up of a request campaign: visits, graded answers kept exchange by exchange, the dashboard, the
outcome the branches see once published, carry-over into next year and the history of a demand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from consult.extensions import db


@pytest.fixture
def campaign_world(app, make_org, make_user, hq, clock):
    """A 2025 campaign with one two-level letter (a section with three requests) to 総務省 (all items) and
    デジタル庁 (the first two requests only)."""
    from consult.auth.models import User
    from consult.letters import operations as letters

    tokyo = make_org("東京都本部", kind="prefecture", parent=hq)
    staff = make_user("staff", hq, login="fu-staff", name="本部 太郎")
    member = make_user("member", tokyo, login="fu-tokyo")
    now = clock()
    with app.app_context():
        user = db.session.get(User, staff.id)
        campaign = letters.create_campaign(
            letters.CampaignInput(
                title="自治体DXの推進に関する要請行動",
                date_year=2025,
                date_month=3,
                sender_org="全日本自治団体労働組合",
                sender_title="中央執行委員長",
                sender_name="石上千博",
            ),
            now,
            user=user,
        )
        letter = letters.add_letter(
            campaign, letters.LetterInput(title="自治体DXの推進に関する要請書"), user=user, now=now
        )
        section = letters.add_request_item(letter, "情報システムの標準化・共通化について", user=user, now=now)
        texts = ["国費による確実な財政支援を行うこと。", "国庫補助の対象とすること。", "早急に検討すること。"]
        items = [letters.add_request_item(letter, t, parent=section, user=user, now=now) for t in texts]
        soumu = letters.add_addressee(
            campaign, letter, letters.AddresseeInput(organisation="総務省", title="総務大臣"), user=user, now=now
        )
        digital = letters.add_addressee(
            campaign,
            letter,
            letters.AddresseeInput(organisation="デジタル庁", title="デジタル大臣"),
            user=user,
            now=now,
        )
        letters.set_addressee_items(digital, [items[0].id, items[1].id], user=user, now=now)
        db.session.commit()
        return {
            "campaign_id": campaign.id,
            "section_id": section.id,
            "item_ids": [i.id for i in items],
            "soumu_id": soumu.id,
            "digital_id": digital.id,
            "staff": staff,
            "member": member,
        }


def _load(world):
    from consult.auth.models import User
    from consult.letters.models import Addressee, Campaign, RequestItem

    campaign = db.session.get(Campaign, world["campaign_id"])
    items = [db.session.get(RequestItem, i) for i in world["item_ids"]]
    return (
        campaign,
        items,
        db.session.get(Addressee, world["soumu_id"]),
        db.session.get(Addressee, world["digital_id"]),
        db.session.get(User, world["staff"].id),
    )


def _grade(item, addressee, grade, user, now, text="回答", **extra):
    from consult.followup import operations as fu

    stored = fu.answer_for(item, addressee)
    data = fu.AnswerInput(text=text, answered_on=date(2025, 3, 24), grade=grade, **extra)
    return fu.save_answer(item, addressee, data, stored.version if stored else 0, user=user, now=now)


# ---------------------------------------------------------------- visits


def test_a_visit_goes_from_planned_to_answered_with_the_written_answer(app, campaign_world, clock):
    from consult.core.errors import ConflictError, DomainError
    from consult.followup import operations as fu
    from consult.followup.models import Visit

    now = clock()
    with app.app_context():
        campaign, _items, soumu, _digital, staff = _load(campaign_world)
        starts = datetime(2025, 3, 24, 1, 0, tzinfo=UTC)
        visit = fu.add_visit(
            campaign,
            fu.VisitInput(
                soumu.id, starts, "総務省 8階会議室", "planned", "政策局長\n書記", "自治行政局 課長補佐 山田太郎"
            ),
            user=staff,
            now=now,
        )
        db.session.commit()
        version = visit.version
        data = fu.VisitInput(soumu.id, starts, "総務省 8階会議室", "done", "政策局長", "課長補佐 山田太郎")
        fu.update_visit(visit, version, data, user=staff, now=now)
        db.session.commit()
        with pytest.raises(ConflictError):  # a page loaded before that save
            fu.update_visit(visit, version, data, user=staff, now=now)
        db.session.rollback()
        with pytest.raises(DomainError):
            fu.add_visit_file(visit, "回答.txt", b"just text", user=staff, now=now)
        fu.add_visit_file(visit, "総務省回答.pdf", b"%PDF-1.4 answer", user=staff, now=now)
        db.session.commit()
        stored = db.session.get(Visit, visit.id)
        assert stored.status == "done" and stored.their_side == "課長補佐 山田太郎"
        assert [f.filename for f in stored.attachments] == ["総務省回答.pdf"]
        with pytest.raises(DomainError):  # an addressee of another campaign (or none)
            fu.add_visit(campaign, fu.VisitInput(999999, starts), user=staff, now=now)


def test_visits_due_and_overdue_answers_for_the_notices(app, campaign_world, clock):
    from consult.followup import operations as fu
    from consult.followup import queries

    now = clock()
    with app.app_context():
        campaign, items, soumu, digital, staff = _load(campaign_world)
        soon = fu.add_visit(campaign, fu.VisitInput(soumu.id, now + timedelta(hours=5)), user=staff, now=now)
        fu.add_visit(campaign, fu.VisitInput(soumu.id, now + timedelta(days=5)), user=staff, now=now)
        promised = (now - timedelta(days=3)).date()
        fu.add_visit(
            campaign,
            fu.VisitInput(digital.id, now - timedelta(days=10), status="done", answer_expected_on=promised),
            user=staff,
            now=now,
        )
        _grade(items[0], digital, "前進", staff, now)
        db.session.commit()
        assert [v.id for v in queries.visits_due(now)] == [soon.id]
        overdue = queries.overdue_answers(now)
        assert [(o.addressee.id, o.unanswered_items) for o in overdue] == [(digital.id, 1)]
        assert queries.overdue_answers(now - timedelta(days=5)) == []  # the promised day had not come yet
        board = queries.grid(campaign, now)
        assert board.overdue == 1 and board.unanswered == 4  # 3 of 総務省, 1 of デジタル庁


# ---------------------------------------------------------------- answers and grades


def test_answers_keep_every_exchange_and_refuse_a_stale_write(app, campaign_world, clock):
    from consult.core.errors import ConflictError, DomainError
    from consult.followup import operations as fu

    now = clock()
    with app.app_context():
        _campaign, items, soumu, digital, staff = _load(campaign_world)
        first = _grade(items[0], soumu, "現状維持", staff, now, text="検討します。")
        db.session.commit()
        assert first.version == 1
        second = fu.save_answer(
            items[0],
            soumu,
            fu.AnswerInput(text="一部を補助対象とします。", grade="一部前進", new_exchange=True),
            1,
            user=staff,
            now=now,
        )
        db.session.commit()
        assert [(e.stage, e.grade, e.text) for e in second.exchanges] == [
            ("第1次回答", "現状維持", "検討します。"),
            ("第2次回答", "一部前進", "一部を補助対象とします。"),
        ]
        assert second.exchanges[1].graded_by_id == staff.id and second.version == 2
        with pytest.raises(ConflictError):  # someone graded after the page was loaded
            fu.save_answer(items[0], soumu, fu.AnswerInput(grade="前進"), 1, user=staff, now=now)
        db.session.rollback()
        with pytest.raises(ConflictError):  # the cell was empty when the page was loaded: 0
            fu.save_answer(items[1], soumu, fu.AnswerInput(grade="前進"), 3, user=staff, now=now)
        db.session.rollback()
        settled = fu.save_answer(
            items[0],
            soumu,
            fu.AnswerInput(text="補助対象とする。", grade="前進", new_exchange=True, settled=True),
            2,
            user=staff,
            now=now,
        )
        assert settled.current.stage == "妥結"
        with pytest.raises(DomainError):  # デジタル庁 does not receive the third request
            _grade(items[2], digital, "前進", staff, now)
        with pytest.raises(DomainError):  # not on the scale
            _grade(items[1], soumu, "S", staff, now)


def test_the_sabc_scale_asks_for_a_reason_and_a_remedy(app, campaign_world, clock):
    from consult.followup import operations as fu
    from consult.letters.operations import InputErrors

    now = clock()
    with app.app_context():
        campaign, items, soumu, _digital, staff = _load(campaign_world)
        fu.set_scale(campaign, "sabc", "", None, user=staff, now=now)
        with pytest.raises(InputErrors) as refused:
            _grade(items[0], soumu, "B", staff, now)
        assert set(refused.value.errors) == {"reason", "remedy"}
        with pytest.raises(InputErrors) as refused:
            _grade(items[0], soumu, "S", staff, now)
        assert set(refused.value.errors) == {"reason"}
        _grade(items[0], soumu, "A", staff, now)
        _grade(items[1], soumu, "C", staff, now, reason="予算がつかない", remedy="来年度要求に盛り込む")
        fu.set_scale(campaign, "custom", "満額回答\n前進\n不満", None, user=staff, now=now)
        _grade(items[2], soumu, "不満", staff, now)
        db.session.commit()


# ---------------------------------------------------------------- dashboard and outcome


def test_dashboard_counts_and_the_outcome_is_hidden_until_published(app, campaign_world, clock):
    from consult.followup import operations as fu

    now = clock()
    with app.app_context():
        campaign, items, soumu, digital, staff = _load(campaign_world)
        _grade(items[0], soumu, "前進", staff, now)
        _grade(items[1], soumu, "後退", staff, now)
        _grade(items[0], digital, "前進", staff, now)
        db.session.commit()
    cid = campaign_world["campaign_id"]
    hq = app.test_client()
    assert hq.post("/login", data={"login": "fu-staff", "password": "password123"}).status_code == 302
    page = hq.get(f"/followup/campaigns/{cid}").get_data(as_text=True)
    assert 'data-grade="前進">2<' in page and 'data-grade="後退">1<' in page
    assert '<td id="unanswered">2</td>' in page
    branch = app.test_client()
    assert branch.post("/login", data={"login": "fu-tokyo", "password": "password123"}).status_code == 302
    assert branch.get(f"/followup/campaigns/{cid}/outcome").status_code == 404
    assert branch.get(f"/followup/campaigns/{cid}").status_code == 403
    assert hq.post(f"/followup/campaigns/{cid}/publish", data={"publish": "1"}).status_code == 302
    outcome = branch.get(f"/followup/campaigns/{cid}/outcome")
    assert outcome.status_code == 200 and "後退" in outcome.get_data(as_text=True)
    hq.post(f"/followup/campaigns/{cid}/publish", data={"publish": "0"})
    assert branch.get(f"/followup/campaigns/{cid}/outcome").status_code == 404
    with app.app_context():
        assert fu  # the operations module is the one the pages call


def test_the_answer_page_keeps_what_was_typed_on_a_refusal(app, campaign_world, clock):
    cid, item, soumu = campaign_world["campaign_id"], campaign_world["item_ids"][0], campaign_world["soumu_id"]
    hq = app.test_client()
    hq.post("/login", data={"login": "fu-staff", "password": "password123"})
    url = f"/followup/campaigns/{cid}/items/{item}/answers/{soumu}"
    assert hq.get(url).status_code == 200
    hq.post(f"/followup/campaigns/{cid}/settings", data={"scale": "sabc", "custom_labels": ""})
    refused = hq.post(url, data={"text": "検討中です。", "grade": "C", "version": "0"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "検討中です。" in body and "改善策を書いてください" in body
    saved = hq.post(url, data={"text": "検討中です。", "grade": "A", "version": "0", "answered_on": "2025-03-24"})
    assert saved.status_code == 302
    stale = hq.post(url, data={"text": "別の人の入力", "grade": "A", "version": "0"})
    assert stale.status_code == 422 and "別の人の入力" in stale.get_data(as_text=True)
    visit = hq.post(
        f"/followup/campaigns/{cid}/visits/new",
        data={"addressee_id": str(soumu), "starts_at": "2025-03-24T10:00", "place": "総務省", "status": "done"},
    )
    assert visit.status_code == 302
    bad = hq.post(
        f"/followup/campaigns/{cid}/visits/new",
        data={"addressee_id": str(soumu), "starts_at": "いつか", "place": "総務省 会議室", "status": "done"},
    )
    assert bad.status_code == 422 and "総務省 会議室" in bad.get_data(as_text=True)


# ---------------------------------------------------------------- carry-over and history


def test_carry_over_by_grade_links_each_item_and_shows_the_history(app, campaign_world, clock):
    from consult.followup import operations as fu
    from consult.followup import queries
    from consult.followup.models import CarryLink
    from consult.letters import operations as letters
    from consult.rounds.models import Round

    now = clock()
    with app.app_context():
        campaign, items, soumu, digital, staff = _load(campaign_world)
        _grade(items[0], soumu, "前進", staff, now)
        _grade(items[0], digital, "前進", staff, now)
        _grade(items[1], soumu, "現状維持", staff, now)
        _grade(items[1], digital, "前進", staff, now)
        _grade(items[2], soumu, "後退", staff, now)
        db.session.commit()
        new = fu.carry_over(
            campaign, ["現状維持", "後退"], "2026年 自治体DXの推進に関する要請行動", user=staff, now=now
        )
        db.session.commit()
        assert new.date_year == 2026
        [letter] = new.letters
        texts = [(i.parent_id is None, i.text) for i in letter.items]
        assert texts == [
            (True, "情報システムの標準化・共通化について"),
            (False, "国庫補助の対象とすること。"),
            (False, "早急に検討すること。"),
        ]
        links = dict(db.session.execute(select(CarryLink.request_item_id, CarryLink.predecessor_id)).all())
        carried = {i.id: links[i.id] for i in letter.items}
        assert sorted(carried.values()) == sorted([campaign_world["section_id"], items[1].id, items[2].id])
        assert [a.organisation for a in new.addressees] == ["総務省", "デジタル庁"]
        new_item = next(i for i in letter.items if i.text == "国庫補助の対象とすること。")
        letters.update_request_item(new_item, "国庫補助の対象とし、補助率を引き上げること。", user=staff, now=now)
        db.session.commit()
        years = queries.history(new_item)
        assert [y.year for y in years] == [2025, 2026]
        assert years[0].diff is None
        assert ("delete", "す") in years[1].diff and ("insert", "し、補助率を引き上げ") in years[1].diff
        assert [(a.organisation, ans.grade if ans else None) for a, ans in years[0].answers] == [
            ("総務省", "現状維持"),
            ("デジタル庁", "前進"),
        ]
        round_ = fu.carry_into_round(campaign, ["後退"], "2026年度要請に向けた意見集約", user=staff, now=now)
        db.session.commit()
        assert db.session.get(Round, round_.id).status == "draft"
        assert [i.heading for i in round_.items] == ["早急に検討すること。"]
        new_item_id, old_section = new_item.id, campaign_world["section_id"]
    hq = app.test_client()
    hq.post("/login", data={"login": "fu-staff", "password": "password123"})
    page = hq.get(f"/followup/items/{new_item_id}/history").get_data(as_text=True)
    assert "<ins>し、補助率を引き上げ</ins>" in page and "現状維持" in page
    assert old_section


def test_consulting_members_on_an_answer_opens_a_round_draft(app, campaign_world, clock):
    from consult.followup import operations as fu

    now = clock()
    with app.app_context():
        _campaign, items, soumu, _digital, staff = _load(campaign_world)
        answer = _grade(items[0], soumu, "一部前進", staff, now, text="令和8年度予算で一部措置する。")
        round_ = fu.consult_on_answer(answer, user=staff, now=now)
        db.session.commit()
        assert round_.status == "draft" and "回答をどう受け止めるか" in round_.title
        assert round_.items[0].body == "令和8年度予算で一部措置する。"


def test_the_demo_shows_the_cycle(app, clock):
    from consult.demo import load_demo
    from consult.demo.followup import NEXT_TITLE
    from consult.demo.letters import TITLE
    from consult.followup import queries
    from consult.followup.models import Visit
    from consult.letters.models import Campaign

    with app.app_context():
        load_demo(clock())
        db.session.commit()
        load_demo(clock())  # a second load adds nothing
        db.session.commit()
        [dx] = db.session.scalars(select(Campaign).where(Campaign.title == TITLE)).all()
        [next_year] = db.session.scalars(select(Campaign).where(Campaign.title == NEXT_TITLE)).all()
        assert {v.status for v in db.session.scalars(select(Visit).where(Visit.campaign_id == dx.id))} == {
            "planned",
            "done",
            "answered",
        }
        board = queries.grid(dx, clock())
        assert board.counts["前進"] >= 2 and board.counts["後退"] == 1 and board.unanswered > 0
        carried = [i for letter in next_year.letters for i in letter.items if i.parent_id is not None]
        assert carried and all(queries.predecessors([i.id]) for i in carried)
        assert next_year.date_year == 2026 and len(queries.history(carried[0])) == 2


def test_pages_delete_a_file_and_then_the_visit_unless_it_changed(app, client, login_as, campaign_world, clock):
    from consult.audit.models import AuditEvent
    from consult.followup import operations as fu
    from consult.followup.models import Visit, VisitAttachment

    with app.app_context():
        campaign, _items, soumu, _digital, staff = _load(campaign_world)
        visit = fu.add_visit(campaign, fu.VisitInput(soumu.id, clock()), user=staff, now=clock())
        first = fu.add_visit_file(visit, "誤り.pdf", b"%PDF-1.4 wrong", user=staff, now=clock())
        fu.add_visit_file(visit, "回答.pdf", b"%PDF-1.4 answer", user=staff, now=clock())
        db.session.commit()
        vid, fid, cid = visit.id, first.id, campaign.id
    login_as(campaign_world["staff"])
    page = client.get(f"/followup/campaigns/{cid}/visits/{vid}").get_data(as_text=True)
    assert f"/followup/campaigns/{cid}/files/{fid}/delete" in page and f"/visits/{vid}/delete" in page
    assert client.post(f"/followup/campaigns/{cid}/files/{fid}/delete").status_code == 302
    assert client.post(f"/followup/campaigns/{cid}/files/{fid}/delete").status_code == 404
    with app.app_context():
        assert [f.filename for f in db.session.get(Visit, vid).attachments] == ["回答.pdf"]
    stale = client.post(f"/followup/campaigns/{cid}/visits/{vid}/delete", data={"version": "0"})
    assert stale.status_code == 302 and stale.headers["Location"].endswith(f"/visits/{vid}")
    with app.app_context():
        assert db.session.get(Visit, vid) is not None
    gone = client.post(f"/followup/campaigns/{cid}/visits/{vid}/delete", data={"version": "1"})
    assert gone.status_code == 302 and gone.headers["Location"].endswith("#visits")
    with app.app_context():
        assert db.session.get(Visit, vid) is None
        assert db.session.scalars(db.select(VisitAttachment)).all() == []
        actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
        assert actions[-2:] == ["visit_file_deleted", "visit_deleted"]
