"""Reading answers: who has answered a round (the board), and the facts the rounds feature asks for by signal.

The board is one row per target organisation, in three queries whatever the number of targets.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, select

from consult.answers.models import Answer, Opinion
from consult.core.clock import to_jst
from consult.core.text import safe_cell
from consult.extensions import db
from consult.orgs.models import Organization
from consult.rounds import signals
from consult.rounds.models import DeadlineExtension, Round, RoundItem, RoundTarget
from consult.rounds.queries import ExtensionEntry, extension_entries

STATE_LABELS = {
    "not_started": _l("未着手"),
    "draft": _l("下書き"),
    "submitted": _l("提出済"),
    "no_opinion": _l("意見なし"),
}
CSV_COLUMNS = (
    _l("組織コード"),
    _l("組織名"),
    _l("状態"),
    _l("提出日時"),
    _l("締切（延長後）"),
    _l("延長理由"),
    _l("締切後の送信"),
)


@dataclass
class BoardRow:
    """One target organisation's state for the round."""

    organization: Organization
    state: str
    answer_id: int | None = None
    submitted_at: datetime | None = None
    late_at: datetime | None = None
    deadline: datetime | None = None
    extension: DeadlineExtension | None = None

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass
class Board:
    """Rows and the counts headquarters reads first."""

    rows: list[BoardRow]
    counts: dict[str, int]
    extensions: list[ExtensionEntry] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def submitted(self) -> int:
        """Answers sent in, 「意見なし」 included."""
        return self.counts["submitted"] + self.counts["no_opinion"]

    @property
    def late(self) -> int:
        return sum(1 for row in self.rows if row.late_at is not None)

    def filtered(self, state: str = "", text: str = "", kind: str = "") -> list[BoardRow]:
        """Rows matching the board's filters; 'late' and 'extended' are states of their own for filtering."""
        rows = self.rows
        if state == "late":
            rows = [row for row in rows if row.late_at is not None]
        elif state == "extended":
            rows = [row for row in rows if row.extension is not None]
        elif state in STATE_LABELS:
            rows = [row for row in rows if row.state == state]
        if kind:
            rows = [row for row in rows if row.organization.kind == kind]
        text = text.strip().casefold()
        if text:
            rows = [
                row
                for row in rows
                if text in row.organization.name.casefold() or text in row.organization.code.casefold()
            ]
        return rows


def counted(round_id: int):
    """The condition that makes an opinion count: its answer is this round's and submitted with opinions."""
    return and_(
        Answer.id == Opinion.answer_id,
        Answer.round_id == round_id,
        Answer.status == "submitted",
        Answer.no_opinion.is_(False),
    )


def answer_state(answer) -> str:
    """未着手, 下書き, 提出済 or 意見なし."""
    if answer is None:
        return "not_started"
    if answer.status == "submitted":
        return "no_opinion" if answer.no_opinion else "submitted"
    return "draft"


def compute_board(round_: Round) -> Board:
    """The state of every target organisation: one query for targets, one for answers, one for extensions."""
    organizations = db.session.scalars(
        select(Organization)
        .join(RoundTarget, RoundTarget.organization_id == Organization.id)
        .where(RoundTarget.round_id == round_.id)
        .order_by(Organization.position, Organization.id)
    ).all()
    answers = {
        answer.organization_id: answer
        for answer in db.session.execute(
            select(
                Answer.id, Answer.organization_id, Answer.status, Answer.no_opinion, Answer.submitted_at, Answer.late_at
            ).where(Answer.round_id == round_.id)
        )
    }
    entries = extension_entries(round_)  # newest first
    latest: dict[int, DeadlineExtension] = {}
    for entry in reversed(entries):
        latest[entry.extension.organization_id] = entry.extension
    rows = []
    counts = dict.fromkeys(STATE_LABELS, 0)
    for org in organizations:
        answer = answers.get(org.id)
        extension = latest.get(org.id)
        deadline = round_.deadline
        if extension is not None and extension.until > deadline:
            deadline = extension.until
        row = BoardRow(
            organization=org,
            state=answer_state(answer),
            answer_id=answer.id if answer else None,
            submitted_at=answer.submitted_at if answer else None,
            late_at=answer.late_at if answer else None,
            deadline=deadline,
            extension=extension,
        )
        counts[row.state] += 1
        rows.append(row)
    return Board(rows=rows, counts=counts, extensions=entries)


def _csv_time(value: datetime | None) -> str:
    local = to_jst(value)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


def board_csv(rows: list[BoardRow]) -> bytes:
    """The board for Excel: UTF-8 with a BOM so Japanese opens correctly, times in Japan time."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        cells = (
            row.organization.code,
            row.organization.name,
            row.state_label,
            _csv_time(row.submitted_at),
            _csv_time(row.deadline),
            row.extension.reason if row.extension else "",
            _csv_time(row.late_at),
        )
        writer.writerow([safe_cell(cell) for cell in cells])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---------------------------------------------------------------- answers to the rounds feature's questions


@signals.answered_organizations.connect
def answered_organizations(round_: Round) -> set[int]:
    return set(db.session.scalars(select(Answer.organization_id).where(Answer.round_id == round_.id)))


@signals.opinion_counts.connect
def opinion_counts(round_: Round) -> dict[int, int]:
    """How many opinions each item of the round has, in one query."""
    stmt = (
        select(Opinion.item_id, func.count(Opinion.id))
        .join(RoundItem, RoundItem.id == Opinion.item_id)
        .where(RoundItem.round_id == round_.id)
        .group_by(Opinion.item_id)
    )
    return {item_id: count for item_id, count in db.session.execute(stmt)}


@signals.answer_states.connect
def answer_states(round_: Round) -> dict[str, int]:
    """Answers of target organisations per state, in one GROUP BY."""
    state = answer_state_column()
    stmt = (
        select(state, func.count())
        .select_from(Answer)
        .join(
            RoundTarget,
            (RoundTarget.round_id == Answer.round_id) & (RoundTarget.organization_id == Answer.organization_id),
        )
        .where(Answer.round_id == round_.id)
        .group_by(state)
    )
    return dict(db.session.execute(stmt).all())


@signals.submitted_counts.connect
def submitted_counts(round_ids: list[int]) -> dict[int, int]:
    stmt = (
        select(Answer.round_id, func.count())
        .where(Answer.status == "submitted", Answer.round_id.in_(round_ids))
        .group_by(Answer.round_id)
    )
    return dict(db.session.execute(stmt).all())


def answer_state_column():
    """answer_state() as SQL: draft, submitted or no_opinion."""
    return case((Answer.status != "submitted", "draft"), (Answer.no_opinion.is_(True), "no_opinion"), else_="submitted")
