"""Cost of the print-ready XLSX (issue 12): styled, wrapped, height-estimated cells against plain values.

    .venv/bin/python bench/print_exports.py [--rows 20000]

Writes the answer table's shape (11 columns) to a temporary file both ways and prints seconds, rows/s and the
ratio print-ready / plain. No database: it measures the writer alone (the query is the same for both).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from openpyxl import Workbook

from consult.review import exports


def rows(n: int):
    text = "標準化の期限を延ばすこと。窓口の負担が大きく、準備が間に合わない。" * 2
    for i in range(n):
        yield (
            "北海道本部",
            "1 項目1",
            "修正",
            text,
            "人員不足\n予算不足",
            "一部採用",
            text,
            "pref01",
            i,
            "2025年3月10日(月) 10:00",
            "",
        )


def plain(path: str, n: int) -> None:
    """The earlier writer: values only."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("回答表")
    sheet.append(list(exports.ANSWER_HEADERS + exports.EXTRA_HEADERS))
    for row in rows(n):
        sheet.append(list(row))
    workbook.save(path)


def timed(fn) -> float:
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        start = time.perf_counter()
        fn(path)
        return time.perf_counter() - start
    finally:
        os.unlink(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    n = parser.parse_args().rows
    base = timed(lambda path: plain(path, n))
    headers = exports.ANSWER_HEADERS + exports.EXTRA_HEADERS
    widths = exports.ANSWER_WIDTHS + exports.EXTRA_WIDTHS
    ready = timed(lambda path: exports.write_xlsx(path, "回答表", headers, widths, rows(n), heading="回答表：計測"))
    print(f"rows: {n:,}")
    print(f"plain values : {base:6.2f} s  ({n / base:,.0f} rows/s)")
    print(f"print-ready  : {ready:6.2f} s  ({n / ready:,.0f} rows/s)")
    print(f"ratio print-ready / plain: {ready / base:.2f}")


if __name__ == "__main__":
    main()
