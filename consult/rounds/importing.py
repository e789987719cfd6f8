"""Turning pasted text, CSV and XLSX into item drafts, so fifty items need not be fifty forms.

Every function here is pure: it takes text or bytes and returns (drafts, errors). An input with any error
imports nothing; the errors name the line so the person can fix the file and try again.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from consult.core import csvfile
from consult.core.errors import RowErrors
from consult.core.text import clean
from consult.core.zipguard import BROKEN, ZipRefused, check_zip
from consult.rounds.models import BODY_LIMIT, HEADING_LENGTH, ITEMS_PER_IMPORT, NUMBER_LENGTH
from consult.rounds.operations import ItemDraft

HEADER_NUMBER, HEADER_HEADING, HEADER_BODY = "番号", "見出し", "本文"  # the columns as people name them
KNOWN_HEADERS = (HEADER_NUMBER, HEADER_HEADING, HEADER_BODY)
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
XLSX_UNREADABLE = _l("XLSXファイルを読み込めませんでした。Excel で「.xlsx」形式で保存したファイルを選んでください。")

# Numbering styles that start an item, tried on the NFKC form of the line (full-width digits become ASCII).
_STYLES = (
    ("dot", re.compile(r"^(\d{1,4})[.、)](?!\d)\s*(.*)$")),  # 1. 見出し / １．見出し / 1) 見出し
    ("paren", re.compile(r"^\((\d{1,4})\)\s*(.*)$")),  # （１）見出し
    ("chapter", re.compile(r"^(第\s*[0-9一二三四五六七八九十百]+\s*[章節条項部])\s*(.*)$")),  # 第1章 見出し
    ("circled", re.compile(r"^([\u2460-\u2473])\s*(.*)$")),  # ①見出し (NFKC would turn ① into 1)
)


def _match_style(line: str) -> tuple[str, str, str] | None:
    """(style, number, heading) when the line starts with a recognised number."""
    stripped = line.strip()
    if not stripped:
        return None
    found = _STYLES[3][1].match(stripped)
    if found:
        return "circled", found.group(1), found.group(2).strip()
    normal = unicodedata.normalize("NFKC", stripped)
    for style, pattern in _STYLES[:3]:
        found = pattern.match(normal)
        if found:
            number = found.group(1).replace(" ", "")
            if style == "paren":
                number = f"（{number}）"  # the item's number as the draft prints it
            # Keep the heading as typed (full-width letters and all), only the number is normalised.
            heading = _heading_as_typed(stripped, found.group(2))
            return style, number, heading
    return None


def _heading_as_typed(original: str, normalised_rest: str) -> str:
    """The heading part of the original line: NFKC can change lengths, so cut by the normalised tail."""
    if not normalised_rest:
        return ""
    for start in range(min(len(original), 16)):  # the number marker is short
        if unicodedata.normalize("NFKC", original[start:]).strip() == normalised_rest.strip():
            return original[start:].strip()
    return normalised_rest.strip()


def parse_numbered_text(text: str) -> tuple[list[ItemDraft], list[str]]:
    """Split pasted text into items: a numbered line starts an item, the lines below it are its body.

    The numbering style of the first numbered line (「1.」, 「（１）」, 「第1章」 or 「①」) marks items; lines
    numbered in another style, such as （１） under 1., stay in the body as sub-points.
    """
    drafts: list[ItemDraft] = []
    errors: list[str] = []
    bodies: list[list[str]] = []
    item_lines: list[int] = []
    style = None
    for line_no, line in enumerate(clean(text).split("\n"), start=1):
        found = _match_style(line)
        if found and (style is None or found[0] == style):
            style = found[0]
            _style, number, heading = found
            if not heading:
                errors.append(
                    _("%(line_no)s行目: 見出しがありません。番号の後に見出しを書いてください。", line_no=line_no)
                )
            drafts.append(ItemDraft(number=number, heading=heading))
            bodies.append([])
            item_lines.append(line_no)
            continue
        if not drafts:
            if line.strip():
                errors.append(
                    _("%(line_no)s行目: 最初の項目の番号（例「1. 見出し」）より前に文章があります。", line_no=line_no)
                )
            continue
        bodies[-1].append(line.rstrip())
    for draft, body, line_no in zip(drafts, bodies, item_lines, strict=True):
        draft.body = "\n".join(body).strip("\n")
        errors.extend(_length_errors(draft, _("%(line_no)s行目", line_no=line_no)))
    if not drafts and not errors:
        errors.append(_("項目が見つかりません。各項目の最初の行を「1. 見出し」のように番号で始めてください。"))
    if len(drafts) > ITEMS_PER_IMPORT:
        errors.append(
            _(
                "項目が多すぎます（%(len_drafts)s件）。一度に取り込めるのは%(items_per_import)s件までです。",
                len_drafts=len(drafts),
                items_per_import=ITEMS_PER_IMPORT,
            )
        )
    return (drafts, []) if not errors else ([], errors)


def _length_errors(draft: ItemDraft, where: str) -> list[str]:
    errors = []
    if len(draft.number) > NUMBER_LENGTH:
        errors.append(
            _("%(where)s: 番号が長すぎます（%(number_length)s文字まで）。", where=where, number_length=NUMBER_LENGTH)
        )
    if len(draft.heading) > HEADING_LENGTH:
        errors.append(
            _(
                "%(where)s: 見出しが長すぎます（%(heading_length)s文字まで、入力は%(len_draft_heading)s文字）。",
                where=where,
                heading_length=HEADING_LENGTH,
                len_draft_heading=f"{len(draft.heading):,}",
            )
        )
    if len(draft.body) > BODY_LIMIT:
        errors.append(
            _(
                "%(where)s: 本文が長すぎます（%(body_limit)s文字まで、入力は%(len_draft_body)s文字）。",
                where=where,
                body_limit=f"{BODY_LIMIT:,}",
                len_draft_body=f"{len(draft.body):,}",
            )
        )
    return errors


def parse_table_file(filename: str, data: bytes) -> tuple[list[ItemDraft], list[str]]:
    """A CSV or XLSX upload with the columns 番号, 見出し, 本文; the type is told by content, not by name."""
    if not data:
        return [], [_("ファイルが空です。")]
    if data.startswith(b"PK\x03\x04"):
        try:
            check_zip(data)  # before openpyxl opens it: no zip bombs
        except ZipRefused as exc:
            return [], [str(XLSX_UNREADABLE) if exc.message is BROKEN else str(exc)]
        rows, error = _xlsx_rows(data)
    else:
        rows, error = _csv_rows(data)
    if error:
        return [], [error]
    return parse_rows(rows)


def _csv_rows(data: bytes) -> tuple[list[tuple[int, list[str]]], str | None]:
    try:
        return csvfile.read_rows(data), None
    except RowErrors as exc:
        return [], exc.errors[0]


def _xlsx_rows(data: bytes) -> tuple[list[tuple[int, list[str]]], str | None]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of error on a file that is not a workbook
        return [], str(XLSX_UNREADABLE)
    try:
        sheet = workbook.worksheets[0]
        rows = [
            (line, [_cell_text(value) for value in row])
            for line, row in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        workbook.close()
    return rows, None


def _cell_text(value) -> str:
    """A spreadsheet cell as text: 1.0 typed as a number becomes 「1」."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def parse_rows(rows: list[tuple[int, list[str]]]) -> tuple[list[ItemDraft], list[str]]:
    """(line, cells) of a table whose first non-empty row is the header; messages name the lines."""
    header_index = next((i for i, (_line, row) in enumerate(rows) if any(cell.strip() for cell in row)), None)
    if header_index is None:
        return [], [_("ファイルに行がありません。1行目に「番号, 見出し, 本文」の見出し行を入れてください。")]
    header_line, header_row = rows[header_index]
    header = [unicodedata.normalize("NFKC", cell).strip() for cell in header_row]
    errors = []
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            continue
        if name not in KNOWN_HEADERS:
            errors.append(
                _(
                    "%(header_line)s行目: 不明な列「%(name)s」があります。使える列は「番号」「見出し」「本文」です。",
                    header_line=header_line,
                    name=name,
                )
            )
        elif name in columns:
            errors.append(_("%(header_line)s行目: 列「%(name)s」が二つあります。", header_line=header_line, name=name))
        else:
            columns[name] = index
    if HEADER_HEADING not in columns:
        errors.append(
            _(
                "%(header_line)s行目: 「見出し」の列がありません。1行目を「番号, 見出し, 本文」にしてください。",
                header_line=header_line,
            )
        )
    if errors:
        return [], errors
    drafts = []
    for line_no, row in rows[header_index + 1 :]:
        if not any(cell.strip() for cell in row):
            continue
        extra = [cell for index, cell in enumerate(row) if index >= len(header) or not header[index]]
        if any(cell.strip() for cell in extra):
            errors.append(_("%(line_no)s行目: 見出し行にない列に値があります。", line_no=line_no))
            continue
        number = _cell(row, columns, HEADER_NUMBER).translate(_DIGITS).strip() or str(len(drafts) + 1)
        draft = ItemDraft(
            number=number,
            heading=_cell(row, columns, HEADER_HEADING).strip(),
            body=_cell(row, columns, HEADER_BODY).strip("\n"),
        )
        if not draft.heading:
            errors.append(_("%(line_no)s行目: 見出しがありません。", line_no=line_no))
        errors.extend(_length_errors(draft, _("%(line_no)s行目", line_no=line_no)))
        drafts.append(draft)
    if not drafts and not errors:
        errors.append(_("見出し行の下に項目の行がありません。"))
    if len(drafts) > ITEMS_PER_IMPORT:
        errors.append(
            _(
                "項目が多すぎます（%(len_drafts)s件）。一度に取り込めるのは%(items_per_import)s件までです。",
                len_drafts=len(drafts),
                items_per_import=ITEMS_PER_IMPORT,
            )
        )
    return (drafts, []) if not errors else ([], errors)


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return clean(row[index]) if index is not None and index < len(row) else ""


