"""The opinion table (upper federation's format) and the answer table, as rows and as XLSX, DOCX and CSV.

Rows come from generators reading the database in batches (yield_per: a server-side cursor on PostgreSQL),
so a round of 150,000 opinions is never held in memory. CSV is written as it is read; XLSX is written by
openpyxl's write-only workbook to a temporary file and streamed from there. python-docx keeps the whole
document in memory and slows down with every row, so DOCX is refused above DOCX_MAX_ROWS (one item at a
time, or XLSX/CSV, is the way for larger rounds).
"""

from __future__ import annotations

import csv
import functools
import io
import os
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator
from copy import copy

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from consult.answers.models import STANCES, Answer, Opinion, OpinionRevision, OpinionSource
from consult.answers.queries import counted
from consult.core.clock import format_jst
from consult.core.text import clean, safe_cell
from consult.extensions import db
from consult.letters.models import RequestItemOpinion
from consult.orgs.models import Organization
from consult.review import queries
from consult.review.groups import merged_label
from consult.review.models import OpinionGroup, OpinionGroupMember
from consult.rounds.models import Round, RoundItem

BATCH = 1000
CHUNK = 64 * 1024
DOCX_MAX_ROWS = 3000
DOCX_FONT = "ＭＳ 明朝"  # Mincho for the text; LibreOffice prints it with IPAex明朝
NEW_ITEM = "新規"

# 出典: the union opinions a prefecture's opinion rests on (issue 10), "#id 組織名" one a line.
OPINION_HEADERS = ("項目番号", "項目", "該当箇所（現行の文言）", "修正案・意見", "理由", "区分", "組織名", "出典")
ANSWER_HEADERS = ("組織名", "項目", "区分", "意見（修正案）", "理由", "対応", "本部の考え方")
# Relative widths (mm on landscape A4, 267 mm between the margins).
OPINION_WIDTHS = (16, 40, 46, 50, 45, 14, 32, 24)
ANSWER_WIDTHS = (30, 36, 14, 62, 45, 16, 64)
# Appended to the XLSX tables, for the office that files them: who, which opinion, when, and where it went.
EXTRA_HEADERS = ("組織コード", "意見ID", "提出日時", "結び付けた要請項目")
EXTRA_WIDTHS = (22, 16, 46, 60)

TABLES = {
    "opinions": ("意見一覧", OPINION_HEADERS, OPINION_WIDTHS),
    "answers": ("回答表（本部の考え方）", ANSWER_HEADERS, ANSWER_WIDTHS),
}


def _rows_query(round_id: int, item_id: int | None | str = "all"):
    """Submitted opinions of the round (or of one item, None = proposals) in table order."""
    answered = aliased(OpinionRevision)
    stmt = (
        select(
            Opinion.id,
            Opinion.item_id,
            RoundItem.number,
            RoundItem.heading,
            Opinion.heading.label("proposal_heading"),
            Opinion.referred_text,
            Opinion.proposed_text,
            Opinion.reason,
            Opinion.stance,
            Opinion.disposition,
            Opinion.hq_view,
            Organization.name.label("organization"),
            Organization.code.label("organization_code"),
            Opinion.id.label("opinion_id"),
            Answer.submitted_at,
            OpinionGroup.id.label("group_id"),  # issue 12: 統合 names its group (論点)
            OpinionGroup.name.label("group_name"),
            answered.id.label("answered_id"),
            answered.stance.label("answered_stance"),
            answered.heading.label("answered_heading"),
            answered.referred_text.label("answered_referred_text"),
            answered.proposed_text.label("answered_proposed_text"),
            answered.reason.label("answered_reason"),
        )
        .join(Answer, counted(round_id))
        .join(Organization, Organization.id == Answer.organization_id)
        .outerjoin(RoundItem, RoundItem.id == Opinion.item_id)
        .outerjoin(OpinionGroupMember, OpinionGroupMember.opinion_id == Opinion.id)
        .outerjoin(OpinionGroup, OpinionGroup.id == OpinionGroupMember.group_id)
        .outerjoin(  # the wording headquarters answered, when the branch has changed it since
            answered,
            (answered.opinion_id == Opinion.id)
            & (answered.revision == Opinion.answered_revision)
            & (Opinion.answered_revision != Opinion.revision),
        )
        .order_by(
            case((Opinion.item_id.is_(None), 1), else_=0),
            RoundItem.position,
            RoundItem.id,
            Organization.position,
            Organization.id,
            Opinion.position,
            Opinion.id,
        )
    )
    if item_id is None:
        stmt = stmt.where(Opinion.item_id.is_(None))
    elif item_id != "all":
        stmt = stmt.where(Opinion.item_id == item_id)
    return stmt


