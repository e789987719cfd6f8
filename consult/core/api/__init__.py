"""The JSON API's conventions in one place; each feature's resources live in consult/<feature>/api.py.

A feature adds resources to /api/v1 with

    blp = api.blueprint("rounds", "組織討議: 作成・編集・項目・対象組織・日程・受付開始と締切")

    @blp.route("/rounds/<id:round_id>")
    class RoundResource(api.Resource):
        def load(self, round_id):            # before the body is read: find the path's objects, check access
            self.round = api.found(db.session.get(Round, round_id), lambda r: r.can_view(current_user))
            if request.method != "GET":
                api.require(self.round.can_manage(current_user))

        @blp.arguments(RoundEditSchema)     # the same schema validates the body and documents it
        @blp.response(200, RoundSchema)
        def patch(self, data, round_id):
            return rounds.update_round(self.round, ...)   # the same operation the page calls

and appends nothing anywhere else: create_app registers every feature's `api.blp` in the order of
consult.layers.FEATURES. What every resource gets from here:

- authentication by `Authorization: Bearer <token>` only: the auth feature's token_loader turns a token into its
  user (role and organisation as on the pages); a session cookie never authenticates the API, so a browser that
  is logged in gets 401 here, and no CSRF token is needed;
- a rate limit per token (API_RATE_LIMIT, in the same storage as the login throttle: RATELIMIT_STORAGE_URI);
- errors as problem documents (problems.py), a refused operation (DomainError) as 409 or 422 with its Japanese
  message, after the refusal's changes were rolled back (or kept, for the refusals that keep them);
- the request's one transaction as everywhere else (core.transaction: committed when an unsafe method answers
  below 400, or when the refusal keeps what it wrote);
- the documented error responses of every operation, so the OpenAPI document lists what the API really answers.
"""

from __future__ import annotations

import hashlib
import importlib.resources
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from flask import Blueprint as FlaskBlueprint
from flask import Flask, abort, current_app, g, render_template, request, send_from_directory, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint as SmorestBlueprint
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from consult.core.api import problems
from consult.core.api.problems import PREFIX
from consult.core.api.schemas import MAX_ID
from consult.core.errors import DomainError
from consult.extensions import api, csrf, db, limiter

DEFAULT_RATE_LIMIT = "600 per minute"
# Problem responses documented on every operation, and on the operations that change something.
EVERY_OPERATION = (400, 401, 403, 404, 422, 429, 503)
CHANGES = (409, 412, 413)
SAFE = {"get", "head", "options"}


class Unauthenticated(Exception):
    """The request carries no usable token; str() is the Japanese reason."""


class IdConverter(IntegerConverter):
    """A row id in a path: 1 to 2**31-1; anything else is not found (404), never a database error."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=MAX_ID)


def _id_schema(converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}


# ---------------------------------------------------------------- tokens


_token_loader: Callable[[str, datetime], tuple[object, Callable[[], None] | None]] | None = None


def token_loader(loader: Callable[[str, datetime], tuple[object, Callable[[], None] | None]]):
    """The auth feature hands over how a bearer token becomes a user: loader(token, now) -> (user, note_use).

    It raises Unauthenticated when the token is unknown, revoked or its user disabled. note_use, when given,
    records the token's use after the request (a short transaction of its own, so a GET stays read-only).
    """
    global _token_loader
    _token_loader = loader
    return loader


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer …` header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _authenticate():
    """Every API request names its user by token; the session cookie is never looked at."""
    from flask_login import AnonymousUserMixin

    from consult.core.clock import request_now

    g._login_user = AnonymousUserMixin()  # flask-login's current user: the cookie is not read for the API
    token = bearer_token()
    if token is None:
        return problems.problem(401, problems.default_detail(401), headers={"WWW-Authenticate": _challenge()})
    if _token_loader is None:  # pragma: no cover  the auth feature always registers one
        raise RuntimeError("no API token loader registered")
    try:
        user, note_use = _token_loader(token, request_now())
    except Unauthenticated as exc:
        headers = {"WWW-Authenticate": _challenge('error="invalid_token"')}
        return problems.problem(401, str(exc), kind="invalid-token", headers=headers)
    g._login_user = user
    g.api_note_use = note_use
    return None


def _challenge(extra: str = "") -> str:
    return 'Bearer realm="consult"' + (f", {extra}" if extra else "")


def _note_use(response):
    """The token's last use, written once the request's own transaction is over (see token_loader)."""
    note_use = g.pop("api_note_use", None)
    if note_use is not None:
        try:
            note_use()
            db.session.commit()
        except Exception:  # noqa: BLE001  a busy database must not fail a request that has been answered
            db.session.rollback()
            current_app.logger.warning("could not record an API token's last use", exc_info=True)
    return response


def rate_limit_key() -> str:
    """Requests are counted per token (its hash, never the token), or per address without one."""
    token = bearer_token()
    if token:
        return "api-token:" + hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "api-address:" + (get_remote_address() or "unknown")


def _rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


# ---------------------------------------------------------------- blueprints and resources


class Blueprint(SmorestBlueprint):
    """A feature's API resources: bearer authentication, no CSRF, a rate limit, the problem responses documented."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_problem_doc)
        self.before_request(_authenticate)
        self.after_request(_note_use)
        csrf.exempt(self)
        limiter.limit(_rate_limit, key_func=rate_limit_key)(self)

    @staticmethod
    def _prepare_problem_doc(doc, doc_info, *, method, **kwargs):
        responses = doc.setdefault("responses", {})
        for status in (*EVERY_OPERATION, *(() if method in SAFE else CHANGES)):
            responses.setdefault(str(status), problems.response_name(status))
        responses.setdefault("default", problems.response_name(500))
        return doc


