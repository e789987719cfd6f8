"""The database unreachable, locked or timing out: a 503 page that keeps what the user typed, never a 500."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

MESSAGE = _l(
    "データベースに接続できないため、保存できませんでした。入力内容は下に残っています。"
    "少し待ってから「もう一度送信する」を押してください。"
)
READ_MESSAGE = _l(
    "データベースに接続できないため、ページを表示できませんでした。少し待ってから、もう一度開いてください。"
)
RETRY_AFTER = "30"
# Form fields the user did not type: re-sent as they were, not shown.
TECHNICAL = {"csrf_token", "version", "action"}
# Labels of form field names shared by several pages; features add theirs with add_field_labels().
NAMED_LABELS = {
    "title": _l("件名"),
    "background": _l("説明"),
    "body": _l("本文"),
    "text": _l("本文"),
    "name": _l("名前"),
    "reason": _l("理由"),
}
_labellers: list[Callable[[str], str | None]] = []
_value_shows: list[Callable[[str, str], str | None]] = []


def add_field_labels(
    names: dict[str, str] | None = None,
    label: Callable[[str], str | None] | None = None,
    show: Callable[[str, str], str | None] | None = None,
) -> None:
    """A feature hands the fault page its field labels: fixed names, a function for patterned names, and a
    function showing a stored value as the words the form showed (both return None for names not theirs)."""
    NAMED_LABELS.update(names or {})
    if label is not None:
        _labellers.append(label)
    if show is not None:
        _value_shows.append(show)


def register(app: Flask) -> None:
    """One handler for every way the database can be out of reach, on every page."""
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(InterfaceError, database_unavailable)
    app.register_error_handler(DBAPIError, _connection_lost)


def _connection_lost(error: DBAPIError):
    """Other driver errors are bugs and stay 500s, unless the connection itself was lost."""
    if getattr(error, "connection_invalidated", False):
        return database_unavailable(error)
    raise error


def database_unavailable(error: DBAPIError):
    """Roll back, log, and answer 503 with the typed text shown and ready to send again."""
    from consult.extensions import db

    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  the connection may be gone; the session is reset either way
        current_app.logger.debug("rollback after a database fault failed", exc_info=True)
    reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["?"])[0]
    current_app.logger.error("database unavailable during %s %s: %s", request.method, request.path, reason)
    headers = {"Retry-After": RETRY_AFTER, "Cache-Control": "no-store"}
    if request.path == "/health":
        return {"status": "database unavailable"}, 503, headers
    posted = request.method == "POST"
    fields, hidden, withheld = _form_fields() if posted else ([], [], False)
    try:
        # Straight from the Jinja environment: the context processors would load the logged-in user again.
        page = current_app.jinja_env.get_template("fault.html").render(
            message=MESSAGE if posted else READ_MESSAGE,
            posted=posted,
            fields=fields,
            hidden=hidden,
            withheld=withheld,
            has_files=posted and any(f.filename for f in request.files.values()),
            action=request.full_path.rstrip("?"),
        )
    except Exception:  # noqa: BLE001  the page itself must not turn the fault into a 500
        current_app.logger.exception("rendering the database fault page failed")
        page = str(MESSAGE if posted else READ_MESSAGE)
        headers["Content-Type"] = "text/plain; charset=utf-8"
    return page, 503, headers


def _form_fields() -> tuple[list[tuple[str, str, str]], list[tuple[str, str]], bool]:
    """Typed fields to show, every field to re-send, and whether a password was left out (never echoed)."""
    visible, hidden, withheld = [], [], False
    for name, values in request.form.lists():
        if name == "csrf_token":
            continue  # the page puts a fresh one
        if "password" in name:
            withheld = True  # never echoed into a page
            continue
        for value in values:
            hidden.append((name, value))
            if name not in TECHNICAL and value.strip():
                visible.append((name, label_for(name), shown_value(name, value)))
    return visible, hidden, withheld


def label_for(name: str) -> str:
    """A readable label for a form field name, e.g. item-12-reason → 項目（ID 12）の理由."""
    for labeller in _labellers:
        if (label := labeller(name)) is not None:
            return label
    return NAMED_LABELS.get(name, name)


def shown_value(name: str, value: str) -> str:
    """A choice key as the word the form showed (amend → 修正); typed text as it is."""
    for show in _value_shows:
        if (shown := show(name, value)) is not None:
            return shown
    return value
