"""Forms of the request-letter pages; every message is Japanese and every typed value survives a refusal."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileSize
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from consult.core.convert import parse_int
from consult.core.forms import CleanTextForm, IdListField, IdSelectField, MaxChars, VersionedForm, options
from consult.core.text import normalise_number
from consult.letters import dates, numbering
from consult.letters.models import (
    ADDRESSEE_KINDS,
    ADDRESSEE_NAME_LENGTH,
    ADDRESSEE_TITLE_LENGTH,
    DATE_MODES,
    DATE_STYLES,
    HONORIFICS,
    ITEM_TEXT_LIMIT,
    ORGANISATION_LENGTH,
    PARAGRAPHS_LIMIT,
    PRINT_ORGANISATION,
    SENDER_NAME_LENGTH,
    SENDER_ORG_LENGTH,
    SENDER_TITLE_LENGTH,
    TEMPLATE_MAX_BYTES,
    TITLE_LENGTH,
)
from consult.letters.operations import YEAR_RANGE

YEAR_MIN, YEAR_MAX = YEAR_RANGE  # the operations refuse other years


def _number(field, label: str, low: int, high: int) -> int | None:
    """A whole number typed in half- or full-width digits, or a Japanese message naming the field."""
    text = normalise_number(field.data or "")
    if not text:
        return None
    number = parse_int(text, low, high)
    if number is None:
        raise ValidationError(
            _(
                "%(label)sは %(low)s〜%(high)s の数字で入力してください（入力：「%(value)s」）。",
                label=label,
                low=low,
                high=high,
                value=field.data,
            )
        )
    return number


class CampaignForm(VersionedForm):
    title = StringField(
        _l("要請行動の名前"),
        validators=[DataRequired(_l("名前を入力してください。")), MaxChars(TITLE_LENGTH, _l("名前"))],
    )
    date_year = StringField(_l("年（西暦）"), validators=[DataRequired(_l("年を西暦で入力してください（例：2025）。"))])
    date_month = StringField(_l("月"), validators=[DataRequired(_l("月を入力してください（1〜12）。"))])
    date_day = StringField(_l("日（未定なら空欄：●と印字）"))
    date_style = RadioField(
        _l("日付の書き方"),
        choices=list(DATE_STYLES.items()),
        default="western",
        validators=[DataRequired(_l("日付の書き方を選んでください。"))],
    )
    sender_org = StringField(
        _l("差出人の組織"),
        validators=[
            DataRequired(_l("差出人の組織を入力してください。")),
            MaxChars(SENDER_ORG_LENGTH, _l("差出人の組織")),
        ],
    )
    sender_title = StringField(_l("差出人の肩書"), validators=[MaxChars(SENDER_TITLE_LENGTH, _l("差出人の肩書"))])
    sender_name = StringField(_l("差出人の氏名"), validators=[MaxChars(SENDER_NAME_LENGTH, _l("差出人の氏名"))])
    round_id = IdSelectField(_l("元にした組織討議"), validators=[Optional()])

    def __init__(self, *args, rounds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.round_id.choices = [(0, _l("（なし）"))] + [(r.id, r.title) for r in rounds]

    def validate_date_year(self, field) -> None:
        _number(field, _l("年"), YEAR_MIN, YEAR_MAX)

    def validate_date_month(self, field) -> None:
        _number(field, _l("月"), 1, 12)

    def validate_date_day(self, field) -> None:
        day = _number(field, _l("日"), 1, 31)
        try:
            year = _number(self.date_year, _l("年"), YEAR_MIN, YEAR_MAX)
            month = _number(self.date_month, _l("月"), 1, 12)
        except ValidationError:
            return  # reported next to the year or the month
        if year is None or month is None:
            return
        try:
            dates.format_date(
                year, month, day, self.date_style.data if self.date_style.data in dates.STYLES else dates.WESTERN
            )
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def date_values(self) -> tuple[int, int, int | None]:
        """Year, month and day (None = ●) after validation."""
        return (
            int(normalise_number(self.date_year.data)),
            int(normalise_number(self.date_month.data)),
            int(normalise_number(self.date_day.data)) if normalise_number(self.date_day.data or "") else None,
        )

    def chosen_round_id(self) -> int | None:
        return self.round_id.data or None


class NewLetterForm(CleanTextForm):
    title = StringField(
        _l("新しい要請書の題名"),
        validators=[DataRequired(_l("題名を入力してください。")), MaxChars(TITLE_LENGTH, _l("題名"))],
    )


class LetterForm(VersionedForm):
    title = StringField(
        _l("題名"), validators=[DataRequired(_l("題名を入力してください。")), MaxChars(TITLE_LENGTH, _l("題名"))]
    )
    greeting = TextAreaField(_l("あいさつ"), validators=[MaxChars(PARAGRAPHS_LIMIT, _l("あいさつ"))])
    background = TextAreaField(
        _l("本文（背景）：1行が1段落"), validators=[MaxChars(PARAGRAPHS_LIMIT, _l("本文（背景）"))]
    )
    closing = TextAreaField(_l("結びの文"), validators=[MaxChars(PARAGRAPHS_LIMIT, _l("結びの文"))])
    numbering = SelectField(
        _l("番号の付け方"),
        choices=list(numbering.CHOICES),
        validators=[DataRequired(_l("番号の付け方を選んでください。"))],
    )
    fullwidth_digits = BooleanField(_l("数字を全角にする（１．（１））"))


class ItemForm(CleanTextForm):
    """One request item or section heading, edited inline on the letter page."""

    text = TextAreaField(
        _l("文言"), validators=[DataRequired(_l("文言を入力してください。")), MaxChars(ITEM_TEXT_LIMIT, _l("文言"))]
    )
    shown = HiddenField()  # the text the page showed: a change saved meanwhile by someone else is not overwritten


class AddItemForm(CleanTextForm):
    text = TextAreaField(
        _l("文言"), validators=[DataRequired(_l("文言を入力してください。")), MaxChars(ITEM_TEXT_LIMIT, _l("文言"))]
    )
    parent_id = HiddenField()


class AddresseeForm(VersionedForm):
    organisation = StringField(
        _l("要請先の組織（省庁・政党など）"),
        validators=[
            DataRequired(_l("要請先の組織を入力してください。")),
            MaxChars(ORGANISATION_LENGTH, _l("要請先の組織")),
        ],
    )
    kind = RadioField(
        _l("種類"),
        choices=list(ADDRESSEE_KINDS.items()),
        default="ministry",
        validators=[DataRequired(_l("種類を選んでください。"))],
    )
    title = StringField(
        _l("宛名の肩書（例：総務大臣）"), validators=[MaxChars(ADDRESSEE_TITLE_LENGTH, _l("宛名の肩書"))]
    )
    name = StringField(_l("宛名の氏名（任意）"), validators=[MaxChars(ADDRESSEE_NAME_LENGTH, _l("宛名の氏名"))])
    honorific = RadioField(
        _l("敬称"),
        choices=[(h, h) for h in HONORIFICS],
        default="様",
        validators=[DataRequired(_l("敬称を選んでください。"))],
    )
    letter_id = IdSelectField(_l("渡す要請書"), message=_l("要請書を選んでください（先に要請書を作成してください）。"))
    scope = RadioField(
        _l("要請項目"),
        choices=[("all", _l("すべての項目")), ("subset", _l("一部の項目だけ（下で選ぶ）"))],
        default="all",
        validators=[DataRequired(_l("すべてか一部かを選んでください。"))],
    )
    item = IdListField()  # the sections and items ticked for an addressee who gets part of the letter
    greeting = TextAreaField(
        _l("この要請先だけのあいさつ（空欄なら要請書のあいさつ）"),
        validators=[MaxChars(PARAGRAPHS_LIMIT, _l("あいさつ"))],
    )
    extra_paragraph = TextAreaField(
        _l("この要請先だけに加える段落"), validators=[MaxChars(PARAGRAPHS_LIMIT, _l("加える段落"))]
    )

    def __init__(self, *args, letters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.letter_id.choices = [(letter.id, letter.title) for letter in letters]


class ConfirmForm(CleanTextForm):
    """A POST with nothing but the CSRF token: removing after a confirm page."""


class LinkOpinionsForm(CleanTextForm):
    """The opinions ticked on an item's page, to be linked to it."""

    opinion = IdListField()


