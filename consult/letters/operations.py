"""Changes to request campaigns, letters, request items, addressees and templates; each flushes, the request commits.

The forms check shape and length. What stays here are the letters' own invariants, whoever calls: what Word
cannot hold (consult.core.text.is_forbidden) is refused with a message naming the characters, so nothing typed is
dropped silently from a letter later; names and titles are present, on one line and fit their columns; dates
exist; an addressee receives a letter of its own campaign; links join a request to submitted opinions of the
round its campaign rests on. Refusals raise InputErrors (a DomainError) whose ``errors`` maps each form field to
its Japanese message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from consult.answers.models import Answer, Opinion
from consult.audit.operations import record_object
from consult.core.convert import YEAR_MAX, YEAR_MIN
from consult.core.errors import ConflictError, DomainError
from consult.core.text import clean, describe_characters, forbidden_in, normalise_newlines, uploaded_file_name
from consult.extensions import db
from consult.letters import dates, numbering
from consult.letters.models import (
    ADDRESSEE_KINDS,
    ADDRESSEE_NAME_LENGTH,
    ADDRESSEE_TITLE_LENGTH,
    DATE_MODES,
    DATE_STYLES,
    FILENAME_LENGTH,
    HONORIFICS,
    ORGANISATION_LENGTH,
    PRINT_ORGANISATION,
    SENDER_NAME_LENGTH,
    SENDER_ORG_LENGTH,
    SENDER_TITLE_LENGTH,
    TEMPLATE_MAX_BYTES,
    TITLE_LENGTH,
    Addressee,
    AddresseeParagraph,
    AddresseeRequest,
    Campaign,
    Letter,
    LetterTemplate,
    RequestItem,
)
from consult.letters.template_check import check_template
from consult.rounds.models import Round

CONFLICT_MESSAGE = _l(
    "他の人が先に更新しました。あなたの入力内容は消えていません。"
    "保存済みの内容と見比べてから、もう一度保存してください。"
)
STALE_MESSAGE = _l(
    "他の人がこの内容を先に更新しました。あなたの入力内容は消えていません。"
    "保存済みの内容を確かめてから、もう一度保存してください。"
)
YEAR_RANGE = (YEAR_MIN, YEAR_MAX)  # the one bound on every year (core.convert)


class InputErrors(DomainError):
    """Several fields refused at once; ``errors`` maps field name → message, str() joins them."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("\n".join(errors.values()))
        self.errors = errors


class TemplateRejected(DomainError):
    """An uploaded template that cannot be used; ``messages`` lists every reason, the old template stays."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


class Checker:
    """Collects one message per field, then raises them together."""

    def __init__(self):
        self.errors: dict[str, str] = {}

    def text(
        self,
        name: str,
        value: str | None,
        label: str,
        limit: int | None = None,
        *,
        required: bool = False,
        single_line: bool = False,
    ) -> str:
        """The value with line ends normalised and surrounding ASCII blanks trimmed, or a message recorded.

        limit: the size of a String column (a free text's bound is the form's business)."""
        value = normalise_newlines(value or "").strip(" \t\n")
        removed = forbidden_in(value)
        if removed:
            self.errors[name] = _(
                "%(label)sに文書に書き込めない文字（%(removed)s）が含まれています。その文字を削除してから保存してください。",
                label=label,
                removed=describe_characters(removed),
            )
        elif required and not value:
            self.errors[name] = _("%(label)sを入力してください。", label=label)
        elif limit is not None and len(value) > limit:
            self.errors[name] = _(
                "%(label)sは%(limit)s文字以内で入力してください（現在%(len_value)s文字）。",
                label=label,
                limit=limit,
                len_value=len(value),
            )
        elif single_line and "\n" in value:
            self.errors[name] = _("%(label)sは改行を入れずに一行で入力してください。", label=label)
        return value

    def choice(self, name: str, value, allowed, message: str):
        if value not in allowed:
            self.errors[name] = message
        return value

    def raise_if_any(self) -> None:
        if self.errors:
            raise InputErrors(self.errors)


def _flush_or_conflict(obj) -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:  # someone saved between our read and our write
        raise ConflictError(CONFLICT_MESSAGE, current=None) from exc


def check_version(obj, expected_version: int | None) -> None:
    """Refuse an edit made on a page loaded before someone else's save."""
    if expected_version is not None and expected_version != obj.version:
        raise ConflictError(CONFLICT_MESSAGE, current=obj)


# ---------------------------------------------------------------------------------------------------------------
# Campaigns


@dataclass
class CampaignInput:
    """A campaign as typed in the form."""

    title: str
    date_year: int
    date_month: int
    date_day: int | None = None  # None: the day is not fixed yet and prints as ●
    date_style: str = dates.WESTERN
    sender_org: str = ""
    sender_title: str = ""
    sender_name: str = ""
    round_id: int | None = None


