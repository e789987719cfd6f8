"""An HQ admin resets a password or disables an account; the user's sessions end at once."""

from __future__ import annotations

import re

import pytest

from consult.extensions import db

PASSWORD = "password123"


def logged_in(app, user, password=PASSWORD):
    client = app.test_client()
    response = client.post("/login", data={"login": user.login, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def can_log_in(app, user, password) -> bool:
    return app.test_client().post("/login", data={"login": user.login, "password": password}).status_code == 302


def stored(app, user_id):
    from consult.auth.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        return {"active": user.active, "hash": user.password_hash, "token": user.session_token}


def test_admin_reset_with_typed_password_ends_sessions_and_the_new_password_works(app, make_user, make_org):
    member, admin = make_user("member", make_org()), make_user("admin")
    session = logged_in(app, member)
    assert session.get("/answers/").status_code == 200
    response = logged_in(app, admin).post(
        "/admin/users/password", data={"user_id": member.id, "password": "brand-new-pass"}
    )
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and "brand-new-pass" in text and "二度と表示されません" in text
    assert response.headers["Cache-Control"] == "no-store"
    assert session.get("/answers/").status_code == 302  # the member's open session is over
    assert not can_log_in(app, member, PASSWORD)
    assert can_log_in(app, member, "brand-new-pass")


def test_admin_reset_with_empty_field_generates_a_password_shown_once(app, make_user, make_org):
    member, admin = make_user("member", make_org()), make_user("admin")
    response = logged_in(app, admin).post("/admin/users/password", data={"user_id": member.id, "password": ""})
    generated = re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True)).group(1)
    assert len(generated) >= 8
    assert can_log_in(app, member, generated)


def test_admin_reset_refuses_a_short_password_and_changes_nothing(app, make_user, make_org):
    member, admin = make_user("member", make_org()), make_user("admin")
    before = stored(app, member.id)
    response = logged_in(app, admin).post("/admin/users/password", data={"user_id": member.id, "password": "short"})
    assert response.status_code == 200
    assert "パスワードは8文字以上にしてください。" in response.get_data(as_text=True)
    assert stored(app, member.id) == before
    assert can_log_in(app, member, PASSWORD)


def test_disable_ends_sessions_blocks_login_and_enable_restores_it(app, make_user, make_org):
    member, admin = make_user("member", make_org()), make_user("admin")
    session = logged_in(app, member)
    admin_client = logged_in(app, admin)
    response = admin_client.post("/admin/users/active", data={"user_id": member.id, "active": "0"})
    assert response.status_code == 302
    assert "利用停止にしました" in admin_client.get("/admin/users").get_data(as_text=True)
    assert session.get("/answers/").status_code == 302
    refused = app.test_client().post("/login", data={"login": member.login, "password": PASSWORD})
    assert "このアカウントは利用停止中です" in refused.get_data(as_text=True)
    assert admin_client.post("/admin/users/active", data={"user_id": member.id, "active": "1"}).status_code == 302
    assert can_log_in(app, member, PASSWORD)
    assert session.get("/answers/").status_code == 302  # re-enabling does not revive the old session


def test_admin_cannot_disable_themselves(app, make_user):
    admin = make_user("admin")
    client = logged_in(app, admin)
    response = client.post("/admin/users/active", data={"user_id": admin.id, "active": "0"})
    assert response.status_code == 200
    assert "自分自身のアカウントは利用停止にできません。" in response.get_data(as_text=True)
    assert stored(app, admin.id)["active"] is True
    assert client.get("/admin/users").status_code == 200


def test_users_page_offers_reset_and_disable_but_not_for_oneself(app, make_user, make_org):
    member, admin = make_user("member", make_org()), make_user("admin")
    text = logged_in(app, admin).get("/admin/users").get_data(as_text=True)
    assert text.count('name="user_id"') == 2 + 1  # two reset forms, one disable form (not for the admin)
    assert "パスワードを再設定" in text and "利用停止" in text
    assert f'for="password-{member.id}"' in text  # every control has a label


@pytest.mark.parametrize("role", ["member", "staff"])
def test_non_admins_are_refused_and_nothing_changes(app, make_user, make_org, role):
    target = make_user("member", make_org())
    client = logged_in(app, make_user(role))
    before = stored(app, target.id)
    for url, data in (
        ("/admin/users/password", {"user_id": target.id, "password": "hijacked-pass"}),
        ("/admin/users/active", {"user_id": target.id, "active": "0"}),
    ):
        assert client.post(url, data=data).status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert stored(app, target.id) == before


def test_unknown_or_malformed_user_is_404(app, make_user):
    client = logged_in(app, make_user("admin"))
    for data in ({"user_id": "999999", "active": "0"}, {"user_id": "abc", "active": "0"}, {"active": "0"}):
        assert client.post("/admin/users/active", data=data).status_code == 404
    assert client.post("/admin/users/password", data={"user_id": "999999"}).status_code == 404


def test_own_password_change_ends_other_sessions(app, make_user):
    member = make_user("member")
    other_device = logged_in(app, member)
    client = logged_in(app, member)
    response = client.post("/password", data={"current": PASSWORD, "new": "another-pass", "confirm": "another-pass"})
    assert response.status_code == 302
    assert client.get("/answers/").status_code == 200  # this device stays logged in
    assert other_device.get("/answers/").status_code == 302
