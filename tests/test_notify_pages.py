"""The inbox (header count, mark read), preferences, the reminder page with its preview, and the API."""

from __future__ import annotations

import pytest
from api_support import ApiClient
from notify_support import SmtpServer

from consult.extensions import db


@pytest.fixture
def smtp(app):
    server = SmtpServer().start()
    app.config.update(server.config(), BASE_URL="https://consult.example.org")
    yield server
    server.stop()


@pytest.fixture
def world(app, make_org, make_user, make_round, hq):
    from consult.auth.models import User

    tokyo, osaka = make_org("東京都本部"), make_org("大阪府本部")
    member, other, staff = make_user("member", tokyo), make_user("member", osaka), make_user("staff", hq)
    with app.app_context():
        db.session.get(User, member.id).email = "member@example.org"
        db.session.get(User, other.id).email = "other@example.org"
        db.session.commit()
    round_ = make_round(targets=[tokyo, osaka], status="draft", title="税制討議")
    return {"tokyo": tokyo, "osaka": osaka, "member": member, "other": other, "staff": staff, "round": round_}


def test_opening_a_round_on_the_page_fills_the_inbox_and_the_header_count(app, world, login_as):
    hq_client = login_as(world["staff"])
    assert hq_client.post(f"/rounds/{world['round'].id}/open").status_code == 302
    client = login_as(world["member"])
    page = client.get("/notices").get_data(as_text=True)
    assert "税制討議" in page and "未読1" in page
    assert client.post("/notices/read").status_code == 302
    page = client.get("/notices").get_data(as_text=True)
    assert "未読1" not in page and "既読" in page


def test_preferences_page_chooses_inbox_only_per_kind(app, world, login_as, smtp):
    from consult.notify import runner
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    client = login_as(world["member"])
    assert "討議の受付開始" in client.get("/notices/preferences").get_data(as_text=True)
    client.post("/notices/preferences", data={"email-reminder": "1"})  # round_opened unticked: inbox only
    with app.app_context():
        rounds.open_round(db.session.get(Round, world["round"].id), app.config["CLOCK"](), user=None)
        db.session.commit()
        runner.run_once()
    assert smtp.handler.recipients() == ["other@example.org"]
    assert "税制討議" in client.get("/notices").get_data(as_text=True)  # still in the inbox


def test_reminder_page_previews_text_and_recipients_then_sends(app, world, login_as, smtp):
    from consult.rounds.models import Round

    with app.app_context():
        db.session.get(Round, world["round"].id).status = "open"
        db.session.commit()
    client = login_as(world["staff"])
    board = client.get(f"/rounds/{world['round'].id}/board").get_data(as_text=True)
    assert "未提出の組織に督促する" in board
    page = client.get(f"/rounds/{world['round'].id}/reminders").get_data(as_text=True)
    assert "member@example.org" in page and "other@example.org" in page and "【督促】" in page
    assert _count(app) == 0  # the preview sends nothing
    response = client.post(f"/rounds/{world['round'].id}/reminders/send")
    assert response.status_code == 302
    assert _count(app) == 2
    bad = client.post(f"/rounds/{world['round'].id}/reminders/schedule", data={"enabled": "y", "steps": "七日"})
    assert bad.status_code == 422 and "「七日」を読めません" in bad.get_data(as_text=True)
    assert "七日" in bad.get_data(as_text=True)
    good = client.post(f"/rounds/{world['round'].id}/reminders/schedule", data={"enabled": "y", "steps": "5日、2時間"})
    assert good.status_code == 302
    assert "5日、2時間" in client.get(f"/rounds/{world['round'].id}/reminders").get_data(as_text=True)


def _count(app) -> int:
    from sqlalchemy import func, select

    from consult.notify.models import Notice

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Notice))


def test_api_notices_preferences_and_remind(app, world, client, make_token):
    from consult.rounds.models import Round

    with app.app_context():
        db.session.get(Round, world["round"].id).status = "open"
        db.session.commit()
    staff = ApiClient(client, make_token(world["staff"]))
    member = ApiClient(client, make_token(world["member"]))
    assert member.post(f"/rounds/{world['round'].id}/remind", json={}).status_code == 403
    preview = staff.post(f"/rounds/{world['round'].id}/remind", json={"preview": True}).get_json()
    assert sorted(r["email"] for r in preview["recipients"]) == ["member@example.org", "other@example.org"]
    assert _count(app) == 0
    sent = staff.post(f"/rounds/{world['round'].id}/remind", json={}).get_json()
    assert sorted(sent["organization_ids"]) == sorted([world["tokyo"].id, world["osaka"].id])
    page = member.get("/notices?unread=true").get_json()
    assert len(page["items"]) == 1 and page["items"][0]["kind"] == "reminder"
    assert page["items"][0]["email_status"] == "pending"
    assert member.post("/notices/read", json={"ids": [page["items"][0]["id"]]}).get_json() == {"marked": 1, "unread": 0}
    assert member.get("/me/notice-preferences").get_json()["reminder"] is True
    changed = member.put("/me/notice-preferences", json={"reminder": False}).get_json()
    assert changed["reminder"] is False and changed["round_opened"] is True
    assert member.put("/me/notice-preferences", json={"reminder": "often"}).status_code == 422


def test_import_orgs_sets_a_contact_address_and_refuses_a_bad_one(app, runner, hq, tmp_path):
    good = tmp_path / "orgs.csv"
    good.write_text("code,name,kind,parent_code,contact_email\npref13,東京都本部,prefecture,hq,office@example.org\n")
    result = runner.invoke(args=["import-orgs", str(good)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalars(select_org("pref13")).one().contact_email == "office@example.org"
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name,kind,parent_code,contact_email\npref13,東京都本部,prefecture,hq,not-an-address\n")
    result = runner.invoke(args=["import-orgs", str(bad)])
    assert (
        result.exit_code == 1 and "2行目: 連絡先メールアドレス「not-an-address」が正しくありません。" in result.output
    )
    with app.app_context():
        assert db.session.scalars(select_org("pref13")).one().contact_email == "office@example.org"


def select_org(code):
    from sqlalchemy import select

    from consult.orgs.models import Organization

    return select(Organization).where(Organization.code == code)


def test_consult_notify_command_sends_and_exits(app, runner, world, smtp):
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round

    with app.app_context():
        rounds.open_round(db.session.get(Round, world["round"].id), app.config["CLOCK"](), user=None)
        db.session.commit()
    result = runner.invoke(args=["notify"])
    assert result.exit_code == 0 and "送信 2件" in result.output
    assert sorted(smtp.handler.recipients()) == ["member@example.org", "other@example.org"]
