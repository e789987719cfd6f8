"""Login throttling: failed attempts counted per account and per address in the limiter's shared storage.

Only failures count (deduct_when), so people who type their password right are never slowed down by it.
The storage is RATELIMIT_STORAGE_URI: "memory://" for one server process, "redis://host:6379" so that
several app servers share the counters.
"""

from __future__ import annotations

import time

from flask import current_app, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address

from consult.extensions import limiter

THROTTLED_MESSAGE = _l("ログインの試行が多すぎます。15分ほど待ってから、もう一度お試しください。")
DEFAULT_PER_ACCOUNT = "5 per 15 minutes"
DEFAULT_PER_ADDRESS = "30 per 15 minutes"


def _account_key() -> str:
    """The login id as typed, so guessing one account's password is slowed wherever it comes from."""
    return "account:" + (request.form.get("login") or "").strip().lower()[:64]


def _address_key() -> str:
    """The client address (the real one behind the proxy when PROXY_FIX_X_FOR is set)."""
    return "address:" + (get_remote_address() or "unknown")


def _failed(response) -> bool:
    """Deduct only when the view marked the attempt as a wrong password or a disabled account."""
    return bool(g.get("login_failed"))


def _throttled(limit: RequestLimit):
    """The login page again, with the typed id kept, the reason, and 429."""
    from consult.auth.forms import LoginForm

    form = LoginForm(formdata=None, login=(request.form.get("login") or "")[:64])
    response = current_app.make_response(render_template("auth/login.html", form=form, throttled=THROTTLED_MESSAGE))
    response.status_code = 429
    response.headers["Retry-After"] = str(max(1, limit.reset_at - int(time.time())))
    return response


def login_limits(view):
    """Both limits on the login POST; the numbers come from LOGIN_LIMIT_PER_ACCOUNT and LOGIN_LIMIT_PER_ADDRESS."""
    per_account = limiter.limit(
        lambda: current_app.config.get("LOGIN_LIMIT_PER_ACCOUNT", DEFAULT_PER_ACCOUNT),
        key_func=_account_key,
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_throttled,
    )
    per_address = limiter.limit(
        lambda: current_app.config.get("LOGIN_LIMIT_PER_ADDRESS", DEFAULT_PER_ADDRESS),
        key_func=_address_key,
        methods=["POST"],
        deduct_when=_failed,
        on_breach=_throttled,
    )
    return per_account(per_address(view))
