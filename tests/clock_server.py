"""TEST ONLY: the app for tests that run a real server process and need to move its time.

The app's own CLOCK setting is the wall clock plus the seconds written in the file named by
TEST_CLOCK_OFFSET_FILE (absent or empty: 0), read on each call, so a test can pass a deadline on the server
while the browser's clock stays put. It lives outside the package: the production app has no such file.

    flask --app clock_server:create_app run           (PYTHONPATH=tests)
    gunicorn --pythonpath tests 'clock_server:create_app()'
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from consult import create_app as create_consult_app


def offset_clock(path: Path):
    """A CLOCK for the app: wall clock + the seconds in the file."""

    def now() -> datetime:
        try:
            text = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        return datetime.now(UTC) + timedelta(seconds=float(text) if text else 0.0)

    return now


def create_app():
    return create_consult_app({"CLOCK": offset_clock(Path(os.environ["TEST_CLOCK_OFFSET_FILE"]))})