def _check_campaign(data: CampaignInput) -> CampaignInput:
    c = Checker()
    title = c.text("title", data.title, _("要請行動の名称"), TITLE_LENGTH, required=True, single_line=True)
    sender_org = c.text(
        "sender_org", data.sender_org, _("差出人の団体名"), SENDER_ORG_LENGTH, required=True, single_line=True
    )
    sender_title = c.text("sender_title", data.sender_title, _("差出人の役職"), SENDER_TITLE_LENGTH, single_line=True)
    sender_name = c.text("sender_name", data.sender_name, _("差出人の氏名"), SENDER_NAME_LENGTH, single_line=True)
    c.choice("date_style", data.date_style, DATE_STYLES, _("日付の書式は西暦か和暦を選んでください。"))
    _check_date(c, data)
    if data.round_id is not None and db.session.get(Round, data.round_id) is None:
        c.errors["round_id"] = _("もとになる討議が見つかりません。選び直してください。")
    c.raise_if_any()
    return CampaignInput(
        title,
        data.date_year,
        data.date_month,
        data.date_day,
        data.date_style,
        sender_org,
        sender_title,
        sender_name,
        data.round_id,
    )


def _check_date(c: Checker, data: CampaignInput) -> None:
    """Year in a sensible range, month 1–12, a day that exists in that month (or None for ●)."""
    if not isinstance(data.date_year, int) or not YEAR_RANGE[0] <= data.date_year <= YEAR_RANGE[1]:
        c.errors["date_year"] = _(
            "年は%(year_range_0)s〜%(year_range_1)sの西暦で入力してください。",
            year_range_0=YEAR_RANGE[0],
            year_range_1=YEAR_RANGE[1],
        )
        return
    if not isinstance(data.date_month, int) or not 1 <= data.date_month <= 12:
        c.errors["date_month"] = _("月は1〜12で入力してください。")
        return
    if data.date_day is not None and (not isinstance(data.date_day, int) or not 1 <= data.date_day <= 31):
        c.errors["date_day"] = _("日は1〜31で入力するか、未定（●）にしてください。")
        return
    try:
        dates.format_date(
            data.date_year,
            data.date_month,
            data.date_day,
            style=data.date_style if data.date_style in dates.STYLES else dates.WESTERN,
        )
    except ValueError as exc:
        c.errors["date_day"] = str(exc)


def create_campaign(data: CampaignInput, now: datetime, *, user) -> Campaign:
    """A new campaign without letters or addressees yet."""
    data = _check_campaign(data)
    campaign = Campaign(
        title=data.title,
        round_id=data.round_id,
        date_year=data.date_year,
        date_month=data.date_month,
        date_day=data.date_day,
        date_style=data.date_style,
        sender_org=data.sender_org,
        sender_title=data.sender_title,
        sender_name=data.sender_name,
        created_at=now,
    )
    db.session.add(campaign)
    db.session.flush()
    record_object("campaign_created", campaign, user=user, now=now)
    return campaign


def update_campaign(
    campaign: Campaign, expected_version: int | None, data: CampaignInput, *, user, now: datetime
) -> Campaign:
    """Change the campaign's title, date, sender or round, refusing a stale edit."""
    check_version(campaign, expected_version)
    data = _check_campaign(data)
    for name in (
        "title",
        "round_id",
        "date_year",
        "date_month",
        "date_day",
        "date_style",
        "sender_org",
        "sender_title",
        "sender_name",
    ):
        setattr(campaign, name, getattr(data, name))
    _flush_or_conflict(campaign)
    record_object("campaign_edited", campaign, user=user, now=now)
    return campaign


# ---------------------------------------------------------------------------------------------------------------
# Letters


@dataclass
class LetterInput:
    """A letter's own text as typed in the form."""

    title: str
    greeting: str = ""
    background: str = ""  # one paragraph per line
    closing: str = ""
    numbering: str = numbering.DEFAULT
    fullwidth_digits: bool = True


def _check_letter(data: LetterInput) -> LetterInput:
    c = Checker()
    result = LetterInput(
        title=c.text("title", data.title, _("要請書の題名"), TITLE_LENGTH, required=True, single_line=True),
        greeting=c.text("greeting", data.greeting, _("あいさつ文")),
        background=c.text("background", data.background, _("背景の文章")),
        closing=c.text("closing", data.closing, _("結びの文")),
        numbering=c.choice("numbering", data.numbering, numbering.LEVELS, _("番号の書式を一覧から選んでください。")),
        fullwidth_digits=bool(data.fullwidth_digits),
    )
    c.raise_if_any()
    return result


def add_letter(campaign: Campaign, data: LetterInput, *, user, now: datetime) -> Letter:
    """A new letter at the end of the campaign's letters."""
    data = _check_letter(data)
    position = max((each.position for each in campaign.letters), default=0) + 1
    letter = Letter(campaign=campaign, position=position, **vars(data))
    db.session.add(letter)
    db.session.flush()
    record_object("letter_added", letter, user=user, now=now)
    return letter


def update_letter(letter: Letter, expected_version: int | None, data: LetterInput, *, user, now: datetime) -> Letter:
    """Change a letter's text or numbering, refusing a stale edit."""
    check_version(letter, expected_version)
    data = _check_letter(data)
    for name, value in vars(data).items():
        setattr(letter, name, value)
    _flush_or_conflict(letter)
    record_object("letter_edited", letter, user=user, now=now)
    return letter


