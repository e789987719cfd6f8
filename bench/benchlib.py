"""What the benchmarks share: a fresh database per run, and a sampler of the process's peak memory."""

from __future__ import annotations

import os
import resource
import threading
from pathlib import Path

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def create_database(kind: str, tmp: Path, stem: str) -> tuple[str, str | None]:
    """A fresh, empty database: (SQLAlchemy URL, PostgreSQL database name or None for SQLite)."""
    if kind == "sqlite":
        return "sqlite:///" + str(tmp / f"{stem}.sqlite"), None
    import psycopg

    name = f"consult_{stem}_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.format(name=name), name


def drop_database(name: str | None) -> None:
    """Drop a PostgreSQL database made by create_database (nothing to do for SQLite)."""
    if name is None:
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rss_bytes() -> int:
    """Resident set size now (sees C allocations such as lxml's, which tracemalloc does not)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_BYTES


class RssSampler:
    """Peak resident set size while active, sampled every few milliseconds by a thread."""

    def __init__(self, interval: float = 0.002):
        self.interval = interval
        self.start = self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth_mb(self) -> float:
        return round((self.peak - self.start) / 1e6, 1)


def maxrss_mb() -> float:
    """The process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class StatementCounter:
    """Counts SQL statements on an engine while active."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count = 0
        self.engine = engine
        self._event = event
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(self, *args, **kwargs):
        self.count += 1

    def close(self):
        self._event.remove(self.engine, "before_cursor_execute", self._on)


def write_result(name: str, result: dict) -> Path:
    """bench/out/<name>.json, the figures of the last run, for the README and for comparing runs."""
    import json

    out = Path(__file__).resolve().parent / "out" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return out