def count_rows(round_id: int, item_id: int | None | str = "all") -> int:
    """How many rows an export of the round (or one item) would hold."""
    stmt = _rows_query(round_id, item_id).order_by(None)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


def _stream(round_id: int, item_id, session=None) -> Iterator:
    result = (session or db.session).execute(_rows_query(round_id, item_id).execution_options(yield_per=BATCH))
    try:
        yield from result
    finally:
        result.close()


def sources_column(round_id: int, session=None) -> dict[int, str]:
    """{opinion id: "#id 組織名" per line} of the round's opinions resting on union opinions (one query; a few per
    prefecture opinion, so held in memory beside the streamed rows). The union's name only when headquarters
    reads the union opinions beneath (Round.show_sub_opinions), else the ids alone."""
    session = session or db.session
    named = bool(session.scalar(select(Round.show_sub_opinions).where(Round.id == round_id)))
    source = aliased(Opinion)
    source_answer = aliased(Answer)
    rows = session.execute(
        select(OpinionSource.opinion_id, OpinionSource.source_id, Organization.name)
        .join(Opinion, Opinion.id == OpinionSource.opinion_id)
        .join(Answer, Answer.id == Opinion.answer_id)
        .join(source, source.id == OpinionSource.source_id)
        .join(source_answer, source_answer.id == source.answer_id)
        .join(Organization, Organization.id == source_answer.organization_id)
        .where(Answer.round_id == round_id)
        .order_by(OpinionSource.opinion_id, Organization.position, OpinionSource.source_id)
    )
    lines: dict[int, list[str]] = {}
    for opinion_id, source_id, name in rows:
        lines.setdefault(opinion_id, []).append(f"#{source_id} {name}" if named else f"#{source_id}")
    return {opinion_id: "\n".join(found) for opinion_id, found in lines.items()}


def _links_of(session, opinion_ids: list[int]) -> dict[int, list[int]]:
    """The request items that take up each opinion of a batch, in one query."""
    found: dict[int, list[int]] = {}
    stmt = (
        select(RequestItemOpinion.opinion_id, RequestItemOpinion.request_item_id)
        .where(RequestItemOpinion.opinion_id.in_(opinion_ids))
        .order_by(RequestItemOpinion.opinion_id, RequestItemOpinion.request_item_id)
    )
    for opinion_id, request_item_id in session.execute(stmt):
        found.setdefault(opinion_id, []).append(request_item_id)
    return found


def _extended(rows_of, round_id: int, item_id, session, labels: dict[int, str]) -> Iterator[tuple]:
    """The table's rows with EXTRA_HEADERS appended: organisation code, opinion id, submission time (Japan time)
    and the request items the opinion is linked to (one query per batch)."""
    session = session or db.session
    batch: list = []

    def flush():
        links = _links_of(session, [raw.opinion_id for raw, _row in batch])
        for raw, row in batch:
            linked = "\n".join(labels.get(i, f"#{i}") for i in links.get(raw.opinion_id, []))
            yield (*row, raw.organization_code or "", raw.opinion_id, format_jst(raw.submitted_at, lang="ja"), linked)

    for raw in _stream(round_id, item_id, session):
        batch.append((raw, rows_of(raw)))
        if len(batch) >= BATCH:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def opinion_row(r, sources: dict[int, str]) -> tuple[str, ...]:
    """One line of the upper federation's table (連合フォーマット); the header is OPINION_HEADERS.
    sources: sources_column() of the round, read once per export."""
    new = r.item_id is None
    return (
        NEW_ITEM if new else r.number,
        r.proposal_heading if new else r.heading,
        r.referred_text,
        r.proposed_text,
        r.reason,
        STANCES.get(r.stance, r.stance),
        r.organization,
        sources.get(r.id, ""),
    )


def opinion_rows(round_id: int, item_id: int | None | str = "all", session=None) -> Iterator[tuple[str, ...]]:
    """The upper federation's table (連合フォーマット), one tuple per opinion; the header is OPINION_HEADERS."""
    sources = sources_column(round_id, session)
    for r in _stream(round_id, item_id, session):
        yield opinion_row(r, sources)


def answer_rows(round_id: int, item_id: int | None | str = "all", session=None) -> Iterator[tuple[str, ...]]:
    """The answer table: each opinion with headquarters' 対応 and 本部の考え方 (header not included), in the
    wording headquarters answered (as the published table shows it) until it answers a branch's change."""
    for r in _stream(round_id, item_id, session):
        yield answer_row(r)


