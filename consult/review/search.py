"""Headquarters' one search box: opinions, proposals, items and 本部の考え方 of every round, Japanese-aware.

The full-text index is `consult.core.search.index.SearchIndex("search")`, created by migration 0004_review. It
holds three kinds of documents:

- "opinion": an opinion's heading, 該当箇所, 修正案 and 理由 (a proposal of a new item is an opinion without item);
- "answer": headquarters' view (本部の考え方) of an opinion, by the opinion's id;
- "item": a draft item's number, heading and text.

The index follows the ORM: every flush of `db.session` upserts the changed opinions and items and removes the
deleted ones, in the same transaction as the change (`SearchIndex.follow`). A query is folded as the documents
are (ＤＸ/DX, ﾃﾞｼﾞﾀﾙ/デジタル/でじたる, サーバー/サーバ) and every term must occur; the outer loop of every search
is an index lookup (FTS5 trigram / gram tables on SQLite, pg_trgm and gram GIN indexes on PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select

from consult.answers.models import DISPOSITIONS, STANCES, Answer, Opinion
from consult.answers.signals import opinion_rows_written
from consult.core.convert import parse_id, parse_page
from consult.core.search.fold import fold, highlight, match_spans, terms
from consult.core.search.index import SearchIndex
from consult.core.text import clean
from consult.extensions import db
from consult.orgs.models import Organization
from consult.review.groups import kept_ids
from consult.rounds.models import Round, RoundItem

INDEX = SearchIndex("search")
OPINION, ANSWER, ITEM = "opinion", "answer", "item"
QUERY_LIMIT = 200
COUNT_CAP = 1000  # "1,000件以上": counting every match of a common word costs more than it tells
ITEM_LIMIT = 20
SNIPPET_CHARS = 120
PAGE_SIZE = 20  # hits a page: each hit's snippets are folded and mapped back to the original text
NO_DISPOSITION = "none"
PROPOSALS = "proposals"


def opinion_texts(opinion: Opinion):
    return [opinion.heading, opinion.referred_text, opinion.proposed_text, opinion.reason]


def answer_texts(opinion: Opinion):
    return opinion.hq_view


def item_texts(item: RoundItem):
    return [item.number, item.heading, item.body]


_followed = False


def follow() -> None:
    """Keep the index up to date at every flush of the app's session (once per process)."""
    global _followed
    if _followed:
        return
    INDEX.follow(db.session, Opinion, OPINION, opinion_texts)
    INDEX.follow(db.session, Opinion, ANSWER, answer_texts)
    INDEX.follow(db.session, RoundItem, ITEM, item_texts)
    opinion_rows_written.connect(_reindex_answer)
    _followed = True


def _reindex_answer(answer, deleted=(), **_kw) -> None:
    """The opinions of one answer written as rows (answers.operations): index them again, in the save's transaction."""
    session = db.session()
    rows = session.execute(
        select(
            Opinion.id, Opinion.heading, Opinion.referred_text, Opinion.proposed_text, Opinion.reason, Opinion.hq_view
        ).where(Opinion.answer_id == answer.id)
    ).all()
    INDEX.upsert_many(session, OPINION, [(r[0], list(r[1:5])) for r in rows])
    INDEX.upsert_many(session, ANSWER, [(r[0], r[5]) for r in rows])
    if deleted:
        INDEX.delete_many(session, OPINION, deleted)
        INDEX.delete_many(session, ANSWER, deleted)


