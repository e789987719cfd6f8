"""Forms of bulk answering: the selection with its versions, one 対応 and 本部の考え方, an assignee, 定型文."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import ValidationError

from consult.answers.models import TEXT_LIMIT
from consult.core.convert import parse_id, parse_int
from consult.core.forms import CleanTextForm, MaxChars, VersionedForm, newlines, options
from consult.review.forms import DISPOSITION_CHOICES, NOBODY, valid_assignee, valid_disposition, valid_template
from consult.review.models import TEMPLATE_NAME_LENGTH


def parse_picks(values) -> dict[int, int]:
    """'<opinion id>.<answer version>' pairs (checkboxes, or the space-separated scope of a filter) → {id: version};
    anything malformed is dropped, as IdListField drops a forged id."""
    picks: dict[int, int] = {}
    for value in values:
        for token in (value or "").split():
            opinion_id, _dot, version = token.partition(".")
            parsed_id, parsed_version = parse_id(opinion_id), parse_int(version)
            if parsed_id is not None and parsed_version is not None and parsed_version >= 0:
                picks[parsed_id] = parsed_version
    return picks


class PickField(SelectMultipleField):
    """Ticked opinions, each with the answer version its row showed."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, validate_choice=False, choices=[], **kwargs)

    def process_data(self, value):
        self.data = dict(value or {})

    def process_formdata(self, valuelist):
        self.data = parse_picks(valuelist)


def template_choices(templates) -> list:
    return options([("", _l("（定型文を使わない）")), *((str(t.id), t.name) for t in templates)])


class BulkAnswerForm(CleanTextForm):
    """The bulk step under the list: the ticked rows (or every row of the filter), and what to give them."""

    pick = PickField(_l("選んだ意見"))
    scope = HiddenField()  # every opinion of the filter, as id.version pairs
    everything = BooleanField(_l("この絞り込みの意見をすべて選ぶ"))
    template = SelectField(_l("定型文"), validate_choice=False, validators=[valid_template])
    disposition = SelectField(_l("対応"), validate_choice=False, validators=[valid_disposition])
    hq_view = TextAreaField(_l("本部の考え方"), filters=[newlines], validators=[MaxChars(TEXT_LIMIT)])
    assignee = SelectField(_l("担当者"), validate_choice=False, validators=[valid_assignee])

    template_ids: set[str] = set()
    staff_ids: set[str] = set()

    def chosen(self) -> dict[int, int]:
        """{opinion id: version read}: the whole filter when 「すべて選ぶ」 is ticked, else the ticked rows."""
        return parse_picks([self.scope.data]) if self.everything.data else dict(self.pick.data or {})

    def assignee_id(self) -> int | None:
        return None if self.assignee.data in ("", NOBODY) else parse_id(self.assignee.data)


def bulk_form(templates, staff, formdata=None, scope: str = "") -> BulkAnswerForm:
    form = BulkAnswerForm(formdata=formdata, prefix="bulk", meta={"csrf": False})
    if formdata is None:
        form.scope.data = scope
    form.template.choices = template_choices(templates)
    form.disposition.choices = options(DISPOSITION_CHOICES)
    form.assignee.choices = options(
        [("", _l("（選んでください）")), (NOBODY, _l("担当なしにする")), *((str(u.id), u.name) for u in staff)]
    )
    form.template_ids = {str(t.id) for t in templates}
    form.staff_ids = {str(u.id) for u in staff}
    return form


class AnswerTemplateForm(VersionedForm):
    """One 定型文: its name, the 対応 it suggests, and the 本部の考え方 it fills in."""

    name = StringField(_l("名前"), validators=[MaxChars(TEMPLATE_NAME_LENGTH)])
    disposition = SelectField(_l("対応"), validate_choice=False, validators=[valid_disposition])
    body = TextAreaField(_l("本部の考え方"), filters=[newlines], validators=[MaxChars(TEXT_LIMIT)])

    def validate_name(self, field):
        if not (field.data or "").strip():
            raise ValidationError(_l("定型文の名前を入力してください。"))


def template_form(template=None, formdata=None, prefix: str = "new") -> AnswerTemplateForm:
    data = None
    if template is not None and formdata is None:
        data = {
            "name": template.name,
            "disposition": template.disposition or "",
            "body": template.body,
            "version": str(template.version),
        }
    form = AnswerTemplateForm(formdata=formdata, data=data, prefix=prefix, meta={"csrf": False})
    form.disposition.choices = options(DISPOSITION_CHOICES)
    return form
