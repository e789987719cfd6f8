#!/usr/bin/env python
"""Search benchmark: the Japanese-aware full-text index (consult.core.search.index) on 150,000 opinions.

    python bench/search.py [--db sqlite|postgresql|both] [--docs 150000] [--repeat 15] [--keep]

1. **Load** (timed, not the point). A fresh database (an SQLite file in a temp directory, or a new PostgreSQL
   database consult_search_bench_<pid> on 127.0.0.1), the index created by `SearchIndex.create`, then --docs
   opinions of three fields each (該当箇所・修正案・理由, 150-350 characters, bench/jatext.py) indexed with
   `SearchIndex.upsert_many`, 2,000 per transaction, as the app's writes would; then `ANALYZE`.
2. **Queries.** Each query of QUERIES runs once to warm up, then --repeat times: the first page (50 ids, the
   way a result page asks) and the count of all matches, each timed on its own; the median is reported.
   Some run again *within one item* (the 3,000 ids of one item's opinions, as candidates). Also timed: the
   count capped at 1,000 (`count(cap=1000)`, for a page that says "1,000件以上").
3. **Baseline**, run alongside on the same table: a plain scan, `instr(folded, term) > 0` on SQLite and
   `strpos(folded, term) > 0` on PostgreSQL (neither can use an index) -- what a search costs without one.
   Its ids are compared with the index's: a difference stops the benchmark.

A benchmark, not a test: it prints a table per database and writes bench/out/search-<db>.json.
It only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchlib import create_database, drop_database  # noqa: E402
from jatext import round_opinions  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from consult.core.search.fold import terms  # noqa: E402
from consult.core.search.index import SearchIndex  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent / "out"
ITEMS = 50
BATCH = 2000
PAGE = 50
CAP = 1000  # a capped count, for "1,000件以上"
# (query, what it stands for); the 1-2 character terms use the gram index, 3 and more the trigram index.
QUERIES = [
    ("税", "1 character"),
    ("延期", "2 characters"),
    ("ＤＸ", "2 characters, full width (= DX)"),
    ("標準化", "3 characters"),
    ("ﾏｲﾅ", "3 characters, half-width katakana (= マイナ)"),
    ("でじたる", "hiragana for デジタル"),
    ("ランニングコスト", "a long word"),
    ("サーバー", "long vowel (= サーバ)"),
    ("マイナ 保険証", "two terms"),
    ("国 負担", "two 1-character terms"),
    ("人員の確保にも留意しつつ", "a phrase"),
    ("存在しない語句", "no match"),
]
WITHIN_QUERIES = ["税", "延期", "標準化", "ランニングコスト"]


def load(engine, index: SearchIndex, n: int) -> float:
    """Create the index and fill it as the app would, BATCH documents per transaction; seconds taken."""
    with engine.begin() as conn:
        index.create(conn)
    started = time.perf_counter()
    batch = []
    for ref_id, fields in round_opinions(n):
        batch.append((ref_id, fields))
        if len(batch) == BATCH:
            with engine.begin() as conn:
                index.upsert_many(conn, "opinion", batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            index.upsert_many(conn, "opinion", batch)
    took = time.perf_counter() - started
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ANALYZE {index.document}")
    return took


def baseline(conn, index: SearchIndex, query: str, within: list[int] | None, limit: int | None):
    """The same answer by scanning every folded text: ids (limit) or the count (limit None)."""
    wanted = terms(query)
    probe = "strpos(folded, :t{i}) > 0" if conn.dialect.name == "postgresql" else "instr(folded, :t{i}) > 0"
    where = " AND ".join(probe.format(i=i) for i in range(len(wanted)))
    params = {f"t{i}": t for i, t in enumerate(wanted)}
    if within is not None:
        where += " AND ref_id IN (" + ",".join(map(str, within)) + ")"
    base = f"FROM {index.document} WHERE kind = 'opinion' AND {where}"
    if limit is None:
        return conn.execute(text(f"SELECT count(*) {base}"), params).scalar_one()
    return [r for (r,) in conn.execute(text(f"SELECT ref_id {base} ORDER BY ref_id LIMIT {limit}"), params)]


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median milliseconds of `repeat` calls after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def measure(engine, index: SearchIndex, n: int, repeat: int) -> list[dict]:
    """Every query through the index and through the baseline scan; stops when their answers differ."""
    item_ids = [i for i in range(1, n + 1) if i % ITEMS == 7]
    cases = [(q, what, None) for q, what in QUERIES] + [(q, "within one item", item_ids) for q in WITHIN_QUERIES]
    rows = []
    with engine.connect() as conn:
        for query, what, within in cases:

            def page(q=query, w=within):
                return index.ref_ids(conn, q, "opinion", within=w, limit=PAGE)

            def count(q=query, w=within, cap=None):
                return index.count(conn, q, kinds="opinion", within=w, cap=cap)

            page_ms, ids = timed(page, repeat)
            count_ms, total = timed(count, repeat)
            capped_ms, capped = timed(lambda: count(cap=CAP), repeat)
            base_page_ms, base_ids = timed(lambda q=query, w=within: baseline(conn, index, q, w, PAGE), repeat)
            base_count_ms, base_total = timed(lambda q=query, w=within: baseline(conn, index, q, w, None), repeat)
            if ids != base_ids or total != base_total or capped != min(total, CAP):
                raise SystemExit(f"index and scan disagree on {query!r}: {total} vs {base_total}")
            rows.append(
                {
                    "query": query,
                    "what": what,
                    "within": within is not None,
                    "matches": total,
                    "page_ms": round(page_ms, 2),
                    "count_ms": round(count_ms, 2),
                    "capped_count_ms": round(capped_ms, 2),
                    "scan_page_ms": round(base_page_ms, 2),
                    "scan_count_ms": round(base_count_ms, 2),
                }
            )
            print(
                f"  {query:<14} {what:<40} {total:>7} {page_ms:8.1f} {count_ms:8.1f} {capped_ms:8.1f} "
                f"{base_page_ms:8.1f} {base_count_ms:8.1f}",
                flush=True,
            )
    return rows


def size_mb(engine, url: str, index: SearchIndex) -> float:
    """The index's size on disk: the SQLite file, or the PostgreSQL table with its indexes."""
    if url.startswith("sqlite"):
        return round(os.path.getsize(url.removeprefix("sqlite:///")) / 1e6, 1)
    with engine.connect() as conn:
        return round(conn.execute(text(f"SELECT pg_total_relation_size('{index.document}')")).scalar_one() / 1e6, 1)


