"""Saving, submitting and withdrawing an organisation's answer; each flushes, the request commits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from consult.answers import signals
from consult.answers.models import STANCES, Answer, AnswerEvent, Opinion, OpinionRevision
from consult.audit.operations import record_object
from consult.core.errors import ConflictError, DomainError, TransitionError
from consult.core.i18n import kept_labels
from consult.core.text import ForbiddenText, forbidden_in
from consult.extensions import db
from consult.rounds.models import Round

CONFLICT_MESSAGE = _l(
    "同じ組織の別の方が先に保存しました。あなたの入力内容は消えていません。"
    "下に表示した保存済みの内容と見比べてから、もう一度保存してください。"
)
FIELDS = ("stance", "referred_text", "proposed_text", "reason")


@dataclass
class OpinionInput:
    """One item's opinion as typed; an empty stance means no opinion on the item."""

    stance: str = ""
    referred_text: str = ""
    proposed_text: str = ""
    reason: str = ""

    def is_empty(self) -> bool:
        return not (self.stance or self.referred_text or self.proposed_text or self.reason)


@dataclass
class ProposalInput:
    """A proposal for an item the draft does not have."""

    heading: str = ""
    proposed_text: str = ""
    reason: str = ""

    def is_empty(self) -> bool:
        return not (self.heading or self.proposed_text or self.reason)


@dataclass
class AnswerInput:
    """Everything one answer form carries."""

    opinions: dict[int, OpinionInput] = field(default_factory=dict)
    proposals: list[ProposalInput] = field(default_factory=list)
    general_comment: str = ""

    def is_empty(self) -> bool:
        return (
            all(op.is_empty() for op in self.opinions.values())
            and all(p.is_empty() for p in self.proposals)
            and not self.general_comment.strip()
        )

    def to_json(self) -> dict:
        return {
            "opinions": {str(k): asdict(v) for k, v in self.opinions.items()},
            "proposals": [asdict(p) for p in self.proposals],
            "general_comment": self.general_comment,
        }

    @classmethod
    def from_json(cls, data: dict) -> AnswerInput:
        return cls(
            opinions={int(k): OpinionInput(**v) for k, v in data.get("opinions", {}).items()},
            proposals=[ProposalInput(**p) for p in data.get("proposals", [])],
            general_comment=data.get("general_comment", ""),
        )


class LateError(DomainError):
    """The deadline has passed; what was sent is kept on the answer as a late draft."""

    keeps_changes = True  # the late draft is written before the refusal, and the request still commits it
    kind = "late"

    def __init__(self, message: str, answer: Answer):
        super().__init__(message)
        self.answer = answer
        self.current = answer  # what is stored now (its version moved with the late draft)


def find_answer(round_id: int, organization_id: int) -> Answer | None:
    """The organisation's answer to the round, if it has started one."""
    stmt = select(Answer).where(Answer.round_id == round_id, Answer.organization_id == organization_id)
    return db.session.scalars(stmt).first()


def answer_input_of(answer: Answer | None) -> AnswerInput:
    """What a stored answer holds, in the shape the form fills from."""
    if answer is None:
        return AnswerInput()
    return AnswerInput(
        opinions={
            op.item_id: OpinionInput(op.stance, op.referred_text, op.proposed_text, op.reason)
            for op in answer.opinions
            if op.item_id is not None
        },
        proposals=[ProposalInput(op.heading, op.proposed_text, op.reason) for op in answer.proposals()],
        general_comment=answer.general_comment,
    )


def save_answer(
    round_: Round,
    organization_id: int,
    user,
    data: AnswerInput,
    expected_version: int | None,
    now: datetime,
    submit: bool = False,
) -> Answer:
    """Save (and optionally submit) the answer, refusing a stale save and keeping a late one aside."""
    _check_may_answer(round_, organization_id, user)
    _check_not_before_opening(round_, now)
    _check_data(round_, data)
    answer = find_answer(round_.id, organization_id)
    if not round_.is_accepting(organization_id, now):
        raise LateError(
            _late_message(round_, organization_id, now), _keep_late(round_, organization_id, answer, user, data, now)
        )
    if answer is not None and expected_version is not None and expected_version != answer.version:
        raise ConflictError(CONFLICT_MESSAGE, current=answer)
    if answer is not None and answer.status == "submitted":
        raise TransitionError(_("この回答は提出済みです。修正するには、先に提出を取り下げてください。"))
    if submit and data.is_empty():
        raise DomainError(_("意見が一つも入力されていません。意見がない場合は「意見なしで提出」を選んでください。"))
    if answer is None:
        answer = _start_answer(round_, organization_id, now)
    revised: list[int] = []
    changes = _apply(answer, round_, data, revised, now)
    action = "submit" if submit else "save"
    if submit:
        answer.status, answer.no_opinion = "submitted", False
        answer.submitted_at, answer.submitted_by_id = now, user.id
    _touch(answer, user, now, action, changes)
    for opinion_id in revised:  # the one point where "a branch changed an answered opinion" happens
        opinion = db.session.get(Opinion, opinion_id, populate_existing=True)
        signals.answered_opinion_changed.send(opinion, answer=answer, user=user, now=now)
    if submit:
        signals.answer_submitted.send(answer, user=user, now=now, late=now > round_.deadline)
    return answer


