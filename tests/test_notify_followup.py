"""The follow-up's notices against a real SMTP server (aiosmtpd on a free port): a planned visit is announced the
day before to the staff named as going, and an addressee's promised answer date passing with requests unanswered
is told once; the runner sends each once however often it runs, and again only for a new time or date."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from notify_support import SmtpServer
from sqlalchemy import select
from test_followup import _grade, _load, campaign_world  # noqa: F401  (the fixture)

from consult.extensions import db

BASE = "https://consult.example.org"


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    app.config.update(server.config(), BASE_URL=BASE)
    yield server
    server.stop()


@pytest.fixture
def people(app, campaign_world, make_user, hq):  # noqa: F811
    """The campaign's staff (本部 太郎, who goes), a second staff member who does not, an admin."""
    from consult.auth.models import User

    other = make_user("staff", hq, login="fu-other", name="別の 職員")
    admin = make_user("admin", hq, login="fu-admin", name="管理 者")
    with app.app_context():
        for user, address in ((campaign_world["staff"], "taro@example.org"), (other, "other@example.org")):
            db.session.get(User, user.id).email = address
        db.session.get(User, admin.id).email = "admin@example.org"
        db.session.get(User, campaign_world["member"].id).email = "member@example.org"
        db.session.commit()
    return {"staff": campaign_world["staff"], "other": other, "admin": admin}


def _run(app):
    from consult.notify import runner

    with app.app_context():
        report = runner.run_once()
        db.session.remove()
        return report


def _visit(app, world, clock, **changes):
    from consult.followup import operations as fu

    with app.app_context():
        campaign, _items, soumu, _digital, staff = _load(world)
        data = fu.VisitInput(
            soumu.id, clock() + timedelta(hours=20), "総務省 8階", "planned", our_side="本部　太郎\n外部の弁護士"
        )
        for name, value in changes.items():
            setattr(data, name, value)
        visit = fu.add_visit(campaign, data, user=staff, now=clock())
        db.session.commit()
        return visit.id


def test_a_visit_tomorrow_is_announced_once_to_the_staff_who_go(app, smtp, people, campaign_world, clock):  # noqa: F811
    from consult.followup import operations as fu
    from consult.followup.models import Visit
    from consult.notify.models import Notice

    visit_id = _visit(app, campaign_world, clock)
    _visit(app, campaign_world, clock, starts_at=clock() + timedelta(days=3))  # not due yet
    _visit(app, campaign_world, clock, our_side="外部の弁護士")  # nobody of ours named: no one to tell
    assert _run(app).sent == 1
    assert smtp.handler.recipients() == ["taro@example.org"]
    [message] = smtp.handler.parsed()
    assert "【要請行動】" in message["Subject"] and "総務省" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert (
        "総務省 8階" in body and f"{BASE}/followup/campaigns/{campaign_world['campaign_id']}/visits/{visit_id}" in body
    )
    for _ in range(2):
        assert _run(app).sent == 0  # told once, however often the runner runs
    with app.app_context():
        [notice] = db.session.scalars(select(Notice).where(Notice.kind == "visit_reminder")).all()
        assert notice.user_id == people["staff"].id and notice.status == "sent"
        visit = db.session.get(Visit, visit_id)
        fu.update_visit(
            visit,
            visit.version,
            fu.VisitInput(
                visit.addressee_id,
                visit.starts_at + timedelta(hours=2),
                visit.place,
                "planned",
                our_side=visit.our_side,
            ),
            user=None,
            now=clock(),
        )
        db.session.commit()
    assert _run(app).sent == 1  # moved to another time: told again
    assert smtp.handler.recipients() == ["taro@example.org", "taro@example.org"]


def test_an_overdue_answer_is_told_once_per_promised_date(app, smtp, people, campaign_world, clock):  # noqa: F811
    from consult.followup import operations as fu
    from consult.followup.models import Visit

    jst_today = (clock() + timedelta(hours=9)).date()
    visit_id = _visit(
        app,
        campaign_world,
        clock,
        starts_at=clock() - timedelta(days=10),
        status="done",
        answer_expected_on=jst_today,
    )
    assert _run(app).sent == 0  # promised for today: not overdue yet
    clock.advance(days=1)
    assert _run(app).sent == 1
    assert smtp.handler.recipients() == ["taro@example.org"]  # the staff who went, not everyone
    [message] = smtp.handler.parsed()
    assert "【回答期限超過】" in message["Subject"]
    assert "まだ3項目届いていません" in message.get_body(("plain",)).get_content()
    clock.advance(days=1)
    assert _run(app).sent == 0
    with app.app_context():
        campaign, items, soumu, _digital, staff = _load(campaign_world)
        for item in items:
            _grade(item, soumu, "前進", staff, clock(), text="対応する。")
        visit = db.session.get(Visit, visit_id)
        visit.answer_expected_on = date.fromordinal(jst_today.toordinal() + 5)
        db.session.commit()
        assert fu.answer_for(items[0], soumu) is not None
    clock.advance(days=10)
    assert _run(app).sent == 0  # everything answered: nothing overdue, whatever the date
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.our_side = ""  # nobody named: headquarters' admins are told instead
        db.session.commit()
        campaign, items, soumu, _digital, staff = _load(campaign_world)
        from consult.followup.models import ItemAnswer

        db.session.delete(db.session.scalars(select(ItemAnswer).where(ItemAnswer.request_item_id == items[2].id)).one())
        db.session.commit()
    assert _run(app).sent == 1
    assert smtp.handler.recipients()[-1] == "admin@example.org"


def test_two_runners_at_once_tell_a_visit_once(app, smtp, people, campaign_world, clock):  # noqa: F811
    import threading

    from consult.notify import runner

    _visit(app, campaign_world, clock)
    barrier = threading.Barrier(3)
    reports = []

    def run():
        with app.app_context():
            barrier.wait()
            reports.append(runner.run_once())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 1
    assert smtp.handler.recipients() == ["taro@example.org"]
