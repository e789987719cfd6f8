"""Pasted text, CSV and XLSX become item drafts; a file with any broken row imports nothing."""

import io

from openpyxl import Workbook

from consult.rounds.importing import (
    drafts_from_json,
    drafts_to_json,
    parse_numbered_text,
    parse_table_file,
)


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_paste_ascii_and_full_width_numbers_start_items_and_lines_below_are_body():
    text = (
        "1. 情報システムの標準化・共通化について\n"
        "（１）国の責任で財源を確保すること。\n"
        "（２）移行期限を柔軟にすること。\n"
        "\n"
        "２．マイナンバーカードについて\n"
        "本文の一行目\n"
    )
    drafts, errors = parse_numbered_text(text)
    assert errors == []
    assert [(d.number, d.heading) for d in drafts] == [
        ("1", "情報システムの標準化・共通化について"),
        ("2", "マイナンバーカードについて"),
    ]
    # The sub-points numbered in another style stay in the first item's body.
    assert drafts[0].body == "（１）国の責任で財源を確保すること。\n（２）移行期限を柔軟にすること。"
    assert drafts[1].body == "本文の一行目"


def test_paste_parenthesised_chapter_and_circled_styles():
    drafts, errors = parse_numbered_text("（１）総論\n説明\n（２）各論\n1.5倍に増やす")
    assert errors == []
    assert [(d.number, d.heading, d.body) for d in drafts] == [
        ("（1）", "総論", "説明"),
        ("（2）", "各論", "1.5倍に増やす"),
    ]
    drafts, errors = parse_numbered_text("第1章 総論\nあ\n第２章　各論\nい")
    assert errors == [] and [(d.number, d.heading) for d in drafts] == [("第1章", "総論"), ("第2章", "各論")]
    drafts, errors = parse_numbered_text("①ＤＸの推進\n②人員の確保")
    assert errors == [] and [(d.number, d.heading) for d in drafts] == [("①", "ＤＸの推進"), ("②", "人員の確保")]


def test_paste_refuses_text_before_first_number_and_missing_heading():
    drafts, errors = parse_numbered_text("前置きの文章\n1. 見出し")
    assert drafts == [] and errors == ["1行目: 最初の項目の番号（例「1. 見出し」）より前に文章があります。"]
    drafts, errors = parse_numbered_text("1. 見出し\n本文\n2.\n本文")
    assert drafts == [] and any(e.startswith("3行目: 見出しがありません") for e in errors)
    drafts, errors = parse_numbered_text("番号のない文章だけ")
    assert drafts == [] and errors


def test_paste_too_long_body_is_refused_with_the_limit():
    drafts, errors = parse_numbered_text("1. 見出し\n" + "あ" * 20_001)
    assert drafts == []
    assert errors == ["1行目: 本文が長すぎます（20,000文字まで、入力は20,001文字）。"]


def test_csv_utf8_with_and_without_bom_and_multiline_body():
    content = '番号,見出し,本文\n1,標準化について,"一行目\n二行目"\n２,カードについて,\n'
    for data in (content.encode("utf-8"), ("\ufeff" + content).encode("utf-8")):
        drafts, errors = parse_table_file("items.csv", data)
        assert errors == []
        assert [(d.number, d.heading, d.body) for d in drafts] == [
            ("1", "標準化について", "一行目\n二行目"),
            ("2", "カードについて", ""),
        ]


def test_csv_in_cp932_is_read():
    data = "番号,見出し,本文\n1,戸籍の振り仮名について,対応すること。\n".encode("cp932")
    drafts, errors = parse_table_file("items.csv", data)
    assert errors == []
    assert drafts[0].heading == "戸籍の振り仮名について" and drafts[0].body == "対応すること。"


def test_csv_with_broken_rows_is_refused_as_a_whole_naming_lines():
    data = ("番号,見出し,本文\n1,よい行,本文\n2,,見出しがない\n3,長い," + "x" * 20_001 + "\n").encode()
    drafts, errors = parse_table_file("items.csv", data)
    assert drafts == []
    assert "3行目: 見出しがありません。" in errors
    assert any(e.startswith("4行目: 本文が長すぎます") for e in errors)
    assert not any(e.startswith("2行目") for e in errors)


def test_csv_with_unknown_header_or_without_heading_column_is_refused():
    drafts, errors = parse_table_file("items.csv", "番号,題目,本文\n1,a,b\n".encode())
    assert drafts == [] and errors[0].startswith("1行目: 不明な列「題目」")
    drafts, errors = parse_table_file("items.csv", "番号,本文\n1,b\n".encode())
    assert drafts == [] and any("「見出し」の列がありません" in e for e in errors)


def test_xlsx_is_read_and_numbers_typed_as_numbers_become_text():
    data = _xlsx(
        [
            ["番号", "見出し", "本文"],
            [1, "標準化について", "本文A"],
            [None, None, None],
            ["（２）", "カードについて", None],
        ]
    )
    drafts, errors = parse_table_file("items.xlsx", data)
    assert errors == []
    assert [(d.number, d.heading, d.body) for d in drafts] == [
        ("1", "標準化について", "本文A"),
        ("（2）", "カードについて", ""),
    ]


def test_xlsx_broken_row_and_a_damaged_file_are_refused():
    drafts, errors = parse_table_file("items.xlsx", _xlsx([["番号", "見出し"], [1, "a"], [2, None]]))
    assert drafts == [] and errors == ["3行目: 見出しがありません。"]
    drafts, errors = parse_table_file("items.xlsx", b"PK\x03\x04 not really a workbook")
    assert drafts == [] and "XLSX" in errors[0]


def test_preview_rows_round_trip_and_a_tampered_hidden_field_is_refused():
    drafts, _ = parse_numbered_text("1. 見出し\n本文 <b>太字</b> 😀")
    back, errors = drafts_from_json(drafts_to_json(drafts))
    assert errors == [] and back == drafts
    assert drafts_from_json("not json")[1]
    assert drafts_from_json('[["1", "", "本文"]]')[1] == ["1件目: 番号と見出しが必要です。"]
