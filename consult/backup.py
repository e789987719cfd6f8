"""`consult backup FILE` and `consult restore FILE`: SQLite's online backup API, safe while the app runs.

PostgreSQL is backed up with its own tools (pg_dump / pg_restore); for it the commands print the command to use.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.engine import URL, make_url

from consult.core.files import create_private_file, private_folder

SQLITE_MAGIC = b"SQLite format 3\x00"


def _fail(*lines: str) -> None:
    for line in lines:
        click.echo(line, err=True)
    raise SystemExit(1)


def _app_url() -> URL:
    from flask import current_app

    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url: URL) -> Path | None:
    """The app's SQLite file, or None for an in-memory database."""
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return None
    return Path(url.database).resolve()


def pg_commands(url: URL, file: str) -> tuple[str, str]:
    """The pg_dump and pg_restore command lines for the app's PostgreSQL database (no password in them)."""
    conn = []
    if url.host:
        conn += ["-h", url.host]
    if url.port:
        conn += ["-p", str(url.port)]
    if url.username:
        conn += ["-U", url.username]
    name = url.database or ""
    dump = ["pg_dump", "--format=custom", *conn, "--file", file, name]
    restore = [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        *conn,
        "--dbname",
        name,
        file,
    ]
    return shlex.join(dump), shlex.join(restore)


def _refuse_postgresql(url: URL, file: str, restoring: bool) -> None:
    dump, restore = pg_commands(url, file)
    what = "復元" if restoring else "バックアップ"
    _fail(
        f"このコマンドの{what}は SQLite のデータベースだけが対象です。PostgreSQL では次のコマンドを使ってください"
        "（パスワードは ~/.pgpass か環境変数 PGPASSWORD で渡します）。",
        "  " + (restore if restoring else dump),
    )


def _same_file(a: Path, b: Path) -> bool:
    return a.exists() and b.exists() and os.path.samefile(a, b)


def known_revisions() -> set[str]:
    """Every migration revision this version of the app knows."""
    from alembic.script import ScriptDirectory

    from consult import MIGRATIONS_DIR

    return {script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from consult import MIGRATIONS_DIR

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


def _revision_of(conn: sqlite3.Connection) -> str | None:
    """The alembic revision recorded in a database, or None when it has no alembic_version table."""
    has_table = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").fetchone()
    if not has_table:
        return None
    rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    return rows[0][0] if len(rows) == 1 else None


def copy_database(source: Path, target: Path) -> None:
    """Copy one SQLite database into another with the backup API: one read transaction, so a consistent snapshot."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="FILE が既にあれば上書きする")
@with_appcontext
def backup(file: str, force: bool):
    """Copy the SQLite database to FILE while the app keeps running (PostgreSQL: prints the pg_dump command)."""
    url = _app_url()
    if url.get_backend_name() != "sqlite":
        _refuse_postgresql(url, file, restoring=False)
    source = _sqlite_path(url)
    if source is None or not source.exists():
        _fail(f"データベースのファイルが見つかりません: {url.database}")
    if source.stat().st_size == 0:
        _fail("データベースが初期化されていません。先に「consult init-db」を実行してください。")
    target = Path(file).resolve()
    if _same_file(source, target):
        _fail("バックアップ先が、使用中のデータベースそのものです。別のファイル名を指定してください。")
    if target.exists() and not force:
        _fail(f"{file} は既にあります。上書きするときは --force を付けてください。")
    if not target.parent.is_dir():
        _fail(f"保存先のフォルダがありません: {target.parent}")
    partial = target.with_name(target.name + ".part")
    partial.unlink(missing_ok=True)
    create_private_file(partial)  # 600 from the start: it holds password hashes
    try:
        copy_database(source, partial)
        with sqlite3.connect(partial) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            revision = _revision_of(conn)
        conn.close()
        if check != "ok":
            _fail(f"バックアップの検査で問題が見つかりました（{check}）。元のデータベースを確認してください。")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    size = target.stat().st_size
    click.echo(f"バックアップを作成しました: {file}（{size / 1024 / 1024:.1f} MB、スキーマのリビジョン {revision}）")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="確認せずに復元する")
@with_appcontext
def restore(file: str, yes: bool):
    """Replace the SQLite database with a backup made by `consult backup` (PostgreSQL: prints pg_restore)."""
    url = _app_url()
    if url.get_backend_name() != "sqlite":
        _refuse_postgresql(url, file, restoring=True)
    target = _sqlite_path(url)
    if target is None:
        _fail("メモリ上のデータベースには復元できません。DATABASE_URL にファイルを指定してください。")
    source = Path(file).resolve()
    if _same_file(source, target):
        _fail("復元するファイルが、使用中のデータベースそのものです。")
    revision = check_backup(source)
    if not yes:
        click.confirm(f"現在のデータベース（{target}）の内容を {file} の内容で置き換えます。よろしいですか", abort=True)
    from consult.extensions import db

    db.engine.dispose()  # this process holds no connection while the file is replaced
    private_folder(target.parent)
    if not target.exists():
        create_private_file(target)
    target.chmod(0o600)  # -wal and -shm follow the database file's mode
    copy_database(source, target)
    with sqlite3.connect(target) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    click.echo(f"{file} から復元しました（スキーマのリビジョン {revision}）。")
    if revision != head_revision():
        click.echo("このバックアップは古いスキーマです。「consult init-db」を実行して最新にしてください。")
    click.echo("動いているアプリ（gunicorn など）を再起動してください。")


def check_backup(path: Path) -> str:
    """Refuse anything but an intact SQLite database of this app at a known revision; return the revision."""
    with open(path, "rb") as handle:
        if handle.read(16) != SQLITE_MAGIC:
            _fail(
                f"{path.name} は SQLite のデータベースではありません。",
                "consult backup で作ったファイルを指定してください。",
            )
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            revision = _revision_of(conn)
        except sqlite3.DatabaseError as exc:
            _fail(f"{path.name} を読み取れません（{exc}）。ファイルが壊れている可能性があります。")
    finally:
        conn.close()
    if check != "ok":
        _fail(f"{path.name} は壊れています（{check}）。別のバックアップを指定してください。")
    if revision is None:
        _fail(f"{path.name} はこのアプリのデータベースではありません（alembic_version がありません）。")
    if revision not in known_revisions():
        _fail(
            f"{path.name} のスキーマのリビジョン {revision} は、このバージョンのアプリが知らないものです。"
            "より新しいバージョンで作られたバックアップかもしれません。"
        )
    return revision
