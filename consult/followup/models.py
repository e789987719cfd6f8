"""Follow-up of a request campaign: the visits to each addressee, the answer to each request item per addressee
(kept exchange by exchange: 第1次回答, 第2次回答, … 妥結), the grade on the campaign's scale, and the links from
next year's request items to this year's.

The rules are predicates here: who may see the outcome (headquarters always, branches once it is published),
which grades ask for a reason or a remedy, when an expected answer is overdue.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.audit.models import Subject, register_actions, register_kind
from consult.core.types import UTCDateTime
from consult.extensions import db
from consult.letters.models import Campaign

PLACE_LENGTH = 200
PEOPLE_LIMIT = 2_000  # our side, their side: one person a line
NOTES_LIMIT = 10_000
ANSWER_TEXT_LIMIT = 20_000
REASON_LIMIT = 5_000
GRADE_LENGTH = 40
LABELS_LIMIT = 1_000
FILENAME_LENGTH = 255
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024

VISIT_STATUSES = {"planned": _l("予定"), "done": _l("実施済み"), "answered": _l("回答あり")}
SCALES = {
    "default": _l("前進・一部前進・現状維持・後退・回答なし"),
    "sabc": _l("S・A・B・C（進捗状況）"),
    "custom": _l("独自の区分"),
}
DEFAULT_GRADES = ("前進", "一部前進", "現状維持", "後退", "回答なし")
SABC_GRADES = ("S", "A", "B", "C")
SABC_MEANINGS = {"S": _l("計画以上"), "A": _l("計画どおり"), "B": _l("遅れ"), "C": _l("未着手")}
# On the default scale these are not won yet: what a carry-over proposes.
UNRESOLVED_DEFAULT = ("一部前進", "現状維持", "後退", "回答なし")
UNRESOLVED_SABC = ("B", "C")


class FollowupPlan(db.Model):
    """A campaign's follow-up settings: its grading scale and whether branches may see the outcome."""

    __tablename__ = "followup_plan"
    __table_args__ = (CheckConstraint("scale IN ('default', 'sabc', 'custom')", name="scale"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    scale: Mapped[str] = mapped_column(String(10), default="default")
    custom_labels: Mapped[str] = mapped_column(Text, default="")  # one label a line
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    campaign = relationship("Campaign")

    __mapper_args__ = {"version_id_col": version}

    def grades(self) -> tuple[str, ...]:
        if self.scale == "sabc":
            return SABC_GRADES
        if self.scale == "custom":
            labels = tuple(line.strip() for line in self.custom_labels.splitlines() if line.strip())
            return labels or DEFAULT_GRADES
        return DEFAULT_GRADES

    def unresolved(self) -> tuple[str, ...]:
        if self.scale == "sabc":
            return UNRESOLVED_SABC
        if self.scale == "custom":
            return self.grades()[1:]
        return UNRESOLVED_DEFAULT

    def needs_reason(self, grade: str) -> bool:
        """S/A/B/C: a reason for S, B and C."""
        return self.scale == "sabc" and grade in ("S", "B", "C")

    def needs_remedy(self, grade: str) -> bool:
        """S/A/B/C: a remedy (改善策) for B and C."""
        return self.scale == "sabc" and grade in ("B", "C")

    def grade_label(self, grade: str) -> str:
        if self.scale == "sabc" and grade in SABC_MEANINGS:
            return f"{grade}（{SABC_MEANINGS[grade]}）"
        return grade

    def is_published(self) -> bool:
        return self.published_at is not None

    def outcome_visible_to(self, user) -> bool:
        """Headquarters always; a branch once headquarters has published the outcome."""
        return user.is_hq or self.is_published()

    def audit_subject(self) -> Subject:
        return Subject("followup", self.campaign_id, None, f"要請行動「{self.campaign.title}」の回答と評価")


class Visit(db.Model):
    """要請行動: one visit to one addressee, planned → done → answered."""

    __tablename__ = "followup_visit"
    __table_args__ = (CheckConstraint("status IN ('planned', 'done', 'answered')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    addressee_id: Mapped[int] = mapped_column(ForeignKey("addressee.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(PLACE_LENGTH), default="")
    our_side: Mapped[str] = mapped_column(Text, default="")  # one person a line
    their_side: Mapped[str] = mapped_column(Text, default="")  # one person a line, with the title
    status: Mapped[str] = mapped_column(String(10), default="planned")
    notes: Mapped[str] = mapped_column(Text, default="")
    answer_expected_on: Mapped[date | None] = mapped_column(Date)  # the addressee promised an answer by then
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    addressee = relationship("Addressee")
    attachments: Mapped[list[VisitAttachment]] = relationship(
        back_populates="visit", order_by="VisitAttachment.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return VISIT_STATUSES.get(self.status, self.status)

    def is_due(self, now: datetime, within) -> bool:
        """A planned visit starting between now and now + within (for reminders)."""
        return self.status == "planned" and now <= self.starts_at <= now + within

    def audit_subject(self) -> Subject:
        who = " ".join(filter(None, (self.addressee.organisation, self.addressee.title)))
        return Subject("visit", self.id, None, f"要請先「{who}」への要請行動", {"campaign_id": self.campaign_id})


class VisitAttachment(db.Model):
    """A file of a visit: the addressee's written answer (PDF or DOCX)."""

    __tablename__ = "followup_visit_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("followup_visit.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(FILENAME_LENGTH))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    visit: Mapped[Visit] = relationship(back_populates="attachments")

    def audit_subject(self) -> Subject:
        return Subject(
            "visit_attachment", self.id, None, f"回答文書「{self.filename}」", {"campaign_id": self.visit.campaign_id}
        )


class ItemAnswer(db.Model):
    """The addressee's answer to one request item: every exchange kept, the last one current.

    version counts the saves; followup.operations.save_answer raises it with an atomic UPDATE … WHERE version =
    the version the writer read, so a stale write is refused even when only an exchange row changes."""

    __tablename__ = "followup_answer"
    __table_args__ = (UniqueConstraint("request_item_id", "addressee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_item_id: Mapped[int] = mapped_column(ForeignKey("request_item.id", ondelete="CASCADE"), index=True)
    addressee_id: Mapped[int] = mapped_column(ForeignKey("addressee.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    request_item = relationship("RequestItem")
    addressee = relationship("Addressee")
    exchanges: Mapped[list[AnswerExchange]] = relationship(
        back_populates="answer", order_by="AnswerExchange.number", cascade="all, delete-orphan"
    )

    @property
    def current(self) -> AnswerExchange | None:
        return self.exchanges[-1] if self.exchanges else None

    @property
    def grade(self) -> str:
        return self.current.grade if self.current else ""

    def audit_subject(self) -> Subject:
        text = self.request_item.text
        text = text if len(text) <= 40 else text[:40] + "…"
        return Subject(
            "item_answer",
            self.id,
            None,
            f"「{self.addressee.organisation}」の回答（{text}）",
            {"campaign_id": self.addressee.campaign_id},
        )


class AnswerExchange(db.Model):
    """One exchange of an answer: 第1次回答, 第2次回答, … or the settlement (妥結)."""

    __tablename__ = "followup_exchange"
    __table_args__ = (UniqueConstraint("answer_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("followup_answer.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    answered_on: Mapped[date | None] = mapped_column(Date)
    grade: Mapped[str] = mapped_column(String(GRADE_LENGTH), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    remedy: Mapped[str] = mapped_column(Text, default="")
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    answer: Mapped[ItemAnswer] = relationship(back_populates="exchanges")
    graded_by = relationship("User")

    @property
    def stage(self) -> str:
        return str(_l("妥結")) if self.settled else str(_l("第%(number)s次回答", number=self.number))


class CarryLink(db.Model):
    """Next year's request item (or round item) and the request item of this year it continues."""

    __tablename__ = "followup_carry"

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("request_item.id", ondelete="CASCADE"), index=True)
    request_item_id: Mapped[int | None] = mapped_column(ForeignKey("request_item.id", ondelete="CASCADE"), unique=True)
    round_item_id: Mapped[int | None] = mapped_column(ForeignKey("round_item.id", ondelete="CASCADE"), unique=True)


INDICATOR_NAME_LENGTH = 200
UNIT_LENGTH = 20
INDICATOR_YEARS_LIMIT = 50


class Indicator(db.Model):
    """到達指標: a numeric target per fiscal year for a campaign or an organisation (e.g. 現年分収納率 %)."""

    __tablename__ = "followup_indicator"
    __table_args__ = (CheckConstraint("campaign_id IS NOT NULL OR organization_id IS NOT NULL", name="owner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(INDICATOR_NAME_LENGTH))
    unit: Mapped[str] = mapped_column(String(UNIT_LENGTH), default="")
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    values: Mapped[list[IndicatorValue]] = relationship(
        back_populates="indicator", order_by="IndicatorValue.fiscal_year", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def audit_subject(self) -> Subject:
        owner = {"campaign_id": self.campaign_id} if self.campaign_id else {"organization_id": self.organization_id}
        return Subject("indicator", self.id, None, f"到達指標「{self.name}」", owner)


class IndicatorValue(db.Model):
    """One fiscal year of an indicator: its target and, once known, the actual value."""

    __tablename__ = "followup_indicator_value"
    __table_args__ = (UniqueConstraint("indicator_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("followup_indicator.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[int]
    target: Mapped[float | None] = mapped_column(Float)
    actual: Mapped[float | None] = mapped_column(Float)

    indicator: Mapped[Indicator] = relationship(back_populates="values")


register_actions(
    {
        "followup_settings": _l("回答の評価区分・公開の変更"),
        "visit_added": _l("要請行動の登録"),
        "visit_edited": _l("要請行動の編集"),
        "visit_file_added": _l("回答文書の登録"),
        "item_answer_saved": _l("回答・評価の保存"),
        "carried_over": _l("要請項目の翌年への引き継ぎ"),
        "answer_consulted": _l("回答についての意見集約"),
        "indicator_saved": _l("到達指標の保存"),
        "indicator_deleted": _l("到達指標の削除"),
        "visit_deleted": _l("要請行動の削除"),
        "visit_file_deleted": _l("回答文書の削除"),
    }
)

register_kind(
    "followup",
    _l("回答と評価"),
    Campaign,  # the line's object id is the campaign's
    link=lambda campaign_id, _event: url_for("followup.dashboard", campaign_id=campaign_id),
)
register_kind(
    "visit",
    _l("要請行動（訪問）"),
    Visit,
    link=lambda visit_id, event: (
        url_for("followup.visit", campaign_id=(event.details or {}).get("campaign_id"), visit_id=visit_id)
        if (event.details or {}).get("campaign_id")
        else None
    ),
)
register_kind("visit_attachment", _l("回答文書"))
register_kind("item_answer", _l("要請項目への回答"), ItemAnswer)
register_kind("indicator", _l("到達指標"), Indicator)
