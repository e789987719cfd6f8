"""A consultation round: the draft, its schedule, its targets and the deadline rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.audit.models import Subject, register_actions, register_kind
from consult.core.clock import format_jst, format_remaining
from consult.core.types import UTCDateTime
from consult.extensions import db
from consult.orgs.models import Organization

STATUS_LABELS = {"draft": _l("準備中"), "open": _l("受付中"), "closed": _l("締切済")}
# How long each text may be: the String columns' sizes, and the bounds of the free texts. The forms check them.
TITLE_LENGTH = 300
BACKGROUND_LIMIT = 20_000
NUMBER_LENGTH = 20
HEADING_LENGTH = 300
BODY_LIMIT = 20_000
MEETING_LENGTH = 200
WHAT_LIMIT = 2000
EXTENSION_REASON_LIMIT = 2000
ITEMS_PER_IMPORT = 500
# new status -> the statuses it may be reached from
TRANSITIONS = {"open": ("draft",), "closed": ("open",)}


STATE_LABELS = {
    "draft": _l("準備中"),
    "not_yet_open": _l("受付前"),
    "open": _l("受付中"),
    "extended": _l("受付中（締切延長）"),
    "past_deadline": _l("締切経過"),
    "closed": _l("締切済"),
}


@dataclass(frozen=True)
class RoundState:
    """A round's state as one viewer reads it at one moment (Round.state_for)."""

    key: str  # the badge's class: draft, open or closed
    label: str
    deadline: datetime  # the deadline that applies to this viewer
    accepting: bool
    remaining: str | None = None  # あと2日15時間 while answers are taken, 締切を過ぎています after the deadline


