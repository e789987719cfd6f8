"""Reading the follow-up for pages, the API, the reports and the notifications lane.

For the notifications engineer: ``visits_due(now, within)`` (planned visits starting soon, for reminders to the
staff who go) and ``overdue_answers(now)`` (addressees whose promised answer date has passed with request items
still unanswered). Both are plain reads taking the request's ``now``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.core import clock
from consult.extensions import db
from consult.followup.models import AnswerExchange, CarryLink, FollowupPlan, Indicator, ItemAnswer, Visit
from consult.letters import compose
from consult.letters.diffing import char_diff
from consult.letters.models import Addressee, Campaign, Letter, RequestItem
from consult.letters.signals import item_predecessors
from consult.orgs.models import Organization


@dataclass
class Cell:
    addressee: Addressee
    receives: bool
    answer: ItemAnswer | None = None
    overdue: bool = False

    @property
    def current(self) -> AnswerExchange | None:
        return self.answer.current if self.answer else None

    @property
    def grade(self) -> str:
        return self.answer.grade if self.answer else ""

    @property
    def answered(self) -> bool:
        current = self.current
        return bool(current and (current.text or current.grade))


@dataclass
class Row:
    item: RequestItem
    label: str
    cells: list[Cell]


@dataclass
class Grid:
    campaign: Campaign
    plan: FollowupPlan
    addressees: list[Addressee]
    rows: list[Row]
    counts: dict[str, int] = field(default_factory=dict)
    unanswered: int = 0
    overdue: int = 0
    expected: dict[int, object] = field(default_factory=dict)  # addressee id → promised answer date


def plan_of(campaign: Campaign) -> FollowupPlan:
    from consult.followup.operations import plan_for

    return plan_for(campaign)


def _campaign_loaded(campaign_id: int) -> Campaign:
    return db.session.scalars(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .options(
            selectinload(Campaign.letters).selectinload(Letter.items).selectinload(RequestItem.children),
            selectinload(Campaign.addressees).selectinload(Addressee.selected),
        )
    ).one()


def expected_dates(campaign_id: int) -> dict[int, object]:
    """addressee id → the latest date an answer was promised by, over visits not yet answered."""
    found: dict[int, object] = {}
    for visit in db.session.scalars(
        select(Visit).where(Visit.campaign_id == campaign_id, Visit.answer_expected_on.is_not(None))
    ):
        if visit.status == "answered":
            continue
        found[visit.addressee_id] = max(
            found.get(visit.addressee_id, visit.answer_expected_on), visit.answer_expected_on
        )
    return found


def grid(campaign: Campaign, now: datetime | None = None) -> Grid:
    """Addressees × request items with the current grade in each cell, counts per grade, unanswered, overdue."""
    campaign = _campaign_loaded(campaign.id)
    plan = plan_of(campaign)
    addressees = list(campaign.addressees)
    included = {a.id: compose.included_ids(a) for a in addressees}
    answers = {
        (a.request_item_id, a.addressee_id): a
        for a in db.session.scalars(
            select(ItemAnswer)
            .join(Addressee, Addressee.id == ItemAnswer.addressee_id)
            .where(Addressee.campaign_id == campaign.id)
            .options(selectinload(ItemAnswer.exchanges))
        )
    }
    expected = expected_dates(campaign.id)
    today = clock.to_jst(now).date() if now is not None else None
    rows = []
    counts: Counter[str] = Counter()
    unanswered = overdue = 0
    for letter in campaign.letters:
        labels = compose.item_labels(letter)
        for top in letter.top_items():
            for item in (top, *top.children):
                cells = []
                for addressee in addressees:
                    receives = addressee.letter_id == letter.id and item.id in included[addressee.id]
                    cell = Cell(addressee, receives and not item.children, answers.get((item.id, addressee.id)))
                    if cell.receives:
                        if cell.grade:
                            counts[cell.grade] += 1
                        if not cell.answered:
                            unanswered += 1
                            promised = expected.get(addressee.id)
                            if today is not None and promised is not None and promised < today:
                                cell.overdue = True
                                overdue += 1
                    cells.append(cell)
                rows.append(Row(item, labels.get(item.id, ""), cells))
    ordered = {grade: counts.get(grade, 0) for grade in plan.grades()}
    ordered.update({grade: n for grade, n in counts.items() if grade not in ordered})
    return Grid(campaign, plan, addressees, rows, ordered, unanswered, overdue, expected)


def visits_of(campaign: Campaign) -> list[Visit]:
    return list(
        db.session.scalars(
            select(Visit)
            .where(Visit.campaign_id == campaign.id)
            .options(selectinload(Visit.attachments), selectinload(Visit.addressee))
            .order_by(Visit.starts_at, Visit.id)
        )
    )


# ---------------------------------------------------------------- for the notifications lane


def visits_due(now: datetime, within: timedelta = timedelta(days=1)) -> list[Visit]:
    """Planned visits that start between now and now + within (reminders to the staff who go)."""
    return list(
        db.session.scalars(
            select(Visit)
            .where(Visit.status == "planned", Visit.starts_at >= now, Visit.starts_at <= now + within)
            .options(selectinload(Visit.addressee))
            .order_by(Visit.starts_at, Visit.id)
        )
    )


@dataclass
class Overdue:
    campaign: Campaign
    addressee: Addressee
    expected_on: object
    unanswered_items: int


def overdue_answers(now: datetime) -> list[Overdue]:
    """Addressees whose promised answer date (a visit's answer_expected_on, Japan time) has passed while some of
    their request items are still unanswered."""
    today = clock.to_jst(now).date()
    campaign_ids = db.session.scalars(
        select(Visit.campaign_id)
        .where(Visit.answer_expected_on.is_not(None), Visit.answer_expected_on < today, Visit.status != "answered")
        .distinct()
    ).all()
    found = []
    for campaign_id in sorted(campaign_ids):
        board = grid(db.session.get(Campaign, campaign_id), now)
        per: Counter[int] = Counter()
        for row in board.rows:
            for cell in row.cells:
                if cell.overdue:
                    per[cell.addressee.id] += 1
        for addressee in board.addressees:
            if per[addressee.id]:
                found.append(Overdue(board.campaign, addressee, board.expected[addressee.id], per[addressee.id]))
    return found


# ---------------------------------------------------------------- history of a demand


def predecessors(item_ids: list[int]) -> dict[int, int]:
    """request item id → the request item it continues (for the letters API's predecessor_id)."""
    if not item_ids:
        return {}
    return dict(
        db.session.execute(
            select(CarryLink.request_item_id, CarryLink.predecessor_id).where(CarryLink.request_item_id.in_(item_ids))
        ).all()
    )


@item_predecessors.connect
def _item_predecessors(item_ids: list[int], **_kwargs) -> dict[int, int]:
    return predecessors(item_ids)


def _successor(item_id: int) -> int | None:
    return db.session.scalar(
        select(CarryLink.request_item_id).where(
            CarryLink.predecessor_id == item_id, CarryLink.request_item_id.is_not(None)
        )
    )


@dataclass
class Year:
    item: RequestItem
    campaign: Campaign
    year: int
    diff: list[tuple[str, str]] | None  # against the year before
    answers: list[tuple[Addressee, ItemAnswer | None]]
    plan: FollowupPlan


def history(item: RequestItem) -> list[Year]:
    """The demand across the years, oldest first: its wording, a character diff to the year before, the answers."""
    chain = [item]
    seen = {item.id}
    while True:
        before = predecessors([chain[0].id]).get(chain[0].id)
        if before is None or before in seen:
            break
        seen.add(before)
        chain.insert(0, db.session.get(RequestItem, before))
    while True:
        after = _successor(chain[-1].id)
        if after is None or after in seen:
            break
        seen.add(after)
        chain.append(db.session.get(RequestItem, after))
    years = []
    previous = None
    for entry in chain:
        campaign = entry.letter.campaign
        answers = []
        for addressee in campaign.addressees:
            if addressee.letter_id == entry.letter_id and entry.id in compose.included_ids(addressee):
                answer = db.session.scalar(
                    select(ItemAnswer).where(
                        ItemAnswer.request_item_id == entry.id, ItemAnswer.addressee_id == addressee.id
                    )
                )
                answers.append((addressee, answer))
        diff = char_diff(previous.text, entry.text) if previous is not None else None
        years.append(Year(entry, campaign, campaign.date_year, diff, answers, plan_of(campaign)))
        previous = entry
    return years


# ---------------------------------------------------------------- indicators and the report


def indicators_of(campaign: Campaign) -> list[Indicator]:
    return list(
        db.session.scalars(
            select(Indicator)
            .where(Indicator.campaign_id == campaign.id)
            .options(selectinload(Indicator.values))
            .order_by(Indicator.id)
        )
    )


def indicators_of_organizations(organization_ids: list[int] | None = None) -> list[Indicator]:
    """Organisations' indicators (all of them, or those of these organisations), by organisation."""
    stmt = select(Indicator).where(Indicator.organization_id.is_not(None))
    if organization_ids is not None:
        stmt = stmt.where(Indicator.organization_id.in_(organization_ids))
    return list(
        db.session.scalars(
            stmt.options(selectinload(Indicator.values)).order_by(Indicator.organization_id, Indicator.id)
        )
    )


def indicator_organizations() -> list[Organization]:
    """The organisations an indicator may belong to: headquarters first, then the prefectures and unions."""
    return list(db.session.scalars(select(Organization).order_by(Organization.parent_id.is_not(None), Organization.id)))


def indicator_rows(indicator) -> list[tuple[int, float | None, float | None, str]]:
    from consult.followup.chart import grade_against_target

    return [
        (v.fiscal_year, v.target, v.actual, grade_against_target(v.target, v.actual, indicator.higher_is_better))
        for v in indicator.values
    ]


def indicator_chart(indicator) -> str:
    from consult.followup.chart import Point, line_chart

    points = [Point(v.fiscal_year, v.target, v.actual) for v in indicator.values]
    return line_chart(
        f"{indicator.name}（{indicator.unit}）" if indicator.unit else indicator.name, indicator.unit, points
    )


def report_data(campaign: Campaign, now: datetime):
    """The 進行管理報告書's contents: each request with its answers and grades by addressee, for every year of
    its history up to this campaign."""
    from consult.followup import report

    board = grid(campaign, now)
    items = []
    for row in board.rows:
        if row.item.children:
            continue
        years = []
        for year in history(row.item):
            lines = [
                report.AnswerLine(
                    addressee.organisation,
                    answer.current.stage if answer and answer.current else "",
                    answer.current.text if answer and answer.current else "未回答",
                    year.plan.grade_label(answer.grade) if answer and answer.grade else "",
                    answer.current.reason if answer and answer.current else "",
                    answer.current.remedy if answer and answer.current else "",
                )
                for addressee, answer in year.answers
            ]
            years.append(report.YearLines(year.year, year.item.text, lines))
            if year.item.id == row.item.id:
                break  # the report is this year's: later years are not written yet
        items.append(report.ItemEntry(row.label, row.item.text, years))
    indicators = [
        report.IndicatorLines(i.name, i.unit, indicator_rows(i), indicator_chart(i)) for i in indicators_of(campaign)
    ]
    counts = {board.plan.grade_label(g): n for g, n in board.counts.items()}
    return report.ReportData(
        board.campaign.title,
        compose.date_text(board.campaign),
        counts,
        board.unanswered,
        board.overdue,
        items,
        indicators,
    )
