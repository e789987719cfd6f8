"""Dates as they are printed on a letter: western or Japanese era, with ● while the visit is not booked."""

from __future__ import annotations

import datetime as dt

WESTERN = "western"
ERA = "era"
STYLES = (WESTERN, ERA)

UNDECIDED = "●"

# (first day, name), newest first. Eras before the Gregorian calendar (明治5年 and earlier) are not supported.
ERAS: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2019, 5, 1), "令和"),
    (dt.date(1989, 1, 8), "平成"),
    (dt.date(1926, 12, 25), "昭和"),
    (dt.date(1912, 7, 30), "大正"),
    (dt.date(1868, 10, 23), "明治"),
)
FIRST_SUPPORTED = dt.date(1873, 1, 1)  # Japan adopted the Gregorian calendar on 明治6年1月1日

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def to_fullwidth_digits(text: str) -> str:
    """Full-width digits are the usual form in letters typed in Japan."""
    return text.translate(_FULLWIDTH)


def era_of(day: dt.date) -> tuple[str, int]:
    """Era name and year of the era in effect on that day (the new era starts on its first day)."""
    if day < FIRST_SUPPORTED:
        raise ValueError("和暦は明治6年（1873年）以降の日付だけに対応しています。")
    for start, name in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    raise AssertionError("unreachable")  # pragma: no cover


def _validate(year: int, month: int, day: int | None) -> dt.date:
    """The date the text stands for (the 1st of the month when the day is undecided)."""
    if not 1 <= month <= 12:
        raise ValueError(f"月が正しくありません（{month}）。1〜12 の数で指定してください。")
    try:
        return dt.date(year, month, day if day is not None else 1)
    except ValueError:
        raise ValueError(f"{year}年{month}月{day}日という日付はありません。") from None


def format_date(year: int, month: int, day: int | None = None, style: str = WESTERN, *, fullwidth: bool = False) -> str:
    """Print a letter date; an undecided day (None) becomes ● so the letter can be drafted before the visit is booked.

    In era style an undecided day takes the era in effect on the 1st of the month (only months in which
    an era began mid-month, e.g. 1989年1月, are affected).
    """
    if style not in STYLES:
        raise ValueError(f"日付の書式 {style!r} はありません（{WESTERN} または {ERA}）。")
    date = _validate(year, month, day)
    day_text = UNDECIDED if day is None else str(day)
    if style == WESTERN:
        text = f"{year}年{month}月{day_text}日"
    else:
        name, era_year = era_of(date)
        year_text = "元" if era_year == 1 else str(era_year)
        text = f"{name}{year_text}年{month}月{day_text}日"
    return to_fullwidth_digits(text) if fullwidth else text


def format_day(value: dt.date, style: str = WESTERN, *, fullwidth: bool = False) -> str:
    """Convenience for a fixed date held as a datetime.date."""
    return format_date(value.year, value.month, value.day, style, fullwidth=fullwidth)
