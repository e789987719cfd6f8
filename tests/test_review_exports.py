"""Exports of the opinion table and the answer table: rows, XLSX, DOCX and CSV read back."""

from __future__ import annotations

import csv
import io

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from openpyxl import load_workbook
from test_review_pages import opinion_id, submit

from consult.extensions import db


@pytest.fixture
def staff(make_user):
    return make_user("staff")


@pytest.fixture
def data(app, make_org, make_round, staff):
    """Two submitted answers (one with a formula-like text and a proposal), one draft; one disposition set."""
    hokkaido, aomori, iwate = make_org("北海道本部"), make_org("青森県本部"), make_org("岩手県本部")
    round_ = make_round(title="政策討議", items=2, targets=[hokkaido, aomori, iwate])
    submit(
        app,
        round_.id,
        hokkaido.id,
        staff.id,
        {0: ("amend", '=HYPERLINK("http://x")', "-理由\n二行目"), 1: ("agree", "", "")},
        proposals=[("新しい柱", "@提案")],
    )
    submit(app, round_.id, aomori.id, staff.id, {0: ("oppose", "撤回を求める", "負担が大きい")})
    submit(app, round_.id, iwate.id, staff.id, {0: ("agree", "下書きの意見", "")}, do_submit=False)
    from consult.answers.models import Opinion

    with app.app_context():
        op = db.session.get(Opinion, opinion_id(app, aomori.id, 0))
        op.disposition, op.hq_view = "rejected", "+現行案を維持します"
        db.session.commit()
    return {"round": round_}


def test_opinion_rows_follow_the_upper_federation_format(app, data):
    from consult.review.exports import opinion_rows

    with app.app_context():
        rows = list(opinion_rows(data["round"].id))
    assert rows == [
        ("1", "項目1", "現行0", '=HYPERLINK("http://x")', "-理由\n二行目", "修正", "北海道本部", ""),
        ("1", "項目1", "現行0", "撤回を求める", "負担が大きい", "反対", "青森県本部", ""),
        ("2", "項目2", "現行1", "", "", "賛成", "北海道本部", ""),
        ("新規", "新しい柱", "", "@提案", "提案理由", "追加", "北海道本部", ""),
    ]


def test_answer_rows_carry_disposition_and_view(app, data):
    from consult.review.exports import answer_rows

    with app.app_context():
        rows = list(answer_rows(data["round"].id))
        only_proposals = list(answer_rows(data["round"].id, None))
    assert ("青森県本部", "1 項目1", "反対", "撤回を求める", "負担が大きい", "不採用", "+現行案を維持します") in rows
    assert len(rows) == 4 and all("下書きの意見" not in r for r in rows)
    assert only_proposals == [("北海道本部", "新規：新しい柱", "追加", "@提案", "提案理由", "", "")]


def test_csv_has_bom_and_neutralised_formulas(app, data, login_as, staff):
    client = login_as(staff)
    response = client.get(f"/rounds/{data['round'].id}/export/opinions.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["項目番号", "項目", "該当箇所（現行の文言）", "修正案・意見", "理由", "区分", "組織名", "出典"]
    assert rows[1][3] == '\'=HYPERLINK("http://x")' and rows[1][4] == "'-理由\n二行目"
    assert rows[4][3] == "'@提案"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    answers = client.get(f"/rounds/{data['round'].id}/export/answers.csv").get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(answers)))
    assert table[0] == ["組織名", "項目", "区分", "意見（修正案）", "理由", "対応", "本部の考え方"]
    assert ["青森県本部", "1 項目1", "反対", "撤回を求める", "負担が大きい", "不採用", "'+現行案を維持します"] in table


def test_xlsx_reads_back_with_header_and_rows(app, data, login_as, staff):
    client = login_as(staff)
    response = client.get(f"/rounds/{data['round'].id}/export/answers.xlsx")
    assert response.status_code == 200 and response.is_streamed
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [tuple(cell.value for cell in row) for row in sheet.iter_rows()]
    assert values[0][0].startswith("回答表（本部の考え方）：政策討議　") and "年" in values[0][0]  # title row
    assert values[1] == (
        *("組織名", "項目", "区分", "意見（修正案）", "理由", "対応", "本部の考え方"),
        *("組織コード", "意見ID", "提出日時", "結び付けた要請項目"),
    )
    assert len(values) == 6
    row = values[2]
    assert row[0] == "北海道本部" and row[3] == '\'=HYPERLINK("http://x")'
    assert isinstance(row[8], int) and row[9].startswith("20") and row[7]  # opinion id, submitted at, org code
    assert all(cell.data_type != "f" for line in sheet.iter_rows() for cell in line)  # no formula anywhere
    rows7 = [v[:7] for v in values]
    assert ("青森県本部", "1 項目1", "反対", "撤回を求める", "負担が大きい", "不採用", "'+現行案を維持します") in rows7
    opinions = load_workbook(io.BytesIO(client.get(f"/rounds/{data['round'].id}/export/opinions.xlsx").get_data()))
    assert list(opinions.active.iter_rows(values_only=True))[1][0] == "項目番号"