def drafts_to_json(drafts: list[ItemDraft]) -> str:
    """The previewed rows, carried in a hidden field to the confirm button."""
    return json.dumps([[d.number, d.heading, d.body] for d in drafts], ensure_ascii=False)


def drafts_from_json(value: str) -> tuple[list[ItemDraft], list[str]]:
    """Read back the previewed rows, checking them again: a hidden field can be altered."""
    try:
        rows = json.loads(value or "")
    except ValueError:
        rows = None
    if (
        not isinstance(rows, list)
        or not rows
        or not all(isinstance(row, list) and len(row) == 3 and all(isinstance(v, str) for v in row) for row in rows)
    ):
        return [], [_("確認画面の内容を読み取れませんでした。もう一度取り込みからやり直してください。")]
    drafts = [ItemDraft(number=clean(n).strip(), heading=clean(h).strip(), body=clean(b)) for n, h, b in rows]
    errors = []
    for index, draft in enumerate(drafts, start=1):
        if not draft.number or not draft.heading:
            errors.append(_("%(index)s件目: 番号と見出しが必要です。", index=index))
        errors.extend(_length_errors(draft, _("%(index)s件目", index=index)))
    if len(drafts) > ITEMS_PER_IMPORT:
        errors.append(
            _(
                "項目が多すぎます（%(len_drafts)s件）。一度に取り込めるのは%(items_per_import)s件までです。",
                len_drafts=len(drafts),
                items_per_import=ITEMS_PER_IMPORT,
            )
        )
    return (drafts, []) if not errors else ([], errors)
