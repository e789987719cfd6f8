"""Read a request letter (要請書) from a DOCX file into plain data, the way its parts are laid out on the page.

``import_docx(data)`` returns an ImportedLetter; ``ImportedLetter.to_letter()`` gives the app's plain-data PrintedLetter
(consult.letters.document), which render.py writes again. For any letter the app wrote, writing
``import_docx(render_letter(letter)).to_letter()`` gives the same paragraphs (tests/test_letters_import_roundtrip.py).

How a paragraph is placed (see DOMAIN.md, "Anatomy of a request letter"):
- the **date** is the first of the first lines that reads as a date: 2025年3月17日, 令和7年3月17日, 令和元年, full-width
  digits, ● (or a blank) for a number not fixed yet, or a lone ●;
- the **addressee** ends with the first line that ends in 様 or 殿; up to two lines above it belong to it
  (organisation, title), and the name is on the honorific's line (title and name on one line or two);
- the **title** is the first centred line after them (alignment or the Title style) with the centred lines right
  after it (a title over two lines); without one, the first line that ends like a title (…要請書, …について);
- the **sender** is what stands between the addressee and the title (organisation, then title and name);
- the **body** follows the title up to 記: the first paragraph is the greeting (unless it starts with さて), the last
  one the closing sentence when it ends like one (…要請します。); typed indents (「　」) are removed;
- under **記**, every paragraph numbered by a typed label (1. / １． / 1 . / （１） / (1) / ⑴ / ① …) or by Word's
  automatic numbering (w:numPr, computed by consult.letters.docx_numbering) is a request item; its outline level
  is the order in which the label kinds first appear (１． then （１） then ①), so typed and automatic numbers mix.
  An unnumbered paragraph continues the item above it (or is an unnumbered heading in a flat list); **以上**
  ends the list.
- Names and titles spread with spaces (均等割り, half- or full-width) are joined again and flagged as spread.
- Whatever cannot be placed goes into ``unplaced`` with its paragraph index and text; nothing is dropped
  except empty paragraphs. Doubts go into ``warnings`` (Japanese, for the preview).
Hostile input is refused before python-docx parses anything (consult.core.zipguard), with a Japanese message.
"""

from __future__ import annotations

import dataclasses
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn

from consult.core import zipguard
from consult.letters import dates, numbering
from consult.letters.document import END_MARK, RECORD_MARK, PrintedAddressee, PrintedLetter, Section
from consult.letters.docx_numbering import WordNumbering
from consult.letters.models import HONORIFICS

KIND = "DOCX ファイル"


class DocxImportError(ValueError):
    """The file cannot be read as a letter; the message is Japanese, for the user."""


# ---------------------------------------------------------------------------------------------------------------
# What comes out


@dataclass
class ImportedDate:
    """The printed date, and its value as consult.letters.dates writes it (None where ● stands)."""

    text: str
    style: str = dates.WESTERN
    year: int | None = None  # western calendar year, also for an era date
    month: int | None = None
    day: int | None = None  # None: the day is not fixed yet (●)
    fullwidth: bool = False
    problem: str = ""  # a date that does not exist (2月30日, 平成32年), in Japanese


@dataclass
class ImportedSender:
    organisation: str = ""
    title: str = ""
    name: str = ""
    spread: bool = False
    lines: list[str] = field(default_factory=list)


@dataclass
class ImportedItem:
    """One entry under 記: its outline level (1 = sections or a flat list), label as printed, and text."""

    index: int  # paragraph index in the document (0-based, tables included)
    level: int
    label: str
    text: str
    automatic: bool = False  # numbered by Word, not typed
    heading: bool = False  # a section heading (…について), not a request


@dataclass
class Unplaced:
    """A paragraph the reader could not place: kept, shown, never dropped."""

    index: int
    text: str
    reason: str


@dataclass
class ImportedLetter:
    date: ImportedDate | None = None
    addressee: PrintedAddressee = field(default_factory=lambda: PrintedAddressee(honorific=""))
    addressee_lines: list[str] = field(default_factory=list)  # the block as printed
    sender: ImportedSender = field(default_factory=ImportedSender)
    title: str = ""
    title_lines: list[str] = field(default_factory=list)
    greeting: str = ""
    paragraphs: list[str] = field(default_factory=list)
    closing: str = ""
    has_record_mark: bool = False
    has_end_mark: bool = False
    items: list[ImportedItem] = field(default_factory=list)
    numbering: str | None = None  # one of consult.letters.numbering.STYLES, None when the labels fit none
    label_kinds: list[str] = field(default_factory=list)  # per level: dot, paren, circle, or what Word used
    fullwidth_digits: bool = True
    unplaced: list[Unplaced] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def sections(self) -> list[Section]:
        """The items as the app's sections: headings with their requests, or one flat list."""
        return sections_of(self.items, numbering.is_two_level_style(self.numbering_style()))

    def numbering_style(self) -> str:
        """The app's numbering style for this letter (the default one when the labels fit none)."""
        if self.numbering:
            return self.numbering
        return numbering.DEFAULT if len(self.label_kinds) > 1 else numbering.DOT

    def to_letter(self) -> PrintedLetter:
        """The app's plain-data letter, ready for render_letter."""
        s = self.sender
        return PrintedLetter(
            date_text=self.date.text if self.date else "",
            addressee=dataclasses.replace(self.addressee),
            sender_org=s.organisation,
            sender_title=s.title,
            sender_name=s.name,
            title=self.title,
            greeting=self.greeting,
            paragraphs=list(self.paragraphs),
            closing=self.closing,
            sections=self.sections(),
            numbering=self.numbering_style(),
            fullwidth_digits=self.fullwidth_digits,
        )

    def as_dict(self) -> dict:
        """JSON-ready, for a preview or the API."""
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------------------------
# Text patterns

