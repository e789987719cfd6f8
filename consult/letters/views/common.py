"""What the letters screens share: loading a campaign's parts (another campaign's part is unknown: 404), showing
an operation's refusal next to its field, and a few display helpers."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _

from consult.answers.models import Opinion
from consult.core.errors import ConflictError, DomainError
from consult.core.transaction import refused
from consult.extensions import db
from consult.letters.models import Addressee, Campaign, Letter, RequestItem
from consult.letters.operations import STALE_MESSAGE

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def campaign_or_404(campaign_id: int) -> Campaign:
    return db.get_or_404(Campaign, campaign_id)


def letter_or_404(campaign: Campaign, letter_id: int) -> Letter:
    letter = db.session.get(Letter, letter_id)
    if letter is None or letter.campaign_id != campaign.id:
        abort(404)
    return letter


def item_or_404(letter: Letter, item_id: int) -> RequestItem:
    item = db.session.get(RequestItem, item_id)
    if item is None or item.letter_id != letter.id:
        abort(404)
    return item


def addressee_or_404(campaign: Campaign, addressee_id: int) -> Addressee:
    addressee = db.session.get(Addressee, addressee_id)
    if addressee is None or addressee.campaign_id != campaign.id:
        abort(404)
    return addressee


def typed(field) -> str:
    """A text field's value trimmed; a field missing from the POST counts as empty, never as a 500."""
    return (field.data or "").strip()


def show_errors(form, exc: DomainError, fallback: str, names: dict[str, str] | None = None) -> None:
    """Put an operation's refusal next to the field it concerns (InputErrors names them), else on fallback."""
    message = refused(exc)
    errors = getattr(exc, "errors", None) or {fallback: message}
    for name, message in errors.items():
        target = form._fields.get((names or {}).get(name, name)) or form[fallback]
        target.errors = [*target.errors, message]


def conflict(form, exc: Exception) -> None:
    """Someone saved first: the typed text stays, the message says so (the caller reloads what is stored)."""
    db.session.rollback()
    flash(str(exc) if isinstance(exc, ConflictError) and str(exc) else STALE_MESSAGE, "error")
    form.version.errors = [STALE_MESSAGE]


def back_to_item(campaign: Campaign, letter: Letter, item_id: int | None = None):
    anchor = f"#item-{item_id}" if item_id else ""
    return redirect(url_for("letters.letter", campaign_id=campaign.id, letter_id=letter.id) + anchor)


def private(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def scope_text(addressee: Addressee, labels: dict[int, str]) -> str:
    """「すべて」 or 「一部（2. マイナンバー…）」 for the overview table."""
    if addressee.all_items:
        return _("すべて")
    parts = []
    for item in addressee.selected:
        text = item.text if len(item.text) <= 20 else item.text[:20] + "…"
        parts.append(f"{labels.get(item.id, '')} {text}".strip())
    return _("一部（%(join_parts)s）", join_parts="、".join(parts)) if parts else _("一部（未選択）")


def excerpt(opinion: Opinion, limit: int = 80) -> str:
    """The first characters of what the branch asked for, to recognise an opinion in a list."""
    text = " ".join(t for t in (opinion.heading, opinion.proposed_text or opinion.reason or opinion.referred_text) if t)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
