"""Numbering of a letter's sections and request items (１． / （１） / ①), chosen per letter."""

from __future__ import annotations

import unicodedata

# Two levels: sections, then the request items inside a section.
DOT_PAREN = "dot-paren"  # １．／（１）  (the seed's letter 1)
DOT_CIRCLE = "dot-circle"  # １．／①
PAREN_CIRCLE = "paren-circle"  # （１）／①
# One level: a flat list of request items.
DOT = "dot"  # １．  (the seed's letter 2)
CIRCLE = "circle"  # ①
PAREN = "paren"  # （１）

LEVELS: dict[str, tuple[str, ...]] = {
    DOT_PAREN: ("dot", "paren"),
    DOT_CIRCLE: ("dot", "circle"),
    PAREN_CIRCLE: ("paren", "circle"),
    DOT: ("dot",),
    CIRCLE: ("circle",),
    PAREN: ("paren",),
}
STYLES = tuple(LEVELS)
DEFAULT = DOT_PAREN

# Japanese labels for a select box.
CHOICES: tuple[tuple[str, str], ...] = (
    (DOT_PAREN, "１．／（１）"),
    (DOT_CIRCLE, "１．／①"),
    (PAREN_CIRCLE, "（１）／①"),
    (DOT, "１．（一段）"),
    (CIRCLE, "①（一段）"),
    (PAREN, "（１）（一段）"),
)

_CIRCLED = [chr(0x2460 + i) for i in range(20)]  # ①..⑳; fonts rarely hold ㉑ and beyond
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def is_two_level_style(style: str) -> bool:
    """Whether the style numbers sections and the items inside them separately."""
    return len(_levels(style)) == 2


def _levels(style: str) -> tuple[str, ...]:
    try:
        return LEVELS[style]
    except KeyError:
        raise ValueError(f"番号の書式 {style!r} はありません。") from None


def _number(index: int, fullwidth: bool) -> str:
    """One digit full-width, two or more half-width (the usual rule of Japanese official documents)."""
    text = str(index)
    return text.translate(_FULLWIDTH) if fullwidth and index < 10 else text


def label(style: str, level: int, index: int, *, fullwidth: bool = True) -> str:
    """The label of the index-th entry (from 1) at level 1 (sections / flat items) or 2 (items in a section)."""
    kinds = _levels(style)
    if not 1 <= level <= len(kinds):
        raise ValueError(f"番号の書式 {style!r} に第{level}段はありません。")
    if index < 1:
        raise ValueError("番号は 1 から数えます。")
    kind = kinds[level - 1]
    if kind == "circle" and index <= len(_CIRCLED):
        return _CIRCLED[index - 1]
    number = _number(index, fullwidth)
    if kind == "dot":
        return f"{number}．" if fullwidth else f"{number}."
    return f"（{number}）" if fullwidth else f"({number})"  # paren, and circle beyond ⑳


def prefix(style: str, level: int, index: int, *, fullwidth: bool = True) -> str:
    """The label as it starts the printed line; a half-width "1." is followed by a full-width space."""
    text = label(style, level, index, fullwidth=fullwidth)
    return text + "　" if text.endswith(".") else text


def width_em(text: str) -> float:
    """Printed width in a Japanese monospaced font, in ems: wide and ambiguous (①) one, the rest a half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.5 for ch in text)
