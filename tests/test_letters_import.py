"""Importing request letters written by people in Word: what is recognised, what is kept aside, what is refused."""

from __future__ import annotations

import io
import re
import struct
import zipfile

import pytest
import word_letters
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from consult.core import zipguard
from consult.letters import numbering
from consult.letters.document import PrintedAddressee, PrintedLetter, Section
from consult.letters.docx_import import DocxImportError, import_docx, line_fields, parse_date, parse_label
from consult.letters.docx_numbering import WordNumbering, format_number
from consult.letters.render import paragraph_text, render_letter


def texts(data: bytes) -> list[str]:
    return [paragraph_text(p._p) for p in Document(io.BytesIO(data)).paragraphs if paragraph_text(p._p)]


def block(a: PrintedAddressee) -> tuple:
    return a.organisation, a.title, a.name, a.honorific, a.one_line, a.spread


def accounted_for(data: bytes, imported) -> list[str]:
    """Every non-empty paragraph of the file that the import does not hold somewhere (should be none)."""
    held = [
        imported.date.text if imported.date else "",
        *imported.addressee_lines,
        *imported.sender.lines,
        *imported.title_lines,
        imported.greeting,
        *imported.paragraphs,
        imported.closing,
        "記",
        "以上",
        *(i.label + i.text for i in imported.items),
        *(u.text for u in imported.unplaced),
    ]
    pool = re.sub(r"\s", "", "".join(held))
    return [t for t in texts(data) if re.sub(r"\s", "", t) not in pool]


def test_typed_letter_to_a_mutual_aid_association():
    data = word_letters.typed_letter()
    imported = import_docx(data)
    t = word_letters.TYPED_ITEMS
    assert (
        imported.date.text,
        imported.date.style,
        imported.date.year,
        imported.date.month,
        imported.date.day,
        imported.date.fullwidth,
    ) == ("令和７年３月１７日", "era", 2025, 3, 17, True)
    assert block(imported.addressee) == ("全国市町村職員共済組合連合会", "理事長", "山田　太郎", "殿", True, False)
    s = imported.sender
    assert (s.organisation, s.title, s.name, s.spread) == ("全日本自治団体労働組合", "中央執行委員長", "石上千博", True)
    assert imported.title == "自治体DXの推進および組合員の福祉向上に関する要請書"
    assert imported.title_lines == ["自治体DXの推進および", "組合員の福祉向上に関する要請書"]
    assert imported.greeting == word_letters.GREETING_KYOSAI  # the typed 「　」 indent is gone
    assert imported.paragraphs == [word_letters.BACKGROUND_KYOSAI, word_letters.BACKGROUND_KYOSAI_2]
    assert imported.closing == word_letters.CLOSING_KYOSAI
    assert [(i.level, i.label, i.heading) for i in imported.items] == [
        (1, "１．", True),
        (2, "（１）", False),
        (2, "（２）", False),
        (2, "（３）", False),
        (1, "2 .", True),
        (2, "(1)", False),
    ]
    assert imported.items[2].text == f"{t['s1i2']}\n①{t['s1i2a']}\n②{t['s1i2b']}"  # ① sub-items fold into （２）
    assert imported.items[3].text == f"{t['s1i3']}\n{t['s1i3cont']}"  # the indented paragraph continues （３）
    assert (imported.numbering, imported.label_kinds, imported.fullwidth_digits) == (
        numbering.DOT_PAREN,
        ["dot", "paren", "circle"],
        True,
    )
    assert [(u.index, u.text) for u in imported.unplaced] == [
        (0, "自治労発第２５３号"),
        (7, "（公印省略）"),
        (34, "（連絡先）自治労本部　総合政治政策局　電話０３－３２６３－０２６２"),
    ]
    assert imported.warnings == ["3 段目以下の番号付きの行は、上の項目の本文に含めました。"]
    assert accounted_for(data, imported) == []