_WS = " \u3000\t"
_DIGITS = "[0-9０-９]"
_KANJI_NUMBER = "[〇一二三四五六七八九十]*[一二三四五六七八九十][〇一二三四五六七八九十]*"  # 七, 十七, 二〇二五
_HOLE = "(?:[●○〇]+|[ \u3000]*)"  # a number not fixed yet: ●, or left blank
_DATE_RE = re.compile(
    rf"(?P<era>令和|平成|昭和|大正|明治)?[ \u3000]*(?P<year>元|{_DIGITS}{{1,4}}|{_KANJI_NUMBER}|{_HOLE})[ \u3000]*年"
    rf"[ \u3000]*(?P<month>{_DIGITS}{{1,2}}|{_KANJI_NUMBER}|{_HOLE})[ \u3000]*月"
    rf"[ \u3000]*(?P<day>{_DIGITS}{{1,2}}|{_KANJI_NUMBER}|{_HOLE})[ \u3000]*日(?:[ \u3000]*[（(][月火水木金土日][）)])?"
)
_ONLY_HOLE = re.compile(r"[●○〇]+")
_TITLE_END = re.compile(
    r"(大臣|長官|次官|長|総裁|代表|理事|知事|委員|議員|議長|主席|担当|官|代理|総理|首相|頭取|社長|管理者|顧問|参与|殿下)$"
)
_TITLE_WORD = re.compile(r"(大臣|長官|次官|委員長|理事長|会長|社長|市長|町長|村長|知事|総裁|代表|議長|局長|部長|課長)")
_ORG_END = re.compile(
    r"(省|庁|党|会|組合|連合|機構|法人|センター|本部|局|部|課|室|都|道|府|県|市|区|町|村|所|院|社|団|財団|銀行|大学)$"
)
_LETTER_TITLE = re.compile(r"(要請書|要望書|要求書|申入書|申し入れ書?|意見書|提言書?|（要請）|（要望）|について)$")
_CLOSING = re.compile(
    r"((要請|要望|要求|申し入れ|申入れ|お願い)(いた|致)?します|(要請|要望|お願い)申し上げます|求めます)。$"
)
_STAMP = re.compile(r"[（(]?公印省略[）)]?")
_OPENING_WORDS = ("拝啓", "謹啓", "前略")


def _starts_blank(text: str) -> bool:
    return text[:1] in (" ", "\u3000", "\t") and text != ""


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _number(text: str) -> int:
    return int(unicodedata.normalize("NFKC", text))


def parse_date(text: str) -> ImportedDate | None:
    """The date a line stands for, or None when the line is no date; ● (or a blank) leaves that part None."""
    text = text.strip(_WS)
    if _ONLY_HOLE.fullmatch(text):
        return ImportedDate(text)
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    era, year_text, month_text, day_text = match.group("era", "year", "month", "day")
    fullwidth = any("０" <= ch <= "９" for ch in text)
    found = ImportedDate(text, dates.ERA if era else dates.WESTERN, fullwidth=fullwidth)
    found.month, found.day = _date_number(month_text), _date_number(day_text)
    era_year = 1 if year_text == "元" else _date_number(year_text)
    if era_year is not None:
        found.year = _era_start(era).year + era_year - 1 if era else era_year
    found.problem = _date_problem(found, era)
    return found


def _date_number(text: str) -> int | None:
    """17, １７ or 十七 (二〇二五 digit by digit); None for ● or a blank."""
    if re.fullmatch(f"{_DIGITS}+", text):
        return _number(text)
    if not re.fullmatch(_KANJI_NUMBER, text):
        return None
    digit = "〇一二三四五六七八九".find
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (digit(tens) if tens else 1) * 10 + (digit(ones) if ones else 0)
    return int("".join(str(digit(ch)) for ch in text))


def _era_start(era: str):
    return next(start for start, name in dates.ERAS if name == era)


def _date_problem(found: ImportedDate, era: str | None) -> str:
    if found.year is None or found.month is None:
        return ""
    try:
        day = dates._validate(found.year, found.month, found.day)
    except ValueError as error:
        return str(error)
    if era and found.day is not None:
        if day < _era_start(era) or (day >= dates.FIRST_SUPPORTED and dates.era_of(day)[0] != era):
            return f"{found.text} は{era}の期間にない日付です。"
    return ""


