"""The `consult` console command: Flask's CLI bound to this app, plus our own commands."""

import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from consult.core.clock import app_now
from consult.core.transaction import commits


def register(app: Flask) -> None:
    """Attach the project's commands to the app's CLI."""
    from consult.backup import backup, restore
    from consult.letters.cli import import_letter_command, letters_command
    from consult.notify.cli import notify_command

    for command in (
        init_db,
        demo,
        create_user,
        reset_password,
        create_token,
        import_orgs,
        import_users,
        letters_command,
        import_letter_command,
        backup,
        restore,
        notify_command,
    ):
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


PASSWORD_ON_COMMAND_LINE = (
    "警告: --password で渡したパスワードは、ps やシェルの履歴から他の人に読まれます。"
    "入力を求める画面か、--password-file（- で標準入力）を使ってください。"
)


def password_options(command):
    """--password-file FILE|- (the first line), and the old --password, which warns."""
    deprecated = "非推奨（ps やシェルの履歴に残ります）。--password-file か入力画面を使ってください"
    command = click.option("--password", default=None, help=deprecated)(command)
    return click.option(
        "--password-file",
        type=click.File("r", encoding="utf-8"),
        default=None,
        help="パスワードをこのファイルの1行目から読む（- で標準入力）",
    )(command)


def given_password(password: str | None, password_file) -> str | None:
    """The password from a file or stdin, typed twice at a terminal, or the old option; None means generate one."""
    if password is not None:
        click.echo(PASSWORD_ON_COMMAND_LINE, err=True)
        return password
    if password_file is not None:
        line = password_file.readline().rstrip("\r\n")
        if not line:
            _fail([f"{password_file.name} の1行目にパスワードがありません。"])
        return line
    if not sys.stdin.isatty():
        return None  # a script without a password: generate one and print it, as before
    typed = click.prompt(
        "パスワード（空のまま Enter で自動生成）", hide_input=True, default="", show_default=False, err=True
    )
    if typed and click.prompt("確認のため、もう一度入力してください", hide_input=True, err=True) != typed:
        _fail(["2回の入力が一致しません。"])
    return typed or None


@click.command("create-user")
@click.argument("login")
@click.option("--name", required=True, help="氏名")
@click.option("--role", required=True, type=click.Choice(["admin", "staff", "member"]), help="役割")
@click.option("--org", "org_code", required=True, help="所属組織のコード（例: hq, pref13）")
@password_options
@with_appcontext
@commits
def create_user(login, name, role, org_code, password, password_file):
    """Add one user; the password is asked for at a terminal, read with --password-file, or generated and printed."""
    from sqlalchemy import select

    from consult.auth import operations as accounts
    from consult.extensions import db
    from consult.orgs.models import Organization

    _require_schema()
    password = given_password(password, password_file)
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


@click.command("reset-password")
@click.argument("login")
@password_options
@with_appcontext
@commits
def reset_password(login, password, password_file):
    """Set a new password for LOGIN (asked for, read with --password-file, or generated); their sessions end."""
    from sqlalchemy import select

    from consult.auth import operations as accounts
    from consult.auth.models import User
    from consult.extensions import db

    _require_schema()
    user = db.session.scalar(select(User).where(User.login == login.strip()))
    if user is None:
        _fail([f"ログインID「{login}」の利用者はいません。"])
    chosen = given_password(password, password_file)
    try:
        new_password = accounts.reset_password(user, None, chosen, now=app_now())
    except accounts.UserError as exc:
        _fail([str(exc)])
    click.echo(
        f"利用者 {user.login}（{user.name}）のパスワードを再設定しました。ログイン中の画面はログアウトされます。"
    )
    if chosen is None:
        click.echo(f"新しいパスワード: {new_password}")


@click.command("create-token")
@click.argument("login")
@click.option("--name", default="コマンドラインで作成", show_default=True, help="トークンの名前（何に使うか）")
@with_appcontext
@commits
def create_token(login, name):
    """Create a personal API token for LOGIN and print it alone on stdout (only its hash is stored)."""
    from sqlalchemy import select

    from consult.auth import operations as accounts
    from consult.auth.models import User
    from consult.extensions import db

    _require_schema()
    user = db.session.scalar(select(User).where(User.login == login.strip()))
    if user is None:
        _fail([f"ログインID {login} の利用者が見つかりません。"])
    if not user.active:
        _fail([f"{user.login} は利用停止中です。トークンを作っても使えません。"])
    try:
        _row, token = accounts.create_token(user, name, now=app_now())
    except accounts.UserError as exc:
        _fail([str(exc)])
    click.echo(token)
    click.echo(f"{user.name}（{user.login}）の API トークン「{name.strip()}」を作成しました。", err=True)


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


# No .env or .flaskenv picked up from the current folder: the environment file is named with -e, as in the units.
@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=True, add_version_option=False, load_dotenv=False
)
@click.version_option(package_name="consult", prog_name="consult", message="%(prog)s %(version)s")
def main():
    """consult: 組織討議・意見集約・要請書の管理。"""
