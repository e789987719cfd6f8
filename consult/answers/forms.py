"""The answer form, built per round: one group of fields per draft item plus proposals for new items.

The form class of a round is built once per set of items (and number of proposal slots) and kept: it only
holds field definitions, so every request of every branch reuses it. The page renders its fields with
consult/answers/fields.py (AnswerFields) instead of WTForms' widgets (200 fields on one page); a page opened
afresh reads its values from an AnswerPage, a posted one from the form.
"""

from __future__ import annotations

import functools
import re

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf, validate_csrf
from markupsafe import Markup
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional, ValidationError

from consult.answers.models import DECISION_LENGTH, HEADING_LENGTH, STANCES, TEXT_LIMIT
from consult.answers.operations import AnswerInput, OpinionInput, ProposalInput
from consult.core import faults
from consult.core.convert import parse_int
from consult.core.forms import BoundedDateField, CleanTextForm, IdListField, MaxChars, newlines, options
from consult.core.text import clean, has_forbidden

STANCE_CHOICES = [("", _l("意見なし")), *STANCES.items()]
OPINION_FIELDS = ("referred_text", "proposed_text", "reason")
OPINION_LABELS = {
    "stance": _l("区分"),
    "referred_text": _l("該当箇所・現行の文言"),
    "proposed_text": _l("修正案"),
    "reason": _l("理由"),
}
PROPOSAL_LABELS = {"heading": _l("提案する項目の見出し"), "proposed_text": _l("提案の内容"), "reason": _l("理由")}
_PROPOSAL_KEY = re.compile(r"^proposal-(\d+)-(heading|proposed_text|reason)$")
MAX_PROPOSALS = 200


def valid_stance(form, field):
    """A forged or outdated stance value gets a message, never a 500."""
    if (field.data or "") not in dict(STANCE_CHOICES):
        field.data = ""
        raise ValidationError(_l("意見の区分は一覧から選んでください。"))


def _text(label: str, limit: int = TEXT_LIMIT, area: bool = True):
    kind = TextAreaField if area else StringField
    return kind(label, filters=[newlines], validators=[MaxChars(limit)])  # forbidden characters: CleanTextForm


GENERAL_COMMENT_LABEL = _l("全体を通しての意見")


class AnswerFormBase(CleanTextForm):
    """Fields every answer has; the per-item and proposal fields are added by answer_form()."""

    version = HiddenField()
    general_comment = _text(GENERAL_COMMENT_LABEL)

    item_ids: list[int] = []
    proposal_count: int = 0
    checks: list[tuple[str, list, list]] = []  # (field name, filters, validators) of every text and select

    def expected_version(self) -> int:
        """The answer version the page was built from; anything unreadable counts as "none yet"."""
        version = parse_int(self.version.data)
        return version if version is not None else 0

    def item_field(self, item_id: int, name: str):
        return self[f"item-{item_id}-{name}"]

    def proposal_field(self, index: int, name: str):
        return self[f"proposal-{index}-{name}"]

    def item_fields(self, item_id: int) -> list:
        return [self.item_field(item_id, name) for name in ("stance", *OPINION_FIELDS)]

    def proposal_fields(self, index: int) -> list:
        return [self.proposal_field(index, name) for name in PROPOSAL_LABELS]

    def to_input(self) -> AnswerInput:
        """What was typed, cleaned, in the shape the operations take."""

        def text(field) -> str:
            value = clean(field.data)
            return value if value.strip() else ""

        opinions = {}
        for item_id in self.item_ids:
            stance = self.item_field(item_id, "stance").data or ""
            opinions[item_id] = OpinionInput(stance, *(text(self.item_field(item_id, n)) for n in OPINION_FIELDS))
        proposals = [
            ProposalInput(*(text(self.proposal_field(index, n)) for n in PROPOSAL_LABELS))
            for index in range(self.proposal_count)
        ]
        return AnswerInput(
            opinions=opinions,
            proposals=[p for p in proposals if not p.is_empty()],
            general_comment=text(self.general_comment),
        )


