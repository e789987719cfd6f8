"""Every error under /api/v1 as an RFC 9457 problem document (application/problem+json), with a Japanese detail.

    {"type": "/api/v1/problems/invalid", "title": "Unprocessable Content", "status": 422,
     "detail": "入力内容に誤りがあります。", "errors": {"opinions.0.stance": ["一覧の値から選んでください。"]}}

type names the kind of problem (a relative URI under /api/v1/problems/), title is the status's English phrase,
detail says what happened in Japanese, errors (where there are any) lists the messages per field, with the
field's dotted path in the request (query parameters and body fields alike). A stale write also carries
current_version, so a client can reload and compare.
"""

from __future__ import annotations

import http
from collections.abc import Mapping

from flask import Response, current_app, json, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from consult.core.errors import DomainError
from consult.core.transaction import refused

PREFIX = "/api/v1"
MEDIA_TYPE = "application/problem+json"

# The kinds of refusal a DomainError can carry (DomainError.kind) and the status each answers.
KIND_STATUS = {"invalid": 422, "conflict": 409, "state": 409, "late": 409}


def is_api_request() -> bool:
    """Whether the request is for the JSON API (problem documents) rather than a page (HTML)."""
    path = request.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def problem(status: int, detail: str, kind: str | None = None, headers: Mapping | None = None, **extra) -> Response:
    """A problem+json response."""
    phrase = _phrase(status)
    body = {"type": f"{PREFIX}/problems/{kind or _kind_of(status)}", "title": phrase, "status": status}
    body["detail"] = str(detail)
    for key, value in extra.items():
        if value is not None:
            body[key] = value
    response = current_app.response_class(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _kind_of(status: int) -> str:
    return {
        400: "bad-request",
        401: "unauthenticated",
        403: "forbidden",
        404: "not-found",
        405: "method-not-allowed",
        409: "conflict",
        412: "precondition-failed",
        413: "too-large",
        415: "unsupported-media-type",
        422: "invalid",
        429: "too-many-requests",
        503: "unavailable",
    }.get(status, "error")


def _details() -> dict[int, str]:
    """The Japanese detail of each status when nothing more specific is known."""
    return {
        400: _("リクエストを読み取れません。JSON の書き方を確かめてください。"),
        401: _("認証が必要です。Authorization: Bearer ヘッダーで API トークンを送ってください。"),
        403: _("この操作を行う権限がありません。"),
        404: _("見つかりません。"),
        405: _("この URL ではこのメソッドは使えません。"),
        409: _("現在の状態ではこの操作はできません。"),
        412: _("If-Match の版が現在の版と一致しません。読み込み直してください。"),
        413: _("送信されたデータが大きすぎます。"),
        415: _("Content-Type: application/json で送ってください。"),
        422: _("入力内容に誤りがあります。"),
        429: _("リクエストが多すぎます。しばらく待ってから、もう一度お試しください。"),
        500: _("サーバーで予期しないエラーが起きました。"),
        503: _("データベースに接続できません。少し待ってから、もう一度お試しください。"),
    }


def default_detail(status: int) -> str:
    return _details().get(status, _phrase(status))


def from_http_exception(error: HTTPException) -> Response:
    """abort(...), a routing miss, a validation failure or a rate limit, as a problem."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    errors = None
    if "messages" in data or "errors" in data:
        errors = flatten(data.get("errors") or data.get("messages"))
    detail = data.get("message") or default_detail(status)
    if status == 400 and errors:
        detail = default_detail(400)
        errors = None  # webargs' "Invalid JSON body." is the detail, in Japanese, not a field's error
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 429:
        headers.setdefault("Retry-After", str(data.get("retry_after") or 60))
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="consult"')
    return problem(status, detail, headers=headers, errors=errors, **data.get("extra", {}))


def from_domain_error(error: DomainError) -> Response:
    """An operation refused: roll back what it flushed (unless the refusal keeps it), answer 409 or 422."""
    message = refused(error)
    kind = getattr(error, "kind", "invalid")
    status = KIND_STATUS.get(kind, 422)
    errors = getattr(error, "errors", None)
    extra = {}
    current = getattr(error, "current", None)
    if current is not None and getattr(current, "version", None) is not None:
        extra["current_version"] = current.version
    headers = {"ETag": f'"{current.version}"'} if "current_version" in extra else None
    return problem(
        status,
        message,
        kind=kind,
        headers=headers,
        errors=flatten(errors) if isinstance(errors, Mapping) else None,
        **extra,
    )


def flatten(messages, path: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow's nested messages ({"json": {"opinions": {0: {"stance": [...]}}}}) keyed by dotted path."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            if not path and name in ("json", "query", "querystring", "form", "files", "headers", "view_args"):
                name = ""  # the location is not part of the field's name
            flat.update(flatten(value, f"{path}.{name}" if path and name else path or name))
    elif isinstance(messages, list | tuple):
        if all(not isinstance(m, Mapping | list | tuple) for m in messages):
            flat.setdefault(path or "_", []).extend(str(m) for m in messages)
        else:
            for message in messages:
                flat.update(flatten(message, path))
    elif messages is not None:
        flat.setdefault(path or "_", []).append(str(messages))
    return flat


# ---------------------------------------------------------------- the problem responses in the OpenAPI document


def response_name(status: int) -> str:
    """The response component of a status (flask-smorest refers to them by these names, e.g. for 422)."""
    return http.HTTPStatus(status).name


def register_responses(spec) -> None:
    """One problem+json response per error status, included in the document where an operation uses it."""
    import marshmallow as ma

    class ProblemSchema(ma.Schema):
        """RFC 9457 problem details."""

        type = ma.fields.String(required=True, metadata={"description": "問題の種類（/api/v1/problems/…）"})
        title = ma.fields.String(required=True, metadata={"description": "HTTP ステータスの名前（英語）"})
        status = ma.fields.Integer(required=True)
        detail = ma.fields.String(required=True, metadata={"description": "何が起きたか（日本語）"})
        errors = ma.fields.Dict(
            keys=ma.fields.String(),
            values=ma.fields.List(ma.fields.String()),
            metadata={"description": "項目ごとの誤り（キーはリクエスト中の項目名。入れ子は . でつなぐ）"},
        )
        current_version = ma.fields.Integer(metadata={"description": "競合したとき: 保存されている現在の版"})

    spec.components.schema("Problem", schema=ProblemSchema)
    for status in http.HTTPStatus:
        if status < 400:
            continue
        response = {
            "description": f"{status.phrase}（problem+json）",
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status in (401,):
            response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
        spec.components.response(status.name, response, lazy=True)