def reindex(conn) -> int:
    """Index every opinion, answer and item again (after a bulk load that bypassed the ORM); how many changed."""
    changed = 0
    rows = conn.execute(
        select(
            Opinion.id, Opinion.heading, Opinion.referred_text, Opinion.proposed_text, Opinion.reason, Opinion.hq_view
        )
    )
    while batch := rows.fetchmany(5000):
        changed += INDEX.upsert_many(conn, OPINION, [(r[0], list(r[1:5])) for r in batch])
        changed += INDEX.upsert_many(conn, ANSWER, [(r[0], r[5]) for r in batch])
    items = conn.execute(select(RoundItem.id, RoundItem.number, RoundItem.heading, RoundItem.body)).all()
    changed += INDEX.upsert_many(conn, ITEM, [(r[0], list(r[1:])) for r in items])
    INDEX.prune(conn, OPINION, select(Opinion.id))
    INDEX.prune(conn, ANSWER, select(Opinion.id))
    INDEX.prune(conn, ITEM, select(RoundItem.id))
    return changed


# ---------------------------------------------------------------- what is asked


@dataclass
class Query:
    """The search box and its filters (GET parameters); unknown values are dropped, a search never fails."""

    q: str = ""
    round_id: int | None = None
    item: str = ""  # an item id, "proposals", or "" for every item
    org: str = ""  # an organisation's code, or part of its name
    prefecture_id: int | None = None
    stance: str = ""
    disposition: str = ""
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Query:
        stance = args.get("stance", "")
        disposition = args.get("disposition", "")
        item = args.get("item", "")
        item_id = parse_id(item) if item.isascii() and item.isdigit() else None
        return cls(
            q=clean(args.get("q", "")).strip()[:QUERY_LIMIT],
            round_id=parse_id(args.get("round", "")),
            item=PROPOSALS if item == PROPOSALS else (str(item_id) if item_id else ""),
            org=clean(args.get("org", "")).strip()[:QUERY_LIMIT],
            prefecture_id=parse_id(args.get("prefecture", "")),
            stance=stance if stance in STANCES else "",
            disposition=disposition if disposition in DISPOSITIONS or disposition == NO_DISPOSITION else "",
            page=parse_page(args.get("page", "1")),
        )

    def params(self, **override) -> dict:
        values = {
            "q": self.q,
            "round": self.round_id or "",
            "item": self.item,
            "org": self.org,
            "prefecture": self.prefecture_id or "",
            "stance": self.stance,
            "disposition": self.disposition,
            "page": self.page if self.page > 1 else "",
        }
        values.update(override)
        return {k: v for k, v in values.items() if v not in ("", None)}

    @property
    def terms(self) -> list[str]:
        return terms(self.q)

    @property
    def item_id(self) -> int | None:
        return int(self.item) if self.item.isdigit() else None


# ---------------------------------------------------------------- what is found


@dataclass
class Snippet:
    """A part of one field around its first match, cut into (segment, is_match) pairs for the template."""

    field: str
    segments: list[tuple[str, bool]]
    spans: list[tuple[int, int]]  # of the whole field's text, for the API
    text: str  # the whole field


@dataclass
class OpinionHit:
    opinion: Opinion
    round_id: int
    round_title: str
    organization_id: int
    organization_code: str
    organization_name: str
    item_number: str
    item_heading: str
    snippets: list[Snippet] = field(default_factory=list)


@dataclass
class ItemHit:
    item: RoundItem
    round_title: str
    heading: list[tuple[str, bool]]
    body: list[tuple[str, bool]]


@dataclass
class Results:
    opinions: list[OpinionHit]
    items: list[ItemHit]
    total: int  # at most COUNT_CAP
    page: int
    size: int

    @property
    def capped(self) -> bool:
        return self.total >= COUNT_CAP

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


FIELDS = {
    "heading": "heading",
    "referred_text": "referred_text",
    "proposed_text": "proposed_text",
    "reason": "reason",
    "hq_view": "hq_view",
}