def submit_no_opinion(round_: Round, organization_id: int, user, expected_version: int | None, now: datetime) -> Answer:
    """Record an explicit 「意見なし」 answer; a draft already typed stays stored."""
    _check_may_answer(round_, organization_id, user)
    _check_not_before_opening(round_, now)
    answer = find_answer(round_.id, organization_id)
    if not round_.is_accepting(organization_id, now):
        raise TransitionError(_late_message(round_, organization_id, now, kept=False))
    if answer is not None and expected_version is not None and expected_version != answer.version:
        raise ConflictError(CONFLICT_MESSAGE, current=answer)
    if answer is not None and answer.status == "submitted":
        raise TransitionError(_("この回答は提出済みです。変更するには、先に提出を取り下げてください。"))
    if answer is None:
        answer = _start_answer(round_, organization_id, now)
    answer.status, answer.no_opinion = "submitted", True
    answer.submitted_at, answer.submitted_by_id = now, user.id
    _touch(answer, user, now, "no_opinion", [])
    signals.answer_submitted.send(answer, user=user, now=now, late=now > round_.deadline)
    return answer


def withdraw_answer(round_: Round, answer: Answer, user, expected_version: int | None, now: datetime) -> Answer:
    """Take a submitted answer back to draft so it can be revised before the deadline."""
    _check_may_answer(round_, answer.organization_id, user)
    if not round_.is_accepting(answer.organization_id, now):
        raise TransitionError(_("締切を過ぎているため、提出を取り下げることはできません。"))
    if expected_version is not None and expected_version != answer.version:
        raise ConflictError(CONFLICT_MESSAGE, current=answer)
    if answer.status != "submitted":
        raise TransitionError(_("この回答はまだ提出されていません。"))
    answer.status, answer.no_opinion = "draft", False
    answer.submitted_at = None
    _touch(answer, user, now, "withdraw", [])
    signals.answer_withdrawn.send(answer, user=user, now=now)
    return answer


def _check_may_answer(round_: Round, organization_id: int, user) -> None:
    if not round_.may_answer(user, organization_id):
        raise DomainError(_("この組織の回答を入力する権限がありません。"))


def _check_not_before_opening(round_: Round, now: datetime) -> None:
    """Before the opening nothing is late yet: refuse without keeping a late draft."""
    if not round_.has_opened(now):
        raise TransitionError(_("この討議はまだ回答の受付を始めていません。"))


def late_draft_pending(answer: Answer | None) -> bool:
    """Whether text sent after the deadline is newer than anything saved in time (so it must not be lost)."""
    if answer is None or not answer.late_payload or answer.late_at is None:
        return False
    regular = [event.at for event in answer.events if event.action != "late"]
    return not regular or answer.late_at > max(regular)


def _check_data(round_: Round, data: AnswerInput) -> None:
    item_ids = {item.id for item in round_.items}
    for item_id, opinion in data.opinions.items():
        if item_id not in item_ids and not opinion.is_empty():
            raise DomainError(_("討議案にない項目への意見が含まれています。画面を読み込み直してください。"))
        if opinion.stance and opinion.stance not in STANCES:
            raise DomainError(_("意見の区分が正しくありません。"))
    # The item opinions are written as rows, past the session's flush guard: the rule is checked here (the API).
    for where, text in _texts(data):
        if chars := forbidden_in(text):
            raise ForbiddenText(where, chars)


def _texts(data: AnswerInput):
    """(where, text) of everything typed in an answer."""
    for item_id, opinion in data.opinions.items():
        for name in FIELDS[1:]:
            yield f"item-{item_id}-{name}", getattr(opinion, name)
    for index, proposal in enumerate(data.proposals):
        for name in ("heading", "proposed_text", "reason"):
            yield f"proposal-{index}-{name}", getattr(proposal, name)
    yield "general_comment", data.general_comment


def _late_message(round_: Round, organization_id: int, now: datetime, kept: bool = True) -> str:
    from consult.core.clock import format_jst

    deadline = round_.deadline_for(organization_id)
    why = (
        _("締切（%(format_jst_deadline)s）を過ぎたため", format_jst_deadline=format_jst(deadline))
        if now > deadline
        else _("本部が受付を締め切ったため")
    )
    kept_note = _("入力内容は「締切後の下書き」として保存し、本部が確認できます。") if kept else ""
    return _(
        "%(why)s、提出できませんでした。%(kept_note)s延長が必要な場合は本部に連絡してください。",
        why=why,
        kept_note=kept_note,
    )


