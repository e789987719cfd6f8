"""What every form shares: cleaning typed text, length limits that say how much was typed, the hidden version
of a record, ids and dates read through the one converter of each (core.convert), lists of ids posted by
checkboxes, and select options. Each limit itself is defined once, next to the column it protects (the
features' models.py). Every form of the app derives from CleanTextForm (tests/test_hostile.py checks it)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import ValidationError

from consult.core.clock import from_jst
from consult.core.convert import YEAR_MAX, YEAR_MIN, parse_id, parse_int, year_in_range
from consult.core.text import clean, describe_characters, forbidden_in, has_forbidden, normalise_newlines

try:  # WTForms 3.3 names options; older versions take (value, label) pairs
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

CONTROL_MESSAGE = _l("表示できない制御文字を取り除きました。内容を確認して、もう一度保存してください。")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
DATETIME_MESSAGE = _l("日時を「2025-03-17 17:00」のように入力してください。")
DATE_MESSAGE = _l("日付を「2025-03-17」のように入力してください。")
YEAR_MESSAGE = _l("%(low)s年から%(high)s年までの日付を入力してください（入力：%(year)s年）。")
CHOICE_MESSAGE = _l("一覧の中から選んでください。")


def removed_message(text: str) -> str:
    """CONTROL_MESSAGE naming what was removed: the characters are invisible, so by their code points."""
    removed = [ch for ch in forbidden_in(text) if ch != "\r"]
    return _("%(message)s（取り除いた文字：%(chars)s）", message=CONTROL_MESSAGE, chars=describe_characters(removed))


class MaxChars:
    """A length limit whose message names the limit and how much was typed, so a huge paste is understood."""

    def __init__(self, limit: int, label: str | None = None):
        self.limit, self.label = limit, label

    def __call__(self, form, field) -> None:
        length = len(field.data or "")
        if length <= self.limit:
            return
        if self.label is None:
            message = _(
                "%(limit)s文字以内で入力してください（現在 %(length)s 文字）。",
                limit=f"{self.limit:,}",
                length=f"{length:,}",
            )
        else:
            message = _(
                "%(label)sは%(limit)s文字以内にしてください（入力は%(length)s文字です）。",
                label=self.label,
                limit=f"{self.limit:,}",
                length=f"{length:,}",
            )
        raise ValidationError(message)


def newlines(value):
    """A field filter: browsers send CRLF from a textarea; store plain line feeds."""
    return normalise_newlines(value) if isinstance(value, str) else value


class CleanTextForm(FlaskForm):
    """The base of every form: each typed text field (passwords and hidden fields aside) has its line ends
    normalised and its forbidden characters taken out before validation; a field that had any is refused once,
    with the cleaned text shown and the removed characters named, so nothing unholdable is ever saved."""

    def validate(self, extra_validators=None) -> bool:
        had_forbidden = []
        for field in self:
            if _is_typed_text(field) and isinstance(field.data, str):
                if has_forbidden(field.data):
                    had_forbidden.append((field, removed_message(field.data)))
                field.data = clean(field.data)
        valid = super().validate(extra_validators=extra_validators)
        for field, message in had_forbidden:
            field.errors = [*field.errors, message]
        return valid and not had_forbidden


def _is_typed_text(field) -> bool:
    return isinstance(field, StringField) and not isinstance(field, PasswordField | HiddenField)


class VersionedForm(CleanTextForm):
    """A form carrying the version of the record its page was built from, so a stale save is refused."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        """The version the page showed; None on a new record, -1 when the hidden value was tampered with."""
        value = (self.version.data or "").strip()
        version = parse_int(value)
        return version if version is not None else -1 if value else None


class IdListField(SelectMultipleField):
    """Ids ticked in a list of checkboxes (name=...&name=...): ids only (core.convert.parse_id: ASCII digits
    within the databases' range), anything else dropped; which of them may be chosen is the view's or the
    operation's business, not a choice list's."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, validate_choice=False, choices=[], **kwargs)

    def process_data(self, value):
        self.data = list(value or ())  # nothing posted at all (Flask-WTF then gives no form data): no ids

    def process_formdata(self, valuelist):
        self.data = list(dict.fromkeys(n for n in map(parse_id, valuelist) if n is not None))


class IdSelectField(SelectField):
    """A select of record ids: a forged, huge or unknown value is refused next to the field, in Japanese."""

    def __init__(self, label=None, validators=None, message=None, **kwargs):
        kwargs.setdefault("coerce", int)
        super().__init__(label, validators, **kwargs)
        self.message = message or CHOICE_MESSAGE

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = 0 if valuelist[0] == "0" else parse_id(valuelist[0])  # 0: the "none" choice

    def pre_validate(self, form):
        if self.data not in {value for value, *_rest in _pairs(self.choices)}:
            raise ValidationError(str(self.message))


def _pairs(choices):
    """(value, label) pairs from WTForms choices, whatever their shape (tuples or SelectChoice)."""
    for choice in choices or ():
        if hasattr(choice, "value"):
            yield choice.value, choice.label
        else:
            yield choice[0], choice[1]


class _BoundedYear:
    """A date field whose year must lie within YEAR_MIN … YEAR_MAX (a value outside is refused, not converted)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not year_in_range(self.data.year):
            year, self.data = self.data.year, None
            raise ValueError(str(YEAR_MESSAGE) % {"low": YEAR_MIN, "high": YEAR_MAX, "year": year})


class JSTDateTimeField(_BoundedYear, DateTimeLocalField):
    """A date and time typed in Japan time (naive in .data); the year is bounded, so .utc() never overflows."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", DATETIME_FORMATS)
        kwargs.setdefault("invalid_value_message", DATETIME_MESSAGE)
        super().__init__(label, validators, **kwargs)

    def utc(self):
        """The typed time as an aware UTC datetime (None when nothing valid was typed)."""
        return from_jst(self.data) if self.data is not None else None


class BoundedDateField(_BoundedYear, DateField):
    """A calendar date whose year is bounded like every other date of the app."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_value_message", DATE_MESSAGE)
        super().__init__(label, validators, **kwargs)


def options(pairs) -> list:
    """(value, label) pairs as select options."""
    if SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def move_step(formdata) -> int:
    """The ↑/↓ buttons of a list: -1 or +1; anything else is a malformed request (400)."""
    from flask import abort

    step = {"up": -1, "down": 1}.get(formdata.get("direction", ""))
    if step is None:
        abort(400)
    return step
