#!/usr/bin/env python
"""Federation benchmark (issue 10): a prefecture's aggregation page and headquarters' overviews of the tiers.

    python bench/federation.py [--db sqlite|postgresql] [--prefectures 47] [--unions 3000] [--items 50]
                               [--repeat 5] [--keep] [--url DATABASE_URL]

1. **Load** (timed, not the point). A fresh database, schema by migration. HQ's round of --items items put to
   --prefectures prefectures; each prefecture opens its sub-round through consult.rounds.operations.open_subround
   (items copied, its unions as targets); --unions local unions spread over the prefectures, one submitted
   answer each with one opinion per item (SQLAlchemy Core inserts: 3,000 × 50 = 150,000 union opinions); each
   prefecture's submitted answer with one opinion per item (47 × 50 = 2,350), each resting on three of its
   unions' opinions (opinion_source).
2. **Pages** through the real app (Flask test client, logged in through the login form): the first
   prefecture's aggregation page (/answers/<round>/roll-up: per item its unions' opinions and counts), and
   headquarters' /rounds/<round>/tiers and /rounds/<round>/matrix. Each is fetched once to warm up, then --repeat
   times: median wall time and SQL statements per request (constant whatever the size: run it with other
   sizes to compare).

With --url the data is built once in that database and measured again on later runs (the world is found by
its round's title; the schema is upgraded first, so a new index is measured on the same rows): compare before
and after a change on identical data.

A benchmark, not a test: it prints a table and writes bench/out/federation-<db>.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchlib import StatementCounter, create_database, drop_database, write_result

SECRET_KEY = "federation-benchmark-secret-not-for-production"
PASSWORD = "federation-benchmark-password"
STANCES = ("agree", "amend", "add", "delete", "oppose", "other")
ROWS = 1000
TEXT = "地域の実情に応じた財源措置と人員の確保を明記し、職員の負担軽減を図ること。"


def insert_many(conn, table, rows):
    for start in range(0, len(rows), ROWS):
        conn.execute(table.insert().values(rows[start : start + ROWS]))


TITLE = "三つの構想（計測用）"


def existing(app) -> dict | None:
    """The world a previous run with --url left in the database, or None."""
    from flask_migrate import upgrade
    from sqlalchemy import func, inspect, select

    from consult.answers.models import Answer, Opinion, OpinionSource
    from consult.extensions import db
    from consult.rounds.models import Round

    with app.app_context():
        if "round" not in inspect(db.engine).get_table_names():
            return None
        upgrade()
        round_ = db.session.scalar(select(Round).where(Round.title == TITLE, Round.parent_id.is_(None)))
        if round_ is None:
            return None
        sub = db.session.scalars(select(Round).where(Round.parent_id == round_.id).order_by(Round.id)).first()
        union_ops = db.session.scalar(
            select(func.count()).select_from(Opinion).join(Answer).where(Answer.round_id != round_.id)
        )
        pref_ops = db.session.scalar(
            select(func.count()).select_from(Opinion).join(Answer).where(Answer.round_id == round_.id)
        )
        return {
            "round_id": round_.id,
            "sub_id": sub.id,
            "officer": f"{sub.organization.code}-officer",
            "unions_in_first": len(sub.targets),
            "union_opinions": union_ops,
            "prefecture_opinions": pref_ops,
            "sources": db.session.scalar(select(func.count()).select_from(OpinionSource)),
        }


def load(app, n_pref: int, n_unions: int, n_items: int) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from consult.answers.models import Answer, Opinion, OpinionSource
    from consult.auth.models import User
    from consult.extensions import db
    from consult.orgs.models import Organization
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round, RoundItem

    at = datetime.now(UTC) - timedelta(days=1)
    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context():
        upgrade()
        hq = Organization(code="hq", name="本部", kind="hq", position=0)
        db.session.add(hq)
        db.session.flush()
        prefs = [
            Organization(code=f"pref{n:02d}", name=f"県本部{n:02d}", kind="prefecture", parent_id=hq.id, position=n)
            for n in range(1, n_pref + 1)
        ]
        db.session.add_all(prefs)
        db.session.flush()
        db.session.add(User(login="staff", name="本部職員", role="staff", organization_id=hq.id, password_hash=cheap))
        officers = []
        for pref in prefs:
            officer = User(
                login=f"{pref.code}-officer",
                name="政策担当",
                role="member",
                organization_id=pref.id,
                password_hash=cheap,
            )
            officers.append(officer)
        db.session.add_all(officers)
        db.session.flush()
        union_rows = [
            {
                "code": f"local{n:05d}",
                "name": f"単組{n:05d}",
                "kind": "local",
                "parent_id": prefs[n % n_pref].id,
                "position": 1000 + n,
            }
            for n in range(n_unions)
        ]
        insert_many(db.session.connection(), Organization.__table__, union_rows)
        round_ = rounds.create_round(TITLE, "", at, at + timedelta(days=20), None, at)
        rounds.add_items(
            round_, [rounds.ItemDraft(str(n), f"第{n}章", TEXT) for n in range(1, n_items + 1)], at, user=None
        )
        rounds.set_targets(round_, {p.id for p in prefs}, user=None, now=at)
        rounds.open_round(round_, at, user=None)
        subs = {}
        for pref, officer in zip(prefs, officers, strict=True):
            subs[pref.id] = rounds.open_subround(
                round_, officer, deadline=at + timedelta(days=10), background="", organization_ids=None, now=at
            )
        db.session.flush()
        sub_items = {
            sid: dict(
                db.session.execute(
                    select(RoundItem.parent_item_id, RoundItem.id).where(RoundItem.round_id == sid)
                ).all()
            )
            for sid in (s.id for s in subs.values())
        }
        unions = db.session.execute(
            select(Organization.id, Organization.parent_id).where(Organization.kind == "local")
        ).all()
        conn = db.session.connection()
        answers = [
            {
                "round_id": subs[parent].id,
                "organization_id": uid,
                "status": "submitted",
                "no_opinion": False,
                "general_comment": "",
                "created_at": at,
                "updated_at": at,
                "submitted_at": at,
                "version": 1,
                "decided_by": "",
            }
            for uid, parent in unions
        ]
        insert_many(conn, Answer.__table__, answers)
        union_answers = db.session.execute(select(Answer.id, Answer.round_id, Answer.organization_id)).all()
        parent_items = [item.id for item in round_.items]
        opinions = []
        for aid, sid, uid in union_answers:
            for k, item_id in enumerate(parent_items):
                opinions.append(
                    {
                        "answer_id": aid,
                        "item_id": sub_items[sid][item_id],
                        "item_revision": 1,
                        "position": k,
                        "stance": STANCES[(uid + k) % 6],
                        "heading": "",
                        "referred_text": "",
                        "proposed_text": TEXT,
                        "reason": TEXT,
                        "hq_view": "",
                        "revision": 1,
                    }
                )
        insert_many(conn, Opinion.__table__, opinions)
        pref_answers = [
            {
                "round_id": round_.id,
                "organization_id": p.id,
                "status": "submitted",
                "no_opinion": False,
                "general_comment": "",
                "created_at": at,
                "updated_at": at,
                "submitted_at": at,
                "version": 1,
                "decided_by": "県本部執行委員会",
            }
            for p in prefs
        ]
        insert_many(conn, Answer.__table__, pref_answers)
        pref_answer_ids = dict(
            db.session.execute(select(Answer.organization_id, Answer.id).where(Answer.round_id == round_.id)).all()
        )
        insert_many(
            conn,
            Opinion.__table__,
            [
                {
                    "answer_id": pref_answer_ids[p.id],
                    "item_id": item_id,
                    "item_revision": 1,
                    "position": k,
                    "stance": "amend",
                    "heading": "",
                    "referred_text": "",
                    "proposed_text": TEXT,
                    "reason": "",
                    "hq_view": "",
                    "revision": 1,
                }
                for p in prefs
                for k, item_id in enumerate(parent_items)
            ],
        )
        # three union opinions beneath each prefecture opinion
        pref_ops = db.session.execute(
            select(Opinion.id, Opinion.item_id, Answer.organization_id)
            .join(Answer, Answer.id == Opinion.answer_id)
            .where(Answer.round_id == round_.id)
        ).all()
        by_sub_item: dict[int, list[int]] = {}
        for oid, sub_item in db.session.execute(
            select(Opinion.id, Opinion.item_id)
            .join(Answer, Answer.id == Opinion.answer_id)
            .where(Answer.round_id != round_.id)
        ):
            bucket = by_sub_item.setdefault(sub_item, [])
            if len(bucket) < 3:
                bucket.append(oid)
        links = [
            {"opinion_id": oid, "source_id": sid}
            for oid, item_id, pref_id in pref_ops
            for sid in by_sub_item.get(sub_items[subs[pref_id].id][item_id], [])
        ]
        insert_many(conn, OpinionSource.__table__, links)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # what autovacuum would do after a bulk load
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
                admin.exec_driver_sql("VACUUM ANALYZE")
        counts = {
            "union_opinions": len(opinions),
            "prefecture_opinions": len(pref_ops),
            "sources": len(links),
        }
        first = prefs[0]
        first_sub = db.session.get(Round, subs[first.id].id)
        return {
            "round_id": round_.id,
            "sub_id": first_sub.id,
            "officer": f"{first.code}-officer",
            "unions_in_first": len(first_sub.targets),
            **counts,
        }


def measure(app, login: str, url: str, repeat: int) -> dict:
    from consult.extensions import db

    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    with app.app_context():
        engine = db.engine
    assert client.get(url).status_code == 200, url
    times, statements = [], []
    for _ in range(repeat):
        counter = StatementCounter(engine)
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        counter.close()
        statements.append(counter.count)
        assert response.status_code == 200
    return {
        "url": url,
        "median_ms": round(statistics.median(times), 1),
        "statements": statements[-1],
        "bytes": len(response.data),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--prefectures", type=int, default=47)
    parser.add_argument("--unions", type=int, default=3000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--url", help="a database to build the data in once and measure again on later runs")
    args = parser.parse_args()
    from consult import create_app

    with tempfile.TemporaryDirectory() as tmp:
        url, pg_name = (args.url, None) if args.url else create_database(args.db, Path(tmp), "bench_fed")
        try:
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "WTF_CSRF_ENABLED": False})
            t0 = time.perf_counter()
            world = existing(app) if args.url else None
            world = world or load(app, args.prefectures, args.unions, args.items)
            load_s = round(time.perf_counter() - t0, 1)
            rid = world["round_id"]
            pages = [
                ("prefecture aggregation (roll-up)", world["officer"], f"/answers/{rid}/roll-up"),
                ("prefecture matrix of its sub-round", world["officer"], f"/rounds/{world['sub_id']}/matrix"),
                ("HQ tiers overview", "staff", f"/rounds/{rid}/tiers"),
                ("HQ matrix (prefectures)", "staff", f"/rounds/{rid}/matrix"),
            ]
            results = [dict(name=name, **measure(app, login, page, args.repeat)) for name, login, page in pages]
        finally:
            if not args.keep:
                drop_database(pg_name)
    kind = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"federation benchmark on {kind}: {world} (load {load_s} s)")
    for row in results:
        print(
            f"  {row['name']:<38} {row['median_ms']:>8} ms  {row['statements']:>3} statements  {row['bytes']:>9} bytes"
        )
    write_result(f"federation-{kind}", {"sizes": vars(args), "world": world, "load_s": load_s, "pages": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