class Round(db.Model):
    """組織討議: a draft put to the branches with an opening and a deadline in Asia/Tokyo."""

    __tablename__ = "round"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("deadline > opens_at", name="deadline_after_opening"),
        # one sub-consultation per organisation and round put to it; a sub-round always names who runs it
        UniqueConstraint("parent_id", "organization_id"),
        CheckConstraint("parent_id IS NULL OR organization_id IS NOT NULL", name="subround_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    background: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # When headquarters published the answer table (dispositions and views) to the branches.
    answers_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A sub-consultation (issue 10): the round put to the organisation that runs it (parent_id), and that
    # organisation (organization_id, an inner node such as a prefecture). None on headquarters' own rounds.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    # Whether headquarters also reads the union opinions beneath the prefectures' answers (with their names).
    show_sub_opinions: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # A sub-round: when the prefecture published its answer to headquarters back to the sub-round's unions.
    published_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    items: Mapped[list[RoundItem]] = relationship(
        back_populates="round",
        order_by="RoundItem.position, RoundItem.id",
        primaryjoin="and_(Round.id == RoundItem.round_id, RoundItem.removed_at.is_(None))",
        viewonly=True,
    )
    all_items: Mapped[list[RoundItem]] = relationship(
        back_populates="round", order_by="RoundItem.position, RoundItem.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="round", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="round", order_by="Milestone.date, Milestone.id", cascade="all, delete-orphan"
    )
    targets: Mapped[list[RoundTarget]] = relationship(cascade="all, delete-orphan")
    extensions: Mapped[list[DeadlineExtension]] = relationship(
        order_by="DeadlineExtension.granted_at", cascade="all, delete-orphan"
    )
    parent: Mapped[Round | None] = relationship(remote_side=[id])
    organization: Mapped[Organization | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def state_for(self, organization_id: int | None, now: datetime) -> RoundState:
        """The one name of the round's state for a viewer at `now`, used on every page: headquarters
        (organization_id None) reads the round's own deadline; a branch reads its deadline with any extension.

        準備中 (a draft), 受付前 (open, before its opening), 受付中 (answers taken now; 延長 when by an extension),
        締切経過 (open, past the deadline), 締切済 (closed). The time left (or 締切を過ぎています once the deadline has
        passed) goes with it, so no page shows a state and a time left that disagree.
        """
        if self.status == "draft":
            return RoundState("draft", STATE_LABELS["draft"], self.deadline, False)
        if not self.has_opened(now):
            return RoundState("draft", STATE_LABELS["not_yet_open"], self.deadline, False)
        if organization_id is None:
            deadline, accepting = self.deadline, self.takes_answers(now)
        else:
            deadline, accepting = self.deadline_for(organization_id), self.is_accepting(organization_id, now)
        if accepting:
            label = STATE_LABELS["extended" if deadline > self.deadline else "open"]
            return RoundState("open", label, deadline, True, format_remaining(deadline, now))
        label = STATE_LABELS["past_deadline" if self.status == "open" else "closed"]
        passed = format_remaining(deadline, now) if now > deadline else None  # 締切を過ぎています
        return RoundState("closed", label, deadline, False, passed)

    def deadline_moves_into_past(self, deadline: datetime, now: datetime) -> bool:
        """Whether setting this deadline would end an open round's answering at once (headquarters confirms it)."""
        return self.status == "open" and deadline != self.deadline and deadline < now

    def target_ids(self) -> set[int]:
        """Organisations this round is put to."""
        return {t.organization_id for t in self.targets}

    def is_target(self, organization_id: int) -> bool:
        """Only target organisations see the round and answer it."""
        return organization_id in self.target_ids()

    def extension_for(self, organization_id: int) -> DeadlineExtension | None:
        """The latest extension granted to one organisation, if any."""
        granted = [e for e in self.extensions if e.organization_id == organization_id]
        return granted[-1] if granted else None

    def deadline_for(self, organization_id: int) -> datetime:
        """The round's deadline, or the organisation's extension when it is later."""
        extension = self.extension_for(organization_id)
        if extension is not None and extension.until > self.deadline:
            return extension.until
        return self.deadline

    def has_opened(self, now: datetime) -> bool:
        """Out of draft and past the opening: before that nothing is taken, and nothing is late either."""
        return self.status != "draft" and now >= self.opens_at

    def is_accepting(self, organization_id: int, now: datetime) -> bool:
        """THE rule of "is the round accepting this organisation's answer now", used by every page and operation:
        a target, from the opening until the deadline second inclusive, later only within its extension."""
        if not self.is_target(organization_id) or not self.has_opened(now):
            return False
        extension = self.extension_for(organization_id)
        if extension is not None and now <= extension.until:
            return True
        return self.takes_answers(now)

    def takes_answers(self, now: datetime) -> bool:
        """The round itself (its own deadline, extensions aside) takes answers now: what headquarters reads."""
        return self.status == "open" and self.has_opened(now) and now <= self.deadline

    @property
    def is_subround(self) -> bool:
        """A sub-consultation an inner node (a prefecture) runs among its own descendants."""
        return self.parent_id is not None

    def is_run_by(self, user) -> bool:
        """The prefecture's policy officer: an active member user of the organisation that runs this sub-round."""
        return (
            self.organization_id is not None
            and self.parent_id is not None
            and getattr(user, "role", None) == "member"
            and user.organization_id == self.organization_id
        )

    def may_open_subround(self, user, now: datetime) -> bool:
        """A member of a target organisation with organisations beneath it opens its own discussion on a round
        put to it, while the round takes that organisation's answer."""
        return (
            getattr(user, "role", None) == "member"
            and self.is_accepting(user.organization_id, now)
            and user.organization.kind not in ("local",)
        )

    def can_view(self, user) -> bool:
        """HQ sees every round; a branch sees non-draft rounds put to its organisation, and a prefecture its own
        sub-rounds in every state."""
        if user.is_hq or self.is_run_by(user):
            return True
        return self.status != "draft" and self.is_target(user.organization_id)

    def may_answer(self, user, organization_id: int) -> bool:
        """Whether this user writes this organisation's answer at all: its own member, or HQ on its behalf."""
        return user.may_answer_for(organization_id) and self.is_target(organization_id)

    def can_submit(self, user, organization_id: int, now: datetime) -> bool:
        """Whether this user may save or submit this organisation's answer right now."""
        return self.may_answer(user, organization_id) and self.is_accepting(organization_id, now)

    def may_see_answer_of(self, user, organization_id: int) -> bool:
        """Headquarters sees the answer of every target; a branch only its own, to a round it may see."""
        if user.is_hq or self.is_run_by(user):
            return self.is_target(organization_id)
        return organization_id == user.organization_id and self.can_view(user)

    def may_read_answer_table(self, user) -> bool:
        """HQ reads the answer table (本部の考え方) always; a target branch once HQ has published it."""
        return user.is_hq or (self.can_view(user) and self.answers_published_at is not None)

    def is_put_to_inner_node(self, user) -> bool:
        """The caller is an inner node of the tree (a prefecture) this round is put to: it may run its own
        sub-round on it and publish its answer back to its unions (not headquarters, not a local union)."""
        return not user.is_hq and user.organization.kind != "local" and self.is_target(user.organization_id)

    def can_manage(self, user) -> bool:
        """HQ staff and admins run rounds (the round pages' require_hq; the API's changes to a round); a
        prefecture's policy officer runs its own sub-rounds, with the same screens."""
        return user.is_hq or self.is_run_by(user)

    def fixed_items(self) -> bool:
        """A sub-round's items are headquarters' items, copied when it opened: they are not edited there."""
        return self.is_subround

    def can_transition(self, new_status: str) -> bool:
        """States move draft → open → closed, one step at a time."""
        return self.status in TRANSITIONS.get(new_status, ())

    def audit_subject(self) -> Subject:
        return Subject("round", self.id, self.id, f"討議「{self.title}」")

    def __repr__(self) -> str:
        return f"<Round {self.id} {self.status}>"


class RoundItem(db.Model):
    """One numbered item of the draft; its text is versioned so answers keep what they answered."""

    __tablename__ = "round_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    number: Mapped[str] = mapped_column(String(NUMBER_LENGTH))
    heading: Mapped[str] = mapped_column(String(HEADING_LENGTH))
    body: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(default=1)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # On a sub-round: the item of the round above it that this one copies (opinions trace back through it).
    parent_item_id: Mapped[int | None] = mapped_column(ForeignKey("round_item.id", ondelete="SET NULL"), index=True)

    round: Mapped[Round] = relationship(back_populates="all_items")
    revisions: Mapped[list[ItemRevision]] = relationship(
        back_populates="item", order_by="ItemRevision.revision", cascade="all, delete-orphan"
    )

    def audit_subject(self) -> Subject:
        return Subject("item", self.id, self.round_id, f"項目「{self.number} {self.heading}」")

    def text_at(self, revision: int) -> ItemRevision | None:
        """The item's wording as it stood at one revision."""
        for rev in self.revisions:
            if rev.revision == revision:
                return rev
        return None


class ItemRevision(db.Model):
    """A frozen copy of an item's wording; opinions point at the revision they answered."""

    __tablename__ = "item_revision"
    __table_args__ = (UniqueConstraint("item_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("round_item.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    number: Mapped[str] = mapped_column(String(NUMBER_LENGTH))
    heading: Mapped[str] = mapped_column(String(HEADING_LENGTH))
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    item: Mapped[RoundItem] = relationship(back_populates="revisions")


class Attachment(db.Model):
    """The draft as PDF or DOCX, kept in the database so backups hold it."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    round: Mapped[Round] = relationship(back_populates="attachments")

    def audit_subject(self) -> Subject:
        return Subject("attachment", self.id, self.round_id, f"添付ファイル「{self.filename}」")


class Milestone(db.Model):
    """A dated step of the round's schedule: a meeting and what happens there."""

    __tablename__ = "milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    date: Mapped[date] = mapped_column(Date)
    meeting: Mapped[str] = mapped_column(String(MEETING_LENGTH))
    what: Mapped[str] = mapped_column(Text, default="")

    round: Mapped[Round] = relationship(back_populates="milestones")

    def audit_subject(self) -> Subject:
        return Subject("round", self.round_id, self.round_id, f"日程「{self.date} {self.meeting}」")


class RoundTarget(db.Model):
    """An organisation the round is put to."""

    __tablename__ = "round_target"

    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), primary_key=True)

    organization: Mapped[Organization] = relationship()


class DeadlineExtension(db.Model):
    """More time for one organisation, with the reason; every grant is kept."""

    __tablename__ = "deadline_extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"))
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    organization: Mapped[Organization] = relationship()

    def audit_subject(self) -> Subject:
        until = format_jst(self.until, lang="ja")  # the log is kept in Japanese
        words = f"{self.organization.name}の締切を{until}まで延長（理由: {self.reason}）"
        return Subject("round", self.round_id, self.round_id, words, {"org_id": self.organization_id})


register_actions(
    {
        "round_created": _l("討議の作成"),
        "round_edited": _l("討議の編集"),
        "round_opened": _l("受付開始"),
        "round_closed": _l("受付終了"),
        "items_added": _l("項目の追加"),
        "item_edited": _l("項目の修正"),
        "item_moved": _l("項目の並べ替え"),
        "item_removed": _l("項目の削除"),
        "targets_changed": _l("対象組織の変更"),
        "attachment_added": _l("添付ファイルの追加"),
        "attachment_removed": _l("添付ファイルの削除"),
        "milestone_added": _l("日程の追加"),
        "milestone_removed": _l("日程の削除"),
        "extension_granted": _l("締切の延長"),
        "subround_opened": _l("県内討議の開始"),
        "sub_opinions_shown": _l("単組意見の表示設定"),
    }
)


def _round_titles() -> list[tuple[int, str]]:
    return list(db.session.execute(select(Round.id, Round.title).order_by(Round.id.desc())).tuples())


register_kind(
    "round",
    _l("討議"),
    Round,
    link=lambda round_id, _event: url_for("rounds.detail", round_id=round_id),
    choices=_round_titles,
)
register_kind("item", _l("項目"))
register_kind("attachment", _l("添付ファイル"))
