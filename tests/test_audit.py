"""The audit log: what is recorded, that it lands with the change or not at all, and the admin's page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from consult.core.clock import app_now
from consult.extensions import db

PASSWORD = "password123"


def events(app, **where):
    from consult.audit.models import AuditEvent

    with app.app_context():
        stmt = select(AuditEvent).order_by(AuditEvent.id)
        for name, value in where.items():
            stmt = stmt.where(getattr(AuditEvent, name) == value)
        rows = db.session.scalars(stmt).all()
        db.session.expunge_all()
        return rows


def test_round_open_is_recorded_with_user_round_and_time(app, make_user, make_round, make_org, login_as, clock):
    admin = make_user("admin")
    round_ = make_round(status="draft", targets=[make_org()])
    assert login_as(admin).post(f"/rounds/{round_.id}/open").status_code == 302
    [line] = events(app, action="round_opened")
    assert (line.user_id, line.object_kind, line.object_id, line.round_id) == (admin.id, "round", round_.id, round_.id)
    assert line.at == clock() and "テスト討議" in line.summary and line.address == "127.0.0.1"


def test_refused_transition_leaves_no_audit_line(app, make_user, make_round, login_as):
    admin = make_user("admin")
    round_ = make_round(status="draft", targets=[])  # no targets: opening is refused
    login_as(admin).post(f"/rounds/{round_.id}/open")
    assert events(app, action="round_opened") == []


def test_answer_submit_is_recorded_for_the_member_and_on_behalf_for_hq(app, make_user, make_round, make_org, login_as):
    tokyo, osaka = make_org("東京"), make_org("大阪")
    member, staff = make_user("member", tokyo), make_user("staff")
    round_ = make_round(targets=[tokyo, osaka])
    item = round_.items[0]
    data = {"version": "0", "action": "submit", f"item-{item.id}-stance": "agree", "general_comment": "賛成です"}
    assert login_as(member).post(f"/answers/{round_.id}/org/{tokyo.id}/edit", data=data).status_code == 302
    assert login_as(staff).post(f"/answers/{round_.id}/org/{osaka.id}/edit", data=data).status_code == 302
    own, behalf = events(app, action="answer_submit")
    assert (own.user_id, own.round_id, own.details["org_id"]) == (member.id, round_.id, tokyo.id)
    assert "東京の回答" in own.summary and "代理入力" not in own.summary
    assert behalf.user_id == staff.id and "大阪の回答" in behalf.summary and "代理入力" in behalf.summary


def test_letter_added_is_recorded_with_its_campaign(app, make_user, login_as, clock):
    from consult.letters import operations as letters

    admin = make_user("admin")
    with app.app_context():
        campaign = letters.create_campaign(
            letters.CampaignInput(
                title="省庁要請",
                date_year=2025,
                date_month=3,
                date_day=None,
                date_style="western",
                sender_org="自治労",
                sender_title="委員長",
                sender_name="氏名",
                round_id=None,
            ),
            clock(),
            user=None,
        )
        db.session.commit()
        campaign_id = campaign.id
    response = login_as(admin).post(f"/campaigns/{campaign_id}/letters", data={"title": "自治体DXの推進に関する要請書"})
    assert response.status_code == 302
    [line] = events(app, action="letter_added")
    assert line.user_id == admin.id and line.object_kind == "letter"
    assert line.details == {"campaign_id": campaign_id} and "自治体DXの推進に関する要請書" in line.summary


def test_login_failure_success_and_logout_are_recorded(app, client, make_user):
    user = make_user("member")
    client.post("/login", data={"login": "nobody-here", "password": "x" * 9})
    client.post("/login", data={"login": user.login, "password": "wrong-password"})
    client.post("/login", data={"login": user.login, "password": PASSWORD})
    client.post("/logout")
    lines = events(app)
    assert [line.action for line in lines] == ["login_failed", "login_failed", "login", "logout"]
    unknown, wrong = lines[0], lines[1]
    assert unknown.user_id is None and "nobody-here" in unknown.summary
    assert wrong.user_id is None and wrong.object_id == user.id  # nobody was logged in; the account is named
    assert lines[2].user_id == user.id == lines[3].user_id


def test_admin_actions_on_accounts_are_recorded(app, make_user, make_org, login_as):
    member, admin = make_user("member", make_org()), make_user("admin")
    client = login_as(admin)
    client.post("/admin/users/password", data={"user_id": member.id, "password": "brand-new-pass"})
    client.post("/admin/users/active", data={"user_id": member.id, "active": "0"})
    client.post("/admin/users/active", data={"user_id": member.id, "active": "1"})
    lines = [line for line in events(app) if line.object_id == member.id]
    assert [line.action for line in lines] == ["password_reset", "user_disabled", "user_enabled"]
    assert all(line.user_id == admin.id for line in lines)
    assert "brand-new-pass" not in "".join(line.summary + str(line.details) for line in lines)


# ------------------------------------------------------------------------------------------------------------
# The page


@pytest.fixture
def logged(app, make_user, make_org, make_round, clock):
    """An admin, a member of Tokyo, two rounds, and audit lines on two Japan dates."""
    from consult.audit.operations import record

    tokyo = make_org("東京")
    admin, member = make_user("admin", name="本部花子"), make_user("member", tokyo, name="東京太郎")
    first, second = make_round(title="第一討議"), make_round(title="第二討議")
    from consult.auth.models import User

    with app.app_context():
        a, m = db.session.get(User, admin.id), db.session.get(User, member.id)
        late_evening = datetime(2025, 3, 10, 14, 30, tzinfo=UTC)  # 2025-03-10 23:30 JST
        next_morning = datetime(2025, 3, 10, 15, 30, tzinfo=UTC)  # 2025-03-11 00:30 JST
        record(a, "round_opened", "round", first.id, "受付開始: 討議「第一討議」", round_id=first.id, now=late_evening)
        record(
            m,
            "answer_submit",
            "answer",
            1,
            "回答の提出: 東京の回答",
            round_id=first.id,
            details={"org_id": tokyo.id},
            now=next_morning,
        )
        record(
            a,
            "round_closed",
            "round",
            second.id,
            "受付終了: 討議「第二討議」",
            round_id=second.id,
            now=next_morning + timedelta(hours=1),
        )
        db.session.commit()
    return {"admin": admin, "member": member, "first": first, "second": second, "tokyo": tokyo}


def page(client, **args) -> str:
    response = client.get("/admin/audit", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_page_lists_newest_first_with_name_organisation_action_and_link(app, logged, login_as):
    text = page(login_as(logged["admin"]))
    order = ["受付終了: 討議「第二討議」", "回答の提出: 東京の回答", "受付開始: 討議「第一討議」"]
    assert [text.index(summary) for summary in order] == sorted(text.index(summary) for summary in order)
    assert "東京太郎" in text and "東京" in text and "本部花子" in text
    assert "受付開始" in text and "2025年3月10日" in text
    assert f'href="/rounds/{logged["first"].id}"' in text


def test_page_filters_by_action_user_kind_round_and_text(app, logged, login_as):
    client = login_as(logged["admin"])
    opened = page(client, action="round_opened")
    assert "受付開始: 討議「第一討議」" in opened and "受付終了: 討議「第二討議」" not in opened
    by_user = page(client, user=logged["member"].login)
    assert "回答の提出: 東京の回答" in by_user and "受付開始: 討議" not in by_user
    assert "受付開始: 討議" not in page(client, kind="answer")
    by_round = page(client, round=str(logged["second"].id))
    assert "受付終了: 討議「第二討議」" in by_round and "受付開始: 討議「第一討議」" not in by_round
    assert "東京の回答" in page(client, q="東京の") and "受付終了: 討議" not in page(client, q="東京の")
    assert "回答の提出" in page(client, q="東京太郎")  # free text finds the user's name too


def test_page_date_range_is_in_japan_time(app, logged, login_as):
    client = login_as(logged["admin"])
    on_10th = page(client, date_from="2025-03-10", date_to="2025-03-10")
    assert "第一討議" in on_10th and "東京の回答" not in on_10th  # 23:30 JST is still the 10th
    on_11th = page(client, date_from="2025-03-11")
    assert "東京の回答" in on_11th and "受付終了" in on_11th and "受付開始: 討議" not in on_11th


def test_page_bad_filters_show_a_message_and_keep_the_input(app, logged, login_as):
    client = login_as(logged["admin"])
    text = page(client, date_from="2025/13/40", q="東京")
    assert "日付は 2025-03-17 の形で入力してください。" in text and 'value="東京"' in text
    assert "このログインIDの利用者はいません。" in page(client, user="no-such-login")
    assert "「まで」は「から」と同じ日か" in page(client, date_from="2025-03-11", date_to="2025-03-10")
    assert client.get("/admin/audit?page=abc&action=zzz").status_code == 200


def test_page_paginates_with_a_fixed_number_of_queries(app, logged, login_as, make_user):
    from consult.audit.operations import record
    from consult.auth.models import User

    client = login_as(logged["admin"])
    app.config["PAGE_SIZE"] = 8

    def queries_for(url):
        count = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: count.append(1)  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(count)

    small = queries_for("/admin/audit")
    members = [make_user("member", logged["tokyo"]) for _ in range(12)]
    with app.app_context():
        for n, member in enumerate(members):
            user = db.session.get(User, member.id)
            record(user, "answer_save", "answer", n, f"保存{n}", round_id=logged["first"].id, now=app_now())
        db.session.commit()
    assert queries_for("/admin/audit") == small
    first_page, third_page = page(client), page(client, page="3")
    assert "1 / 3 ページ" in first_page and "受付開始: 討議「第一討議」" in first_page
    assert ">保存11<" in first_page and ">保存0<" not in first_page and ">保存0<" in page(client, page="2")
    assert "3 / 3 ページ" in third_page and "項目の追加: 討議「第二討議」" in third_page and ">保存" not in third_page
    assert "前のページ" in third_page and "次のページ" not in third_page


def test_links_only_to_objects_that_still_exist(app, logged, login_as):
    from consult.audit.operations import record

    with app.app_context():
        record(None, "campaign_removed", "campaign", 424242, "要請行動の削除: 要請行動「消えた」", now=app_now())
        db.session.commit()
    text = page(login_as(logged["admin"]), kind="campaign")
    assert "消えた" in text and "/campaigns/424242" not in text


def test_migration_upgrade_and_downgrade_on_sqlite(tmp_path):
    """The schema has the log's indexes; the revision that added the log (before the squash, kept in
    tests/fixtures/pre_squash) removes only its own table when undone."""
    from pathlib import Path

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    from consult import create_app

    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}", "SECRET_KEY": "t", "TESTING": True}
    )
    with app.app_context():
        upgrade()
        assert "audit_event" in inspect(db.engine).get_table_names()
        indexes = {index["name"] for index in inspect(db.engine).get_indexes("audit_event")}
        assert {"ix_audit_event_at_id", "ix_audit_event_action", "ix_audit_event_round_id"} <= indexes
        db.engine.dispose()
    pre_squash = str(Path(__file__).resolve().parent / "fixtures" / "pre_squash")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}", "SECRET_KEY": "t", "TESTING": True}
    )
    with app.app_context():
        upgrade(directory=pre_squash)
        assert "audit_event" in inspect(db.engine).get_table_names()
        downgrade(directory=pre_squash, revision="-1")
        db.engine.dispose()
        assert "audit_event" not in inspect(db.engine).get_table_names()
        assert "user_account" in inspect(db.engine).get_table_names()
        upgrade(directory=pre_squash)
        assert "audit_event" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_record_outside_a_request_has_no_user_or_address(app, clock):
    from consult.audit.operations import record

    with app.app_context():
        line = record(None, "user_created", "user", None, "x" * 600, now=clock())
        db.session.commit()
        assert line.user_id is None and line.address is None
        assert len(line.summary) == 501 and line.at.date() == date(2025, 3, 10)
