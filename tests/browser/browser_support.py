"""Helpers of the browser tests (the fixtures are in conftest.py): paths, contexts, login, screenshots, axe."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("CONSULT_CHROMIUM") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
STAFF = ("staff", "demo-staff")
TOKYO = ("tokyo", "demo-tokyo")


def missing(reason: str) -> None:
    """Skip on a developer's machine; under CI a missing browser is a failure, not a silent pass."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class Server:
    """The running app: its address, its SQLite file and the file that moves its clock."""

    base_url: str
    db_path: Path
    offset_file: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def move_clock(self, seconds: float) -> None:
        """Move the server's time (not the browser's): now() = wall clock + seconds."""
        self.offset_file.write_text(str(seconds))

    def query(self, sql: str, *params) -> list[tuple]:
        """Read the server's database directly, to check what the pages say against what was stored."""
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def one(self, sql: str, *params):
        rows = self.query(sql, *params)
        assert len(rows) == 1, (sql, params, rows)
        return rows[0][0] if len(rows[0]) == 1 else rows[0]


def new_context(browser, viewport: dict, **extra):
    options = {"viewport": viewport, "locale": "ja-JP", "timezone_id": "Asia/Tokyo", "accept_downloads": True}
    if viewport == PHONE:
        options.update(is_mobile=True, has_touch=True, device_scale_factor=2)
    # bypass_csp: the app forbids injected scripts; axe-core is injected by the accessibility checks only.
    context = browser.new_context(bypass_csp=True, **options, **extra)
    context.set_default_timeout(15_000)
    return context


def login(page, server: Server, who: tuple[str, str]) -> None:
    """Log in through the real form with the mouse (the branch journey does it with the keyboard)."""
    page.goto(server.url("/login"))
    page.get_by_label("ログインID").fill(who[0])
    page.get_by_label("パスワード").fill(who[1])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def screenshot(page, name: str, full_page: bool = False) -> Path:
    """Save a picture of the page for the README (overwritten on every run)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=full_page)
    return path


def flash_text(page) -> str:
    return " ".join(page.locator("p.flash").all_inner_texts())


def axe_violations(page) -> list[dict]:
    """Run axe-core on the current page; returns its violations (id, impact, help, nodes' targets)."""
    if not AXE_JS.is_file():
        missing(f"axe-core is not installed ({AXE_JS}); run `npm ci` in {HERE}")
    page.add_script_tag(path=str(AXE_JS))
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
    }""")


def keyboard_focus(page, predicate_js: str, limit: int = 400) -> None:
    """Press Tab until the focused element satisfies the predicate (a JS expression on `el`)."""
    check = f"() => {{ const el = document.activeElement; return !!(el && ({predicate_js})); }}"
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check):
            return
    raise AssertionError(f"Tab never reached an element where {predicate_js}")


def focus_outline(page) -> dict:
    """The focused element's outline as computed, to prove keyboard focus is visible."""
    return page.evaluate("""() => {
        const el = document.activeElement, s = getComputedStyle(el);
        return {tag: el.tagName, name: el.name || '', value: el.value || '', style: s.outlineStyle,
                width: parseFloat(s.outlineWidth), color: s.outlineColor, focusVisible: el.matches(':focus-visible')};
    }""")
