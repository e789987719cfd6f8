"""A prefecture's answer built from its unions' opinions (issue 10).

The prefecture runs a sub-round (rounds.operations.open_subround) among its local unions. Their opinions stay as
they wrote them; each opinion of the prefecture's own answer to headquarters may rest on some of them, kept as
rows of OpinionSource. The prefecture adopts one union opinion as it is, merges several into one, edits the
wording afterwards on the ordinary answer form (the opinion row, and so its sources, stays), or writes its own.
Every save goes through answers.operations.save_answer: the same deadline, conflict and history rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm.exc import StaleDataError

from consult.answers import operations as answering
from consult.answers.models import DECISION_LENGTH, SOURCES_LIMIT, Answer, Opinion, OpinionSource
from consult.audit.operations import record_object
from consult.core.errors import ConflictError, DomainError, TransitionError
from consult.extensions import db
from consult.orgs.models import Organization
from consult.rounds.models import Round, RoundItem


@dataclass(frozen=True)
class UnionOpinion:
    """One union's opinion on an item of a prefecture's sub-round, as the prefecture weighs it."""

    id: int
    organization_id: int
    organization_name: str
    item_id: int  # the item of the round above (headquarters' item)
    stance: str
    referred_text: str
    proposed_text: str
    reason: str


# ---------------------------------------------------------------- pure: composing one opinion


def adopt(source: UnionOpinion) -> answering.OpinionInput:
    """A union's opinion taken as it is."""
    return answering.OpinionInput(source.stance, source.referred_text, source.proposed_text, source.reason)


def merge(sources: list[UnionOpinion]) -> answering.OpinionInput:
    """Several union opinions as one: the stance they share (修正 when they differ), each text once, the
    proposals and reasons one paragraph per union with its name, in the order given."""
    if not sources:
        raise DomainError(_("まとめる単組の意見を選んでください。"))
    if len(sources) == 1:
        return adopt(sources[0])
    stances = {source.stance for source in sources}
    stance = stances.pop() if len(stances) == 1 else "amend"
    referred: list[str] = []
    for source in sources:
        if source.referred_text and source.referred_text not in referred:
            referred.append(source.referred_text)

    def paragraphs(name: str) -> str:
        return "\n".join(
            f"【{source.organization_name}】{getattr(source, name)}" for source in sources if getattr(source, name)
        )

    return answering.OpinionInput(stance, "\n".join(referred), paragraphs("proposed_text"), paragraphs("reason"))


# ---------------------------------------------------------------- reading


def subround_for(round_: Round, organization_id: int) -> Round | None:
    """The sub-round the organisation runs on this round."""
    return db.session.scalar(
        select(Round).where(Round.parent_id == round_.id, Round.organization_id == organization_id)
    )


PAGE_SIZE = 100  # union opinions on one item per page of the roll-up


def union_opinions(
    sub: Round, item_id: int | None = None, ids: set[int] | None = None, page: int | None = None
) -> list[UnionOpinion]:
    """The submitted opinions of the sub-round's unions (one query), keyed to headquarters' items; `page` (from 1)
    reads PAGE_SIZE of them, so a page never holds a whole prefecture's opinions on every item."""
    stmt = (
        select(
            Opinion.id,
            Answer.organization_id,
            Organization.name,
            RoundItem.parent_item_id,
            Opinion.stance,
            Opinion.referred_text,
            Opinion.proposed_text,
            Opinion.reason,
        )
        .join(Answer, Answer.id == Opinion.answer_id)
        .join(Organization, Organization.id == Answer.organization_id)
        .join(RoundItem, RoundItem.id == Opinion.item_id)
        .where(Answer.round_id == sub.id, Answer.status == "submitted", RoundItem.parent_item_id.is_not(None))
        .order_by(RoundItem.position, Organization.position, Organization.id)
    )
    if item_id is not None:
        stmt = stmt.where(RoundItem.parent_item_id == item_id)
    if ids is not None:
        stmt = stmt.where(Opinion.id.in_(ids))
    if page is not None:
        stmt = stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    return [UnionOpinion(*row) for row in db.session.execute(stmt)]


