"""Browser tests: a real server process on a free port with a fresh SQLite file, driven by Debian's chromium.

The server always runs on its own SQLite file (even when TEST_DATABASE_URL points at PostgreSQL), loaded with
`consult demo`; the tests read that file directly to check what the pages claim. Its clock is the wall clock
plus the seconds written to an offset file (consult.core.clock, test-only), so a deadline can pass on the server
while the browser's own clock stays put.

Without chromium or the playwright package the tests skip and say why; under CI (CI=true) they fail instead.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .browser_support import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, Server, missing, new_context

TESTS = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives a real chromium against a real server process")


@pytest.fixture(scope="session")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright Python package is not installed (pip install -e '.[test]')")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing(f"no chromium at {CHROMIUM} (apt-get install chromium, or set CONSULT_CHROMIUM)")
    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="session")
def browser(playwright_api):
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory, playwright_api):
    """`consult demo` on a fresh SQLite file, then the app served by a real process on a free port."""
    work = tmp_path_factory.mktemp("browser-server")
    db_path = work / "consult.sqlite"
    offset_file = work / "clock-offset"
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(
        {
            "CONSULT_INSTANCE_PATH": str(work / "instance"),
            "DATABASE_URL": f"sqlite:///{db_path}",
            "TEST_CLOCK_OFFSET_FILE": str(offset_file),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")])),
            "SECRET_KEY": "browser-tests",
            "PYTHONUNBUFFERED": "1",
        }
    )
    flask = [sys.executable, "-m", "flask", "--app", "consult"]
    loaded = subprocess.run([*flask, "demo"], env=env, capture_output=True, text=True, timeout=120)
    if loaded.returncode != 0:
        raise RuntimeError(f"consult demo failed:\n{loaded.stdout}\n{loaded.stderr}")
    port = _free_port()
    log = open(work / "server.log", "w")  # noqa: SIM115 - closed after the process ends
    served = [sys.executable, "-m", "flask", "--app", "clock_server:create_app"]  # the app, its CLOCK movable
    process = subprocess.Popen(
        [*served, "run", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base_url + "/health", process, work / "server.log")
        yield Server(base_url, db_path, offset_file)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited:\n" + log_path.read_text())
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if json.loads(response.read()).get("status") == "ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer within 30 seconds:\n" + log_path.read_text())


@pytest.fixture
def server_clock(server):
    """Gives the test the server's clock; whatever the test did, the next test starts at wall-clock time."""
    server.move_clock(0)
    yield server
    server.move_clock(0)


@pytest.fixture
def desktop(browser):
    context = new_context(browser, DESKTOP)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = new_context(browser, PHONE)
    yield context.new_page()
    context.close()
