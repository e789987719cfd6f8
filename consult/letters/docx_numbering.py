"""Word's automatic numbering (numbering.xml) turned back into the labels Word prints: 「１．」「（２）」「③」.

A numbered paragraph holds no number in its text, only ``w:numPr`` (``numId``, ``ilvl``), directly or through its
paragraph style. The number comes from counting: ``numId`` points at a ``w:num``, which points at a
``w:abstractNum`` whose ``w:lvl`` says the format (``numFmt``: decimal, decimalFullWidth, decimalEnclosedCircle,
…), the text around it (``lvlText``: "%1．", "（%2）") and where to start. Rules followed here, as Word does:
- numbers run per abstract numbering, in document order; a ``w:num`` with a ``startOverride`` restarts its level
  at the first paragraph that uses it (that is how Word writes 「番号の振り直し」);
- a level restarts whenever a higher level advances;
- ``%n`` in lvlText is the current number of level n, each in its own level's format (``isLgl``: decimal).
Formats Word offers in Japanese that are not numbers of ours (イロハ, 一二三, A, i) are still counted and printed,
so the reader can tell the user what it saw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docx.oxml.ns import qn

_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_AIUEO = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
_IROHA = "イロハニホヘトチリヌルヲワカヨタレソツネナラムウヰノオクヤマケフコエテアサキユメミシヱヒモセス"
_KANJI = "〇一二三四五六七八九"
_LEVEL_REF = re.compile(r"%([1-9])")


@dataclass(frozen=True)
class Level:
    """One ``w:lvl`` of an abstract numbering."""

    start: int = 0
    fmt: str = "decimal"
    text: str = "%1."
    legal: bool = False


@dataclass
class Num:
    """One ``w:num``: its abstract numbering, and the levels it restarts (startOverride) or redefines."""

    abstract: str
    starts: dict[int, int] = field(default_factory=dict)
    levels: dict[int, Level] = field(default_factory=dict)


@dataclass(frozen=True)
class AutoLabel:
    """The label Word prints before a numbered paragraph, and what made it."""

    text: str
    fmt: str
    level: int  # ilvl, 0-based
    abstract: str


def _int(el, attr: str = "w:val", default: int = 0) -> int:
    value = el.get(qn(attr)) if el is not None else None
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _val(el, default: str = "") -> str:
    return el.get(qn("w:val"), default) if el is not None else default


def _level(lvl) -> Level:
    return Level(
        start=_int(lvl.find(qn("w:start"))),
        fmt=_val(lvl.find(qn("w:numFmt")), "decimal"),
        text=_val(lvl.find(qn("w:lvlText")), ""),
        legal=lvl.find(qn("w:isLgl")) is not None and _val(lvl.find(qn("w:isLgl")), "1") not in ("0", "false"),
    )


def _sequence(n: int, alphabet: str) -> str:
    """A, B, … Z, AA, BB (Word's letter numbering repeats the letter)."""
    return alphabet[(n - 1) % len(alphabet)] * ((n - 1) // len(alphabet) + 1) if n > 0 else str(n)


def _roman(n: int) -> str:
    if not 0 < n < 4000:
        return str(n)
    out = []
    for value, letters in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _kanji(n: int) -> str:
    """一, 十, 十一, 二十三 (日本語の漢数字, up to 99; larger numbers digit by digit)."""
    if not 0 < n < 100:
        return "".join(_KANJI[int(d)] for d in str(n))
    tens, ones = divmod(n, 10)
    return (("" if tens == 1 else _KANJI[tens]) + "十" if tens else "") + (_KANJI[ones] if ones else "")


def _enclosed(n: int, first: int, fallback: str) -> str:
    return chr(first + n - 1) if 1 <= n <= 20 else fallback


_FORMATS = {
    "decimal": str,
    "decimalHalfWidth": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: str(n).translate(_FULLWIDTH),
    "decimalFullWidth2": lambda n: str(n).translate(_FULLWIDTH),
    "decimalEnclosedCircle": lambda n: _enclosed(n, 0x2460, str(n)),
    "decimalEnclosedCircleChinese": lambda n: _enclosed(n, 0x2460, str(n)),
    "decimalEnclosedParen": lambda n: _enclosed(n, 0x2474, f"({n})"),
    "decimalEnclosedFullstop": lambda n: _enclosed(n, 0x2488, f"{n}."),
    "upperLetter": lambda n: _sequence(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    "lowerLetter": lambda n: _sequence(n, "abcdefghijklmnopqrstuvwxyz"),
    "upperRoman": _roman,
    "lowerRoman": lambda n: _roman(n).lower(),
    "aiueo": lambda n: _sequence(n, _AIUEO),
    "aiueoFullWidth": lambda n: _sequence(n, _AIUEO),
    "iroha": lambda n: _sequence(n, _IROHA),
    "irohaFullWidth": lambda n: _sequence(n, _IROHA),
    "japaneseCounting": _kanji,
    "japaneseLegal": _kanji,
    "japaneseDigitalTenThousand": _kanji,
    "chineseCounting": _kanji,
    "chineseCountingThousand": _kanji,
    "ideographTraditional": _kanji,
    "ideographDigital": lambda n: "".join(_KANJI[int(d)] for d in str(n)),
    "bullet": lambda n: "",
    "none": lambda n: "",
}


def format_number(n: int, fmt: str) -> str:
    """One number in one of Word's numFmt values (unknown formats print as decimal, as Word does)."""
    return _FORMATS.get(fmt, str)(n)


class WordNumbering:
    """The numbering definitions of one document, and the counters as its paragraphs are read in order."""

    def __init__(self, numbering_element=None):
        self.abstracts: dict[str, dict[int, Level]] = {}
        self.nums: dict[str, Num] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.used: set[str] = set()
        if numbering_element is not None:
            self._load(numbering_element)

    def _load(self, root) -> None:
        for abstract in root.iterchildren(qn("w:abstractNum")):
            levels = {_int(lvl, "w:ilvl"): _level(lvl) for lvl in abstract.iterchildren(qn("w:lvl"))}
            self.abstracts[abstract.get(qn("w:abstractNumId"), "")] = levels
        for num in root.iterchildren(qn("w:num")):
            entry = Num(_val(num.find(qn("w:abstractNumId"))))
            for override in num.iterchildren(qn("w:lvlOverride")):
                ilvl = _int(override, "w:ilvl")
                start = override.find(qn("w:startOverride"))
                if start is not None:
                    entry.starts[ilvl] = _int(start)
                lvl = override.find(qn("w:lvl"))
                if lvl is not None:
                    entry.levels[ilvl] = _level(lvl)
            self.nums[num.get(qn("w:numId"), "")] = entry

    def _level_of(self, num: Num, ilvl: int) -> Level | None:
        return num.levels.get(ilvl) or self.abstracts.get(num.abstract, {}).get(ilvl)

    def next_label(self, num_id: str, ilvl: int) -> AutoLabel | None:
        """Count one paragraph numbered (num_id, ilvl); None when that numbering does not exist or is 'none'."""
        num = self.nums.get(num_id)
        if num is None or num_id == "0":
            return None
        level = self._level_of(num, ilvl)
        if level is None:
            return None
        counters = self.counters.setdefault(num.abstract, {})
        if num_id not in self.used:
            self.used.add(num_id)
            for restarted, start in num.starts.items():
                counters[restarted] = start - 1
        counters[ilvl] = counters.get(ilvl, level.start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if level.fmt == "none":
            return None

        def number(match: re.Match) -> str:
            ref = int(match.group(1)) - 1
            ref_level = self._level_of(num, ref) or Level()
            value = counters.get(ref, ref_level.start)
            return format_number(value, "decimal" if level.legal else ref_level.fmt)

        text = level.text if level.fmt == "bullet" else _LEVEL_REF.sub(number, level.text)
        return AutoLabel(text, level.fmt, ilvl, num.abstract)
