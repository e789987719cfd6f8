"""The small form on each opinion row: 対応, 本部の考え方 and the request item that takes the opinion up."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import ValidationError

from consult.answers.models import DISPOSITIONS, TEXT_LIMIT
from consult.core.convert import parse_id
from consult.core.forms import CleanTextForm, IdListField, MaxChars, newlines, options
from consult.review.operations import disposition_token

DISPOSITION_CHOICES = [("", _l("（未設定）")), *DISPOSITIONS.items()]


def valid_disposition(form, field):
    """A forged value gets a message next to the select, never a 500."""
    if (field.data or "") not in dict(DISPOSITION_CHOICES):
        field.data = ""
        raise ValidationError(_l("対応は一覧から選んでください。"))


def valid_request_item(form, field):
    if (field.data or "") and field.data not in form.request_ids:
        field.data = ""
        raise ValidationError(_l("要請項目は一覧から選んでください。"))


NOBODY = "none"  # the assignee choice that clears the assignment


def valid_template(form, field):
    """A 定型文 of this round (form.template_ids), or none."""
    if (field.data or "") and field.data not in form.template_ids:
        field.data = ""
        raise ValidationError(_l("定型文は一覧から選んでください。"))


def valid_assignee(form, field):
    """A headquarters staff member (form.staff_ids), 「担当なし」, or no change."""
    if (field.data or "") not in ("", NOBODY) and field.data not in form.staff_ids:
        field.data = ""
        raise ValidationError(_l("担当者は一覧から選んでください。"))


class DispositionForm(CleanTextForm):
    """One opinion's weighing; `seen` fingerprints what the page showed, to refuse a stale save."""

    disposition = SelectField(_l("対応"), validate_choice=False, validators=[valid_disposition])
    hq_view = TextAreaField(_l("本部の考え方"), filters=[newlines], validators=[MaxChars(TEXT_LIMIT)])
    request_item = SelectField(_l("要請項目に結び付ける"), validate_choice=False, validators=[valid_request_item])
    unlink = IdListField(_l("結び付けを外す"))
    seen = HiddenField()
    template = SelectField(_l("定型文"), validate_choice=False, validators=[valid_template])
    assignee = SelectField(_l("担当者"), validate_choice=False, validators=[valid_assignee])

    request_ids: set[str] = set()
    template_ids: set[str] = set()
    staff_ids: set[str] = set()

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
    form.disposition.choices = options(DISPOSITION_CHOICES)
    form.request_item.choices = options(
        [("", _l("（結び付けない）")), *((str(c.id), c.option_label) for c in choices.values())]
    )
    form.request_ids = {str(c) for c in choices}
    return form