def test_word_automatic_numbering_on_three_levels_and_a_date_that_is_only_a_dot():
    data = word_letters.automatic_letter()
    imported = import_docx(data)
    assert (imported.date.text, imported.date.year, imported.date.month, imported.date.day) == ("●", None, None, None)
    assert block(imported.addressee) == ("", "総務大臣", "村上誠一郎", "様", False, True)
    assert (imported.sender.title, imported.sender.name) == ("中央執行委員長", "石上　千博")
    assert imported.title == "自治体DXの推進に関する要請書"  # Shift+Enter inside the Title paragraph
    assert imported.greeting == "拝啓　" + word_letters.GREETING_AUTO
    assert imported.closing == word_letters.CLOSING_AUTO and imported.paragraphs == []
    assert [(i.level, i.label, i.automatic) for i in imported.items] == [
        (1, "１．", True),
        (2, "（１）", True),
        (2, "（２）", True),
        (1, "２．", True),
        (2, "（１）", True),
    ]
    assert imported.items[2].text.endswith("\n①移行の期限を一律に定めないこと")
    assert imported.numbering == numbering.DOT_PAREN and imported.fullwidth_digits
    assert imported.warnings == [
        "番号だけの空の行（（２））を読み飛ばしました。",
        "3 段目以下の番号付きの行は、上の項目の本文に含めました。",
    ]
    assert imported.unplaced == [] and accounted_for(data, imported) == []
    sections = imported.sections()
    assert [s.heading for s in sections] == [
        "情報システムの標準化・共通化について",
        "健康保険証とマイナンバーカードの一体化について",
    ]
    assert [len(s.items) for s in sections] == [2, 1]


def test_separate_word_lists_restarted_per_section_give_paren_circle():
    data = word_letters.restarted_lists_letter()
    imported = import_docx(data)
    assert [i.label for i in imported.items] == ["(1)", "①", "②", "(2)", "①", "②"]
    assert imported.numbering == numbering.PAREN_CIRCLE and imported.fullwidth_digits is False
    assert imported.to_letter().sections == [
        Section(text, [t for n, t in word_letters.RESTART_ITEMS if n != 20][2 * k : 2 * k + 2])
        for k, text in enumerate(t for n, t in word_letters.RESTART_ITEMS if n == 20)
    ]
    a = imported.addressee
    assert (a.organisation, a.title, a.name, a.one_line) == ("全国知事会", "会長", "平井　伸治", True)
    assert (imported.date.text, imported.date.day) == ("2025年３月２４日（月）", 24)
    assert imported.closing == "つきましては、下記の事項について要望します。"
    assert accounted_for(data, imported) == []


def test_list_number_style_and_an_unnumbered_heading_in_a_flat_list():
    data = word_letters.list_style_letter()
    imported = import_docx(data)
    assert [(i.label, i.heading) for i in imported.items] == [("", True), ("1.", False), ("2.", False), ("3.", False)]
    assert imported.to_letter().sections == [Section("【窓口と職員】", word_letters.LIST_STYLE_ITEMS)]
    assert imported.numbering == numbering.DOT and imported.fullwidth_digits is False
    assert (imported.addressee.title, imported.addressee.honorific, imported.addressee.name) == (
        "デジタル大臣",
        "殿",
        "",
    )
    s = imported.sender
    assert (s.organisation, s.title, s.name) == ("全日本自治団体労働組合", "中央執行委員長", "石上千博")
    assert (imported.date.style, imported.date.year, imported.date.fullwidth) == ("era", 2019, True)
    assert accounted_for(data, imported) == []


@pytest.mark.parametrize(
    "build",
    [
        word_letters.typed_letter,
        word_letters.automatic_letter,
        word_letters.restarted_lists_letter,
        word_letters.list_style_letter,
    ],
)
def test_a_human_letter_written_out_by_the_app_reads_back_the_same(build):
    letter = import_docx(build()).to_letter()
    exported = render_letter(letter)
    again = import_docx(exported)
    assert again.to_letter() == letter
    assert again.unplaced == [] and texts(exported)[-1] == "以上"


def test_the_typed_letter_as_the_app_prints_it():
    printed = texts(render_letter(import_docx(word_letters.typed_letter()).to_letter()))
    t = word_letters.TYPED_ITEMS
    assert printed[:6] == [
        "令和７年３月１７日",
        "全国市町村職員共済組合連合会",
        "理事長　山田　太郎　殿",
        "全日本自治団体労働組合",
        "中央執行委員長　石上千博",
        "自治体DXの推進および組合員の福祉向上に関する要請書",
    ]
    assert printed[printed.index("記") + 1 :] == [
        "１．" + t["s1"],
        "（１）" + t["s1i1"],
        f"（２）{t['s1i2']}\n①{t['s1i2a']}\n②{t['s1i2b']}",
        f"（３）{t['s1i3']}\n{t['s1i3cont']}",
        "２．" + t["s2"],
        "（１）" + t["s2i1"],
        "以上",
    ]


def _doc(*paragraphs) -> bytes:
    d = Document()
    for text, align in paragraphs:
        word_letters.add(d, text, align)
    out = io.BytesIO()
    d.save(out)
    return out.getvalue()


