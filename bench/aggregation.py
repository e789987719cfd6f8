#!/usr/bin/env python
"""Aggregation benchmark: headquarters' pages and exports on a round of 150,000 submitted opinions.

    python bench/aggregation.py [--db sqlite|postgresql|both] [--orgs 3000] [--items 50] [--repeat 3]
                                [--no-tracemalloc] [--keep]

1. **Load** (timed, not the point). A fresh database (an SQLite file in a temp directory, or a new PostgreSQL
   database consult_bench3_agg_<pid> on 127.0.0.1), schema by migration. HQ, a staff user (cheap hash), a round
   of --items items created, opened and closed through consult.rounds.operations; then --orgs organisations (a
   few prefecture HQs, the rest local unions), their targets, one submitted answer each and one opinion per
   item (stances varied, texts of 60–150 Japanese characters, one in five weighed by headquarters with 対応 and
   本部の考え方), plus one proposal of a new item from every tenth organisation, with SQLAlchemy Core inserts of
   up to 1,000 rows per statement. A campaign on the round has a 10 × 10 letter and 2,000 opinions are linked to
   its request items, so the item pages show their request-item choices and links as in real use.
2. **Pages and exports** through the real app: the Flask test client logged in as HQ staff through the login
   form. Each URL is fetched once to warm up, then --repeat times: wall time (median), SQL statements (a
   before_cursor_execute listener on the engine; the exports' own session uses the same engine), bytes, and
   the peak RSS growth during the request (a thread sampling /proc/self/statm every 2 ms; it sees what lxml
   and openpyxl allocate in C too). Streamed responses are read chunk by chunk from `response.response`
   (``buffered=False``), as a server would send them. A second pass runs each URL once under tracemalloc for
   the peak of Python allocations (tracemalloc slows Python down several times, so its pass is not timed).

A benchmark, not a test: it prints a table per database and writes bench/out/aggregation-<db>.json.
It only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import RssSampler, StatementCounter, create_database, drop_database, maxrss_mb  # noqa: E402

SECRET_KEY = "aggregation-benchmark-secret-not-for-production"
PASSWORD = "aggregation-benchmark-password"
OUT_DIR = Path(__file__).resolve().parent / "out"
STANCES = ("agree", "amend", "add", "delete", "oppose", "other")
DISPOSITIONS = ("adopted", "partly", "rejected", "reference", "merged")
ROWS_PER_STATEMENT = 1000
PAGE_SIZE = 50
FILLER = (
    "自治体情報システムの標準化とガバメントクラウドへの移行にあたっては、現場の職員の負担を軽減し、"
    "住民サービスの質を確保することを最優先として、国の責任で十分な財源と人員を措置するよう求める。"
    "あわせて、移行に伴う業務の見直しが職員の労働条件に及ぼす影響について、事前に協議を行うこと。"
    "ランニングコストの増加分についても継続的な財政支援を行い、地域の実情に応じた柔軟な運用を認めること。"
)
TEXT_FILTER = "ランニングコスト"  # found in the texts of about one opinion in three


# ---------------------------------------------------------------------------------------------------------
# Deterministic content


def text(org: int, item: int, field: int) -> str:
    """60–150 characters naming the organisation and the item; a third carry TEXT_FILTER (see FILLER)."""
    head = f"【組織{org:04d}・項目{item:02d}】"
    length = 60 + (org * 37 + item * 11 + field * 53) % 91
    start = (org * 7 + item * 3 + field * 29) % 60
    return head + (FILLER[start:] + FILLER)[: length - len(head)]


def stance_of(org: int, item: int) -> str:
    return STANCES[(org * 5 + item) % len(STANCES)]


# ---------------------------------------------------------------------------------------------------------
# Database


def make_app(url: str):
    from consult import create_app

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "WTF_CSRF_ENABLED": False, "PAGE_SIZE": PAGE_SIZE}
    )


def insert_many(conn, table, rows: list[dict]) -> None:
    """Many rows per INSERT statement (a multi-VALUES insert), in slices of ROWS_PER_STATEMENT."""
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        conn.execute(table.insert().values(rows[start : start + ROWS_PER_STATEMENT]))


def load(app, n_orgs: int, n_items: int) -> dict:
    """Everything the pages read; returns the ids the benchmark needs."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from consult.answers.models import Answer, Opinion
    from consult.auth.models import User
    from consult.extensions import db
    from consult.letters.models import Campaign, Letter, RequestItem, RequestItemOpinion
    from consult.orgs.models import Organization
    from consult.rounds import operations as rounds_ops
    from consult.rounds.models import RoundTarget

    t0 = time.perf_counter()
    at = datetime(2025, 1, 6, 0, 0, tzinfo=UTC)  # the round ran in January 2025
    with app.app_context():
        upgrade()
        hq = Organization(code="hq", name="本部", kind="hq", position=0)
        db.session.add(hq)
        db.session.flush()
        db.session.add(
            User(
                login="staff",
                name="本部職員",
                role="staff",
                organization_id=hq.id,
                password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
            )
        )
        round_ = rounds_ops.create_round(
            "自治体DX推進計画（2025年度）に関する組織討議", "集約の計測用", at, at + timedelta(days=30), None, at
        )
        drafts = [
            rounds_ops.ItemDraft(f"{n}", f"項目{n}の見出し", f"項目{n}の本文。" + FILLER) for n in range(1, n_items + 1)
        ]
        items = rounds_ops.add_items(round_, drafts, at, user=None)
        db.session.commit()
        round_id, item_ids = round_.id, [item.id for item in items]
        hq_id = hq.id
        db.session.commit()  # end the read snapshot (SQLite WAL) before other connections write

        prefectures = max(1, min(47, n_orgs // 60))
        with db.engine.begin() as conn:
            orgs = []
            for n in range(1, n_orgs + 1):
                if n <= prefectures:
                    orgs.append(
                        {
                            "id": hq_id + n,
                            "code": f"pref-{n:02d}",
                            "name": f"第{n}県本部",
                            "kind": "prefecture",
                            "parent_id": hq_id,
                            "position": n,
                        }
                    )
                else:
                    parent = hq_id + 1 + n % prefectures
                    orgs.append(
                        {
                            "id": hq_id + n,
                            "code": f"local-{n:04d}",
                            "name": f"第{n}単組",
                            "kind": "local",
                            "parent_id": parent,
                            "position": n,
                        }
                    )
            insert_many(conn, Organization.__table__, orgs[:prefectures])
            insert_many(conn, Organization.__table__, orgs[prefectures:])
            org_ids = [o["id"] for o in orgs]
            insert_many(conn, RoundTarget.__table__, [{"round_id": round_id, "organization_id": i} for i in org_ids])
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
            with db.engine.begin() as conn:  # explicit ids were inserted: move the sequence past them
                conn.exec_driver_sql("SELECT setval('organization_id_seq', (SELECT max(id) FROM organization))")
        db.session.rollback()
        round_ = db.session.get(type(round_), round_id)
        rounds_ops.open_round(round_, at, user=None)
        rounds_ops.close_round(round_, at + timedelta(days=31), user=None)
        db.session.commit()
        print(f"  schema, round, {n_orgs} organisations and targets: {time.perf_counter() - t0:.1f} s", flush=True)

        submitted = at + timedelta(days=20)
        with db.engine.begin() as conn:
            answers = [
                {
                    "round_id": round_id,
                    "organization_id": org_id,
                    "status": "submitted",
                    "no_opinion": False,
                    "general_comment": "",
                    "created_at": submitted,
                    "updated_at": submitted,
                    "submitted_at": submitted,
                    "version": 2,
                }
                for org_id in org_ids
            ]
            insert_many(conn, Answer.__table__, answers)
            answer_ids = dict(
                conn.execute(
                    Answer.__table__.select()
                    .with_only_columns(Answer.__table__.c.organization_id, Answer.__table__.c.id)
                    .where(Answer.__table__.c.round_id == round_id)
                ).all()
            )
        print(f"  {len(answer_ids)} answers: {time.perf_counter() - t0:.1f} s", flush=True)

        total = n_orgs * n_items
        done, next_report = 0, total // 10
        opinion_table = Opinion.__table__
        with db.engine.begin() as conn:
            batch: list[dict] = []
            for n, org_id in enumerate(org_ids, start=1):
                answer_id = answer_ids[org_id]
                for position, item_id in enumerate(item_ids, start=1):
                    weighed = (n + position) % 5 == 0
                    batch.append(
                        {
                            "answer_id": answer_id,
                            "item_id": item_id,
                            "item_revision": 1,
                            "position": position,
                            "stance": stance_of(n, position),
                            "heading": "",
                            "referred_text": text(n, position, 0),
                            "proposed_text": text(n, position, 1),
                            "reason": text(n, position, 2),
                            "disposition": DISPOSITIONS[(n + position) % len(DISPOSITIONS)] if weighed else None,
                            "hq_view": ("本部としては、" + text(n, position, 3)) if weighed else "",
                        }
                    )
                if n % 10 == 0:  # a proposal of a new item
                    batch.append(
                        {
                            "answer_id": answer_id,
                            "item_id": None,
                            "item_revision": None,
                            "position": n_items + 1,
                            "stance": "add",
                            "heading": f"新しい項目の提案（組織{n:04d}）",
                            "referred_text": "",
                            "proposed_text": text(n, 99, 1),
                            "reason": text(n, 99, 2),
                            "disposition": None,
                            "hq_view": "",
                        }
                    )
                if len(batch) >= 10 * ROWS_PER_STATEMENT:
                    insert_many(conn, opinion_table, batch)
                    done += len(batch)
                    batch = []
                    if done >= next_report:
                        print(f"  opinions {done:,}/{total:,} ({time.perf_counter() - t0:.0f} s)", flush=True)
                        next_report += total // 10
            insert_many(conn, opinion_table, batch)
        print(f"  opinions loaded: {time.perf_counter() - t0:.1f} s", flush=True)

        # A campaign on the round: its request items are the choices on every item page.
        with db.engine.begin() as conn:
            campaign_id = conn.execute(
                Campaign.__table__.insert()
                .values(
                    title="自治体DX推進にかかる省庁要請",
                    round_id=round_id,
                    date_year=2025,
                    date_month=3,
                    date_style="western",
                    sender_org="全日本自治団体労働組合",
                    sender_title="",
                    sender_name="",
                    created_at=at,
                    version=1,
                )
                .returning(Campaign.__table__.c.id)
            ).scalar_one()
            letter_id = conn.execute(
                Letter.__table__.insert()
                .values(
                    campaign_id=campaign_id,
                    position=1,
                    title="自治体DXの推進に関する要請書",
                    greeting="",
                    background="",
                    closing="",
                    numbering="dot-paren",
                    fullwidth_digits=True,
                    version=1,
                )
                .returning(Letter.__table__.c.id)
            ).scalar_one()
            request_ids = []
            for s in range(1, 11):
                head = conn.execute(
                    RequestItem.__table__.insert()
                    .values(letter_id=letter_id, parent_id=None, position=s, text=f"分野{s}について")
                    .returning(RequestItem.__table__.c.id)
                ).scalar_one()
                for i in range(1, 11):
                    request_ids.append(
                        conn.execute(
                            RequestItem.__table__.insert()
                            .values(
                                letter_id=letter_id,
                                parent_id=head,
                                position=i,
                                text=f"分野{s}の要請{i}：" + FILLER[:80],
                            )
                            .returning(RequestItem.__table__.c.id)
                        ).scalar_one()
                    )
            opinion_ids = (
                conn.execute(
                    opinion_table.select()
                    .with_only_columns(opinion_table.c.id)
                    .where(opinion_table.c.disposition.is_not(None))
                    .order_by(opinion_table.c.id)
                    .limit(2000)
                )
                .scalars()
                .all()
            )
            insert_many(
                conn,
                RequestItemOpinion.__table__,
                [
                    {"request_item_id": request_ids[k % len(request_ids)], "opinion_id": oid}
                    for k, oid in enumerate(opinion_ids)
                ],
            )
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")  # fresh statistics, as autovacuum would give a live database
            conn.commit()
            count = conn.exec_driver_sql("SELECT count(*) FROM opinion").scalar_one()
        db.session.remove()
        db.engine.dispose()
    seconds = time.perf_counter() - t0
    print(f"  loaded {count:,} opinions in {seconds:.1f} s ({count / seconds:,.0f} rows/s)", flush=True)
    return {
        "round_id": round_id,
        "item_ids": item_ids,
        "opinions": count,
        "load_s": round(seconds, 1),
        "orgs": n_orgs,
        "items": n_items,
    }


# ---------------------------------------------------------------------------------------------------------
# Measuring


def fetch(client, url: str) -> tuple[int, int, int, str]:
    """GET, reading the body chunk by chunk; returns (status, bytes, chunks, content type)."""
    response = client.get(url, buffered=False)
    total = chunks = 0
    try:
        for chunk in response.response:
            total += len(chunk)
            chunks += 1
    finally:
        response.close()
    return response.status_code, total, chunks, response.mimetype


def targets(info: dict) -> list[tuple[str, str]]:
    """(label, URL) of every page and export measured."""
    r, first = info["round_id"], info["item_ids"][0]
    deep = max(1, info["orgs"] * 9 // 10 // PAGE_SIZE)  # about 90 % of the way through the item's pages
    return [
        ("overview", f"/rounds/{r}/aggregate"),
        ("item page 1", f"/rounds/{r}/aggregate/items/{first}"),
        (f"item page {deep}", f"/rounds/{r}/aggregate/items/{first}?page={deep}"),
        ("item stance=oppose", f"/rounds/{r}/aggregate/items/{first}?stance=oppose"),
        ("item q=text", f"/rounds/{r}/aggregate/items/{first}?q={TEXT_FILTER}"),
        ("proposals", f"/rounds/{r}/aggregate/proposals"),
        ("published page 1", f"/rounds/{r}/published"),
        (f"published page {deep * 10}", f"/rounds/{r}/published?page={deep * 10}"),
        ("opinions.csv", f"/rounds/{r}/export/opinions.csv"),
        ("answers.csv", f"/rounds/{r}/export/answers.csv"),
        ("opinions.xlsx", f"/rounds/{r}/export/opinions.xlsx"),
        ("answers.xlsx", f"/rounds/{r}/export/answers.xlsx"),
        ("opinions.docx (1 item)", f"/rounds/{r}/export/opinions.docx?item={first}"),
    ]


def measure(app, info: dict, repeat: int, use_tracemalloc: bool, max_seconds: float, started: float) -> list[dict]:
    from consult.extensions import db

    client = app.test_client()
    response = client.post("/login", data={"login": "staff", "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login failed: {response.status_code}")
    with app.app_context():
        engine = db.engine
    results = []
    for label, url in targets(info):
        if time.perf_counter() - started > max_seconds:
            print(f"  time cap reached, skipping {label}")
            results.append({"label": label, "url": url, "skipped": "time cap"})
            continue
        t0 = time.perf_counter()
        status, nbytes, chunks, mimetype = fetch(client, url)  # warm-up (and the first, cold time)
        cold_ms = (time.perf_counter() - t0) * 1000
        times, statements, growth = [], [], []
        for _ in range(repeat):
            gc.collect()
            counter = StatementCounter(engine)
            try:
                with RssSampler() as sampler:
                    t0 = time.perf_counter()
                    status, nbytes, chunks, mimetype = fetch(client, url)
                    times.append((time.perf_counter() - t0) * 1000)
            finally:
                counter.close()
            statements.append(counter.count)
            growth.append(sampler.growth_mb)
        row = {
            "label": label,
            "url": url,
            "status": status,
            "mimetype": mimetype,
            "bytes": nbytes,
            "chunks": chunks,
            "cold_ms": round(cold_ms, 1),
            "median_ms": round(statistics.median(times), 1),
            "min_ms": round(min(times), 1),
            "max_ms": round(max(times), 1),
            "statements": max(statements),
            "statements_all_runs": statements,
            "rss_growth_mb": round(max(growth), 1),
            "maxrss_mb": round(maxrss_mb(), 1),
        }
        if use_tracemalloc:
            gc.collect()
            tracemalloc.start()
            try:
                fetch(client, url)
                row["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1e6, 1)
            finally:
                tracemalloc.stop()
        results.append(row)
        print(
            f"  {label:<26} {row['median_ms']:>9.0f} ms {row['statements']:>4} stmts {nbytes:>12,} B "
            f"{row['rss_growth_mb']:>7.1f} MB rss+ {row.get('tracemalloc_peak_mb', '-'):>7} MB traced "
            f"[{status}]",
            flush=True,
        )
    return results


def print_table(db_kind: str, info: dict, rows: list[dict]) -> None:
    print(
        f"\n{db_kind}: {info['opinions']:,} opinions ({info['orgs']} organisations × {info['items']} items + "
        f"proposals), loaded in {info['load_s']} s"
    )
    print(
        f"{'page / export':<26} {'median ms':>10} {'cold ms':>9} {'stmts':>6} {'bytes':>12} {'RSS+ MB':>8} "
        f"{'traced MB':>9} status"
    )
    for row in rows:
        if "skipped" in row:
            print(f"{row['label']:<26} skipped ({row['skipped']})")
            continue
        print(
            f"{row['label']:<26} {row['median_ms']:>10.0f} {row['cold_ms']:>9.0f} {row['statements']:>6} "
            f"{row['bytes']:>12,} {row['rss_growth_mb']:>8.1f} {row.get('tracemalloc_peak_mb', '-'):>9} "
            f"{row['status']}"
        )


def run(db_kind: str, args) -> dict:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="consult-bench-agg-") as tmp:
        url, pg_name = create_database(db_kind, Path(tmp), "bench3_agg")
        try:
            print(f"[{db_kind}] loading {args.orgs} × {args.items} opinions into a fresh database", flush=True)
            info = load(make_app(url), args.orgs, args.items)
            app = make_app(url)
            print(
                f"[{db_kind}] pages and exports ({args.repeat} timed runs each after a warm-up"
                f"{', then one under tracemalloc' if not args.no_tracemalloc else ''})",
                flush=True,
            )
            rows = measure(app, info, args.repeat, not args.no_tracemalloc, args.max_seconds, started)
            with app.app_context():
                from consult.extensions import db

                db.session.remove()
                db.engine.dispose()
        finally:
            if args.keep:
                print(f"kept: {url}")
            else:
                drop_database(pg_name)
    print_table(db_kind, info, rows)
    return {
        "db": db_kind,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "load_1min": round(os.getloadavg()[0], 2),
        **info,
        "results": rows,
        "wall_s": round(time.perf_counter() - started, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--orgs", type=int, default=3000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per URL after the warm-up")
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc pass")
    parser.add_argument("--max-seconds", type=float, default=1200, help="cap per database; later URLs are skipped")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (never the temp SQLite file)")
    args = parser.parse_args(argv)
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    OUT_DIR.mkdir(exist_ok=True)
    failed = False
    for kind in kinds:
        result = run(kind, args)
        (OUT_DIR / f"aggregation-{kind}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
        print(f"wrote {OUT_DIR / f'aggregation-{kind}.json'}\n")
        failed |= any(r.get("status") not in (200, None) for r in result["results"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