def remove_letter(letter: Letter, *, user, now: datetime) -> None:
    """Delete a letter nobody receives any more."""
    users = db.session.scalars(select(Addressee.organisation).where(Addressee.letter_id == letter.id)).all()
    if users:
        raise DomainError(
            _(
                "この要請書を受け取る要請先（%(join_users)s）があります。先に要請先の要請書を変更するか、要請先を削除してください。",
                join_users="、".join(users),
            )
        )
    campaign = letter.campaign
    record_object("letter_removed", letter, user=user, now=now)
    _delete_items(letter)
    db.session.delete(letter)
    db.session.flush()
    db.session.expire(campaign, ["letters"])


def _delete_items(letter: Letter) -> None:
    """Items before their sections, so the ORM and the database's own cascade never both delete a row."""
    for level in ([i for i in letter.items if i.parent_id is not None], letter.top_items()):
        for item in level:
            db.session.delete(item)
        db.session.flush()
    db.session.expire(letter, ["items"])


# ---------------------------------------------------------------------------------------------------------------
# Request items


def _check_item_text(text: str) -> str:
    c = Checker()
    text = c.text("text", text, _("要請項目"), required=True)
    c.raise_if_any()
    return text


def _siblings(item_or_letter: RequestItem | Letter, parent: RequestItem | None) -> list[RequestItem]:
    letter = item_or_letter if isinstance(item_or_letter, Letter) else item_or_letter.letter
    return list(parent.children) if parent is not None else letter.top_items()


def _renumber(items: list[RequestItem]) -> None:
    for position, each in enumerate(items, start=1):
        each.position = position


def _expire_order(letter: Letter, parent: RequestItem | None) -> None:
    """Collections are ordered by position only when loaded; reload them after positions changed."""
    db.session.flush()
    db.session.expire(letter, ["items"])
    if parent is not None:
        db.session.expire(parent, ["children"])


def add_request_item(
    letter: Letter, text: str, parent: RequestItem | None = None, *, user, now: datetime
) -> RequestItem:
    """A request at the end of the letter, or of a section when parent is given (two levels at most)."""
    text = _check_item_text(text)
    if parent is not None and (parent.letter_id != letter.id or parent.parent_id is not None):
        raise DomainError(_("項目は同じ要請書の大項目（…について）の下にだけ追加できます。"))
    siblings = _siblings(letter, parent)
    position = max((each.position for each in siblings), default=0) + 1
    item = RequestItem(letter=letter, parent=parent, position=position, text=text)
    db.session.add(item)
    db.session.flush()
    record_object("request_item_changed", item, "追加", user=user, now=now)
    return item


def add_imported_items(letter: Letter, sections, *, user, now: datetime) -> int:
    """Every section and request of an imported letter at once: one flush and one line of the log, not one per
    item (a 100-item letter is stored well under a second). The same checks as add_request_item."""
    top_position = max((each.position for each in letter.top_items()), default=0)
    added = []
    for section in sections:
        parent = None
        if section.heading:
            top_position += 1
            parent = RequestItem(letter=letter, position=top_position, text=_check_item_text(section.heading))
            added.append(parent)
        for n, text in enumerate(section.items, start=1):
            if parent is None:
                top_position += 1
            position = n if parent is not None else top_position
            added.append(RequestItem(letter=letter, parent=parent, position=position, text=_check_item_text(text)))
    db.session.add_all(added)
    db.session.flush()
    db.session.expire(letter, ["items"])
    record_object("letter_edited", letter, f"取り込んだ要請項目{len(added)}件", user=user, now=now)
    return len(added)


def update_request_item(item: RequestItem, text: str, *, shown: str | None = None, user, now: datetime) -> RequestItem:
    """Change the wording of a section heading or a request; `shown` is the wording the page showed, and a change
    saved meanwhile by someone else is refused rather than overwritten."""
    if shown is not None and clean(shown).strip() != item.text.strip():
        raise ConflictError(STALE_MESSAGE, current=item)
    item.text = _check_item_text(text)
    db.session.flush()
    record_object("request_item_changed", item, "文言の変更", user=user, now=now)
    return item


def move_request_item(item: RequestItem, step: int, *, user, now: datetime) -> None:
    """Swap an item with its neighbour above (-1) or below (+1) among the items of the same level."""
    siblings = _siblings(item, item.parent)
    index = next(i for i, each in enumerate(siblings) if each.id == item.id)
    other = index + step
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    _renumber(siblings)
    record_object("request_item_changed", item, "並べ替え", user=user, now=now)
    _expire_order(item.letter, item.parent)


def remove_request_item(item: RequestItem, *, user, now: datetime) -> None:
    """Delete an item (a section with its items), unless an addressee would be left with nothing to receive."""
    letter, parent = item.letter, item.parent
    gone = {item.id, *(child.id for child in item.children)}
    addressees = db.session.scalars(
        select(Addressee).where(Addressee.letter_id == letter.id).options(selectinload(Addressee.selected))
    ).all()
    stranded = [a.organisation for a in addressees if not a.all_items and not ({s.id for s in a.selected} - gone)]
    if stranded:
        raise DomainError(
            _(
                "%(join_stranded)s宛の要請書はこの項目だけを選んでいます。先にその要請先の項目を選び直してください。",
                join_stranded="、".join(stranded),
            )
        )
    for addressee in addressees:
        addressee.selected = [s for s in addressee.selected if s.id not in gone]
    record_object("request_item_changed", item, "削除", user=user, now=now)
    for child in list(item.children):
        db.session.delete(child)
    db.session.delete(item)
    db.session.flush()
    _expire_order(letter, parent)
    _renumber(_siblings(letter, parent))
    db.session.flush()