R, C = WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.CENTER


def test_without_record_mark_the_requests_start_after_the_closing_sentence():
    imported = import_docx(
        _doc(
            ("2025年3月17日", R),
            ("総務大臣　様", None),
            ("組合", R),
            ("要請書", C),
            ("日頃より敬意を表します。", None),
            ("①の件も含め、以下の通り要請します。", None),
            ("１．人員を確保すること。", None),
            ("２．財源を確保すること。", None),
        )
    )
    assert imported.closing == "①の件も含め、以下の通り要請します。"
    assert [i.text for i in imported.items] == ["人員を確保すること。", "財源を確保すること。"]
    assert imported.has_record_mark is False
    assert imported.warnings == ["「記」の行がないため、最初の番号付きの段落から要請項目として読みました。"]


def test_the_sender_in_a_table_and_a_letter_without_honorific_are_still_read():
    d = Document()
    word_letters.add(d, "2025年3月17日", R)
    word_letters.add(d, "総務省　自治行政局長")
    cell = d.add_table(rows=1, cols=1).cell(0, 0)
    cell.paragraphs[0].text = "全日本自治団体労働組合"
    cell.paragraphs[0].alignment = R
    cell.add_paragraph("中央執行委員長　石上千博").alignment = R
    word_letters.add(d, "要請書", C)
    word_letters.add(d, "つきましては、以下の通り要請します。")
    out = io.BytesIO()
    d.save(out)
    imported = import_docx(out.getvalue())
    assert (imported.addressee.organisation, imported.addressee.title, imported.addressee.honorific) == (
        "総務省",
        "自治行政局長",
        "",
    )
    assert (imported.sender.organisation, imported.sender.name) == ("全日本自治団体労働組合", "石上千博")
    assert "宛名の行（様・殿で終わる行）が見つかりません。" in imported.warnings


def test_an_empty_document_is_an_empty_letter_with_warnings_not_an_error():
    imported = import_docx(_doc())
    assert imported.items == [] and imported.unplaced == [] and imported.date is None
    assert "日付の行が見つかりません。" in imported.warnings
    assert render_letter(imported.to_letter())


@pytest.mark.parametrize(
    "text, value",
    [
        ("2025年3月17日", ("western", 2025, 3, 17, "")),
        ("令和7年3月17日", ("era", 2025, 3, 17, "")),
        ("令和元年5月1日", ("era", 2019, 5, 1, "")),
        ("令和７年３月●日", ("era", 2025, 3, None, "")),
        ("令和●年●月●日", ("era", None, None, None, "")),
        ("令和　　年　　月　　日", ("era", None, None, None, "")),
        ("2025年3月●●日", ("western", 2025, 3, None, "")),
        ("●", ("western", None, None, None, "")),
        ("平成31年4月30日", ("era", 2019, 4, 30, "")),
        ("2025年3月17日（月）", ("western", 2025, 3, 17, "")),
        ("令和七年三月十七日", ("era", 2025, 3, 17, "")),
        ("令和七年十二月二十日", ("era", 2025, 12, 20, "")),
        ("二〇二五年三月三十一日", ("western", 2025, 3, 31, "")),
        ("令和〇年〇月〇日", ("era", None, None, None, "")),
        ("2025年2月30日", ("western", 2025, 2, 30, "2025年2月30日という日付はありません。")),
        ("平成32年1月1日", ("era", 2020, 1, 1, "平成32年1月1日 は平成の期間にない日付です。")),
        ("令和1年4月1日", ("era", 2019, 4, 1, "令和1年4月1日 は令和の期間にない日付です。")),
    ],
)
def test_parse_date(text, value):
    date = parse_date(text)
    assert (date.style, date.year, date.month, date.day, date.problem) == value


@pytest.mark.parametrize("text", ["2025年度予算について", "日頃より", "記", "2025年3月"])
def test_lines_that_are_no_date(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text, kind, number, fullwidth, rest",
    [
        ("1.　情報", "dot", 1, False, "情報"),
        ("１．情報", "dot", 1, True, "情報"),
        ("1 . 情報", "dot", 1, False, "情報"),
        ("10．2026年度", "dot", 10, True, "2026年度"),
        ("（１）こと", "paren", 1, True, "こと"),
        ("(12) こと", "paren", 12, False, "こと"),
        ("（ 3 ）こと", "paren", 3, True, "こと"),
        ("①こと", "circle", 1, None, "こと"),
        ("㉑こと", "circle", 21, None, "こと"),
        ("⑴こと", "paren", 1, None, "こと"),
        ("⒉こと", "dot", 2, None, "こと"),
        ("3) こと", "rparen", 3, None, "こと"),
        ("（イ）こと", "kana-paren", 2, None, "こと"),
        ("ウ．こと", "kana", 3, None, "こと"),
        ("二、こと", "kanji", 2, None, "こと"),
    ],
)
def test_parse_label(text, kind, number, fullwidth, rest):
    label = parse_label(text)
    assert (label.kind, label.number, label.fullwidth, label.rest) == (kind, number, fullwidth, rest)


