"""Headquarters' weighing of opinions and the publication of the answer table; each flushes, the request commits."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select

from consult.answers.models import DISPOSITIONS, Answer, Opinion
from consult.audit.models import register_actions
from consult.audit.operations import record_object
from consult.core.errors import ConflictError, DomainError
from consult.extensions import db
from consult.letters.models import Campaign, Letter, RequestItem, RequestItemOpinion
from consult.rounds.models import Round

register_actions(
    {
        "disposition_set": "対応・本部の考え方の記入",
        "request_link_changed": "要請項目との対応づけ",
        "answers_published": "回答表の公開",
        "answers_unpublished": "回答表の公開取り消し",
    }
)

HQ_VIEW_LIMIT = 10_000
STALE_MESSAGE = (
    "この意見の対応は、あなたが画面を開いた後に別の方が変更しました。あなたの入力内容は消えていません。"
    "下に表示した保存済みの内容と見比べてから、もう一度保存してください。"
)


def disposition_token(disposition: str | None, hq_view: str) -> str:
    """A short fingerprint of what is stored, carried by the form to notice someone else's save."""
    return hashlib.sha256(f"{disposition or ''}\x00{hq_view or ''}".encode()).hexdigest()[:20]


def opinion_of_round(round_id: int, opinion_id: int, lock: bool = False) -> Opinion | None:
    """A submitted opinion of this round, locked for update when asked (PostgreSQL; SQLite's POSTs are serial)."""
    stmt = (
        select(Opinion)
        .join(Answer, Answer.id == Opinion.answer_id)
        .where(
            Opinion.id == opinion_id,
            Answer.round_id == round_id,
            Answer.status == "submitted",
            Answer.no_opinion.is_(False),
        )
    )
    if lock:
        stmt = stmt.with_for_update(of=Opinion)
    return db.session.scalars(stmt).first()


def set_disposition(
    opinion: Opinion, disposition: str | None, hq_view: str, user, now: datetime, expected: str | None = None
) -> Opinion:
    """Record HQ's 対応 and 本部の考え方, refusing a save built on what another staff member has since changed."""
    disposition = disposition or None
    if disposition is not None and disposition not in DISPOSITIONS:
        raise DomainError("対応は一覧から選んでください。")
    if len(hq_view) > HQ_VIEW_LIMIT:
        raise DomainError(f"本部の考え方は{HQ_VIEW_LIMIT:,}文字以内で入力してください（現在 {len(hq_view):,} 文字）。")
    if expected is not None and expected != disposition_token(opinion.disposition, opinion.hq_view):
        raise ConflictError(STALE_MESSAGE, current=opinion)
    # Opinion has no columns for who and when; user and now are taken so an audit trail can be added here.
    opinion.disposition = disposition
    opinion.hq_view = hq_view
    # Headquarters answers the wording it sees now (a branch's later change is flagged until it answers again).
    opinion.answered_revision = opinion.revision if opinion.is_answered else None
    record_object("disposition_set", opinion, DISPOSITIONS.get(disposition, "未記入"), user=user, now=now)
    db.session.flush()
    return opinion


def request_item_of_round(round_id: int, request_item_id: int) -> RequestItem | None:
    """A request item of a letter whose campaign is built on this round."""
    stmt = (
        select(RequestItem)
        .join(Letter, Letter.id == RequestItem.letter_id)
        .join(Campaign, Campaign.id == Letter.campaign_id)
        .where(RequestItem.id == request_item_id, Campaign.round_id == round_id)
    )
    return db.session.scalars(stmt).first()


def link_request_item(round_: Round, opinion: Opinion, request_item_id: int, *, user, now: datetime) -> bool:
    """Record that a request item takes the opinion up; False when the link existed already."""
    if request_item_of_round(round_.id, request_item_id) is None:
        raise DomainError("選んだ要請項目はこの討議の要請書にありません。一覧から選び直してください。")
    exists = db.session.get(RequestItemOpinion, (request_item_id, opinion.id))
    if exists is not None:
        return False
    db.session.add(RequestItemOpinion(request_item_id=request_item_id, opinion_id=opinion.id))
    record_object("request_link_changed", opinion, f"要請項目#{request_item_id}と対応づけ", user=user, now=now)
    db.session.flush()
    return True


def unlink_request_items(opinion: Opinion, request_item_ids: list[int], *, user, now: datetime) -> int:
    """Remove links chosen on the form; returns how many went."""
    if not request_item_ids:
        return 0
    record_object(
        "request_link_changed", opinion, f"要請項目{len(request_item_ids)}件との対応づけを解除", user=user, now=now
    )
    result = db.session.execute(
        delete(RequestItemOpinion).where(
            RequestItemOpinion.opinion_id == opinion.id, RequestItemOpinion.request_item_id.in_(request_item_ids)
        )
    )
    db.session.flush()
    return result.rowcount or 0


def publish_answers(round_: Round, now: datetime, *, user) -> None:
    """Let the target branches read the answer table from now on."""
    if round_.status == "draft":
        raise DomainError("準備中の討議の回答表は公開できません。")
    round_.answers_published_at = now
    record_object("answers_published", round_, user=user, now=now)
    db.session.flush()


def unpublish_answers(round_: Round, *, user, now: datetime) -> None:
    """Take the answer table back from the branches (for a correction)."""
    round_.answers_published_at = None
    record_object("answers_unpublished", round_, user=user, now=now)
    db.session.flush()
