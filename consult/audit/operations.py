"""Writing and reading the audit log; record() flushes, the request's commit carries the line with the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import has_request_context, request
from sqlalchemy import Select, func, literal, or_, select, union_all
from sqlalchemy.orm import joinedload

from consult import clock
from consult.audit.models import ACTIONS, AuditEvent
from consult.auth.models import User
from consult.extensions import db

SUMMARY_LIMIT = 500


def _acting_user(user):
    """The user passed in, or the logged-in user of the request when an operation has none at hand."""
    if user is not None:
        return user
    if has_request_context():
        from flask_login import current_user

        if current_user.is_authenticated:
            return current_user
    return None


def record(user, action: str, obj_kind: str, obj_id: int | None, summary: str, round_id: int | None = None,
           details: dict | None = None, now: datetime | None = None) -> AuditEvent:
    """Add one line to the log in the current transaction, so the change and its line land together or not at all."""
    actor = _acting_user(user)
    summary = summary if len(summary) <= SUMMARY_LIMIT else summary[:SUMMARY_LIMIT] + "…"
    event = AuditEvent(at=now or clock.now(), user_id=getattr(actor, "id", None), action=action,
                       object_kind=obj_kind, object_id=obj_id, round_id=round_id, summary=summary,
                       details=details or {}, address=request.remote_addr if has_request_context() else None)
    db.session.add(event)
    db.session.flush()
    return event


def _describe(obj) -> tuple[str, int | None, int | None, str, dict]:
    """(kind, id, round id, words people recognise, details for the link) of a model object."""
    name = type(obj).__name__
    if name == "Round":
        return "round", obj.id, obj.id, f"討議「{obj.title}」", {}
    if name == "RoundItem":
        return "item", obj.id, obj.round_id, f"項目「{obj.number} {obj.heading}」", {}
    if name == "Attachment":
        return "attachment", obj.id, obj.round_id, f"添付ファイル「{obj.filename}」", {}
    if name == "Milestone":
        return "round", obj.round_id, obj.round_id, f"日程「{obj.date} {obj.meeting}」", {}
    if name == "DeadlineExtension":
        until = clock.format_jst(obj.until)
        words = f"{obj.organization.name}の締切を{until}まで延長（理由: {obj.reason}）"
        return "round", obj.round_id, obj.round_id, words, {"org_id": obj.organization_id}
    if name == "Answer":
        return ("answer", obj.id, obj.round_id, f"{obj.organization.name}の回答", {"org_id": obj.organization_id})
    if name == "Opinion":
        answer = obj.answer
        return ("opinion", obj.id, answer.round_id, f"{answer.organization.name}の意見（#{obj.id}）",
                {"org_id": answer.organization_id})
    if name == "Campaign":
        return "campaign", obj.id, obj.round_id, f"要請行動「{obj.title}」", {}
    if name == "Letter":
        return ("letter", obj.id, obj.campaign.round_id, f"要請書「{obj.title}」", {"campaign_id": obj.campaign_id})
    if name == "RequestItem":
        letter = obj.letter
        text = obj.text if len(obj.text) <= 60 else obj.text[:60] + "…"
        return ("request_item", obj.id, letter.campaign.round_id, f"要請書「{letter.title}」の項目「{text}」",
                {"campaign_id": letter.campaign_id, "letter_id": letter.id})
    if name == "Addressee":
        words = f"要請先「{' '.join(filter(None, (obj.organisation, obj.title)))}」"
        return "addressee", obj.id, obj.campaign.round_id, words, {"campaign_id": obj.campaign_id}
    if name == "LetterTemplate":
        return "template", obj.id, None, f"ひな形「{obj.filename}」", {}
    return type(obj).__name__.lower(), getattr(obj, "id", None), None, str(obj), {}


def record_object(action: str, obj, note: str = "", user=None, now: datetime | None = None) -> AuditEvent:
    """record() for a model object: its kind, id, round and a readable summary worked out from the object."""
    kind, obj_id, round_id, words, details = _describe(obj)
    summary = f"{ACTIONS.get(action, action)}: {words}" + (f"（{note}）" if note else "")
    return record(user, action, kind, obj_id, summary, round_id=round_id, details=details, now=now)


def record_answer(answer, user, action: str, changes: list[dict], now: datetime) -> AuditEvent:
    """The audit line of an answer event (save, submit, no_opinion, withdraw, late), noting on-behalf entry."""
    on_behalf = "、本部による代理入力" if user.organization_id != answer.organization_id else ""
    note = f"変更{len(changes)}件{on_behalf}" if action in ("save", "submit") else on_behalf.lstrip("、")
    return record_object(f"answer_{action}", answer, note, user=user, now=now)


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
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matching_users = select(User.id).where(or_(User.name.ilike(pattern, escape="\\"),
                                                   User.login.ilike(pattern, escape="\\")))
        stmt = stmt.where(or_(AuditEvent.summary.ilike(pattern, escape="\\"),
                              AuditEvent.user_id.in_(matching_users)))
    return stmt


def page_of_events(criteria: AuditFilter, page: int, size: int) -> tuple[list[AuditEvent], int]:
    """One page of the filtered log with each user's organisation loaded, and the total count: two queries."""
    stmt = filtered(criteria)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = db.session.scalars(
        stmt.options(joinedload(AuditEvent.user).joinedload(User.organization))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(size).offset((page - 1) * size)
    ).unique().all()
    return list(rows), total


def existing_ids(events: list[AuditEvent]) -> dict[str, set[int]]:
    """Which of the objects named on the page still exist, in one query, so links never lead to a 404."""
    from consult.letters.models import Addressee, Campaign, Letter
    from consult.opinions.models import Answer
    from consult.rounds.models import Round

    models = {"round": Round, "answer": Answer, "campaign": Campaign, "letter": Letter, "addressee": Addressee,
              "user": User}
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.object_kind in models and event.object_id is not None:
            wanted.setdefault(event.object_kind, set()).add(event.object_id)
        if event.round_id is not None:
            wanted.setdefault("round", set()).add(event.round_id)
    found: dict[str, set[int]] = {kind: set() for kind in wanted}
    if wanted:
        checks = [select(literal(kind).label("kind"), models[kind].id.label("id")).where(models[kind].id.in_(ids))
                  for kind, ids in sorted(wanted.items())]
        for kind, obj_id in db.session.execute(union_all(*checks)):
            found[kind].add(obj_id)
    return found
