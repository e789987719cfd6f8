"""Login throttling that slows password guessing without handing anyone a tool to lock others out.

Only failed attempts count (a wrong password, a disabled account), in the limiter's shared storage
(RATELIMIT_STORAGE_URI: "memory://" for one process, "redis://host:6379" for several servers):

- per account and address together (LOGIN_LIMIT_PER_ACCOUNT_ADDRESS): one place guessing one account;
- per address (LOGIN_LIMIT_PER_ADDRESS): one place guessing many accounts;
- per account from any address (LOGIN_LIMIT_PER_ACCOUNT): guessing spread over many places.

A browser that has logged in to an account before carries a signed, long-lived known-device cookie. For that
account it is held only to its own failures (LOGIN_LIMIT_PER_DEVICE): whatever others try, from wherever, the
people who use the app every day are never locked out. The moment a limit is reached, the audit log records
which limit, for which login and from which address (auth.operations.note_throttled).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import parse

from consult.extensions import limiter

THROTTLED_MESSAGE = _l("ログインの試行が多すぎます。15分ほど待ってから、もう一度お試しください。")
DEVICE_COOKIE = "consult_device"
DEVICE_USERS = 5  # accounts remembered per browser (a shared office PC)
DEFAULTS = {
    "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS": "5 per 15 minutes",
    "LOGIN_LIMIT_PER_ADDRESS": "30 per 15 minutes",
    "LOGIN_LIMIT_PER_ACCOUNT": "30 per 15 minutes",
    "LOGIN_LIMIT_PER_DEVICE": "5 per 15 minutes",
    "KNOWN_DEVICE_DAYS": 365,
}
# Each limit and the setting that sets it.
LIMITS = {
    "account_address": "LOGIN_LIMIT_PER_ACCOUNT_ADDRESS",
    "address": "LOGIN_LIMIT_PER_ADDRESS",
    "account": "LOGIN_LIMIT_PER_ACCOUNT",
    "device": "LOGIN_LIMIT_PER_DEVICE",
}


@dataclass(frozen=True)
class Attempt:
    """Who is trying to log in, from where, and the known-device id when this browser knows the account."""

    login: str
    address: str
    device: str | None = None

    def counters(self) -> list[tuple[str, tuple[str, ...]]]:
        """(limit name, storage identifiers) of the limits this attempt is held to."""
        if self.device is not None:
            return [("device", ("device", self.device))]
        return [
            ("account_address", ("account-address", self.login, self.address)),
            ("address", ("address", self.address)),
            ("account", ("account", self.login)),
        ]


def attempt_of(login: str, user_id: int | None) -> Attempt:
    """The attempt of this request: the typed login (as the limits count it), the address, a known device."""
    address = get_remote_address() or "unknown"
    return Attempt(login.strip().lower()[:64], address, _known_device(user_id))


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def _setting(key: str):
    return current_app.config.get(key, DEFAULTS[key])


def _prefix() -> str:
    return "consult-login:" + str(current_app.config.get("RATELIMIT_KEY_PREFIX", ""))


def blocked(attempt: Attempt) -> int | None:
    """Seconds to wait when a limit is already reached for this attempt, else None (it may go ahead)."""
    if not _enabled():
        return None
    try:
        for name, ids in attempt.counters():
            item = parse(limit_text(name))
            if not limiter.limiter.test(item, _prefix(), *ids):
                stats = limiter.limiter.get_window_stats(item, _prefix(), *ids)
                return max(1, int(stats.reset_time - time.time()))
    except Exception:  # noqa: BLE001  storage down (RATELIMIT_SWALLOW_ERRORS): let people log in rather than fail
        current_app.logger.warning("login throttle storage unavailable; attempt not limited", exc_info=True)
    return None


def failed(attempt: Attempt) -> list[str]:
    """Count one failed attempt; the names of the limits it has just used up (for the audit log)."""
    if not _enabled():
        return []
    reached = []
    try:
        for name, ids in attempt.counters():
            item = parse(limit_text(name))
            limiter.limiter.hit(item, _prefix(), *ids)
            if not limiter.limiter.test(item, _prefix(), *ids):
                reached.append(name)
    except Exception:  # noqa: BLE001  as in blocked()
        current_app.logger.warning("login throttle storage unavailable; failure not counted", exc_info=True)
    return reached


def limit_text(name: str) -> str:
    """One limit as configured, e.g. "5 per 15 minutes"."""
    return str(_setting(LIMITS[name]))


# ---------------------------------------------------------------- the known-device cookie


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="consult-known-device")


def _device_cookie() -> dict | None:
    """The signed cookie's content ({"d": device id, "u": user ids}) when it is genuine and not expired."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=int(_setting("KNOWN_DEVICE_DAYS")) * 86400)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) or not isinstance(data.get("u"), list):
        return None
    return data


def _known_device(user_id: int | None) -> str | None:
    data = _device_cookie()
    if user_id is None or data is None or user_id not in data["u"]:
        return None
    return data["d"]


def remember_device(response, user_id: int) -> None:
    """After a successful login: this browser is a known device for the account from now on."""
    data = _device_cookie() or {"d": secrets.token_urlsafe(16), "u": []}
    users = [user_id, *(each for each in data["u"] if each != user_id)][:DEVICE_USERS]
    response.set_cookie(
        DEVICE_COOKIE,
        _serializer().dumps({"d": data["d"], "u": users}),
        max_age=int(_setting("KNOWN_DEVICE_DAYS")) * 86400,
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
