"""Headquarters' answering aids: reusable answer texts (定型文) of a round."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