def link_opinions(item: RequestItem, opinion_ids: Iterable[int], *, user, now: datetime) -> int:
    """Record that a request item takes these opinions up; how many links are new.

    The one writer of the link (the letter's item page and the review of opinions both call it): the opinions
    must count in the round the item's campaign rests on (submitted, not 「意見なし」: answers.queries.counted)."""
    wanted = set(opinion_ids)
    if not wanted:
        return 0
    round_id = item.letter.campaign.round_id
    if round_id is None:
        raise DomainError(_("この要請行動はもとになる討議がないため、意見を結び付けられません。"))
    found = db.session.execute(
        select(Opinion, Answer).join(Answer, Answer.id == Opinion.answer_id).where(Opinion.id.in_(wanted))
    ).all()
    if len(found) != len(wanted):
        raise DomainError(_("指定された意見が見つかりません。一覧を読み込み直してください。"))
    if any(answer.status != "submitted" or answer.no_opinion for _op, answer in found):
        raise DomainError(_("提出されていない（下書きの）意見は要請項目に結び付けられません。"))
    if any(answer.round_id != round_id for _op, answer in found):
        raise DomainError(_("選んだ要請項目はこの討議の要請書にありません。一覧から選び直してください。"))
    linked = {op.id for op in item.opinions}
    new = [op for op, _answer in sorted(found, key=lambda row: row[0].id) if op.id not in linked]
    if not new:
        return 0
    item.opinions.extend(new)
    db.session.flush()
    record_object("request_link_changed", item, f"意見{len(new)}件を対応づけ", user=user, now=now)
    return len(new)


def unlink_opinion(item: RequestItem, opinion: Opinion, *, user, now: datetime) -> bool:
    """Remove one link between a request item and an opinion; False when it did not exist."""
    if opinion not in item.opinions:
        return False
    item.opinions.remove(opinion)
    db.session.flush()
    record_object("request_link_changed", item, f"意見#{opinion.id}の対応づけを解除", user=user, now=now)
    return True


# ---------------------------------------------------------------------------------------------------------------
# Addressees


@dataclass
class AddresseeInput:
    """An addressee as typed in the form."""

    organisation: str
    kind: str = "ministry"
    title: str = ""
    name: str = ""
    honorific: str = "様"
    greeting: str = ""  # empty: the letter's greeting
    extra_paragraph: str = ""


def _check_addressee(data: AddresseeInput) -> AddresseeInput:
    c = Checker()
    result = AddresseeInput(
        organisation=c.text(
            "organisation", data.organisation, _("要請先の団体名"), ORGANISATION_LENGTH, required=True, single_line=True
        ),
        kind=c.choice("kind", data.kind, ADDRESSEE_KINDS, _("要請先の種類（省庁・政党・その他）を選んでください。")),
        title=c.text("title", data.title, _("要請先の役職"), ADDRESSEE_TITLE_LENGTH, single_line=True),
        name=c.text("name", data.name, _("要請先の氏名"), ADDRESSEE_NAME_LENGTH, single_line=True),
        honorific=c.choice("honorific", data.honorific, HONORIFICS, _("敬称は「様」か「殿」を選んでください。")),
        greeting=c.text("greeting", data.greeting, _("この要請先へのあいさつ文")),
        extra_paragraph=c.text("extra_paragraph", data.extra_paragraph, _("この要請先への追加の段落")),
    )
    c.raise_if_any()
    return result


def _check_letter_of(campaign: Campaign, letter: Letter) -> None:
    if letter is None or letter.campaign_id != campaign.id:
        raise InputErrors({"letter_id": _("この要請行動の要請書から選んでください。")})


def add_addressee(campaign: Campaign, letter: Letter, data: AddresseeInput, *, user, now: datetime) -> Addressee:
    """A new addressee at the end of the list, receiving the whole letter."""
    _check_letter_of(campaign, letter)
    data = _check_addressee(data)
    position = max((each.position for each in campaign.addressees), default=0) + 1
    addressee = Addressee(campaign=campaign, letter=letter, position=position, all_items=True, **vars(data))
    db.session.add(addressee)
    db.session.flush()
    record_object("addressee_added", addressee, user=user, now=now)
    return addressee


def touch_addressee(addressee: Addressee) -> None:
    """Make the next flush write the addressee's row, so its version goes up even when only its rows of paragraphs,
    items or outline changed: a page loaded before this save is then refused, never silently overwriting it."""
    flag_modified(addressee, "own_outline")