def answer_form(item_ids: list[int], proposal_count: int) -> AnswerFormBase:
    """The form of a round's items (field names fixed by the URL contract) with what was posted."""
    return answer_form_class(tuple(item_ids), min(proposal_count, MAX_PROPOSALS))()


class _Shown:
    """A field as a page shows it before anything is posted: its name and value, no errors."""

    __slots__ = ("id", "name", "data")
    errors = ()

    def __init__(self, name: str, data):
        self.id = self.name = name
        self.data = data


class AnswerPage:
    """What the answer page reads of a form when it is opened (GET): every field's value from the stored answer
    or a late draft, without binding the 200 WTForms fields (every branch opens this page twice per answer, all
    at once before the deadline). Renders the same HTML as the form; a POST that comes back uses the form."""

    errors: dict = {}

    def __init__(self, item_ids: list[int], proposal_count: int, data: AnswerInput, version: int):
        self.item_ids = list(item_ids)
        self.proposal_count = min(proposal_count, MAX_PROPOSALS)
        self._values = _initial(data, version)
        self.general_comment = self._shown("general_comment")

    def _shown(self, name: str) -> _Shown:
        return _Shown(name, self._values.get(name, ""))

    @property
    def csrf_token(self) -> Markup:
        return Markup('<input id="csrf_token" name="csrf_token" type="hidden" value="{}">').format(generate_csrf())

    @property
    def version(self) -> Markup:
        return Markup('<input id="version" name="version" type="hidden" value="{}">').format(self._values["version"])

    def item_field(self, item_id: int, name: str) -> _Shown:
        return self._shown(f"item-{item_id}-{name}")

    def proposal_fields(self, index: int) -> list[_Shown]:
        return [self._shown(f"proposal-{index}-{name}") for name in PROPOSAL_LABELS]


@functools.lru_cache(maxsize=256)
def answer_form_class(item_ids: tuple[int, ...], proposal_count: int) -> type[AnswerFormBase]:
    """The form class for these items and proposal slots, built once and shared by every request."""
    attrs: dict = {"item_ids": list(item_ids), "proposal_count": proposal_count}
    for item_id in item_ids:
        attrs[f"item-{item_id}-stance"] = SelectField(
            OPINION_LABELS["stance"], choices=options(STANCE_CHOICES), validate_choice=False, validators=[valid_stance]
        )
        for name in OPINION_FIELDS:
            attrs[f"item-{item_id}-{name}"] = _text(OPINION_LABELS[name])
    for index in range(proposal_count):
        attrs[f"proposal-{index}-heading"] = _text(PROPOSAL_LABELS["heading"], HEADING_LENGTH, area=False)
        attrs[f"proposal-{index}-proposed_text"] = _text(PROPOSAL_LABELS["proposed_text"])
        attrs[f"proposal-{index}-reason"] = _text(PROPOSAL_LABELS["reason"])
    attrs["checks"] = [("general_comment", *_rules(AnswerFormBase.general_comment))] + [
        (name, *_rules(field)) for name, field in attrs.items() if name.startswith(("item-", "proposal-"))
    ]
    return type("AnswerForm", (AnswerFormBase,), attrs)


def _rules(unbound) -> tuple[list, list]:
    return list(unbound.kwargs.get("filters", ())), list(unbound.kwargs.get("validators", ()))