class TemplateForm(CleanTextForm):
    file = FileField(
        _l("新しい雛形（Word 文書 .docx、5MB まで）"),
        validators=[FileSize(TEMPLATE_MAX_BYTES, message=_l("雛形のファイルは 5MB までにしてください。"))],
    )


class OverridesForm(VersionedForm):
    """What one addressee's letter changes of the shared letter (issue 13); the rows of items are read by the view."""

    date_mode = RadioField(
        _l("この要請先の日付"),
        choices=list(DATE_MODES.items()),
        default="shared",
        validators=[DataRequired(_l("日付の扱いを選んでください。"))],
    )
    date_year = StringField(_l("年（西暦）"))
    date_month = StringField(_l("月"))
    date_day = StringField(_l("日"))
    date_style = RadioField(_l("日付の書式"), choices=list(DATE_STYLES.items()), default="western")
    print_organisation = RadioField(
        _l("組織名の印字"), choices=list(PRINT_ORGANISATION.items()), default="auto", validators=[DataRequired()]
    )
    one_line = BooleanField(_l("肩書と氏名を1行に並べる（総務大臣　村上誠一郎　様）"))
    spread = BooleanField(_l("肩書と氏名を均等割りにする（総 務 大 臣）"))
    numbering = SelectField(
        _l("番号の付け方"), choices=options([("", _l("要請書のとおり")), *numbering.CHOICES]), validators=[Optional()]
    )
    background = TextAreaField(
        _l("この要請先の本文（背景）：1行が1段落"), validators=[MaxChars(PARAGRAPHS_LIMIT, _l("本文（背景）"))]
    )
    closing = TextAreaField(
        _l("この要請先の結びの文（空欄なら要請書のとおり）"), validators=[MaxChars(PARAGRAPHS_LIMIT, _l("結びの文"))]
    )

    def validate_date_year(self, field):
        if self.date_mode.data != "shared":
            field.number = _number(field, _("年"), YEAR_MIN, YEAR_MAX)

    def validate_date_month(self, field):
        if self.date_mode.data != "shared":
            field.number = _number(field, _("月"), 1, 12)

    def validate_date_day(self, field):
        if self.date_mode.data == "fixed":
            field.number = _number(field, _("日"), 1, 31)


