"""The parts of a request letter as printed, plain data independent of the database and of Word.

PrintedLetter and PrintedAddressee are what one DOCX shows; the stored campaign, letter and addressee are the
models in consult.letters.models, which consult.letters.compose turns into these.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from consult.core.text import strip_forbidden
from consult.letters import numbering

RECORD_MARK = "記"
END_MARK = "以上"


@dataclass
class PrintedAddressee:
    """Who the letter goes to: a title alone (総務大臣), an organisation and title, and/or a person."""

    organisation: str = ""
    title: str = ""
    name: str = ""
    honorific: str = "様"

    def lines(self) -> list[str]:
        """Organisation, title, then the name with the honorific; without a name the honorific follows the title."""
        lines = [text for text in (self.organisation, self.title) if text]
        if self.name:
            lines.append("　" + _join(self.name, self.honorific))
        elif lines and self.honorific:
            lines[-1] = _join(lines[-1], self.honorific)
        return lines


@dataclass
class Section:
    """A numbered section heading (…について) with its request items (…こと。); heading '' = top-level items."""

    heading: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class PrintedLetter:
    """Everything printed on one letter to one addressee."""

    date_text: str
    addressee: PrintedAddressee
    sender_org: str
    sender_title: str
    sender_name: str
    title: str
    greeting: str = ""
    paragraphs: list[str] = field(default_factory=list)
    extra_paragraphs: list[str] = field(default_factory=list)  # aimed at this addressee only
    closing: str = ""
    sections: list[Section] = field(default_factory=list)
    numbering: str = numbering.DEFAULT
    fullwidth_digits: bool = True

    def sender_lines(self) -> list[str]:
        """Organisation, then title and name on one line."""
        lines = [self.sender_org] if self.sender_org else []
        second = _join(self.sender_title, self.sender_name)
        if second:
            lines.append(second)
        return lines

    def body_paragraphs(self) -> list[str]:
        """Greeting, background, the paragraph for this addressee and the closing sentence, in print order."""
        return [p for p in (self.greeting, *self.paragraphs, *self.extra_paragraphs, self.closing) if p]


@dataclass(frozen=True)
class Entry:
    """One numbered line under 記: its label ('' when unnumbered), text and outline level (1 or 2)."""

    level: int
    label: str
    text: str
    is_heading: bool


def outline(letter: PrintedLetter) -> list[Entry]:
    """Number the sections and items the way the letter's style asks.

    Two-level styles: a section with a heading is numbered at level 1 and its items at level 2 (restarting
    per section); the items of a section without a heading are level-1 entries. Flat styles: all items are
    numbered at level 1 in one run; a heading, if any, is printed without a number.
    """
    style, wide = letter.numbering, letter.fullwidth_digits
    two_level = numbering.is_two_level_style(style)
    entries: list[Entry] = []
    top = 0
    for section in letter.sections:
        if section.heading and two_level:
            top += 1
            entries.append(Entry(1, numbering.prefix(style, 1, top, fullwidth=wide), section.heading, True))
            for n, item in enumerate(section.items, start=1):
                entries.append(Entry(2, numbering.prefix(style, 2, n, fullwidth=wide), item, False))
            continue
        if section.heading:
            entries.append(Entry(1, "", section.heading, True))
        for item in section.items:
            top += 1
            entries.append(Entry(1, numbering.prefix(style, 1, top, fullwidth=wide), item, False))
    return entries


def _join(*parts: str) -> str:
    return "　".join(p for p in parts if p)


# ---------------------------------------------------------------------------------------------------------------
# Characters Word cannot hold: the one rule is consult.core.text.is_forbidden


def clean_letter(letter: PrintedLetter) -> tuple[PrintedLetter, list[str]]:
    """A copy of the letter safe to write into a DOCX, and the distinct characters removed (first seen first)."""
    removed: list[str] = []

    def c(text: str) -> str:
        result, dropped = strip_forbidden(text or "")
        removed.extend(dropped)
        return result

    addressee = dataclasses.replace(
        letter.addressee, **{f.name: c(getattr(letter.addressee, f.name)) for f in dataclasses.fields(PrintedAddressee)}
    )
    copy = dataclasses.replace(
        letter,
        date_text=c(letter.date_text),
        addressee=addressee,
        sender_org=c(letter.sender_org),
        sender_title=c(letter.sender_title),
        sender_name=c(letter.sender_name),
        title=c(letter.title),
        greeting=c(letter.greeting),
        paragraphs=[c(p) for p in letter.paragraphs],
        extra_paragraphs=[c(p) for p in letter.extra_paragraphs],
        closing=c(letter.closing),
        sections=[Section(c(s.heading), [c(i) for i in s.items]) for s in letter.sections],
    )
    return copy, list(dict.fromkeys(removed))


def sample_letter() -> PrintedLetter:
    """A short two-level letter used to try a template before it is accepted."""
    return PrintedLetter(
        date_text="2025年3月●日",
        addressee=PrintedAddressee(title="総務大臣", name="村上誠一郎", honorific="様"),
        sender_org="全日本自治団体労働組合",
        sender_title="中央執行委員長",
        sender_name="石上千博",
        title="自治体DXの推進に関する要請書",
        greeting="日頃より市民生活の向上にむけ、ご尽力いただいている貴職に敬意を表します。",
        paragraphs=["さて、（試し作成のための見本の文章です。）"],
        closing="つきましては、以下の通り要請します。",
        sections=[
            Section("情報システムの標準化・共通化について", ["国費による確実な財政支援を行うこと。"]),
            Section("健康保険証とマイナンバーカードの一体化について", ["国として支援を充実すること。"]),
        ],
    )