def update_addressee(
    addressee: Addressee,
    letter: Letter,
    data: AddresseeInput,
    *,
    expected_version: int | None = None,
    user,
    now: datetime,
) -> Addressee:
    """Change who the addressee is and their own text; another letter means its whole text again."""
    check_version(addressee, expected_version)
    _check_letter_of(addressee.campaign, letter)
    data = _check_addressee(data)
    if letter.id != addressee.letter_id:
        addressee.letter = letter
        addressee.all_items = True
        addressee.selected = []
    for name, value in vars(data).items():
        setattr(addressee, name, value)
    touch_addressee(addressee)
    _flush_or_conflict(addressee)
    record_object("addressee_edited", addressee, user=user, now=now)
    return addressee


def set_addressee_items(addressee: Addressee, item_ids: Iterable[int] | None, *, user, now: datetime) -> None:
    """Give the addressee only the chosen sections or items; None gives the whole letter."""
    if item_ids is None:
        addressee.all_items = True
        addressee.selected = []
        db.session.flush()
        record_object("addressee_edited", addressee, "すべての項目", user=user, now=now)
        return
    wanted = set(item_ids)
    if not wanted:
        raise InputErrors({"items": _("項目を一つ以上選ぶか、「すべての項目」を選んでください。")})
    items = [i for i in addressee.letter.items if i.id in wanted]
    if len(items) != len(wanted):
        raise InputErrors({"items": _("この要請書にない項目が選ばれています。画面を読み込み直してください。")})
    addressee.all_items = False
    addressee.selected = sorted(items, key=lambda i: i.id)
    record_object("addressee_edited", addressee, f"項目を{len(items)}件に限定", user=user, now=now)
    _flush_or_conflict(addressee)
    db.session.expire(addressee, ["selected"])


def move_addressee(addressee: Addressee, step: int, *, user, now: datetime) -> None:
    """Swap an addressee with the one above (-1) or below (+1); the order is also the ZIP's file order."""
    campaign = addressee.campaign
    siblings = list(campaign.addressees)
    index = next(i for i, each in enumerate(siblings) if each.id == addressee.id)
    other = index + step
    if 0 <= other < len(siblings):
        siblings[index], siblings[other] = siblings[other], siblings[index]
    _renumber(siblings)
    db.session.flush()
    record_object("addressee_edited", addressee, "並べ替え", user=user, now=now)
    db.session.expire(campaign, ["addressees"])


def remove_addressee(addressee: Addressee, *, user, now: datetime) -> None:
    """Delete an addressee (the letter stays for the others)."""
    record_object("addressee_removed", addressee, user=user, now=now)
    campaign = addressee.campaign
    db.session.delete(addressee)
    db.session.flush()
    db.session.expire(campaign, ["addressees"])


# ---------------------------------------------------------------------------------------------------------------
# Weighing opinions and templates


def upload_template(filename: str, data: bytes, user, now: datetime) -> LetterTemplate:
    """Keep a new Word template once it passes every check; a refused one leaves the current template in use."""
    name = uploaded_file_name(filename, ".docx", "template.docx", FILENAME_LENGTH)
    messages = check_template(data or b"")
    if messages:
        raise TemplateRejected(messages)
    template = LetterTemplate(filename=name, data=data, uploaded_at=now, uploaded_by_id=getattr(user, "id", None))
    db.session.add(template)
    db.session.flush()
    record_object("template_uploaded", template, user=user, now=now)
    return template


# ---------------------------------------------------------------------------------------------------------------
# Per-addressee overrides (issue 13): stored as columns of the addressee and rows of addressee_paragraph /
# addressee_request; compose.build_letter applies them.


@dataclass
class OverridesInput:
    """The parts of the letter an addressee has of its own, as typed; None / 'shared' = as the letter says."""

    date_mode: str = "shared"
    date_year: int | None = None
    date_month: int | None = None
    date_day: int | None = None
    date_style: str = dates.WESTERN
    one_line: bool = False
    spread: bool = False
    print_organisation: str = "auto"
    closing: str | None = None
    numbering: str | None = None
    fullwidth_digits: bool | None = None
    background: str | None = None  # the addressee's whole background (one paragraph a line); stored as edits
    outline: list[tuple[int | None, bool, str | None]] | None = None  # (request item id, heading?, own text)


