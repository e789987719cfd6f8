"""Answering many opinions at once: one 対応 and 本部の考え方 for a selection, answer templates (定型文), and the
headquarters staff member each opinion is assigned to. Each flushes; the request commits.

A bulk answer is a few atomic UPDATEs (chunks of CHUNK ids, one per answer version read), never a load of every
row: `UPDATE opinion SET … , answer_version = answer_version + 1 WHERE id IN (…) AND answer_version = :seen`.
A row changed by someone else since the page (or the client) read it fails the WHERE and is reported as
refused, the others are written. The full-text index of 本部の考え方 follows in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from consult.answers.models import DISPOSITIONS, TEXT_LIMIT, Answer, Opinion
from consult.answers.queries import counted
from consult.audit.models import register_actions
from consult.audit.operations import record, record_object
from consult.auth.models import User
from consult.core.errors import ConflictError, DomainError
from consult.core.text import is_forbidden
from consult.extensions import db
from consult.review.groups import MERGED
from consult.review.models import TEMPLATE_NAME_LENGTH, TEMPLATES_PER_ROUND, AnswerTemplate, OpinionGroupMember
from consult.review.search import ANSWER, INDEX
from consult.rounds.models import Round

BULK_LIMIT = 5000  # opinions one bulk answer or assignment may name (a whole item of a large round)
CHUNK = 500  # ids per statement: far below every database's limit of bound parameters
REFUSED_CHANGED = "changed"  # someone saved this opinion's answer after it was read
REFUSED_UNKNOWN = "unknown"  # not a submitted opinion of this round
REFUSED_UNGROUPED = "ungrouped"  # 統合 names a kept group (論点), and this opinion is in none
REFUSED_REASONS = {
    REFUSED_CHANGED: _l("画面を開いた後に別の方が対応を変更しました"),
    REFUSED_UNKNOWN: _l("この討議の提出済みの意見ではありません"),
    REFUSED_UNGROUPED: _l("論点にまとめられていないため「統合」にできません"),
}

register_actions(
    {
        "bulk_answered": _l("対応・本部の考え方の一括記入"),
        "opinions_assigned": _l("担当者の割り当て"),
    }
)


@dataclass
class BulkResult:
    """What a bulk step wrote and what it refused, by opinion id."""

    updated: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)  # opinion id → REFUSED_* reason

    def refused_labels(self) -> list[tuple[int, str]]:
        return [(i, str(REFUSED_REASONS[reason])) for i, reason in sorted(self.refused.items())]


def _chunks(ids: list[int]):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _checked_ids(opinion_ids) -> list[int]:
    ids = list(dict.fromkeys(opinion_ids))
    if not ids:
        raise DomainError(_("意見を1件以上選んでください。"))
    if len(ids) > BULK_LIMIT:
        raise DomainError(
            _("一度に選べる意見は%(limit)s件までです。絞り込んでから選んでください。", limit=f"{BULK_LIMIT:,}")
        )
    return ids


def round_versions(round_id: int, opinion_ids: list[int]) -> dict[int, int]:
    """The answer version of each named opinion that is a submitted opinion of the round, in chunked queries."""
    found: dict[int, int] = {}
    for chunk in _chunks(opinion_ids):
        stmt = select(Opinion.id, Opinion.answer_version).join(Answer, counted(round_id)).where(Opinion.id.in_(chunk))
        found.update((i, v) for i, v in db.session.execute(stmt))
    return found


def _expire(opinion_ids) -> None:
    """Objects of the session loaded before the UPDATE read the new values next time."""
    wanted = set(opinion_ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Opinion) and obj.id in wanted:
            db.session.expire(obj)


def _grouped(opinion_ids: list[int]) -> set[int]:
    """The named opinions that are in a kept group (論点), in chunked queries."""
    found: set[int] = set()
    for chunk in _chunks(opinion_ids):
        stmt = select(OpinionGroupMember.opinion_id).where(OpinionGroupMember.opinion_id.in_(chunk))
        found.update(db.session.scalars(stmt))
    return found


def check_answer(disposition: str | None, hq_view: str) -> None:
    """The rules of one 対応 and 本部の考え方, whoever writes them."""
    if disposition is not None and disposition not in DISPOSITIONS:
        raise DomainError(_("対応は一覧から選んでください。"))
    if len(hq_view) > TEXT_LIMIT:
        raise DomainError(_("本部の考え方は%(limit)s文字以内で入力してください。", limit=f"{TEXT_LIMIT:,}"))
    if any(is_forbidden(ch) for ch in hq_view):
        raise DomainError(_("本部の考え方に使えない文字が含まれています。"))


def bulk_answer(
    round_: Round,
    opinion_ids,
    disposition: str | None,
    hq_view: str,
    *,
    user,
    now: datetime,
    seen: dict[int, int] | None = None,
) -> BulkResult:
    """Give every named opinion the same 対応 and 本部の考え方 in a few UPDATEs.

    `seen` maps opinion ids to the answer version the caller read; an opinion changed since is refused. Without
    `seen` the version read here is the one checked, so only a save racing this very request is refused.
    """
    disposition = disposition or None
    hq_view = hq_view or ""
    check_answer(disposition, hq_view)
    ids = _checked_ids(opinion_ids)
    current = round_versions(round_.id, ids)
    grouped = _grouped(list(current)) if disposition == MERGED else set(current)
    result = BulkResult()
    expected: dict[int, list[int]] = defaultdict(list)
    for opinion_id in ids:
        if opinion_id not in current:
            result.refused[opinion_id] = REFUSED_UNKNOWN
            continue
        if opinion_id not in grouped:  # the same rule as one answer's (review.groups.check_merged)
            result.refused[opinion_id] = REFUSED_UNGROUPED
            continue
        version = current[opinion_id] if seen is None or opinion_id not in seen else seen[opinion_id]
        expected[version].append(opinion_id)
    answered = disposition is not None or bool(hq_view)
    for version, group in expected.items():
        for chunk in _chunks(group):
            stmt = (
                update(Opinion)
                .where(Opinion.id.in_(chunk), Opinion.answer_version == version)
                .values(
                    disposition=disposition,
                    hq_view=hq_view,
                    answer_version=Opinion.answer_version + 1,
                    # Headquarters answers the wording it sees now (as set_disposition does for one).
                    answered_revision=Opinion.revision if answered else None,
                )
                .returning(Opinion.id)
                .execution_options(synchronize_session=False)
            )
            written = set(db.session.execute(stmt).scalars())
            result.updated.extend(i for i in chunk if i in written)
            result.refused.update((i, REFUSED_CHANGED) for i in chunk if i not in written)
    _expire(result.updated)
    INDEX.upsert_many(db.session(), ANSWER, [(i, hq_view) for i in result.updated])
    if result.updated:
        record(
            user,
            "bulk_answered",
            "round",
            round_.id,
            _(
                "%(count)s件に対応「%(disposition)s」を記入",
                count=len(result.updated),
                disposition=DISPOSITIONS.get(disposition, _("未設定")),
            ),
            round_id=round_.id,
            details={"opinion_ids": result.updated, "refused": sorted(result.refused)},
            now=now,
        )
    db.session.flush()
    return result


# ---------------------------------------------------------------- staff assignment


def hq_staff() -> list[User]:
    """The people an opinion can be assigned to: active headquarters accounts, by name."""
    stmt = select(User).where(User.role.in_(("admin", "staff")), User.active.is_(True)).order_by(User.name, User.id)
    return list(db.session.scalars(stmt))


def assign_opinions(round_: Round, opinion_ids, assignee_id: int | None, *, user, now: datetime) -> BulkResult:
    """Make one headquarters staff member (None: nobody) answer the named opinions, in chunked UPDATEs.

    Setting an assignee is a plain write of one column, not a change built on what was read, so there is no
    version to compare: two people assigning the same opinion leave the later choice, as the page shows.
    """
    ids = _checked_ids(opinion_ids)
    if assignee_id is not None:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or not assignee.is_hq or not assignee.active:
            raise DomainError(_("担当者は本部の職員から選んでください。"))
    current = round_versions(round_.id, ids)
    result = BulkResult(refused={i: REFUSED_UNKNOWN for i in ids if i not in current})
    known = [i for i in ids if i in current]
    for chunk in _chunks(known):
        db.session.execute(
            update(Opinion)
            .where(Opinion.id.in_(chunk))
            .values(assignee_id=assignee_id)
            .execution_options(synchronize_session=False)
        )
    result.updated = known
    _expire(known)
    if known:
        name = db.session.get(User, assignee_id).name if assignee_id else _("担当なし")
        record(
            user,
            "opinions_assigned",
            "round",
            round_.id,
            _("%(count)s件の担当を%(name)sに", count=len(known), name=name),
            round_id=round_.id,
            details={"opinion_ids": known, "assignee_id": assignee_id},
            now=now,
        )
    db.session.flush()
    return result


# ---------------------------------------------------------------- answer templates (定型文)


def round_templates(round_id: int) -> list[AnswerTemplate]:
    stmt = select(AnswerTemplate).where(AnswerTemplate.round_id == round_id).order_by(AnswerTemplate.name)
    return list(db.session.scalars(stmt))


def template_of_round(round_id: int, template_id: int) -> AnswerTemplate | None:
    found = db.session.get(AnswerTemplate, template_id)
    return found if found is not None and found.round_id == round_id else None


def _check_template(round_id: int, name: str, disposition: str | None, body: str, own_id: int | None) -> None:
    if not name.strip():
        raise DomainError(_("定型文の名前を入力してください。"))
    if len(name) > TEMPLATE_NAME_LENGTH or any(is_forbidden(ch) for ch in name):
        raise DomainError(_("定型文の名前は%(limit)s文字以内で入力してください。", limit=TEMPLATE_NAME_LENGTH))
    check_answer(disposition, body)
    taken = db.session.scalar(
        select(AnswerTemplate.id).where(AnswerTemplate.round_id == round_id, AnswerTemplate.name == name)
    )
    if taken is not None and taken != own_id:
        raise DomainError(_("同じ名前の定型文がこの討議にあります。別の名前にしてください。"))


def create_template(
    round_: Round, name: str, disposition: str | None, body: str, *, user, now: datetime
) -> AnswerTemplate:
    """A new 定型文 of the round; names are unique within it (uq_answer_template_round_id_name)."""
    name = name.strip()
    disposition = disposition or None
    _check_template(round_.id, name, disposition, body, None)
    count = db.session.scalar(select(func.count()).where(AnswerTemplate.round_id == round_.id))
    if count >= TEMPLATES_PER_ROUND:
        raise DomainError(_("定型文は1つの討議に%(limit)s件までです。", limit=TEMPLATES_PER_ROUND))
    template = AnswerTemplate(round_id=round_.id, name=name, disposition=disposition, body=body, updated_at=now)
    db.session.add(template)
    db.session.flush()
    record_object("answer_template_created", template, user=user, now=now)
    return template


def update_template(
    template: AnswerTemplate,
    name: str,
    disposition: str | None,
    body: str,
    *,
    user,
    now: datetime,
    expected_version: int | None = None,
) -> AnswerTemplate:
    """Change a 定型文; a save built on an older version than the stored one is refused (version column)."""
    if expected_version is not None and expected_version != template.version:
        raise ConflictError(_("この定型文は、画面を開いた後に別の方が変更しました。"), current=template)
    name = name.strip()
    disposition = disposition or None
    _check_template(template.round_id, name, disposition, body, template.id)
    template.name, template.disposition, template.body, template.updated_at = name, disposition, body, now
    db.session.flush()
    record_object("answer_template_changed", template, user=user, now=now)
    return template


def delete_template(template: AnswerTemplate, *, user, now: datetime) -> None:
    """Remove a 定型文; the answers written with it keep their text."""
    record_object("answer_template_deleted", template, user=user, now=now)
    db.session.delete(template)
    db.session.flush()
