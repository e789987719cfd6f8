"""The one text module: how lines end, which characters the app never keeps, names of files.

is_forbidden(ch) is the single rule for characters: C0 and C1 control characters other than tab, line feed and
carriage return, lone surrogates, and the Unicode non-characters (U+FDD0–U+FDEF and U+nFFFE/U+nFFFF in every
plane). That is everything XML 1.0 (so Word, Excel and every export) cannot hold, plus the C1 controls and
non-characters that no document should carry. Forms clean it away (and say so), operations refuse it, the
session refuses to store it whatever path a text took (guard_sessions), and every writer drops it (clean,
safe_cell), so a row stored before can never break an export.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from flask_babel import lazy_gettext as _l

from consult.core.errors import TranslatedError

_NONCHARACTERS = "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(17))
_FORBIDDEN_SET = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS
_FORBIDDEN = re.compile(f"[{_FORBIDDEN_SET}]")
# What Windows refuses in a file name, every forbidden character, and the line ends and tabs.
_UNSAFE_IN_FILE_NAME = '\\\\/:*?"<>|\t\n\r' + _FORBIDDEN_SET


def is_forbidden(ch: str) -> bool:
    """Whether a character is one the app never keeps (see the module's note)."""
    return _FORBIDDEN.match(ch) is not None


def normalise_newlines(value: str) -> str:
    """CRLF and CR (browsers send CRLF from a textarea, old Macs CR) become LF."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def forbidden_in(value: str | None) -> list[str]:
    """The distinct forbidden characters of a text, in the order they first appear."""
    return list(dict.fromkeys(_FORBIDDEN.findall(value or "")))


def has_forbidden(value: str | None) -> bool:
    """Whether clean() would remove anything from the text."""
    return bool(value) and _FORBIDDEN.search(value.replace("\r", "")) is not None


def strip_forbidden(value: str) -> tuple[str, list[str]]:
    """The text with line ends normalised and forbidden characters dropped, and the characters dropped (each one)."""
    value = normalise_newlines(value)
    removed = _FORBIDDEN.findall(value)
    return (_FORBIDDEN.sub("", value) if removed else value), removed


def clean(value: str | None) -> str:
    """Normalise line ends and drop forbidden characters; keep everything else."""
    if value is None:
        return ""
    return _FORBIDDEN.sub("", normalise_newlines(value))


def describe_characters(chars: list[str]) -> str:
    """「U+0007、U+FFFF」: forbidden characters are invisible, so messages name them by code point."""
    return "、".join(f"U+{ord(ch):04X}" for ch in chars)


def paragraphs(value: str | None) -> list[str]:
    """Split a text into paragraphs on blank or single line breaks, dropping empty ones."""
    return [line.strip() for line in clean(value).split("\n") if line.strip()]


def normalise_number(value: str) -> str:
    """Full-width digits and punctuation typed by an input method become their plain forms."""
    return unicodedata.normalize("NFKC", value).strip()


def file_name(text: str, limit: int, fallback: str, *, joiner: str | None = None) -> str:
    """A file name made from any text: what Windows refuses in names (\\ / : * ? " < > |) and control characters
    are dropped, or, with a joiner, every run of them and of blanks becomes one joiner; at most `limit` characters."""
    if joiner is None:
        name = re.sub(f"[{_UNSAFE_IN_FILE_NAME}]+", "", text).strip()[:limit].strip()
    else:
        name = re.sub(rf"[{_UNSAFE_IN_FILE_NAME}\s]+", joiner, text).strip("." + joiner)[:limit]
    return name or fallback


def uploaded_file_name(name: str | None, extension: str, fallback: str, limit: int = 200) -> str:
    """The name an uploaded file came with, without its folders or unsafe characters, ending in its real type."""
    base = PurePosixPath(clean(name or "").replace("\\", "/").replace("\n", "")).name
    base = file_name(base, limit, "").strip(" .") or fallback
    if not base.lower().endswith(extension):
        base += extension
    if len(base) > limit:
        base = base[: limit - len(extension)] + extension
    return base


# ---------------------------------------------------------------- spreadsheets

# Characters a spreadsheet reads as the start of a formula (the full-width ones too: Excel converts them).
FORMULA_START = "=+-@＝＋－＠"
_LEADING_BLANKS = " \t\u3000"


def safe_cell(value) -> str:
    """A cell every spreadsheet shows as typed: forbidden characters dropped, and each line that a spreadsheet
    would start a formula with (=, +, -, @, their full-width forms, also after blanks or after a line break)
    made inert with a leading apostrophe. Every CSV and XLSX writer goes through here."""
    lines = clean("" if value is None else str(value)).split("\n")
    return "\n".join("'" + line if _starts_formula(line) else line for line in lines)


def _starts_formula(line: str) -> bool:
    first = line.lstrip(_LEADING_BLANKS)[:1]
    return line[:1] == "\t" or (first != "" and first in FORMULA_START)


# ---------------------------------------------------------------- the last line of defence: never stored


class ForbiddenText(TranslatedError):
    """A text about to be stored holds forbidden characters (a path that skipped the forms: an import, the API)."""

    message = _l(
        "文書に書き込めない文字（%(chars)s）が含まれているため保存できません。その文字を削除してから保存してください。"
    )

    def __init__(self, where: str, chars: list[str]):
        super().__init__(chars=describe_characters(chars))
        self.where, self.chars = where, chars


def check_flush(session, _flush_context=None, _instances=None) -> None:
    """Before every flush: no new or changed string column may hold a forbidden character."""
    from sqlalchemy import inspect

    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        strings = _string_columns(state.mapper)
        keys = strings if state.pending else strings.intersection(state.committed_state)  # what changed
        for key in keys:
            value = state.dict.get(key)
            if isinstance(value, str) and _FORBIDDEN.search(value):
                raise ForbiddenText(f"{state.mapper.class_.__name__}.{key}", forbidden_in(value))


_STRING_COLUMNS: dict = {}


def _string_columns(mapper) -> frozenset[str]:
    """The attributes of a mapped class that hold strings (String, Text and their kin), worked out once."""
    if mapper not in _STRING_COLUMNS:
        from sqlalchemy import String

        _STRING_COLUMNS[mapper] = frozenset(
            attr.key for attr in mapper.column_attrs if isinstance(attr.columns[0].type, String)
        )
    return _STRING_COLUMNS[mapper]


def guard_sessions() -> None:
    """Install check_flush on every SQLAlchemy session (the request's and the exports' own), once. (Rows written
    with Core statements, as answers.operations writes item opinions, are checked by their operation.)"""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", check_flush):
        event.listen(Session, "before_flush", check_flush)
