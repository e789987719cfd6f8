"""Template helpers: dates in Japan time and the page's language, paragraphs, and the request's clock."""

from flask import Flask
from flask_babel import gettext as _
from markupsafe import Markup

from consult.core import clock
from consult.core.text import paragraphs


def register(app: Flask) -> None:
    """Make the display helpers available in every template."""
    app.add_template_filter(clock.format_jst, "jst")  # the one date display: {{ when|jst }}, {{ when|jst(True) }}
    app.add_template_filter(paragraphs, "paragraphs")
    app.add_template_filter(aside, "aside")
    app.add_template_global(clock.request_now, "server_now")  # the request's one now (views may pass `now` too)


def aside(text) -> Markup:
    """A remark in parentheses the page's language writes them: 「（…）」 in Japanese, " (…)" in English."""
    return Markup(_("（%(text)s）")) % {"text": text}