@pytest.mark.parametrize("text", ["1.5倍にすること。", "2025年度", "2026年度以降", "(a) こと", ""])
def test_texts_that_do_not_start_with_a_label(text):
    assert parse_label(text) is None


@pytest.mark.parametrize(
    "line, fields",
    [
        ("総 務 大 臣", [("総務大臣", True)]),
        ("　村 上 誠 一 郎　様", [("村上誠一郎", True), ("様", False)]),
        ("村 上　誠 一 郎", [("村上", True), ("誠一郎", True)]),
        ("中央執行委員長 石 上 千 博", [("中央執行委員長", False), ("石上千博", True)]),
        ("総　務　大　臣　　村　上", [("総務大臣", True), ("村", False), ("上", False)]),  # two: a name, or spread?
        ("林　太", [("林", False), ("太", False)]),
        ("理事長　　山田　太郎", [("理事長", False), ("山田", False), ("太郎", False)]),
    ],
)
def test_line_fields_join_spread_words(line, fields):
    assert [(f.text, f.spread) for f in line_fields(line)] == fields


@pytest.mark.parametrize(
    "n, fmt, text",
    [
        (3, "decimal", "3"),
        (3, "decimalFullWidth", "３"),
        (12, "decimalFullWidth", "１２"),
        (1, "decimalEnclosedCircle", "①"),
        (21, "decimalEnclosedCircle", "21"),
        (2, "decimalEnclosedParen", "⑵"),
        (4, "aiueoFullWidth", "エ"),
        (3, "iroha", "ハ"),
        (11, "japaneseCounting", "十一"),
        (23, "japaneseCounting", "二十三"),
        (4, "upperRoman", "IV"),
        (28, "lowerLetter", "bb"),
        (5, "bullet", ""),
        (7, "someFutureFormat", "7"),
    ],
)
def test_word_number_formats(n, fmt, text):
    assert format_number(n, fmt) == text


def test_word_counters_restart_below_a_higher_level_and_by_start_override():
    d = Document()
    word_letters.define_numbering(
        d,
        {30: [word_letters.level_xml(0, "decimal", "%1."), word_letters.level_xml(1, "decimal", "%1-%2", start=3)]},
        {30: (30, {}), 31: (30, {0: 5})},
    )
    counters = WordNumbering(d.part.numbering_part.element)
    labels = [
        counters.next_label(num, ilvl).text
        for num, ilvl in [("30", 0), ("30", 1), ("30", 1), ("30", 0), ("30", 1), ("31", 0), ("30", 0)]
    ]
    assert labels == ["1.", "1-3", "1-4", "2.", "2-3", "5.", "6."]
    assert counters.next_label("99", 0) is None and counters.next_label("30", 5) is None


# ---------------------------------------------------------------------------------------------------------------
# Hostile input: refused before python-docx parses anything, in Japanese


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "ZIP 形式（Word・Excel のファイル）ではありません"),
        ("2025年3月17日\n総務大臣様".encode(), "ZIP 形式（Word・Excel のファイル）ではありません"),
        (b"%PDF-1.7\n...", "ZIP 形式（Word・Excel のファイル）ではありません"),
        (b"\x89PNG\r\n\x1a\n", "ZIP 形式（Word・Excel のファイル）ではありません"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "古い Office 形式"),
        (b"PK\x03\x04broken", "壊れているか"),
        (
            _zip({"xl/workbook.xml": b"<workbook/>", "[Content_Types].xml": b"<Types/>"}),
            "Word 文書（.docx）ではありません",
        ),
        (_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not really"}), "壊れているか"),
    ],
)
def test_files_that_are_not_letters_are_refused_with_a_japanese_message(data, message):
    with pytest.raises(DocxImportError) as error:
        import_docx(data)
    assert message in str(error.value)