def run(kind: str, args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="consult-search-bench-"))
    url, pg_name = create_database(kind, tmp, "search_bench")
    engine = create_engine(url)
    index = SearchIndex("bench")
    try:
        print(f"== {kind}: loading {args.docs:,} opinions", flush=True)
        load_s = load(engine, index, args.docs)
        size = size_mb(engine, url, index)
        print(f"   loaded in {load_s:.1f} s ({args.docs / load_s:,.0f} documents/s), {size} MB", flush=True)
        print(
            f"  {'query':<14} {'what':<40} {'matches':>7} {'page ms':>8} {'count ms':>8} {'cnt≤1000':>8} "
            f"{'scan pg':>8} {'scan cnt':>8}"
        )
        rows = measure(engine, index, args.docs, args.repeat)
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(pg_name)
    whole = [r for r in rows if not r["within"]]
    summary = {
        "db": kind,
        "docs": args.docs,
        "load_s": round(load_s, 1),
        "size_mb": size,
        "rows": rows,
        "median_page_ms": round(statistics.median(r["page_ms"] for r in whole), 2),
        "median_count_ms": round(statistics.median(r["count_ms"] for r in whole), 2),
        "median_capped_count_ms": round(statistics.median(r["capped_count_ms"] for r in whole), 2),
        "median_scan_page_ms": round(statistics.median(r["scan_page_ms"] for r in whole), 2),
        "median_scan_count_ms": round(statistics.median(r["scan_count_ms"] for r in whole), 2),
        "worst_page_ms": max(r["page_ms"] for r in whole),
        "worst_count_ms": max(r["count_ms"] for r in whole),
    }
    summary["ratio_page"] = round(summary["median_scan_page_ms"] / summary["median_page_ms"], 2)
    summary["ratio_count"] = round(summary["median_scan_count_ms"] / summary["median_count_ms"], 2)
    print(
        f"   median over the {len(whole)} queries: index page {summary['median_page_ms']} ms, count "
        f"{summary['median_count_ms']} ms (capped {summary['median_capped_count_ms']} ms); scan page "
        f"{summary['median_scan_page_ms']} ms, count {summary['median_scan_count_ms']} ms; scan/index "
        f"{summary['ratio_page']}x (page), {summary['ratio_count']}x (count)",
        flush=True,
    )
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / f"search-{kind}.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--docs", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args(argv)
    for kind in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
        run(kind, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
