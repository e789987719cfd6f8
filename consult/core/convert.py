"""The one reading of an id and the one bound on a year, for every value that arrives in a request.

Ids: every `<int:…>` of a route is an IdConverter (installed by register(), before any blueprint), so a path id
outside 1 … 2,147,483,647 (PostgreSQL's INTEGER; SQLite holds more) never reaches the database and the route
answers 404. Ids posted in forms or query strings go through parse_id() (or the id fields of core.forms).

Years: a date or date-time typed in a form must lie within YEAR_MIN … YEAR_MAX, so the conversion to and from
Japan time can never overflow and nobody types a deadline in year 1 by accident.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

ID_MIN, ID_MAX = 1, 2**31 - 1
YEAR_MIN, YEAR_MAX = 1900, 2100


def parse_int(value, low: int = 0, high: int = ID_MAX) -> int | None:
    """A whole number as posted or put in a query string: plain ASCII digits within low … high, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not text or len(text) > len(str(high)) or not (text.isascii() and text.isdigit()):
            return None
        number = int(text)
    return number if low <= number <= high else None


def parse_id(value) -> int | None:
    """An id as posted or put in a query string, within the range every database holds; else None."""
    return parse_int(value, ID_MIN, ID_MAX)


def parse_ids(values) -> list[int] | None:
    """Several ids (a multiple select, checkboxes): None when any of them is not an id."""
    ids = [parse_id(value) for value in values]
    return None if any(each is None for each in ids) else ids


def year_in_range(year: int) -> bool:
    """Whether a typed year may be stored and shown."""
    return YEAR_MIN <= year <= YEAR_MAX


class IdConverter(IntegerConverter):
    """`<int:name>` in every route: ASCII digits, 1 … ID_MAX; anything else matches no route (404)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=ID_MIN, max=ID_MAX, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def register(app: Flask) -> None:
    """Replace the `int` converter before any route is added."""
    app.url_map.converters["int"] = IdConverter


PAGE_MAX = 10**6


def parse_page(value) -> int:
    """A page number from a query string; anything unreadable or out of range is the first page."""
    return parse_int(value, 1, PAGE_MAX - 1) or 1
