"""Request campaigns (要請行動), their letters, request items, addressees and letter templates."""

from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.audit.models import Subject, register_actions, register_kind
from consult.core.types import UTCDateTime
from consult.extensions import db

# How long each text may be: the String columns' sizes, and the bounds of the free texts (the forms check them).
TITLE_LENGTH = 300  # a campaign's and a letter's
SENDER_ORG_LENGTH = 200
SENDER_TITLE_LENGTH = 200
SENDER_NAME_LENGTH = 100
ORGANISATION_LENGTH = 200  # an addressee's
ADDRESSEE_TITLE_LENGTH = 200
ADDRESSEE_NAME_LENGTH = 100
FILENAME_LENGTH = 255
ITEM_TEXT_LIMIT = 5_000  # a section heading or a request
PARAGRAPHS_LIMIT = 20_000  # a greeting, the background, the closing, an addressee's own paragraphs
TEMPLATE_MAX_BYTES = 5 * 1024 * 1024
ADDRESSEE_KINDS = {"ministry": _l("省庁"), "party": _l("政党"), "other": _l("その他")}
HONORIFICS = ("様", "殿")  # values, printed as they are
DATE_STYLES = {"western": _l("西暦（2025年3月●日）"), "era": _l("和暦（令和7年3月●日）")}
# Per-addressee overrides (issue 13): where this addressee's date comes from, and whether its organisation prints.
DATE_MODES = {
    "shared": _l("要請行動の日付を使う"),
    "fixed": _l("この要請先だけの日付（日まで決める）"),
    "undecided": _l("この要請先だけの日付（日は●のまま）"),
}
PRINT_ORGANISATION = {
    "auto": _l("自動（肩書が組織名を含むときは印字しない）"),
    "always": _l("いつも印字する"),
    "never": _l("印字しない"),
}
PARAGRAPH_OPS = ("replace", "insert", "remove")
NUMBERING_STYLES = ("dot-paren", "dot-circle", "paren-circle", "dot", "circle", "paren")  # numbering.STYLES


class Campaign(db.Model):
    """要請行動: one visit plan with a date (the day may be undecided), a sender, and its letters."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("date_month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("date_day IS NULL OR date_day BETWEEN 1 AND 31", name="day"),
        CheckConstraint("date_style IN ('western', 'era')", name="date_style"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("round.id", ondelete="SET NULL"), index=True)
    date_year: Mapped[int]
    date_month: Mapped[int]
    date_day: Mapped[int | None]  # None prints as ● until the visit is booked
    date_style: Mapped[str] = mapped_column(String(10), default="western")
    sender_org: Mapped[str] = mapped_column(String(SENDER_ORG_LENGTH))
    sender_title: Mapped[str] = mapped_column(String(SENDER_TITLE_LENGTH), default="")
    sender_name: Mapped[str] = mapped_column(String(SENDER_NAME_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    letters: Mapped[list[Letter]] = relationship(
        back_populates="campaign", order_by="Letter.position, Letter.id", cascade="all, delete-orphan"
    )
    addressees: Mapped[list[Addressee]] = relationship(
        back_populates="campaign", order_by="Addressee.position, Addressee.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @staticmethod
    def visible_to(user) -> bool:
        """Request campaigns are headquarters' work: a branch neither sees nor changes them."""
        return user.is_hq

    def audit_subject(self) -> Subject:
        return Subject("campaign", self.id, self.round_id, f"要請行動「{self.title}」")


