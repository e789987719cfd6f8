"""Rendering the seed's two letters as DOCX and reading them back; hostile text never breaks the document."""

import io
import unicodedata

import letter_fixture
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consult.core.text import describe_characters
from consult.letters.document import PrintedAddressee, PrintedLetter, Section, clean_letter
from consult.letters.render import default_template_path, render_letter, render_letter_report

TEMPLATE = default_template_path()
EM = Pt(10.5)


def _open(data: bytes):
    return Document(io.BytesIO(data))


def _texts(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.text]


def _by_text(document, text: str):
    return next(p for p in document.paragraphs if p.text == text)


def test_b1_paragraphs_in_print_order_with_two_level_numbering():
    data = letter_fixture.LETTERS["b1"]
    document = _open(render_letter(letter_fixture.letter("b1"), TEMPLATE))
    expected = [
        "2025年3月●日",
        "総務大臣",
        "　村上誠一郎　様",
        "全日本自治団体労働組合",
        "中央執行委員長　石上千博",
        "自治体DXの推進に関する要請書",
        data["greeting"],
        *data["body"],
        data["closing"],
        "記",
    ]
    for n, section in enumerate(data["items"], start=1):
        expected.append("１２３"[n - 1] + "．" + section["text"])
        expected.extend(f"（{'１２３４５６７'[i]}）{child}" for i, child in enumerate(section["children"]))
    expected.append("以上")
    assert _texts(document) == expected
    assert "{{" not in "".join(p.text for p in document.paragraphs)


def test_b2_is_a_flat_list_of_five_items():
    data = letter_fixture.LETTERS["b2"]
    texts = _texts(_open(render_letter(letter_fixture.letter("b2"), TEMPLATE)))
    assert texts[:6] == [
        "2025年3月●日",
        "法務大臣",
        "　鈴木馨祐　様",
        "全日本自治団体労働組合",
        "中央執行委員長　石上千博",
        "戸籍振り仮名法制化への対応に関する要請書",
    ]
    assert texts[6:10] == [data["greeting"], *data["body"], data["closing"]]
    record = texts.index("記")
    items = [f"{'１２３４５'[i]}．{item['text']}" for i, item in enumerate(data["items"])]
    assert texts[record + 1 :] == [*items, "以上"]


def test_alignment_of_date_title_record_mark_end_and_sender():
    document = _open(render_letter(letter_fixture.letter("b1"), TEMPLATE))
    assert _by_text(document, "2025年3月●日").alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert _by_text(document, "総務大臣").alignment in (None, WD_ALIGN_PARAGRAPH.LEFT)
    assert _by_text(document, "全日本自治団体労働組合").alignment == WD_ALIGN_PARAGRAPH.RIGHT
    assert _by_text(document, "中央執行委員長　石上千博").alignment == WD_ALIGN_PARAGRAPH.RIGHT
    title = _by_text(document, "自治体DXの推進に関する要請書")
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.style.name == "Title" and title.style.font.size > document.styles["Normal"].font.size
    assert _by_text(document, "記").alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert _by_text(document, "以上").alignment == WD_ALIGN_PARAGRAPH.RIGHT
    greeting = _by_text(document, letter_fixture.LETTERS["b1"]["greeting"])
    assert greeting.paragraph_format.first_line_indent == EM


def test_mincho_is_the_east_asian_font_of_styles_and_runs():
    document = _open(render_letter(letter_fixture.letter("b1"), TEMPLATE))
    normal_fonts = document.styles["Normal"].element.rPr.rFonts
    assert normal_fonts.get(qn("w:eastAsia")) == "ＭＳ 明朝"
    assert normal_fonts.get(qn("w:eastAsiaTheme")) is None
    runs = [r for p in document.paragraphs for r in p.runs]
    assert runs and all(r._r.rPr.rFonts.get(qn("w:eastAsia")) == "ＭＳ 明朝" for r in runs)


def test_a4_portrait_and_page_number_in_the_footer_from_page_two():
    document = _open(render_letter(letter_fixture.letter("b2"), TEMPLATE))
    section = document.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    assert section.different_first_page_header_footer
    instr = "".join(t.text for t in section.footer._element.iter(qn("w:instrText")))
    assert "PAGE" in instr
    assert not section.first_page_footer.paragraphs or not "".join(p.text for p in section.first_page_footer.paragraphs)


def test_items_and_headings_have_hanging_indents_of_their_label_width():
    document = _open(render_letter(letter_fixture.letter("b1"), TEMPLATE))
    item = next(p for p in document.paragraphs if p.text.startswith("（１）2026年度"))
    assert item.paragraph_format.left_indent == 3 * EM
    assert item.paragraph_format.first_line_indent == -3 * EM
    heading = next(p for p in document.paragraphs if p.text.startswith("１．情報システム"))
    assert heading.paragraph_format.left_indent == 2 * EM
    assert heading.paragraph_format.first_line_indent == -2 * EM
    assert heading.paragraph_format.keep_with_next


