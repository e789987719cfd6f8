"""The 進行管理報告書 read back from its XLSX and DOCX, the indicator grades and the server-drawn SVG chart."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from docx import Document
from openpyxl import load_workbook
from test_followup import _grade, _load, campaign_world  # noqa: F401  (the fixture)

from consult.extensions import db
from consult.followup.chart import Point, grade_against_target, line_chart


def test_grades_against_the_target():
    assert grade_against_target(98.2, 99.0) == "S"
    assert grade_against_target(98.2, 98.2) == "A"
    assert grade_against_target(98.2, 98.0) == "B"
    assert grade_against_target(98.2, 96.0) == "C"
    assert grade_against_target(10, 9, higher_is_better=False) == "S"
    assert grade_against_target(98.2, None) == ""


def test_the_chart_is_plain_svg_without_script():
    svg = line_chart(
        "現年分収納率（%）", "%", [Point(2022, 98.2, 98.3), Point(2023, 98.3, 98.1), Point(2026, 98.6, None)]
    )
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg") and "script" not in svg.lower() and "href" not in svg
    assert "R4" in svg and "R8" in svg and "98.3" in svg
    assert line_chart("空", "", []).endswith("</svg>")


def test_the_report_reads_back_with_answers_grades_years_and_indicators(app, campaign_world, clock):  # noqa: F811
    from consult.followup import operations as fu
    from consult.followup import queries, report

    now = clock()
    with app.app_context():
        campaign, items, soumu, digital, staff = _load(campaign_world)
        _grade(items[1], soumu, "現状維持", staff, now, text="引き続き検討する。")
        _grade(items[0], digital, "前進", staff, now, text="補助対象とする。")
        fu.save_indicator(
            campaign,
            "現年分収納率",
            "%",
            True,
            fu.parse_values("2022 98.2 98.3\n2023 98.3 98.0\n2026 98.6"),
            user=staff,
            now=now,
        )
        db.session.commit()
        new = fu.carry_over(campaign, ["現状維持"], "2026年要請", user=staff, now=now)
        db.session.commit()
        [new_item] = [i for i in new.letters[0].items if i.parent_id is not None]
        _grade(new_item, new.addressees[0], "一部前進", staff, now, text="一部を措置する。")
        db.session.commit()
        data = queries.report_data(new, now)
        old_data = queries.report_data(campaign, now)
        sheet = load_workbook(io.BytesIO(report.xlsx(data))).active
        values = [[c.value for c in row] for row in sheet.iter_rows(min_row=4)]
        assert [
            "（１）",
            "国庫補助の対象とすること。",
            2025,
            "総務省",
            "第1次回答",
            "引き続き検討する。",
            "現状維持",
            "",
            "",
        ] in [[v if v is not None else "" for v in row] for row in values]
        assert any(row[2] == 2026 and row[5] == "一部を措置する。" and row[6] == "一部前進" for row in values)
        workbook = load_workbook(io.BytesIO(report.xlsx(old_data)))
        sheet = workbook["到達指標"]
        assert [r[:4] for r in sheet.iter_rows(min_row=1, max_row=5, values_only=True)] == [
            ("現年分収納率（%）", None, None, None),
            ("年度", "目標", "実績", "達成状況"),
            ("R4", 98.2, 98.3, "A"),
            ("R5", 98.3, 98.0, "B"),
            ("R8", 98.6, None, None),
        ]
        [chart] = sheet._charts  # a native line chart of the block: targets and actuals by year
        assert chart.title is not None and len(chart.series) == 2
        assert chart.series[0].val.numRef.f == "'到達指標'!$B$3:$B$5"
        document = Document(io.BytesIO(report.docx(old_data)))
        text = "\n".join(p.text for p in document.paragraphs)
        assert "進行管理報告書　自治体DXの推進に関する要請行動" in text
        headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
        assert headings[1] == "1. 要請項目ごとの回答と評価"
        assert "2. 到達指標" in headings and "2-1　現年分収納率（%）" in headings
        assert [h.split("　")[0] for h in headings if h.startswith("1-")] == [
            f"1-{n}" for n in range(1, len(old_data.items) + 1)
        ]
        [picture] = document.inline_shapes  # the chart, drawn from the page's SVG
        blob = document.part.related_parts[picture._inline.graphic.graphicData.pic.blipFill.blip.embed].blob
        assert blob[:8] == b"\x89PNG\r\n\x1a\n" and len(blob) > 5_000
        assert "図 2-1　現年分収納率（%）：目標（破線）と実績（実線）" in text
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        assert "補助対象とする。" in cells and "前進" in cells and "R4" in cells
    hq = app.test_client()
    hq.post("/login", data={"login": "fu-staff", "password": "password123"})
    cid = campaign_world["campaign_id"]
    page = hq.get(f"/followup/campaigns/{cid}").get_data(as_text=True)
    assert "<svg" in page and "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    for kind in ("xlsx", "docx"):
        response = hq.get(f"/followup/campaigns/{cid}/report.{kind}")
        assert response.status_code == 200 and response.data[:2] == b"PK"
    bad = hq.post(f"/followup/campaigns/{cid}/indicators", data={"name": "人員", "values": "令和 たくさん"})
    assert bad.status_code == 422 and "令和 たくさん" in bad.get_data(as_text=True)
