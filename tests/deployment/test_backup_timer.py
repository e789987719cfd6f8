"""SQLite as the guide sets it up: the app keeps its files to itself, and consult-backup.service keeps N days.

(PostgreSQL's backup and restore through the same unit are in test_smoke.py.)
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .deploy_support import CONSULT, DEPLOY, SYSTEMD_PATH, VENV, read_unit, run_unit, substituted


@pytest.fixture(scope="module")
def sqlite_site(tmp_path_factory):
    """The environment file for SQLite (the guide: delete the DATABASE_URL line), an initialised database."""
    tmp_path = tmp_path_factory.mktemp("sqlite_site")
    srv = tmp_path / "srv" / "consult"
    srv.mkdir(parents=True)
    env_file = tmp_path / "consult.env"
    text = (DEPLOY / "consult.env.example").read_text(encoding="utf-8")
    env_file.write_text(
        substituted(
            text,
            {
                "DATABASE_URL=postgresql+psycopg:///consult\n": "",
                "@SECRET_KEY@": "ab" * 32,
                "@REDIS_PASSWORD@": "cd" * 32,
                "/srv/consult": str(srv),
            },
        ),
        encoding="utf-8",
    )
    # A root shell's umask (022): the app sets the modes itself, not only the units' UMask=0077.
    run = subprocess.run(
        [str(CONSULT), "-e", str(env_file), "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"},
        preexec_fn=lambda: os.umask(0o022),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    backups = tmp_path / "backups"
    backups.mkdir(mode=0o700)
    return srv, env_file, backups


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_app_creates_its_instance_folder_700_and_the_database_600_whatever_the_umask(sqlite_site):
    srv, _, _ = sqlite_site
    instance = srv / "instance"
    assert mode(instance) == 0o700
    assert mode(instance / "consult.sqlite") == 0o600
    conn = sqlite3.connect(instance / "consult.sqlite")  # while it is open (and written), -wal and -shm exist
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.execute("UPDATE organization SET position = position")
        conn.commit()
        for companion in ("consult.sqlite-wal", "consult.sqlite-shm"):
            assert mode(instance / companion) == 0o600, companion
    finally:
        conn.close()
    assert not (instance / "secret_key").exists()  # SECRET_KEY is in the environment file


def test_backup_unit_makes_a_private_copy_and_removes_those_older_than_the_days_it_keeps(sqlite_site):
    srv, env_file, backups = sqlite_site
    unit = read_unit(
        "consult-backup.service",
        {
            "/srv/consult/venv": str(VENV),
            "/usr/local/sbin/consult-backup": str(DEPLOY / "consult-backup"),
            "/var/backups/consult": str(backups),
            "/etc/consult/consult.env": str(env_file),
            "/srv/consult": str(srv),
        },
    )
    days = int(unit.command()[-1])
    now = time.time()
    old = {
        "consult-20250101-001500.sqlite": now - days * 86400 - 3600,
        "consult-20250101-011500.dump": now - days * 86400 - 60,
    }
    kept = {"consult-20250102-001500.sqlite": now - days * 86400 + 3600, "notes.txt": now - 400 * 86400}
    for name, mtime in {**old, **kept}.items():
        (backups / name).write_bytes(b"x")
        os.utime(backups / name, (mtime, mtime))

    backup = run_unit(unit, env_file, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = backup.communicate(timeout=300)[0].decode()
    assert backup.returncode == 0, output

    left = {p.name for p in backups.iterdir()}
    assert not left & set(old), output
    assert set(kept) <= left
    (new,) = left - set(kept)
    assert new.startswith("consult-") and new.endswith(".sqlite")
    assert mode(backups / new) == 0o600
    with sqlite3.connect(f"file:{backups / new}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM opinion").fetchone()[0] > 0
    conn.close()


def test_backup_script_refuses_a_missing_folder_or_days(sqlite_site, tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    python = str(VENV / "bin" / "python")
    for args in ([str(backups)], [str(backups), "0"], [str(backups), "x"], [str(tmp_path / "nowhere"), "14"]):
        run = subprocess.run([python, str(DEPLOY / "consult-backup"), *args], capture_output=True, text=True)
        assert run.returncode != 0 and run.stderr, args
    assert not list(backups.iterdir())
