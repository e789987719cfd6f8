"""One transaction per request and per CLI command, ended in one place.

Requests: every view runs inside the request's transaction, which App.dispatch_request ends once the view has
returned: committed when the request is a POST (or another unsafe method) answered below 400, rolled back
otherwise (a GET, an abort, an exception, a 4xx). Views and operations never commit. Operations check before
they write, so a refusal leaves nothing behind; a view that shows a refusal calls refused(error), which rolls
back what the operation may have flushed, except for the refusals that keep what they wrote on purpose
(error.keeps_changes: the answer typed after the deadline kept as a late draft, the audit line of a failed
login), which the same commit then stores.

CLI commands that write are decorated with @commits: committed when the command returns, rolled back when it
fails or exits.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, request
from werkzeug.wrappers import Response

from consult.core.errors import DomainError
from consult.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class App(Flask):
    """Flask whose views all end the request's transaction through finish()."""

    def dispatch_request(self):
        response = self.make_response(super().dispatch_request())
        finish(response)
        return response


def finish(response: Response) -> None:
    """Commit what a successful write request changed; discard everything else."""
    if request.method not in SAFE_METHODS and response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()


def refused(error: DomainError) -> str:
    """A view is about to show this refusal: drop what was flushed unless the refusal keeps it; its message."""
    if not error.keeps_changes:
        db.session.rollback()
    return str(error)


def register(app: Flask) -> None:
    """Note where the request comes from on its unit of work, and read a write request's body before its first
    statement: SQLite takes its write lock at that BEGIN (IMMEDIATE), so the lock covers the change, not the
    parsing of a 200 KB answer."""

    @app.before_request
    def note_client_address():
        db.session.info["client_address"] = request.remote_addr
        if request.method not in SAFE_METHODS:
            request.form  # noqa: B018  (parsed now, outside the transaction)


def commits(command: Callable) -> Callable:
    """A CLI command's changes are committed when it returns, rolled back when it raises or exits."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            result = command(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return run
