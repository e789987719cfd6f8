"""The answer form's fields written out as HTML directly: the page holds 200 of them (50 items × 4), and WTForms'
widgets with a Jinja macro per field cost more than the rest of the page. Same markup as templates/_form.html's
field macro: a label, the hint, the control (aria-describedby pointing at the hint or the error), the errors.

One AnswerFields is made per page: labels and choices are put in the page's language once, not once per field.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from consult.answers.forms import GENERAL_COMMENT_LABEL, OPINION_FIELDS, OPINION_LABELS, PROPOSAL_LABELS, STANCE_CHOICES


class AnswerFields:
    """Renders the fields of one answer form, in the language of the request it is made in."""

    def __init__(self, form, hints: dict[str, str]):
        self.form = form
        self.hints = {name: str(escape(text)) for name, text in hints.items()}
        self.labels = {name: str(escape(text)) for name, text in OPINION_LABELS.items()}
        self.labels["heading"] = str(escape(PROPOSAL_LABELS["heading"]))
        self.options = [(value, str(escape(label))) for value, label in STANCE_CHOICES]

    def item(self, item_id: int) -> Markup:
        """The 区分 select and the three texts of one item."""
        form = self.form
        parts = [self.stance(form.item_field(item_id, "stance"))]
        parts.extend(self.textarea(form.item_field(item_id, name), name) for name in OPINION_FIELDS)
        return Markup("".join(parts))

    def proposal(self, index: int) -> Markup:
        """A proposal's heading, text and reason (their labels are the proposal's own)."""
        heading, proposed, reason = self.form.proposal_fields(index)
        return Markup(
            self.line(heading, "heading")
            + self._text(proposed, PROPOSAL_LABELS["proposed_text"])
            + self._text(reason, PROPOSAL_LABELS["reason"])
        )

    def general(self) -> Markup:
        return Markup(self._text(self.form.general_comment, GENERAL_COMMENT_LABEL))

    # ---------------------------------------------------------------- the controls

    def _text(self, field, label) -> str:
        return self._around(field, str(escape(label)), self._textarea(field, None), None)

    def textarea(self, field, name: str) -> str:
        hint = self.hints.get(name)
        return self._around(field, self.labels[name], self._textarea(field, hint), hint)

    def line(self, field, name: str) -> str:
        control = (
            f'<input{_described(field, None)} id="{field.id}" name="{field.name}" type="text"'
            f' value="{escape(field.data or "")}">'
        )
        return self._around(field, self.labels[name], control, None)

    def stance(self, field) -> str:
        chosen = field.data or ""
        options = "".join(
            f'<option {"selected " if value == chosen else ""}value="{value}">{label}</option>'
            for value, label in self.options
        )
        control = f'<select{_described(field, None)} id="{field.id}" name="{field.name}">{options}</select>'
        return self._around(field, self.labels["stance"], control, None)

    @staticmethod
    def _textarea(field, hint: str | None) -> str:
        value = escape(field.data or "")
        return f'<textarea{_described(field, hint)} id="{field.id}" name="{field.name}">\r\n{value}</textarea>'

    @staticmethod
    def _around(field, label: str, control: str, hint: str | None) -> str:
        errors = "".join(f'<p class="error" id="{field.id}-err">{escape(error)}</p>' for error in field.errors)
        hint_html = f'<small class="hint" id="{field.id}-hint">{hint}</small>' if hint else ""
        return (
            f'<div class="field {" has-error" if field.errors else ""}">'
            f'<label for="{field.id}">{label}</label>{hint_html}{control}{errors}</div>'
        )


def _described(field, hint: str | None) -> str:
    if field.errors:
        return f' aria-describedby="{field.id}-err" aria-invalid="true"'
    return f' aria-describedby="{field.id}-hint"' if hint else ""
