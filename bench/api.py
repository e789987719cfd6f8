#!/usr/bin/env python
"""API benchmark: pages of 100 opinions from a round of 150,000, through /api/v1, against a plain select.

    python bench/api.py [--db sqlite|postgresql|both] [--orgs 3000] [--items 50] [--repeat 30] [--limit 100]
                        [--walk 20] [--keep]

1. **Load** (timed, not the point): the dataset of bench/aggregation.py (--orgs organisations × --items items,
   one submitted opinion each, a tenth of them also proposing a new item: 150,300 opinions by default) into a
   fresh database (an SQLite file in a temp directory, or a new PostgreSQL database on 127.0.0.1), and one
   personal API token for the HQ staff user.
2. **Pages** through the real app in-process: the Flask test client sends `GET /api/v1/rounds/{id}/opinions`
   with `Authorization: Bearer …` (token lookup, access check, query, marshmallow dump, JSON) for: the first
   page, a page in the middle and one near the end (by cursor), the first and a middle page of one item's 3,000
   opinions (?item_id=), and the first page filtered by stance. Each is fetched once to warm up, then --repeat
   times: wall time (median, p90) and SQL statements (a before_cursor_execute listener on the engine).
3. **Walk**: --walk consecutive pages following next_cursor, to show the statements per page stay constant.
4. **Baseline**, measured alongside: the same page as one plain SQLAlchemy Core select (the same columns, join,
   filter, keyset and limit) on a connection, rows fetched and turned into dicts; the ratio is API / baseline.

A benchmark, not a test: it prints a table per database and writes bench/out/api-<db>.json.
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
from datetime import UTC, datetime
from pathlib import Path

import aggregation  # noqa: E402  (bench/ is on sys.path when run as a script)
from benchlib import StatementCounter, create_database, drop_database  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent / "out"
TARGET_MS = 50


def make_app(url: str):
    from consult import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": aggregation.SECRET_KEY,
            "API_RATE_LIMIT": "1000000 per minute",
        }
    )


def make_token(app) -> str:
    from sqlalchemy import select

    from consult.auth import operations as accounts
    from consult.auth.models import User
    from consult.core.clock import app_now
    from consult.extensions import db

    with app.app_context():
        staff = db.session.scalar(select(User).where(User.login == "staff"))
        _row, token = accounts.create_token(staff, "bench", now=app_now())
        db.session.commit()
        db.session.remove()
    return token


def opinion_ids(app, round_id: int, item_id: int | None = None) -> list[int]:
    """The ids a page walk goes through, in order (to place cursors in the middle and near the end)."""
    from sqlalchemy import select

    from consult.answers.models import Answer, Opinion
    from consult.extensions import db

    with app.app_context():
        stmt = select(Opinion.id).join(Answer, Answer.id == Opinion.answer_id).where(Answer.round_id == round_id)
        if item_id is not None:
            stmt = stmt.where(Opinion.item_id == item_id)
        ids = list(db.session.scalars(stmt.order_by(Opinion.id)))
        db.session.remove()
        return ids


def pages(app, info: dict, limit: int) -> list[tuple[str, str, dict]]:
    """(label, URL, baseline parameters) of the pages measured."""
    from consult.core.api.schemas import encode_cursor

    rid = info["round_id"]
    item = info["item_ids"][len(info["item_ids"]) // 2]
    everything = opinion_ids(app, rid)
    of_item = opinion_ids(app, rid, item)
    base = f"/api/v1/rounds/{rid}/opinions?limit={limit}"
    middle, late = everything[len(everything) // 2], everything[-limit * 3]
    return [
        ("first page", base, {"after": 0}),
        ("middle (cursor)", f"{base}&cursor={encode_cursor(middle)}", {"after": middle}),
        ("near the end (cursor)", f"{base}&cursor={encode_cursor(late)}", {"after": late}),
        ("one item, first page", f"{base}&item_id={item}", {"after": 0, "item_id": item}),
        (
            "one item, middle",
            f"{base}&item_id={item}&cursor={encode_cursor(of_item[len(of_item) // 2])}",
            {"after": of_item[len(of_item) // 2], "item_id": item},
        ),
        ("stance=amend, first page", f"{base}&stance=amend", {"after": 0, "stance": "amend"}),
    ]


def baseline_statement(round_id: int, limit: int, after: int, item_id: int | None = None, stance: str | None = None):
    """The same page as a plain Core select: columns, join, filter, keyset, limit."""
    from sqlalchemy import select

    from consult.answers.models import Answer, Opinion
    from consult.orgs.models import Organization

    o, a, g = Opinion.__table__, Answer.__table__, Organization.__table__
    stmt = (
        select(o, g.c.id.label("org_id"), g.c.name.label("org_name"))
        .join(a, (a.c.id == o.c.answer_id) & (a.c.round_id == round_id) & (a.c.status == "submitted"))
        .join(g, g.c.id == a.c.organization_id)
        .where(a.c.no_opinion.is_(False), o.c.id > after)
    )
    if item_id is not None:
        stmt = stmt.where(o.c.item_id == item_id)
    if stance is not None:
        stmt = stmt.where(o.c.stance == stance)
    return stmt.order_by(o.c.id).limit(limit + 1)


def time_api(client, url: str, headers: dict, counter: StatementCounter, repeat: int) -> dict:
    response = client.get(url, headers=headers)  # warm-up
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    size = len(response.get_json()["items"])
    times, statements = [], []
    for _ in range(repeat):
        counter.count = 0
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        body = response.get_data()
        times.append((time.perf_counter() - start) * 1000)
        statements.append(counter.count)
        assert response.status_code == 200 and body
    return {"rows": size, "times": times, "statements": statements}


def time_baseline(engine, stmt, repeat: int) -> list[float]:
    with engine.connect() as conn:
        conn.execute(stmt).mappings().all()  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            rows = [dict(row) for row in conn.execute(stmt).mappings()]
            times.append((time.perf_counter() - start) * 1000)
            assert rows
    return times


def walk(client, url: str, headers: dict, counter: StatementCounter, steps: int) -> list[int]:
    """Statements per page over consecutive pages, following next_cursor."""
    from urllib.parse import quote

    counts = []
    next_url = url
    for _ in range(steps):
        counter.count = 0
        body = client.get(next_url, headers=headers).get_json()
        counts.append(counter.count)
        if not body["next_cursor"]:
            break
        next_url = f"{url}&cursor={quote(body['next_cursor'])}"
    return counts


def p90(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.9) - 1)]


def run(db_kind: str, args) -> dict:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="consult-bench-api-") as tmp:
        url, pg_name = create_database(db_kind, Path(tmp), "bench_api")
        try:
            print(f"[{db_kind}] loading {args.orgs} × {args.items} opinions into a fresh database", flush=True)
            info = aggregation.load(aggregation.make_app(url), args.orgs, args.items)
            app = make_app(url)
            token = make_token(app)
            headers = {"Authorization": f"Bearer {token}"}
            client = app.test_client()
            with app.app_context():
                from consult.extensions import db

                engine = db.engine
                counter = StatementCounter(engine)
                rows = []
                for label, page_url, params in pages(app, info, args.limit):
                    measured = time_api(client, page_url, headers, counter, args.repeat)
                    stmt = baseline_statement(info["round_id"], args.limit, **params)
                    base = time_baseline(engine, stmt, args.repeat)
                    api_ms, base_ms = statistics.median(measured["times"]), statistics.median(base)
                    rows.append(
                        {
                            "page": label,
                            "rows": measured["rows"],
                            "api_median_ms": round(api_ms, 2),
                            "api_p90_ms": round(p90(measured["times"]), 2),
                            "statements": sorted(set(measured["statements"])),
                            "baseline_median_ms": round(base_ms, 2),
                            "ratio": round(api_ms / base_ms, 2),
                        }
                    )
                walked = walk(client, pages(app, info, args.limit)[0][1], headers, counter, args.walk)
                counter.close()
                db.session.remove()
                db.engine.dispose()
        finally:
            if args.keep:
                print(f"kept: {url}")
            else:
                drop_database(pg_name)
    print_table(db_kind, info, rows, walked)
    return {
        "db": db_kind,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2),
        **info,
        "results": rows,
        "walk_statements": walked,
        "wall_s": round(time.perf_counter() - started, 1),
    }


def print_table(db_kind: str, info: dict, rows: list[dict], walked: list[int]) -> None:
    print(
        f"\n[{db_kind}] {info['opinions']:,} opinions; GET /api/v1/rounds/{{id}}/opinions, target {TARGET_MS} ms median"
    )
    print(f"{'page':28} {'rows':>5} {'API median':>11} {'p90':>8} {'SQL':>5} {'baseline':>9} {'ratio':>6}")
    for row in rows:
        statements = "/".join(map(str, row["statements"]))
        print(
            f"{row['page']:28} {row['rows']:>5} {row['api_median_ms']:>9.1f}ms {row['api_p90_ms']:>6.1f}ms "
            f"{statements:>5} {row['baseline_median_ms']:>7.2f}ms {row['ratio']:>5.1f}x"
        )
    print(f"statements per page over {len(walked)} consecutive pages: {sorted(set(walked))}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orgs", type=int, default=3000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page after the warm-up")
    parser.add_argument("--limit", type=int, default=100, help="opinions per page")
    parser.add_argument("--walk", type=int, default=20, help="consecutive pages followed by cursor")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (never the temp SQLite file)")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(exist_ok=True)
    failed = False
    for db_kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        result = run(db_kind, args)
        (OUT_DIR / f"api-{db_kind}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
        slow = [row["page"] for row in result["results"] if row["api_median_ms"] > TARGET_MS]
        if slow:
            print(f"[{db_kind}] over {TARGET_MS} ms median: {', '.join(slow)}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
