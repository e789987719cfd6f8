"""The `consult` console command: Flask's CLI bound to this app, plus our own commands."""

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext


def register(app: Flask) -> None:
    """Attach the project's commands to the app's CLI."""
    app.cli.add_command(init_db)


@click.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the schema to the newest migration."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("データベースを最新の状態にしました。")


def _create_app():
    from consult import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main():
    """consult: 組織討議・意見集約・要請書の管理。"""