def _check_overrides(letter: Letter, data: OverridesInput) -> Checker:
    c = Checker()
    message = _("日付は「要請行動の日付」か、この要請先だけの日付を選んでください。")
    c.choice("date_mode", data.date_mode, DATE_MODES, message)
    if data.date_mode in ("fixed", "undecided"):
        c.choice("date_style", data.date_style, DATE_STYLES, _("日付の書式は西暦か和暦を選んでください。"))
        day = data.date_day if data.date_mode == "fixed" else None
        if data.date_mode == "fixed" and day is None:
            c.errors["date_day"] = _("日を入力するか、「日は●のまま」を選んでください。")
        elif data.date_year is None or data.date_month is None:
            c.errors["date_year"] = _("この要請先だけの日付の年と月を入力してください。")
        else:
            year_month = CampaignInput("", data.date_year, data.date_month, day, data.date_style)
            _check_date(c, year_month)
    c.choice("print_organisation", data.print_organisation, PRINT_ORGANISATION, _("組織名の印字を選んでください。"))
    if data.numbering is not None:
        c.choice("numbering", data.numbering, numbering.LEVELS, _("番号の書式を一覧から選んでください。"))
    if data.closing is not None:
        data.closing = c.text("closing", data.closing, _("この要請先だけの結びの文"))
    if data.background is not None:
        data.background = c.text("background", data.background, _("この要請先だけの本文"))
    own = {item.id for item in letter.items}
    for n, (item_id, _heading, text) in enumerate(data.outline or []):
        if item_id is not None and item_id not in own:
            c.errors["outline"] = _("この要請書にない項目が選ばれています。画面を読み込み直してください。")
        elif item_id is None and not (text or "").strip():
            c.errors["outline"] = _("%(n)s行目：共通の項目を選ぶか、文言を入力してください。", n=n + 1)
        elif text is not None and forbidden_in(text):
            c.errors["outline"] = _(
                "要請項目に文書に書き込めない文字（%(removed)s）が含まれています。その文字を削除してから保存してください。",
                removed=describe_characters(forbidden_in(text)),
            )
    return c


def set_addressee_overrides(
    addressee: Addressee, data: OverridesInput, *, expected_version: int | None = None, user, now: datetime
) -> Addressee:
    """Store what this addressee's letter changes of the shared one; the preview and the DOCX apply it."""
    from consult.letters import compose, diffing

    check_version(addressee, expected_version)
    letter = addressee.letter
    c = _check_overrides(letter, data)
    c.raise_if_any()
    addressee.date_mode = data.date_mode
    own_date = data.date_mode != "shared"
    addressee.date_year = data.date_year if own_date else None
    addressee.date_month = data.date_month if own_date else None
    addressee.date_day = data.date_day if data.date_mode == "fixed" else None
    addressee.date_style = data.date_style if own_date else None
    addressee.one_line, addressee.spread = bool(data.one_line), bool(data.spread)
    addressee.print_organisation = data.print_organisation
    addressee.closing = None if data.closing is None or data.closing == (letter.closing or "") else data.closing
    addressee.numbering = None if data.numbering == letter.numbering else data.numbering
    wide = data.fullwidth_digits
    addressee.fullwidth_digits = None if wide is None or wide == letter.fullwidth_digits else wide
    shared = compose.paragraphs_of(letter.background)
    if data.background is not None:
        edits = diffing.paragraph_edits(shared, compose.paragraphs_of(data.background))
        addressee.paragraph_edits = [AddresseeParagraph(op=e.op, at=e.at, text=e.text, was=e.was) for e in edits]
    touch_addressee(addressee)
    if data.outline is not None:
        addressee.outline_rows = []
        _flush_or_conflict(addressee)
        addressee.outline_rows = [
            AddresseeRequest(position=n, request_item_id=item_id, is_heading=heading, text=text)
            for n, (item_id, heading, text) in enumerate(data.outline, start=1)
        ]
        addressee.own_outline = bool(data.outline)
    _flush_or_conflict(addressee)
    record_object("addressee_edited", addressee, "要請先ごとの変更", user=user, now=now)
    return addressee


def overrides_input(addressee: Addressee) -> OverridesInput:
    """The stored overrides as they are typed (the form's and the API's starting point)."""
    from consult.letters import compose

    printed = compose.build_letter(addressee)
    return OverridesInput(
        date_mode=addressee.date_mode,
        date_year=addressee.date_year,
        date_month=addressee.date_month,
        date_day=addressee.date_day,
        date_style=addressee.date_style or dates.WESTERN,
        one_line=bool(addressee.one_line),
        spread=bool(addressee.spread),
        print_organisation=addressee.print_organisation,
        closing=addressee.closing,
        numbering=addressee.numbering,
        fullwidth_digits=addressee.fullwidth_digits,
        background="\n".join(printed.paragraphs),
        outline=[(r.request_item_id, r.is_heading, r.text) for r in addressee.outline_rows]
        if addressee.own_outline
        else None,
    )


def outline_from_refs(letter: Letter, refs) -> list[tuple[int | None, bool, str | None]]:
    """diffing's section references (positions in the shared letter) as outline rows (request item ids)."""
    from consult.letters import compose

    shared, where = compose.shared_sections(letter)
    by_place = {place: item_id for item_id, place in where.items()}
    flat = len(shared) == 1 and not shared[0].heading
    rows: list[tuple[int | None, bool, str | None]] = []
    for section in refs:
        implicit = section.ref is not None and section.heading is None and flat
        if not implicit:
            top = by_place.get((section.ref, None)) if section.ref is not None else None
            rows.append((top, True, section.heading if (section.heading is not None or top is None) else None))
            if top is None and rows[-1][2] is None:
                rows[-1] = (None, True, "")
        for item in section.items:
            item_id = by_place.get(tuple(item.ref)) if item.ref is not None else None
            text = item.text if item_id is not None else (item.text or "")
            rows.append((item_id, False, text))
    return rows


# ---------------------------------------------------------------------------------------------------------------
# Import from Word (issue 13)


IMPORT_MAX_BYTES = TEMPLATE_MAX_BYTES  # a letter is no bigger than a template