def _keep_late(
    round_: Round, organization_id: int, answer: Answer | None, user, data: AnswerInput, now: datetime
) -> Answer:
    """Keep what arrived after the deadline beside the answer, without touching what was sent in time."""
    if answer is None:
        answer = _start_answer(round_, organization_id, now)
    answer.late_payload = data.to_json()
    answer.late_at = now
    _touch(answer, user, now, "late", [])
    signals.answer_submitted.send(answer, user=user, now=now, late=True)
    return answer


def _start_answer(round_: Round, organization_id: int, now: datetime) -> Answer:
    """Insert the organisation's answer; a concurrent first save by a colleague becomes a conflict."""
    answer = Answer(round_id=round_.id, organization_id=organization_id, status="draft", created_at=now, updated_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(answer)
            db.session.flush()
    except IntegrityError as exc:
        current = find_answer(round_.id, organization_id)
        raise ConflictError(CONFLICT_MESSAGE, current=current) from exc
    return answer


_ITEM_OPINION = Opinion.__table__


def _apply(answer: Answer, round_: Round, data: AnswerInput, revised: list[int], now: datetime) -> list[dict]:
    """Write the typed opinions onto the stored ones and list what changed; `revised` collects the ids of the
    opinions headquarters had answered whose wording changes now (their answered wording is kept).

    The opinions on items are read and written as rows (50 items are 50 rows a save: one SELECT, then one
    statement each for the rows to insert, update and delete) rather than as ORM objects; the answer itself
    stays an ORM object, whose version column refuses a save built on a stale page."""
    changes: list[dict] = []
    columns = _ITEM_OPINION.c
    stored_rows = {
        row.item_id: row
        for row in db.session.execute(
            select(
                columns.id,
                columns.item_id,
                columns.stance,
                columns.referred_text,
                columns.proposed_text,
                columns.reason,
                columns.item_revision,
                columns.position,
                columns.revision,
                columns.answered_revision,
            ).where(columns.answer_id == answer.id, columns.item_id.is_not(None))
        )
    }
    inserts, updates, deletes, answered_kept = [], [], [], []
    stances = kept_labels(STANCES)  # the history keeps the app's language; switched once, not once per item
    for position, item in enumerate(round_.items, start=1):
        typed = data.opinions.get(item.id, OpinionInput())
        stored = stored_rows.get(item.id)
        label = f"{item.number} {item.heading}"
        if typed.stance == "" and typed.is_empty():
            if stored is not None:
                stance = stances.get(stored.stance, stored.stance)
                changes.append(_change(label, "意見", stance, "（意見なし）"))
                deletes.append(stored.id)
            continue
        before = OpinionInput(*stored[2:6]) if stored is not None else OpinionInput()
        changed = _field_changes(label, before, typed, stances)
        changes.extend(changed)
        # An untouched opinion still answers the wording it was written for.
        keep_revision = stored is not None and not changed and stored.item_revision is not None
        revision = 1
        if stored is not None:
            revision = stored.revision + 1 if changed else stored.revision
            if changed and stored.answered_revision is not None:
                if stored.answered_revision == stored.revision:  # the wording headquarters answered: keep it
                    answered_kept.append(
                        {"opinion_id": stored.id, "revision": stored.revision, "heading": "", **before_of(stored)}
                    )
                revised.append(stored.id)
        values = {
            "stance": typed.stance or "other",
            "referred_text": typed.referred_text,
            "proposed_text": typed.proposed_text,
            "reason": typed.reason,
            "item_revision": stored.item_revision if keep_revision else item.revision,
            "position": position,
            "revision": revision,
        }
        if stored is None:
            inserts.append({"answer_id": answer.id, "item_id": item.id, "heading": "", "hq_view": "", **values})
        elif changed or (stored.item_revision, stored.position) != (values["item_revision"], position):
            updates.append({"opinion_id": stored.id, **values})
    if deletes:
        db.session.execute(_ITEM_OPINION.delete().where(columns.id.in_(deletes)))
    if inserts:
        db.session.execute(_ITEM_OPINION.insert(), inserts)
    if updates:
        db.session.execute(
            _ITEM_OPINION.update()
            .where(columns.id == bindparam("opinion_id"))
            .values({name: bindparam(name) for name in updates[0] if name != "opinion_id"}),
            updates,
        )
    if answered_kept:
        db.session.execute(OpinionRevision.__table__.insert(), [{**row, "created_at": now} for row in answered_kept])
    if deletes or inserts or updates:
        db.session.expire(answer, ["opinions"])
        signals.opinion_rows_written.send(answer, deleted=deletes)
    changes.extend(_apply_proposals(answer, [p for p in data.proposals if not p.is_empty()], revised, now))
    if answer.general_comment != data.general_comment:
        changes.append(_change("全体", "総括的な意見", answer.general_comment, data.general_comment))
        answer.general_comment = data.general_comment
    return changes


def before_of(row) -> dict:
    """An opinion's wording (a stored row or an Opinion), as an OpinionRevision keeps it."""
    return {name: getattr(row, name) for name in ("stance", "referred_text", "proposed_text", "reason")}


def _apply_proposals(answer: Answer, typed: list[ProposalInput], revised: list[int], now: datetime) -> list[dict]:
    """Proposals are matched by position: update, add or remove to fit what was typed."""
    changes = []
    stored = list(
        db.session.scalars(
            select(Opinion)
            .where(Opinion.answer_id == answer.id, Opinion.item_id.is_(None))
            .order_by(Opinion.position, Opinion.id)
        )
    )
    for index, proposal in enumerate(typed):
        label = f"新規提案{index + 1}"
        if index < len(stored):
            row = stored[index]
            before = (row.heading, row.proposed_text, row.reason)
            if before != (proposal.heading, proposal.proposed_text, proposal.reason):
                _revise(row, now, revised)
                changes.append(
                    _change(
                        label,
                        "内容",
                        " / ".join(before),
                        " / ".join((proposal.heading, proposal.proposed_text, proposal.reason)),
                    )
                )
        else:
            row = Opinion(answer_id=answer.id, item_id=None, stance="add")
            db.session.add(row)
            changes.append(_change(label, "内容", "", " / ".join((proposal.heading, proposal.proposed_text))))
        row.heading, row.proposed_text, row.reason = proposal.heading, proposal.proposed_text, proposal.reason
        row.position = 10_000 + index
    for index, row in enumerate(stored[len(typed) :], start=len(typed)):
        changes.append(_change(f"新規提案{index + 1}", "内容", row.heading, "（削除）"))
        db.session.delete(row)
    return changes


def _revise(opinion: Opinion, now: datetime, revised: list[int]) -> None:
    """The branch is about to change a proposal's wording: a new revision, keeping the one headquarters answered."""
    if opinion.answered_revision is not None and opinion.answered_revision == opinion.revision:
        db.session.add(
            OpinionRevision(
                opinion_id=opinion.id,
                revision=opinion.revision,
                heading=opinion.heading,
                created_at=now,
                **before_of(opinion),
            )
        )
    opinion.revision += 1
    if opinion.answered_revision is not None:
        revised.append(opinion.id)


def _field_changes(label: str, before: OpinionInput, after: OpinionInput, stances: dict[str, str]) -> list[dict]:
    names = {"stance": "区分", "referred_text": "該当箇所", "proposed_text": "修正案", "reason": "理由"}
    changes = []
    for name in FIELDS:
        old, new = getattr(before, name), getattr(after, name)
        if name == "stance":
            old, new = stances.get(old, ""), stances.get(new or "other", "")
        if old != new:
            changes.append(_change(label, names[name], old, new))
    return changes


def _change(where: str, what: str, before: str, after: str) -> dict:
    """One line of history, shortened so a 100,000-character paste does not bloat it."""

    def short(text: str) -> str:
        return text if len(text) <= 200 else text[:200] + "…"

    return {"where": where, "field": what, "before": short(before or ""), "after": short(after or "")}


def _touch(answer: Answer, user, now: datetime, action: str, changes: list[dict]) -> None:
    """Mark the answer changed (which bumps its version) and record who did what."""
    answer.updated_at, answer.updated_by_id = now, user.id
    flag_modified(answer, "updated_at")  # always an UPDATE, so the version moves even if only opinions changed
    on_behalf = user.organization_id != answer.organization_id
    # Added beside the answer, not appended to answer.events: that would first load every earlier event.
    db.session.add(
        AnswerEvent(answer_id=answer.id, user_id=user.id, action=action, at=now, on_behalf=on_behalf, changes=changes)
    )
    try:
        db.session.flush()
    except StaleDataError as exc:  # a colleague's save landed between our read and write
        raise ConflictError(CONFLICT_MESSAGE, current=None) from exc
    record_answer(answer, user, action, changes, now)


def record_answer(answer, user, action: str, changes: list[dict], now: datetime) -> None:
    """The audit line of an answer event (save, submit, no_opinion, withdraw, late), noting on-behalf entry."""
    # Kept in the log as written (Japanese, the app's language), not translated.
    on_behalf = "、本部による代理入力" if user.organization_id != answer.organization_id else ""
    note = f"変更{len(changes)}件{on_behalf}" if action in ("save", "submit") else on_behalf.lstrip("、")
    record_object(f"answer_{action}", answer, note, user=user, now=now)
