"""Faults: the database locked or out of reach gives a 503 that keeps the typed text; a killed worker leaves no
half-saved answer; two app servers on one PostgreSQL keep the deadline and the two-editor guarantees."""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from conftest import PASSWORD as FIXTURE_PASSWORD
from sqlalchemy import create_engine, event, make_url, select, text

from consult import create_app
from consult.answers.models import Answer, Opinion
from consult.core.faults import MESSAGE as _MESSAGE
from consult.core.faults import READ_MESSAGE as _READ_MESSAGE
from consult.extensions import db

MESSAGE, READ_MESSAGE = str(_MESSAGE), str(_READ_MESSAGE)  # the Japanese page (lazy strings outside a request)

HOST = "127.0.0.1"
GUNICORN = Path(sys.executable).parent / "gunicorn"
SECRET = "fault-tests-secret"
PASSWORD = "fault-tests-password"


# ---------------------------------------------------------------------------------------------------------
# Reading pages


class Page(HTMLParser):
    """The parts of a page the tests look at: textareas, forms with their inputs, the text."""

    def __init__(self, source: str):
        super().__init__()
        self.textareas: dict[str, str] = {}
        self.forms: list[dict] = []
        self._textarea: str | None = None
        self.feed(source)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"method": attrs.get("method", "get"), "action": attrs.get("action"), "fields": []})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["fields"].append((attrs["name"], attrs.get("value", ""), attrs.get("type", "text")))
        elif tag == "textarea":
            self._textarea = attrs.get("id") or attrs.get("name")
            self.textareas[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.textareas[self._textarea] += data

    def form_with(self, name: str) -> dict:
        return next(f for f in self.forms if any(n == name for n, _, _ in f["fields"]))


def field_value(source: str, name: str) -> str:
    return next(v for form in Page(source).forms for n, v, _ in form["fields"] if n == name)


# ---------------------------------------------------------------------------------------------------------
# The database locked for one request (SQLite: another writer holds the lock; PostgreSQL: a table lock)


@pytest.fixture
def fault_app(app, database_url, clock):
    """The app with CSRF on and a tiny lock wait, on the test database (`app` empties it afterwards)."""
    postgres = database_url.startswith("postgresql")
    options = {"connect_args": {"options": "-c lock_timeout=300"}} if postgres else {"connect_args": {"timeout": 0.1}}
    fapp = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test",
            "CLOCK": clock,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
        }
    )
    if not postgres:
        with fapp.app_context():
            # runs after the app's own connect hook, which sets a 30 s busy timeout
            event.listen(db.engine, "connect", lambda conn, record: conn.execute("PRAGMA busy_timeout=100"))
    yield fapp
    with fapp.app_context():
        db.engine.dispose()


class DatabaseLock:
    """Hold the database so the app cannot write (SQLite) or touch the answer table (PostgreSQL)."""

    def __init__(self, url: str):
        self.url = url

    def __enter__(self):
        if self.url.startswith("postgresql"):
            import psycopg

            self.conn = psycopg.connect(make_url(self.url).set(drivername="postgresql").render_as_string(False))
            self.conn.execute("LOCK TABLE answer IN ACCESS EXCLUSIVE MODE")
        else:
            self.conn = sqlite3.connect(make_url(self.url).database, isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


def login_with_csrf(client, login: str, password: str):
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"login": login, "password": password, "csrf_token": field_value(page, "csrf_token")}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def answer_form(item_ids: list[int], typed: str, version: int = 0, action: str = "save") -> dict:
    data = {"version": str(version), "action": action, "general_comment": typed + "（総括）"}
    for n, item_id in enumerate(item_ids):
        data[f"item-{item_id}-stance"] = "amend"
        data[f"item-{item_id}-referred_text"] = f"該当{n}"
        data[f"item-{item_id}-proposed_text"] = f"{typed}（修正案{n}）"
        data[f"item-{item_id}-reason"] = f"理由{n}"
    return data


def stored_answer(app, round_id: int, org_id: int) -> tuple[Answer | None, dict[int, Opinion]]:
    with app.app_context():
        answer = db.session.scalar(select(Answer).where(Answer.round_id == round_id, Answer.organization_id == org_id))
        opinions = {op.item_id: op for op in answer.opinions} if answer else {}
        db.session.expunge_all()
        return answer, opinions


