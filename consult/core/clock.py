"""The one source of "now", and the Asia/Tokyo conversions every rule and page uses.

A request takes its time once (request_now()) and hands it to every predicate and operation it calls; the
clock itself is the app's CLOCK setting (tests move it) or the wall clock.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import current_app, has_app_context, has_request_context, request
from flask_babel import get_locale
from flask_babel import gettext as _

JST = ZoneInfo("Asia/Tokyo")


def system_now() -> datetime:
    """Wall-clock time in UTC; the default clock."""
    return datetime.now(UTC)


def request_now() -> datetime:
    """The one "now" of the current request, taken at its first use; outside a request, the app's clock."""
    if not has_request_context():
        return app_now()
    environ = request.environ  # per request, even when a test keeps one app context around several
    if "consult.now" not in environ:
        environ["consult.now"] = app_now()
    return environ["consult.now"]


def app_now() -> datetime:
    """Current time in UTC from the app's clock (config CLOCK: tests move it), else the wall clock."""
    if has_app_context():
        clock = current_app.config.get("CLOCK")
        if clock is not None:
            return clock()
    return system_now()


def to_jst(value: datetime | None) -> datetime | None:
    """Show a stored UTC time in Japan time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(JST)


def from_jst(value: datetime) -> datetime:
    """Read a naive date-time typed in Japan time as an aware UTC time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=JST)
    return value.astimezone(UTC)


# How a time (or a date) reads in each language; the one display of dates, used by the `jst` template filter too.
DATE_PATTERNS = {"ja": "y年M月d日(E)", "en": "EEE d MMM y"}
TIME_PATTERNS = {False: "HH:mm", True: "HH:mm:ss"}


def format_jst(value: datetime | date | None, with_seconds: bool = False, lang: str | None = None) -> str:
    """A stored UTC time in Japan time (or a date), in the page's language unless `lang` says otherwise:
    2025年3月17日(月) 17:00 / Mon 17 Mar 2025 17:00."""
    if value is None:
        return ""
    lang = lang or _language()
    pattern = DATE_PATTERNS.get(lang, DATE_PATTERNS["ja"])
    if not isinstance(value, datetime):
        return format_date(value, pattern, locale=lang)
    return format_datetime(to_jst(value), f"{pattern} {TIME_PATTERNS[with_seconds]}", tzinfo=JST, locale=lang)


def _language() -> str:
    if has_request_context():
        return str(get_locale() or "ja")
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "ja") if has_app_context() else "ja"


def format_remaining(deadline: datetime, at: datetime) -> str:
    """Time left before a deadline in words a branch reads at a glance."""
    seconds = int((deadline - at).total_seconds())
    if seconds < 0:
        return _("締切を過ぎています")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("あと%(days)s日%(hours)s時間", days=days, hours=hours)
    if hours:
        return _("あと%(hours)s時間%(minutes)s分", hours=hours, minutes=minutes)
    return _("あと%(minutes)s分", minutes=minutes)
