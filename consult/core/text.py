"""Cleaning and checking the text people type or paste."""

import re
import unicodedata

# C0/C1 control characters except tab, line feed and carriage return; lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(value: str | None) -> str:
    """Normalise line ends and drop control characters no document can hold; keep everything else."""
    if value is None:
        return ""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value)


def has_control(value: str | None) -> bool:
    """Whether the text holds characters that would be removed by clean()."""
    return bool(value) and bool(_CONTROL.search(value.replace("\r", "")))


def paragraphs(value: str | None) -> list[str]:
    """Split a text into paragraphs on blank or single line breaks, dropping empty ones."""
    return [line.strip() for line in clean(value).split("\n") if line.strip()]


def normalise_number(value: str) -> str:
    """Full-width digits and punctuation typed by an input method become their plain forms."""
    return unicodedata.normalize("NFKC", value).strip()