def test_locked_database_keeps_the_typed_answer_and_the_resend_saves_it(
    fault_app, database_url, make_org, make_user, make_round, caplog
):
    branch = make_org("東京都本部")
    user = make_user("member", branch)
    round_ = make_round(items=3, targets=[branch])
    item_ids = [item.id for item in round_.items]
    client = fault_app.test_client()
    login_with_csrf(client, user.login, FIXTURE_PASSWORD)
    url = f"/answers/{round_.id}/org/{branch.id}/edit"
    edit_page = client.get(url).get_data(as_text=True)
    typed = '一行目の意見\n<b>二行目</b> & "引用"'
    data = answer_form(item_ids, typed, action="submit")
    data["csrf_token"] = field_value(edit_page, "csrf_token")

    with DatabaseLock(database_url):
        response = client.post(url, data=data)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    body = response.get_data(as_text=True)
    assert MESSAGE in body
    assert "<b>二行目</b>" not in body  # escaped, never markup
    page = Page(body)
    shown = set(page.textareas.values())
    assert typed + "（総括）" in shown
    for n in range(3):
        assert f"{typed}（修正案{n}）" in shown and f"理由{n}" in shown
    assert "総括的な意見" in body and f"項目（ID {item_ids[0]}）の修正案" in body
    assert "修正" in shown  # the stance as the form names it, not the key "amend"
    resend = page.form_with("general_comment")
    assert resend["method"] == "post" and resend["action"] == url
    fields = resend["fields"]
    assert all(kind == "hidden" for _, _, kind in fields)
    sent = {name: value for name, value, _ in fields}
    assert sent["csrf_token"]  # a fresh token from this session
    assert {k: v for k, v in sent.items() if k != "csrf_token"} == {k: v for k, v in data.items() if k != "csrf_token"}
    assert any("database unavailable" in r.getMessage() and url in r.getMessage() for r in caplog.records)
    answer, _ = stored_answer(fault_app, round_.id, branch.id)
    assert answer is None  # nothing half-saved

    # The lock is gone: the resend form, exactly as the page has it, saves the answer.
    response = client.post(resend["action"], data=sent)
    assert response.status_code == 302, response.get_data(as_text=True)
    answer, opinions = stored_answer(fault_app, round_.id, branch.id)
    assert answer.status == "submitted"
    assert answer.general_comment == typed + "（総括）"
    assert [opinions[i].proposed_text for i in item_ids] == [f"{typed}（修正案{n}）" for n in range(3)]


def test_locked_database_on_a_second_save_keeps_the_stored_answer(
    fault_app, database_url, make_org, make_user, make_round
):
    branch = make_org()
    user = make_user("member", branch)
    round_ = make_round(items=2, targets=[branch])
    item_ids = [item.id for item in round_.items]
    client = fault_app.test_client()
    login_with_csrf(client, user.login, FIXTURE_PASSWORD)
    url = f"/answers/{round_.id}/org/{branch.id}/edit"
    page = client.get(url).get_data(as_text=True)
    first = answer_form(item_ids, "最初の保存")
    first["csrf_token"] = field_value(page, "csrf_token")
    assert client.post(url, data=first).status_code == 302
    page = client.get(url).get_data(as_text=True)
    second = answer_form(item_ids, "二度目の保存", version=int(field_value(page, "version")))
    second["csrf_token"] = field_value(page, "csrf_token")
    with DatabaseLock(database_url):
        response = client.post(url, data=second)
    assert response.status_code == 503
    assert "二度目の保存（総括）" in Page(response.get_data(as_text=True)).textareas.values()
    answer, opinions = stored_answer(fault_app, round_.id, branch.id)
    assert answer.general_comment == "最初の保存（総括）"
    assert {op.proposed_text for op in opinions.values()} == {"最初の保存（修正案0）", "最初の保存（修正案1）"}


# ---------------------------------------------------------------------------------------------------------
# The database server out of reach (a PostgreSQL URL on a port where nothing listens)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@pytest.fixture
def down_app(clock):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "CLOCK": clock,
            "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@{HOST}:{free_port()}/consult",
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"connect_timeout": 3}},
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def test_unreachable_database_login_gets_the_503_page_without_echoing_the_password(down_app):
    client = down_app.test_client()
    assert client.get("/login").status_code == 200  # the empty login page needs no database
    response = client.post("/login", data={"login": "tokyo", "password": "ひみつのパスワード"})
    assert response.status_code == 503
    body = response.get_data(as_text=True)
    assert MESSAGE in body
    assert "ひみつのパスワード" not in body
    assert "パスワードは画面に表示していません" in body
    assert "tokyo" in Page(body).textareas.values()
    assert 'href="/login"' in body  # back to the form rather than re-sending without the password