def test_a_docx_with_a_bomb_inside_is_refused_by_its_ratio_before_parsing():
    letter = word_letters.list_style_letter()
    with zipfile.ZipFile(io.BytesIO(letter)) as source:
        members = {name: source.read(name) for name in source.namelist()}
    members["word/media/image1.png"] = b"\0" * (20 * 1024 * 1024)  # 20 MB of zeros compress to 20 KB
    with pytest.raises(DocxImportError, match="圧縮のされ方が異常です"):
        import_docx(_zip(members))


def _lie_about_size(data: bytes, size: int) -> bytes:
    """Patch the declared uncompressed size of every member (local header and central directory)."""
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            struct.pack_into("<I", data, start + offset, size)
            start += 4
    return bytes(data)


def test_a_declared_size_of_four_gigabytes_is_refused_without_inflating():
    data = _lie_about_size(_zip({"word/document.xml": b"x" * 100}), 0xFFFFFFF0)
    with pytest.raises(zipguard.ZipRefused, match="大きくなりすぎます"):
        zipguard.check_zip(data)


def test_many_members_and_passwords_are_refused():
    many = _zip({f"word/part{n}.xml": b"" for n in range(zipguard.MAX_MEMBERS + 1)}, zipfile.ZIP_STORED)
    with pytest.raises(DocxImportError, match="中身が多すぎます（2,001 個）"):
        import_docx(many)
    encrypted = bytearray(_zip({"word/document.xml": b"<w:document/>"}))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = encrypted.find(signature)
        encrypted[at + offset] |= 0x1
    with pytest.raises(DocxImportError, match="パスワード"):
        import_docx(bytes(encrypted))


def test_the_zip_guard_passes_a_real_letter():
    letter = render_letter(PrintedLetter("2025年3月17日", PrintedAddressee(title="総務大臣"), "組合", "", "", "要請書"))
    zipguard.check_zip(letter)
    with pytest.raises(DocxImportError):
        import_docx("not bytes")  # type: ignore[arg-type]


def test_items_with_folded_sub_lines_are_not_spread_to_the_margin(tmp_path):
    """An item holding ① sub-lines (line breaks) in a justified paragraph: Word's compat flag keeps its spacing."""
    exported = render_letter(import_docx(word_letters.typed_letter()).to_letter())
    settings = Document(io.BytesIO(exported)).settings.element
    assert len(settings.findall(f"{qn('w:compat')}/{qn('w:doNotExpandShiftReturn')}")) == 1
    template = tmp_path / "again.docx"
    template.write_bytes(exported)  # a template that already has the flag keeps exactly one
    settings = Document(
        io.BytesIO(
            render_letter(PrintedLetter("●", PrintedAddressee(title="総務大臣"), "組合", "", "", "要請書"), template)
        )
    ).settings.element
    assert len(settings.findall(f"{qn('w:compat')}/{qn('w:doNotExpandShiftReturn')}")) == 1


def test_a_member_that_inflates_beyond_its_declared_size_is_a_broken_file_not_a_bomb():
    """zipfile stops at the declared size and fails the CRC check, so a lying header cannot inflate further."""
    members = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"x" * 10_000_000}
    with pytest.raises(DocxImportError, match="壊れているか"):
        import_docx(_lie_about_size(_zip(members), 100))


def _under_record_mark(*lines: str) -> bytes:
    head = [("2025年3月17日", R), ("総務大臣　様", None), ("組合", R), ("要請書", C), ("以下の通り要請します。", None)]
    return _doc(*head, ("記", C), *((line, None) for line in lines), ("以上", R))


def test_labels_no_style_of_the_app_prints_are_still_items_and_said_so():
    imported = import_docx(_under_record_mark("1) 人員を確保すること。", "2) 財源を確保すること。"))
    assert [(i.label, i.text) for i in imported.items] == [
        ("1)", "人員を確保すること。"),
        ("2)", "財源を確保すること。"),
    ]
    assert imported.numbering is None and imported.numbering_style() == numbering.DOT
    assert imported.warnings == ["番号の付け方（1)）はこのアプリの書式にないため、「１．（一段）」で付け直します。"]


def test_katakana_below_paren_is_a_third_level_folded_into_its_item():
    imported = import_docx(
        _under_record_mark(
            "1. 財政について", "(1) 次の経費を国が負担すること。", "ア. システム改修の経費", "イ. 研修の経費"
        )
    )
    assert imported.label_kinds == ["dot", "paren", "kana"] and imported.numbering == numbering.DOT_PAREN
    assert imported.items[1].text == "次の経費を国が負担すること。\nア. システム改修の経費\nイ. 研修の経費"
