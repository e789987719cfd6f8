"""Text the app keeps (a line of an answer's history, an audit summary) is written in its own language,
Japanese, whoever's page caused it; pages translate what they show, the database keeps one language."""

from __future__ import annotations

from flask import current_app, has_request_context
from flask_babel import force_locale


def kept_labels(labels: dict) -> dict[str, str]:
    """A mapping of (lazily) translated labels as they are kept, the language switched once for all of them."""
    if not has_request_context():
        return {key: str(text) for key, text in labels.items()}
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return {key: str(text) for key, text in labels.items()}


def in_app_language(text) -> str:
    """A (lazily) translated label as it is kept: in the app's default language."""
    if not has_request_context():  # a command or a test: the default language is in use already
        return str(text)
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return str(text)
