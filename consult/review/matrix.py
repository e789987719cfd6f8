"""Items × organisations with the stance in each cell (issue 10): pure functions, tested without HTTP.

The cells come from review.federation (one query); here they are counted, sorted, filtered and written as XLSX.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cached_property

from consult.answers.models import STANCES
from consult.core.text import safe_cell


@dataclass(frozen=True)
class Column:
    id: int
    name: str
    kind: str  # prefecture, local, council: "local" beside prefectures is a union headquarters asked directly
    via_prefecture: bool = False  # submitted to this round directly and to its prefecture's sub-round (両方から回答)


@dataclass(frozen=True)
class Row:
    id: int
    number: str
    heading: str


@dataclass
class Matrix:
    rows: list[Row]
    columns: list[Column]
    cells: dict[tuple[int, int], str]  # (item id, organisation id) -> stance
    sources: dict[tuple[int, int], int] = field(default_factory=dict)  # number of union opinions beneath a cell

    @cached_property
    def _counts(self) -> tuple[dict[int, dict[str, int]], dict[int, dict[str, int]]]:
        """Per row and per column, the number of cells of each stance: counted once, in one pass over the cells
        of the shown rows and columns (not once per row, column and page element)."""
        rows = {row.id: dict.fromkeys(STANCES, 0) for row in self.rows}
        columns = {column.id: dict.fromkeys(STANCES, 0) for column in self.columns}
        for (row_id, column_id), stance in self.cells.items():
            if row_id in rows and column_id in columns and stance in STANCES:
                rows[row_id][stance] += 1
                columns[column_id][stance] += 1
        return rows, columns

    def row_counts(self, row: Row) -> dict[str, int]:
        return self._counts[0][row.id]

    def column_counts(self, column: Column) -> dict[str, int]:
        return self._counts[1][column.id]

    def answered(self, column: Column) -> int:
        return sum(self.column_counts(column).values())

    def table(self, labels: dict[str, str], note: str) -> list[tuple[Row, list[tuple[str, str]], dict[str, int]]]:
        """Per row: each cell's (stance label, `note` % n for the n union opinions beneath it, or "") and the
        row's counts, built in Python once rather than translated and formatted per cell in the template."""
        out = []
        for row in self.rows:
            texts = []
            for column in self.columns:
                stance = self.cells.get((row.id, column.id))
                n = self.sources.get((row.id, column.id))
                texts.append((labels[stance] if stance else "", note % {"n": n} if n else ""))
            out.append((row, texts, self.row_counts(row)))
        return out


SORTS = ("position", "name", "answered")


def shaped(matrix: Matrix, stance: str = "", q: str = "", sort: str = "position") -> Matrix:
    """Filtered and sorted: `stance` keeps the organisations with that stance somewhere, `q` the organisations
    whose name holds it; columns in tree order, by name, or by how many items they answered (most first)."""
    columns = matrix.columns
    if q:
        columns = [c for c in columns if q in c.name]
    if stance in STANCES:
        columns = [c for c in columns if any(matrix.cells.get((r.id, c.id)) == stance for r in matrix.rows)]
    if sort == "name":
        columns = sorted(columns, key=lambda c: c.name)
    elif sort == "answered":
        columns = sorted(columns, key=lambda c: -matrix.answered(c))
    return Matrix(matrix.rows, list(columns), matrix.cells, matrix.sources)


def to_xlsx(matrix: Matrix, title: str) -> bytes:
    """One sheet: a row per item, a column per organisation, the stance in each cell, counts at the ends; a
    second sheet with the number of union opinions each cell rests on (the sources column)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "意見一覧表"
    sheet.append([safe_cell(title)])
    names = [safe_cell(c.name) + ("（両方から回答）" if c.via_prefecture else "") for c in matrix.columns]
    sheet.append(["項目", *names, *[str(label) for label in STANCES.values()]])
    for row in matrix.rows:
        counts = matrix.row_counts(row)
        sheet.append(
            [
                safe_cell(f"{row.number} {row.heading}"),
                *[str(STANCES.get(matrix.cells.get((row.id, c.id), ""), "")) for c in matrix.columns],
                *counts.values(),
            ]
        )
    sheet.append(["回答した項目数", *[matrix.answered(c) for c in matrix.columns]])
    sources = book.create_sheet("出典")
    sources.append(["項目", *[safe_cell(c.name) for c in matrix.columns]])
    for row in matrix.rows:
        sources.append(
            [safe_cell(f"{row.number} {row.heading}"), *[matrix.sources.get((row.id, c.id), 0) for c in matrix.columns]]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
