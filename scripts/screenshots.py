"""Screenshot the main pages with Debian's chromium, for looking at what users see.

Usage: python scripts/screenshots.py OUTDIR  (starts the app on a demo database in a temp folder)
"""

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    instance = Path(tempfile.mkdtemp())
    env = dict(os.environ, CONSULT_INSTANCE_PATH=str(instance))
    consult = str(Path(sys.executable).parent / "consult")
    subprocess.run([consult, "demo"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([consult, "run", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        time.sleep(2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for login, password, viewport, pages in (
                ("staff", "demo-staff", {"width": 1280, "height": 900},
                 ["/rounds/", "/rounds/1", "/rounds/1/items", "/rounds/2/board", "/rounds/1/items/import",
                  "/answers/2/org/{tokyo}"]),
                ("tokyo", "demo-tokyo", {"width": 390, "height": 844},
                 ["/answers/", "/answers/1", "/answers/1/org/{tokyo}/edit", "/answers/2/org/{tokyo}"]),
            ):
                page = browser.new_page(viewport=viewport)
                page.goto(base + "/login")
                page.fill("#login", login)
                page.fill("#password", password)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                html = page.content()
                tokyo = re.search(r"/answers/\d+/org/(\d+)", html)
                for path in pages:
                    if "{tokyo}" in path:
                        page.goto(base + "/answers/1")
                        m = re.search(r"/answers/1/org/(\d+)", page.content())
                        path = path.replace("{tokyo}", m.group(1) if m else "0")
                    page.goto(base + path)
                    name = f"{login}-" + re.sub(r"[^a-z0-9]+", "-", path.strip("/")) + ".png"
                    page.screenshot(path=str(out / name), full_page=True)
                    print(out / name)
                _ = tokyo
            browser.close()
    finally:
        server.terminate()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots"))
