"""The README's curl examples, run as written (in bash, with curl) against `consult demo` and `consult run`."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from consult.demo.data import CONCEPTS_TITLE

ROOT = Path(__file__).resolve().parent.parent
README_PORT = "http://127.0.0.1:5000"


def readme_api_block() -> str:
    """The first ```sh block of the README's `## API` section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## API\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README's API section has no ```sh block"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path):
    """`consult demo`, then `consult run` on a free port, in an instance folder of the test's own."""
    consult = Path(sys.executable).parent / "consult"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env["CONSULT_INSTANCE_PATH"] = str(tmp_path / "instance")
    demo = subprocess.run([consult, "demo"], env=env, capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    port = _free_port()
    server = subprocess.Popen(
        [consult, "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(base + "/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("consult run did not answer /health")
        yield {"base": base, "env": env, "consult": consult}
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_readme_curl_examples_work_as_written(demo_server, tmp_path):
    if shutil.which("curl") is None or shutil.which("bash") is None:
        if os.environ.get("CI"):
            pytest.fail("curl and bash are needed to run the README's examples")
        pytest.skip("curl or bash is missing")
    script = readme_api_block()
    assert ".venv/bin/consult create-token tokyo" in script and README_PORT in script
    # The same lines, pointed at this test's server and at the consult command of this interpreter.
    script = script.replace(README_PORT, demo_server["base"]).replace(".venv/bin/consult", str(demo_server["consult"]))
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + '\necho "ROUND=$ROUND ORG=$ORG ITEM=$ITEM"\n'],
        cwd=work,
        env=demo_server["env"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    rounds = json.loads(lines[0])  # 2. the rounds Tokyo can answer now: the open three-concepts round
    assert [r["title"] for r in rounds] == [CONCEPTS_TITLE] and rounds[0]["accepting"] is True
    saved = json.loads(lines[1])  # 3. the draft answer, as stored
    assert saved["state"] == "draft" and saved["comment"] == "県本部で討議中です。"
    assert saved["opinions"][0]["stance"] == "amend" and saved["opinions"][0]["item_id"]
    ids = dict(part.split("=") for part in lines[-1].split())
    assert int(ids["ROUND"]) == rounds[0]["id"] and int(ids["ITEM"]) == saved["opinions"][0]["item_id"]
    letter = zipfile.ZipFile(work / "letter.docx")  # 4. a real Word file, and a ZIP of them
    assert "word/document.xml" in letter.namelist()
    assert "要請書" in letter.read("word/document.xml").decode("utf-8")
    names = zipfile.ZipFile(work / "letters.zip").namelist()
    # the newest campaign: the 2026 one carried over from the DX campaign (issue 14), one letter per addressee
    assert len(names) == 6 and all(name.endswith(".docx") for name in names)
    assert [name[:3] for name in names] == [f"{n:02d}_" for n in range(1, 7)]
    assert "Excel マクロ" not in run.stdout  # the token's name goes to stderr; stdout holds only the token