def test_unreachable_database_pages_and_health_get_503_not_500(down_app, client, login_as, make_user, caplog):
    login_as(make_user("staff"))
    down = down_app.test_client()
    for name in ("session", "remember_token"):  # the same logged-in browser, now talking to a server without DB
        cookie = client.get_cookie(name)
        if cookie is not None:
            down.set_cookie(name, cookie.value)
    for path in ("/", "/answers/", "/rounds/", "/rounds/1"):
        response = down.get(path)
        assert response.status_code == 503, path
        assert READ_MESSAGE in response.get_data(as_text=True)
    response = down.get("/health")
    assert response.status_code == 503
    assert response.get_json() == {"status": "database unavailable"}
    response = down.post("/answers/1/org/1/no-opinion", data={"version": "3"})
    assert response.status_code == 503
    assert 'name="version" value="3"' in response.get_data(as_text=True)
    assert any("database unavailable during GET /rounds/" in r.getMessage() for r in caplog.records)


# ---------------------------------------------------------------------------------------------------------
# Real gunicorn processes


def database_for(kind: str, tmp: Path, suffix: str) -> tuple[str, callable]:
    """A fresh database of the kind under test: (URL, drop)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / (suffix + '.sqlite')}", lambda: None
    import psycopg

    base = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{base.database}_{suffix}"
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return base.set(database=name).render_as_string(False), drop


def on_postgresql() -> bool:
    return (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgresql")


def prepare(url: str, items: int, deadline: datetime) -> dict:
    """Schema by migration; org X with editors a and b, org Y with editor c; an open round put to both."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from consult.auth.models import User
    from consult.orgs.models import Organization
    from consult.rounds import operations as ops

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        at = datetime.now(UTC)
        hq = Organization(code="hq", name="本部", kind="hq", position=0)
        db.session.add(hq)
        db.session.flush()
        x = Organization(code="x", name="X県本部", kind="prefecture", parent_id=hq.id, position=1)
        y = Organization(code="y", name="Y県本部", kind="prefecture", parent_id=hq.id, position=2)
        db.session.add_all([x, y])
        db.session.flush()
        cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
        db.session.add_all(
            [
                User(login=login, name=login, role="member", organization_id=org.id, password_hash=cheap)
                for login, org in (("a", x), ("b", x), ("c", y))
            ]
        )
        round_ = ops.create_round("障害試験", "背景", at - timedelta(hours=1), deadline, None, at)
        ops.add_items(
            round_, [ops.ItemDraft(str(n), f"項目{n}", f"本文{n}") for n in range(1, items + 1)], at, user=None
        )
        ops.set_targets(round_, {x.id, y.id}, user=None, now=at)
        ops.open_round(round_, at, user=None)
        db.session.commit()
        result = {"round": round_.id, "items": [item.id for item in round_.items], "x": x.id, "y": y.id}
        db.engine.dispose()
    return result


