"""`consult backup` / `consult restore`: a demo database round-trips with every row kept, even while the app writes."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from consult import create_app
from consult.backup import backup, head_revision, restore
from consult.extensions import db

# the tables the writer touches during the backup (search_*: the search index, kept in the same transaction)
WRITTEN = {"answer", "opinion", "answer_event", "audit_event"}


def written(table: str) -> bool:
    return table in WRITTEN or table.startswith("search_")


SAVES = 12


def make_app(path: Path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": "test",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
        }
    )
    assert {"backup", "restore"} <= set(app.cli.commands)
    return app


def invoke(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    with app.app_context():
        db.engine.dispose()
    return result


def dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, all columns, in a stable order."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name"  # the search index: its shadow tables hold it
            )
        ]
        return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
    finally:
        conn.close()


@pytest.fixture
def demo_db(tmp_path):
    path = tmp_path / "live" / "consult.sqlite"
    path.parent.mkdir()
    app = make_app(path)
    result = invoke(app, "demo")
    assert result.exit_code == 0, result.output
    return app, path


def concepts_round(app):
    """The demo's open round and Tokyo's organisation: where the writer saves."""
    from consult.auth.models import User
    from consult.rounds.models import Round

    with app.app_context():
        tokyo = db.session.scalar(select(User).where(User.login == "tokyo"))
        round_ = next(r for r in db.session.scalars(select(Round)) if r.status == "open")
        return round_.id, tokyo.organization_id, [item.id for item in round_.items]


def test_backup_while_writing_then_restore_keeps_every_row(demo_db, tmp_path):
    app, live = demo_db
    round_id, org_id, item_ids = concepts_round(app)
    client = app.test_client()
    assert client.post("/login", data={"login": "tokyo", "password": "demo-tokyo"}).status_code == 302
    url = f"/answers/{round_id}/org/{org_id}/edit"
    started, done, errors = threading.Event(), [], []

    def writer():
        """Save Tokyo's answer again and again, every field carrying the round's marker."""
        for n in range(1, SAVES + 1):
            marker = f"保存{n:02d}回目"
            page = client.get(url).get_data(as_text=True)
            version = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', page)
            data = {"version": next(g for g in version.groups() if g), "action": "save", "general_comment": marker}
            for item_id in item_ids:
                data.update(
                    {
                        f"item-{item_id}-stance": "amend",
                        f"item-{item_id}-proposed_text": marker,
                        f"item-{item_id}-reason": marker + "の理由",
                    }
                )
            response = client.post(url, data=data)
            if response.status_code != 302:
                errors.append(response.get_data(as_text=True))
                break
            done.append(n)
            if n == 3:
                started.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(30)
    before = dump(live)  # the tables nobody writes, as they are during the backup
    saves_at_start = len(done)
    backup_file = tmp_path / "backup.sqlite"
    result = invoke(app, "backup", str(backup_file))
    saves_at_end = len(done)
    thread.join(60)
    assert result.exit_code == 0, result.output
    assert "バックアップを作成しました" in result.output
    assert not errors and len(done) == SAVES
    assert 3 <= saves_at_start and saves_at_end < SAVES  # the writer was going before, during and after
    assert not Path(str(backup_file) + "-wal").exists()  # a single self-contained file

    restored = tmp_path / "elsewhere" / "consult.sqlite"
    restored.parent.mkdir()
    target_app = make_app(restored)
    result = invoke(target_app, "restore", str(backup_file), "--yes")
    assert result.exit_code == 0, result.output
    assert "再起動してください" in result.output

    copy, original = dump(restored), dump(backup_file)
    assert copy == original  # the restore is exact
    assert set(copy) == set(before)
    for table, rows in before.items():
        if not written(table):
            assert copy[table] == rows, table  # every row and column, nothing lost
    assert sum(len(rows) for rows in copy.values()) > 500  # the demo has real volume (orgs, rounds, answers)
    assert copy["alembic_version"] == [(head_revision(),)]

    # A consistent snapshot: Tokyo's answer is one whole save, never a mix of two.
    conn = sqlite3.connect(restored)
    version, comment = conn.execute(
        "SELECT version, general_comment FROM answer WHERE round_id = ? AND organization_id = ?", (round_id, org_id)
    ).fetchone()
    texts = conn.execute(
        "SELECT DISTINCT proposed_text, reason FROM opinion JOIN answer ON answer.id = answer_id "
        "WHERE answer.round_id = ? AND answer.organization_id = ?",
        (round_id, org_id),
    ).fetchall()
    events = conn.execute(
        "SELECT COUNT(*) FROM answer_event JOIN answer ON answer.id = answer_id "
        "WHERE answer.round_id = ? AND answer.organization_id = ?",
        (round_id, org_id),
    ).fetchone()[0]
    conn.close()
    saved = int(comment[2:4])
    assert saves_at_start <= saved <= saves_at_end
    assert texts == [(comment, comment + "の理由")]
    assert events == saved and version == saved + 1  # the first save inserts, then bumps

    # The restored database works as the app's database: Tokyo logs in and reads the answer.
    target_client = target_app.test_client()
    assert target_client.post("/login", data={"login": "tokyo", "password": "demo-tokyo"}).status_code == 302
    page = target_client.get(f"/answers/{round_id}/org/{org_id}").get_data(as_text=True)
    assert comment in page
    with target_app.app_context():
        db.engine.dispose()


def test_restore_replaces_changed_data(demo_db, tmp_path):
    app, live = demo_db
    backup_file = tmp_path / "before.sqlite"
    assert invoke(app, "backup", str(backup_file)).exit_code == 0
    kept = dump(live)
    conn = sqlite3.connect(live)
    conn.execute("UPDATE round SET title = '誤って書き換えた題名'")
    conn.commit()
    conn.close()
    result = invoke(app, "restore", str(backup_file), "--yes")
    assert result.exit_code == 0, result.output
    assert dump(live) == kept


def test_restore_asks_before_replacing(demo_db, tmp_path):
    app, live = demo_db
    backup_file = tmp_path / "b.sqlite"
    assert invoke(app, "backup", str(backup_file)).exit_code == 0
    conn = sqlite3.connect(live)
    conn.execute("UPDATE round SET title = '新しい題名'")
    conn.commit()
    conn.close()
    result = app.test_cli_runner().invoke(args=["restore", str(backup_file)], input="n\n")
    assert result.exit_code != 0
    assert "よろしいですか" in result.output
    conn = sqlite3.connect(live)
    assert {r[0] for r in conn.execute("SELECT title FROM round")} == {"新しい題名"}
    conn.close()


def test_backup_refuses_to_overwrite_or_to_target_the_live_file(demo_db, tmp_path):
    app, live = demo_db
    existing = tmp_path / "existing.sqlite"
    existing.write_bytes(b"keep me")
    result = invoke(app, "backup", str(existing))
    assert result.exit_code == 1
    assert "--force" in result.output
    assert existing.read_bytes() == b"keep me"
    assert invoke(app, "backup", str(existing), "--force").exit_code == 0
    assert dump(existing) == dump(live)
    result = invoke(app, "backup", str(live), "--force")
    assert result.exit_code == 1
    assert "使用中のデータベースそのもの" in result.output


@pytest.mark.parametrize("kind", ["text", "foreign_sqlite", "unknown_revision", "truncated"])
def test_restore_refuses_what_is_not_our_backup(demo_db, tmp_path, kind):
    app, live = demo_db
    before = dump(live)
    bad = tmp_path / "bad.sqlite"
    if kind == "text":
        bad.write_text("これはデータベースではありません")
        expected = "SQLite のデータベースではありません"
    elif kind == "foreign_sqlite":
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE something (x)")
        conn.commit()
        conn.close()
        expected = "alembic_version がありません"
    elif kind == "unknown_revision":
        assert invoke(app, "backup", str(bad)).exit_code == 0
        conn = sqlite3.connect(bad)
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
        conn.commit()
        conn.close()
        expected = "知らないもの"
    else:
        assert invoke(app, "backup", str(bad)).exit_code == 0
        data = bad.read_bytes()
        bad.write_bytes(data[: len(data) // 3])
        expected = bad.name
    result = invoke(app, "restore", str(bad), "--yes")
    assert result.exit_code == 1, result.output
    assert expected in result.output
    assert dump(live) == before


def test_postgresql_gets_the_pg_dump_and_pg_restore_commands(tmp_path):
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://consult:secret@db.internal:5433/consult",
            "SECRET_KEY": "test",
            "TESTING": True,
        }
    )
    for command in (backup, restore):
        if command.name not in app.cli.commands:
            app.cli.add_command(command)
    out = tmp_path / "x.dump"
    result = app.test_cli_runner().invoke(args=["backup", str(out)])
    assert result.exit_code == 1
    assert f"pg_dump --format=custom -h db.internal -p 5433 -U consult --file {out} consult" in result.output
    assert "secret" not in result.output
    assert not out.exists()
    out.write_bytes(b"x")
    result = app.test_cli_runner().invoke(args=["restore", str(out), "--yes"])
    assert result.exit_code == 1
    assert "pg_restore --clean --if-exists --no-owner --single-transaction" in result.output
    assert "--dbname consult" in result.output