def blueprint(feature: str, description: str) -> Blueprint:
    """The blueprint of one feature's resources, named api_<feature>, under /api/v1."""
    return Blueprint(f"api_{feature}", f"consult.{feature}.api", url_prefix=PREFIX, description=description)


class Resource(MethodView):
    """A resource: load() finds the path's objects (404) and checks access (403) before the body is read; a
    refused operation answers a problem with its message."""

    def load(self, **path) -> None:
        """Find what the path names, refusing what the caller may not see or do; nothing by default."""

    def dispatch_request(self, **path):
        try:
            self.load(**path)
            return super().dispatch_request(**path)
        except DomainError as exc:
            return problems.from_domain_error(exc)
        except StaleDataError:  # someone saved between our read and our write
            db.session.rollback()
            return problems.problem(409, _("他の人が先に更新しました。読み込み直してから、もう一度送ってください。"))


def require(allowed: bool) -> None:
    """403 unless allowed: the caller knows the object exists but may not do this with it."""
    if not allowed:
        abort(403)


def found(obj, visible: Callable[[object], bool] | None = None):
    """The object, or 404 when it is missing or the caller may not know it exists."""
    if obj is None or (visible is not None and not visible(obj)):
        abort(404)
    return obj


def invalid(field: str, message: str) -> None:
    """422 with the message next to one field, for a rule the schema cannot check (e.g. an id that must exist)."""
    from flask_smorest import abort as abort_with

    abort_with(422, messages={field: [message]})


def expected_version(body_version: int | None) -> int | None:
    """The version a write was built on: the body's `version`, else an `If-Match: "<version>"` header."""
    if body_version is not None:
        return body_version
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    tag = header.split(",")[0].strip().removeprefix("W/").strip('"')
    if not tag.isdigit() or len(tag) > 10:
        abort(412)
    return int(tag)


def no_content():
    """204: done, nothing to show."""
    return current_app.response_class(status=204)


def etag(version: int) -> dict[str, str]:
    """The ETag header of a versioned object."""
    return {"ETag": f'"{version}"'}


# ---------------------------------------------------------------- wiring


def register(app: Flask) -> None:
    """Bind the API to the app: settings, JSON without \\u escapes, ids in paths, problem documents, the docs."""
    app.json.ensure_ascii = False  # Japanese as it is, in UTF-8
    app.json.sort_keys = False  # fields in the order the schemas declare them
    app.url_map.converters["id"] = IdConverter
    api.init_app(app)
    api.register_converter(IdConverter, _id_schema)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": _SECURITY_DESCRIPTION}
    )
    problems.register_responses(api.spec)
    app.register_error_handler(HTTPException, _http_error)
    app.register_blueprint(_reference)


def _http_error(error: HTTPException):
    """Under /api/v1 every HTTP error is a problem document; pages keep their own error pages."""
    if problems.is_api_request():
        return problems.from_http_exception(error)
    return error


_SECURITY_DESCRIPTION = (
    "個人用 API トークン。アカウントのページ（/account）か `consult create-token LOGIN` で作成し、"
    "`Authorization: Bearer <token>` で送ります。トークンは作成した利用者の役割と所属組織で動きます。"
)

# The browsable reference: Swagger UI from the flask-swagger-ui package's files, started by our own script
# (the Content-Security-Policy allows no inline script), so it works offline on a union's intranet.
_reference = FlaskBlueprint("api-reference", __name__, url_prefix=PREFIX)


@_reference.route("/docs")
def docs():
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))


@_reference.route("/docs/swagger-ui-bundle.js", defaults={"filename": "swagger-ui-bundle.js"})
@_reference.route("/docs/swagger-ui.css", defaults={"filename": "swagger-ui.css"})
def docs_file(filename: str):
    """swagger-ui-bundle.js and swagger-ui.css of the installed Swagger UI."""
    dist = Path(str(importlib.resources.files("flask_swagger_ui") / "dist"))
    return send_from_directory(dist, filename, max_age=86400)
