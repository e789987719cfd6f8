"""Login throttling per account and per address (failures only), the proxy set-up, and the session cookie."""

from __future__ import annotations

import socket
import uuid

import pytest

from consult.extensions import db

PASSWORD = "password123"
THROTTLED = "ログインの試行が多すぎます。15分ほど待ってから、もう一度お試しください。"


def attempt(client, login, password, address="127.0.0.1", **headers):
    return client.post(
        "/login", data={"login": login, "password": password}, environ_base={"REMOTE_ADDR": address}, headers=headers
    )


def test_account_is_throttled_after_the_configured_failures_even_with_the_right_password(limited, make_user):
    user = make_user("member")
    client = limited().test_client()
    for _ in range(3):
        response = attempt(client, user.login, "wrong-password")
        assert response.status_code == 200
        assert "ログインIDまたはパスワードが違います。" in response.get_data(as_text=True)
    response = attempt(client, user.login, PASSWORD)
    text = response.get_data(as_text=True)
    assert response.status_code == 429
    assert THROTTLED in text
    assert f'value="{user.login}"' in text  # the typed login id is kept
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/answers/").status_code == 302  # not logged in


def test_account_limit_is_per_account_and_from_every_address(limited, make_user):
    victim, other = make_user("member"), make_user("member")
    client = limited().test_client()
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        attempt(client, victim.login, "wrong-password", address)
    assert attempt(client, victim.login, PASSWORD, "10.0.0.9").status_code == 429
    assert attempt(client, other.login, PASSWORD, "10.0.0.1").status_code == 302


def test_address_is_throttled_across_accounts(limited, make_user):
    app = limited(LOGIN_LIMIT_PER_ADDRESS="4 per 15 minutes")
    user = make_user("member")
    client = app.test_client()
    for n in range(4):
        assert attempt(client, f"guess{n}", "wrong-password", "192.0.2.7").status_code == 200
    response = attempt(client, user.login, PASSWORD, "192.0.2.7")
    assert response.status_code == 429 and THROTTLED in response.get_data(as_text=True)
    assert attempt(client, user.login, PASSWORD, "192.0.2.8").status_code == 302  # another address is not blocked


def test_successful_logins_are_not_counted(limited, make_user):
    user = make_user("member")
    limits = {"LOGIN_LIMIT_PER_ACCOUNT": "2 per 15 minutes", "LOGIN_LIMIT_PER_ADDRESS": "2 per 15 minutes"}
    client = limited(**limits).test_client()
    for _ in range(6):
        assert attempt(client, user.login, PASSWORD).status_code == 302
        client.post("/logout")
    assert attempt(client, user.login, "wrong-password").status_code == 200
    assert attempt(client, user.login, PASSWORD).status_code == 302


def test_empty_form_is_not_counted_as_a_failed_password(limited, make_user):
    user = make_user("member")
    client = limited(LOGIN_LIMIT_PER_ACCOUNT="1 per 15 minutes").test_client()
    for _ in range(3):
        response = attempt(client, user.login, "")
        assert response.status_code == 200 and "パスワードを入力してください。" in response.get_data(as_text=True)
    assert attempt(client, user.login, PASSWORD).status_code == 302


def test_forwarded_for_is_ignored_unless_the_proxy_is_configured(limited, make_user):
    user = make_user("member")
    direct = limited(LOGIN_LIMIT_PER_ADDRESS="2 per 15 minutes").test_client()
    for n in range(2):
        attempt(direct, f"guess{n}", "x", "203.0.113.5", **{"X-Forwarded-For": f"198.51.100.{n}"})
    # A forged header does not buy a fresh address.
    assert (
        attempt(direct, user.login, PASSWORD, "203.0.113.5", **{"X-Forwarded-For": "198.51.100.99"}).status_code == 429
    )

    proxied = limited(LOGIN_LIMIT_PER_ADDRESS="2 per 15 minutes", PROXY_FIX_X_FOR=1).test_client()
    for n in range(2):
        attempt(proxied, f"guess{n}", "x", "127.0.0.1", **{"X-Forwarded-For": "198.51.100.1"})
    assert attempt(proxied, user.login, PASSWORD, "127.0.0.1", **{"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    # Behind the proxy every client has its own address, although all arrive from 127.0.0.1.
    assert attempt(proxied, user.login, PASSWORD, "127.0.0.1", **{"X-Forwarded-For": "198.51.100.2"}).status_code == 302


@pytest.mark.parametrize("configured, expected", [(0, "http 127.0.0.1"), (1, "https 198.51.100.4")])
def test_proxy_fix_takes_scheme_and_address_from_the_proxy_only_when_configured(limited, configured, expected):
    from flask import request

    app = limited(PROXY_FIX_X_PROTO=configured, PROXY_FIX_X_FOR=configured)
    app.add_url_rule("/_seen", "seen", lambda: f"{request.scheme} {request.remote_addr}")
    response = app.test_client().get(
        "/_seen", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}
    )
    assert response.get_data(as_text=True) == expected


def test_disabled_account_gets_a_clear_message_only_with_the_right_password(app, client, make_user):
    from consult.auth.models import User

    user = make_user("member")
    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()
    right = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert right.status_code == 200
    assert "このアカウントは利用停止中です。本部の管理者に連絡してください。" in right.get_data(as_text=True)
    wrong = client.post("/login", data={"login": user.login, "password": "nope-nope"})
    assert "利用停止中" not in wrong.get_data(as_text=True)
    assert "ログインIDまたはパスワードが違います。" in wrong.get_data(as_text=True)


def test_session_cookie_is_httponly_lax_and_not_secure_by_default(client, make_user):
    user = make_user("member")
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Secure" not in session


def test_secure_cookies_when_configured(limited, make_user):
    user = make_user("member")
    client = limited(SESSION_COOKIE_SECURE=True).test_client()
    response = attempt(client, user.login, PASSWORD)
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)  # session and remember-me


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
        import redis  # noqa: F401  (limits needs the client library)
    except (OSError, ImportError):
        return False
    return True


@pytest.mark.skipif(not _redis_reachable(), reason="Redis is not reachable on 127.0.0.1:6379")
def test_redis_storage_shares_the_count_between_two_app_servers(limited, make_user):
    user = make_user("member", login=f"shared-{uuid.uuid4().hex[:12]}")
    config = {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379", "LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes"}
    address = "10.{}.{}.{}".format(*uuid.uuid4().bytes[:3])  # fresh keys: Redis outlives the test run
    first = limited(**config)
    client_a = first.test_client()
    for _ in range(2):
        assert attempt(client_a, user.login, "wrong-password", address).status_code == 200
    second = limited(**config)  # a second server process, started after the failures on the first
    client_b = second.test_client()
    assert attempt(client_b, user.login, "wrong-password", address).status_code == 200
    assert attempt(client_b, user.login, PASSWORD, address).status_code == 429
    assert attempt(client_a, user.login, PASSWORD, address).status_code == 429
