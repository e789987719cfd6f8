"""The small form on each opinion row: 対応, 本部の考え方 and the request item that takes the opinion up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import ValidationError

from consult.answers.forms import max_chars
from consult.answers.models import DISPOSITIONS
from consult.core.convert import parse_id
from consult.core.forms import Form, IdMultipleField
from consult.review.operations import HQ_VIEW_LIMIT, disposition_token

try:  # WTForms 3.3 names options; older versions take (value, label) pairs
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover
    SelectChoice = None

DISPOSITION_CHOICES = [("", _l("（未設定）")), *DISPOSITIONS.items()]


def _options(pairs) -> list:
    if SelectChoice is None:  # pragma: no cover
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def _newlines(value):
    """Browsers send CRLF from a textarea; store plain line feeds."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def valid_disposition(form, field):
    """A forged value gets a message next to the select, never a 500."""
    if (field.data or "") not in dict(DISPOSITION_CHOICES):
        field.data = ""
        raise ValidationError(_l("対応は一覧から選んでください。"))


def valid_request_item(form, field):
    if (field.data or "") and field.data not in form.request_ids:
        field.data = ""
        raise ValidationError(_l("要請項目は一覧から選んでください。"))


class DispositionForm(Form):
    """One opinion's weighing; `seen` fingerprints what the page showed, to refuse a stale save."""

    disposition = SelectField(_l("対応"), validate_choice=False, validators=[valid_disposition])
    hq_view = TextAreaField(_l("本部の考え方"), filters=[_newlines], validators=[max_chars(HQ_VIEW_LIMIT)])
    request_item = SelectField(_l("要請項目に結び付ける"), validate_choice=False, validators=[valid_request_item])
    unlink = IdMultipleField(_l("結び付けを外す"), message=_l("外す要請項目は一覧から選んでください。"))
    seen = HiddenField()

    request_ids: set[str] = set()

    def unlink_ids(self) -> list[int]:
        return list(self.unlink.data or [])

    def request_item_id(self) -> int | None:
        return parse_id(self.request_item.data)


def disposition_form(opinion, choices: dict, formdata=None) -> DispositionForm:
    """The form of one opinion row, prefixed with its id so every label on the page is unique."""
    # CSRFProtect checks every POST's csrf_token already; a prefixed per-form token would only duplicate it.
    kwargs = {"prefix": f"op-{opinion.id}", "meta": {"csrf": False}}
    if formdata is None:
        form = DispositionForm(
            formdata=None,
            data={
                "disposition": opinion.disposition or "",
                "hq_view": opinion.hq_view or "",
                "seen": disposition_token(opinion.disposition, opinion.hq_view),
            },
            **kwargs,
        )
    else:
        form = DispositionForm(formdata=formdata, **kwargs)
    form.disposition.choices = _options(DISPOSITION_CHOICES)
    form.request_item.choices = _options(
        [("", _l("（結び付けない）")), *((str(c.id), c.option_label) for c in choices.values())]
    )
    form.request_ids = {str(c) for c in choices}
    return form