# ---------------------------------------------------------------------------------------------------------------
# Labels of request items


@dataclass(frozen=True)
class Label:
    """A number label at the start of a text: its kind (dot, paren, circle), value and width."""

    kind: str
    number: int
    fullwidth: bool | None  # None: the label says nothing about digit width (①, ⑴)
    text: str  # the label as printed, without the space after it
    rest: str  # the text after the label and its spaces


_DOT_LABEL = re.compile(r"([0-9０-９]{1,3})[ \u3000]*(．|\.(?![0-9]))")
_PAREN_LABEL = re.compile(r"([（(])[ \u3000]*([0-9０-９]{1,3})[ \u3000]*[）)]")
_CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}
_CIRCLED.update({chr(0x3251 + i): i + 21 for i in range(15)})
_CIRCLED.update({chr(0x32B1 + i): i + 36 for i in range(15)})
_PAREN_DIGITS = {chr(0x2474 + i): i + 1 for i in range(20)}  # ⑴..⒇
_FULLSTOP_DIGITS = {chr(0x2488 + i): i + 1 for i in range(20)}  # ⒈..⒛
_KANA = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲン"
_KANJI = "〇一二三四五六七八九十"
_OTHER_LABELS = (
    ("rparen", re.compile(r"([0-9０-９]{1,3})[)）]")),  # 1)
    ("kana-paren", re.compile(rf"[（(]([{_KANA}])[）)]")),  # （ア）
    ("kana", re.compile(rf"([{_KANA}])[.．、]")),  # ア．
    ("kanji", re.compile(rf"([{_KANJI}])[、．.]")),  # 一、
)
LABEL_EXAMPLES = {
    "dot": "１．",
    "paren": "（１）",
    "circle": "①",
    "rparen": "1)",
    "kana-paren": "（ア）",
    "kana": "ア．",
    "kanji": "一、",
}


def parse_label(text: str) -> Label | None:
    """The typed number label a text starts with (「１．」「1 .」「（１）」「(1)」「⑴」「①」), or None."""
    head = text.lstrip(_WS)
    first = head[:1]
    if first in _CIRCLED:
        return Label("circle", _CIRCLED[first], None, first, head[1:].lstrip(_WS))
    if first in _PAREN_DIGITS:
        return Label("paren", _PAREN_DIGITS[first], None, first, head[1:].lstrip(_WS))
    if first in _FULLSTOP_DIGITS:
        return Label("dot", _FULLSTOP_DIGITS[first], None, first, head[1:].lstrip(_WS))
    match = _DOT_LABEL.match(head)
    if match:
        return Label("dot", _number(match.group(1)), match.group(2) == "．", match.group(0), _rest(head, match))
    match = _PAREN_LABEL.match(head)
    if match:
        return Label("paren", _number(match.group(2)), match.group(1) == "（", match.group(0), _rest(head, match))
    for kind, pattern in _OTHER_LABELS:  # labels people use that no numbering style of the app prints
        match = pattern.match(head)
        if match:
            value = match.group(1)
            number = _number(value) if value.isdigit() else _KANA.find(value) + 1 or _KANJI.find(value)
            return Label(kind, number, None, match.group(0), _rest(head, match))
    return None


def _rest(text: str, match: re.Match) -> str:
    return text[match.end() :].lstrip(_WS)


# ---------------------------------------------------------------------------------------------------------------
# Names and titles on a line


@dataclass(frozen=True)
class _Field:
    text: str
    spread: bool


def line_fields(line: str) -> list[_Field]:
    """The words of a line separated by spaces; characters spread with spaces (均等割り) become one word.

    A run of single characters joined by the same gap is one spread word when it has three or more characters,
    or two joined by one half-width space (村 上). 「林　太」 (two characters, full-width space) stays two words.
    """
    parts = re.split(r"(\s+)", line.strip())
    if parts == [""]:
        return []
    tokens, gaps = parts[0::2], parts[1::2]
    fields: list[_Field] = []
    i = 0
    while i < len(tokens):
        j = i
        if len(tokens[i]) == 1:
            while j + 1 < len(tokens) and len(tokens[j + 1]) == 1 and gaps[j] == gaps[i]:
                j += 1
        run = j - i + 1
        if run >= 3 or (run == 2 and gaps[i] == " "):
            fields.append(_Field("".join(tokens[i : j + 1]), True))
            i = j + 1
        else:
            fields.append(_Field(tokens[i], False))
            i += 1
    return fields


def _role(text: str) -> str:
    """title (…大臣, …長), org (…省, …会, …党) or other: a guess from how Japanese titles and bodies end."""
    if _TITLE_END.search(text):
        return "title"
    return "org" if _ORG_END.search(text) else "other"


def _split_title_name(text: str) -> tuple[str, str]:
    """「総務大臣村上誠一郎」 typed without a space: the title is up to the first title word, when a name follows."""
    match = _TITLE_WORD.search(text)
    if match and match.end() < len(text):
        return text[: match.end()], text[match.end() :]
    return "", text


