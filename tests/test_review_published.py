"""The published answer table as a document of record: grouped by item with counts, a branch's own opinions
marked, cards on a phone, and the DOCX and XLSX a branch downloads."""

from __future__ import annotations

import io

from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook
from test_review_pages import _form, opinion_id, staff, world  # noqa: F401  (fixtures)


def _published(app, world, login_as, staff):  # noqa: F811
    rid = world["round"].id
    hq = login_as(staff)
    oid = opinion_id(app, world["orgs"][2].id, 0)
    assert (
        hq.post(
            f"/rounds/{rid}/aggregate/opinions/{oid}", data=_form(oid, "rejected", "現行どおりとします")
        ).status_code
        == 302
    )
    oid = opinion_id(app, world["orgs"][1].id, 0)
    assert (
        hq.post(
            f"/rounds/{rid}/aggregate/opinions/{oid}", data=_form(oid, "partly", "期限を一部延ばします")
        ).status_code
        == 302
    )
    assert hq.post(f"/rounds/{rid}/aggregate/publish").status_code == 302
    return rid


def test_branch_reads_the_record_grouped_by_item_with_its_own_marked(app, world, make_user, login_as, staff):  # noqa: F811
    rid = _published(app, world, login_as, staff)
    aomori = login_as(make_user("member", world["orgs"][1]))
    html = aomori.get(f"/rounds/{rid}/published").get_data(as_text=True)
    assert "意見の概要" in html and "本部の考え方" in html and "修正の有無" in html
    assert "1 項目1 <small>（意見 2 件）</small>" in html  # weighed ones and the branch's own
    assert html.count('<tr class="own">') == 2 and "自組織の意見" in html
    assert "一部修正" in html and "修正なし" in html
    assert "岩手県本部" not in html and "他の組織" in html
    assert 'data-label="本部の考え方"' in html  # the phone's cards label each field


def test_branch_downloads_docx_and_xlsx_with_its_own_marked(app, world, make_user, login_as, staff):  # noqa: F811
    rid = _published(app, world, login_as, staff)
    aomori = login_as(make_user("member", world["orgs"][1]))
    response = aomori.get(f"/rounds/{rid}/published.docx")
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["Content-Disposition"]
    document = Document(io.BytesIO(response.get_data()))
    table = document.tables[0]
    texts = [[c.text for c in row.cells] for row in table.rows]
    assert texts[0] == ["番号", "組織", "意見の概要", "本部の考え方", "修正の有無"]
    assert texts[1][0] == "1 項目1（2件）"
    assert any(t[1] == "【自組織】青森県本部" and "期限を一部延ばします" in t[3] for t in texts)
    assert not any("岩手県本部" in cell for t in texts for cell in t)
    assert all(row._tr.trPr.find(qn("w:cantSplit")) is not None for row in table.rows)
    sheet = load_workbook(io.BytesIO(aomori.get(f"/rounds/{rid}/published.xlsx").get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0].startswith("「テスト討議」に関する意見と本部の考え方")
    assert values[1] == ("項目", "番号", "組織", "意見の概要", "本部の考え方", "修正の有無")
    assert [v[:3] for v in values[2:]] == [
        ("1 項目1", 1, "【自組織】青森県本部"),
        ("1 項目1", 2, "他の組織"),
        ("2 項目2", 1, "【自組織】青森県本部"),
    ]
    assert values[3][5] == "修正なし"
    assert sheet.print_title_rows == "$2:$2"


def test_downloads_follow_the_page_rules(app, world, make_user, make_org, login_as, staff):  # noqa: F811
    rid = world["round"].id
    aomori = login_as(make_user("member", world["orgs"][1]))
    assert aomori.get(f"/rounds/{rid}/published.docx").status_code == 404  # not published: unknown to a branch
    assert login_as(staff).get(f"/rounds/{rid}/published.xlsx").status_code == 200  # headquarters checks it first
    login_as(staff).post(f"/rounds/{rid}/aggregate/publish")
    outsider = login_as(make_user("member", make_org("沖縄県本部")))
    assert outsider.get(f"/rounds/{rid}/published.xlsx").status_code == 403


def test_published_downloads_open_in_libreoffice(app, world, make_user, login_as, staff, tmp_path):  # noqa: F811
    import os
    import shutil

    from test_review_exports import _pdf_pages

    rid = _published(app, world, login_as, staff)
    aomori = login_as(make_user("member", world["orgs"][1]))
    for fmt in ("docx", "xlsx"):
        pages = _pdf_pages(tmp_path, f"published-{fmt}.{fmt}", aomori.get(f"/rounds/{rid}/published.{fmt}").get_data())
        assert pages
        if os.environ.get("CONSULT_EXPORT_PNG_DIR"):
            for page in pages:
                shutil.copy(page, os.environ["CONSULT_EXPORT_PNG_DIR"])