class Letter(db.Model):
    """One request letter (要請書): title, greeting, background, closing, and numbered request items."""

    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    greeting: Mapped[str] = mapped_column(Text, default="")
    background: Mapped[str] = mapped_column(Text, default="")  # paragraphs, one per line
    closing: Mapped[str] = mapped_column(Text, default="")
    numbering: Mapped[str] = mapped_column(String(20), default="dot-paren")
    fullwidth_digits: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    campaign: Mapped[Campaign] = relationship(back_populates="letters")
    items: Mapped[list[RequestItem]] = relationship(
        back_populates="letter", order_by="RequestItem.position, RequestItem.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def audit_subject(self) -> Subject:
        return Subject(
            "letter", self.id, self.campaign.round_id, f"要請書「{self.title}」", {"campaign_id": self.campaign_id}
        )

    def top_items(self) -> list[RequestItem]:
        """Sections (or, in a flat letter, the items) in order."""
        return [item for item in self.items if item.parent_id is None]


class RequestItem(db.Model):
    """A section heading (…について) or a request (…こと。); a child of a section in a two-level letter."""

    __tablename__ = "request_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("request_item.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    text: Mapped[str] = mapped_column(Text)

    letter: Mapped[Letter] = relationship(back_populates="items")
    parent: Mapped[RequestItem | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[RequestItem]] = relationship(
        back_populates="parent", order_by="RequestItem.position, RequestItem.id"
    )
    opinions = relationship("Opinion", secondary="request_item_opinion", order_by="Opinion.id", backref="request_items")

    def audit_subject(self) -> Subject:
        letter = self.letter
        text = self.text if len(self.text) <= 60 else self.text[:60] + "…"
        return Subject(
            "request_item",
            self.id,
            letter.campaign.round_id,
            f"要請書「{letter.title}」の項目「{text}」",
            {"campaign_id": letter.campaign_id, "letter_id": letter.id},
        )


class RequestItemOpinion(db.Model):
    """Which opinions a request item answers: traceable from the item and from the opinion."""

    __tablename__ = "request_item_opinion"

    request_item_id: Mapped[int] = mapped_column(ForeignKey("request_item.id", ondelete="CASCADE"), primary_key=True)
    opinion_id: Mapped[int] = mapped_column(ForeignKey("opinion.id", ondelete="CASCADE"), primary_key=True, index=True)


class Addressee(db.Model):
    """要請先: who receives a letter, with the honorific, a subset of items and text of their own."""

    __tablename__ = "addressee"
    __table_args__ = (
        CheckConstraint("honorific IN ('様', '殿')", name="honorific"),
        CheckConstraint("kind IN ('ministry', 'party', 'other')", name="kind"),
        CheckConstraint("date_mode IN ('shared', 'fixed', 'undecided')", name="date_mode"),
        CheckConstraint(
            "date_mode = 'shared' OR (date_year IS NOT NULL AND date_month BETWEEN 1 AND 12"
            " AND date_style IN ('western', 'era'))",
            name="own_date",
        ),
        CheckConstraint("date_mode <> 'fixed' OR date_day BETWEEN 1 AND 31", name="fixed_day"),
        CheckConstraint("print_organisation IN ('auto', 'always', 'never')", name="print_organisation"),
        CheckConstraint(
            "numbering IS NULL OR numbering IN ('dot-paren', 'dot-circle', 'paren-circle', 'dot', 'circle', 'paren')",
            name="numbering",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    letter_id: Mapped[int] = mapped_column(ForeignKey("letter.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    organisation: Mapped[str] = mapped_column(String(ORGANISATION_LENGTH))
    kind: Mapped[str] = mapped_column(String(10), default="ministry")
    title: Mapped[str] = mapped_column(String(ADDRESSEE_TITLE_LENGTH), default="")
    name: Mapped[str] = mapped_column(String(ADDRESSEE_NAME_LENGTH), default="")
    honorific: Mapped[str] = mapped_column(String(2), default="様")
    greeting: Mapped[str] = mapped_column(Text, default="")  # empty: the letter's greeting
    extra_paragraph: Mapped[str] = mapped_column(Text, default="")
    all_items: Mapped[bool] = mapped_column(Boolean, default=True)
    # Overrides of the shared letter for this addressee only (issue 13); None / 'shared' = as the letter says.
    date_mode: Mapped[str] = mapped_column(String(10), default="shared", server_default="shared")
    date_year: Mapped[int | None]
    date_month: Mapped[int | None]
    date_day: Mapped[int | None]  # None prints as ● (date_mode 'undecided')
    date_style: Mapped[str | None] = mapped_column(String(10))
    one_line: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # title and name on one line
    spread: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # 均等割り
    print_organisation: Mapped[str] = mapped_column(String(10), default="auto", server_default="auto")
    closing: Mapped[str | None] = mapped_column(Text)  # None: the letter's closing
    numbering: Mapped[str | None] = mapped_column(String(20))  # None: the letter's numbering
    fullwidth_digits: Mapped[bool | None] = mapped_column(Boolean)
    own_outline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # addressee_request rows
    # Bumped by every save (operations.touch_addressee): two pages loaded at once cannot both save (issue 13).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    campaign: Mapped[Campaign] = relationship(back_populates="addressees")
    letter: Mapped[Letter] = relationship()
    selected = relationship("RequestItem", secondary="addressee_item", order_by="RequestItem.position")
    paragraph_edits: Mapped[list[AddresseeParagraph]] = relationship(
        order_by="AddresseeParagraph.id", cascade="all, delete-orphan"
    )
    outline_rows: Mapped[list[AddresseeRequest]] = relationship(
        order_by="AddresseeRequest.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    def prints_organisation(self) -> bool:
        """Whether the organisation line is printed: said explicitly by print_organisation, 'auto' decides by the
        title (総務省 / 総務大臣 is printed 「総務大臣」 alone)."""
        if self.print_organisation == "always":
            return True
        if self.print_organisation == "never":
            return False
        from consult.letters.compose import title_names_organisation

        return not title_names_organisation(self.organisation, self.title)

    @property
    def kind_label(self) -> str:
        return ADDRESSEE_KINDS.get(self.kind, self.kind)

    def audit_subject(self) -> Subject:
        words = f"要請先「{' '.join(filter(None, (self.organisation, self.title)))}」"
        return Subject("addressee", self.id, self.campaign.round_id, words, {"campaign_id": self.campaign_id})


class AddresseeItem(db.Model):
    """A section or item chosen for an addressee who gets only part of a letter."""

    __tablename__ = "addressee_item"

    addressee_id: Mapped[int] = mapped_column(ForeignKey("addressee.id", ondelete="CASCADE"), primary_key=True)
    request_item_id: Mapped[int] = mapped_column(ForeignKey("request_item.id", ondelete="CASCADE"), primary_key=True)


class AddresseeParagraph(db.Model):
    """One edit of the shared background for one addressee: replace / remove the shared paragraph ``at``
    (0-based), or insert a paragraph before it; ``was`` is the shared text the edit was made against."""

    __tablename__ = "addressee_paragraph"
    __table_args__ = (
        CheckConstraint("op IN ('replace', 'insert', 'remove')", name="op"),
        CheckConstraint("at >= 0", name="at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    addressee_id: Mapped[int] = mapped_column(ForeignKey("addressee.id", ondelete="CASCADE"), index=True)
    op: Mapped[str] = mapped_column(String(10))
    at: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    was: Mapped[str] = mapped_column(Text, default="")


class AddresseeRequest(db.Model):
    """One line of an addressee's own outline under 記 (when ``Addressee.own_outline``): in order, a section heading
    or a request, taken from a shared item (``request_item_id``) and/or in its own wording (``text``)."""

    __tablename__ = "addressee_request"
    __table_args__ = (
        CheckConstraint("request_item_id IS NOT NULL OR text IS NOT NULL", name="source"),
        UniqueConstraint("addressee_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    addressee_id: Mapped[int] = mapped_column(ForeignKey("addressee.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    request_item_id: Mapped[int | None] = mapped_column(ForeignKey("request_item.id", ondelete="CASCADE"), index=True)
    is_heading: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str | None] = mapped_column(Text)  # None: the shared item's wording


class LetterTemplate(db.Model):
    """A Word template uploaded by staff; the newest checked one is used, older ones are kept."""

    __tablename__ = "letter_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(FILENAME_LENGTH))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    def audit_subject(self) -> Subject:
        return Subject("template", self.id, None, f"ひな形「{self.filename}」")


register_actions(
    {
        "campaign_created": _l("要請行動の作成"),
        "campaign_edited": _l("要請行動の編集"),
        "campaign_removed": _l("要請行動の削除"),
        "letter_added": _l("要請書の追加"),
        "letter_edited": _l("要請書の編集"),
        "letter_removed": _l("要請書の削除"),
        "request_item_changed": _l("要請項目の変更"),
        "request_link_changed": _l("要請項目との対応づけ"),
        "addressee_added": _l("要請先の追加"),
        "addressee_edited": _l("要請先の編集"),
        "addressee_removed": _l("要請先の削除"),
        "template_uploaded": _l("ひな形の登録"),
    }
)


def _in_campaign(endpoint: str, key: str):
    """A link to a page of the campaign named in the line's details."""

    def link(object_id: int, event) -> str | None:
        campaign_id = (event.details or {}).get("campaign_id")
        return url_for(endpoint, campaign_id=campaign_id, **{key: object_id}) if campaign_id else None

    return link


register_kind(
    "campaign",
    _l("要請行動"),
    Campaign,
    link=lambda campaign_id, _event: url_for("letters.detail", campaign_id=campaign_id),
)
register_kind("letter", _l("要請書"), Letter, link=_in_campaign("letters.letter", "letter_id"))
register_kind("request_item", _l("要請項目"))
register_kind("addressee", _l("要請先"), Addressee, link=_in_campaign("letters.edit_addressee", "addressee_id"))
register_kind("template", _l("ひな形"))
