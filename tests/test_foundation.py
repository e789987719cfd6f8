"""The app factory, configuration order, database settings and login."""

from sqlalchemy import text

from consult import create_app
from consult.extensions import db


def test_config_order_test_config_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///" + str(tmp_path / "env.sqlite"))
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "t.sqlite")})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("t.sqlite")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite")


def test_secret_key_generated_into_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path / "inst"))
    first = create_app().config["SECRET_KEY"]
    assert (tmp_path / "inst" / "secret_key").read_text().strip() == first
    assert create_app().config["SECRET_KEY"] == first and len(first) == 64


def test_sqlite_has_foreign_keys_and_wal(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_login_and_logout(client, make_user):
    user = make_user("member")
    response = client.post("/login", data={"login": user.login, "password": "wrong"})
    assert "ログインIDまたはパスワードが違います" in response.get_data(as_text=True)
    response = client.post("/login", data={"login": user.login, "password": "password123"})
    assert response.status_code == 302
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_password_change_ends_other_sessions(app, make_user, login_as):
    user = make_user("member")
    other = app.test_client()
    other.post("/login", data={"login": user.login, "password": "password123"})
    assert other.get("/answers/").status_code == 200
    client = login_as(user)
    response = client.post(
        "/password", data={"current": "password123", "new": "newpassword1", "confirm": "newpassword1"}
    )
    assert response.status_code == 302
    assert client.get("/answers/").status_code == 200
    assert other.get("/answers/").status_code == 302


def test_unknown_page_is_japanese_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.get_data(as_text=True)
    assert '<html lang="ja">' in response.get_data(as_text=True)


def test_security_headers_on_every_response(client, make_user, login_as):
    for response in (client.get("/login"), client.get("/no/such/page"), client.get("/static/style.css")):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_lax(client, make_user):
    user = make_user("member")
    response = client.post("/login", data={"login": user.login, "password": "password123"})
    cookies = response.headers.getlist("Set-Cookie")
    session = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session
