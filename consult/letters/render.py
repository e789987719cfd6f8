"""Build a request letter as DOCX from a Word template that staff can change themselves.

Design of the template (see letter_templates/build_default.py, which regenerates the default one):
- Page size, margins, header/footer (page number, letterhead) and the styles come from the template;
  nothing of that is set here. The typeface is the template's: the East Asian font of its Normal style
  (標準) is also written into every run, so Word never falls back to a theme font.
- The letter is inserted where the body holds a paragraph whose whole text is ``{{ content }}``
  (the only placeholder; it may be split into several runs by Word). Paragraphs before and after it stay.
  A template without the placeholder gets the letter appended at the end of its body, its empty
  paragraphs dropped.
- The title uses the template's Title style (表題) when there is one; the rest uses Normal. Alignment and
  indents (date right, title centred, first-line indents, hanging indents under 記, 以上 right) are set on
  the paragraphs, so they hold whatever the template's styles say.
- Characters Word cannot hold are removed first (consult.letters.document.clean_letter); every other
  character reaches the DOCX. Line breaks inside a text become line breaks (w:br) in its paragraph.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import BinaryIO

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt
from docx.text.paragraph import Paragraph

from consult.letters import numbering
from consult.letters.document import END_MARK, RECORD_MARK, PrintedLetter, clean_letter, outline

PLACEHOLDER = "content"
PLACEHOLDERS = frozenset({PLACEHOLDER})
PLACEHOLDER_RE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
FALLBACK_FONT = "ＭＳ 明朝"
FALLBACK_SIZE = Pt(10.5)

Template = str | os.PathLike | bytes | BinaryIO


def default_template_path() -> Path:
    """letter_templates/default.docx of the checkout, or the copy installed with the package."""
    here = Path(__file__).resolve().parents[2] / "letter_templates" / "default.docx"
    if here.exists():
        return here
    from importlib.resources import files

    return Path(str(files("consult.letter_templates") / "default.docx"))


def render_letter(letter: PrintedLetter, template_path: Template | None = None) -> bytes:
    """The letter as DOCX bytes; characters Word cannot hold are dropped (see clean_letter)."""
    return render_letter_report(letter, template_path)[0]


def render_letter_report(letter: PrintedLetter, template_path: Template | None = None) -> tuple[bytes, list[str]]:
    """The DOCX bytes and the distinct characters removed, so the screen can say what was dropped."""
    letter, removed = clean_letter(letter)
    document = open_template(default_template_path() if template_path is None else template_path)
    _Writer(document, letter).write()
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), removed


def open_template(template: Template):
    """A python-docx Document from a path, bytes or a binary file."""
    if isinstance(template, bytes | bytearray):
        template = io.BytesIO(template)
    elif isinstance(template, os.PathLike):
        template = os.fspath(template)
    return Document(template)


def paragraph_text(p_element) -> str:
    """The text of a w:p as Word shows it, joining the runs Word splits a placeholder into."""
    parts = []
    for el in p_element.iter(qn("w:t"), qn("w:tab"), qn("w:br")):
        if el.tag == qn("w:t"):
            parts.append(el.text or "")
        else:
            parts.append("\t" if el.tag == qn("w:tab") else "\n")
    return "".join(parts)


def find_placeholder(document):
    """The body paragraph (possibly in a table cell) that is exactly ``{{ content }}``, or None."""
    for p in document.element.body.iter(qn("w:p")):
        match = PLACEHOLDER_RE.fullmatch(paragraph_text(p).strip())
        if match and match.group(1) == PLACEHOLDER:
            return p
    return None


def east_asian_font(document) -> str:
    """The template's Mincho: Normal style's East Asian font, else the document defaults'."""
    candidates = [document.styles["Normal"].element.rPr] if "Normal" in document.styles else []
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        candidates.append(defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}"))
    for r_pr in candidates:
        r_fonts = r_pr.find(qn("w:rFonts")) if r_pr is not None else None
        if r_fonts is not None and r_fonts.get(qn("w:eastAsia")):
            return r_fonts.get(qn("w:eastAsia"))
    return FALLBACK_FONT


