"""What every form shares: cleaning typed text, length limits that say how much was typed, the hidden version
of a record, lists of ids posted by checkboxes, and select options. Each limit itself is defined once, next to
the column it protects (the features' models.py)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField
from wtforms.validators import ValidationError

from consult.core.text import clean, describe_characters, forbidden_in, has_forbidden, normalise_newlines

try:  # WTForms 3.3 names options; older versions take (value, label) pairs
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

CONTROL_MESSAGE = _l("表示できない制御文字を取り除きました。内容を確認して、もう一度保存してください。")


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


def no_forbidden(form, field) -> None:
    """A validator: drop forbidden characters, show the cleaned text and ask the writer to look before saving."""
    if has_forbidden(field.data):
        message = removed_message(field.data)
        field.data = clean(field.data)
        raise ValidationError(message)


class CleanTextForm(FlaskForm):
    """Cleans the named text fields before validating; removed characters refuse the save once, with a message."""

    text_fields: tuple[str, ...] = ()

    def validate(self, extra_validators=None) -> bool:
        had_forbidden = {}
        for name in self.text_fields:
            field = self[name]
            if isinstance(field.data, str):
                if has_forbidden(field.data):
                    had_forbidden[name] = removed_message(field.data)
                field.data = clean(field.data)
        valid = super().validate(extra_validators=extra_validators)
        for name, message in had_forbidden.items():
            self[name].errors = [*self[name].errors, message]
        return valid and not had_forbidden


class VersionedForm(CleanTextForm):
    """A form carrying the version of the record its page was built from, so a stale save is refused."""

    version = HiddenField()

    def expected_version(self) -> int | None:
        """The version the page showed; None on a new record, -1 when the hidden value was tampered with."""
        value = (self.version.data or "").strip()
        return int(value) if value.isdigit() else -1 if value else None


class IdListField(SelectMultipleField):
    """Ids ticked in a list of checkboxes (name=...&name=...): digits only, anything else dropped; which of
    them may be chosen is the view's or the operation's business, not a choice list's."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, validate_choice=False, choices=[], **kwargs)

    def process_formdata(self, valuelist):
        self.data = [int(value) for value in valuelist if value.isdigit()]


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
