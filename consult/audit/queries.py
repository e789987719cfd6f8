"""Reading the audit log: the admin's filters, one page of lines, and which objects named on it still exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, inspect, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from consult.audit.models import KINDS, AuditEvent
from consult.core import clock
from consult.extensions import db


@dataclass
class AuditFilter:
    """What the admin narrowed the log to; dates are Japan dates, both ends included."""

    user_id: int | None = None
    action: str = ""
    object_kind: str = ""
    round_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""


def _user_model():
    """The model behind AuditEvent.user, reached through the relationship so the log imports no feature."""
    return inspect(AuditEvent).relationships["user"].mapper.class_


def user_id_of(login: str) -> int | None:
    """The id of the user with this login, for the filter."""
    user = _user_model()
    return db.session.scalar(select(user.id).where(user.login == login))


def _jst_start(day: date) -> datetime:
    return clock.from_jst(datetime.combine(day, time.min))


def filtered(criteria: AuditFilter) -> Select:
    """The log narrowed by every filter given, newest first."""
    stmt = select(AuditEvent)
    if criteria.user_id:
        stmt = stmt.where(AuditEvent.user_id == criteria.user_id)
    if criteria.action:
        stmt = stmt.where(AuditEvent.action == criteria.action)
    if criteria.object_kind:
        stmt = stmt.where(AuditEvent.object_kind == criteria.object_kind)
    if criteria.round_id:
        stmt = stmt.where(AuditEvent.round_id == criteria.round_id)
    if criteria.date_from:
        stmt = stmt.where(AuditEvent.at >= _jst_start(criteria.date_from))
    if criteria.date_to:
        stmt = stmt.where(AuditEvent.at < _jst_start(criteria.date_to + timedelta(days=1)))
    text = criteria.text.strip()
    if text:
        user = _user_model()
        matching_users = select(user.id).where(
            or_(user.name.icontains(text, autoescape=True), user.login.icontains(text, autoescape=True))
        )
        stmt = stmt.where(
            or_(AuditEvent.summary.icontains(text, autoescape=True), AuditEvent.user_id.in_(matching_users))
        )
    return stmt


def page_of_events(criteria: AuditFilter, page: int, size: int) -> tuple[list[AuditEvent], int]:
    """One page of the filtered log with each user's organisation loaded, and the total count: two queries."""
    stmt = filtered(criteria)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    user = _user_model()
    rows = (
        db.session.scalars(
            stmt.options(joinedload(AuditEvent.user).joinedload(user.organization))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(size)
            .offset((page - 1) * size)
        )
        .unique()
        .all()
    )
    return list(rows), total


def existing_ids(events: list[AuditEvent]) -> dict[str, set[int]]:
    """Which of the objects named on the page still exist, in one query, so links never lead to a 404."""
    models = {name: kind.model for name, kind in KINDS.items() if kind.model is not None and kind.link is not None}
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.object_kind in models and event.object_id is not None:
            wanted.setdefault(event.object_kind, set()).add(event.object_id)
        if event.round_id is not None and "round" in models:
            wanted.setdefault("round", set()).add(event.round_id)
    found: dict[str, set[int]] = {kind: set() for kind in wanted}
    if wanted:
        checks = [
            select(literal(kind).label("kind"), models[kind].id.label("id")).where(models[kind].id.in_(ids))
            for kind, ids in sorted(wanted.items())
        ]
        for kind, obj_id in db.session.execute(union_all(*checks)):
            found[kind].add(obj_id)
    return found


def link_of(event: AuditEvent, exists: dict[str, set[int]]) -> str | None:
    """Where the object of a line can be seen, if it still exists; else its round's page, if that exists."""
    kind = KINDS.get(event.object_kind)
    if kind is not None and kind.link is not None and event.object_id in exists.get(event.object_kind, set()):
        return kind.link(event.object_id, event)
    rounds = KINDS.get("round")
    if event.round_id is not None and event.round_id in exists.get("round", set()) and rounds and rounds.link:
        return rounds.link(event.round_id, event)
    return None
