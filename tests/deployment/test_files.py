"""The shipped deploy/ files agree with the app and with each other, and systemd accepts the units."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from consult import create_app

from .deploy_support import DEPLOY, VENV, read_environment_file, read_unit, substituted

SERVICES = ("consult.service", "consult-backup.service", "consult-notify.service")
TIMERS = ("consult-backup.timer", "consult-notify.timer")
NGINX = (DEPLOY / "nginx" / "consult.conf").read_text(encoding="utf-8")


def test_nginx_body_limit_is_the_apps_request_limit(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    (limit,) = re.findall(r"^\s*client_max_body_size\s+(\d+)m;", NGINX, flags=re.M)
    assert int(limit) * 1024 * 1024 == app.config["MAX_CONTENT_LENGTH"]
    assert app.config["MAX_ATTACHMENT_BYTES"] < app.config["MAX_CONTENT_LENGTH"]


def test_nginx_proxy_times_out_after_gunicorn():
    (proxy,) = re.findall(r"proxy_read_timeout\s+(\d+)s;", NGINX)
    command = read_unit("consult.service").command()
    assert int(proxy) > int(command[command.index("--timeout") + 1])


def test_nginx_headers_agree_with_the_proxy_fix_settings_of_the_environment_file():
    env = read_environment_file(DEPLOY / "consult.env.example")
    headers = dict(re.findall(r"proxy_set_header\s+(\S+)\s+(\S+);", NGINX))
    assert headers["Host"] == "$http_host"  # with its port
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for" and env["CONSULT_PROXY_FIX_X_FOR"] == "1"
    assert headers["X-Forwarded-Proto"] == "$scheme" and env["CONSULT_PROXY_FIX_X_PROTO"] == "1"
    for name in ("Host", "Port", "Prefix"):  # not trusted by the app, so a client's own copy is dropped
        assert headers[f"X-Forwarded-{name}"] == '""'
        assert f"CONSULT_PROXY_FIX_X_{name.upper()}" not in env
    assert NGINX.count("add_header") == 1  # HSTS only, at server level: a location's add_header would drop it


def test_every_server_block_hides_the_version_and_https_ones_allow_tls_1_2_and_1_3_only():
    blocks = re.split(r"^server \{", NGINX, flags=re.M)[1:]
    assert len(blocks) == 4
    for block in blocks:
        assert "server_tokens off;" in block
        if "ssl" in block.split("\n", 3)[1]:
            assert "ssl_protocols TLSv1.2 TLSv1.3;" in block
    assert NGINX.count("default_server") == 4  # the catch-all on 80 and 443, IPv4 and IPv6


def test_environment_example_gives_the_production_settings(tmp_path, monkeypatch):
    env = read_environment_file(DEPLOY / "consult.env.example")
    text = substituted(
        (DEPLOY / "consult.env.example").read_text(encoding="utf-8"),
        {"@SECRET_KEY@": "ab" * 32, "@REDIS_PASSWORD@": "cd" * 32, "/srv/consult": str(tmp_path)},
    )
    for key in env:
        monkeypatch.delenv(key, raising=False)
    (tmp_path / "consult.env").write_text(text, encoding="utf-8")
    for key, value in read_environment_file(tmp_path / "consult.env").items():
        monkeypatch.setenv(key, value)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg:///consult"
    assert app.config["SECRET_KEY"] == "ab" * 32
    assert app.instance_path == str(tmp_path / "instance")
    assert app.config["RATELIMIT_STORAGE_URI"] == f"redis://:{'cd' * 32}@127.0.0.1:6379/0"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["PROXY_FIX_X_FOR"] == 1 and app.config["PROXY_FIX_X_PROTO"] == 1
    assert app.config["PROXY_FIX_X_HOST"] == 0


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_runs_as_the_service_user_with_umask_077_and_the_environment_file(name):
    unit = read_unit(name)
    assert unit.get("Service.User") == "consult" and unit.get("Service.Group") == "consult"
    assert unit.get("Service.UMask") == "0077"
    assert unit.get("Service.EnvironmentFile") == "/etc/consult/consult.env"
    program = unit.command()[0]
    assert program.startswith("/srv/consult/venv/bin/"), program  # the venv's full path, never one under /root
    assert (VENV / "bin" / program.rsplit("/", 1)[1]).exists(), f"{program} is not installed by .[server]"


def test_the_timers_start_their_services_and_the_backup_keeps_days():
    for timer in TIMERS:
        assert read_unit(timer).values.get("Install.WantedBy") == ["timers.target"]
    command = read_unit("consult-backup.service").command()
    assert command[1:] == ["/usr/local/sbin/consult-backup", "/var/backups/consult", "14"]
    assert read_unit("consult-notify.service").command()[1:] == ["notify"]


def test_systemd_accepts_the_units(tmp_path):
    """systemd-analyze verify: every key known, every value parsed, every program there (paths put in)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not found (Debian's systemd package)")  # an extra check, not the smoke test
    names = SERVICES + TIMERS
    for name in names:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        text = text.replace("/srv/consult/venv", str(VENV)).replace(
            "/usr/local/sbin/consult-backup", str(DEPLOY / "consult-backup")
        )
        (tmp_path / name).write_text(text, encoding="utf-8")
    run = subprocess.run(
        [analyze, "verify", "--man=no", *(str(tmp_path / name) for name in names)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and not run.stderr.strip(), run.stderr