def _person(fields: list[str]) -> tuple[str, str, str]:
    """(organisation, title, name) of words on one line: the name is what follows the last title (or body)."""
    roles = [_role(f) for f in fields]
    for wanted in ("title", "org"):
        if wanted in roles:
            last = len(roles) - 1 - roles[::-1].index(wanted)
            head, name = fields[: last + 1], "　".join(fields[last + 1 :])
            if wanted == "org":
                return "　".join(head), "", name
            return "　".join(head[:-1]), head[-1], name
    return "", fields[0], "　".join(fields[1:])


# ---------------------------------------------------------------------------------------------------------------
# Paragraphs as read from the DOCX


@dataclass
class _Para:
    index: int
    text: str
    align: str | None
    first_line: int  # twips; negative = hanging
    indented: bool  # a left indent
    title_style: bool
    spread_format: bool  # Word's own 均等割り: distributed alignment or fitText
    auto: object = None  # AutoLabel of Word's numbering

    @property
    def stripped(self) -> str:
        return self.text.strip()

    @property
    def centred(self) -> bool:
        return self.align == "center" or self.title_style

    @property
    def right(self) -> bool:
        return self.align == "right"


_CONTAINERS = {
    qn(t)
    for t in (
        "w:hyperlink",
        "w:ins",
        "w:smartTag",
        "w:sdt",
        "w:sdtContent",
        "w:fldSimple",
        "w:customXml",
        "w:moveTo",
        "w:bdo",
        "w:dir",
    )
}
_R, _T, _TAB, _BR, _CR = qn("w:r"), qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")
_NB_HYPHEN, _FIT = qn("w:noBreakHyphen"), qn("w:fitText")
_ALIGN = {
    "center": "center",
    "right": "right",
    "end": "right",
    "both": "justify",
    "distribute": "distribute",
    "left": "left",
    "start": "left",
}
_ALIGN.update({k: "justify" for k in ("mediumKashida", "highKashida", "lowKashida", "thaiDistribute")})
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _run_text(run) -> tuple[str, bool]:
    parts, fit = [], False
    for child in run:
        tag = child.tag
        if tag == _T:
            parts.append(child.text or "")
        elif tag == _TAB:
            parts.append("\t")
        elif tag == _BR:
            if child.get(qn("w:type")) in (None, "textWrapping"):
                parts.append("\n")
        elif tag == _CR:
            parts.append("\n")
        elif tag == _NB_HYPHEN:
            parts.append("-")
        elif tag == qn("w:rPr"):
            fit = child.find(_FIT) is not None
    return "".join(parts), fit


def _runs(element, out: list[str], fits: list[bool]) -> None:
    for child in element:
        if child.tag == _R:
            text, fit = _run_text(child)
            out.append(text)
            fits.append(fit and bool(text.strip()))
        elif child.tag in _CONTAINERS:
            _runs(child, out, fits)


class _Styles:
    """The paragraph styles' alignment, indents and numbering, through basedOn."""

    def __init__(self, styles_element):
        self.styles: dict[str, object] = {}
        self.default: str | None = None
        if styles_element is None:
            return
        for style in styles_element.iterchildren(qn("w:style")):
            if style.get(qn("w:type")) == "paragraph":
                style_id = style.get(qn("w:styleId"))
                self.styles[style_id] = style
                if style.get(qn("w:default")) in ("1", "true"):
                    self.default = style_id
        self._cache: dict[tuple[str | None, str], object] = {}

    def chain(self, style_id: str | None):
        seen = set()
        style_id = style_id or self.default
        while style_id and style_id in self.styles and style_id not in seen:
            seen.add(style_id)
            style = self.styles[style_id]
            yield style_id, style
            based = style.find(qn("w:basedOn"))
            style_id = based.get(qn("w:val")) if based is not None else None

    def p_pr(self, style_id: str | None, tag: str):
        """The first w:pPr child ``tag`` along the style chain (w:jc, w:ind, w:numPr)."""
        key = (style_id, tag)
        if key not in self._cache:
            self._cache[key] = next(
                (
                    el
                    for _sid, style in self.chain(style_id)
                    if (el := style.find(f"{qn('w:pPr')}/{qn(tag)}")) is not None
                ),
                None,
            )
        return self._cache[key]

    def is_title(self, style_id: str | None) -> bool:
        for sid, style in self.chain(style_id):
            name = style.find(qn("w:name"))
            if sid == "Title" or (name is not None and name.get(qn("w:val")) in ("Title", "表題")):
                return True
        return False


def _twips(ind, *names: str) -> int:
    for name in names:
        value = ind.get(qn(name)) if ind is not None else None
        if value is not None:
            try:
                return int(float(value))
            except ValueError:
                return 0
    return 0