def answer_row(r) -> tuple[str, ...]:
    """One line of the answer table; the header is ANSWER_HEADERS (統合 names its group, 論点)."""
    new = r.item_id is None
    kept = r.answered_id is not None
    heading = r.answered_heading if kept else r.proposal_heading
    item = f"{NEW_ITEM}：{heading}" if new else f"{r.number} {r.heading}"
    stance = r.answered_stance if kept else r.stance
    opinion = (r.answered_proposed_text or r.answered_referred_text) if kept else (r.proposed_text or r.referred_text)
    return (
        r.organization,
        item,
        STANCES.get(stance, stance),
        opinion,
        r.answered_reason if kept else r.reason,
        merged_label(r.disposition, (r.group_name or f"論点#{r.group_id}") if r.group_id else None),
        r.hq_view,
    )


ROWS = {"opinions": opinion_rows, "answers": answer_rows}


def _row_of(kind: str, round_id: int, session):
    """One row's function of a table, given what it needs (the opinions' sources, read once per export)."""
    if kind == "opinions":
        return functools.partial(opinion_row, sources=sources_column(round_id, session))
    return answer_row


# ---------------------------------------------------------------- CSV


def csv_chunks(headers: tuple[str, ...], rows: Iterable[tuple]) -> Iterator[bytes]:
    """UTF-8 with a BOM (Excel reads Japanese right), CRLF, every cell quoted when needed and made inert."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow([safe_cell(h) for h in headers])
    count = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        count += 1
        if count % BATCH == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode("utf-8")


# ---------------------------------------------------------------- XLSX


def _xlsx_styles(workbook) -> None:
    """Named styles, registered once: a cell refers to one by name (cheaper than a style object per cell)."""
    side = Side(style="thin", color="808080")
    border = Border(left=side, right=side, top=side, bottom=side)
    title = NamedStyle(name="title", font=Font(bold=True, size=14))
    header = NamedStyle(
        name="header",
        font=Font(bold=True),
        fill=PatternFill("solid", fgColor="D9D9D9"),
        border=border,
        alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
    )
    body = NamedStyle(name="body", border=border, alignment=Alignment(wrap_text=True, vertical="top"))
    for style in (title, header, body):
        workbook.add_named_style(style)


def _print_setup(sheet) -> None:
    """A4 landscape, every column on the page's width, the header row (row 2) again on every page, page numbers."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "2:2"
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = "&P / &N"
    sheet.oddHeader.right.text = "&A"


def write_xlsx(
    path: str,
    title: str,
    headers: tuple[str, ...],
    widths: tuple[int, ...],
    rows: Iterable[tuple],
    heading: str = "",
):
    """A write-only workbook (rows go to disk as they come, so memory stays flat) that prints as it is: a title
    row (heading: the round and the date), the header row repeated on every page, borders and wrapped text."""
    workbook = Workbook(write_only=True)
    _xlsx_styles(workbook)
    sheet = workbook.create_sheet(clean(title)[:31])
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width * 0.6
    sheet.freeze_panes = "A3"
    _print_setup(sheet)

    looks = {}
    for name in ("title", "header", "body"):  # the named style is looked up once, then its style array copied
        sample = WriteOnlyCell(sheet)
        sample.style = name
        looks[name] = sample._style

    def styled(value, style: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value if isinstance(value, int) else safe_cell(value))
        cell._style = copy(looks[style])
        return cell

    columns = [width * 0.6 for width in widths]
    sheet.append([styled(heading or title, "title")])
    sheet.row_dimensions[2].height = _row_height(headers, columns)
    sheet.append([styled(text, "header") for text in headers])
    for number, row in enumerate(rows, start=3):
        # A printed row must be tall enough for its wrapped text: nothing recomputes it on opening the file.
        sheet.row_dimensions[number].height = _row_height(row, columns)
        sheet.append([styled(value, "body") for value in row])
        del sheet.row_dimensions[number]  # written with the row; memory stays flat
    workbook.save(path)


LINE_POINTS = 15  # one line of the 11 pt default font
MAX_ROW_POINTS = 409  # Excel's highest row


