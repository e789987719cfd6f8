"""Notices at scale: queueing the round-open notice for many organisations, and sending to a local SMTP server.

    .venv/bin/python bench/notify.py                       # SQLite, 3,000 organisations x 2 members, 1,000 sent
    .venv/bin/python bench/notify.py --db postgresql --orgs 3000 --members 2 --send 2000

1. Setup (not timed): a fresh database from the migrations, HQ, N local unions with M members each (all with an
   address), one draft round with 5 items put to every union.
2. Queue (timed): open_round() — the receivers write one notice row per member in the same transaction — and
   the commit. Target: under 2 s for 3,000 x 2.
3. Send (timed): aiosmtpd on a free port of 127.0.0.1 (a real SMTP server, as in the tests), then the runner
   (claim, send over one SMTP session per batch, mark) until --send messages have gone. Target: 50 msg/s or more.
Checks that the server received exactly the messages the runner marked sent.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import create_database, drop_database  # noqa: E402


class Collect:
    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += len(envelope.rcpt_tos)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--orgs", type=int, default=3000)
    parser.add_argument("--members", type=int, default=2)
    parser.add_argument("--send", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="print where the queueing spends its time")
    args = parser.parse_args()

    from aiosmtpd.controller import Controller
    from sqlalchemy import func, insert, select

    from consult import create_app
    from consult.auth.models import User
    from consult.extensions import db
    from consult.notify import runner
    from consult.notify.models import Notice
    from consult.orgs.models import Organization
    from consult.rounds import operations as rounds
    from consult.rounds.models import Round, RoundTarget

    now = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
    tmp = Path(tempfile.mkdtemp(prefix="consult-bench-notify-"))
    url, pg_name = create_database(args.db, tmp, "notify")
    handler = Collect()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    try:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "bench",
                "CLOCK": lambda: now,
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": port,
                "MAIL_DEFAULT_SENDER": "consult@example.org",
                "BASE_URL": "https://consult.example.org",
            }
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            hq = Organization(code="hq", name="本部", kind="hq", position=0)
            db.session.add(hq)
            db.session.flush()
            db.session.execute(
                insert(Organization),
                [
                    {"code": f"u{i}", "name": f"単組{i}", "kind": "local", "parent_id": hq.id, "position": i}
                    for i in range(1, args.orgs + 1)
                ],
            )
            org_ids = list(db.session.scalars(select(Organization.id).where(Organization.kind == "local")))
            db.session.execute(
                insert(User),
                [
                    {
                        "login": f"m{o}-{k}",
                        "name": f"担当{o}-{k}",
                        "email": f"m{o}-{k}@example.org",
                        "password_hash": "x",
                        "role": "member",
                        "organization_id": o,
                        "active": True,
                        "session_token": f"t{o}-{k}",
                    }
                    for o in org_ids
                    for k in range(args.members)
                ],
            )
            round_ = Round(
                title="ベンチマーク討議",
                background="",
                status="draft",
                opens_at=now - timedelta(hours=1),
                deadline=now + timedelta(days=14),
                created_at=now,
            )
            db.session.add(round_)
            db.session.flush()
            rounds.add_items(round_, [rounds.ItemDraft(str(i), f"項目{i}") for i in range(1, 6)], now, user=None)
            db.session.execute(insert(RoundTarget), [{"round_id": round_.id, "organization_id": o} for o in org_ids])
            db.session.commit()
            round_id = round_.id
            db.session.remove()

        with app.app_context():
            started = time.perf_counter()
            if args.profile:
                import cProfile
                import pstats

                profile = cProfile.Profile()
                profile.enable()
            rounds.open_round(db.session.get(Round, round_id), now, user=None)
            db.session.commit()
            queued_seconds = time.perf_counter() - started
            if args.profile:
                profile.disable()
                pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
            queued = db.session.scalar(select(func.count()).select_from(Notice))
            db.session.remove()
        print(
            f"queue  {args.db}: {queued} notices ({args.orgs} organisations x {args.members}) in {queued_seconds:.2f} s"
        )

        controller.start()
        with app.app_context():
            started = time.perf_counter()
            report = runner.run_once(limit=args.send)
            send_seconds = time.perf_counter() - started
            sent_rows = db.session.scalar(select(func.count()).select_from(Notice).where(Notice.status == "sent"))
            db.session.remove()
        time.sleep(0.2)
        rate = report.sent / send_seconds if send_seconds else 0
        print(
            f"send   {args.db}: {report.sent} messages in {send_seconds:.2f} s = {rate:.0f} msg/s "
            f"(server received {handler.count}, rows marked sent {sent_rows}, retried {report.retried}, "
            f"failed {report.failed})"
        )
        ok = handler.count == sent_rows == report.sent
        print(
            "targets: queue < 2 s:",
            "yes" if queued_seconds < 2 else "NO",
            "· send >= 50 msg/s:",
            "yes" if rate >= 50 else "NO",
        )
        return 0 if ok else 1
    finally:
        try:
            controller.stop()
        except Exception:  # noqa: BLE001  (never started)
            pass
        drop_database(pg_name)


if __name__ == "__main__":
    raise SystemExit(main())
