"""The notice rows (the outbox and the inbox are the same rows), preferences, reminder schedules."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.audit.models import register_actions
from consult.auth.models import EMAIL_LENGTH, User
from consult.core.types import UTCDateTime
from consult.extensions import db

# The kinds of notice, each with its label (the preference page and the unsubscribe page name them).
KINDS = {
    "round_opened": _l("討議の受付開始"),
    "reminder": _l("締切前の督促"),
    "extension_granted": _l("締切の延長"),
    "answer_submitted": _l("回答の提出"),
    "answer_withdrawn": _l("提出の取り下げ"),
    "late_answer": _l("締切後の回答"),
    "answers_published": _l("回答表の公開"),
    "opinion_changed": _l("回答済みの意見の変更"),
    "subround_opened": _l("県本部の討議の受付開始"),
    "visit_reminder": _l("要請行動の前日のお知らせ"),
    "answer_overdue": _l("要請先の回答期限の超過"),
}
STATUS_LABELS = {
    "pending": _l("送信待ち"),
    "sent": _l("送信済"),
    "failed": _l("送信失敗"),
    "inbox": _l("受信箱のみ"),
    "cancelled": _l("取り消し"),
}
_kind_list = ", ".join(f"'{k}'" for k in KINDS)
_status_list = ", ".join(f"'{k}'" for k in STATUS_LABELS)
SUBJECT_LENGTH = 300
LINK_LENGTH = 500
# Temporary failures are tried again after these waits; after the last one the notice counts as failed.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
)
# How long a runner holds the rows it claimed: a runner killed while sending frees them after this.
CLAIM_TIME = timedelta(minutes=10)
# The default reminder schedule: before each organisation's deadline (with its extension).
DEFAULT_STEPS = (10080, 1440, 180)  # minutes: 7 days, 1 day, 3 hours
STEP_LIMIT = 10


class Notice(db.Model):
    """One notice to one recipient about one event: an inbox entry (user_id) and, unless the recipient chose
    the inbox only, an e-mail the runner sends (status pending → sent or failed)."""

    __tablename__ = "notice"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_kind_list})", name="kind"),
        CheckConstraint(f"status IN ({_status_list})", name="status"),
        CheckConstraint("user_id IS NOT NULL OR address IS NOT NULL", name="recipient"),
        Index("ix_notice_due", "status", "due_at"),
        Index("ix_notice_inbox", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    # The address mailed (the user's at queueing time, or an organisation's contact address).
    address: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(LINK_LENGTH), default="")  # a path; BASE_URL goes before it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="pending")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def may_read(self, user) -> bool:
        """Only its own recipient reads a notice in the inbox."""
        return self.user_id is not None and self.user_id == user.id


class NoticePreference(db.Model):
    """A user's choice for one kind: e-mail and inbox (the default, no row), or the inbox only."""

    __tablename__ = "notice_preference"
    __table_args__ = (UniqueConstraint("user_id", "kind"), CheckConstraint(f"kind IN ({_kind_list})", name="kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    email: Mapped[bool] = mapped_column(Boolean, default=True)


class AddressOptOut(db.Model):
    """An organisation's contact address that unsubscribed from one kind (it has no user to hold a preference)."""

    __tablename__ = "notice_address_opt_out"
    __table_args__ = (UniqueConstraint("address", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    kind: Mapped[str] = mapped_column(String(30))


class RoundFollower(db.Model):
    """Headquarters staff who follow a round: told of its submissions and withdrawals (its creator always is)."""

    __tablename__ = "round_follower"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)


class ReminderSchedule(db.Model):
    """A round's reminder steps, in minutes before each organisation's deadline; no row is the default."""

    __tablename__ = "reminder_schedule"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    steps: Mapped[list] = mapped_column(JSON, default=list)


class ReminderSent(db.Model):
    """A reminder step done for one organisation: the unique key makes a second one impossible, whoever runs."""

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("round_id", "organization_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(40))  # "10080" (minutes before) or "now-<time>" for the button
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class FollowupNoticeSent(db.Model):
    """A follow-up notice done: a visit's reminder (key: visit and its time) or an addressee's overdue answer
    (key: addressee and the promised date). The unique key makes a second one impossible, whoever runs; a visit
    moved to another time, or a new promised date, is a new key and is told again."""

    __tablename__ = "notice_followup_sent"
    __table_args__ = (UniqueConstraint("kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


def steps_of(schedule: ReminderSchedule | None) -> list[int]:
    """The round's steps in minutes before the deadline, largest first; [] when switched off."""
    if schedule is None:
        return list(DEFAULT_STEPS)
    if not schedule.enabled:
        return []
    return sorted({int(s) for s in schedule.steps}, reverse=True)


def format_step(minutes: int) -> str:
    """7日前, 1日前, 3時間前, 30分前."""
    if minutes % 1440 == 0:
        return f"{minutes // 1440}日前"
    if minutes % 60 == 0:
        return f"{minutes // 60}時間前"
    return f"{minutes}分前"


register_actions(
    {
        "reminders_sent": _l("督促の送信"),
        "reminder_schedule_changed": _l("督促の日程の変更"),
    }
)
from consult.notify import receivers  # noqa: E402,F401  (connects the receivers to the signals)
