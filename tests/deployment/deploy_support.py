"""The shipped deploy/ files read as systemd and nginx read them, with only the test's paths and ports put in."""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SERVER_NAME = "consult.example.jp"
VENV = Path(sys.prefix)  # stands for /srv/consult/venv: the test's own virtual environment
CONSULT = VENV / "bin" / "consult"
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # what systemd gives a service


def missing(reason: str) -> None:
    """Skip with the reason on a developer's machine; under CI=true the deployment must be tested, so fail."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the deployment tests must run; .ci/run installs nginx)")
    pytest.skip(reason)


def need(program: str, package: str) -> str:
    path = shutil.which(program) or (f"/usr/sbin/{program}" if Path(f"/usr/sbin/{program}").exists() else None)
    if path is None:
        missing(f"{program} not found (apt-get install {package})")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def substituted(text: str, replacements: dict[str, str]) -> str:
    """Put the test's paths and ports in; each one must be found, so a changed deploy file is noticed."""
    for old, new in replacements.items():
        assert old in text, f"{old!r} is no longer in the shipped file: update the test's substitutions"
        text = text.replace(old, new)
    return text


# ---------------------------------------------------------------------------------------------------------
# systemd


@dataclass
class Unit:
    """The [Section] Key=value lines of a unit file, continuation lines joined, comments dropped."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, key: str) -> str:
        found = self.values.get(key, [])
        assert len(found) == 1, f"{key}: {found}"
        return found[0]

    def command(self, key: str = "Service.ExecStart") -> list[str]:
        """The command line as systemd splits it (quotes as in a shell; no variables in ours)."""
        return shlex.split(self.get(key))


def read_unit(name: str, replacements: dict[str, str] | None = None) -> Unit:
    text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
    if replacements:
        text = substituted(text, replacements)
    text = re.sub(r"\\\n\s*", " ", text)
    unit, section = Unit(), ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        unit.values.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return unit


def read_environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile=: KEY=value lines, # and ; comments, optional quotes around the value."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def run_unit(unit: Unit, env_file: Path, extra_env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """Start the unit's ExecStart as systemd would: its umask, working folder and environment file (not its User=:
    the test runs as whoever runs it)."""
    umask = int(unit.get("Service.UMask"), 8)
    env = {"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"}
    assert Path(unit.get("Service.EnvironmentFile")) == env_file
    env.update(read_environment_file(env_file))
    env.update(extra_env or {})
    return subprocess.Popen(
        unit.command(), cwd=unit.get("Service.WorkingDirectory"), env=env, preexec_fn=lambda: os.umask(umask), **popen
    )


def wait_until(check, timeout: float = 60, what: str = "the server") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up within {timeout} s")


# ---------------------------------------------------------------------------------------------------------
# nginx


def nginx_main_config(site: Path, work: Path) -> Path:
    """Debian's own /etc/nginx/nginx.conf with our site as the only one, logs and temporary files in `work`."""
    debian = Path("/etc/nginx/nginx.conf")
    if not debian.exists():
        missing("no /etc/nginx/nginx.conf (apt-get install nginx)")
    text = debian.read_text()
    user = "root" if os.geteuid() == 0 else None
    text = re.sub(r"^user\s+[^;]+;", f"user {user};" if user else "", text, flags=re.M)
    text = re.sub(r"^pid\s+[^;]+;", f"pid {work}/nginx.pid;", text, flags=re.M)
    text = re.sub(r"error_log\s+[^;]+;", f"error_log {work}/error.log;", text)
    text = re.sub(r"access_log\s+[^;]+;", f"access_log {work}/access.log;", text)
    temp = "".join(
        f"    {kind}_temp_path {work}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = text.replace("include /etc/nginx/sites-enabled/*;", f"include {site};\n{temp}")
    assert str(site) in text, "Debian's nginx.conf no longer includes sites-enabled/*"
    main = work / "nginx.conf"
    main.write_text(text)
    return main


def self_signed_certificate(folder: Path, name: str = SERVER_NAME) -> tuple[Path, Path]:
    openssl = need("openssl", "openssl")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


# ---------------------------------------------------------------------------------------------------------
# A browser's requests: to 127.0.0.1, with the server's name in SNI and in Host (with the port), and cookies


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def all(self, name: str) -> list[str]:
        return self.headers.get_all(name) or []


class Browser:
    """Talks to nginx on loopback as a browser would to https://consult.example.jp:PORT/."""

    def __init__(self, cafile: Path, https_port: int, source: str = "127.0.0.1"):
        self.context = ssl.create_default_context(cafile=str(cafile))
        self.https_port = https_port
        self.source = source
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []

    @property
    def origin(self) -> str:
        return f"https://{SERVER_NAME}:{self.https_port}"

    def _connection(self, scheme: str, port: int) -> http.client.HTTPConnection:
        if scheme == "https":
            conn = http.client.HTTPSConnection(SERVER_NAME, port, context=self.context, timeout=120)
        else:
            conn = http.client.HTTPConnection(SERVER_NAME, port, timeout=30)
        source = self.source
        conn._create_connection = lambda address, timeout=30, *_: socket.create_connection(
            ("127.0.0.1", address[1]), timeout, (source, 0)
        )
        return conn

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        scheme: str = "https",
        port: int | None = None,
    ) -> Response:
        conn = self._connection(scheme, port or self.https_port)
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read())
        finally:
            conn.close()
        for header in response.all("Set-Cookie"):
            self.set_cookies.append(header)
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if value and "expires=Thu, 01 Jan 1970" not in header:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post_form(self, path: str, fields: dict[str, str], referer: str | None = None) -> Response:
        from urllib.parse import urlencode

        return self.request(
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": referer or self.origin + path},
        )

    def post_file(
        self, path: str, fields: dict[str, str], name: str, filename: str, data: bytes, content_type: str
    ) -> Response:
        boundary = "----consult-smoke-" + os.urandom(8).hex()
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
            for k, v in fields.items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": self.origin + path},
        )


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no csrf_token in the page"
    return match.group(1)
