"""Reading rounds for their pages, and the facts about their answers asked through consult.rounds.signals."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from consult.auth.models import User
from consult.core.signals import answers
from consult.extensions import db
from consult.orgs.models import Organization
from consult.rounds import signals
from consult.rounds.models import DeadlineExtension, Round, RoundTarget

STATES = ("submitted", "no_opinion", "draft", "not_started")


@dataclass
class ExtensionEntry:
    """One grant of more time, with the name of who granted it."""

    extension: DeadlineExtension
    organization: Organization
    granted_by: str


def extension_entries(round_: Round) -> list[ExtensionEntry]:
    """Every grant of more time, newest first, with the organisation and who granted it, in one query."""
    granted = db.session.execute(
        select(DeadlineExtension, Organization, User.name)
        .join(Organization, Organization.id == DeadlineExtension.organization_id)
        .outerjoin(User, User.id == DeadlineExtension.granted_by_id)
        .where(DeadlineExtension.round_id == round_.id)
        .order_by(DeadlineExtension.granted_at, DeadlineExtension.id)
    ).all()
    return [ExtensionEntry(ext, org, name or _("（不明）")) for ext, org, name in reversed(granted)]


def visible_rounds(user) -> list[Round]:
    """The rounds the user may see (Round.can_view): every round for headquarters, for a branch the rounds put
    to its organisation once they are no longer being prepared. Newest deadline first."""
    stmt = select(Round).options(selectinload(Round.targets), selectinload(Round.extensions))
    if not user.is_hq:  # narrow in SQL to the rounds put to the organisation, or its own sub-rounds; can_view decides
        stmt = stmt.outerjoin(
            RoundTarget,
            (RoundTarget.round_id == Round.id) & (RoundTarget.organization_id == user.organization_id),
        ).where((RoundTarget.organization_id.is_not(None)) | (Round.organization_id == user.organization_id))
    rounds = db.session.scalars(stmt.order_by(Round.deadline.desc(), Round.id.desc())).unique().all()
    return [round_ for round_ in rounds if round_.can_view(user)]


def target_count(round_: Round) -> int:
    return db.session.scalar(select(func.count()).select_from(RoundTarget).where(RoundTarget.round_id == round_.id))


def target_counts() -> dict[int, int]:
    """Targets per round, in one GROUP BY."""
    return dict(db.session.execute(select(RoundTarget.round_id, func.count()).group_by(RoundTarget.round_id)).all())


def answered_org_ids(round_: Round) -> set[int]:
    """Organisations that have an answer to the round."""
    return set().union(*answers(signals.answered_organizations, round_))


def item_opinion_counts(round_: Round) -> dict[int, int]:
    """How many opinions each item of the round has."""
    counts: dict[int, int] = {}
    for found in answers(signals.opinion_counts, round_):
        for item_id, count in found.items():
            counts[item_id] = counts.get(item_id, 0) + count
    return counts


def state_counts(round_: Round) -> dict[str, int]:
    """Target organisations per answer state, 未着手 (not_started) being those without an answer."""
    counts = dict.fromkeys(STATES, 0)
    for found in answers(signals.answer_states, round_):
        for state, count in found.items():
            counts[state] += count
    counts["not_started"] = target_count(round_) - sum(counts[s] for s in STATES if s != "not_started")
    return counts


def submitted_counts(round_ids: list[int]) -> dict[int, int]:
    """Submitted answers per round."""
    counts: dict[int, int] = {}
    for found in answers(signals.submitted_counts, round_ids):
        for round_id, count in found.items():
            counts[round_id] = counts.get(round_id, 0) + count
    return counts


@dataclass
class Progress:
    """How far the target organisations are with their answers, for the round's page."""

    counts: dict[str, int]
    extensions: list[ExtensionEntry]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def submitted(self) -> int:
        """Answers sent in, 「意見なし」 included."""
        return self.counts["submitted"] + self.counts["no_opinion"]


def progress(round_: Round) -> Progress:
    return Progress(state_counts(round_), extension_entries(round_))
