"""Reading a round's submitted opinions in a fixed number of GROUP BY / paged queries, whatever its size.

Only answers that were submitted with opinions count: drafts, 「意見なし」 answers (whose typed draft may
still be stored) and payloads that arrived after the deadline (kept aside on the answer) are left out.
Indexes used: answer(round_id), opinion(answer_id), opinion(item_id), request_item_opinion(opinion_id).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, false, func, or_, select
from sqlalchemy.orm import selectinload

from consult.answers.models import DISPOSITIONS, STANCES, Answer, Opinion
from consult.answers.queries import counted
from consult.core.convert import parse_id, parse_page
from consult.core.text import clean
from consult.extensions import db
from consult.letters import numbering
from consult.letters.models import Campaign, Letter, RequestItem, RequestItemOpinion
from consult.orgs.models import Organization
from consult.review.models import OpinionGroupMember
from consult.review.search import ANSWER, INDEX, OPINION
from consult.rounds.models import Round, RoundItem, RoundTarget

FILTER_TEXT_LIMIT = 200
NO_DISPOSITION = "none"  # filter value: opinions headquarters has not weighed yet


# ---------------------------------------------------------------- overview


@dataclass
class Segment:
    """One stance's part of an item's bar."""

    stance: str
    count: int
    width: int  # whole percent; the widths of one bar add up to 100

    @property
    def label(self) -> str:
        return STANCES[self.stance]


@dataclass
class ItemRow:
    """One item of the overview (item None: the proposals of new items)."""

    item: RoundItem | None
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def segments(self) -> list[Segment]:
        widths = percentages([self.counts[s] for s in STANCES])
        return [Segment(s, self.counts[s], w) for s, w in zip(STANCES, widths, strict=True) if self.counts[s]]


@dataclass
class Overview:
    """Every item's stance counts and how many target organisations answered."""

    rows: list[ItemRow]
    proposals: ItemRow
    targets: int
    answered: int  # target organisations that submitted, 「意見なし」 included
    no_opinion: int

    @property
    def stance_totals(self) -> dict[str, int]:
        totals = dict.fromkeys(STANCES, 0)
        for row in [*self.rows, self.proposals]:
            for stance, count in row.counts.items():
                totals[stance] += count
        return totals


def percentages(counts: list[int]) -> list[int]:
    """Whole percentages adding up to exactly 100 (largest remainder), all zero when there is nothing."""
    total = sum(counts)
    if not total:
        return [0] * len(counts)
    exact = [c * 100 / total for c in counts]
    widths = [int(x) for x in exact]
    order = sorted(range(len(counts)), key=lambda i: exact[i] - widths[i], reverse=True)
    for i in order[: 100 - sum(widths)]:
        widths[i] += 1
    return widths


def stance_counts(round_id: int) -> dict[int | None, dict[str, int]]:
    """Counts per item and stance in one GROUP BY; the key None holds the proposals of new items."""
    stmt = (
        select(Opinion.item_id, Opinion.stance, func.count())
        .join(Answer, counted(round_id))
        .group_by(Opinion.item_id, Opinion.stance)
    )
    result: dict[int | None, dict[str, int]] = {}
    for item_id, stance, count in db.session.execute(stmt):
        result.setdefault(item_id, dict.fromkeys(STANCES, 0))[stance] = count
    return result


def stance_counts_for(round_id: int, item_id: int | None) -> dict[str, int]:
    """Counts per stance for one item (None: the proposals), in one GROUP BY."""
    stmt = (
        select(Opinion.stance, func.count())
        .join(Answer, counted(round_id))
        .where(Opinion.item_id.is_(None) if item_id is None else Opinion.item_id == item_id)
        .group_by(Opinion.stance)
    )
    counts = dict.fromkeys(STANCES, 0)
    counts.update(dict(db.session.execute(stmt).all()))
    return counts


def answered_counts(round_id: int) -> tuple[int, int, int]:
    """(targets, targets that submitted, of which 「意見なし」) in one query."""
    submitted = and_(
        Answer.round_id == RoundTarget.round_id,
        Answer.organization_id == RoundTarget.organization_id,
        Answer.status == "submitted",
    )
    stmt = (
        select(
            func.count(RoundTarget.organization_id),
            func.count(Answer.id),
            func.coalesce(func.sum(case((Answer.no_opinion.is_(True), 1), else_=0)), 0),
        )
        .select_from(RoundTarget)
        .outerjoin(Answer, submitted)
        .where(RoundTarget.round_id == round_id)
    )
    targets, answered, no_opinion = db.session.execute(stmt).one()
    return int(targets), int(answered), int(no_opinion)