@dataclass
class ImportResult:
    campaign: Campaign
    letter: Letter
    addressee: Addressee
    imported: object  # docx_import.ImportedLetter: what was read, with what could not be placed
    notes: list[str]  # what was read but not stored (said to the user, never dropped silently)


def _imported_addressee_input(imported) -> tuple[AddresseeInput, str]:
    """The addressee as read: an organisation is required, so a title alone (総務大臣) stands in for it, and the
    organisation line is then explicitly not printed."""
    a = imported.addressee
    organisation = a.organisation or a.title or a.name or _("（宛名なし）")
    printed = "always" if a.organisation else "never"
    return (
        AddresseeInput(
            organisation=organisation[:ORGANISATION_LENGTH],
            title=a.title[:ADDRESSEE_TITLE_LENGTH],
            name=a.name[:ADDRESSEE_NAME_LENGTH],
            honorific=a.honorific if a.honorific in HONORIFICS else "様",
        ),
        printed,
    )


def _date_parts(imported, now: datetime, notes: list[str]) -> tuple[int, int, int | None, str]:
    """The letter's date; a date that is only ● (or none) takes this month with the day left at ●, and says so."""
    d = imported.date
    if d is None or d.year is None or d.month is None or d.problem:
        from consult.core.clock import to_jst

        today = to_jst(now)
        notes.append(
            _(
                "日付「%(text)s」から年月が読み取れないため、%(year)s年%(month)s月●日としました。",
                text=d.text if d else "",
                year=today.year,
                month=today.month,
            )
        )
        return today.year, today.month, None, d.style if d else dates.WESTERN
    return d.year, d.month, d.day, d.style


def import_letter(
    data: bytes, *, campaign: Campaign | None = None, variant_of: Letter | None = None, user, now: datetime
) -> ImportResult:
    """Read a Word letter and store it: a new campaign (unless one is given), a new letter with its items, and
    the addressee; ``variant_of`` adds the file as another addressee of that letter, storing only its differences
    as that addressee's overrides."""
    from consult.letters import compose, diffing, docx_import

    if len(data) > IMPORT_MAX_BYTES:
        raise InputErrors({"file": _("取り込む Word 文書は 5MB までにしてください。")})
    if variant_of is not None and campaign is not None and variant_of.campaign_id != campaign.id:
        raise InputErrors({"variant_of": _("別の要請先として取り込む要請書は、指定の要請行動のものを選んでください。")})
    try:
        imported = docx_import.import_docx(data)
    except docx_import.DocxImportError as exc:
        raise InputErrors({"file": str(exc)}) from exc
    notes = [f"{u.index + 1}段落目「{u.text}」: {u.reason}" for u in imported.unplaced] + list(imported.warnings)
    year, month, day, style = _date_parts(imported, now, notes)
    person, printed = _imported_addressee_input(imported)
    if variant_of is not None:
        campaign = variant_of.campaign
        letter = variant_of
    else:
        if campaign is None:
            s = imported.sender
            campaign = create_campaign(
                CampaignInput(
                    title=(imported.title or _("取り込んだ要請書"))[:TITLE_LENGTH],
                    date_year=year,
                    date_month=month,
                    date_day=day,
                    date_style=style,
                    sender_org=s.organisation or _("（差出人なし）"),
                    sender_title=s.title,
                    sender_name=s.name,
                ),
                now,
                user=user,
            )
        letter = add_letter(
            campaign,
            LetterInput(
                title=imported.title or _("取り込んだ要請書"),
                greeting=imported.greeting,
                background="\n".join(imported.paragraphs),
                closing=imported.closing,
                numbering=imported.numbering_style(),
                fullwidth_digits=imported.fullwidth_digits,
            ),
            user=user,
            now=now,
        )
        add_imported_items(letter, imported.sections(), user=user, now=now)
    addressee = add_addressee(campaign, letter, person, user=user, now=now)
    addressee.print_organisation = printed
    variant = imported.to_letter()
    base = compose.shared_letter(addressee)
    found = diffing.letter_diff(base, variant)
    overrides = OverridesInput(
        print_organisation=printed,
        one_line=bool(imported.addressee.one_line),
        spread=bool(imported.addressee.spread),
    )
    readable = imported.date is not None and imported.date.month is not None and not imported.date.problem
    if found.date is not None and readable:
        overrides.date_mode = "undecided" if day is None else "fixed"
        overrides.date_year, overrides.date_month, overrides.date_day, overrides.date_style = year, month, day, style
    if found.closing is not None:
        overrides.closing = found.closing
    if found.numbering is not None:
        overrides.numbering = found.numbering
    if found.fullwidth_digits is not None:
        overrides.fullwidth_digits = found.fullwidth_digits
    if found.paragraphs:
        overrides.background = "\n".join(variant.paragraphs)
    if found.sections is not None:
        overrides.outline = outline_from_refs(letter, found.sections)
    set_addressee_overrides(addressee, overrides, user=user, now=now)
    if found.greeting is not None and found.greeting:
        addressee.greeting = found.greeting
    elif found.greeting is not None:
        notes.append(_("この要請書にはあいさつ文がありません（共通のあいさつ文が入ります）。"))
    for name, value in found.fields.items():
        notes.append(
            _("差出人・題名の違い（%(name)s:「%(value)s」）は要請先ごとには保存しません。", name=name, value=value)
        )
    db.session.flush()
    return ImportResult(campaign, letter, addressee, imported, notes)