def font_size(document):
    """The body size (one character = one em), from Normal or the document defaults."""
    if "Normal" in document.styles and document.styles["Normal"].font.size:
        return document.styles["Normal"].font.size
    sz = document.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:sz')}")
    if sz is not None and sz.get(qn("w:val"), "").isdigit():
        return Pt(int(sz.get(qn("w:val"))) / 2)
    return FALLBACK_SIZE


class _Writer:
    """Adds the letter's paragraphs at the placeholder (or the end of the body)."""

    def __init__(self, document, letter: PrintedLetter):
        self.document = document
        self.letter = letter
        self.font = east_asian_font(document)
        self.em = font_size(document)
        self.anchor = find_placeholder(document)
        self.has_title_style = any(s.name == "Title" for s in document.styles)
        if self.anchor is None:
            body = document.element.body
            for p in list(body.iterchildren(qn("w:p"))):
                if not paragraph_text(p).strip():
                    body.remove(p)

    def paragraph(self, text: str = "", align=None, style: str | None = None) -> Paragraph:
        if self.anchor is not None:
            par = Paragraph(self.anchor, self.document._body).insert_paragraph_before(style=style)
        else:
            par = self.document.add_paragraph(style=style)
        if text:
            self.run(par, text)
        if align is not None:
            par.alignment = align
        return par

    def run(self, par: Paragraph, text: str, east_asian_hint: bool = False):
        run = par.add_run(text)
        r_fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
        r_fonts.set(qn("w:eastAsia"), self.font)
        if east_asian_hint:  # ① and ● are "ambiguous": print them full-width with the Mincho face
            r_fonts.set(qn("w:hint"), "eastAsia")
        return run

    def indented(self, text: str, first_line: int | float) -> Paragraph:
        """Prose with a first-line indent of one character, justified as Japanese letters are."""
        par = self.paragraph(text, WD_ALIGN_PARAGRAPH.JUSTIFY)
        par.paragraph_format.first_line_indent = int(self.em * first_line)
        return par

    def hanging(self, label: str, text: str) -> Paragraph:
        """Label then text; wrapped lines start under the text, not under the label."""
        par = self.paragraph(align=WD_ALIGN_PARAGRAPH.JUSTIFY)
        if label:
            self.run(par, label, east_asian_hint=True)
        self.run(par, text)
        width = int(self.em * numbering.width_em(label))
        par.paragraph_format.left_indent = width
        par.paragraph_format.first_line_indent = -width
        return par

    def write(self) -> None:
        letter = self.letter
        right, centre = WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER
        self.paragraph(letter.date_text, right)
        for line in letter.addressee.lines():
            self.paragraph(line, WD_ALIGN_PARAGRAPH.LEFT)
        for line in letter.sender_lines():
            self.paragraph(line, right)
        self.paragraph()
        self.paragraph(letter.title, centre, style="Title" if self.has_title_style else None)
        self.paragraph()
        for text in letter.body_paragraphs():
            self.indented(text, 1)
        entries = outline(letter)
        if entries:
            self.paragraph()
            self.paragraph(RECORD_MARK, centre).paragraph_format.keep_with_next = True
            self.paragraph().paragraph_format.keep_with_next = True
            first = True
            for entry in entries:
                if entry.level == 1 and not first:
                    self.paragraph()
                par = self.hanging(entry.label, entry.text)
                if entry.is_heading:
                    par.paragraph_format.keep_with_next = True
                first = False
            par.paragraph_format.keep_with_next = True  # 以上 never alone on the last page
            self.paragraph().paragraph_format.keep_with_next = True
            self.paragraph(END_MARK, right)
        if self.anchor is not None:
            self.anchor.getparent().remove(self.anchor)
