"""Writing the audit log; record() flushes, the request's commit carries the line with the change.

Who and when come from the caller; where from (the client address) is a property of the request's unit of
work, noted on the session by core.transaction. Nothing here looks at the logged-in user, the request or the
clock.
"""

from __future__ import annotations

from datetime import datetime

from consult.audit.models import ACTIONS, AuditEvent
from consult.core.i18n import in_app_language
from consult.extensions import db

SUMMARY_LIMIT = 500


def record(
    user,
    action: str,
    obj_kind: str,
    obj_id: int | None,
    summary: str,
    round_id: int | None = None,
    details: dict | None = None,
    *,
    now: datetime,
) -> AuditEvent:
    """Add one line to the log in the current transaction, so the change and its line land together or not at all."""
    summary = summary if len(summary) <= SUMMARY_LIMIT else summary[:SUMMARY_LIMIT] + "…"
    event = AuditEvent(
        at=now,
        user_id=getattr(user, "id", None),
        action=action,
        object_kind=obj_kind,
        object_id=obj_id,
        round_id=round_id,
        summary=summary,
        details=details or {},
        address=db.session.info.get("client_address"),
    )
    db.session.add(event)
    db.session.flush()
    return event


def record_object(action: str, obj, note: str = "", *, user, now: datetime) -> AuditEvent:
    """record() for a model object, described by its own audit_subject()."""
    subject = obj.audit_subject()
    label, note = in_app_language(ACTIONS.get(action, action)), in_app_language(note)
    summary = f"{label}: {subject.words}" + (f"（{note}）" if note else "")
    return record(
        user, action, subject.kind, subject.id, summary, round_id=subject.round_id, details=subject.details, now=now
    )