def test_xlsx_prints_as_it_is(app, data, login_as, staff):
    """Landscape A4, fit to one page wide, the header row repeated on every page, borders and wrapped text."""
    client = login_as(staff)
    sheet = load_workbook(io.BytesIO(client.get(f"/rounds/{data['round'].id}/export/answers.xlsx").get_data())).active
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize in ("9", 9)
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth in (1, "1")
    assert sheet.page_setup.fitToHeight in (0, "0")
    assert sheet.print_title_rows == "$2:$2"
    body = sheet.cell(row=3, column=4)
    assert body.alignment.wrap_text and body.border.left.style == "thin"
    assert sheet.cell(row=2, column=1).font.bold and sheet.cell(row=1, column=1).font.size == 14


def test_docx_is_a_landscape_table_with_repeated_header(app, data, login_as, staff):
    client = login_as(staff)
    response = client.get(f"/rounds/{data['round'].id}/export/opinions.docx")
    assert response.status_code == 200
    document = Document(io.BytesIO(response.get_data()))
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height
    table = document.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
        "該当箇所（現行の文言）",
        "修正案・意見",
        "理由",
        "区分",
        "組織名",
        "出典",
    ]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    # The items are rows of their own, with their counts, above their opinions: not repeated on every row.
    texts = [[c.text for c in row.cells] for row in table.rows]
    assert texts[1][0] == "1 項目1（2件）" and texts[4][0] == "2 項目2（1件）" and texts[6][0] == "新規 新しい柱（1件）"
    assert len(table.rows) == 8
    assert texts[3][4] == "青森県本部"
    assert texts[2][2] == "-理由\n二行目"  # the line break is kept inside the cell
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert {fonts.get(qn(f"w:{script}")) for script in ("ascii", "hAnsi", "eastAsia")} == {"ＭＳ 明朝"}
    header = section.header.paragraphs[0].text
    assert header.startswith("意見一覧：政策討議　") and "年" in header
    footer = section.footer.paragraphs[0]._p.xml
    assert "PAGE" in footer and "NUMPAGES" in footer


def test_export_of_one_item(app, data, login_as, staff):
    client = login_as(staff)
    item_id = data["round"].items[1].id
    text = client.get(f"/rounds/{data['round'].id}/export/opinions.csv?item={item_id}").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and rows[1][1] == "項目2"
    assert client.get(f"/rounds/{data['round'].id}/export/opinions.csv?item=999999").status_code == 404


def test_docx_over_the_cap_is_refused_with_a_message(app, data, login_as, staff, monkeypatch):
    from consult.review import exports

    monkeypatch.setattr(exports, "DOCX_MAX_ROWS", 3)
    client = login_as(staff)
    response = client.get(f"/rounds/{data['round'].id}/export/answers.docx", follow_redirects=True)
    assert "Word形式で書き出せるのは3件まで" in response.get_data(as_text=True)
    assert client.get(f"/rounds/{data['round'].id}/export/answers.docx?item=proposals").status_code == 200


def test_csv_streams_in_batches(app, make_org, make_round, staff):
    """More rows than one batch: the generator yields several chunks that join into one valid CSV."""
    from consult.review import exports

    orgs = [make_org(f"単組{n}", kind="local") for n in range(5)]
    round_ = make_round(items=1, targets=orgs)
    for org in orgs:
        submit(app, round_.id, org.id, staff.id, {0: ("amend", "案", "理由")})
    original = exports.BATCH
    exports.BATCH = 2
    try:
        with app.app_context():
            chunks = list(exports.csv_chunks(exports.OPINION_HEADERS, exports.opinion_rows(round_.id)))
    finally:
        exports.BATCH = original
    assert len(chunks) >= 3
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert len(rows) == 6


def test_safe_cell():
    from consult.core.text import safe_cell

    assert safe_cell("=1+1") == "'=1+1" and safe_cell("-1") == "'-1" and safe_cell("@a") == "'@a"
    assert safe_cell("普通の文") == "普通の文" and safe_cell(None) == "" and safe_cell("a\x00b") == "ab"


def _pdf_pages(tmp_path, name: str, content: bytes) -> list:
    """Convert with LibreOffice, then render the pages as PNG (kept under tmp_path): the paths of the pages."""
    import shutil
    import subprocess

    if shutil.which("soffice") is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice (soffice) or pdftoppm is not installed")
    source = tmp_path / name
    source.write_bytes(content)
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = source.with_suffix(".pdf")
    assert pdf.exists() and pdf.stat().st_size > 1000
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / source.stem)], check=True, timeout=120)
    return sorted(tmp_path.glob(f"{source.stem}*.png"))


@pytest.mark.parametrize("path", ["answers.xlsx", "answers.docx", "opinions.xlsx", "opinions.docx"])
def test_exports_open_in_libreoffice_and_print(app, data, login_as, staff, tmp_path, path):
    """Each export converts to a PDF with pages (look at the PNGs: CONSULT_EXPORT_PNG_DIR keeps a copy)."""
    import os
    import shutil

    client = login_as(staff)
    content = client.get(f"/rounds/{data['round'].id}/export/{path}").get_data()
    pages = _pdf_pages(tmp_path, path.replace(".", "-") + "." + path.rsplit(".", 1)[1], content)
    assert pages
    keep = os.environ.get("CONSULT_EXPORT_PNG_DIR")
    if keep:
        for page in pages:
            shutil.copy(page, keep)
