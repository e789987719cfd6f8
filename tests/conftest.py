"""Fixtures: a real app on a real database (SQLite file, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime, timedelta

import pytest
from api_support import ApiClient
from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from consult import create_app
from consult.core.search.index import SearchIndex
from consult.extensions import db

# 2025-03-10 10:00 JST, a week before the seed's deadline.
DEFAULT_NOW = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
PASSWORD = "password123"
_CHEAP_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


class FakeClock:
    """The server's clock, moved by tests."""

    def __init__(self, at: datetime = DEFAULT_NOW):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at

    def advance(self, **delta) -> None:
        self.at = self.at + timedelta(**delta)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """One migrated database for the run; tests empty its tables afterwards."""
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "TESTING": True})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    return url


def _empty_tables(url: str) -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    engine = create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            conn.execute(text("UPDATE organization SET parent_id = NULL"))  # the tree's links RESTRICT deletes
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
        SearchIndex("search").clear(conn)  # the full-text index's own tables (migration 0004_review)
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(database_url, clock, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "CLOCK": clock,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()
    _empty_tables(database_url)


def detach(obj, *loaded: str):
    """Return a committed object usable outside the app context, with the named relations loaded."""
    db.session.refresh(obj)
    for name in loaded:
        value = getattr(obj, name)
        for each in value if isinstance(value, list) else [value]:
            if each is not None:
                db.session.refresh(each)
    db.session.expunge_all()
    return obj


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_seq = itertools.count(1)


@pytest.fixture
def make_org(app):
    """make_org(name=..., kind='prefecture', parent=None) -> Organization"""
    from consult.orgs.models import Organization

    def make(name: str | None = None, kind: str = "prefecture", parent=None, code: str | None = None):
        n = next(_seq)
        with app.app_context():
            org = Organization(
                code=code or f"org{n}",
                name=name or f"組織{n}",
                kind=kind,
                parent_id=getattr(parent, "id", None),
                position=n,
            )
            db.session.add(org)
            db.session.commit()
            return detach(org)

    return make


@pytest.fixture
def hq(make_org):
    return make_org("全日本自治団体労働組合", kind="hq", code="hq")


@pytest.fixture
def make_user(app, hq):
    """make_user(role='member', org=None, login=None) -> User (password: PASSWORD)"""
    from consult.auth.models import User

    def make(role: str = "member", org=None, login: str | None = None, name: str | None = None):
        n = next(_seq)
        with app.app_context():
            user = User(login=login or f"user{n}", name=name or f"利用者{n}", role=role, organization_id=(org or hq).id)
            user.password_hash = _CHEAP_HASH  # the library's check, without scrypt's cost in every test
            db.session.add(user)
            db.session.commit()
            return detach(user, "organization")

    return make


@pytest.fixture
def make_round(app, clock):
    """make_round(deadline=..., opens_at=..., items=3, targets=[...], status='open') -> Round"""
    from consult.rounds import operations as ops
    from consult.rounds.models import Round

    def make(
        title: str = "テスト討議",
        deadline: datetime | None = None,
        opens_at: datetime | None = None,
        items: int | list = 3,
        targets=(),
        status: str = "open",
        background: str = "背景の説明",
    ):
        opens = opens_at or clock() - timedelta(days=7)
        due = deadline or clock() + timedelta(days=7)
        with app.app_context():
            round_ = Round(
                title=title, background=background, opens_at=opens, deadline=due, status="draft", created_at=clock()
            )
            db.session.add(round_)
            db.session.flush()
            drafts = (
                items
                if isinstance(items, list)
                else [ops.ItemDraft(str(i), f"項目{i}", f"項目{i}の本文") for i in range(1, items + 1)]
            )
            ops.add_items(round_, drafts, clock(), user=None)
            ops.set_targets(round_, {org.id for org in targets}, user=None, now=clock())
            round_.status = status
            db.session.commit()
            return detach(db.session.get(Round, round_.id), "items", "targets")

    return make


@pytest.fixture
def limited(app, database_url, clock):
    """limited(**config): another app on the test database with small login limits (the `app` fixture cleans up)."""
    made = []

    def make(**config):
        settings = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "CLOCK": clock,
            "LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes",
            "LOGIN_LIMIT_PER_ADDRESS": "100 per 15 minutes",
            "RATELIMIT_STORAGE_URI": "memory://",
        }
        settings.update(config)
        limited_app = create_app(settings)
        made.append(limited_app)
        return limited_app

    yield make
    for each in made:
        with each.app_context():
            db.engine.dispose()


@pytest.fixture
def login_as(client):
    """login_as(user): log the test client in through the real login form."""

    def login(user, password: str = PASSWORD):
        client.post("/logout")
        response = client.post("/login", data={"login": user.login, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return login


@pytest.fixture
def make_token(app, clock):
    """make_token(user, name='テスト用') -> the bearer token (created through the auth feature's operation)."""
    from consult.auth import operations as accounts
    from consult.auth.models import User

    def make(user, name: str = "テスト用") -> str:
        with app.app_context():
            _row, token = accounts.create_token(db.session.get(User, user.id), name, now=clock())
            db.session.commit()
            return token

    return make


@pytest.fixture
def api_as(app, make_token):
    """api_as(user) -> an ApiClient with a new token of that user; api_as(None) sends no token."""

    def make(user, token: str | None = None) -> ApiClient:
        if user is None:
            return ApiClient(app.test_client(), token)
        return ApiClient(app.test_client(), token or make_token(user))

    return make


@pytest.fixture
def api_world(app, make_org, make_user, hq, clock):
    """tests/api_support.build_world: a federation, a round, answers, a campaign, and a token per role."""
    from api_support import build_world

    return build_world(app, make_org, make_user, hq, clock)
