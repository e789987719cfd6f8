"""Cleaning and checking the text people type or paste, and making it safe for every document we write.

One definition of a forbidden character (FORBIDDEN / is_forbidden): what XML 1.0 cannot hold, and so no DOCX or
XLSX can carry (C0 controls other than tab and line breaks, lone surrogates, U+FFFE/U+FFFF), together with the
C1 controls and every Unicode non-character (U+FDD0–U+FDEF and the last two code points of each plane). Forms
refuse it (core.forms), the session refuses to store it (guard_session), and every writer drops it (clean).
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

from consult.core.errors import TranslatedError

_NONCHARACTERS = "".join(f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17))
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef" + _NONCHARACTERS + "]")
# Characters a spreadsheet reads as the start of a formula (full-width ones too: Excel converts them).
FORMULA_START = "=+-@＝＋－＠"
_LEADING_BLANKS = " \t\u3000"

FORBIDDEN_MESSAGE = _l(
    "文書に書き込めない文字（%(chars)s）を取り除きました。内容を確認して、もう一度保存してください。"
)


def is_forbidden(ch: str) -> bool:
    """Whether one character can never be stored or written into a document."""
    return FORBIDDEN.match(ch) is not None


def forbidden_in(value: str | None) -> list[str]:
    """The distinct forbidden characters of a text, first seen first (CR counts as a line break, not as one)."""
    if not value:
        return []
    return list(dict.fromkeys(FORBIDDEN.findall(value)))


def normalise_newlines(value: str) -> str:
    """CRLF and lone CR (browsers, old Macs) become the plain line feed we store."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def clean(value: str | None) -> str:
    """Normalise line ends and drop every forbidden character; keep everything else."""
    if value is None:
        return ""
    return FORBIDDEN.sub("", normalise_newlines(value))


def describe_characters(chars: list[str]) -> str:
    """「U+0007、U+FFFF」: forbidden characters are invisible, so name them by code point."""
    return "、".join(f"U+{ord(ch):04X}" for ch in chars)


def forbidden_message(chars: list[str]) -> str:
    """The message shown next to a field whose forbidden characters were taken out."""
    return str(FORBIDDEN_MESSAGE) % {"chars": describe_characters(chars)}


def safe_cell(value) -> str:
    """A cell every spreadsheet shows as typed: forbidden characters dropped, and each line that a spreadsheet
    would start a formula with (=, +, -, @, their full-width forms, also after blanks or a line break) made
    inert with a leading apostrophe. Every CSV and XLSX writer goes through here."""
    lines = clean("" if value is None else str(value)).split("\n")
    return "\n".join("'" + line if _starts_formula(line) else line for line in lines)


def _starts_formula(line: str) -> bool:
    first = line.lstrip(_LEADING_BLANKS)[:1]
    return line[:1] == "\t" or (first != "" and first in FORMULA_START)


def paragraphs(value: str | None) -> list[str]:
    """Split a text into paragraphs on blank or single line breaks, dropping empty ones."""
    return [line.strip() for line in clean(value).split("\n") if line.strip()]


def normalise_number(value: str) -> str:
    """Full-width digits and punctuation typed by an input method become their plain forms."""
    return unicodedata.normalize("NFKC", value).strip()


# ---------------------------------------------------------------- the last line of defence: never stored


class ForbiddenText(TranslatedError):
    """A text about to be stored holds forbidden characters (a path that skipped the forms, e.g. an import)."""

    message = _l(
        "文書に書き込めない文字（%(chars)s）が含まれているため保存できません。その文字を削除してから保存してください。"
    )

    def __init__(self, where: str, chars: list[str]):
        super().__init__(chars=describe_characters(chars))
        self.where, self.chars = where, chars


def check_flush(session, _flush_context=None, _instances=None) -> None:
    """Before every flush: no new or changed string column may hold a forbidden character."""
    from sqlalchemy import String, inspect

    for obj in (*session.new, *session.dirty):
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            if not isinstance(attr.columns[0].type, String):
                continue
            values = (state.dict.get(attr.key),) if state.pending else state.attrs[attr.key].history.added
            for value in values or ():
                if isinstance(value, str) and (chars := forbidden_in(value)):
                    raise ForbiddenText(f"{state.mapper.class_.__name__}.{attr.key}", chars)


def guard_sessions() -> None:
    """Install check_flush on every SQLAlchemy session (the request's and the exports' own), once."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "before_flush", check_flush):
        event.listen(Session, "before_flush", check_flush)