def read_paragraphs(document) -> list[_Para]:
    """Every paragraph of the body in document order (tables and text boxes included), with what placing needs."""
    styles = _Styles(document.styles.element)
    numbering_el = None
    for rel in document.part.rels.values():
        if rel.reltype == RT.NUMBERING and not rel.is_external:
            numbering_el = rel.target_part.element
    counters = WordNumbering(numbering_el)
    paragraphs = []
    for p in document.element.body.iter(qn("w:p")):
        if any(True for _ in p.iterancestors(_MC_FALLBACK)):
            continue  # the VML copy of a text box already read in its mc:Choice
        p_pr = p.find(qn("w:pPr"))
        style_el = p_pr.find(qn("w:pStyle")) if p_pr is not None else None
        style_id = style_el.get(qn("w:val")) if style_el is not None else None

        def own(tag: str, p_pr=p_pr, style_id=style_id):
            el = p_pr.find(qn(tag)) if p_pr is not None else None
            return el if el is not None else styles.p_pr(style_id, tag)

        jc, ind, num_pr = own("w:jc"), own("w:ind"), own("w:numPr")
        runs: list[str] = []
        fits: list[bool] = []
        _runs(p, runs, fits)
        align = _ALIGN.get(jc.get(qn("w:val"))) if jc is not None else None
        first_line = _twips(ind, "w:firstLine", "w:firstLineChars") or -_twips(ind, "w:hanging", "w:hangingChars")
        para = _Para(
            index=len(paragraphs),
            text="".join(runs),
            align=align,
            first_line=first_line,
            indented=_twips(ind, "w:left", "w:start") > 0 or _twips(ind, "w:leftChars", "w:startChars") > 0,
            title_style=styles.is_title(style_id),
            spread_format=align == "distribute" or any(fits),
        )
        if num_pr is not None:
            num_id = num_pr.find(qn("w:numId"))
            ilvl = num_pr.find(qn("w:ilvl"))
            if num_id is not None:
                para.auto = counters.next_label(num_id.get(qn("w:val"), ""), _level_of(ilvl))
        paragraphs.append(para)
    return paragraphs


def _level_of(ilvl) -> int:
    try:
        return int(ilvl.get(qn("w:val"))) if ilvl is not None else 0
    except (TypeError, ValueError):
        return 0


# ---------------------------------------------------------------------------------------------------------------
# Entry point


def open_docx(data: bytes):
    """A python-docx Document, after the ZIP guard; a DocxImportError with a Japanese message otherwise."""
    if not isinstance(data, bytes | bytearray):
        raise DocxImportError("DOCX ファイルの中身（バイト列）を渡してください。")
    try:
        zipguard.check_zip(bytes(data))
    except zipguard.ZipRefused as refused:
        raise DocxImportError(str(refused)) from refused
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
    if "[Content_Types].xml" not in names or not any(n.startswith("word/") for n in names):
        raise DocxImportError(
            "Word 文書（.docx）ではありません。Excel や PowerPoint のファイルではないか確かめてください。"
        )
    try:
        return Document(io.BytesIO(data))
    except Exception as error:  # python-docx, lxml and zipfile all have their own errors for a broken file
        raise DocxImportError("DOCX ファイルが壊れているか、Word 文書として読めない形式です。") from error


def import_docx(data: bytes) -> ImportedLetter:
    """Read a request letter from DOCX bytes; raises DocxImportError (Japanese message) for a file it refuses."""
    return read_letter(read_paragraphs(open_docx(data)))


def read_letter(paragraphs: list[_Para]) -> ImportedLetter:
    return _Reader(paragraphs).read()


# ---------------------------------------------------------------------------------------------------------------
# Placing the paragraphs


