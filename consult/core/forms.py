"""What every form of the app shares: text cleaned of forbidden characters (and the writer told), ids and
dates read through the one converter of each (core.convert), all with Japanese messages next to the field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, HiddenField, PasswordField, SelectField, StringField
from wtforms import SelectMultipleField as _SelectMultipleField
from wtforms.validators import ValidationError

from consult.core.clock import from_jst
from consult.core.convert import YEAR_MAX, YEAR_MIN, parse_id, parse_ids, year_in_range
from consult.core.text import FORBIDDEN, forbidden_in, forbidden_message, normalise_newlines

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
DATETIME_MESSAGE = _l("日時を「2025-03-17 17:00」のように入力してください。")
DATE_MESSAGE = _l("日付を「2025-03-17」のように入力してください。")
YEAR_MESSAGE = _l("%(low)s年から%(high)s年までの日付を入力してください（入力：%(year)s年）。")
CHOICE_MESSAGE = _l("一覧の中から選んでください。")


class Form(FlaskForm):
    """The base of every form: each typed text field (passwords and hidden fields aside) has its line ends
    normalised and its forbidden characters taken out before validation; a field that had any is refused once,
    with the cleaned text shown and the removed characters named, so nothing unholdable is ever saved."""

    def validate(self, extra_validators=None) -> bool:
        cleaned = []
        for field in self:
            if _is_typed_text(field) and isinstance(field.data, str):
                text = normalise_newlines(field.data)
                if chars := forbidden_in(text):
                    cleaned.append((field, chars))
                    text = FORBIDDEN.sub("", text)
                field.data = text
        valid = super().validate(extra_validators=extra_validators)
        for field, chars in cleaned:
            field.errors = [*field.errors, forbidden_message(chars)]
        return valid and not cleaned


def _is_typed_text(field) -> bool:
    return isinstance(field, StringField) and not isinstance(field, (PasswordField, HiddenField))


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


class IdSelectField(SelectField):
    """A select of record ids: a forged, huge or unknown value is refused next to the field, in Japanese."""

    def __init__(self, label=None, validators=None, message=CHOICE_MESSAGE, **kwargs):
        kwargs.setdefault("coerce", int)
        super().__init__(label, validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = 0 if valuelist[0] == "0" else parse_id(valuelist[0])  # 0: the "none" choice

    def pre_validate(self, form):
        if self.data not in {value for value, *_rest in _pairs(self.choices)}:
            raise ValidationError(str(self.message))


class IdMultipleField(_SelectMultipleField):
    """Several record ids (checkboxes or a multiple select); anything that is not an id is refused."""

    def __init__(self, label=None, validators=None, message=CHOICE_MESSAGE, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("validate_choice", False)
        super().__init__(label, validators, **kwargs)
        self.message = message
        self.invalid = False

    def process_formdata(self, valuelist):
        ids = parse_ids(valuelist)
        self.invalid = ids is None
        self.data = [] if ids is None else list(dict.fromkeys(ids))

    def pre_validate(self, form):
        if self.invalid:
            raise ValidationError(str(self.message))
        if self.validate_choice and self.choices is not None:
            allowed = {value for value, *_rest in _pairs(self.choices)}
            if any(value not in allowed for value in self.data):
                raise ValidationError(str(self.message))


def _pairs(choices):
    """(value, label) pairs from WTForms choices, whatever their shape (tuples or SelectChoice)."""
    for choice in choices or ():
        if hasattr(choice, "value"):
            yield choice.value, choice.label
        else:
            yield choice[0], choice[1]