def _row_height(row, columns: list[float]) -> float:
    """Points for the row's tallest cell when its text wraps at the column's width (a wide character counts 2)."""
    lines = 1
    for value, width in zip(row, columns, strict=False):
        if value is None or isinstance(value, int):
            continue
        per_line = max(1, int(width) - 1)
        count = 0
        for part in str(value).split("\n"):
            count += max(1, -(-_display_width(part) // per_line))
        lines = max(lines, count)
    return min(MAX_ROW_POINTS, lines * LINE_POINTS)


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def xlsx_chunks(title: str, headers, widths, rows: Iterable[tuple], heading: str = "") -> Iterator[bytes]:
    """Write the workbook to a temporary file, then hand it out in chunks and remove the file."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, title, headers, widths, rows, heading=heading)
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


# ---------------------------------------------------------------- DOCX


def _set_font(document, name: str) -> None:
    """One font family for the whole document, Latin and Japanese alike: the Normal style and the document
    defaults (whose theme fonts would otherwise win) name it for every script (w:rFonts)."""
    style = document.styles["Normal"]
    style.font.size = Pt(9)
    targets = [style.element.get_or_add_rPr().get_or_add_rFonts()]
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        for r_fonts in defaults.iter(qn("w:rFonts")):
            targets.append(r_fonts)
    for r_fonts in targets:
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            if r_fonts.get(qn(theme)) is not None:
                del r_fonts.attrib[qn(theme)]
        for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            r_fonts.set(qn(script), name)


def _row_property(row, tag: str) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement(tag)
    if tag == "w:tblHeader":
        element.set(qn("w:val"), "true")
    tr_pr.append(element)


def _repeat_header(row) -> None:
    """The header row prints again at the top of every page."""
    _row_property(row, "w:tblHeader")


def _keep_whole(row) -> None:
    """A row is never split across two pages (w:cantSplit)."""
    _row_property(row, "w:cantSplit")


def _field(paragraph, instruction: str) -> None:
    """A Word field (PAGE, NUMPAGES) that the reader fills in."""
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {text} "
        run._r.append(element)


def _page_frame(section, heading: str) -> None:
    """The header (the round and the date, right) and the footer (page / pages, centred) of every page."""
    header = section.header.paragraphs[0]
    header.text = clean(heading)
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _field(footer, "PAGE")
    footer.add_run(" / ")
    _field(footer, "NUMPAGES")


def _shade(cell, fill: str) -> None:
    tc_pr = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), fill)
    tc_pr.append(shading)


def write_docx(
    fileobj,
    title: str,
    headers: tuple[str, ...],
    widths: tuple[int, ...],
    rows: Iterable[tuple],
    max_rows: int = DOCX_MAX_ROWS,
    heading: str = "",
    group: tuple[int, ...] = (),
) -> int:
    """A landscape A4 table that prints as it is: rows never split across pages, the header row on every page,
    page numbers, a page header with the round and the date, one Mincho font. `group`: the columns (e.g. the
    item) printed once as a row above their opinions, with the count, instead of on every row. python-docx
    holds it all in memory, hence max_rows (the caller checks first)."""
    document = Document()
    _set_font(document, DOCX_FONT)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    _page_frame(section, heading or title)
    title_run = document.add_paragraph().add_run(clean(title))  # every string written is cleaned
    title_run.bold, title_run.font.size = True, Pt(14)
    kept = [i for i in range(len(headers)) if i not in group]
    shown_headers = [headers[i] for i in kept]
    spare = sum(widths[i] for i in group)
    column_widths = [Mm(widths[i] + spare * widths[i] / sum(widths[j] for j in kept)) for i in kept]
    table = document.add_table(rows=1, cols=len(kept))
    table.style = "Table Grid"
    table.autofit = False
    for column, width in zip(table.columns, column_widths, strict=True):
        column.width = width
    for cell, text, width in zip(table.rows[0].cells, shown_headers, column_widths, strict=True):
        cell.width = width
        cell.paragraphs[0].add_run(clean(text)).bold = True
        _shade(cell, "D9D9D9")
    _repeat_header(table.rows[0])
    _keep_whole(table.rows[0])
    written = 0
    current, group_cell, in_group = None, None, 0

    def close_group():
        if group_cell is not None:
            run = group_cell.paragraphs[0].add_run(f"{clean(current)}（{in_group}件）")
            run.bold = True

    for row in rows:
        if written >= max_rows:
            break
        if group:
            label = " ".join(str(row[i]) for i in group if row[i] not in (None, ""))
            if label != current:
                close_group()
                group_row = table.add_row()
                _keep_whole(group_row)
                group_cell = group_row.cells[0].merge(group_row.cells[-1])
                _shade(group_cell, "F2F2F2")
                current, in_group = label, 0
            in_group += 1
        line = table.add_row()
        _keep_whole(line)
        for cell, index, width in zip(line.cells, kept, column_widths, strict=True):
            cell.width = width
            value = row[index]
            text = clean("" if value is None else str(value))
            if text:
                cell.paragraphs[0].add_run(text)  # "\n" becomes a line break inside the cell
        written += 1
    close_group()
    document.save(fileobj)
    return written


def docx_chunks(title: str, headers, widths, rows: Iterable[tuple], heading: str = "", group=()) -> Iterator[bytes]:
    """The DOCX built in memory (see the module note), then handed out in chunks."""
    out = io.BytesIO()
    write_docx(out, title, headers, widths, rows, heading=heading, group=group)
    view = out.getbuffer()
    for start in range(0, len(view), CHUNK):
        yield bytes(view[start : start + CHUNK])


RECORD_HEADERS = ("項目", "番号", "組織", "意見の概要", "本部の考え方", "修正の有無")
RECORD_WIDTHS = (40, 10, 30, 90, 90, 27)
OTHER_ORG = "他の組織"
OWN_MARK = "【自組織】"


def record_rows(round_id: int, own_org_id: int | None, session=None) -> Iterator[tuple]:
    """The published answer table as a results notice (意見の概要 / 本部の考え方 / 修正の有無), in item order,
    numbered within each item, in the wording headquarters answered. A branch (own_org_id) reads its own
    organisation marked and 「他の組織」 for the others, as on the page."""
    stmt = queries.in_table_order(queries.published_rows(round_id, own_org_id, False))
    result = (session or db.session).execute(stmt.execution_options(yield_per=BATCH))
    current, number = object(), 0
    try:
        for opinion, item_number, item_heading, org_id, org_name in result:
            if opinion.item_id != current:
                current, number = opinion.item_id, 0
            number += 1
            shown = opinion.as_answered()
            item = f"{item_number} {item_heading}" if opinion.item_id else f"{NEW_ITEM}：{shown.heading}"
            if own_org_id is None:
                organisation = org_name
            else:
                organisation = f"{OWN_MARK}{org_name}" if org_id == own_org_id else OTHER_ORG
            summary = f"［{STANCES.get(shown.stance, shown.stance)}］{shown.proposed_text or shown.referred_text}"
            if shown.reason:
                summary += f"\n（理由）{shown.reason}"
            modification = queries.MODIFICATION.get(opinion.disposition, "") if opinion.disposition else "—"
            yield (item, number, organisation, summary, opinion.hq_view, modification)
    finally:
        result.close()


def record_chunks(
    fmt: str, round_id: int, round_title: str, own_org_id: int | None, session=None, printed_on: str = ""
) -> Iterator[bytes]:
    """The published table as DOCX (items as group rows with counts) or XLSX (one row per opinion)."""
    title = f"「{round_title}」に関する意見と本部の考え方"
    heading = f"{title}　{printed_on}".strip()
    rows = record_rows(round_id, own_org_id, session)
    if fmt == "xlsx":
        return xlsx_chunks("意見と本部の考え方", RECORD_HEADERS, RECORD_WIDTHS, rows, heading=heading)
    return docx_chunks(title, RECORD_HEADERS, RECORD_WIDTHS, rows, heading=heading, group=(0,))


GROUPS = {"opinions": (0, 1), "answers": (1,)}  # the item's columns, printed once above its opinions in DOCX


def export_chunks(
    kind: str,
    fmt: str,
    round_id: int,
    round_title: str,
    item_id="all",
    session=None,
    *,
    printed_on: str = "",
    links: dict[int, str] | None = None,
) -> Iterator[bytes]:
    """The bytes of one export, produced as they are read (session: the app's scoped one unless given).
    printed_on: the date in the title and page header; links: request item id → its printed label."""
    table_title, headers, widths = TABLES[kind]
    title = f"{table_title}：{round_title}"
    heading = f"{title}　{printed_on}".strip()
    if fmt == "csv":
        return csv_chunks(headers, ROWS[kind](round_id, item_id, session))
    if fmt == "xlsx":
        rows = _extended(_row_of(kind, round_id, session), round_id, item_id, session, links or {})
        return xlsx_chunks(table_title, headers + EXTRA_HEADERS, widths + EXTRA_WIDTHS, rows, heading=heading)
    rows = ROWS[kind](round_id, item_id, session)
    return docx_chunks(title, headers, widths, rows, heading=heading, group=GROUPS[kind])
