#!/usr/bin/env python
"""Deadline-rush benchmark: N branches save, then submit, a full answer at the same moment.

Starts the app under gunicorn on a fresh database (SQLite and/or PostgreSQL), drives it with N concurrent
branch sessions through the real login and answer form, then checks straight from the database that no
opinion was lost or duplicated. Beside it, the same server inserts the same rows through a minimal
plain-SQLAlchemy route (bench/benchapp.py, served only by this benchmark) so the framework's overhead shows as a
ratio.

    python bench/rush.py [--db sqlite|postgresql|both] [--branches 300] [--items 50] [--workers 4]
                         [--concurrency 32] [--servers 1]

A benchmark, not a test: it prints figures and writes bench/out/rush-<db>.json. The exit code is 1 when
an opinion was lost or duplicated, 2 when the run could not finish (setup failure or the time cap), 3 when
nothing was lost but some branches' submits were not acknowledged (see "errors").
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

import requests
from benchlib import create_database, drop_database

HOST = "127.0.0.1"  # the benchmark never talks to anything but this machine
SECRET_KEY = "rush-benchmark-secret-not-for-production"
PASSWORD = "rush-benchmark-password"
OUT_DIR = Path(__file__).resolve().parent / "out"
STANCES = ("agree", "amend", "add", "delete", "oppose", "other")
FIELD_LABELS = {"referred_text": "該当箇所", "proposed_text": "修正案", "reason": "理由"}
FILLER = (
    "自治体情報システムの標準化とガバメントクラウドへの移行にあたっては、現場の職員の負担を軽減し、"
    "住民サービスの質を確保することを最優先として、国の責任で十分な財源と人員を措置するよう求める。"
    "あわせて、移行に伴う業務の見直しが職員の労働条件に及ぼす影響について、事前に協議を行うこと。"
)
INPUT_TAG = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
VALUE_ATTR = re.compile(r"""\bvalue\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
ERROR_TEXT = re.compile(r"""<[^>]+class="[^"]*\berror\b[^"]*"[^>]*>(.*?)</""", re.IGNORECASE | re.DOTALL)


# ---------------------------------------------------------------------------------------------------------
# What each branch types: deterministic, so the database can be checked against it afterwards.


def opinion_text(branch: int, number: int, name: str) -> str:
    """100–200 Japanese characters that name the branch, the item and the field."""
    head = f"【支部{branch:03d}・項目{number:02d}・{FIELD_LABELS[name]}】"
    length = 100 + (branch * 37 + number * 11 + len(name) * 5) % 101
    return head + (FILLER * 2)[: length - len(head)]


def stance_of(branch: int, number: int) -> str:
    return STANCES[(branch + number) % len(STANCES)]


def general_comment(branch: int) -> str:
    return f"支部{branch:03d}の総括的な意見：" + FILLER[:80]


def expected_opinions(branch: int, item_ids: list[int]) -> dict[int, tuple[str, str, str, str]]:
    """item id → (stance, referred_text, proposed_text, reason) as sent."""
    return {
        item_id: (stance_of(branch, number),) + tuple(opinion_text(branch, number, n) for n in FIELD_LABELS)
        for number, item_id in enumerate(item_ids, start=1)
    }


def form_body(branch: int, item_ids: list[int]) -> str:
    """The urlencoded answer form (without csrf_token, version and action), built once per branch."""
    fields = [("general_comment", general_comment(branch))]
    for item_id, (stance, referred, proposed, reason) in expected_opinions(branch, item_ids).items():
        fields += [
            (f"item-{item_id}-stance", stance),
            (f"item-{item_id}-referred_text", referred),
            (f"item-{item_id}-proposed_text", proposed),
            (f"item-{item_id}-reason", reason),
        ]
    return urlencode(fields)


