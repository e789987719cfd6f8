"""What headquarters keeps of its review: reusable answer texts (定型文) of a round, and the groups of opinions it
confirmed (論点).

A proposed group (consult.core.search.similarity) is only a suggestion; once headquarters confirms it, it is an
`OpinionGroup` of one round item with a name, and its members are rows of `OpinionGroupMember`. An opinion has one
item, and the membership's primary key is the opinion alone: the database itself keeps an opinion in one group of
its item at most. An opinion answered 統合 (merged) stays where it is -- it is never deleted -- and its group is
the one its membership names (review.groups.merged_into); the answer table prints 「統合（論点名）」.
"""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.answers.models import DISPOSITIONS
from consult.audit.models import Subject, register_actions, register_kind
from consult.core.types import UTCDateTime
from consult.extensions import db

TEMPLATE_NAME_LENGTH = 100  # an answer template's name, shown in the pickers
TEMPLATES_PER_ROUND = 200  # a picker stays short enough to read


class AnswerTemplate(db.Model):
    """A 定型文 of one round: a named 本部の考え方 (and, optionally, a 対応) that fills an answer form."""

    __tablename__ = "answer_template"
    __table_args__ = (
        UniqueConstraint("round_id", "name"),
        CheckConstraint(
            "disposition IS NULL OR disposition IN ({})".format(", ".join(f"'{key}'" for key in DISPOSITIONS)),
            name="disposition",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(TEMPLATE_NAME_LENGTH))
    disposition: Mapped[str | None] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __mapper_args__ = {"version_id_col": version}

    def audit_subject(self) -> Subject:
        return Subject("answer_template", self.id, self.round_id, f"定型文「{self.name}」")


register_actions(
    {
        "answer_template_created": _l("定型文の作成"),
        "answer_template_changed": _l("定型文の変更"),
        "answer_template_deleted": _l("定型文の削除"),
    }
)
register_kind(
    "answer_template",
    _l("定型文"),
    AnswerTemplate,
    link=lambda _id, event: url_for("review.answer_templates", round_id=event.round_id) if event.round_id else None,
)
GROUP_NAME_LENGTH = 200

register_actions(
    {
        "group_confirmed": _l("論点（意見のグループ）の確定"),
        "group_changed": _l("論点（意見のグループ）の変更"),
        "group_deleted": _l("論点（意見のグループ）の解除"),
    }
)
register_kind("opinion_group", _l("論点"))


class OpinionGroup(db.Model):
    """A 論点: opinions of one item headquarters confirmed as saying the same thing; the version refuses a stale
    change (every change of its name or members raises it)."""

    __tablename__ = "opinion_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("round_item.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(GROUP_NAME_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    members: Mapped[list[OpinionGroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", order_by="OpinionGroupMember.opinion_id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def opinion_ids(self) -> list[int]:
        return [m.opinion_id for m in self.members]

    @property
    def label(self) -> str:
        """The name, or 「論点#id」 while it has none."""
        return self.name or f"論点#{self.id}"

    def audit_subject(self) -> Subject:
        return Subject("opinion_group", self.id, self.round_id, f"論点「{self.label}」", {"item_id": self.item_id})


class OpinionGroupMember(db.Model):
    """An opinion in a kept group; the opinion is the key, so it is in one group at most."""

    __tablename__ = "opinion_group_member"

    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinion.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("opinion_group.id", ondelete="CASCADE"), index=True)

    group: Mapped[OpinionGroup] = relationship(back_populates="members")
