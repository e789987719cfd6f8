"""Japanese-aware folding: one form for ＤＸ/DX, ﾃﾞｼﾞﾀﾙ/デジタル/でじたる and サーバー/サーバ, for search and similarity.

The folded form is what the full-text index stores and what queries are compared with; it is never shown.
Highlighting works on the ORIGINAL text: `fold_map` tells, for each folded character, which span of the
original produced it (NFKC changes lengths: ﾃﾞ is one デ, ㍻ is 平成, ß is ss), and `highlight` cuts the original
into (segment, is_match) pairs. No HTML is produced here: templates escape the segments.

The steps, in order (each is one regular expression or one table, shared by `fold` and `fold_map`):

1. the spacing sound marks ゛゜ become combining marks, so that NFKC joins テ゛ into デ as it joins ﾃﾞ, and
   characters that carry no text are dropped (zero-width spaces, soft hyphens, variation selectors);
2. NFKC (full and half width: ＤＸ→DX, ﾃﾞｼﾞﾀﾙ→デジタル, ①→1, the ideographic space → space), case folding, NFKC
   again (Unicode's NFKC_Casefold; it makes folding idempotent: a folded term folds to itself);
3. control characters become spaces, and a few name variants are unified (﨑→崎, 髙→高, 𠮷→吉);
4. long-vowel marks: a dash-like character right after katakana (サ－バ, サ―バ, サ‐バ typed for サーバ) is a
   long-vowel mark ー; every other dash-like character is a hyphen "-". Runs of ー become one;
5. the long-vowel mark that ends a katakana word of two or more sounds is dropped, as JIS Z 8301 lets writers
   do: サーバー and サーバ, コンピューター and コンピュータ fold alike. Inside a word ー stays (データ, メール:
   dropping it would make メール match 求める), and a word of one sound keeps it (キー, カー: else き, か);
6. katakana become hiragana (jaconv's table; ヷヸヹヺ have no hiragana and stay);
7. runs of whitespace become one space; the ends are stripped.

The wave dash 〜/～ is not a long-vowel mark here: in policy texts it marks ranges (3月〜5月); it folds to "~".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import jaconv

# Step 1: spacing sound marks become combining ones, so NFKC composes テ゛ as it composes ﾃﾞ.
_SOUND_MARKS = {"\u309b": "\u3099", "\u309c": "\u309a"}

# Step 3: characters without text of their own, control characters, and name variants.
_IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_IGNORABLE_RE = re.compile(f"[{_IGNORABLE}]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_VARIANTS = {"﨑": "崎", "髙": "高", "𠮷": "吉"}

# Steps 4-5: katakana letters (ァ..ヺ and the small ㇰ..ㇿ), dash-like characters, small kana (not a sound).
_KATA = "\u30a1-\u30fa\u31f0-\u31ff"
_DASHES = "\\-\u2010-\u2015\u2212\u2500\u2501\u30fc"
_KATA_DASHES_RE = re.compile(f"(?<=[{_KATA}])[{_DASHES}]+")
_OTHER_DASHES_RE = re.compile(f"[{_DASHES.replace(chr(0x30FC), '')}]")
_LONG_RUN_RE = re.compile("\u30fc{2,}")
_SMALL_KANA = frozenset("ァィゥェォャュョヮヵヶ" + "".join(map(chr, range(0x31F0, 0x3200))))
_KATA_RUN_RE = re.compile(f"[{_KATA}\u30fc]+")
_WAVES = {"\u301c": "~", "\u3030": "~"}
# One-for-one replacements, by a regular expression: str.translate looks up every character, ten times slower.
_SINGLES = _VARIANTS | _WAVES
_SINGLES_RE = re.compile("[" + "".join(_SINGLES) + "]")
_SOUND_MARKS_RE = re.compile("[" + "".join(_SOUND_MARKS) + "]")
_KATAKANA_RE = re.compile("[\u30a1-\u30f6\u30fd\u30fe]+")

# Step 7.
_SPACE_RE = re.compile(r"\s+")


def _stage_chars(text: str) -> str:
    """Steps 1-3 on a whole string or on one unit of it (they never look at neighbours)."""
    text = _SOUND_MARKS_RE.sub(lambda m: _SOUND_MARKS[m.group(0)], text)
    text = _IGNORABLE_RE.sub("", text)  # before NFKC: ﾃ<ZWSP>ﾞ composes into デ as well
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKC", text)  # case folding can leave marks out of order (İ): fold(fold(x)) = fold(x)
    return _SINGLES_RE.sub(lambda m: _SINGLES[m.group(0)], _CONTROL_RE.sub(" ", text))


def _final_long(match: re.Match) -> str:
    """A katakana word without its final long-vowel mark when it has two or more sounds before it."""
    word, after = match.group(0), match.string[match.end() : match.end() + 1]
    if after and unicodedata.combining(after):  # a stray mark on the ー: dropping it would move the mark
        return word
    if len(word) > 1 and word[-1] == "\u30fc" and sum(c not in _SMALL_KANA for c in word[:-1]) >= 2:
        return word[:-1]
    return word


# Steps 4-7 as (pattern, replacement) pairs, applied in order by both `fold` and `fold_map`.
_CONTEXT_STEPS: tuple[tuple[re.Pattern, object], ...] = (
    (_KATA_DASHES_RE, "\u30fc"),
    (_OTHER_DASHES_RE, "-"),
    (_LONG_RUN_RE, "\u30fc"),
    (_KATA_RUN_RE, _final_long),
    (_SPACE_RE, " "),
)


def _hiragana(text: str) -> str:
    """Katakana to hiragana, one for one (jaconv's table), word by word."""
    return _KATAKANA_RE.sub(lambda m: jaconv.kata2hira(m.group(0)), text)


def fold(text: str | None) -> str:
    """The searchable form of a text: width, case, kana and long vowels folded, whitespace collapsed."""
    if not text:
        return ""
    folded = _stage_chars(text)
    for pattern, repl in _CONTEXT_STEPS:
        folded = pattern.sub(repl, folded)
    return _hiragana(folded).strip(" ")


def terms(query: str | None, max_terms: int = 10, max_length: int = 100) -> list[str]:
    """The folded terms of a query, split on whitespace, unique, in order; every term must match."""
    seen: list[str] = []
    for term in fold(query).split(" "):
        term = term[:max_length]
        if term and term not in seen:
            seen.append(term)
    return seen[:max_terms]


# ---------------------------------------------------------------------------------------------------------
# Where each folded character comes from


@dataclass(frozen=True)
class FoldMap:
    """A folded text and, for each of its characters, the [start, end) span of the original it came from."""

    text: str
    folded: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span behind folded characters [start, end)."""
        return self.starts[start], self.ends[end - 1]


def _never_joins(char: str) -> bool:
    """Letters NFC never composes with what comes before them (only combining marks and Hangul jamo do): ASCII,
    kanji, and kana other than the sound marks. A fast path of `_joins`; the answer is the same."""
    return (
        char.isascii()
        or "\u4e00" <= char <= "\u9fff"
        or ("\u3041" <= char <= "\u30ff" and char not in "\u3099\u309a\u309b\u309c")
    )


_unit_stage = functools.lru_cache(maxsize=8192)(lambda unit: _stage_chars(unit))


def _joins(unit: str, char: str) -> bool:
    """Whether `char` belongs to the unit before it: a combining mark, a sound mark, or a composing letter."""
    if _never_joins(char):
        return False
    if unicodedata.combining(char) or char in "\uff9e\uff9f\u309b\u309c\u3099\u309a" or _IGNORABLE_RE.match(char):
        return True
    return len(unicodedata.normalize("NFC", unit + char)) <= len(unicodedata.normalize("NFC", unit))


def _units(text: str) -> list[tuple[int, int]]:
    """The text cut where NFKC cannot join two neighbours, as [start, end) spans."""
    spans: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or not _joins(text[start:i], text[i]):
            spans.append((start, i))
            start = i
    return spans


def _sub_tracked(pattern: re.Pattern, repl, chars: str, starts: list[int], ends: list[int]):
    """pattern.sub(repl, chars), carrying each character's original span; a match's span covers the replacement."""
    out, new_starts, new_ends = [], [], []
    pos = 0
    for match in pattern.finditer(chars):
        a, b = match.span()
        out.append(chars[pos:a])
        new_starts += starts[pos:a]
        new_ends += ends[pos:a]
        replacement = repl(match) if callable(repl) else repl
        if a == b:
            continue
        if replacement:
            # Replacements here keep a prefix of the match or are one character: give the last one the rest.
            out.append(replacement)
            new_starts += starts[a : a + len(replacement)]
            new_ends += ends[a : a + len(replacement) - 1] + [ends[b - 1]]
        elif new_ends:
            new_ends[-1] = ends[b - 1]
        pos = b
    out.append(chars[pos:])
    new_starts += starts[pos:]
    new_ends += ends[pos:]
    return "".join(out), new_starts, new_ends


def fold_map(text: str | None) -> FoldMap:
    """`fold(text)` with the original span of every folded character, for highlighting the original."""
    text = text or ""
    target = fold(text)
    chars, starts, ends = "", [], []
    for a, b in _units(text):
        piece = _unit_stage(text[a:b]) if b - a <= 4 else _stage_chars(text[a:b])
        chars += piece
        starts += [a] * len(piece)
        ends += [b] * len(piece)
    if chars != _stage_chars(text):  # a script whose neighbours NFKC joins in ways _units did not foresee
        chars = _stage_chars(text)
        starts, ends = [0] * len(chars), [len(text)] * len(chars)
    for pattern, repl in _CONTEXT_STEPS:
        chars, starts, ends = _sub_tracked(pattern, repl, chars, starts, ends)
    chars = _hiragana(chars)
    lead = len(chars) - len(chars.lstrip(" "))
    keep = len(chars.rstrip(" "))
    folded, starts, ends = chars[lead:keep], starts[lead:keep], ends[lead:keep]
    assert folded == target, (text, folded, target)
    return FoldMap(text=text, folded=folded, starts=tuple(starts), ends=tuple(ends))


# ---------------------------------------------------------------------------------------------------------
# Highlighting


def _is_kana(char: str) -> bool:
    return "\u3041" <= char <= "\u309f" or "\u30a1" <= char <= "\u30ff"


def match_spans(text: str | None, query: str | list[str]) -> list[tuple[int, int]]:
    """The [start, end) spans of the original text where a term of the query occurs, merged and sorted."""
    wanted = terms(query) if isinstance(query, str) else [t for t in query if t]
    mapped = fold_map(text)
    found: list[tuple[int, int]] = []
    for term in wanted:
        at = mapped.folded.find(term)
        while at >= 0:
            end = at + len(term)
            # サーバー as a query folds to さーば: in サーバーシステム show the whole サーバー.
            if mapped.folded[end : end + 1] == "\u30fc" and _is_kana(term[-1]):
                end += 1
            found.append(mapped.span(at, end))
            at = mapped.folded.find(term, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str | None, query: str | list[str]) -> list[tuple[str, bool]]:
    """The original text cut into (segment, is_match) pairs that join back into it ([] for no text); no HTML."""
    text = text or ""
    segments: list[tuple[str, bool]] = []
    pos = 0
    for start, end in match_spans(text, query):
        if start > pos:
            segments.append((text[pos:start], False))
        segments.append((text[start:end], True))
        pos = end
    if pos < len(text):
        segments.append((text[pos:], False))
    return segments