class Server:
    """One gunicorn master on a free 127.0.0.1 port, sync workers."""

    def __init__(
        self, url: str, tmp: Path, workers: int = 1, env: dict | None = None, app: str = "consult:create_app()"
    ):
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        instance = tmp / "instance"
        instance.mkdir(exist_ok=True)
        environment = dict(
            os.environ, DATABASE_URL=url, SECRET_KEY=SECRET, CONSULT_INSTANCE_PATH=str(instance), **(env or {})
        )
        self.log = tmp / f"gunicorn-{self.port}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    str(GUNICORN),
                    "-w",
                    str(workers),
                    "-k",
                    "sync",
                    "--preload",
                    "-b",
                    f"{HOST}:{self.port}",
                    "--timeout",
                    "30",
                    "--graceful-timeout",
                    "2",
                    "--log-level",
                    "warning",
                    "--pythonpath",
                    str(Path(__file__).resolve().parent),
                    app,
                ],
                env=environment,
                cwd=tmp,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_healthy()

    def wait_healthy(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if requests.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError("gunicorn did not answer /health")

    def workers(self) -> list[int]:
        """The worker pids: children of the master, read from /proc."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def log_in(base: str, login: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login", timeout=10).text
    response = session.post(
        base + "/login",
        data={"login": login, "password": PASSWORD, "csrf_token": field_value(page, "csrf_token")},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302 and "/login" not in response.headers["Location"], response.text[:500]
    return session


def form_state(session: requests.Session, url: str) -> tuple[str, int]:
    """(csrf_token, version) from the edit page."""
    page = session.get(url, timeout=10).text
    return field_value(page, "csrf_token"), int(field_value(page, "version"))


# ---------------------------------------------------------------------------------------------------------
# A worker killed in the middle of a submission

KILLS = 6


def marker_state(url: str, round_id: int, org_id: int, item_ids: list[int]) -> tuple[str, int, int] | None:
    """(marker, version, events) of the stored answer, asserting every opinion carries the same save's marker."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT id, general_comment, version FROM answer WHERE round_id = :r AND organization_id = :o"),
                {"r": round_id, "o": org_id},
            ).first()
            if row is None:
                return None
            opinions = conn.execute(
                text("SELECT item_id, stance, referred_text, proposed_text, reason FROM opinion WHERE answer_id = :a"),
                {"a": row.id},
            ).all()
            events = conn.execute(
                text("SELECT COUNT(*) FROM answer_event WHERE answer_id = :a"), {"a": row.id}
            ).scalar()
    finally:
        engine.dispose()
    marker = row.general_comment
    assert sorted(op.item_id for op in opinions) == sorted(item_ids), "an opinion is missing or extra"
    for op in opinions:
        assert (op.referred_text, op.proposed_text, op.reason) == (marker + "該当", marker + "修正", marker + "理由"), (
            f"half-saved answer: general comment {marker!r} but item {op.item_id} has {op.proposed_text!r}"
        )
    return marker, row.version, events


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_worker_killed_mid_submission_leaves_old_or_new_answer_never_a_mix(kind, tmp_path):
    if kind == "postgresql" and not on_postgresql():
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL to a PostgreSQL database")
    url, drop = database_for(kind, tmp_path, "kill")
    try:
        fixture = prepare(url, items=50, deadline=datetime.now(UTC) + timedelta(days=1))
        server = Server(url, tmp_path)
        try:
            _kill_during_saves(server, url, fixture)
        finally:
            server.stop()
    finally:
        drop()