def _letter_with(greeting: str, items: list[str], **extra) -> PrintedLetter:
    addressee = PrintedAddressee("全国市町村職員共済組合連合会", "理事長", "", "殿")
    return PrintedLetter(
        "令和7年3月●日",
        addressee,
        "組合",
        "委員長",
        "氏名",
        "要請書",
        greeting=greeting,
        sections=[Section("", items)],
        numbering="dot",
        **extra,
    )


def test_addressee_without_a_name_takes_the_honorific_on_the_title_line_and_extra_paragraph_is_printed():
    letter = _letter_with("拝啓", ["一こと。"], extra_paragraphs=["共済組合あての段落。"], closing="つきましては。")
    texts = _texts(_open(render_letter(letter, TEMPLATE)))
    assert texts[1:3] == ["全国市町村職員共済組合連合会", "理事長　殿"]
    assert texts[texts.index("拝啓") + 1 : texts.index("記")] == ["共済組合あての段落。", "つきましては。"]


def test_characters_word_cannot_hold_are_removed_and_reported():
    hostile = "職員\x00の\x07確保\ufffeを\ud800行う\x1b[31mこと。\uffff"
    data, removed = render_letter_report(_letter_with("日頃\x0bより\tご尽力\r\nいただき", [hostile]), TEMPLATE)
    texts = _texts(_open(data))
    assert "日頃より\tご尽力\nいただき" in texts
    assert "１．職員の確保を行う[31mこと。" in texts
    assert removed == ["\x0b", "\x00", "\x07", "\ufffe", "\ud800", "\x1b", "\uffff"]
    assert describe_characters(removed[:2]) == "U+000B、U+0000"


def test_letter_without_items_has_no_record_mark():
    letter = PrintedLetter("2025年3月17日", PrintedAddressee(title="総務大臣"), "組合", "", "", "お礼", greeting="拝啓")
    texts = _texts(_open(render_letter(letter, TEMPLATE)))
    assert texts == ["2025年3月17日", "総務大臣　様", "組合", "お礼", "拝啓"]


def test_template_letterhead_is_kept_and_content_goes_where_the_split_placeholder_is(tmp_path):
    template = Document(str(TEMPLATE))
    placeholder = template.paragraphs[0]
    placeholder.insert_paragraph_before("【レターヘッド】全日本自治団体労働組合")
    for run in list(placeholder.runs):
        run._r.getparent().remove(run._r)
    for piece in ("{{ con", "tent", " }}"):  # Word splits typed text into several runs
        placeholder.add_run(piece)
    template.add_paragraph("【末尾の定型文】")
    path = tmp_path / "letterhead.docx"
    template.save(str(path))
    texts = _texts(_open(render_letter(letter_fixture.letter("b2"), path)))
    assert texts[0] == "【レターヘッド】全日本自治団体労働組合"
    assert texts[1] == "2025年3月●日"
    assert texts[-2:] == ["以上", "【末尾の定型文】"]
    assert not any("{{" in t for t in texts)


def test_template_without_placeholder_gets_the_letter_appended(tmp_path):
    template = Document(str(TEMPLATE))
    template.paragraphs[0].text = "社印欄"
    template.add_paragraph("")
    path = tmp_path / "plain.docx"
    template.save(str(path))
    texts = _texts(_open(render_letter(letter_fixture.letter("b2"), path)))
    assert texts[:2] == ["社印欄", "2025年3月●日"] and texts[-1] == "以上"


def _keeps(ch: str) -> bool:
    """Independent statement of what must survive: XML 1.0 characters that are not control codes."""
    cp = ord(ch)
    xml_legal = cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or cp >= 0x10000
    return xml_legal and (ch in "\t\n\r" or unicodedata.category(ch) != "Cc")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(greeting=st.text(), items=st.lists(st.text(), min_size=1, max_size=3))
def test_any_unicode_text_yields_a_docx_that_reopens_with_every_legal_character(greeting, items):
    letter = _letter_with(greeting, items)
    data, removed = render_letter_report(letter, TEMPLATE)
    document = _open(data)
    texts = [p.text for p in document.paragraphs]

    def expected(text: str) -> str:
        return "".join(ch for ch in text.replace("\r\n", "\n").replace("\r", "\n") if _keeps(ch))

    if expected(greeting):
        assert expected(greeting) in texts
    for i, item in enumerate(items, start=1):
        label = "１２３"[i - 1] + "．"
        assert label + expected(item) in texts
    assert set(removed) == {ch for ch in greeting + "".join(items) if not _keeps(ch)}
    assert clean_letter(letter)[1] == removed