def hidden_value(page: str, name: str) -> str | None:
    """The value of <input name=NAME>, whatever the order of its attributes."""
    wanted = re.compile(r"""\bname\s*=\s*["']?""" + re.escape(name) + r"""(?:["'\s/>]|$)""", re.IGNORECASE)
    for tag in INPUT_TAG.findall(page):
        if wanted.search(tag):
            match = VALUE_ATTR.search(tag)
            if match:
                return html.unescape(next(g for g in match.groups() if g is not None))
    return None


def error_message(page: str) -> str:
    """The first error shown on a re-rendered form, for the report."""
    for raw in ERROR_TEXT.findall(page):
        text = re.sub(r"<[^>]+>", "", raw).strip()
        if text:
            return html.unescape(text)[:160]
    return "(no error message found on the page)"


# ---------------------------------------------------------------------------------------------------------
# Database: create, fill, verify, drop.


@dataclass
class Fixture:
    url: str
    round_id: int
    item_ids: list[int]
    baseline_round_id: int
    baseline_item_ids: list[int]
    branches: list[tuple[int, int, str]]  # (branch number, org id, login)


def _app(url: str):
    from consult import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY})


def fill_database(url: str, branches: int, items: int) -> Fixture:
    """Schema by migration; HQ, N prefecture HQs with one member each, an open round and a baseline round."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from consult.auth.models import User
    from consult.core.clock import app_now
    from consult.extensions import db
    from consult.orgs.models import Organization
    from consult.rounds import operations as ops

    app = _app(url)
    with app.app_context():
        upgrade()
        at = app_now()
        hq = Organization(code="hq", name="本部", kind="hq", position=0)
        db.session.add(hq)
        db.session.flush()
        orgs = [
            Organization(code=f"pref-{i:03d}", name=f"第{i}県本部", kind="prefecture", parent_id=hq.id, position=i)
            for i in range(1, branches + 1)
        ]
        db.session.add_all(orgs)
        db.session.flush()
        cheap_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")  # the default takes ~0.5 s
        db.session.add_all(
            [
                User(
                    login=f"branch{i:03d}",
                    name=f"支部担当{i}",
                    role="member",
                    organization_id=org.id,
                    password_hash=cheap_hash,
                )
                for i, org in enumerate(orgs, start=1)
            ]
        )
        org_ids = {org.id for org in orgs}

        def open_round(title: str):
            round_ = ops.create_round(
                title, "締切直前の集中送信を測る討議", at - timedelta(hours=1), at + timedelta(days=30), None, at
            )
            ops.add_items(
                round_,
                [ops.ItemDraft(str(n), f"項目{n}の見出し", f"項目{n}の本文。" + FILLER) for n in range(1, items + 1)],
                at,
                user=None,
            )
            ops.set_targets(round_, org_ids, user=None, now=at)
            ops.open_round(round_, at, user=None)
            return round_

        rush, baseline = open_round("締切ラッシュ計測"), open_round("締切ラッシュ計測（基準）")
        db.session.commit()
        fixture = Fixture(
            url,
            rush.id,
            [item.id for item in rush.items],
            baseline.id,
            [item.id for item in baseline.items],
            [(i, org.id, f"branch{i:03d}") for i, org in enumerate(orgs, start=1)],
        )
        db.engine.dispose()
    return fixture


def verify(fixture: Fixture, acked: set[int], baseline_acked: set[int], items: int) -> dict:
    """LOST: an acknowledged submit whose answer is not there as sent. DUPLICATED: two rows where one may be."""
    from sqlalchemy import func, select

    from consult.answers.models import Answer, Opinion
    from consult.extensions import db

    app = _app(fixture.url)
    with app.app_context():
        answers = db.session.execute(
            select(Answer.id, Answer.organization_id, Answer.status, Answer.general_comment).where(
                Answer.round_id == fixture.round_id
            )
        ).all()
        rows = db.session.execute(
            select(
                Opinion.answer_id,
                Opinion.item_id,
                Opinion.stance,
                Opinion.referred_text,
                Opinion.proposed_text,
                Opinion.reason,
            )
            .join(Answer, Answer.id == Opinion.answer_id)
            .where(Answer.round_id == fixture.round_id)
        ).all()
        dup_answers = db.session.execute(
            select(Answer.round_id, Answer.organization_id, func.count())
            .group_by(Answer.round_id, Answer.organization_id)
            .having(func.count() > 1)
        ).all()
        dup_opinions = db.session.execute(
            select(Opinion.answer_id, Opinion.item_id, func.count())
            .where(Opinion.item_id.is_not(None))
            .group_by(Opinion.answer_id, Opinion.item_id)
            .having(func.count() > 1)
        ).all()
        baseline_counts = dict(
            db.session.execute(
                select(Answer.organization_id, func.count(Opinion.id))
                .join(Opinion, Opinion.answer_id == Answer.id)
                .where(Answer.round_id == fixture.baseline_round_id)
                .group_by(Answer.organization_id)
            ).all()
        )
        db.engine.dispose()

    by_org: dict[int, list] = {}
    for answer in answers:
        by_org.setdefault(answer.organization_id, []).append(answer)
    stored: dict[int, dict[int, tuple]] = {}
    for row in rows:
        stored.setdefault(row.answer_id, {})[row.item_id] = (
            row.stance,
            row.referred_text,
            row.proposed_text,
            row.reason,
        )
    lost, reasons = 0, Counter()
    org_of = {number: org_id for number, org_id, _ in fixture.branches}
    for number in sorted(acked):
        found = by_org.get(org_of[number], [])
        reason = None
        if not found:
            reason = "no answer row"
        else:
            answer = found[0]
            opinions = stored.get(answer.id, {})
            if answer.status != "submitted":
                reason = f"status {answer.status}"
            elif len(opinions) != items:
                reason = f"{len(opinions)} opinions instead of {items}"
            elif opinions != expected_opinions(number, fixture.item_ids):
                reason = "opinion text differs from what was sent"
            elif answer.general_comment != general_comment(number):
                reason = "general comment differs from what was sent"
        if reason:
            lost += 1
            reasons[reason] += 1
    baseline_lost = sum(1 for number in baseline_acked if baseline_counts.get(org_of[number]) != items)
    return {
        "lost": lost,
        "lost_reasons": dict(reasons),
        "duplicated": sum(c - 1 for *_, c in dup_answers) + sum(c - 1 for *_, c in dup_opinions),
        "duplicated_answers": len(dup_answers),
        "duplicated_opinions": len(dup_opinions),
        "answers_in_db": len(answers),
        "submitted_in_db": sum(1 for a in answers if a.status == "submitted"),
        "baseline_lost": baseline_lost,
    }


# ---------------------------------------------------------------------------------------------------------
# gunicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    log_path: Path


def start_server(url: str, workers: int, tmp: Path, index: int, app_spec: str, pythonpath: str | None) -> Server:
    """gunicorn from this interpreter's venv, on a free 127.0.0.1 port; returns once /health answers."""
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    instance = tmp / "instance"
    instance.mkdir(exist_ok=True)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        SECRET_KEY=SECRET_KEY,
        CONSULT_INSTANCE_PATH=str(instance),
    )
    command = [
        str(gunicorn),
        "-w",
        str(workers),
        "-b",
        f"{HOST}:{port}",
        "--timeout",
        "120",
        "--graceful-timeout",
        "10",
        "--log-level",
        "warning",
    ]
    if pythonpath:
        command += ["--pythonpath", pythonpath]
    log_path = tmp / f"gunicorn-{index}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command + [app_spec], env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://{HOST}:{port}", process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            if requests.get(server.base + "/health", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError("gunicorn did not answer /health within 60 s")


def server_cpu_s(servers) -> float:
    """CPU seconds used so far by the gunicorn masters and their workers (from /proc): with the client's own CPU,
    what one answer costs, whatever else the machine is doing."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = {server.process.pid for server in servers}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) in {server.process.pid for server in servers}:
                pids.add(int(entry))
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def stop_server(server: Server) -> None:
    """SIGTERM to the master we started (it stops its workers), SIGKILL if it lingers."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


# ---------------------------------------------------------------------------------------------------------
# Clients


@dataclass
class Sample:
    kind: str  # login | get_edit | save | submit | baseline
    seconds: float
    outcome: str  # "ok" or what went wrong: "500", "200 re-rendered", "exception ReadTimeout", ...


@dataclass
class Run:
    timeout: float
    samples: list[Sample] = field(default_factory=list)
    messages: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def request(
        self, session: requests.Session, kind: str, method: str, url: str, expect: int, **kwargs
    ) -> requests.Response | None:
        """One timed request; a POST counts as acknowledged only on a 302 that is not a bounce to /login."""
        started = time.perf_counter()
        try:
            response = session.request(method, url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            self._record(Sample(kind, time.perf_counter() - started, f"exception {type(exc).__name__}"))
            return None
        elapsed = time.perf_counter() - started
        outcome = "ok"
        if response.status_code != expect:
            outcome = str(response.status_code)
            if response.status_code == 200 and method == "POST":
                outcome = "200 re-rendered"
                with self.lock:
                    self.messages[f"{kind}: {error_message(response.text)}"] += 1
        elif expect == 302 and "/login" in response.headers.get("Location", ""):
            outcome = "302 to /login"
        self._record(Sample(kind, elapsed, outcome))
        return response if outcome == "ok" else None

    def _record(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def login(run: Run, base: str, login_name: str) -> requests.Session | None:
    """The real login form, CSRF token included (not timed)."""
    session = requests.Session()
    page = run.request(session, "login", "GET", base + "/login", 200)
    token = page is not None and hidden_value(page.text, "csrf_token")
    if not token:
        return None
    body = {"login": login_name, "password": PASSWORD, "csrf_token": token}
    if run.request(session, "login", "POST", base + "/login", 302, data=body) is None:
        return None
    return session


def rush_branch(run: Run, session: requests.Session, url: str, body: str) -> bool:
    """Open the form, save; open it again, submit. True when the submit was acknowledged."""
    for action in ("save", "submit"):
        page = run.request(session, "get_edit", "GET", url, 200)
        if page is None:
            return False
        token, version = hidden_value(page.text, "csrf_token"), hidden_value(page.text, "version")
        if token is None or version is None:
            run._record(Sample(action, 0.0, "form without csrf_token/version"))
            return False
        data = f"{body}&csrf_token={quote(token)}&version={quote(version)}&action={action}"
        if run.request(session, action, "POST", url, 302, data=data.encode(), headers=FORM_HEADERS) is None:
            return False
    return True


_local = threading.local()


def baseline_post(run: Run, url: str, body: str) -> bool:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return run.request(session, "baseline", "POST", url, 302, data=body.encode(), headers=FORM_HEADERS) is not None


def run_all(jobs: dict, concurrency: int, deadline: float) -> tuple[dict, bool, float, float]:
    """Run {key: callable} on `concurrency` threads: (results, finished before the cap, wall s, client CPU s)."""
    started, cpu = time.perf_counter(), time.process_time()
    pool = ThreadPoolExecutor(max_workers=concurrency)
    futures = {pool.submit(job): key for key, job in jobs.items()}
    done, pending = wait(futures, timeout=max(0.0, deadline - time.monotonic()))
    wall = time.perf_counter() - started
    client_cpu = time.process_time() - cpu  # the client shares the machine's cores with the server
    pool.shutdown(wait=not pending, cancel_futures=True)
    results = {}
    for future in done:
        try:
            results[futures[future]] = future.result()
        except Exception as exc:  # a bug in the client must not hide the figures
            print(f"client error: {exc!r}", file=sys.stderr)
            results[futures[future]] = False
    return results, not pending, wall, client_cpu


# ---------------------------------------------------------------------------------------------------------
# Figures


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000, 1)


def latency(samples: list[Sample], kind: str) -> dict:
    values = [s.seconds for s in samples if s.kind == kind and s.outcome == "ok"]
    return {
        "n": len(values),
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
        "max_ms": percentile(values, 100),
    }


def server_log_summary(servers: list[Server], db: str) -> dict:
    """Tracebacks and lock errors in gunicorn's output; the log is kept in bench/out when it has any."""
    summary = {"tracebacks": 0, "database_locked": 0, "logs": []}
    for index, server in enumerate(servers):
        text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        summary["tracebacks"] += text.count("Traceback (most recent call last)")
        summary["database_locked"] += len(re.findall(r"database is locked|database table is locked", text))
        if text.strip():
            kept = OUT_DIR / f"rush-{db}-gunicorn-{index}.log"
            kept.write_text(text)
            summary["logs"].append(str(kept))
    return summary


# ---------------------------------------------------------------------------------------------------------


def bench_one(db: str, args, deadline: float) -> dict:
    """The whole run on one database: setup, server(s), login, rush, baseline, verification, teardown."""
    tmp = Path(tempfile.mkdtemp(prefix=f"rush-{db}-"))
    pg_name = None
    servers: list[Server] = []
    result: dict = {
        "db": db,
        "branches": args.branches,
        "items": args.items,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "servers": args.servers,
        "complete": False,
    }
    for stale in OUT_DIR.glob(f"rush-{db}-gunicorn-*.log"):
        stale.unlink()
    try:
        url, pg_name = create_database(db, tmp, "bench")
        t0 = time.perf_counter()
        fixture = fill_database(url, args.branches, args.items)
        result["setup_s"] = round(time.perf_counter() - t0, 1)
        for index in range(args.servers):
            servers.append(start_server(url, args.workers, tmp, index, args.app, args.pythonpath))
        base_of = {number: servers[(number - 1) % len(servers)].base for number, _, _ in fixture.branches}
        login_run, run, base_run = Run(args.timeout), Run(args.timeout), Run(args.timeout)

        sessions, finished, _, _ = run_all(
            {
                number: (lambda n=number, name=name: login(login_run, base_of[n], name))
                for number, _, name in fixture.branches
            },
            args.concurrency,
            deadline,
        )
        failed_logins = [n for n, s in sessions.items() if s is None]
        if not finished:
            raise RuntimeError("the time cap (--max-seconds) was reached while the branches were logging in")
        if failed_logins:
            outcomes = Counter(s.outcome for s in login_run.samples if s.outcome != "ok")
            raise RuntimeError(f"{len(failed_logins)} logins failed ({dict(outcomes)}); is the login form changed?")

        bodies = {number: form_body(number, fixture.item_ids) for number, _, _ in fixture.branches}
        jobs = {
            number: (
                lambda n=number, org=org_id: rush_branch(
                    run, sessions[n], f"{base_of[n]}/answers/{fixture.round_id}/org/{org}/edit", bodies[n]
                )
            )
            for number, org_id, _ in fixture.branches
        }
        load_before = os.getloadavg()[0]
        cpu_start = server_cpu_s(servers)
        outcomes, finished, wall, client_cpu = run_all(jobs, args.concurrency, deadline)
        cpu_rush = server_cpu_s(servers) - cpu_start
        load_after = os.getloadavg()[0]
        acked = {n for n, ok in outcomes.items() if ok}

        base_bodies = {
            number: form_body(number, fixture.baseline_item_ids) + f"&round_id={fixture.baseline_round_id}"
            for number, _, _ in fixture.branches
        }
        base_jobs = {
            number: (
                lambda n=number, org=org_id: baseline_post(
                    base_run, f"{base_of[n]}/bench/baseline/{org}", base_bodies[n]
                )
            )
            for number, org_id, _ in fixture.branches
        }
        cpu_start = server_cpu_s(servers)
        if finished:
            base_outcomes, base_finished, base_wall, base_client_cpu = run_all(base_jobs, args.concurrency, deadline)
        else:  # the cap was reached: no time left for the yardstick
            base_outcomes, base_finished, base_wall, base_client_cpu = {}, False, 0.0, 0.0
        base_acked = {n for n, ok in base_outcomes.items() if ok}
        cpu_base = server_cpu_s(servers) - cpu_start

        for server in servers:
            stop_server(server)
        checked = verify(fixture, acked, base_acked, args.items)

        posts = [s for s in run.samples if s.kind in ("save", "submit") and s.outcome == "ok"]
        answers_per_s = len(acked) / wall
        base_per_s = len(base_acked) / base_wall if base_wall else 0.0
        errors = Counter(f"{s.kind} {s.outcome}" for s in run.samples + base_run.samples if s.outcome != "ok")
        result.update(
            {
                "complete": finished and base_finished,
                "wall_s": round(wall, 2),
                "client_cpu_s": round(client_cpu, 2),
                "cpus": os.cpu_count(),
                "load_avg_1min": [round(load_before, 2), round(load_after, 2)],  # other work on the machine skews it
                "submitted_acknowledged": len(acked),
                "not_acknowledged": args.branches - len(acked),
                "requests": len(run.samples),
                "answers_per_s": round(answers_per_s, 2),
                "requests_per_s": round(len(run.samples) / wall, 2),
                "writes_per_s": round(len(posts) / wall, 2),
                "latency": {kind: latency(run.samples, kind) for kind in ("save", "submit", "get_edit")},
                "errors": dict(errors),
                "error_messages": dict(run.messages.most_common(10)),
                **checked,
                "baseline": {
                    "wall_s": round(base_wall, 2),
                    "client_cpu_s": round(base_client_cpu, 2),
                    "acknowledged": len(base_acked),
                    "answers_per_s": round(base_per_s, 2),
                    "latency": latency(base_run.samples, "baseline"),
                },
                "ratio": round(answers_per_s / base_per_s, 3) if base_per_s else None,
                "write_ratio": round(len(posts) / wall / base_per_s, 3) if base_per_s else None,
                "cpu_ms_per_answer": round(1000 * (cpu_rush + client_cpu) / max(1, len(acked)), 1),
                "server_cpu_ms_per_answer": round(1000 * cpu_rush / max(1, len(acked)), 1),
                "baseline_cpu_ms_per_answer": round(1000 * (cpu_base + base_client_cpu) / max(1, len(base_acked)), 1),
            }
        )
    finally:
        for server in servers:
            stop_server(server)
        if servers:
            result["server_log"] = server_log_summary(servers, db)
        if not args.keep:
            drop_database(pg_name)
            for path in sorted(tmp.rglob("*"), reverse=True):
                path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
            tmp.rmdir()
        else:
            result["kept"] = pg_name or str(tmp)
    return result


def report(r: dict) -> str:
    def lat(d: dict) -> str:
        return f"p50 {d['p50_ms']} ms  p95 {d['p95_ms']} ms  p99 {d['p99_ms']} ms  max {d['max_ms']} ms  (n={d['n']})"

    lines = [
        f"== {r['db']}: {r['branches']} branches x {r['items']} items, {r['servers']} server(s) x "
        f"{r['workers']} gunicorn workers, {r['concurrency']} client threads, setup {r.get('setup_s')} s",
        f"  rush wall time      {r['wall_s']} s  ({r['requests']} requests; the client itself used "
        f"{r['client_cpu_s']} s of CPU; 1-min load {r['load_avg_1min'][0]} before, {r['load_avg_1min'][1]} "
        f"after, {r['cpus']} CPUs)",
        f"  throughput          {r['answers_per_s']} answers submitted/s, {r['requests_per_s']} requests/s, "
        f"{r['writes_per_s']} save+submit POSTs/s",
        f"  save POST           {lat(r['latency']['save'])}",
        f"  submit POST         {lat(r['latency']['submit'])}",
        f"  edit page GET       {lat(r['latency']['get_edit'])}",
        f"  acknowledged        {r['submitted_acknowledged']} of {r['branches']} submits "
        f"(answers in db {r['answers_in_db']}, submitted {r['submitted_in_db']})",
        f"  errors              {r['errors'] or 'none'}",
    ]
    for message, count in r["error_messages"].items():
        lines.append(f"     {count} x {message}")
    log = r.get("server_log", {})
    lines += [
        f"  server log          {log.get('tracebacks', 0)} tracebacks, {log.get('database_locked', 0)} "
        f"'database is locked'  {' '.join(log.get('logs', []))}",
        f"  LOST                {r['lost']}  {r['lost_reasons'] or ''}",
        f"  DUPLICATED          {r['duplicated']}",
        f"  baseline            {r['baseline']['answers_per_s']} answers/s (plain SQLAlchemy Core insert, "
        f"{r['baseline']['acknowledged']} ok, {r['baseline']['wall_s']} s, lost {r['baseline_lost']}), "
        f"{lat(r['baseline']['latency'])}",
        f"  ratio full/baseline {r['ratio']} (answers/s; {r['write_ratio']} counting each save/submit POST)",
        f"  CPU per answer      {r.get('cpu_ms_per_answer')} ms "
        f"(server {r.get('server_cpu_ms_per_answer')} ms + client), "
        f"baseline {r.get('baseline_cpu_ms_per_answer')} ms: CPU ratio "
        + (
            f"{r['baseline_cpu_ms_per_answer'] / r['cpu_ms_per_answer']:.3f} "
            f"({2 * r['baseline_cpu_ms_per_answer'] / r['cpu_ms_per_answer']:.3f} per POST)"
            if r.get("cpu_ms_per_answer")
            else "n/a"
        ),
    ]
    if not r["complete"]:
        lines.append("  INCOMPLETE: the time cap stopped the run")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers per server")
    parser.add_argument("--concurrency", type=int, default=32, help="client threads")
    parser.add_argument("--servers", type=int, default=1, help="gunicorn servers (PostgreSQL only beyond 1)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="cap on the whole run")
    parser.add_argument("--keep", action="store_true", help="keep the database and temp dir for inspection")
    parser.add_argument("--app", default="benchapp:create_app()", help=argparse.SUPPRESS)
    parser.add_argument("--pythonpath", default=str(Path(__file__).resolve().parent), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.branches, args.items, args.workers, args.concurrency, args.servers) < 1:
        parser.error("counts must be at least 1")
    if args.branches > 999:
        parser.error("--branches is at most 999")
    databases = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    if args.servers > 1 and "sqlite" in databases:
        if args.db == "sqlite":
            parser.error("--servers > 1 needs PostgreSQL (SQLite is one file on one machine)")
        print("note: SQLite runs with one server; --servers applies to PostgreSQL", file=sys.stderr)

    OUT_DIR.mkdir(exist_ok=True)
    deadline = time.monotonic() + args.max_seconds
    status = 0
    for db in databases:
        one = argparse.Namespace(**{**vars(args), "servers": 1 if db == "sqlite" else args.servers})
        try:
            result = bench_one(db, one, deadline)
        except Exception as exc:
            print(f"== {db}: FAILED: {exc}", file=sys.stderr)
            status = max(status, 2)
            continue
        (OUT_DIR / f"rush-{db}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        print(report(result), flush=True)
        if result["lost"] or result["duplicated"] or result["baseline_lost"]:
            status = max(status, 1)
        if not result["complete"]:
            status = max(status, 2)
        if result["not_acknowledged"] and not status:
            status = 3
    return status


if __name__ == "__main__":
    sys.exit(main())
