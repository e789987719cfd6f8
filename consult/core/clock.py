"""The one source of "now", and the Asia/Tokyo conversions every rule and page uses.

A request takes its time once (request_now()) and hands it to every predicate and operation it calls; the
clock itself is the app's CLOCK setting (tests move it) or the wall clock.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context, has_request_context, request

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


def format_jst(value: datetime | None, with_seconds: bool = False) -> str:
    """Japanese display of a UTC time, e.g. 2025年3月17日(月) 17:00."""
    local = to_jst(value)
    if local is None:
        return ""
    weekday = "月火水木金土日"[local.weekday()]
    clock = local.strftime("%H:%M:%S" if with_seconds else "%H:%M")
    return f"{local.year}年{local.month}月{local.day}日({weekday}) {clock}"


def format_remaining(deadline: datetime, at: datetime) -> str:
    """Time left before a deadline in words a branch reads at a glance."""
    seconds = int((deadline - at).total_seconds())
    if seconds < 0:
        return "締切を過ぎています"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"あと{days}日{hours}時間"
    if hours:
        return f"あと{hours}時間{minutes}分"
    return f"あと{minutes}分"
