"""`consult demo`: the real organisation tree, logins per role, an open round and a closed one with 29 answers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select

from consult.answers.models import Answer, AnswerEvent, Opinion
from consult.auth.models import User
from consult.core.clock import from_jst, to_jst
from consult.demo.data import CONCEPTS_TITLE, DX_TITLE
from consult.extensions import db
from consult.orgs.models import Organization
from consult.rounds.models import Round


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    return result.output


def by_code(code: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.code == code))


def round_titled(title: str) -> Round:
    return db.session.scalar(select(Round).where(Round.title == title))


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables
    }


def test_demo_loads_headquarters_and_the_47_prefectures_by_their_real_names(app, demo):
    with app.app_context():
        hq = by_code("hq")
        assert (hq.name, hq.kind, hq.parent_id) == ("全日本自治団体労働組合", "hq", None)
        prefectures = list(
            db.session.scalars(
                select(Organization).where(Organization.kind == "prefecture").order_by(Organization.code)
            )
        )
        assert len(prefectures) == 47
        assert [p.code for p in prefectures] == [f"pref{n:02d}" for n in range(1, 48)]
        assert all(p.parent_id == hq.id for p in prefectures)
        assert by_code("pref01").name == "自治労北海道本部"
        assert by_code("pref13").name == "自治労東京都本部"
        assert by_code("pref26").name == "自治労京都府本部"
        assert by_code("pref27").name == "自治労大阪府本部"
        assert by_code("pref47").name == "自治労沖縄県本部"
        total = db.session.scalar(select(func.count()).select_from(Organization))
        assert total >= 48
        locals_ = list(db.session.scalars(select(Organization).where(Organization.kind == "local")))
        assert 3 <= len(locals_) <= 6
        assert all(org.parent.kind == "prefecture" and org.name.endswith("職員労働組合") for org in locals_)
        assert len({org.parent_id for org in locals_}) in (2, 3)
        council = db.session.scalars(select(Organization).where(Organization.kind == "council")).one()
        assert council.name == "全国健康保険協会職員労働組合協議会" and council.parent_id == hq.id


def test_demo_prints_one_working_login_per_role(app, client, demo):
    logins = dict(re.findall(r"^\s+(\S+) / (\S+)", demo, flags=re.M))
    assert set(logins) == {"admin", "staff", "tokyo", "hachioji"}
    with app.app_context():
        users = {u.login: u for u in db.session.scalars(select(User).where(User.login.in_(logins)))}
        assert users["admin"].role == "admin" and users["admin"].organization.code == "hq"
        assert users["staff"].role == "staff" and users["staff"].organization.code == "hq"
        assert users["tokyo"].role == "member" and users["tokyo"].organization.name == "自治労東京都本部"
        assert users["hachioji"].role == "member" and users["hachioji"].organization.kind == "local"
    for login, password in logins.items():
        response = client.post("/login", data={"login": login, "password": password})
        assert response.status_code == 302, login
        client.post("/logout")


def test_demo_open_round_runs_until_two_weeks_from_today(app, clock, demo):
    with app.app_context():
        round_ = round_titled(CONCEPTS_TITLE)
        assert round_.status == "open"
        assert [(i.number, i.heading) for i in round_.items] == [
            ("1", "社会保障構想"),
            ("2", "教育制度構想"),
            ("3", "税制改革構想"),
        ]
        assert all(len(item.body) > 40 for item in round_.items)
        assert "2035年" in round_.background
        today = to_jst(clock()).date()
        assert round_.deadline == from_jst(datetime.combine(date.fromordinal(today.toordinal() + 14), time(17)))
        assert round_.opens_at < clock() < round_.deadline
        assert to_jst(round_.opens_at).time() == time(10, 0)
        assert (round_.deadline - round_.opens_at).days == 18  # 2025-02-27 10:00 → 2025-03-17 17:00
        assert round_.target_ids() == {
            o.id for o in db.session.scalars(select(Organization).where(Organization.kind == "prefecture"))
        }
        milestones = {m.meeting: m.date for m in round_.milestones}
        assert len(milestones) == 6
        assert milestones["組織討議 締切"] == to_jst(round_.deadline).date()
        assert (milestones["第14回中央執行委員会"] - milestones["組織討議 締切"]).days == 7
        tokyo = by_code("pref13")
        assert round_.is_accepting(tokyo.id, clock())


def test_demo_shifts_the_schedule_to_the_day_it_is_loaded(app, clock, runner):
    clock.set(datetime(2026, 6, 1, 3, 0, tzinfo=UTC))  # 2026-06-01 12:00 JST
    assert runner.invoke(args=["demo"]).exit_code == 0
    with app.app_context():
        round_ = round_titled(CONCEPTS_TITLE)
        assert to_jst(round_.deadline).replace(tzinfo=None) == datetime(2026, 6, 15, 17, 0)
        assert to_jst(round_.opens_at).replace(tzinfo=None) == datetime(2026, 5, 28, 10, 0)


def test_demo_closed_round_has_29_submitted_prefecture_answers(app, demo):
    with app.app_context():
        round_ = round_titled(DX_TITLE)
        assert round_.status == "closed"
        assert [i.heading for i in round_.items] == [
            "情報システムの標準化・共通化",
            "健康保険証とマイナンバーカードの一体化",
            "自治体DX推進のあり方",
            "戸籍振り仮名法制化への対応",
        ]
        assert len(round_.targets) == 47
        answers = list(db.session.scalars(select(Answer).where(Answer.round_id == round_.id)))
        assert len(answers) == 29
        assert all(a.status == "submitted" and not a.no_opinion for a in answers)
        assert all(a.organization.kind == "prefecture" for a in answers)
        assert all(round_.opens_at <= a.submitted_at <= round_.deadline for a in answers)
        assert "pref13" in {a.organization.code for a in answers}
        opinions = [op for a in answers for op in a.opinions]
        assert all(a.item_opinions() for a in answers)
        assert len({op.stance for op in opinions}) >= 4
        assert len({(op.item_id, op.reason) for op in opinions if op.item_id}) >= 15  # varied, not one template
        assert any(op.item_id is None and op.heading for op in opinions)  # some propose a new item
        # each answer was entered by the prefecture's own officer, not by headquarters on its behalf
        events = list(db.session.scalars(select(AnswerEvent).join(Answer).where(Answer.round_id == round_.id)))
        assert len(events) == 29 and not any(e.on_behalf for e in events)


def test_demo_twice_changes_nothing(app, runner, demo):
    with app.app_context():
        before = row_counts()
        opinion_texts = sorted(db.session.scalars(select(Opinion.proposed_text)))
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "変更はありません" in second.output
    assert "admin / demo-admin" in second.output
    with app.app_context():
        assert row_counts() == before
        assert sorted(db.session.scalars(select(Opinion.proposed_text))) == opinion_texts
    # 29 answers to the DX round; issue 10: 4 unions answering two sub-rounds (one still a draft) and Hokkaido
    assert before["organization"] >= 48 and before["answer"] == 29 + 4 + 1


def test_demo_keeps_existing_organisations_and_fills_in_the_rest(app, runner, make_org, hq):
    make_org("自治労東京都本部", code="pref13", parent=hq)
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Organization.kind == "prefecture")) == 47
        assert db.session.scalar(select(func.count()).where(Organization.code == "pref13")) == 1
        assert db.session.scalar(select(User).where(User.login == "tokyo")).organization.code == "pref13"


def test_demo_links_the_request_letters_to_the_closed_round(app, demo):
    from consult.demo.letters import TITLE
    from consult.letters.models import Campaign, Letter, RequestItemOpinion

    with app.app_context():
        campaign = db.session.scalars(select(Campaign).where(Campaign.title == TITLE)).one()  # 2026's: follow-up
        assert campaign.round_id == round_titled(DX_TITLE).id
        titles = set(db.session.scalars(select(Letter.title).where(Letter.campaign_id == campaign.id)))
        assert titles == {"自治体DXの推進に関する要請書", "戸籍振り仮名法制化への対応に関する要請書"}
        assert db.session.scalar(select(func.count()).select_from(RequestItemOpinion)) > 0
