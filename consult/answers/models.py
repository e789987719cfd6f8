"""One answer per organisation per round, its opinions per item, and the record of every change."""

from __future__ import annotations

from datetime import date, datetime

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.audit.models import Subject, register_actions, register_kind
from consult.auth.models import User
from consult.core.types import UTCDateTime
from consult.extensions import db
from consult.orgs.models import Organization
from consult.rounds.models import Round, RoundItem

STANCES = {
    "agree": _l("賛成"),
    "amend": _l("修正"),
    "add": _l("追加"),
    "delete": _l("削除"),
    "oppose": _l("反対"),
    "other": _l("その他"),
}
# How long each text may be (the forms check it): a proposed item's heading is a String column, the rest free text.
HEADING_LENGTH = 300
TEXT_LIMIT = 10_000  # 該当箇所・修正案・理由, the general comment, and 本部の考え方 each
DECISION_LENGTH = 200  # the meeting that settled the answer (県本部執行委員会)
SOURCES_LIMIT = 500  # union opinions one opinion of a prefecture's answer may rest on
ANSWER_STATUS_LABELS = {"draft": _l("下書き"), "submitted": _l("提出済")}
ACTION_LABELS = {
    "save": _l("下書き保存"),
    "submit": _l("提出"),
    "withdraw": _l("提出取り下げ"),
    "late": _l("締切後の送信（下書きとして保存）"),
    "no_opinion": _l("「意見なし」で提出"),
}
# Headquarters' weighing of an opinion (対応), stored in Opinion.disposition.
DISPOSITIONS = {
    "adopted": _l("採用"),
    "partly": _l("一部採用"),
    "rejected": _l("不採用"),
    "reference": _l("参考"),
    "merged": _l("統合"),
}
_stance_list = ", ".join(f"'{key}'" for key in STANCES)
_disposition_list = ", ".join(f"'{key}'" for key in DISPOSITIONS)


class Answer(db.Model):
    """An organisation's answer to a round; the version column refuses a stale save."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("round_id", "organization_id"),  # one answer per organisation and round
        CheckConstraint("status IN ('draft', 'submitted')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    no_opinion: Mapped[bool] = mapped_column(Boolean, default=False)
    general_comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    late_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What arrived after the deadline, kept aside so the answer sent in time is not changed.
    late_payload: Mapped[dict | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # The meeting that settled a prefecture's answer (e.g. 県本部執行委員会) and its date (issue 10).
    decided_by: Mapped[str] = mapped_column(String(DECISION_LENGTH), default="", server_default="")
    decided_on: Mapped[date | None] = mapped_column(Date)

    round: Mapped[Round] = relationship()
    organization: Mapped[Organization] = relationship()
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    opinions: Mapped[list[Opinion]] = relationship(
        back_populates="answer", cascade="all, delete-orphan", order_by="Opinion.position, Opinion.id"
    )
    events: Mapped[list[AnswerEvent]] = relationship(
        back_populates="answer", cascade="all, delete-orphan", order_by="AnswerEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        if self.status == "submitted" and self.no_opinion:
            return _("意見なし")
        return ANSWER_STATUS_LABELS.get(self.status, self.status)

    def audit_subject(self) -> Subject:
        return Subject(
            "answer", self.id, self.round_id, f"{self.organization.name}の回答", {"org_id": self.organization_id}
        )

    def item_opinions(self) -> dict[int, Opinion]:
        """Opinions on draft items, keyed by item id."""
        return {op.item_id: op for op in self.opinions if op.item_id is not None}

    def proposals(self) -> list[Opinion]:
        """Proposals for items the draft does not have."""
        return [op for op in self.opinions if op.item_id is None]


class Opinion(db.Model):
    """An opinion on one item (or, with no item, a proposed new item) in the upper federation's format."""

    __tablename__ = "opinion"
    __table_args__ = (
        UniqueConstraint("answer_id", "item_id"),  # one opinion per item of an answer
        CheckConstraint(f"stance IN ({_stance_list})", name="stance"),
        CheckConstraint(
            f"disposition IS NULL OR disposition IN ({_disposition_list})",
            name="disposition",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("round_item.id", ondelete="RESTRICT"), index=True)
    item_revision: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)
    stance: Mapped[str] = mapped_column(String(10))
    heading: Mapped[str] = mapped_column(String(HEADING_LENGTH), default="")  # title of a proposed new item
    referred_text: Mapped[str] = mapped_column(Text, default="")  # 該当箇所・現行の文言
    proposed_text: Mapped[str] = mapped_column(Text, default="")  # 修正案・提案
    reason: Mapped[str] = mapped_column(Text, default="")  # 理由
    # Headquarters' weighing (the request-letter issue fills these).
    disposition: Mapped[str | None] = mapped_column(String(10))
    hq_view: Mapped[str] = mapped_column(Text, default="")
    # The wording's revision: a branch's change raises it. answered_revision is the one headquarters answered
    # (None: not answered); while they differ, the answered wording is kept in OpinionRevision.
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")
    answered_revision: Mapped[int | None] = mapped_column(Integer)
    # Bumped by every write of 対応/本部の考え方 (one or bulk): a bulk answer refuses rows changed since read.
    answer_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # The headquarters staff member who answers this opinion (「自分の担当」); None: nobody yet.
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)

    answer: Mapped[Answer] = relationship(back_populates="opinions")
    item: Mapped[RoundItem | None] = relationship()
    revisions: Mapped[list[OpinionRevision]] = relationship(
        back_populates="opinion", order_by="OpinionRevision.revision", cascade="all, delete-orphan"
    )

    @property
    def stance_label(self) -> str:
        return STANCES.get(self.stance, self.stance)

    def audit_subject(self) -> Subject:
        answer = self.answer
        return Subject(
            "opinion",
            self.id,
            answer.round_id,
            f"{answer.organization.name}の意見（#{self.id}）",
            {"org_id": answer.organization_id},
        )

    @property
    def is_answered(self) -> bool:
        """Headquarters has written a 対応 or a 本部の考え方 for it."""
        return self.disposition is not None or bool(self.hq_view)

    def changed_since_answered(self) -> bool:
        """The branch changed the wording after headquarters answered it, and headquarters has not answered again."""
        return self.answered_revision is not None and self.answered_revision != self.revision

    def answered_version(self) -> OpinionRevision | None:
        """The wording headquarters answered, when it is no longer the current one."""
        if not self.changed_since_answered():
            return None
        return next((rev for rev in self.revisions if rev.revision == self.answered_revision), None)

    def as_answered(self) -> Opinion | OpinionRevision:
        """What the answer table shows: the answered wording until headquarters answers the new one."""
        return self.answered_version() or self

    def answered_text(self):
        """The item wording this opinion answered, or None when the item has not changed since."""
        if self.item is None or self.item_revision is None or self.item_revision == self.item.revision:
            return None
        return self.item.text_at(self.item_revision)


