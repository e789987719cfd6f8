"""Template helpers: Japan-time display and the clock."""

from flask import Flask

from consult.core import clock
from consult.core.text import paragraphs


def register(app: Flask) -> None:
    """Make the display helpers available in every template."""
    app.add_template_filter(clock.format_jst, "jst")
    app.add_template_filter(lambda v: clock.format_jst(v, with_seconds=True), "jst_seconds")
    app.add_template_filter(paragraphs, "paragraphs")
    app.add_template_global(clock.request_now, "server_now")  # the request's one now (views may pass `now` too)
