"""Headquarters' weighing of opinions and the publication of the answer table; each flushes, the request commits."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consult.answers.models import DISPOSITIONS, Answer, Opinion
from consult.answers.queries import counted
from consult.audit.models import register_actions
from consult.audit.operations import record_object
from consult.core.errors import ConflictError, DomainError
from consult.extensions import db
from consult.letters import operations as letters
from consult.letters.models import RequestItem
from consult.review import groups, signals
from consult.rounds.models import Round

register_actions(
    {
        "disposition_set": _l("対応・本部の考え方の記入"),
        "answers_published": _l("回答表の公開"),
        "answers_unpublished": _l("回答表の公開取り消し"),
    }
)
STALE_MESSAGE = _l(
    "この意見の対応は、あなたが画面を開いた後に別の方が変更しました。あなたの入力内容は消えていません。"
    "下に表示した保存済みの内容と見比べてから、もう一度保存してください。"
)


def disposition_token(disposition: str | None, hq_view: str) -> str:
    """A short fingerprint of what is stored, carried by the form to notice someone else's save."""
    return hashlib.sha256(f"{disposition or ''}\x00{hq_view or ''}".encode()).hexdigest()[:20]


def opinion_of_round(round_id: int, opinion_id: int, lock: bool = False) -> Opinion | None:
    """A submitted opinion of this round, locked for update when asked (PostgreSQL; SQLite's POSTs are serial)."""
    stmt = select(Opinion).join(Answer, counted(round_id)).where(Opinion.id == opinion_id)
    if lock:
        stmt = stmt.with_for_update(of=Opinion)
    return db.session.scalars(stmt).first()


def set_disposition(
    opinion: Opinion, disposition: str | None, hq_view: str, user, now: datetime, expected: str | None = None
) -> Opinion:
    """Record HQ's 対応 and 本部の考え方, refusing a save built on what another staff member has since changed."""
    disposition = disposition or None
    if disposition is not None and disposition not in DISPOSITIONS:
        raise DomainError(_("対応は一覧から選んでください。"))
    groups.check_merged(opinion, disposition)
    if expected is not None and expected != disposition_token(opinion.disposition, opinion.hq_view):
        raise ConflictError(STALE_MESSAGE, current=opinion)
    # Opinion has no columns for who and when; user and now are taken so an audit trail can be added here.
    opinion.disposition = disposition
    opinion.hq_view = hq_view
    opinion.answer_version = (opinion.answer_version or 0) + 1  # a bulk answer read before this refuses it
    # Headquarters answers the wording it sees now (a branch's later change is flagged until it answers again).
    opinion.answered_revision = opinion.revision if opinion.is_answered else None
    record_object("disposition_set", opinion, DISPOSITIONS.get(disposition, "未記入"), user=user, now=now)
    db.session.flush()
    return opinion


def link_request_item(opinion: Opinion, request_item_id: int, *, user, now: datetime) -> bool:
    """Take the opinion up in a request item (through letters.link_opinions, the one writer of the link)."""
    item = db.session.get(RequestItem, request_item_id)
    if item is None:
        raise DomainError(_("選んだ要請項目はこの討議の要請書にありません。一覧から選び直してください。"))
    return letters.link_opinions(item, [opinion.id], user=user, now=now) > 0


def unlink_request_items(opinion: Opinion, request_item_ids: list[int], *, user, now: datetime) -> int:
    """Remove the links to the request items chosen on the form; how many went."""
    items = (
        db.session.scalars(select(RequestItem).where(RequestItem.id.in_(request_item_ids))).all()
        if request_item_ids
        else []
    )
    return sum(letters.unlink_opinion(item, opinion, user=user, now=now) for item in items)


def publish_answers(round_: Round, now: datetime, *, user) -> None:
    """Let the target branches read the answer table from now on."""
    if round_.status == "draft":
        raise DomainError(_("準備中の討議の回答表は公開できません。"))
    round_.answers_published_at = now
    record_object("answers_published", round_, user=user, now=now)
    db.session.flush()
    signals.answers_published.send(round_, user=user, now=now)


def unpublish_answers(round_: Round, *, user, now: datetime) -> None:
    """Take the answer table back from the branches (for a correction)."""
    round_.answers_published_at = None
    record_object("answers_unpublished", round_, user=user, now=now)
    db.session.flush()