class ImportForm(CleanTextForm):
    """A Word letter to read; shown as recognised before anything is saved."""

    file = FileField(
        _l("要請書の Word 文書（.docx、5MB まで）"),
        validators=[FileSize(TEMPLATE_MAX_BYTES, message=_l("取り込む Word 文書は 5MB までにしてください。"))],
    )
    campaign_id = IdSelectField(_l("取り込む先の要請行動"), validators=[Optional()])
    variant_of = IdSelectField(_l("別の要請先として加える要請書（違いだけを保存）"), validators=[Optional()])

    def __init__(self, *args, campaigns=(), letters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.campaign_id.choices = [(0, _l("（新しい要請行動を作る）"))] + [(c.id, c.title) for c in campaigns]
        self.variant_of.choices = [(0, _l("（新しい要請書として取り込む）"))] + [
            (letter.id, f"{letter.campaign.title}：{letter.title}") for letter in letters
        ]


class ImportConfirmForm(CleanTextForm):
    """The preview's 「保存する」: the upload kept aside under a token, and the choices made on the first page."""

    token = HiddenField()
    campaign_id = HiddenField()
    variant_of = HiddenField()


class CopyForm(CleanTextForm):
    """A copy of a campaign, a letter or an addressee, with the new date (and, for a campaign, a new name)."""

    title = StringField(_l("新しい名前（空欄なら元のまま）"), validators=[MaxChars(TITLE_LENGTH, _l("名前"))])
    date_year = StringField(_l("新しい日付の年（西暦）"))
    date_month = StringField(_l("月"))
    date_day = StringField(_l("日（未定なら空欄：●と印字）"))
    campaign_id = IdSelectField(_l("写す先の要請行動"), validators=[Optional()])

    def __init__(self, *args, campaigns=(), date_required=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.date_required = date_required
        self.campaign_id.choices = [(c.id, c.title) for c in campaigns]

    def validate_date_year(self, field) -> None:
        field.number = _number(field, _("年"), YEAR_MIN, YEAR_MAX)
        if field.number is None and (self.date_required or normalise_number(self.date_month.data or "")):
            raise ValidationError(_("新しい日付の年を西暦で入力してください（例：2026）。"))

    def validate_date_month(self, field) -> None:
        field.number = _number(field, _("月"), 1, 12)
        if field.number is None and (self.date_required or normalise_number(self.date_year.data or "")):
            raise ValidationError(_("新しい日付の月を入力してください（1〜12）。"))

    def validate_date_day(self, field) -> None:
        field.number = _number(field, _("日"), 1, 31)

    def new_date(self) -> tuple[int, int, int | None] | None:
        """(year, month, day or None for ●) after validation; None when no date was typed (allowed for some)."""
        year, month = getattr(self.date_year, "number", None), getattr(self.date_month, "number", None)
        if year is None or month is None:
            return None
        return year, month, getattr(self.date_day, "number", None)