class OpinionSource(db.Model):
    """An opinion of a prefecture's answer rests on this union opinion (of the prefecture's sub-round): adopted as
    it is, merged with others, or reworded. The union's own text is never changed; the link keeps where it came
    from."""

    __tablename__ = "opinion_source"
    __table_args__ = (CheckConstraint("opinion_id <> source_id", name="not_itself"),)

    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinion.id", ondelete="CASCADE"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("opinion.id", ondelete="CASCADE"), primary_key=True, index=True)


class OpinionRevision(db.Model):
    """A branch's wording of an opinion as headquarters answered it, kept when the branch changes it later."""

    __tablename__ = "opinion_revision"
    __table_args__ = (UniqueConstraint("opinion_id", "revision"),)  # one kept wording per revision

    id: Mapped[int] = mapped_column(primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinion.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int]
    stance: Mapped[str] = mapped_column(String(10))
    heading: Mapped[str] = mapped_column(String(300), default="")
    referred_text: Mapped[str] = mapped_column(Text, default="")
    proposed_text: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    opinion: Mapped[Opinion] = relationship(back_populates="revisions")

    @property
    def stance_label(self) -> str:
        return STANCES.get(self.stance, self.stance)


class AnswerEvent(db.Model):
    """Who saved, submitted or withdrew an answer, when, on whose behalf, and what changed."""

    __tablename__ = "answer_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    changes: Mapped[list] = mapped_column(JSON, default=list)

    answer: Mapped[Answer] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


register_actions(
    {
        "answer_save": _l("回答の一時保存"),
        "answer_submit": _l("回答の提出"),
        "answer_no_opinion": _l("意見なしで提出"),
        "answer_withdraw": _l("提出の取り下げ"),
        "answer_late": _l("締切後の下書き"),
        "answer_decision": _l("回答の決定機関の記録"),
        "published_back": _l("県本部の回答を単組に公開"),
        "published_back_withdrawn": _l("県本部の回答の単組への公開の取り消し"),
    }
)


def _answer_link(_answer_id: int, event) -> str | None:
    org_id = (event.details or {}).get("org_id")
    if event.round_id and org_id:
        return url_for("answers.show", round_id=event.round_id, org_id=org_id)
    return None


register_kind("answer", _l("回答"), Answer, link=_answer_link)
register_kind("opinion", _l("意見"))