class _Reader:
    def __init__(self, paragraphs: list[_Para]):
        self.paragraphs = paragraphs
        self.letter = ImportedLetter()

    def unplace(self, para: _Para, reason: str, text: str | None = None) -> None:
        self.letter.unplaced.append(Unplaced(para.index, para.text if text is None else text, reason))

    def read(self) -> ImportedLetter:
        paras = self.paragraphs
        record = next((i for i, p in enumerate(paras) if _compact(p.text) == RECORD_MARK and not p.auto), None)
        if record is None:
            closing = next((i for i, p in enumerate(paras) if i >= 3 and _CLOSING.search(p.text.rstrip(_WS))), None)
            start = (
                len(paras)
                if closing is None
                else next(
                    (i for i in range(closing + 1, len(paras)) if paras[i].first_line <= 0 and self.label_of(paras[i])),
                    len(paras),
                )
            )
            front, items_from = paras[:start], start
            if start < len(paras):
                self.letter.warnings.append("「記」の行がないため、最初の番号付きの段落から要請項目として読みました。")
        else:
            self.letter.has_record_mark = True
            front, items_from = paras[:record], record + 1
        end = next((i for i in range(items_from, len(paras)) if _compact(paras[i].text) == END_MARK), None)
        if end is not None:
            self.letter.has_end_mark = True
        elif record is not None:
            self.letter.warnings.append("「以上」の行がありません。最後の段落まで要請項目として読みました。")
        self.front([p for p in front if p.stripped or p.auto])
        self.items(paras[items_from : end if end is not None else len(paras)])
        for p in paras[end + 1 :] if end is not None else []:
            if p.stripped or p.auto:
                self.unplace(p, "「以上」より後の段落です。", self.full_text(p))
        self.letter.unplaced.sort(key=lambda u: u.index)
        return self.letter

    @staticmethod
    def full_text(p: _Para) -> str:
        return (p.auto.text + p.text) if p.auto and p.auto.text else p.text

    # -- front matter ------------------------------------------------------------------------------------------

    def front(self, paras: list[_Para]) -> None:
        date_k = next((k for k, p in enumerate(paras[:5]) if parse_date(self.full_text(p))), None)
        if date_k is not None:
            self.letter.date = parse_date(self.full_text(paras[date_k]))
            if self.letter.date.problem:
                self.letter.warnings.append(self.letter.date.problem)
        else:
            self.letter.warnings.append("日付の行が見つかりません。")
        after_date = date_k + 1 if date_k is not None else 0
        title_k = self.find_title(paras, after_date)
        limit = title_k if title_k is not None else len(paras)
        hon_k = next((k for k in range(limit) if k != date_k and self.honorific_of(paras[k].stripped)), None)
        if hon_k is not None and hon_k > after_date + 3:
            hon_k = None  # an honorific deep in the body is not the addressee block
        used = {date_k} - {None}
        if hon_k is not None:
            block = [hon_k]
            while len(block) < 3 and block[0] > 0 and block[0] - 1 != date_k and self.beside(paras[block[0] - 1]):
                block.insert(0, block[0] - 1)  # the organisation and title lines above the honorific's line
            self.read_addressee([paras[k] for k in block])
            sender_from = hon_k + 1
        else:
            self.letter.warnings.append("宛名の行（様・殿で終わる行）が見つかりません。")
            block = []
            while after_date + len(block) < limit and len(block) < 3 and self.left(paras[after_date + len(block)]):
                block.append(after_date + len(block))
            if block:
                self.read_addressee([paras[k] for k in block], honorific="")
            sender_from = after_date + len(block)
        used.update(block)
        if title_k is None:
            limit = next((k for k in range(sender_from, len(paras)) if self.prose(paras[k])), len(paras))
        sender = [k for k in range(sender_from, limit) if k not in used]
        self.letter.sender = self.sender([paras[k] for k in sender])
        used.update(sender)
        for k in range(limit):
            if k not in used:
                self.unplace(paras[k], "日付・宛名・差出人のどれとも読めない行です。", self.full_text(paras[k]))
        body_from = limit
        if title_k is not None:
            body_from = self.title(paras, title_k)
        else:
            self.letter.warnings.append("題名の行（中央揃え）が見つかりません。")
        self.body(paras[body_from:])

    def find_title(self, paras: list[_Para], start: int) -> int | None:
        centred = next((k for k in range(start, len(paras)) if paras[k].centred), None)
        if centred is not None:
            return centred
        return next(
            (
                k
                for k in range(start, len(paras))
                if _LETTER_TITLE.search(paras[k].stripped)
                and not self.honorific_of(paras[k].stripped)
                and not paras[k].right
            ),
            None,
        )

    @staticmethod
    def beside(p: _Para) -> bool:
        """Neither right-aligned (date, sender) nor centred (title): a line of the addressee block."""
        return not p.right and not p.centred

    def left(self, p: _Para) -> bool:
        """A short line on the left: part of an addressee block, not the sender, the title or the body."""
        return not p.right and not p.centred and not self.prose(p)

    @staticmethod
    def prose(p: _Para) -> bool:
        return not p.right and not p.centred and (p.first_line > 0 or _starts_blank(p.text) or len(p.stripped) > 40)

    @staticmethod
    def honorific_of(text: str) -> str:
        return next((h for h in HONORIFICS if text.endswith(h)), "")

    def read_addressee(self, paras: list[_Para], honorific: str | None = None) -> None:
        """Organisation, title and name of the block; spread (均等割り) when its title or name was spread."""
        honorific = self.honorific_of(paras[-1].stripped) if honorific is None else honorific
        last_text = paras[-1].text.rstrip()
        last_text = last_text[: len(last_text) - len(honorific)].rstrip() if honorific else last_text
        found = self.letter.addressee = PrintedAddressee(honorific=honorific)
        self.letter.addressee_lines = [p.text for p in paras]
        prev = [line_fields(p.text) for p in paras[:-1]]
        fields = line_fields(last_text)
        self.assign(found, prev, fields, _starts_blank(last_text))
        spread = {f.text for fs in (*prev, fields) for f in fs if f.spread}

        def words(text: str) -> list[str]:
            return [w for w in text.split("　") if len(w) > 1]  # one character says nothing about spreading

        def was_spread(text: str) -> bool:
            return bool(words(text)) and all(w in spread for w in words(text))

        found.spread = was_spread(found.title) or was_spread(found.name) or any(p.spread_format for p in paras)
        if found.spread and words(found.title) and not was_spread(found.title) and _role(found.title) != "title":
            # spreading covers title and name; an unspread word where the title would be is the organisation
            found.organisation = "　".join(w for w in (found.organisation, found.title) if w)
            found.title = ""

    def assign(self, found: PrintedAddressee, prev: list[list[_Field]], fields: list[_Field], indented: bool):
        words = [f.text for f in fields]
        prev_words = ["　".join(f.text for f in fs) for fs in prev]
        if indented or not words:
            found.name = "　".join(words)
            found.organisation, found.title = self.org_title(prev, prev_words)
            return
        if len(words) == 1:
            word = words[0]
            split_title, split_name = _split_title_name(word) if _role(word) == "other" else ("", word)
            if split_title:
                found.title, found.name, found.one_line = split_title, split_name, True
                found.organisation = "　".join(prev_words)
            elif len(prev_words) == 1 and _role(prev_words[0]) == "title" and _role(word) == "other":
                found.title, found.name = prev_words[0], word  # 総務大臣 / 村上誠一郎様 on its own line
            elif prev_words:
                found.organisation = "　".join(prev_words)
                found.title = word
            elif _role(word) == "org":
                found.organisation = word
            else:
                found.title = word
            return
        org, title, name = _person(words)
        found.organisation = "　".join(w for w in (*prev_words, org) if w)
        found.title, found.name, found.one_line = title, name, bool(name)

    @staticmethod
    def org_title(prev: list[list[_Field]], prev_words: list[str]) -> tuple[str, str]:
        if not prev_words:
            return "", ""
        if len(prev_words) >= 2:
            return "　".join(prev_words[:-1]), prev_words[-1]
        words = [f.text for f in prev[0]]
        if len(words) >= 2:
            org, title, name = _person(words)
            if title and not name:
                return org, title
            return words[0], "　".join(words[1:])
        return (words[0], "") if _role(words[0]) == "org" else ("", words[0])

    def sender(self, paras: list[_Para]) -> ImportedSender:
        kept = []
        for p in paras:
            if _STAMP.fullmatch(_compact(p.text)):
                self.unplace(p, "「公印省略」の行です（この要請書には載りません）。")
            elif len(kept) < 3:
                kept.append(p)
            else:
                self.unplace(p, "差出人の行が多すぎます（3 行まで）。")
        found = ImportedSender(lines=[p.text for p in kept])
        if not kept:
            return found
        fields = [line_fields(p.text) for p in kept]
        found.spread = any(f.spread for fs in fields for f in fs) or any(p.spread_format for p in kept)
        words = [[f.text for f in fs] for fs in fields]
        last = words[-1]
        if len(kept) == 1:
            if len(last) == 1:
                if _role(last[0]) == "title":
                    found.title = last[0]
                else:
                    found.organisation = last[0]
            else:
                found.organisation, found.title, found.name = self.title_name(last)
            return found
        found.organisation = "　".join(words[0])
        middle = ["　".join(w) for w in words[1:-1]]
        org, found.title, found.name = self.title_name(last)
        if middle and not found.title and len(last) == 1:
            found.title = middle.pop()
        for p, text in zip(kept[1:-1], middle, strict=False):
            self.unplace(p, "差出人の行として読めませんでした。", text)
        if org:
            found.organisation = "　".join(w for w in (found.organisation, org) if w)
        return found

    @staticmethod
    def title_name(words: list[str]) -> tuple[str, str, str]:
        """(organisation, title, name) of a sender line: without a title word, the first word is the title."""
        if len(words) == 1:
            title, name = _split_title_name(words[0]) if _role(words[0]) != "title" else (words[0], "")
            return "", title, name
        roles = [_role(w) for w in words]
        if "title" in roles:
            last = len(roles) - 1 - roles[::-1].index("title")
            return "　".join(words[:last]), words[last], "　".join(words[last + 1 :])
        return "", words[0], "　".join(words[1:])

    def title(self, paras: list[_Para], title_k: int) -> int:
        k = title_k
        lines = []
        while k < len(paras) and (k == title_k or paras[k].centred):
            lines.append(paras[k].text)
            k += 1
        self.letter.title_lines = lines
        self.letter.title = _join_lines([_despread(part) for line in lines for part in line.split("\n")])
        return k

    def body(self, paras: list[_Para]) -> None:
        texts = []
        for p in paras:
            if p.centred or p.right:
                self.unplace(p, "本文の位置にある中央揃え・右寄せの行です。", self.full_text(p))
            else:
                texts.append(self.full_text(p) if p.first_line > 0 and not p.auto else self.full_text(p).strip())
        if len(texts) >= 2 and texts[0].strip(_WS) in _OPENING_WORDS:
            texts[:2] = [texts[0].strip(_WS) + "　" + texts[1]]
        if texts and _CLOSING.search(texts[-1].rstrip(_WS)):
            self.letter.closing = texts.pop()
        if texts and not texts[0].startswith(("さて", "つきましては")):
            self.letter.greeting = texts.pop(0)
        self.letter.paragraphs = texts

    # -- under 記 ------------------------------------------------------------------------------------------------

    @staticmethod
    def label_of(p: _Para) -> tuple[str, Label | None, str] | None:
        """(label as printed, Label when it is one of ours, text) of a numbered paragraph; None when unnumbered."""
        if p.auto is not None and p.auto.text:
            return p.auto.text, parse_label(p.auto.text + " "), p.text.strip(_WS)
        label = parse_label(p.text)
        return (label.text, label, label.rest.rstrip(_WS)) if label else None

    def items(self, paras: list[_Para]) -> None:
        entries: list[tuple[_Para, tuple | None]] = []
        for p in paras:
            numbered = self.label_of(p)
            if numbered is None and not p.stripped:
                continue
            if numbered is not None and not numbered[2].strip() and p.auto is not None:
                self.letter.warnings.append(f"番号だけの空の行（{numbered[0]}）を読み飛ばしました。")
                continue
            entries.append((p, numbered))
        keys: list[str] = []
        examples: dict[str, str] = {}
        last_circle = 0
        placed: list[tuple[_Para, str, str, str, bool]] = []  # para, key, label, text, automatic
        for p, numbered in entries:
            if numbered is None:
                placed.append((p, "", "", p.text, False))
                continue
            label_text, label, text = numbered
            key = self.kind_key(p, label)
            if label and key == "paren" and label.number >= 21 and label.number == last_circle + 1 and "circle" in keys:
                key = "circle"  # the app prints （21） after ⑳
            if key == "circle" and label:
                last_circle = label.number
            if key not in keys:
                keys.append(key)
                examples[key] = LABEL_EXAMPLES.get(key, label_text)
            placed.append((p, key, label_text, text, p.auto is not None))
        self.letter.label_kinds = keys
        self.set_numbering(keys, [n[1] for _p, n in entries if n and n[1]], examples)
        self.place_items(placed, keys)

    @staticmethod
    def kind_key(p: _Para, label: Label | None) -> str:
        """dot, paren or circle; for Word's other formats (イ, 一, bullets) their format and list level."""
        if label is not None:
            return label.kind
        return f"{p.auto.fmt}:{p.auto.abstract}:{p.auto.level}" if p.auto is not None else "other"

    def set_numbering(self, keys: list[str], labels: list[Label], examples: dict[str, str]) -> None:
        kinds = tuple(keys[:2])
        styles = {levels: style for style, levels in numbering.LEVELS.items()}
        self.letter.numbering = styles.get(kinds)
        if kinds and self.letter.numbering is None:
            seen = "／".join(examples[k] for k in kinds)
            chosen = dict(numbering.CHOICES)[self.letter.numbering_style()]
            self.letter.warnings.append(
                f"番号の付け方（{seen}）はこのアプリの書式にないため、「{chosen}」で付け直します。"
            )
        if len(keys) > 2:
            self.letter.warnings.append("3 段目以下の番号付きの行は、上の項目の本文に含めました。")
        votes = [label.fullwidth for label in labels[:200] if label.fullwidth is not None]
        if votes:
            self.letter.fullwidth_digits = votes.count(True) >= votes.count(False)

    def place_items(self, placed: list[tuple], keys: list[str]) -> None:
        flat = len(keys) <= 1
        items: list[ImportedItem] = []
        for p, key, label, text, automatic in placed:
            if key:
                level = keys.index(key) + 1
                if level > 2 and items:
                    items[-1].text += "\n" + (label + text if automatic else p.stripped)  # as printed
                    continue
                items.append(ImportedItem(p.index, min(level, 2), label, text, automatic))
                continue
            continuation = p.indented or _starts_blank(p.text)
            if items and (continuation or not flat):
                items[-1].text += "\n" + p.stripped
            elif flat:
                items.append(ImportedItem(p.index, 1, "", p.stripped, heading=True))
            else:
                self.unplace(p, "「記」のあとの番号のない段落で、どの項目に続くか分かりません。")
        if not flat:
            for n, item in enumerate(items):
                has_children = n + 1 < len(items) and items[n + 1].level == 2
                if item.level == 1 and (has_children or item.text.endswith("について")):
                    item.heading = True
        self.letter.items = items


def _despread(text: str) -> str:
    fields = line_fields(text)
    return "".join(f.text for f in fields) if fields and all(f.spread for f in fields) else text.strip()


def _join_lines(lines: list[str]) -> str:
    """Lines of a Japanese title joined without a space (a space only between two Latin letters or digits)."""
    out = ""
    for line in (line for line in lines if line):
        out += (" " if out and out[-1].isascii() and out[-1].isalnum() and line[0].isascii() else "") + line
    return out


def sections_of(items: list[ImportedItem], two_level: bool) -> list[Section]:
    """Headings with their requests (two levels), or requests under unnumbered headings (flat)."""
    sections: list[Section] = []
    current: Section | None = None
    for item in items:
        if item.heading:
            current = Section(item.text, [])
            sections.append(current)
        elif two_level and item.level == 1:
            if current is None or current.heading:
                current = Section("", [])
                sections.append(current)
            current.items.append(item.text)
        else:
            if current is None:
                current = Section("", [])
                sections.append(current)
            current.items.append(item.text)
    return sections