def _kill_during_saves(server: Server, url: str, fixture: dict) -> None:
    round_id, org_id, item_ids = fixture["round"], fixture["x"], fixture["items"]
    edit = f"{server.base}/answers/{round_id}/org/{org_id}/edit"
    session = log_in(server.base, "a")
    posting, stop = threading.Event(), threading.Event()
    outcome = {"acked": [], "interrupted": 0, "other": [], "durations": []}

    def saver():
        """Save the whole answer again and again; every field of save n carries the marker Rn."""
        n = 0
        while not stop.is_set():
            n += 1
            try:
                token, version = form_state(session, edit)
            except (requests.RequestException, StopIteration):
                time.sleep(0.05)
                continue
            marker = f"R{n:04d}"
            data = {"csrf_token": token, "version": str(version), "action": "save", "general_comment": marker}
            for item_id in item_ids:
                data.update(
                    {
                        f"item-{item_id}-stance": "amend",
                        f"item-{item_id}-referred_text": marker + "該当",
                        f"item-{item_id}-proposed_text": marker + "修正",
                        f"item-{item_id}-reason": marker + "理由",
                    }
                )
            started = time.monotonic()
            posting.set()
            try:
                response = session.post(edit, data=data, allow_redirects=False, timeout=20)
            except requests.RequestException:
                outcome["interrupted"] += 1
                continue
            finally:
                posting.clear()
            if response.status_code == 302:
                outcome["acked"].append(marker)
                outcome["durations"].append(time.monotonic() - started)
            else:
                outcome["other"].append(response.status_code)

    thread = threading.Thread(target=saver, daemon=True)
    thread.start()
    rng = random.Random(2025)
    seen = []
    try:
        deadline = time.monotonic() + 20
        while len(outcome["durations"]) < 3:  # learn how long a save takes before aiming the kills
            assert time.monotonic() < deadline and thread.is_alive(), outcome
            time.sleep(0.05)
        typical = sorted(outcome["durations"])[len(outcome["durations"]) // 2]
        for _ in range(KILLS):
            assert posting.wait(10)
            time.sleep(rng.uniform(0, typical))  # somewhere inside the save: parsing, writing, committing
            (worker,) = server.workers()
            os.kill(worker, signal.SIGKILL)
            respawn = time.monotonic() + 20
            while worker in server.workers() or not server.workers():
                assert time.monotonic() < respawn, "gunicorn did not replace the killed worker"
                time.sleep(0.02)
            seen.append(marker_state(url, round_id, org_id, item_ids))
            server.wait_healthy()
    finally:
        stop.set()
        thread.join(30)
    final = marker_state(url, round_id, org_id, item_ids)
    assert not outcome["other"], outcome["other"]
    assert outcome["interrupted"] >= KILLS // 2, outcome  # the kills really landed inside saves
    assert final[0] >= outcome["acked"][-1]  # every acknowledged save is there (or a later one)
    states = [s for s in seen if s is not None] + [final]
    assert len({version - events for _, version, events in states}) == 1  # one event per stored save, always
    assert [s[0] for s in states] == sorted(s[0] for s in states)


# ---------------------------------------------------------------------------------------------------------
# Two app servers against one PostgreSQL

CONFLICT = "同じ組織の別の方が先に保存しました"


def test_two_servers_keep_the_two_editor_and_deadline_guarantees(tmp_path):
    if not on_postgresql():
        pytest.skip("two servers share one database only on PostgreSQL (set TEST_DATABASE_URL)")
    url, drop = database_for("postgresql", tmp_path, "two")
    offset = tmp_path / "clock-offset"
    deadline = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    servers = []
    try:
        fixture = prepare(url, items=3, deadline=deadline)
        servers = [
            Server(
                url, tmp_path, workers=2, env={"TEST_CLOCK_OFFSET_FILE": str(offset)}, app="clock_server:create_app()"
            )
            for _ in range(2)
        ]
        one, two = (s.base for s in servers)
        round_id, items = fixture["round"], fixture["items"]
        path_x = f"/answers/{round_id}/org/{fixture['x']}/edit"
        path_y = f"/answers/{round_id}/org/{fixture['y']}/edit"
        a, b, c = log_in(one, "a"), log_in(two, "b"), log_in(two, "c")

        def body(token: str, version: int, typed: str, action: str = "save") -> dict:
            data = {"csrf_token": token, "version": str(version), "action": action, "general_comment": typed}
            data.update({f"item-{i}-stance": "agree" for i in items})
            return data

        # Two editors of org X open the form, one on each server; the later save is refused, its text kept.
        token_a, version_a = form_state(a, one + path_x)
        token_b, version_b = form_state(b, two + path_x)
        assert version_a == version_b == 0
        assert (
            a.post(
                one + path_x, data=body(token_a, version_a, "Aさんの意見"), allow_redirects=False, timeout=10
            ).status_code
            == 302
        )
        refused = b.post(two + path_x, data=body(token_b, version_b, "Bさんの意見"), allow_redirects=False, timeout=10)
        assert refused.status_code == 200
        assert CONFLICT in refused.text and "Bさんの意見" in refused.text

        def stored(org: int):
            engine = create_engine(url)
            with engine.connect() as conn:
                row = conn.execute(
                    text(
                        "SELECT status, general_comment, late_at FROM answer WHERE round_id = :r "
                        "AND organization_id = :o"
                    ),
                    {"r": round_id, "o": org},
                ).first()
            engine.dispose()
            return row

        assert stored(fixture["x"]).general_comment == "Aさんの意見"

        def move_clock_to(at: datetime) -> None:
            offset.write_text(str((at - datetime.now(UTC)).total_seconds()))

        # Five seconds before the deadline, org Y's submit through server 1 is accepted...
        token_c, version_c = form_state(c, one + path_y)
        move_clock_to(deadline - timedelta(seconds=5))
        assert (
            c.post(
                one + path_y, data=body(token_c, version_c, "Cさんの意見", "submit"), allow_redirects=False, timeout=10
            ).status_code
            == 302
        )
        assert stored(fixture["y"]).status == "submitted"

        # ...and one second after it, org X's submit is refused on both servers, what was typed kept aside.
        token_a, version_a = form_state(a, one + path_x)
        token_b, version_b = form_state(b, two + path_x)
        move_clock_to(deadline + timedelta(seconds=1))
        for session, base, token, version, typed in (
            (a, one, token_a, version_a, "Aさんの提出"),
            (b, two, token_b, version_b, "Bさんの提出"),
        ):
            late = session.post(
                base + path_x, data=body(token, version, typed, "submit"), allow_redirects=False, timeout=10
            )
            assert late.status_code == 200, base
            assert "を過ぎたため、提出できませんでした" in late.text, base
        row = stored(fixture["x"])
        assert row.status == "draft" and row.general_comment == "Aさんの意見" and row.late_at is not None
    finally:
        for server in servers:
            server.stop()
        drop()
