"""Regenerate letter_templates/default.docx, the Word template request letters are built from.

Run from the repository root:  python letter_templates/build_default.py

The template holds what staff may change without a programmer (open it in Word, edit, save as .docx):
A4 portrait and margins (page setup), the typeface and size (style 標準/Normal), the title's look
(style 表題/Title), the footer with the page number (from page 2 on), and a letterhead if wanted.
The body holds one paragraph ``{{ content }}``: the letter is inserted there (see consult/letters/render.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

MINCHO = "ＭＳ 明朝"  # on every Japanese Windows/Mac Word; LibreOffice maps it to IPAex明朝 via fontconfig
BODY_SIZE = Pt(10.5)
TITLE_SIZE = Pt(14)
LINE_PITCH = Pt(18)
PLACEHOLDER = "{{ content }}"
OUT = Path(__file__).resolve().parent / "default.docx"

_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def set_fonts(r_pr, name: str) -> None:
    """Latin and East Asian font both Mincho; theme fonts removed, or Word would prefer them."""
    r_fonts = r_pr.get_or_add_rFonts()
    for attr in _THEME_ATTRS:
        r_fonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        r_fonts.set(qn(attr), name)


def set_language(r_pr) -> None:
    """Japanese as the East Asian language, so Word applies Japanese line breaking (禁則処理)."""
    lang = r_pr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        r_pr.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "ja-JP")


def add_page_field(paragraph) -> None:
    """A PAGE field (complex field form, read by Word and LibreOffice alike)."""

    def fld_char(kind: str):
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        return el

    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    for element in (fld_char("begin"), instr, fld_char("separate")):
        paragraph.add_run()._r.append(element)
    paragraph.add_run("1")
    paragraph.add_run()._r.append(fld_char("end"))


def build() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(25), Mm(25)
    section.left_margin, section.right_margin = Mm(30), Mm(30)
    section.header_distance, section.footer_distance = Mm(12), Mm(12)

    # Defaults for every style, then Normal itself.
    doc_defaults_rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(doc_defaults_rpr, MINCHO)
    set_language(doc_defaults_rpr)
    for size_tag in ("w:sz", "w:szCs"):
        doc_defaults_rpr.find(qn(size_tag)).set(qn("w:val"), str(int(BODY_SIZE.pt * 2)))
    spacing = (
        doc.styles.element.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    )
    for attr, value in (("w:after", "0"), ("w:line", "240")):
        spacing.set(qn(attr), value)

    normal = doc.styles["Normal"]
    set_fonts(normal.element.get_or_add_rPr(), MINCHO)
    normal.font.size = BODY_SIZE
    fmt = normal.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = LINE_PITCH  # about 36 lines a page, as Japanese Word's default grid gives
    fmt.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
    fmt.widow_control = True

    title = doc.styles["Title"]
    for child in list(title.element):  # drop the stock border, colour, spacing and theme font
        if child.tag in (qn("w:pPr"), qn("w:rPr")):
            title.element.remove(child)
    set_fonts(title.element.get_or_add_rPr(), MINCHO)
    title.font.size = TITLE_SIZE
    title.font.bold = False
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_before = title.paragraph_format.space_after = Pt(0)

    # Page number centred in the footer from page 2 on (a one-page letter carries none).
    section.different_first_page_header_footer = True
    footer_par = section.footer.paragraphs[0]
    footer_par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add_page_field(footer_par)

    doc.add_paragraph(PLACEHOLDER)
    package = doc.part.package  # python-docx's stock thumbnail would show a foreign page in file previews
    for r_id, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del package.rels[r_id]
    doc.core_properties.title = "要請書テンプレート"
    doc.core_properties.author = ""
    return doc


def main(out: Path = OUT) -> Path:
    build().save(out)
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
