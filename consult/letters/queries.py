"""Reading campaigns and letters for their pages, in a fixed number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer, joinedload, selectinload

from consult.answers.models import Answer, Opinion
from consult.answers.queries import counted
from consult.core.convert import parse_id
from consult.core.text import clean
from consult.extensions import db
from consult.letters.compose import item_labels
from consult.letters.models import Addressee, Campaign, Letter, LetterTemplate, RequestItem, RequestItemOpinion
from consult.rounds.models import Round, RoundItem

OPINION_PAGE = 200  # opinions listed at most on a request item's page


def rounds_to_build_on() -> list[Round]:
    """Every round, newest deadline first, for the campaign form's 元にした組織討議."""
    return list(db.session.scalars(select(Round).order_by(Round.deadline.desc(), Round.id.desc())))


def campaign_for_overview(campaign_id: int) -> Campaign:
    """A campaign with its letters, their items and its addressees' choices loaded."""
    return db.session.scalars(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .options(
            selectinload(Campaign.letters).selectinload(Letter.items).selectinload(RequestItem.children),
            selectinload(Campaign.addressees).selectinload(Addressee.selected),
        )
    ).one()


def letters_with_items(campaign: Campaign) -> list[Letter]:
    """The campaign's letters in order, with their items, for the addressee form."""
    return list(
        db.session.scalars(
            select(Letter)
            .where(Letter.campaign_id == campaign.id)
            .options(selectinload(Letter.items).selectinload(RequestItem.children))
            .order_by(Letter.position, Letter.id)
        )
    )


@dataclass
class ItemTrace:
    """A request item in print order, its label in the whole letter, and the opinions it rests on."""

    item: RequestItem
    level: int
    label: str
    opinions: list[Opinion] = field(default_factory=list)


def items_with_opinions(letter_id: int) -> tuple[Letter, list[ItemTrace]]:
    """The letter and every item in print order with its label and opinions (their answers' organisations and
    items loaded): what the letter editor shows, in four queries."""
    letter = db.session.scalars(
        select(Letter)
        .where(Letter.id == letter_id)
        .options(
            selectinload(Letter.items).selectinload(RequestItem.children),
            selectinload(Letter.items)
            .selectinload(RequestItem.opinions)
            .joinedload(Opinion.answer)
            .joinedload(Answer.organization),
            selectinload(Letter.items).selectinload(RequestItem.opinions).joinedload(Opinion.item),
        )
        .execution_options(populate_existing=True)
    ).one()
    labels = item_labels(letter)
    traces = []
    for top in letter.top_items():
        traces.append(ItemTrace(top, 1, labels.get(top.id, ""), list(top.opinions)))
        traces.extend(ItemTrace(child, 2, labels.get(child.id, ""), list(child.opinions)) for child in top.children)
    return letter, traces


def addressees_of(letter: Letter) -> list[Addressee]:
    """Who receives this letter, in the campaign's order."""
    return list(
        db.session.scalars(
            select(Addressee).where(Addressee.letter_id == letter.id).order_by(Addressee.position, Addressee.id)
        )
    )


def addressees_choosing(item: RequestItem) -> list[Addressee]:
    """Addressees who chose this item, or one of its items, for their part of the letter."""
    ids = [item.id, *(child.id for child in item.children)]
    return list(
        db.session.scalars(select(Addressee).join(Addressee.selected).where(RequestItem.id.in_(ids)).distinct())
    )


def item_count(letter: Letter) -> int:
    return db.session.scalar(select(func.count()).select_from(RequestItem).where(RequestItem.letter_id == letter.id))


@dataclass
class OpinionFilters:
    """What the list of opinions to link is narrowed to: an item of the round ("new" = proposals) and words."""

    item: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args) -> OpinionFilters:
        return cls(item=args.get("item", ""), q=clean(args.get("q", "")).strip()[:200])  # no NUL into a query


def _counted_opinions(round_id: int):
    return select(Opinion).join(Answer, counted(round_id))


def opinions_to_link(campaign: Campaign, filters: OpinionFilters) -> tuple[list[RoundItem], list[Opinion], bool]:
    """The source round's items (for the filter) and its counted opinions under the filters, at most
    OPINION_PAGE of them; and whether there are more."""
    if campaign.round_id is None:
        return [], [], False
    round_items = list(
        db.session.scalars(
            select(RoundItem).where(RoundItem.round_id == campaign.round_id).order_by(RoundItem.position, RoundItem.id)
        )
    )
    query = _counted_opinions(campaign.round_id).options(
        joinedload(Opinion.answer).joinedload(Answer.organization), joinedload(Opinion.item)
    )
    if filters.item == "new":
        query = query.where(Opinion.item_id.is_(None))
    elif parse_id(filters.item) is not None:
        query = query.where(Opinion.item_id == parse_id(filters.item))
    if filters.q:
        texts = (Opinion.heading, Opinion.referred_text, Opinion.proposed_text, Opinion.reason)
        query = query.where(or_(*(column.icontains(filters.q, autoescape=True) for column in texts)))
    rows = list(
        db.session.scalars(
            query.order_by(Opinion.item_id, Opinion.answer_id, Opinion.id).limit(OPINION_PAGE + 1)
        ).unique()
    )
    return round_items, rows[:OPINION_PAGE], len(rows) > OPINION_PAGE


def linked_opinions(item: RequestItem) -> list[Opinion]:
    """The opinions a request item rests on, with their organisations and items."""
    return list(
        db.session.scalars(
            select(Opinion)
            .join(RequestItemOpinion, RequestItemOpinion.opinion_id == Opinion.id)
            .where(RequestItemOpinion.request_item_id == item.id)
            .options(joinedload(Opinion.answer).joinedload(Answer.organization), joinedload(Opinion.item))
            .order_by(Opinion.id)
        ).unique()
    )


def current_template_row() -> LetterTemplate | None:
    """The newest uploaded template without its bytes, or None (the default one is in use)."""
    return db.session.scalars(
        select(LetterTemplate)
        .options(defer(LetterTemplate.data))
        .order_by(LetterTemplate.uploaded_at.desc(), LetterTemplate.id.desc())
        .limit(1)
    ).first()


def linkable_ids(campaign: Campaign, chosen: list[int]) -> list[int]:
    """The chosen opinions that can be linked on the campaign's pages: counted opinions of its source round."""
    if not chosen or campaign.round_id is None:
        return []
    return sorted(
        db.session.scalars(select(Opinion.id).join(Answer, counted(campaign.round_id)).where(Opinion.id.in_(chosen)))
    )