def overview(round_: Round) -> Overview:
    """The round at a glance without loading a single opinion: items, one GROUP BY, one count."""
    counts = stance_counts(round_.id)
    items = db.session.scalars(
        select(RoundItem).where(RoundItem.round_id == round_.id).order_by(RoundItem.position, RoundItem.id)
    ).all()
    rows = [
        ItemRow(item, counts.get(item.id, dict.fromkeys(STANCES, 0)))
        for item in items
        # A removed item stays in the overview while opinions on it exist.
        if item.removed_at is None or item.id in counts
    ]
    proposals = ItemRow(None, counts.get(None, dict.fromkeys(STANCES, 0)))
    targets, answered, no_opinion = answered_counts(round_.id)
    return Overview(rows=rows, proposals=proposals, targets=targets, answered=answered, no_opinion=no_opinion)


# ---------------------------------------------------------------- opinions of one item


@dataclass
class Filters:
    """What the list of opinions is narrowed to (GET parameters)."""

    stance: str = ""
    org: str = ""  # part of an organisation's name or code
    q: str = ""  # free text over the opinion's texts and headquarters' view
    disposition: str = ""
    page: int = 1
    assignee_id: int | None = None  # 「自分の担当」: the opinions assigned to this staff member
    group_id: int | None = None  # one kept group (論点), so that 「すべて選ぶ」 answers the whole group in one step

    @classmethod
    def from_args(cls, args, user_id: int | None = None) -> Filters:
        """Unknown values are dropped rather than refused: a filter never fails (mine=1 needs the user's id)."""
        stance = args.get("stance", "")
        disposition = args.get("disposition", "")
        page = args.get("page", "1")
        return cls(
            stance=stance if stance in STANCES else "",
            org=clean(args.get("org", "")).strip()[:FILTER_TEXT_LIMIT],
            q=clean(args.get("q", "")).strip()[:FILTER_TEXT_LIMIT],
            disposition=disposition if disposition in DISPOSITIONS or disposition == NO_DISPOSITION else "",
            page=parse_page(page),
            assignee_id=user_id if args.get("mine") == "1" else None,
            group_id=parse_id(args.get("group", "")),
        )

    def params(self, **override) -> dict:
        """The non-empty parameters, for links and redirects back to the same page."""
        values = {
            "stance": self.stance,
            "org": self.org,
            "q": self.q,
            "disposition": self.disposition,
            "page": self.page if self.page > 1 else "",
            "mine": "1" if self.assignee_id else "",
            "group": self.group_id or "",
        }
        values.update(override)
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def active(self) -> bool:
        return bool(self.stance or self.org or self.q or self.disposition or self.assignee_id or self.group_id)


@dataclass
class OpinionRow:
    """An opinion on a page, with its organisation and the request items that take it up."""

    opinion: Opinion
    organization_id: int
    organization_name: str
    links: list[RequestChoice] = field(default_factory=list)


@dataclass
class Page:
    """One page of rows and what the pager needs."""

    rows: list
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.size + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return min(self.total, self.page * self.size)


def _text_condition(q: str):
    """Every term of q in the opinion's texts, or every term in headquarters' view: through the full-text index,
    Japanese-aware (review/search.py)."""
    found = INDEX.matching_ids(db.session.get_bind().dialect.name, q, [OPINION, ANSWER])
    return false() if found is None else Opinion.id.in_(found)


ALL_ITEMS = "all"


def filtered_opinions(round_id: int, item_id: int | None | str, filters: Filters):
    """The SELECT of (Opinion, organisation id, name) for one item (None: proposals; ALL_ITEMS: the whole
    round) under the filters."""
    stmt = (
        select(Opinion, Organization.id, Organization.name)
        .join(Answer, counted(round_id))
        .join(Organization, Organization.id == Answer.organization_id)
    )
    if item_id != ALL_ITEMS:
        stmt = stmt.where(Opinion.item_id.is_(None) if item_id is None else Opinion.item_id == item_id)
    if filters.stance:
        stmt = stmt.where(Opinion.stance == filters.stance)
    if filters.org:
        stmt = stmt.where(
            or_(Organization.name.icontains(filters.org, autoescape=True), Organization.code == filters.org)
        )
    if filters.q:
        stmt = stmt.where(_text_condition(filters.q))
    if filters.disposition == NO_DISPOSITION:
        stmt = stmt.where(Opinion.disposition.is_(None))
    elif filters.disposition:
        stmt = stmt.where(Opinion.disposition == filters.disposition)
    if filters.assignee_id:
        stmt = stmt.where(Opinion.assignee_id == filters.assignee_id)
    if filters.group_id:
        members = select(OpinionGroupMember.opinion_id).where(OpinionGroupMember.group_id == filters.group_id)
        stmt = stmt.where(Opinion.id.in_(members))
    return stmt