def snippet(text: str, wanted: list[str], width: int = SNIPPET_CHARS) -> tuple[list[tuple[str, bool]], list]:
    """The highlighted part of `text` around its first match, and every match's span ([] when none matches)."""
    folded = fold(text)
    if not any(term in folded for term in wanted):  # cheap: most fields of a hit hold no term
        return [], []
    spans = match_spans(text, wanted)
    if not spans:
        return [], []
    start = max(0, spans[0][0] - width // 3)
    end = min(len(text), max(start + width, spans[0][1]))
    segments: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    pos = start
    for a, b in spans:
        if b <= start or a >= end:
            continue
        a, b = max(a, start), min(b, end)
        if a > pos:
            segments.append((text[pos:a], False))
        segments.append((text[a:b], True))
        pos = b
    if pos < end:
        segments.append((text[pos:end], False))
    if end < len(text):
        segments.append(("…", False))
    return segments, spans


def snippets_of(opinion: Opinion, wanted: list[str]) -> list[Snippet]:
    found = []
    for name in FIELDS:
        text = getattr(opinion, name) or ""
        segments, spans = snippet(text, wanted)
        if segments:
            found.append(Snippet(name, segments, spans, text))
    return found


def _prefecture_condition(prefecture_id: int):
    """An organisation in the prefecture: the prefecture headquarters itself or a local union under it."""
    return or_(Organization.id == prefecture_id, Organization.parent_id == prefecture_id)


def _filtered(stmt, query: Query):
    """`stmt` (of opinions joined with their answer and organisation) narrowed to submitted opinions and filters."""
    stmt = stmt.where(Answer.status == "submitted", Answer.no_opinion.is_(False))
    if query.round_id:
        stmt = stmt.where(Answer.round_id == query.round_id)
    if query.item == PROPOSALS:
        stmt = stmt.where(Opinion.item_id.is_(None))
    elif query.item_id:
        stmt = stmt.where(Opinion.item_id == query.item_id)
    if query.org:
        stmt = stmt.where(or_(Organization.code == query.org, Organization.name.icontains(query.org, autoescape=True)))
    if query.prefecture_id:
        stmt = stmt.where(_prefecture_condition(query.prefecture_id))
    if query.stance:
        stmt = stmt.where(Opinion.stance == query.stance)
    if query.disposition == NO_DISPOSITION:
        stmt = stmt.where(Opinion.disposition.is_(None))
    elif query.disposition:
        stmt = stmt.where(Opinion.disposition == query.disposition)
    return stmt


def _joined(*columns):
    return (
        select(*columns)
        .join(Answer, Answer.id == Opinion.answer_id)
        .join(Organization, Organization.id == Answer.organization_id)
    )


def opinion_statement(query: Query, dialect: str):
    """The SELECT of (Opinion, Answer.round_id, Organization) of submitted opinions matching the query and filters;
    None when the query has no term."""
    if not query.terms:
        return None
    # Every term in the opinion's own texts, or every term in headquarters' view of it.
    found = INDEX.matching_ids(dialect, query.q, [OPINION, ANSWER])
    return _filtered(_joined(Opinion, Answer.round_id, Organization).where(Opinion.id.in_(found)), query)


def _narrow(query: Query) -> bool:
    """Filters that leave a few thousand opinions at most: read those opinions' texts rather than the index."""
    return bool(query.item or query.org or query.prefecture_id)


def newest_ids(query: Query, dialect: str, cap: int = COUNT_CAP) -> list[int]:
    """The ids of the newest `cap` matching opinions, newest first; a fixed, small amount of work per page.

    Narrow filters (an item, an organisation, a prefecture): the filtered opinions newest first, each checked on
    its folded texts, stopping at `cap`. Otherwise the index is walked newest first (SQLite's FTS5 only:
    `SearchIndex.newest_first`) and each chunk of candidates filtered, until `cap` are found."""
    if not query.terms:
        return []
    kinds = [OPINION, ANSWER]
    if _narrow(query):
        stmt = _filtered(_joined(Opinion.id).where(INDEX.holds(dialect, query.q, kinds, Opinion.id)), query)
        return list(db.session.scalars(stmt.order_by(Opinion.id.desc()).limit(cap)))
    found: set[int] = set()
    for chunk in INDEX.newest_first(db.session(), query.q, kinds):
        if chunk:
            ids = _filtered(_joined(Opinion.id).where(Opinion.id.in_(list(set(chunk) - found))), query)
            found.update(db.session.scalars(ids))
        if len(found) >= cap:
            break
    # The index's order is the order opinions were written, but for opinions written in one flush.
    return sorted(found, reverse=True)[:cap]


def _hits(rows, wanted: list[str]) -> list[OpinionHit]:
    rows = list(rows)
    item_ids = {op.item_id for op, _r, _o in rows if op.item_id}
    round_ids = {round_id for _op, round_id, _o in rows}
    items = (
        {i.id: i for i in db.session.scalars(select(RoundItem).where(RoundItem.id.in_(item_ids)))} if item_ids else {}
    )
    titles = dict(db.session.execute(select(Round.id, Round.title).where(Round.id.in_(round_ids))).all())
    hits = []
    for opinion, round_id, org in rows:
        item = items.get(opinion.item_id)
        hits.append(
            OpinionHit(
                opinion=opinion,
                round_id=round_id,
                round_title=titles.get(round_id, ""),
                organization_id=org.id,
                organization_code=org.code,
                organization_name=org.name,
                item_number=item.number if item else "",
                item_heading=item.heading if item else opinion.heading,
                snippets=snippets_of(opinion, wanted),
            )
        )
    return hits


WINDOW = 4 * COUNT_CAP


def _newest_in_window(query: Query, dialect: str) -> list[int] | None:
    """PostgreSQL: the newest COUNT_CAP matches when they lie among the newest WINDOW opinions (a common word,
    which its indexes would hand over by the ten thousand), read from those opinions' folded texts; None for a
    rarer one, which the trigram and gram indexes serve well."""
    edge = db.session.scalar(select(Opinion.id).order_by(Opinion.id.desc()).offset(WINDOW).limit(1))
    kinds = [OPINION, ANSWER]
    stmt = _filtered(_joined(Opinion.id).where(INDEX.holds(dialect, query.q, kinds, Opinion.id)), query)
    if edge is not None:
        stmt = stmt.where(Opinion.id > edge)
    ids = list(db.session.scalars(stmt.order_by(Opinion.id.desc()).limit(COUNT_CAP)))
    return ids if len(ids) >= COUNT_CAP or edge is None else None


def search(query: Query, size: int) -> Results:
    """One page of matching opinions (newest first) and the matching items; a fixed number of queries.

    The count stops at COUNT_CAP (「1,000件以上」): the pages reach that far, and the newest COUNT_CAP are what
    one walk of the index finds."""
    dialect = db.session.get_bind().dialect.name
    if not query.terms:
        return Results([], [], 0, 1, size)
    ids = newest_ids(query, dialect) if dialect == "sqlite" or _narrow(query) else _newest_in_window(query, dialect)
    if ids is not None:
        total = len(ids)
        page = min(query.page, max(1, -(-total // size)))
        shown = ids[(page - 1) * size : page * size]
        stmt = _joined(Opinion, Answer.round_id, Organization).where(Opinion.id.in_(shown))
        rows = db.session.execute(stmt.order_by(Opinion.id.desc())).all() if shown else []
    else:
        # PostgreSQL plans a capped count and a page of the newest from its trigram and gram indexes well.
        stmt = opinion_statement(query, dialect)
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).limit(COUNT_CAP).subquery()))
        page = min(query.page, max(1, -(-total // size)))
        rows = db.session.execute(stmt.order_by(Opinion.id.desc()).offset((page - 1) * size).limit(size)).all()
    return Results(_hits(rows, query.terms), search_items(query, dialect), total, page, size)


def search_items(query: Query, dialect: str) -> list[ItemHit]:
    """The draft items whose number, heading or text match (not when the search is narrowed to opinions' filters)."""
    if query.item or query.org or query.prefecture_id or query.stance or query.disposition:
        return []
    if not query.terms:
        return []
    # A round has tens of items: their folded texts are read (a common word's index entries are mostly opinions').
    stmt = (
        select(RoundItem, Round.title)
        .join(Round, Round.id == RoundItem.round_id)
        .where(INDEX.holds(dialect, query.q, [ITEM], RoundItem.id))
    )
    if query.round_id:
        stmt = stmt.where(RoundItem.round_id == query.round_id)
    stmt = stmt.order_by(RoundItem.round_id.desc(), RoundItem.position, RoundItem.id).limit(ITEM_LIMIT)
    wanted = query.terms
    return [
        ItemHit(item, title, highlight(f"{item.number} {item.heading}", wanted), snippet(item.body or "", wanted)[0])
        for item, title in db.session.execute(stmt)
    ]


def api_page(query: Query, after: int, limit: int) -> tuple[list[OpinionHit], int | None]:
    """A keyset page of matching opinions in id order for the API, and the last id when there are more."""
    dialect = db.session.get_bind().dialect.name
    stmt = opinion_statement(query, dialect)
    if stmt is None:
        return [], None
    rows = db.session.execute(stmt.where(Opinion.id > after).order_by(Opinion.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return _hits(rows, query.terms), (rows[-1][0].id if more and rows else None)


# ---------------------------------------------------------------- opinions like this one


SIMILAR_LIMIT = 10
SIMILAR_MIN_SCORE = 0.1


def similarity_source(opinion: Opinion) -> str:
    """What similarity reads of an opinion: its proposed change and its reason (a proposal's heading too)."""
    return " ".join(t for t in (opinion.heading, opinion.proposed_text, opinion.reason) if t)


def similar_opinions(opinion: Opinion, limit: int = SIMILAR_LIMIT) -> list[tuple[int, float]]:
    """The other submitted opinions of the same round most like this one: [(opinion_id, score)], most similar
    first. A round larger than similarity.MAX_GROUPED is compared item by item (the same item, or the proposals)."""
    from consult.answers.queries import counted
    from consult.core.search.similarity import MAX_GROUPED, Corpus

    round_id = opinion.answer.round_id
    stmt = select(Opinion.id, Opinion.heading, Opinion.proposed_text, Opinion.reason).join(Answer, counted(round_id))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    if total > MAX_GROUPED:
        stmt = stmt.where(Opinion.item_id.is_(None) if opinion.item_id is None else Opinion.item_id == opinion.item_id)
    docs = [(i, " ".join(t for t in (h, p, r) if t)) for i, h, p, r in db.session.execute(stmt)]
    if opinion.id not in {i for i, _t in docs}:
        return []
    return Corpus.build(docs).similar(opinion.id, limit=limit, min_score=SIMILAR_MIN_SCORE)


# ---------------------------------------------------------------- proposed groups of similar opinions


def proposed_groups(round_id: int, item_id: int | None):
    """Groups of the submitted opinions of one item (None: the proposals) that say the same thing, largest first,
    each with the words its opinions share (consult.core.search.similarity); the same opinions give the same
    groups every time. Only proposed: nothing is stored; opinions in a kept group (review.groups) are left out."""
    from consult.answers.queries import counted
    from consult.core.search.similarity import Corpus

    stmt = (
        select(Opinion.id, Opinion.heading, Opinion.proposed_text, Opinion.reason)
        .join(Answer, counted(round_id))
        .where(Opinion.item_id.is_(None) if item_id is None else Opinion.item_id == item_id)
    )
    if item_id is not None:  # what headquarters already kept in a group is no longer proposed
        stmt = stmt.where(Opinion.id.not_in(kept_ids(item_id)))
    docs = [(i, " ".join(t for t in (h, p, r) if t)) for i, h, p, r in db.session.execute(stmt)]
    return Corpus.build(docs).groups()