def stance_counts(sub: Round) -> dict[int, dict[str, int]]:
    """{headquarters' item id: {stance: number}} of the sub-round's submitted union opinions: one grouped query,
    counted by the database (the roll-up shows every item's counts but one item's opinions)."""
    stmt = (
        select(RoundItem.parent_item_id, Opinion.stance, func.count())
        .select_from(Opinion)
        .join(Answer, Answer.id == Opinion.answer_id)
        .join(RoundItem, RoundItem.id == Opinion.item_id)
        .where(Answer.round_id == sub.id, Answer.status == "submitted", RoundItem.parent_item_id.is_not(None))
        .group_by(RoundItem.parent_item_id, Opinion.stance)
    )
    counts: dict[int, dict[str, int]] = {}
    for item_id, stance, count in db.session.execute(stmt):
        counts.setdefault(item_id, {})[stance] = count
    return counts


def sources_of(opinion_ids: list[int]) -> dict[int, list[int]]:
    """{opinion id: [source opinion id, ...]} in one query."""
    found: dict[int, list[int]] = {opinion_id: [] for opinion_id in opinion_ids}
    if opinion_ids:
        rows = db.session.execute(
            select(OpinionSource.opinion_id, OpinionSource.source_id)
            .where(OpinionSource.opinion_id.in_(opinion_ids))
            .order_by(OpinionSource.opinion_id, OpinionSource.source_id)
        )
        for opinion_id, source_id in rows:
            found[opinion_id].append(source_id)
    return found


def used_in(source_ids: list[int]) -> dict[int, list[int]]:
    """{union opinion id: [ids of the prefecture opinions resting on it]}: the way back up."""
    found: dict[int, list[int]] = {source_id: [] for source_id in source_ids}
    if source_ids:
        rows = db.session.execute(
            select(OpinionSource.source_id, OpinionSource.opinion_id).where(OpinionSource.source_id.in_(source_ids))
        )
        for source_id, opinion_id in rows:
            found[source_id].append(opinion_id)
    return found


# ---------------------------------------------------------------- checking and writing


def check_sources(round_: Round, organization_id: int, sources: dict[int, list[int]]) -> dict[int, list[int]]:
    """Each item's sources must be submitted opinions, on that same item, of the sub-round this organisation runs
    on the round; refused as a whole otherwise (before anything is written)."""
    wanted = {item_id: sorted(set(ids)) for item_id, ids in sources.items()}
    if not any(wanted.values()):
        return wanted
    if any(len(ids) > SOURCES_LIMIT for ids in wanted.values()):
        raise DomainError(_("一つの意見の出典は%(limit)s件までです。", limit=SOURCES_LIMIT))
    sub = subround_for(round_, organization_id)
    if sub is None:
        raise DomainError(_("出典にできるのは、この組織が開いた県内討議で提出された単組の意見だけです。"))
    every = {source_id for ids in wanted.values() for source_id in ids}
    found = {row.id: row.item_id for row in union_opinions(sub, ids=every)}
    for item_id, ids in wanted.items():
        if any(found.get(source_id) != item_id for source_id in ids):
            raise DomainError(_("出典に、県内討議で同じ項目に提出された単組の意見ではないものが含まれています。"))
    return wanted


def write_sources(answer: Answer, sources: dict[int, list[int]]) -> None:
    """Replace the sources of the answer's opinions on these items (checked by check_sources)."""
    if not sources:
        return
    stmt = select(Opinion.item_id, Opinion.id).where(Opinion.answer_id == answer.id, Opinion.item_id.in_(list(sources)))
    opinion_ids = {item_id: opinion_id for item_id, opinion_id in db.session.execute(stmt)}
    touched = [opinion_ids[item_id] for item_id in sources if item_id in opinion_ids]
    if touched:
        db.session.execute(delete(OpinionSource).where(OpinionSource.opinion_id.in_(touched)))
    rows = [
        {"opinion_id": opinion_ids[item_id], "source_id": source_id}
        for item_id, ids in sources.items()
        if item_id in opinion_ids
        for source_id in ids
    ]
    if rows:
        db.session.execute(insert(OpinionSource), rows)


def save_with_sources(
    round_: Round,
    organization_id: int,
    user,
    data: answering.AnswerInput,
    sources: dict[int, list[int]],
    expected_version: int | None,
    now: datetime,
    submit: bool = False,
) -> Answer:
    """save_answer, and the sources of the opinions named in `sources` (other opinions keep theirs)."""
    checked = check_sources(round_, organization_id, sources)
    answer = answering.save_answer(round_, organization_id, user, data, expected_version, now, submit=submit)
    write_sources(answer, checked)
    return answer