def filter_scope(round_id: int, item_id: int | None, filters: Filters, limit: int) -> tuple[int, str]:
    """(how many opinions the filter holds, their 'id.version' pairs when at most `limit`, else ""): what
    「この絞り込みの意見をすべて選ぶ」 sends, so a bulk answer refuses the rows changed since the page was read."""
    ids = filtered_opinions(round_id, item_id, filters).with_only_columns(Opinion.id, Opinion.answer_version)
    rows = db.session.execute(ids.order_by(Opinion.id).limit(limit + 1)).all()
    if len(rows) > limit:
        return len(rows), ""
    return len(rows), " ".join(f"{i}.{v}" for i, v in rows)


def opinion_page(
    round_id: int, item_id: int | None, filters: Filters, size: int, choices: dict[int, RequestChoice]
) -> Page:
    """One page of an item's opinions in three queries (count, rows, links), however many rows it holds."""
    stmt = filtered_opinions(round_id, item_id, filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max(1, -(-total // size))
    page = min(filters.page, pages)
    rows = [
        OpinionRow(opinion, org_id, org_name)
        for opinion, org_id, org_name in db.session.execute(
            stmt.order_by(Organization.position, Organization.id, Opinion.position, Opinion.id)
            .offset((page - 1) * size)
            .limit(size)
        )
    ]
    attach_links(rows, choices)
    return Page(rows=rows, total=total, page=page, size=size)


def linked_request_items(opinion_ids: list[int]) -> dict[int, list[int]]:
    """The request items that take up each of these opinions, in one query."""
    links: dict[int, list[int]] = {opinion_id: [] for opinion_id in opinion_ids}
    if not opinion_ids:
        return links
    stmt = (
        select(RequestItemOpinion.opinion_id, RequestItemOpinion.request_item_id)
        .where(RequestItemOpinion.opinion_id.in_(opinion_ids))
        .order_by(RequestItemOpinion.opinion_id, RequestItemOpinion.request_item_id)
    )
    for opinion_id, request_item_id in db.session.execute(stmt):
        links[opinion_id].append(request_item_id)
    return links


def attach_links(rows: list[OpinionRow], choices: dict[int, RequestChoice]) -> None:
    """Fill each row's request items in one query for the whole page."""
    if not rows:
        return
    links = linked_request_items([row.opinion.id for row in rows])
    for row in rows:
        row.links.extend(choices[i] for i in links[row.opinion.id] if i in choices)


# ---------------------------------------------------------------- request items of the round's letters


@dataclass
class RequestChoice:
    """A request item an opinion can be linked to, labelled as it is printed: 要請書『…』 １．（２）."""

    id: int
    letter_title: str
    number: str
    text: str

    @property
    def label(self) -> str:
        return _(
            "要請書『%(self_letter_title)s』 %(self_number)s",
            self_letter_title=self.letter_title,
            self_number=self.number,
        )

    @property
    def option_label(self) -> str:
        text = self.text if len(self.text) <= 40 else self.text[:40] + "…"
        return f"{self.label} {text}"


def request_choices(round_id: int) -> dict[int, RequestChoice]:
    """Every request item of the letters of campaigns built on this round, in letter order, in one query."""
    stmt = (
        select(
            RequestItem.id,
            RequestItem.parent_id,
            RequestItem.text,
            Letter.id,
            Letter.title,
            Letter.numbering,
            Letter.fullwidth_digits,
        )
        .join(Letter, Letter.id == RequestItem.letter_id)
        .join(Campaign, Campaign.id == Letter.campaign_id)
        .where(Campaign.round_id == round_id)
        .order_by(Campaign.id, Letter.position, Letter.id, RequestItem.position, RequestItem.id)
    )
    rows = db.session.execute(stmt).all()
    children: dict[int, list] = {}
    for row in rows:
        if row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(row)
    result: dict[int, RequestChoice] = {}
    top_index: dict[int, int] = {}
    for row in rows:
        if row.parent_id is not None:
            continue
        letter_id, title, style, fullwidth = row[3], row.title, row.numbering, row.fullwidth_digits
        top_index[letter_id] = top_index.get(letter_id, 0) + 1
        top_label = _label(style, 1, top_index[letter_id], fullwidth)
        result[row.id] = RequestChoice(row.id, title, top_label, row.text)
        for index, child in enumerate(children.get(row.id, []), start=1):
            result[child.id] = RequestChoice(
                child.id, title, top_label + _label(style, 2, index, fullwidth), child.text
            )
    return result


def _label(style: str, level: int, index: int, fullwidth: bool) -> str:
    try:
        return numbering.label(style, level, index, fullwidth=fullwidth)
    except ValueError:  # a flat letter with children, or an unknown style: still show where the item is
        return f"{index}."


# ---------------------------------------------------------------- the published answer table


@dataclass
class PublishedRow:
    """A line of the answer table as a branch sees it."""

    opinion: Opinion
    item_number: str
    item_heading: str
    organization_id: int
    organization_name: str

    def shows_name(self, own_org_id: int | None) -> bool:
        """Headquarters (own_org_id None) reads every name; a branch its own, and 「他の組織」 for the others."""
        return own_org_id is None or self.organization_id == own_org_id


def published_rows(round_id: int, own_org_id: int | None, only_own: bool):
    """The SELECT of the answer table's rows: opinions headquarters weighed, and a branch's own ones."""
    shown = or_(Opinion.disposition.is_not(None), Opinion.hq_view != "")
    if own_org_id is not None:
        shown = or_(shown, Answer.organization_id == own_org_id)
    stmt = (
        select(Opinion, RoundItem.number, RoundItem.heading, Organization.id, Organization.name)
        .join(Answer, counted(round_id))
        .join(Organization, Organization.id == Answer.organization_id)
        .outerjoin(RoundItem, RoundItem.id == Opinion.item_id)
        .where(shown)
        .options(selectinload(Opinion.revisions))  # the wording answered, shown until headquarters answers again
    )
    if only_own and own_org_id is not None:
        stmt = stmt.where(Answer.organization_id == own_org_id)
    return stmt


def in_table_order(stmt):
    """The published table's order (items, then proposals; organisations within): the page and its downloads."""
    return stmt.order_by(
        case((Opinion.item_id.is_(None), 1), else_=0),
        RoundItem.position,
        RoundItem.id,
        Organization.position,
        Organization.id,
        Opinion.id,
    )


def published_page(round_id: int, own_org_id: int | None, only_own: bool, page: int, size: int) -> Page:
    """Opinions headquarters weighed (and a branch's own ones), in item order, two queries per page."""
    stmt = published_rows(round_id, own_org_id, only_own)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    ordered = in_table_order(stmt)
    rows = [
        PublishedRow(op, number or "", heading or op.heading, org_id, org_name)
        for op, number, heading, org_id, org_name in db.session.execute(ordered.offset((page - 1) * size).limit(size))
    ]
    return Page(rows=rows, total=total, page=page, size=size)


def opinion_rows(opinion_ids: list[int]) -> list[OpinionRow]:
    """These opinions with their organisations, in the order given, in one query."""
    if not opinion_ids:
        return []
    stmt = (
        select(Opinion, Organization.id, Organization.name)
        .join(Answer, Answer.id == Opinion.answer_id)
        .join(Organization, Organization.id == Answer.organization_id)
        .where(Opinion.id.in_(opinion_ids))
    )
    found = {op.id: OpinionRow(op, org_id, name) for op, org_id, name in db.session.execute(stmt)}
    return [found[i] for i in opinion_ids if i in found]


# ---------------------------------------------------------------- the answer table as a document of record

# 修正の有無 of a public-comment results notice, from headquarters' 対応.
MODIFICATION = {
    "adopted": _l("修正あり"),
    "partly": _l("一部修正"),
    "rejected": _l("修正なし"),
    "reference": _l("修正なし（今後の参考とします）"),
    "merged": _l("他の意見とあわせて回答"),
}


@dataclass
class RecordGroup:
    """One item of the published table: its label, how many opinions it holds in all, and this page's rows."""

    item_id: int | None
    label: str
    count: int
    rows: list[PublishedRow]


def published_counts(round_id: int, own_org_id: int | None, only_own: bool) -> dict[int | None, int]:
    """Opinions of the published table per item (None: the proposals), in one GROUP BY."""
    rows = published_rows(round_id, own_org_id, only_own).subquery()
    stmt = select(rows.c.item_id, func.count()).group_by(rows.c.item_id)
    return {item_id: count for item_id, count in db.session.execute(stmt)}


def record_groups(page: Page, counts: dict[int | None, int]) -> list[RecordGroup]:
    """The page's rows grouped by item, in order (an item cut by the pager continues on the next page)."""
    groups: list[RecordGroup] = []
    for row in page.rows:
        item_id = row.opinion.item_id
        if not groups or groups[-1].item_id != item_id:
            label = f"{row.item_number} {row.item_heading}" if item_id else _("新しい項目の提案")
            groups.append(RecordGroup(item_id, label, counts.get(item_id, 0), []))
        groups[-1].rows.append(row)
    return groups


def answering_both_ways(round_id: int) -> set[int]:
    """The organisations (unions) that submitted an answer both to this round directly and to their prefecture's
    sub-round of it (「両方から回答」), in two queries."""
    via_prefecture = set(
        db.session.scalars(
            select(Answer.organization_id)
            .join(Round, Round.id == Answer.round_id)
            .where(Round.parent_id == round_id, Answer.status == "submitted")
        )
    )
    if not via_prefecture:
        return set()
    direct = db.session.scalars(
        select(Answer.organization_id).where(Answer.round_id == round_id, Answer.status == "submitted")
    )
    return via_prefecture & set(direct)
