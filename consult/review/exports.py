"""The opinion table (upper federation's format) and the answer table, as rows and as XLSX, DOCX and CSV.

Rows come from generators reading the database in batches (yield_per: a server-side cursor on PostgreSQL),
so a round of 150,000 opinions is never held in memory. CSV is written as it is read; XLSX is written by
openpyxl's write-only workbook to a temporary file and streamed from there. python-docx keeps the whole
document in memory and slows down with every row, so DOCX is refused above DOCX_MAX_ROWS (one item at a
time, or XLSX/CSV, is the way for larger rounds).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import case, func, select
from sqlalchemy.orm import aliased

from consult.answers.models import STANCES, Answer, Opinion, OpinionRevision
from consult.answers.queries import counted
from consult.core.text import clean, safe_cell
from consult.extensions import db
from consult.orgs.models import Organization
from consult.review.groups import merged_label
from consult.review.models import OpinionGroup, OpinionGroupMember
from consult.rounds.models import RoundItem

BATCH = 1000
CHUNK = 64 * 1024
DOCX_MAX_ROWS = 3000
DOCX_FONT = "ＭＳ ゴシック"
NEW_ITEM = "新規"

OPINION_HEADERS = ("項目番号", "項目", "該当箇所（現行の文言）", "修正案・意見", "理由", "区分", "組織名")
ANSWER_HEADERS = ("組織名", "項目", "区分", "意見（修正案）", "理由", "対応", "本部の考え方")
# Relative widths (mm on landscape A4, 267 mm between the margins).
OPINION_WIDTHS = (16, 40, 50, 60, 55, 14, 32)
ANSWER_WIDTHS = (30, 36, 14, 62, 45, 16, 64)

TABLES = {
    "opinions": ("意見一覧", OPINION_HEADERS, OPINION_WIDTHS),
    "answers": ("回答表（本部の考え方）", ANSWER_HEADERS, ANSWER_WIDTHS),
}


def _rows_query(round_id: int, item_id: int | None | str = "all"):
    """Submitted opinions of the round (or of one item, None = proposals) in table order."""
    answered = aliased(OpinionRevision)
    stmt = (
        select(
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


def opinion_rows(round_id: int, item_id: int | None | str = "all", session=None) -> Iterator[tuple[str, ...]]:
    """The upper federation's table (連合フォーマット), one tuple per opinion; the header is OPINION_HEADERS."""
    for r in _stream(round_id, item_id, session):
        new = r.item_id is None
        yield (
            NEW_ITEM if new else r.number,
            r.proposal_heading if new else r.heading,
            r.referred_text,
            r.proposed_text,
            r.reason,
            STANCES.get(r.stance, r.stance),
            r.organization,
        )


def answer_rows(round_id: int, item_id: int | None | str = "all", session=None) -> Iterator[tuple[str, ...]]:
    """The answer table: each opinion with headquarters' 対応 and 本部の考え方 (header not included), in the
    wording headquarters answered (as the published table shows it) until it answers a branch's change."""
    for r in _stream(round_id, item_id, session):
        new = r.item_id is None
        kept = r.answered_id is not None
        heading = r.answered_heading if kept else r.proposal_heading
        item = f"{NEW_ITEM}：{heading}" if new else f"{r.number} {r.heading}"
        stance = r.answered_stance if kept else r.stance
        opinion = (
            (r.answered_proposed_text or r.answered_referred_text) if kept else (r.proposed_text or r.referred_text)
        )
        yield (
            r.organization,
            item,
            STANCES.get(stance, stance),
            opinion,
            r.answered_reason if kept else r.reason,
            merged_label(r.disposition, (r.group_name or f"論点#{r.group_id}") if r.group_id else None),
            r.hq_view,
        )


ROWS = {"opinions": opinion_rows, "answers": answer_rows}


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


def write_xlsx(path: str, title: str, headers: tuple[str, ...], widths: tuple[int, ...], rows: Iterable[tuple]):
    """A write-only workbook: rows go to disk as they come, so memory stays flat."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(clean(title)[:31])
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width * 0.6
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=safe_cell(text))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    # Plain values: a styled cell per value (wrap text) makes a 150,000-row table several times slower.
    for row in rows:
        sheet.append([safe_cell(value) for value in row])
    workbook.save(path)


def xlsx_chunks(title: str, headers, widths, rows: Iterable[tuple]) -> Iterator[bytes]:
    """Write the workbook to a temporary file, then hand it out in chunks and remove the file."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, title, headers, widths, rows)
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


# ---------------------------------------------------------------- DOCX


def _set_east_asian_font(document, name: str) -> None:
    """Like consult.letters.render: the East Asian font on the Normal style (w:rFonts w:eastAsia)."""
    style = document.styles["Normal"]
    style.font.size = Pt(9)
    r_fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    r_fonts.set(qn("w:eastAsia"), name)


def _repeat_header(row) -> None:
    """The header row prints again at the top of every page."""
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def write_docx(
    fileobj,
    title: str,
    headers: tuple[str, ...],
    widths: tuple[int, ...],
    rows: Iterable[tuple],
    max_rows: int = DOCX_MAX_ROWS,
) -> int:
    """A landscape A4 table; python-docx holds it all in memory, hence max_rows (the caller checks first)."""
    document = Document()
    _set_east_asian_font(document, DOCX_FONT)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
    document.add_heading(clean(title), level=1)  # every string written is cleaned: a stored row never breaks it
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    table.autofit = False
    column_widths = [Mm(w) for w in widths]
    for column, width in zip(table.columns, column_widths, strict=True):
        column.width = width
    for cell, text, width in zip(table.rows[0].cells, headers, column_widths, strict=True):
        cell.width = width
        cell.paragraphs[0].add_run(clean(text)).bold = True
    _repeat_header(table.rows[0])
    written = 0
    for row in rows:
        if written >= max_rows:
            break
        cells = table.add_row().cells
        for cell, value, width in zip(cells, row, column_widths, strict=True):
            cell.width = width
            text = clean("" if value is None else str(value))
            if text:
                cell.paragraphs[0].add_run(text)  # "\n" becomes a line break inside the cell
        written += 1
    document.save(fileobj)
    return written


def docx_chunks(title: str, headers, widths, rows: Iterable[tuple]) -> Iterator[bytes]:
    """The DOCX built in memory (see the module note), then handed out in chunks."""
    out = io.BytesIO()
    write_docx(out, title, headers, widths, rows)
    view = out.getbuffer()
    for start in range(0, len(view), CHUNK):
        yield bytes(view[start : start + CHUNK])


def export_chunks(kind: str, fmt: str, round_id: int, round_title: str, item_id="all", session=None) -> Iterator[bytes]:
    """The bytes of one export, produced as they are read (session: the app's scoped one unless given)."""
    table_title, headers, widths = TABLES[kind]
    rows = ROWS[kind](round_id, item_id, session)
    title = f"{table_title}：{round_title}"
    if fmt == "csv":
        return csv_chunks(headers, rows)
    if fmt == "xlsx":
        return xlsx_chunks(table_title, headers, widths, rows)
    return docx_chunks(title, headers, widths, rows)