class _Value:
    """What a field's filters and validators see of it: its data (and, for their messages, nothing else)."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data


def read_posted(item_ids: list[int], proposal_count: int, formdata) -> tuple[AnswerInput, int] | None:
    """The posted answer and the version its page showed, when the CSRF token and every field pass the form's own
    filters and validators (the same objects, so the rules stay in one place); None when anything fails, and the
    caller builds the whole form to show why. 200 fields are read without building 200 WTForms fields."""
    form_class = answer_form_class(tuple(item_ids), min(proposal_count, MAX_PROPOSALS))
    if current_app.config.get("WTF_CSRF_ENABLED", True):
        try:
            validate_csrf(formdata.get("csrf_token"))
        except ValidationError:
            return None
    values: dict[str, str] = {}
    for name, filters, validators in form_class.checks:
        value = _Value(formdata.get(name, ""))
        for apply in filters:
            value.data = apply(value.data)
        if has_forbidden(value.data):  # CleanTextForm's rule: the full form shows what it took out
            return None
        try:
            for check in validators:
                check(None, value)
        except ValidationError:
            return None
        values[name] = value.data

    def text(name: str) -> str:
        cleaned = clean(values.get(name))
        return cleaned if cleaned.strip() else ""

    opinions = {
        item_id: OpinionInput(
            values.get(f"item-{item_id}-stance") or "", *(text(f"item-{item_id}-{n}") for n in OPINION_FIELDS)
        )
        for item_id in form_class.item_ids
    }
    proposals = [
        ProposalInput(*(text(f"proposal-{index}-{n}") for n in PROPOSAL_LABELS))
        for index in range(form_class.proposal_count)
    ]
    version = parse_int(formdata.get("version"))
    data = AnswerInput(
        opinions=opinions, proposals=[p for p in proposals if not p.is_empty()], general_comment=text("general_comment")
    )
    return data, version if version is not None else 0


def _initial(data: AnswerInput, version: int) -> dict:
    """Field defaults from a stored answer (or a late draft)."""
    initial = {"version": str(version or 0), "general_comment": data.general_comment}
    for item_id, opinion in data.opinions.items():
        for name in ("stance", *OPINION_FIELDS):
            initial[f"item-{item_id}-{name}"] = getattr(opinion, name)
    for index, proposal in enumerate(data.proposals):
        for name in PROPOSAL_LABELS:
            initial[f"proposal-{index}-{name}"] = getattr(proposal, name)
    return initial


def posted_proposal_count(formdata) -> int:
    """How many proposal slots the posted page had, so a re-render keeps every one of them."""
    indexes = [int(m.group(1)) for key in formdata.keys() if (m := _PROPOSAL_KEY.match(key))]
    return min(max(indexes) + 1, MAX_PROPOSALS) if indexes else 0


_ITEM_FIELD = re.compile(r"^item-(\d+)-([a-z_]+)$")
_PROPOSAL_FIELD = re.compile(r"^proposal-(\d+)-([a-z_]+)$")


def _fault_label(name: str) -> str | None:
    """The answer form's field names as the database-fault page shows them: item-12-reason → 項目（ID 12）の理由."""
    if match := _ITEM_FIELD.match(name):
        return _("項目（ID %(match_1)s）の%(v_2)s", match_1=match[1], v_2=OPINION_LABELS.get(match[2], match[2]))
    if match := _PROPOSAL_FIELD.match(name):
        return _(
            "新しい項目の提案%(int_match_1_1)s: %(v_2)s",
            int_match_1_1=int(match[1]) + 1,
            v_2=PROPOSAL_LABELS.get(match[2], match[2]),
        )
    return None


def _fault_value(name: str, value: str) -> str | None:
    """A stance key as the word the form showed (amend → 修正)."""
    return STANCES.get(value, value) if name.endswith("-stance") else None


faults.add_field_labels({"general_comment": _l("総括的な意見")}, label=_fault_label, show=_fault_value)


# ---------------------------------------------------------------- a prefecture's answer from its unions (issue 10)


class RollUpForm(CleanTextForm):
    """Union opinions ticked on one item, to adopt as they are (one) or merge (several)."""

    source = IdListField()
    version = HiddenField()


class DecisionForm(CleanTextForm):
    """The meeting that settled the prefecture's answer, and its date."""

    decided_by = StringField(
        _l("決定機関"), validators=[MaxChars(DECISION_LENGTH, _l("決定機関"))], description=_l("例：県本部執行委員会")
    )
    decided_on = BoundedDateField(_l("決定日"), validators=[Optional()])
    version = HiddenField()
