"""One line of the audit log per state change, written in the same transaction as the change.

The audit log imports no feature: each feature registers the words for its actions and kinds of object
(register_actions, register_kind) and gives its models an audit_subject() that describes one object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.core.types import UTCDateTime
from consult.extensions import db

if TYPE_CHECKING:
    from consult.auth.models import User

# action → words, and object kind → what the log needs to know of it; filled by the features at import.
ACTIONS: dict[str, str] = {}
KINDS: dict[str, Kind] = {}


@dataclass(frozen=True)
class Kind:
    """A kind of object lines can name: its label, its model (to tell whether it still exists) and its page."""

    label: str
    model: Any = None
    link: Callable[[int, AuditEvent], str | None] | None = None  # (object id, line) → URL
    choices: Callable[[], list[tuple[int, str]]] | None = None  # objects to narrow the log to (the rounds)


@dataclass(frozen=True)
class Subject:
    """An object as one audit line describes it: kind, id, round, the words people recognise, link details."""

    kind: str
    id: int | None
    round_id: int | None
    words: str
    details: dict = field(default_factory=dict)


def register_actions(actions: dict[str, str]) -> None:
    """A feature names the actions it records."""
    ACTIONS.update(actions)


def register_kind(name: str, label: str, model=None, link=None, choices=None) -> None:
    """A feature names a kind of object its lines are about, and where the object can be seen."""
    KINDS[name] = Kind(label, model, link, choices)


class AuditEvent(db.Model):
    """Kept when the round, answer or letter it names is deleted, so no foreign keys to them."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(Integer)
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship("User")

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def kind_label(self) -> str:
        kind = KINDS.get(self.object_kind)
        return kind.label if kind else self.object_kind
