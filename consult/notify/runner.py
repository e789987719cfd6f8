"""`consult notify`: queue the reminders that are due, then send the notices that are due, and exit (or loop).

Two runners at once never send one notice twice. A runner claims a batch in a short transaction of its own
(PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, so the other runner skips those rows; SQLite: BEGIN IMMEDIATE,
so claims queue behind each other), writes its name and a claim expiry on the rows, commits, then sends, then
marks each row sent or failed (only rows it still holds). A runner killed mid-batch leaves its claim to
expire (models.CLAIM_TIME): those notices are sent later, at most once more.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from consult.core.clock import app_now
from consult.extensions import db
from consult.notify import operations as ops
from consult.notify.delivery import Connection, Outgoing, PermanentFailure, TemporaryFailure, build_message, settings
from consult.notify.models import CLAIM_TIME, KINDS, RETRY_DELAYS, Notice

BATCH = 200


@dataclass
class Report:
    reminded: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def runner_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"


def queue_reminders() -> int:
    """Queue the reminders due now (rounds' deadlines, visits tomorrow, answers overdue), committed; a concurrent
    runner that did them first wins (unique keys)."""
    now = app_now()
    db.session.rollback()
    db.session.connection(execution_options={"begin_immediate": True})  # SQLite: the write lock first
    try:
        count = ops.send_due_reminders(now)
        count += ops.visit_reminders(now) + ops.overdue_notices(now)  # the follow-up's, once each
        ops.cancel_stale_reminders(now)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another runner recorded the same organisation and step first
        count = 0
    return count


def claim(name: str, limit: int = BATCH) -> list[Outgoing]:
    """Take up to `limit` due notices for this runner, in a transaction of their own."""
    now = app_now()
    table = Notice.__table__
    with db.engine.connect() as conn:
        conn = conn.execution_options(begin_immediate=True)  # SQLite: BEGIN IMMEDIATE (consult/__init__.py)
        with conn.begin():
            stmt = (
                select(table.c.id)
                .where(
                    table.c.status == "pending",
                    table.c.due_at <= now,
                    or_(table.c.claimed_until.is_(None), table.c.claimed_until < now),
                )
                .order_by(table.c.due_at, table.c.id)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            ids = list(conn.scalars(stmt))
            if not ids:
                return []
            conn.execute(
                update(table).where(table.c.id.in_(ids)).values(claimed_by=name, claimed_until=now + CLAIM_TIME)
            )
            rows = conn.execute(
                select(
                    table.c.id,
                    table.c.kind,
                    table.c.user_id,
                    table.c.address,
                    table.c.subject,
                    table.c.body,
                    table.c.link,
                )
                .where(table.c.id.in_(ids))
                .order_by(table.c.id)
            ).all()
    base = settings(current_app.config)["BASE_URL"]
    found = []
    for row in rows:
        token = ops.unsubscribe_token(Notice(user_id=row.user_id, address=row.address, kind=row.kind))
        found.append(
            Outgoing(
                id=row.id,
                kind=row.kind,
                address=row.address,
                subject=row.subject,
                body=row.body,
                link=row.link,
                unsubscribe_url=f"{base}/notices/unsubscribe?t={token}",
                kind_label=str(KINDS[row.kind]),
            )
        )
    return found


def _mark(name: str, outcomes: list[tuple[int, str, str | None, int]]) -> None:
    """Write what happened to each claimed notice: (id, "sent" | "retry" | "failed", error, attempts so far)."""
    now = app_now()
    table = Notice.__table__
    with db.engine.connect() as conn:
        conn = conn.execution_options(begin_immediate=True)
        with conn.begin():
            for notice_id, outcome, error, attempts in outcomes:
                mine = and_(table.c.id == notice_id, table.c.claimed_by == name)
                values: dict = {"claimed_by": None, "claimed_until": None, "attempts": attempts + 1}
                if outcome == "sent":
                    values.update(status="sent", sent_at=now, error=None)
                elif outcome == "retry" and attempts < len(RETRY_DELAYS):
                    values.update(due_at=now + RETRY_DELAYS[attempts], error=error)
                else:
                    values.update(status="failed", error=error)
                conn.execute(update(table).where(mine).values(**values))


def send_batch(name: str, items: list[Outgoing], report: Report) -> None:
    config = settings(current_app.config)
    attempts = dict(
        db.session.execute(select(Notice.id, Notice.attempts).where(Notice.id.in_([i.id for i in items]))).all()
    )
    db.session.rollback()
    connection = Connection(config)
    outcomes = []
    server_down = None
    try:
        for item in items:
            if server_down is not None:  # the server did not answer: the rest of the batch waits too
                outcomes.append((item.id, "retry", server_down, attempts.get(item.id, 0)))
                report.retried += 1
                continue
            try:
                connection.send(build_message(item, config, app_now()))
            except PermanentFailure as exc:
                outcomes.append((item.id, "failed", str(exc)[:2000], attempts.get(item.id, 0)))
                report.failed += 1
            except TemporaryFailure as exc:
                outcomes.append((item.id, "retry", str(exc)[:2000], attempts.get(item.id, 0)))
                report.retried += 1
                if connection.smtp is None:
                    server_down = str(exc)[:2000]
            else:
                outcomes.append((item.id, "sent", None, attempts.get(item.id, 0)))
                report.sent += 1
    finally:
        connection.close()
        _mark(name, outcomes)


def run_once(name: str | None = None, limit: int | None = None) -> Report:
    """Everything due now: reminders queued, then notices sent in batches until none is due (or `limit`)."""
    name = name or runner_name()
    report = Report(reminded=queue_reminders())
    done = 0
    while limit is None or done < limit:
        try:
            items = claim(name, BATCH if limit is None else min(BATCH, limit - done))
        except OperationalError as exc:  # a locked database: the next pass tries again
            report.errors.append(str(exc.orig))
            break
        if not items:
            break
        send_batch(name, items, report)
        done += len(items)
        if report.retried and not report.sent:
            break  # the server is down: wait for the next run rather than spin
    return report


def run_forever(interval: float, echo=print) -> None:
    """`consult notify --loop`: a pass every `interval` seconds until stopped (SIGTERM / Ctrl-C)."""
    name = runner_name()
    while True:
        report = run_once(name)
        if report.sent or report.failed or report.retried or report.reminded:
            echo(_summary(report))
        db.session.remove()
        time.sleep(interval)


def _summary(report: Report) -> str:
    return f"督促 {report.reminded}組織・送信 {report.sent}件・再試行待ち {report.retried}件・失敗 {report.failed}件"
