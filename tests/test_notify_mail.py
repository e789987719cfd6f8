"""Notices end to end against a real SMTP server (aiosmtpd on a free port): the outbox rows written with the
change, the runner, retries, reminders, Japanese text in a standard parser, and the unsubscribe link."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from notify_support import SmtpServer, free_port
from sqlalchemy import func, select

from consult.extensions import db

BASE = "https://consult.example.org"


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    app.config.update(server.config(), BASE_URL=BASE)
    yield server
    server.stop()


@pytest.fixture
def people(app, make_org, make_user, hq):
    """Tokyo (two members and a contact address), Osaka (one member), Okinawa (not a target), HQ staff."""
    from consult.auth.models import User
    from consult.orgs.models import Organization

    tokyo, osaka, okinawa = make_org("東京都本部"), make_org("大阪府本部"), make_org("沖縄県本部")
    users = {
        "t1": make_user("member", tokyo),
        "t2": make_user("member", tokyo),
        "o1": make_user("member", osaka),
        "k1": make_user("member", okinawa),
        "staff": make_user("staff", hq),
    }
    with app.app_context():
        for key, user in users.items():
            db.session.get(User, user.id).email = f"{key}@example.org"
        db.session.get(Organization, tokyo.id).contact_email = "tokyo-office@example.org"
        db.session.commit()
    return {"tokyo": tokyo, "osaka": osaka, "okinawa": okinawa, **users}


def _round(app, make_round, people, clock, **kwargs):
    from consult.rounds.models import Round

    round_ = make_round(targets=[people["tokyo"], people["osaka"]], status="draft", **kwargs)
    with app.app_context():
        db.session.get(Round, round_.id).created_by_id = people["staff"].id
        db.session.commit()
    return round_


def _open(app, round_id, clock):
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    with app.app_context():
        rounds.open_round(db.session.get(Round, round_id), clock(), user=None)
        db.session.commit()


def _run(app):
    from consult.notify import runner

    with app.app_context():
        report = runner.run_once()
        db.session.remove()
        return report


def _notices(app, **where):
    from consult.notify.models import Notice

    with app.app_context():
        stmt = select(Notice).filter_by(**where).order_by(Notice.id)
        return [(n.kind, n.user_id, n.address, n.status, n.attempts, n.error) for n in db.session.scalars(stmt)]


def test_round_open_reaches_every_target_member(app, smtp, people, make_round, clock):
    round_ = _round(app, make_round, people, clock)
    _open(app, round_.id, clock)
    report = _run(app)
    assert sorted(smtp.handler.recipients()) == [
        "o1@example.org",
        "t1@example.org",
        "t2@example.org",
        "tokyo-office@example.org",
    ]
    assert report.sent == 4
    # the same rows are the members' inbox entries
    assert {(k, s) for k, _u, _a, s, _n, _e in _notices(app, kind="round_opened")} == {("round_opened", "sent")}
    assert _run(app).sent == 0  # a second runner sends nothing again
    assert len(smtp.handler.messages) == 4


def test_a_refused_or_rolled_back_change_notifies_no_one(app, smtp, people, make_round, clock):
    from consult.core.errors import DomainError
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    round_ = _round(app, make_round, people, clock)
    with app.app_context():
        loaded = db.session.get(Round, round_.id)
        rounds.open_round(loaded, clock(), user=None)
        assert _count(app_session=True) > 0  # written in the same transaction …
        db.session.rollback()  # … and gone with it
        loaded = db.session.get(Round, round_.id)
        loaded.deadline = clock() - timedelta(hours=1)
        loaded.opens_at = clock() - timedelta(days=2)
        with pytest.raises(DomainError):
            rounds.open_round(loaded, clock(), user=None)
        db.session.rollback()
    assert _notices(app) == []
    _run(app)
    assert smtp.handler.messages == []


def _count(app_session=False) -> int:
    from consult.notify.models import Notice

    return db.session.scalar(select(func.count()).select_from(Notice))


def test_japanese_subject_and_body_decode_in_a_standard_parser(app, smtp, people, make_round, clock):
    round_ = _round(app, make_round, people, clock, title="社会保障政策に関する討議")
    _open(app, round_.id, clock)
    _run(app)
    message = next(m for m in smtp.handler.parsed() if m["To"] == "o1@example.org")
    assert message["Subject"] == "【意見集約】討議「社会保障政策に関する討議」の受付を開始しました"
    raw = next(data for tos, data in smtp.handler.messages if tos == ["o1@example.org"])
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0].lower()  # encoded header, not raw 8-bit
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "大阪府本部 ご担当者様" in text and "締切: 2025年3月17日" in text
    assert f"{BASE}/answers/{round_.id}" in text and f'href="{BASE}/answers/{round_.id}"' in html
    assert "ご担当者様" in html and "受け取らない" in html
    assert message["List-Unsubscribe"].startswith(f"<{BASE}/notices/unsubscribe?t=")


def _unsubscribe_path(message) -> str:
    url = re.search(r"https://\S+/notices/unsubscribe\?t=\S+", message.get_body(("plain",)).get_content()).group(0)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_unsubscribe_link_works_without_login_only_for_its_own_recipient_and_kind(app, smtp, people, make_round, clock):
    from consult.auth.models import User
    from consult.notify import operations as ops

    round_ = _round(app, make_round, people, clock)
    _open(app, round_.id, clock)
    _run(app)
    message = next(m for m in smtp.handler.parsed() if m["To"] == "t1@example.org")
    path = _unsubscribe_path(message)
    client = app.test_client()  # not logged in
    page = client.get(path)
    assert page.status_code == 200 and "討議の受付開始" in page.get_data(as_text=True)
    with app.app_context():
        assert (
            ops.preferences_of(db.session.get(User, people["t1"].id))["round_opened"] is True
        )  # a GET changes nothing
    token = path.split("t=", 1)[1]
    assert client.post("/notices/unsubscribe", data={"t": token}).status_code == 200
    assert client.post("/notices/unsubscribe", data={"t": token[:-2] + "xx"}).status_code == 400
    with app.app_context():
        own = ops.preferences_of(db.session.get(User, people["t1"].id))
        other = ops.preferences_of(db.session.get(User, people["t2"].id))
    assert own["round_opened"] is False and own["reminder"] is True  # only its kind
    assert other["round_opened"] is True  # only its recipient
    # the next notice of that kind reaches t1's inbox only; t2 still gets the mail
    with app.app_context():
        ops.round_opened(db.session.get(type(round_), round_.id), clock())
        db.session.commit()
    _run(app)
    assert smtp.handler.recipients().count("t1@example.org") == 1
    assert smtp.handler.recipients().count("t2@example.org") == 2


def test_contact_address_unsubscribes_only_itself(app, smtp, people, make_round, clock):
    round_ = _round(app, make_round, people, clock)
    _open(app, round_.id, clock)
    _run(app)
    message = next(m for m in smtp.handler.parsed() if m["To"] == "tokyo-office@example.org")
    client = app.test_client()
    token = _unsubscribe_path(message).split("t=", 1)[1]
    assert client.post("/notices/unsubscribe", data={"t": token}).status_code == 200
    from consult.notify import operations as ops
    from consult.rounds.models import Round

    with app.app_context():
        ops.round_opened(db.session.get(Round, round_.id), clock())
        db.session.commit()
    _run(app)
    assert smtp.handler.recipients().count("tokyo-office@example.org") == 1
    assert smtp.handler.recipients().count("t1@example.org") == 2


def test_server_down_is_retried_and_nothing_is_lost(app, people, make_round, clock):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="consult@example.org")
    round_ = _round(app, make_round, people, clock)
    _open(app, round_.id, clock)
    report = _run(app)
    assert report.sent == 0 and report.retried == 4
    rows = _notices(app, kind="round_opened")
    assert all(status == "pending" and attempts == 1 and error for _k, _u, _a, status, attempts, error in rows)
    server = SmtpServer(port=port).start()
    try:
        assert _run(app).sent == 0  # not yet due again (backoff)
        clock.advance(minutes=2)
        assert _run(app).sent == 4
        assert len(server.handler.messages) == 4
    finally:
        server.stop()


def test_bad_address_is_a_permanent_failure_shown_to_admins(app, people, make_round, make_user, clock, login_as):
    server = SmtpServer(refuse={"o1@example.org"}).start()
    app.config.update(server.config())
    try:
        round_ = _round(app, make_round, people, clock)
        _open(app, round_.id, clock)
        report = _run(app)
    finally:
        server.stop()
    assert report.sent == 3 and report.failed == 1
    failed = _notices(app, status="failed")
    assert len(failed) == 1 and failed[0][2] == "o1@example.org" and "550" in failed[0][5]
    admin = make_user("admin")
    page = login_as(admin).get("/notices/failures").get_data(as_text=True)
    assert "o1@example.org" in page and "550" in page
    assert login_as(people["staff"]).get("/notices/failures").status_code == 403


def test_two_runners_at_once_never_send_twice(app, smtp, people, make_round, make_org, make_user, clock):
    from consult.auth.models import User
    from consult.notify import runner
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    orgs = [make_org(f"単組{i}", kind="local") for i in range(30)]
    users = [make_user("member", org) for org in orgs]
    with app.app_context():
        for user in users:
            db.session.get(User, user.id).email = f"m{user.id}@example.org"
        db.session.commit()
    round_ = make_round(targets=orgs, status="draft")
    with app.app_context():
        rounds.open_round(db.session.get(Round, round_.id), clock(), user=None)
        db.session.commit()
    old_batch = runner.BATCH
    runner.BATCH = 5  # many small claims, so the two runners interleave
    reports, errors = [], []

    def run():
        try:
            reports.append(_run(app))
        except Exception:  # noqa: BLE001
            import traceback

            errors.append(traceback.format_exc())

    try:
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        runner.BATCH = old_batch
    assert not errors
    received = smtp.handler.recipients()
    assert len(received) == 30 and len(set(received)) == 30
    assert sum(r.sent for r in reports) == 30
    assert _run(app).sent == 0


def test_submitted_withdrawn_and_late_answers_tell_the_followers(app, smtp, people, make_round, clock, make_user):
    from consult.answers import operations as answers
    from consult.auth.models import User
    from consult.notify import operations as ops
    from consult.rounds.models import Round

    round_ = make_round(targets=[people["tokyo"], people["osaka"]])
    follower, bystander = make_user("staff"), make_user("staff")
    with app.app_context():
        loaded = db.session.get(Round, round_.id)
        loaded.created_by_id = people["staff"].id
        db.session.get(User, follower.id).email = "follower@example.org"
        db.session.get(User, bystander.id).email = "bystander@example.org"
        ops.set_following(loaded, db.session.get(User, follower.id), True)
        t1 = db.session.get(User, people["t1"].id)
        answer = answers.submit_no_opinion(loaded, people["tokyo"].id, t1, None, clock())
        answers.withdraw_answer(loaded, answer, t1, None, clock())
        db.session.commit()
    clock.set(round_.deadline + timedelta(hours=1))
    with app.app_context():
        loaded = db.session.get(Round, round_.id)
        o1 = db.session.get(User, people["o1"].id)
        with pytest.raises(answers.LateError):
            answers.save_answer(
                loaded, people["osaka"].id, o1, answers.AnswerInput(general_comment="遅れました"), None, clock()
            )
        db.session.commit()  # the late draft is kept, and so is its notice
    _run(app)
    subjects = sorted((m["To"], m["Subject"]) for m in smtp.handler.parsed())
    assert [to for to, _s in subjects] == ["follower@example.org"] * 3 + ["staff@example.org"] * 3
    words = [s for to, s in subjects if to == "staff@example.org"]
    assert any("東京都本部が討議「テスト討議」の「意見なし」で提出しました" in s for s in words)
    assert any("提出を取り下げました" in s for s in words)
    assert any("大阪府本部" in s and "締切後" in s for s in words)


def test_reminders_go_only_to_non_submitters_and_an_extension_moves_them(
    app, smtp, people, make_round, make_org, make_user, clock
):
    from consult.answers import operations as answers
    from consult.auth.models import User
    from consult.notify import operations as ops
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    nagoya = make_org("愛知県本部")
    a1 = make_user("member", nagoya)
    round_ = make_round(targets=[people["tokyo"], people["osaka"], nagoya], deadline=clock() + timedelta(days=3))
    with app.app_context():
        db.session.get(User, a1.id).email = "a1@example.org"
        loaded = db.session.get(Round, round_.id)
        ops.set_schedule(loaded, [1440], True, user=None, now=clock())  # one day before each deadline
        answers.submit_no_opinion(loaded, people["tokyo"].id, db.session.get(User, people["t1"].id), None, clock())
        rounds.grant_extension(
            loaded, people["osaka"].id, round_.deadline + timedelta(days=2), "災害対応", None, clock()
        )
        db.session.commit()
    smtp.handler.messages.clear()
    _run(app)  # the extension's notice only: no reminder is due yet
    assert smtp.handler.recipients() == ["o1@example.org"]
    smtp.handler.messages.clear()

    clock.set(round_.deadline - timedelta(days=1) + timedelta(minutes=1))
    _run(app)
    assert smtp.handler.recipients() == ["a1@example.org"]  # not Tokyo (意見なし), not Osaka (extended)
    assert "督促" in smtp.handler.parsed()[0]["Subject"]
    _run(app)
    assert len(smtp.handler.messages) == 1  # never twice for the same organisation and step

    clock.set(round_.deadline + timedelta(days=1) + timedelta(minutes=1))  # Osaka's own step, moved
    _run(app)
    assert smtp.handler.recipients() == ["a1@example.org", "o1@example.org"]
    with app.app_context():
        assert ops.due_reminders(db.session.get(Round, round_.id), clock()) == {}


def test_no_reminder_after_submission_even_if_queued(app, smtp, people, make_round, clock):
    from consult.answers import operations as answers
    from consult.auth.models import User
    from consult.notify import operations as ops
    from consult.rounds.models import Round

    round_ = make_round(targets=[people["tokyo"], people["osaka"]])
    with app.app_context():
        ops.remind_now(db.session.get(Round, round_.id), user=None, now=clock())
        answers.submit_no_opinion(
            db.session.get(Round, round_.id), people["osaka"].id, db.session.get(User, people["o1"].id), None, clock()
        )
        db.session.commit()
    _run(app)
    assert sorted(smtp.handler.recipients()) == ["t1@example.org", "t2@example.org", "tokyo-office@example.org"]
    assert "o1@example.org" not in smtp.handler.recipients()


def test_mail_port_from_the_environment_is_a_number(monkeypatch, database_url):
    from consult import create_app
    from consult.notify.delivery import settings

    monkeypatch.setenv("CONSULT_MAIL_PORT", "8025")
    monkeypatch.setenv("CONSULT_MAIL_SERVER", "127.0.0.1")
    monkeypatch.setenv("CONSULT_MAIL_PASSWORD", "123456")
    monkeypatch.setenv("CONSULT_MAIL_USE_TLS", "true")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "test"})
    found = settings(app.config)
    assert found["MAIL_PORT"] == 8025 and found["MAIL_SERVER"] == "127.0.0.1"
    assert found["MAIL_PASSWORD"] == "123456" and found["MAIL_USE_TLS"] is True


def test_a_prefectures_sub_round_tells_its_unions(app, smtp, people, make_round, make_org, make_user, clock):
    """Issue 10 meets issue 11: the sub-round a prefecture opens reaches the members of its unions, no one else."""
    from consult.auth.models import User
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    hachioji = make_org("八王子市職労", kind="local", parent=people["tokyo"])
    union_member = make_user("member", hachioji)
    round_ = _round(app, make_round, people, clock, deadline=clock() + timedelta(days=10))
    _open(app, round_.id, clock)
    _run(app)
    before = len(smtp.handler.messages)
    with app.app_context():
        db.session.get(User, union_member.id).email = "hachioji@example.org"
        officer = db.session.get(User, people["t1"].id)
        rounds.open_subround(
            db.session.get(Round, round_.id),
            officer,
            deadline=clock() + timedelta(days=5),
            background="県本部の説明",
            organization_ids=None,
            now=clock(),
        )
        db.session.commit()
    assert _run(app).sent == 1
    assert smtp.handler.recipients()[before:] == ["hachioji@example.org"]
    assert [kind for kind, *_ in _notices(app, kind="subround_opened")] == ["subround_opened"]


def test_publishing_the_answer_table_tells_the_targets(app, smtp, people, make_round, clock):
    from consult.review import operations as review
    from consult.rounds.models import Round

    round_ = _round(app, make_round, people, clock)
    _open(app, round_.id, clock)
    _run(app)
    with app.app_context():
        review.publish_answers(db.session.get(Round, round_.id), clock(), user=None)
        db.session.commit()
    assert _run(app).sent == 4  # the three members of Tokyo and Osaka, and Tokyo's office address
    assert {kind for kind, *_ in _notices(app, kind="answers_published")} == {"answers_published"}
