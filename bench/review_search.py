#!/usr/bin/env python
"""Search benchmark of the app (issue 12): headquarters' search box (consult.review.search) at 150,000 opinions.

    python bench/review_search.py [--db sqlite|postgresql|both] [--orgs 3000] [--items 50] [--repeat 7]

1. **Load**: the round of bench/aggregation.py (--orgs × --items submitted opinions by Core inserts, one in
   five weighed with 本部の考え方), then the full-text index filled as migration 0004_review would fill it
   (`consult.review.search.reindex`, timed), then ANALYZE.
2. **Search**: `consult.review.search.search(Query, 50)` -- what the page runs: the capped count, one page of
   20 opinions newest first with their snippets and highlights, and the matching items -- for queries from
   rare to common, in full width and half width, one and two characters, with and without filters. Each once
   to warm up, then --repeat times; the median and the slowest are printed in milliseconds.

A benchmark, not a test: it prints a table per database and writes bench/out/review_search-<db>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregation import load, make_app  # noqa: E402
from benchlib import create_database, drop_database  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent / "out"
GOAL_MS = 100


def queries(info: dict) -> list[tuple[str, dict]]:
    round_id, item = info["round_id"], info["item_ids"][7]
    return [
        ("rare: 組織0123・項目07", {"q": "組織0123・項目07"}),
        ("katakana: ランニングコスト (1/3 of rows)", {"q": "ランニングコスト"}),
        ("half width: ﾗﾝﾆﾝｸﾞｺｽﾄ", {"q": "ﾗﾝﾆﾝｸﾞｺｽﾄ"}),
        ("hiragana: らんにんぐこすと", {"q": "らんにんぐこすと"}),
        ("two characters: 財源", {"q": "財源"}),
        ("one character: 協", {"q": "協"}),
        ("two terms: 財源 ガバメントクラウド", {"q": "財源 ガバメントクラウド"}),
        (
            "in a round, an item, stance amend",
            {"q": "ランニングコスト", "round": round_id, "item": item, "stance": "amend"},
        ),
        ("本部の考え方 and disposition", {"q": "本部", "disposition": "adopted"}),
        ("nothing found: 存在しない語句", {"q": "存在しない語句"}),
        ("a later page (page 10)", {"q": "財源", "page": 10}),
    ]


def run(db_kind: str, args) -> dict:
    with tempfile.TemporaryDirectory(prefix="consult-bench-search-") as tmp:
        url, pg_name = create_database(db_kind, Path(tmp), "review_search")
        try:
            print(f"[{db_kind}] loading {args.orgs} × {args.items} opinions", flush=True)
            info = load(make_app(url), args.orgs, args.items)
            app = make_app(url)
            with app.app_context():
                from consult.extensions import db
                from consult.review import search

                t0 = time.perf_counter()
                with db.engine.begin() as conn:
                    search.reindex(conn)
                with db.engine.connect() as conn:
                    search.INDEX.optimize(conn)
                    conn.commit()
                index_s = time.perf_counter() - t0
                print(f"  indexed in {index_s:.1f} s", flush=True)
                rows = []
                for label, params in queries(info):
                    query = search.Query.from_args({k: str(v) for k, v in params.items()})
                    results = search.search(query, search.PAGE_SIZE)
                    db.session.remove()
                    times = []
                    for _ in range(args.repeat):
                        t = time.perf_counter()
                        results = search.search(query, search.PAGE_SIZE)
                        times.append((time.perf_counter() - t) * 1000)
                        db.session.remove()
                    rows.append(
                        {
                            "query": label,
                            "found": results.total,
                            "shown": len(results.opinions),
                            "items": len(results.items),
                            "median_ms": round(statistics.median(times), 1),
                            "max_ms": round(max(times), 1),
                        }
                    )
                db.engine.dispose()
        finally:
            drop_database(pg_name)
    print(f"\n[{db_kind}] {info['opinions']:,} opinions; index built in {index_s:.1f} s")
    print(f"{'query':58} {'found':>7} {'shown':>5} {'median ms':>10} {'max ms':>8}")
    for r in rows:
        found = f"{r['found']:,}" + ("+" if r["found"] >= 1000 else "")
        print(f"{r['query'][:58]:58} {found:>7} {r['shown']:>5} {r['median_ms']:>10} {r['max_ms']:>8}")
    overall = statistics.median(r["median_ms"] for r in rows)
    print(f"median of the medians: {overall:.1f} ms (goal < {GOAL_MS} ms)\n")
    return {
        "db": db_kind,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2),
        **info,
        "index_s": round(index_s, 1),
        "results": rows,
        "median_of_medians_ms": overall,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orgs", type=int, default=3000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(exist_ok=True)
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        result = run(kind, args)
        (OUT_DIR / f"review_search-{kind}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
