"""The answer form's fields written out as HTML directly: the page holds 200 of them (50 items × 4), and WTForms'
widgets with a Jinja macro per field cost more than the rest of the page. Same markup as templates/_form.html's
field macro: a label, the hint, the control (aria-describedby pointing at the hint or the error), the errors."""

from __future__ import annotations

from flask_babel import get_locale
from markupsafe import Markup, escape

_LABELS: dict[tuple[int, str], str] = {}  # (id of a label, language) → escaped text; the labels live as long


def _label_of(field) -> str:
    """A field's label in the page's language, translated once per label and language, not once per field."""
    text = field.label.text
    key = (id(text), str(get_locale()))
    found = _LABELS.get(key)
    if found is None:
        found = _LABELS[key] = str(escape(text))
    return found


def _described(field, hint: str | None) -> str:
    if field.errors:
        return f' aria-describedby="{field.id}-err" aria-invalid="true"'
    return f' aria-describedby="{field.id}-hint"' if hint else ""


def _around(field, control: str, hint: str | None) -> Markup:
    errors = "".join(f'<p class="error" id="{field.id}-err">{escape(error)}</p>' for error in field.errors)
    hint_html = f'<small class="hint" id="{field.id}-hint">{escape(hint)}</small>' if hint else ""
    return Markup(
        f'<div class="field {" has-error" if field.errors else ""}">'
        f'<label for="{field.id}">{_label_of(field)}</label>{hint_html}{control}{errors}</div>'
    )


def textarea(field, hint: str | None = None) -> Markup:
    """A multi-line text (該当箇所・修正案・理由, the general comment, a proposal's text)."""
    value = escape(field.data or "")
    control = f'<textarea{_described(field, hint)} id="{field.id}" name="{field.name}">\r\n{value}</textarea>'
    return _around(field, control, hint)


def line(field, hint: str | None = None) -> Markup:
    """A one-line text (a proposal's heading)."""
    control = (
        f'<input{_described(field, hint)} id="{field.id}" name="{field.name}" type="text"'
        f' value="{escape(field.data or "")}">'
    )
    return _around(field, control, hint)


def stance(field, choices: list[tuple[str, str]]) -> Markup:
    """The 区分 select; choices are (value, label) with the labels already in the page's language."""
    chosen = field.data or ""
    options = "".join(
        f'<option {"selected " if value == chosen else ""}value="{value}">{escape(label)}</option>'
        for value, label in choices
    )
    return _around(
        field, f'<select{_described(field, None)} id="{field.id}" name="{field.name}">{options}</select>', None
    )
