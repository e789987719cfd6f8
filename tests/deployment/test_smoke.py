"""The deployment as docs/PRODUCTION.md builds it, from the files in deploy/ with only paths and ports changed.

Debian's nginx (its own nginx.conf, our site file) with a self-signed certificate on loopback high ports, gunicorn
started as consult.service's ExecStart says with its UMask and EnvironmentFile, Redis with a password, and a
fresh PostgreSQL database at 127.0.0.1:5432 made for this run. The set-up steps are the guide's: init-db,
import-orgs, create-user with the password on stdin, all through `consult -e ENVFILE`. Then, through nginx over
https on a port that is not 443: login, a 10 MB attachment, the headers and cookie flags, /health, and a backup
by consult-backup.service restored with pg_restore while the app is stopped (the maintenance page meanwhile),
every row compared.

Without nginx, PostgreSQL's tools or redis-server this skips and says why; under CI=true it fails instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from .deploy_support import (
    CONSULT,
    DEPLOY,
    SERVER_NAME,
    SYSTEMD_PATH,
    VENV,
    Browser,
    csrf_token,
    free_port,
    missing,
    need,
    nginx_main_config,
    read_environment_file,
    read_unit,
    run_unit,
    self_signed_certificate,
    substituted,
    wait_until,
)

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ADMIN_LOGIN = "kanri"
ADMIN_PASSWORD = "smoke-test-Pa55word"
REDIS_PASSWORD = "0123abcd" * 8
SECRET_KEY = "5ec7e7" * 10
ORGS_CSV = "code,name,kind,parent_code\nhq,全日本自治団体労働組合,hq,\npref13,自治労東京都本部,prefecture,hq\n"


@dataclass
class Site:
    work: Path
    env_file: Path
    db_url: str
    https: int
    http: int
    app_port: int
    redis_port: int
    cert: Path
    nginx: str
    app_replacements: dict[str, str]
    backup_replacements: dict[str, str]
    nginx_conf: Path | None = None
    gunicorn: subprocess.Popen | None = None

    def browser(self, source: str = "127.0.0.1") -> Browser:
        return Browser(self.cert, self.https, source)

    def consult(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        """A CLI line of the guide: the venv's consult with the environment file, and nothing else, loaded."""
        run = subprocess.run(
            [str(CONSULT), "-e", str(self.env_file), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={"PATH": SYSTEMD_PATH, "LANG": "C.UTF-8"},
            cwd=self.work,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        return run

    def start_app(self) -> None:
        unit = read_unit("consult.service", self.app_replacements)
        log = open(self.work / "gunicorn.log", "ab")  # noqa: SIM115  (kept open by the child)
        self.gunicorn = run_unit(unit, self.env_file, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: _http_ok(self.app_port), what="gunicorn")

    def stop_app(self) -> None:
        if self.gunicorn and self.gunicorn.poll() is None:
            self.gunicorn.send_signal(signal.SIGTERM)  # what `systemctl stop` sends
            self.gunicorn.wait(timeout=60)
        self.gunicorn = None

    def engine(self):
        return create_engine(self.db_url)


def _http_ok(port: int) -> bool:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    finally:
        conn.close()


def _tcp_open(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        return True


def _postgres_engine():
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  any failure to reach it is the same missing service
        missing(f"PostgreSQL not reachable at 127.0.0.1:5432 as postgres ({type(exc).__name__})")
    return engine


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    nginx = need("nginx", "nginx")
    for program in ("pg_dump", "pg_restore"):
        need(program, "postgresql-client")
    redis_server = need("redis-server", "redis-server")
    admin = _postgres_engine()
    work = tmp_path_factory.mktemp("site")
    name = f"consult_smoke_{os.getpid()}_{time.time_ns()}"
    processes: list[subprocess.Popen] = []
    site = None
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        redis_port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    redis_server,
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--requirepass",
                    REDIS_PASSWORD,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(work),
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        wait_until(lambda: _tcp_open(redis_port), what="redis-server")

        # /etc/consult/consult.env from the example, as the guide's step writes it (mode 640)
        srv = work / "srv" / "consult"
        srv.mkdir(parents=True)
        db_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        env_file = work / "etc" / "consult" / "consult.env"
        env_file.parent.mkdir(parents=True)
        env_file.write_text(
            substituted(
                (DEPLOY / "consult.env.example").read_text(encoding="utf-8"),
                {
                    "postgresql+psycopg:///consult": db_url,
                    "@SECRET_KEY@": SECRET_KEY,
                    "@REDIS_PASSWORD@": REDIS_PASSWORD,
                    "127.0.0.1:6379": f"127.0.0.1:{redis_port}",
                    "/srv/consult": str(srv),
                },
            ),
            encoding="utf-8",
        )
        env_file.chmod(0o640)

        app_port, http_port, https_port = free_port(), free_port(), free_port()
        app = {
            "/srv/consult/venv": str(VENV),
            "127.0.0.1:8000": f"127.0.0.1:{app_port}",
            "/etc/consult/consult.env": str(env_file),
            "/srv/consult": str(srv),
        }
        backup = {
            "/srv/consult/venv": str(VENV),
            "/usr/local/sbin/consult-backup": str(DEPLOY / "consult-backup"),
            "/var/backups/consult": str(work / "backups"),
            "/etc/consult/consult.env": str(env_file),
            "/srv/consult": str(srv),
        }
        (work / "backups").mkdir(mode=0o700)
        site = Site(
            work,
            env_file,
            db_url,
            https_port,
            http_port,
            app_port,
            redis_port,
            self_signed_certificate(work / "ssl")[0],
            nginx,
            app,
            backup,
        )

        # the guide's steps 6 and 7: schema, organisations, the first admin; the demo for rows to keep
        site.consult("init-db")
        orgs = work / "orgs.csv"
        orgs.write_text(ORGS_CSV, encoding="utf-8")
        site.consult("import-orgs", str(orgs))
        site.consult(
            "create-user",
            ADMIN_LOGIN,
            "--name",
            "本部 管理者",
            "--role",
            "admin",
            "--org",
            "hq",
            "--password-file",
            "-",
            stdin=ADMIN_PASSWORD + "\n",
        )
        site.consult("demo")

        site.start_app()

        (work / "maintenance").mkdir()
        shutil.copy(DEPLOY / "maintenance.html", work / "maintenance" / "maintenance.html")
        (work / "log").mkdir()
        (work / "www").mkdir()
        (work / "nginx").mkdir()
        conf = substituted(
            (DEPLOY / "nginx" / "consult.conf").read_text(encoding="utf-8"),
            {
                "listen 80": f"listen 127.0.0.1:{http_port}",
                "listen [::]:80": f"listen [::1]:{http_port}",
                "listen 443": f"listen 127.0.0.1:{https_port}",
                "listen [::]:443": f"listen [::1]:{https_port}",
                "$host:443": f"$host:{https_port}",
                "127.0.0.1:8000": f"127.0.0.1:{app_port}",
                "/etc/ssl/consult": str(work / "ssl"),
                "/var/log/nginx": str(work / "log"),
                "/srv/consult/maintenance": str(work / "maintenance"),
                "/var/www/html": str(work / "www"),
            },
        )
        site_file = work / "nginx" / "consult.conf"
        site_file.write_text(conf, encoding="utf-8")
        site.nginx_conf = main = nginx_main_config(site_file, work / "nginx")
        processes.append(
            subprocess.Popen(
                [nginx, "-c", str(main), "-e", str(work / "nginx" / "error.log"), "-g", "daemon off;"],
                stderr=subprocess.PIPE,
            )
        )
        wait_until(lambda: _tcp_open(https_port), what="nginx")
        yield site
    finally:
        if site is not None:
            site.stop_app()
        for process in reversed(processes):
            process.send_signal(signal.SIGQUIT if "nginx" in str(process.args[0]) else signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def log_in(browser: Browser, password: str = ADMIN_PASSWORD, referer: str | None = None):
    page = browser.get("/login")
    assert page.status == 200, page.status
    return browser.post_form(
        "/login", {"login": ADMIN_LOGIN, "password": password, "csrf_token": csrf_token(page.text)}, referer=referer
    )


# ---------------------------------------------------------------------------------------------------------


def test_nginx_t_passes_on_the_shipped_site_inside_debians_nginx_conf(site):
    check = subprocess.run(
        [site.nginx, "-t", "-c", str(site.nginx_conf), "-e", str(site.work / "nginx" / "t.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr and "test is successful" in check.stderr
    assert "[warn]" not in check.stderr and "[emerg]" not in check.stderr, check.stderr


def test_plain_http_redirects_to_https_on_the_same_host_and_the_https_port(site):
    response = site.browser().get("/rounds/?page=2", scheme="http", port=site.http)
    assert response.status == 301
    assert response.headers["Location"] == f"https://{SERVER_NAME}:{site.https}/rounds/?page=2"
    assert response.headers["Server"] == "nginx"


def test_unknown_host_names_get_no_answer(site):
    import http.client

    browser = site.browser()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        browser.get("/login", scheme="http", port=site.http, headers={"Host": "other.example"})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):  # right name in SNI, another in Host
        browser.get("/login", headers={"Host": "other.example"})
    context = ssl.create_default_context(cafile=str(site.cert))
    context.check_hostname = False
    for name in ("other.example", None):  # a wrong name, or a bare address (no SNI)
        with socket.create_connection(("127.0.0.1", site.https)) as raw, pytest.raises(ssl.SSLError):
            context.wrap_socket(raw, server_hostname=name)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_tls_1_2_and_1_3_are_offered(site, version):
    context = ssl.create_default_context(cafile=str(site.cert))
    context.minimum_version = context.maximum_version = version
    with socket.create_connection(("127.0.0.1", site.https)) as raw:
        with context.wrap_socket(raw, server_hostname=SERVER_NAME) as tls:
            assert tls.version() == version.name.replace("_", ".")


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_tls_1_1_is_refused(site):
    context = ssl.create_default_context(cafile=str(site.cert))
    context.set_ciphers("DEFAULT:@SECLEVEL=0")  # let this client offer TLS 1.1, so the refusal is the server's
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_1
    with socket.create_connection(("127.0.0.1", site.https)) as raw, pytest.raises(ssl.SSLError):
        context.wrap_socket(raw, server_hostname=SERVER_NAME)


def test_login_over_https_on_a_port_that_is_not_443(site):
    from consult.core.security import CSP

    browser = site.browser()
    page = browser.get("/login")
    assert page.status == 200
    assert page.all("Strict-Transport-Security") == ["max-age=31536000"]  # exactly once: nginx's, not the app's
    assert page.all("Content-Security-Policy") == [CSP]
    assert page.headers["Server"] == "nginx"  # no version
    assert page.headers["X-Frame-Options"] == "DENY"

    # Flask-WTF checks the Referer against the Host nginx passes on: with $host the port was lost and this failed.
    refused = log_in(site.browser(), referer=f"https://{SERVER_NAME}/login")
    assert refused.status == 400, refused.status

    response = log_in(browser)
    assert response.status == 302, response.text
    assert response.all("Strict-Transport-Security") == ["max-age=31536000"]
    cookies = {header.split("=", 1)[0]: header for header in browser.set_cookies}
    for name in ("session", "remember_token"):
        flags = [flag.strip().lower() for flag in cookies[name].split(";")[1:]]
        assert "secure" in flags and "httponly" in flags, cookies[name]
    assert "samesite=lax" in [flag.strip().lower() for flag in cookies["session"].split(";")]
    assert response.headers["Location"] == "/"
    home = browser.get(browser.get("/").headers["Location"])  # / sends headquarters on to the rounds
    assert home.status == 200
    assert "本部 管理者" in home.text


def test_login_over_http2_as_browsers_send_it(site, tmp_path):
    """Browsers speak HTTP/2 to nginx: the name and port come as :authority, and must reach the app as Host."""
    curl = need("curl", "curl")
    url = f"https://{SERVER_NAME}:{site.https}/login"
    jar = tmp_path / "cookies"
    base = [
        curl,
        "--http2",
        "-sS",
        "--cacert",
        str(site.cert),
        "--resolve",
        f"{SERVER_NAME}:{site.https}:127.0.0.1",
        "-c",
        str(jar),
        "-b",
        str(jar),
    ]
    page = subprocess.run([*base, "-w", "\n%{http_version}", url], capture_output=True, text=True, timeout=60)
    assert page.returncode == 0 and page.stdout.endswith("\n2"), page.stderr
    sent = subprocess.run(
        [
            *base,
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{http_version}",
            "-e",
            url,
            "--data-urlencode",
            f"login={ADMIN_LOGIN}",
            "--data-urlencode",
            f"password={ADMIN_PASSWORD}",
            "--data-urlencode",
            f"csrf_token={csrf_token(page.stdout)}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sent.stdout == "302 2", sent.stdout + sent.stderr


def test_health_through_nginx(site):
    response = site.browser().get("/health")
    assert response.status == 200
    assert json.loads(response.body) == {"status": "ok"}
    assert response.all("Strict-Transport-Security") == ["max-age=31536000"]


def test_a_10_mb_attachment_goes_through_nginx_and_comes_back_the_same(site):
    from consult.rounds.models import Attachment, Round

    with site.engine().connect() as conn:
        round_id = conn.execute(select(Round.id).order_by(Round.id)).scalars().first()
    browser = site.browser()
    assert log_in(browser).status == 302
    path = f"/rounds/{round_id}/attachments"
    data = b"%PDF-1.4\n" + os.urandom(10 * 1024 * 1024) + b"\n%%EOF\n"
    response = browser.post_file(
        path, {"csrf_token": csrf_token(browser.get(path).text)}, "file", "素案.pdf", data, "application/pdf"
    )
    assert response.status == 302, response.text[:2000]
    with site.engine().connect() as conn:
        attachment_id, size = conn.execute(
            select(Attachment.id, Attachment.size).where(Attachment.round_id == round_id).order_by(Attachment.id.desc())
        ).first()
    assert size == len(data)
    download = browser.get(f"/rounds/attachments/{attachment_id}")
    assert download.status == 200
    assert hashlib.sha256(download.body).digest() == hashlib.sha256(data).digest()

    too_big = browser.post_file(
        path, {"csrf_token": "x"}, "file", "big.pdf", b"%PDF-" + b"0" * (26 * 1024 * 1024), "application/pdf"
    )
    assert too_big.status == 413  # nginx's client_max_body_size, the same 25 MB as the app's MAX_CONTENT_LENGTH


def test_client_address_comes_from_nginx_and_failed_logins_count_in_redis_with_its_password(site):
    import redis

    from consult.audit.models import AuditEvent

    browser = site.browser(source="127.0.0.2")  # nginx sees 127.0.0.2; gunicorn sees nginx at 127.0.0.1
    page = browser.get("/login")
    response = browser.request(
        "POST",
        "/login",
        body=(f"login={ADMIN_LOGIN}&password=wrong-password&csrf_token={csrf_token(page.text)}").encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": browser.origin + "/login",
            "X-Forwarded-For": "203.0.113.9",
        },
    )  # a client's own claim: nginx appends the real address, the app takes it
    assert response.status == 200 and "ログインIDまたはパスワードが違います" in response.text
    with site.engine().connect() as conn:
        address = (
            conn.execute(
                select(AuditEvent.address).where(AuditEvent.action == "login_failed").order_by(AuditEvent.id.desc())
            )
            .scalars()
            .first()
        )
    assert address == "127.0.0.2"

    with socket.create_connection(("127.0.0.1", site.redis_port), timeout=10) as raw:  # without the password
        raw.sendall(b"KEYS *\r\n")
        assert raw.recv(100).startswith(b"-NOAUTH")
    keys = redis.Redis(port=site.redis_port, password=REDIS_PASSWORD).keys()
    assert any(ADMIN_LOGIN.encode() in key for key in keys), keys
    assert any(b"127.0.0.2" in key for key in keys), keys


def test_with_postgresql_and_the_secret_key_in_the_environment_file_the_app_writes_no_file(site):
    instance = Path(read_environment_file(site.env_file)["CONSULT_INSTANCE_PATH"])
    assert not instance.exists()  # no secret_key, no SQLite file: nothing to keep (the guide makes the folder 700)
    assert not any((VENV / "var").glob("consult-instance*")), "an instance folder inside the venv"


def rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    from consult.extensions import db
    from consult.layers import feature_modules

    feature_modules("models")  # every table registered

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            result = {"alembic_version": conn.execute(text("SELECT version_num FROM alembic_version")).all()}
            for table in db.metadata.sorted_tables:
                result[table.name] = [
                    tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
    finally:
        engine.dispose()
    return result


def test_backup_by_the_timer_then_restore_with_the_app_stopped_keeps_every_row(site):
    before = rows(site.db_url)
    assert len(before["opinion"]) > 50 and before["attachment"] and before["audit_event"] and before["letter"]

    backup = run_unit(
        read_unit("consult-backup.service", site.backup_replacements),
        site.env_file,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output = backup.communicate(timeout=300)[0].decode()
    assert backup.returncode == 0, output
    dumps = list((site.work / "backups").glob("consult-*.dump"))
    assert len(dumps) == 1, output
    assert (dumps[0].stat().st_mode & 0o777) == 0o600
    assert not list((site.work / "backups").glob("*.part"))

    # The guide's restore: stop the app (nginx shows the maintenance page), pg_restore, init-db, start.
    site.stop_app()
    down = site.browser().get("/rounds/")
    assert down.status == 503 and "メンテナンス中" in down.text
    assert down.all("Strict-Transport-Security") == ["max-age=31536000"]
    with site.engine().begin() as conn:  # what the restore must undo
        conn.execute(text("DELETE FROM attachment"))
        conn.execute(text("UPDATE organization SET name = name || '（変更）'"))
    site.consult(
        "create-user",
        "extra",
        "--name",
        "後から",
        "--role",
        "member",
        "--org",
        "pref13",
        "--password-file",
        "-",
        stdin="another-password\n",
    )

    from sqlalchemy.engine import make_url

    from consult.backup import pg_commands

    restore = shlex.split(pg_commands(make_url(site.db_url), str(dumps[0]))[1])
    run = subprocess.run(restore, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    site.consult("init-db")
    site.start_app()

    after = rows(site.db_url)
    assert after.keys() == before.keys()
    for table in before:
        assert after[table] == before[table], f"{table}: {len(before[table])} rows before, {len(after[table])} after"
    browser = site.browser()
    assert log_in(browser).status == 302
    assert browser.get("/health").status == 200
