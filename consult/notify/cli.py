"""`consult notify`: send the notices (and reminders) that are due now, once or in a loop."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from consult.notify import runner


@click.command("notify")
@click.option("--loop", is_flag=True, help="終了せずに送り続ける（コンテナ用）")
@click.option("--interval", default=30.0, show_default=True, help="--loop のときの間隔（秒）")
@with_appcontext
def notify_command(loop: bool, interval: float):
    """期限の来た通知・督促を送信して終了する（cron・systemd タイマー用）。"""
    if loop:
        runner.run_forever(interval, echo=click.echo)
        return
    report = runner.run_once()
    click.echo(runner._summary(report))
    for error in report.errors:
        click.echo(error, err=True)