# ---------------------------------------------------------------------------------------------------------------
# Copies (issue 13): a letter, an addressee, or a whole campaign with a new date


def _copy_items(source: Letter, target: Letter) -> dict[int, int]:
    ids: dict[int, int] = {}
    for top in source.top_items():
        new_top = RequestItem(letter=target, position=top.position, text=top.text)
        db.session.add(new_top)
        db.session.flush()
        ids[top.id] = new_top.id
        for child in top.children:
            new_child = RequestItem(letter=target, parent=new_top, position=child.position, text=child.text)
            db.session.add(new_child)
            db.session.flush()
            ids[child.id] = new_child.id
    return ids


def copy_letter(letter: Letter, campaign: Campaign | None = None, *, user, now: datetime) -> Letter:
    """The letter with its items, at the end of the campaign's letters (its own campaign unless given)."""
    target = campaign or letter.campaign
    copy = add_letter(
        target,
        LetterInput(
            letter.title, letter.greeting, letter.background, letter.closing, letter.numbering, letter.fullwidth_digits
        ),
        user=user,
        now=now,
    )
    copy._copied_ids = _copy_items(letter, copy)
    db.session.expire(copy, ["items"])
    return copy


_ADDRESSEE_COPIED = (
    "organisation", "kind", "title", "name", "honorific", "greeting", "extra_paragraph", "all_items",
    "date_mode", "date_year", "date_month", "date_day", "date_style", "one_line", "spread",
    "print_organisation", "closing", "numbering", "fullwidth_digits", "own_outline",
)  # fmt: skip


def copy_addressee(
    addressee: Addressee,
    *,
    campaign: Campaign | None = None,
    letter: Letter | None = None,
    item_ids: dict[int, int] | None = None,
    date: tuple[int, int, int | None] | None = None,
    user,
    now: datetime,
) -> Addressee:
    """The addressee with every override (into another campaign and letter when copying a campaign); ``date``
    (year, month, day or None for ●) gives the copy a date of its own, e.g. the next visit."""
    campaign = campaign or addressee.campaign
    letter = letter or addressee.letter
    ids = item_ids or {i.id: i.id for i in addressee.letter.items}
    position = max((each.position for each in campaign.addressees), default=0) + 1
    copy = Addressee(campaign=campaign, letter=letter, position=position)
    for name in _ADDRESSEE_COPIED:
        setattr(copy, name, getattr(addressee, name))
    db.session.add(copy)
    copy.selected = [db.session.get(RequestItem, ids[i.id]) for i in addressee.selected if i.id in ids]
    copy.paragraph_edits = [
        AddresseeParagraph(op=e.op, at=e.at, text=e.text, was=e.was) for e in addressee.paragraph_edits
    ]
    copy.outline_rows = [
        AddresseeRequest(
            position=r.position,
            request_item_id=ids.get(r.request_item_id) if r.request_item_id is not None else None,
            is_heading=r.is_heading,
            text=r.text,
        )
        for r in addressee.outline_rows
        if r.request_item_id is None or r.request_item_id in ids
    ]
    if date is not None:
        year, month, day = date
        copy.date_mode = "fixed" if day is not None else "undecided"
        copy.date_year, copy.date_month, copy.date_day = year, month, day
        copy.date_style = addressee.date_style or campaign.date_style
        c = Checker()
        _check_date(c, CampaignInput("", year, month, day, copy.date_style))
        c.raise_if_any()
    db.session.flush()
    record_object("addressee_added", copy, "複製", user=user, now=now)
    return copy


def copy_campaign(
    campaign: Campaign, date: tuple[int, int, int | None], title: str | None = None, *, user, now: datetime
) -> Campaign:
    """The whole campaign (letters, items, addressees with their overrides) with a new date: the next visit or
    the next year. Addressees' own dates are kept relative to nothing: they take the new date's year and month."""
    year, month, day = date
    copy = create_campaign(
        CampaignInput(
            title or campaign.title,
            year,
            month,
            day,
            campaign.date_style,
            campaign.sender_org,
            campaign.sender_title,
            campaign.sender_name,
            campaign.round_id,
        ),
        now,
        user=user,
    )
    letters_map: dict[int, Letter] = {}
    ids: dict[int, int] = {}
    for letter in campaign.letters:
        new = copy_letter(letter, copy, user=user, now=now)
        letters_map[letter.id] = new
        ids.update(new._copied_ids)
    for addressee in campaign.addressees:
        new_addressee = copy_addressee(
            addressee, campaign=copy, letter=letters_map[addressee.letter_id], item_ids=ids, user=user, now=now
        )
        if new_addressee.date_mode != "shared":
            new_addressee.date_mode = "undecided"
            new_addressee.date_year, new_addressee.date_month, new_addressee.date_day = year, month, None
    db.session.flush()
    db.session.expire(copy, ["letters", "addressees"])
    return copy