def build_opinion(
    round_: Round,
    organization_id: int,
    item: RoundItem,
    source_ids: list[int],
    user,
    expected_version: int | None,
    now: datetime,
) -> Answer:
    """The prefecture's opinion on one item made from union opinions (one: adopted as is; several: merged),
    saved as a draft of its answer to the round, with those opinions as its sources."""
    if not source_ids:
        raise DomainError(_("採用・統合する単組の意見を選んでください。"))
    checked = check_sources(round_, organization_id, {item.id: source_ids})
    sub = subround_for(round_, organization_id)
    chosen = union_opinions(sub, item.id, ids=set(checked[item.id]))
    answer = answering.find_answer(round_.id, organization_id)
    if answer is not None and answer.status == "submitted":
        raise TransitionError(_("この回答は提出済みです。修正するには、先に提出を取り下げてください。"))
    data = answering.answer_input_of(answer)
    data.opinions[item.id] = merge(chosen)
    version = expected_version if expected_version is not None else (answer.version if answer else None)
    saved = answering.save_answer(round_, organization_id, user, data, version, now)
    write_sources(saved, checked)
    return saved


def record_decision(answer: Answer, decided_by: str, decided_on: date | None, *, user, now: datetime) -> Answer:
    """The meeting that settled the answer (県本部執行委員会) and its date, kept with the answer."""
    decided_by = decided_by.strip()
    if len(decided_by) > DECISION_LENGTH:
        raise DomainError(_("決定機関は%(limit)s字以内で入力してください。", limit=DECISION_LENGTH))
    if decided_on is not None and not decided_by:
        raise DomainError(_("決定した会議の名前を入力してください。"))
    answer.decided_by, answer.decided_on = decided_by, decided_on
    try:
        db.session.flush()
    except StaleDataError as exc:  # someone saved the answer between our read and our write
        raise ConflictError(answering.CONFLICT_MESSAGE, current=None) from exc
    record_object("answer_decision", answer, f"{decided_by} {decided_on or ''}".strip(), user=user, now=now)
    return answer


# ---------------------------------------------------------------- publishing back to the unions


def publish_back(round_: Round, organization_id: int, shown: bool, *, user, now: datetime) -> Round:
    """Show (or stop showing) the prefecture's submitted answer to headquarters to its sub-round's unions, on
    their page of the sub-round. The sub-round's version column refuses a write that crossed another."""
    sub = subround_for(round_, organization_id)
    if sub is None:
        raise DomainError(_("先に県内討議を開始してください。"))
    answer = answering.find_answer(round_.id, organization_id)
    if shown and (answer is None or answer.status != "submitted"):
        raise TransitionError(_("単組に公開できるのは、本部に提出した県本部の回答です。"))
    sub.published_back_at = now if shown else None
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise ConflictError(answering.CONFLICT_MESSAGE, current=None) from exc
    record_object("published_back" if shown else "published_back_withdrawn", sub, user=user, now=now)
    return sub


@dataclass(frozen=True)
class PublishedOpinion:
    """One opinion of the prefecture's answer as its unions read it, and whether it rests on the reader's own."""

    item_number: str
    item_heading: str
    stance: str
    proposed_text: str
    reason: str
    from_mine: bool


def published_back(sub: Round, organization_id: int) -> tuple[Answer | None, list[PublishedOpinion]]:
    """What the prefecture published back to this union: its answer to headquarters, per item (four queries);
    nothing before it publishes or once it withdraws it, or if it withdrew the answer from headquarters."""
    if sub.published_back_at is None or sub.parent_id is None:
        return None, []
    answer = answering.find_answer(sub.parent_id, sub.organization_id)
    if answer is None or answer.status != "submitted":
        return None, []
    mine = set(
        db.session.scalars(
            select(Opinion.id)
            .join(Answer, Answer.id == Opinion.answer_id)
            .where(Answer.round_id == sub.id, Answer.organization_id == organization_id)
        )
    )
    rows = db.session.execute(
        select(Opinion.id, RoundItem.number, RoundItem.heading, Opinion.stance, Opinion.proposed_text, Opinion.reason)
        .join(RoundItem, RoundItem.id == Opinion.item_id)
        .where(Opinion.answer_id == answer.id)
        .order_by(RoundItem.position, Opinion.id)
    ).all()
    used = sources_of([row.id for row in rows])
    return answer, [
        PublishedOpinion(
            row.number, row.heading, row.stance, row.proposed_text, row.reason, bool(mine & set(used[row.id]))
        )
        for row in rows
    ]
