"""The one check on a `next` address before the app redirects to it (login, the language switch, any other).

What is checked is the address that will actually be sent and followed: werkzeug turns the target into the
Location header with iri_to_uri (which drops tabs and line breaks, so "/\\t/evil.example" is sent as
"//evil.example"), and a browser then strips leading and trailing blanks and control characters, drops tabs and
line breaks anywhere and reads a backslash as a slash. Only a path on this site survives: no scheme, no host,
and never two slashes (or a slash and a backslash) at the start.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.urls import iri_to_uri

MAX_LENGTH = 2000
_C0_AND_SPACE = "".join(chr(code) for code in range(0x21))


def as_browser_reads(location: str) -> str:
    """A Location value the way a browser's URL parser sees it (WHATWG: trim, drop tab/LF/CR, \\ as /)."""
    trimmed = location.strip(_C0_AND_SPACE)
    return "".join(ch for ch in trimmed if ch not in "\t\n\r").replace("\\", "/")


def safe_next(target: str | None, fallback: str) -> str:
    """The target as it will be sent, when it stays on this site; otherwise the fallback."""
    if not target or len(target) > MAX_LENGTH or "\\" in target:  # a backslash is a slash to a browser
        return fallback
    try:
        sent = iri_to_uri(target)
    except ValueError:  # e.g. an invalid IPv6 host in the target
        return fallback
    seen = as_browser_reads(sent)
    try:
        parts = urlsplit(seen)
    except ValueError:
        return fallback
    if parts.scheme or parts.netloc or not seen.startswith("/") or seen.startswith("//"):
        return fallback
    if sent != seen:  # anything a browser would read differently from what was checked
        return fallback
    return sent
