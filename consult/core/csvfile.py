"""The one CSV reader of every import: UTF-8 with or without BOM, or CP932 (what Excel saves as 「CSV」 in
Japan), and every row with the line it starts on, so that messages can name the line to fix."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _

from consult.core.errors import RowErrors
from consult.core.text import clean

ENCODINGS = ("utf-8-sig", "cp932")


def decode(data: bytes | str) -> str:
    """The text of a CSV file; RowErrors when it is in none of the encodings people save CSV in."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RowErrors(
        [_("文字コードを判別できませんでした。CSVは UTF-8（BOM付きでも可）か Shift_JIS で保存してください。")]
    )


def read_rows(data: bytes | str) -> list[tuple[int, list[str]]]:
    """(line, cells) of every row, the first line being 1; a quoted cell may span lines."""
    text = decode(data)
    if "\x00" in text:
        raise RowErrors([_("CSVファイルとして読み込めませんでした。CSV のファイルを選んでください。")])
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    line = 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise RowErrors(
            [_('%(line)s行目: CSVとして読み込めませんでした。引用符（"）の対応を確認してください。', line=line)]
        ) from exc
    return rows


def read_records(data: bytes | str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows under a header line that names at least `columns`, as (line, {column: cleaned, trimmed value})."""
    rows = read_rows(data)
    if not rows:
        raise RowErrors(
            [_("ファイルが空です。1行目に見出し（%(columns)s）を書いてください。", columns=", ".join(columns))]
        )
    header_line, header = rows[0]
    header = [name.strip().lower() for name in header]
    missing = [name for name in columns if name not in header]
    if missing:
        raise RowErrors(
            [
                _(
                    "%(header_line)s行目: 見出しに %(join_missing)s の列がありません（必要な列: %(join_columns)s）。",
                    header_line=header_line,
                    join_missing=", ".join(missing),
                    join_columns=", ".join(columns),
                )
            ]
        )
    records = []
    for line, values in rows[1:]:
        if not any(v.strip() for v in values):
            continue
        records.append(
            (line, {name: clean(values[i]).strip() if i < len(values) else "" for i, name in enumerate(header)})
        )
    return records
