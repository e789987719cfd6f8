"""The `consult` console command: Flask's CLI bound to this app, plus our own commands."""

from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from consult.core.clock import app_now
from consult.core.transaction import commits


def register(app: Flask) -> None:
    """Attach the project's commands to the app's CLI."""
    from consult.backup import backup, restore
    from consult.letters.cli import letters_command

    for command in (init_db, demo, create_user, import_orgs, import_users, letters_command, backup, restore):
        app.cli.add_command(command)


def _upgrade() -> None:
    from flask_migrate import upgrade

    upgrade()


def _fail(messages: list[str]) -> None:
    """Print what is wrong, one line each, and exit with status 1 having written nothing (@commits rolls back)."""
    for message in messages:
        click.echo(message, err=True)
    click.echo("何も登録していません。誤りを直してから、もう一度実行してください。", err=True)
    raise SystemExit(1)


def _require_schema() -> None:
    """Commands that write users or organisations need the tables; say how to create them."""
    from sqlalchemy import inspect

    from consult.extensions import db

    if not inspect(db.engine).has_table("organization"):
        click.echo("データベースが初期化されていません。先に「consult init-db」を実行してください。", err=True)
        raise SystemExit(1)


def _read_rows(path: str, columns: tuple[str, ...]):
    from consult.core.csvfile import read_records
    from consult.core.errors import RowErrors

    try:
        return read_records(Path(path).read_bytes(), columns)
    except RowErrors as exc:
        _fail(exc.errors)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the schema to the newest migration."""
    _upgrade()
    click.echo("データベースを最新の状態にしました。")


@click.command("demo")
@with_appcontext
@commits
def demo():
    """Create the schema if needed and load the demo organisations, users and rounds (safe to run again)."""
    from consult.demo import load_demo

    _upgrade()
    result = load_demo(app_now())
    created = result.created
    if any(created.values()):
        click.echo(
            f"デモデータを登録しました（組織 {created['organizations']}件、利用者 {created['users']}件、"
            f"討議 {created['rounds']}件）。"
        )
    else:
        click.echo("デモデータは登録済みです。変更はありません。")
    click.echo("デモ用のログイン（ログインID / パスワード）:")
    for login, password, who in result.logins:
        click.echo(f"  {login} / {password}  … {who}")


@click.command("create-user")
@click.argument("login")
@click.option("--name", required=True, help="氏名")
@click.option("--role", required=True, type=click.Choice(["admin", "staff", "member"]), help="役割")
@click.option("--org", "org_code", required=True, help="所属組織のコード（例: hq, pref13）")
@click.option("--password", default=None, help="初期パスワード（省略すると生成して表示します）")
@with_appcontext
@commits
def create_user(login, name, role, org_code, password):
    """Add one user; without --password a password is generated and printed."""
    from sqlalchemy import select

    from consult.auth import operations as accounts
    from consult.extensions import db
    from consult.orgs.models import Organization

    _require_schema()
    errors = accounts.check_new_user(login, name.strip(), role, org_code, password=password or "")
    if errors:
        _fail(errors)
    generated = None if password else accounts.generate_password()
    organization = db.session.scalar(select(Organization).where(Organization.code == org_code))
    user = accounts.create_user(
        login, name.strip(), password or generated, role, organization, admin=None, now=app_now()
    )
    click.echo(f"利用者 {user.login}（{user.name}、{user.role_label}、{organization.name}）を登録しました。")
    if generated:
        click.echo(f"初期パスワード: {generated}")


@click.command("import-orgs")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
@commits
def import_orgs(file):
    """Create or update organisations from a CSV: code, name, kind (hq/prefecture/local/council), parent_code."""
    from consult.core.errors import RowErrors
    from consult.orgs.operations import ORG_COLUMNS
    from consult.orgs.operations import import_orgs as run

    _require_schema()
    rows = _read_rows(file, ORG_COLUMNS)
    try:
        summary = run(rows)
    except RowErrors as exc:
        _fail(exc.errors)
    click.echo(
        f"組織を取り込みました（新規 {len(summary.created)}件、更新 {len(summary.updated)}件、"
        f"変更なし {len(summary.unchanged)}件）。"
    )


@click.command("import-users")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
@commits
def import_users(file):
    """Create users from a CSV: login, name, role, org_code, email, password (empty → generated and printed)."""
    from consult.auth.operations import USER_COLUMNS
    from consult.auth.operations import import_users as run
    from consult.core.errors import RowErrors

    _require_schema()
    rows = _read_rows(file, USER_COLUMNS)
    try:
        created = run(rows, now=app_now())
    except RowErrors as exc:
        _fail(exc.errors)
    click.echo(f"利用者を{len(created)}件登録しました。")
    generated = [(user.login, password) for user, password in created if password]
    if generated:
        click.echo("生成した初期パスワード（ログインID / パスワード）:")
        for login, password in generated:
            click.echo(f"  {login} / {password}")


def _create_app():
    from consult import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main():
    """consult: 組織討議・意見集約・要請書の管理。"""
