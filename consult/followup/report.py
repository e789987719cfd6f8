"""The 進行管理報告書 of a campaign as XLSX and DOCX: each request item with its answers and grades by addressee
and by year, then the indicators with their targets, actuals and grades. Pure functions of plain data
(``ReportData``, built by followup.queries.report_data), read back by tests/test_followup_report.py."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.chart import LineChart, Reference
from openpyxl.styles import Alignment, Font

from consult.core.text import clean, safe_cell
from consult.followup.chart import era_year, png

FONT = "MS Mincho"
HEADERS = ("番号", "要請項目", "年", "要請先", "回答の段階", "回答", "評価", "理由", "改善策")


@dataclass
class AnswerLine:
    addressee: str
    stage: str
    text: str
    grade: str
    reason: str = ""
    remedy: str = ""


@dataclass
class YearLines:
    year: int
    wording: str
    answers: list[AnswerLine]


@dataclass
class ItemEntry:
    label: str
    text: str
    years: list[YearLines]


@dataclass
class IndicatorLines:
    name: str
    unit: str
    rows: list[tuple[int, float | None, float | None, str]]  # fiscal year, target, actual, grade
    svg: str = ""  # the dashboard's chart (chart.line_chart): the DOCX embeds it as PNG
    owner: str = ""  # the organisation it belongs to, for an organisation's indicator

    @property
    def title(self) -> str:
        return f"{self.name}（{self.unit}）" if self.unit else self.name


@dataclass
class ReportData:
    title: str
    date_text: str
    counts: dict[str, int]
    unanswered: int
    overdue: int
    items: list[ItemEntry]
    indicators: list[IndicatorLines] = field(default_factory=list)


def rows(data: ReportData):
    """One row per item, year and addressee (an item nobody answered yet: one row with its wording)."""
    for item in data.items:
        for year in item.years:
            if not year.answers:
                yield (item.label, year.wording, year.year, "", "", "", "", "", "")
            for a in year.answers:
                yield (item.label, year.wording, year.year, a.addressee, a.stage, a.text, a.grade, a.reason, a.remedy)


def xlsx(data: ReportData) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "進行管理報告書"
    sheet.append([safe_cell(f"進行管理報告書　{data.title}")])
    sheet["A1"].font = Font(bold=True, size=14)
    summary = "　".join(f"{grade} {n}" for grade, n in data.counts.items())
    sheet.append([safe_cell(f"{data.date_text}　{summary}　未回答 {data.unanswered}　期限超過 {data.overdue}")])
    sheet.append([safe_cell(h) for h in HEADERS])
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in rows(data):
        sheet.append([safe_cell(v) if isinstance(v, str) else v for v in row])
    for letter, width in zip("ABCDEFGHI", (8, 50, 8, 20, 12, 60, 12, 30, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    if data.indicators:
        _indicator_sheet(workbook.create_sheet("到達指標"), data.indicators)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _indicator_sheet(sheet, indicators: list[IndicatorLines]) -> None:
    """A block of rows per indicator (年度・目標・実績・達成状況) with a native line chart of targets and actuals
    beside it."""
    row = 1
    for ind in indicators:
        sheet.cell(row, 1, safe_cell(ind.title + (f"　{ind.owner}" if ind.owner else ""))).font = Font(bold=True)
        for col, text in enumerate(("年度", "目標", "実績", "達成状況"), start=1):
            sheet.cell(row + 1, col, text).font = Font(bold=True)
        for n, (fy, target, actual, grade) in enumerate(ind.rows, start=row + 2):
            for col, value in enumerate((era_year(fy), target, actual, grade), start=1):
                sheet.cell(n, col, value)
        last = row + 1 + len(ind.rows)
        if ind.rows:
            chart = LineChart()
            chart.title = ind.title
            chart.y_axis.title = ind.unit or None
            chart.height, chart.width = 7, 14
            chart.add_data(Reference(sheet, min_col=2, max_col=3, min_row=row + 1, max_row=last), titles_from_data=True)
            chart.set_categories(Reference(sheet, min_col=1, min_row=row + 2, max_row=last))
            chart.series[0].graphicalProperties.line.dashStyle = "dash"
            sheet.add_chart(chart, f"F{row}")
        row = max(last + 2, row + 16)  # the next block below this one's chart


def _item_table(document, item: ItemEntry) -> None:
    table = document.add_table(rows=1, cols=6)
    table.style = "Table Grid"
    table.autofit = False
    widths = [Mm(w) for w in (14, 34, 22, 120, 24, 53)]  # 267 mm: the landscape page inside its margins
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for cell, text in zip(table.rows[0].cells, ("年", "要請先", "段階", "回答", "評価", "理由・改善策"), strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for year in item.years:
        if not year.answers:
            cells = table.add_row().cells
            cells[0].text, cells[3].text = str(year.year), clean(year.wording)
            for cell, width in zip(cells, widths, strict=True):
                cell.width = width
        for a in year.answers:
            cells = table.add_row().cells
            notes = "\n".join(filter(None, (a.reason and f"理由：{a.reason}", a.remedy and f"改善策：{a.remedy}")))
            for cell, value, width in zip(
                cells, (str(year.year), a.addressee, a.stage, a.text, a.grade, notes), widths, strict=True
            ):
                cell.text, cell.width = clean(value), width


def _indicator_table(document, ind: IndicatorLines) -> None:
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, ("年度", "目標", "実績", "達成状況"), strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for fy, target, actual, grade in ind.rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, (era_year(fy), target, actual, grade), strict=True):
            cell.text = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def docx(data: ReportData) -> bytes:
    """A4 landscape, numbered like a 進行管理報告書: 1. the requests (1-1, 1-2 … each with its answers by year
    and addressee), 2. the indicators (2-1 … each with its table and its chart as a picture)."""
    document = Document()
    style = document.styles["Normal"]
    style.font.size = Pt(10)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    document.add_heading(clean(f"進行管理報告書　{data.title}"), level=1)
    summary = "　".join(f"{grade}：{n}" for grade, n in data.counts.items())
    document.add_paragraph(clean(f"{data.date_text}　{summary}　未回答：{data.unanswered}　期限超過：{data.overdue}"))
    document.add_heading("1. 要請項目ごとの回答と評価", level=2)
    for number, item in enumerate(data.items, start=1):
        document.add_heading(clean(f"1-{number}　{item.label} {item.text}"), level=3)
        _item_table(document, item)
    if data.indicators:
        document.add_heading("2. 到達指標", level=2)
        for number, ind in enumerate(data.indicators, start=1):
            document.add_heading(clean(f"2-{number}　{ind.title}" + (f"（{ind.owner}）" if ind.owner else "")), level=3)
            _indicator_table(document, ind)
            picture = png(ind.svg) if ind.svg and ind.rows else None
            if picture:
                document.add_picture(io.BytesIO(picture), width=Mm(150))
                document.add_paragraph(f"図 2-{number}　{clean(ind.title)}：目標（破線）と実績（実線）")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
