"""Passwords stay off the command line: create-user and reset-password ask at a terminal or read a file or stdin."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select as io_select
import subprocess
import sys
import termios
import time
from pathlib import Path

from sqlalchemy import select

from consult.audit.models import AuditEvent
from consult.auth.models import User
from consult.extensions import db

CONSULT = Path(sys.executable).with_name("consult")


def stored(app, login: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == login))
        if user is not None:
            db.session.expunge(user)
        return user


def test_create_user_reads_the_password_from_stdin(app, runner, client, hq):
    result = runner.invoke(
        args=["create-user", "boss", "--name", "本部 太郎", "--role", "admin", "--org", "hq", "--password-file", "-"],
        input="from-stdin-pass\n",
    )
    assert result.exit_code == 0, result.output
    assert "初期パスワード" not in result.output and "警告" not in result.output
    assert client.post("/login", data={"login": "boss", "password": "from-stdin-pass"}).status_code == 302


def test_create_user_reads_the_first_line_of_a_password_file(app, runner, client, hq, tmp_path):
    path = tmp_path / "password"
    path.write_text("from-a-file-pass\r\nsecond line\n", encoding="utf-8")
    result = runner.invoke(
        args=[
            "create-user",
            "boss",
            "--name",
            "本部 太郎",
            "--role",
            "admin",
            "--org",
            "hq",
            "--password-file",
            str(path),
        ]
    )
    assert result.exit_code == 0, result.output
    assert client.post("/login", data={"login": "boss", "password": "from-a-file-pass"}).status_code == 302


def test_an_empty_password_file_or_a_short_password_creates_nobody(app, runner, hq, tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(
        args=["create-user", "boss", "--name", "x", "--role", "admin", "--org", "hq", "--password-file", str(empty)]
    )
    assert result.exit_code == 1 and "1行目にパスワードがありません" in result.output
    short = runner.invoke(
        args=["create-user", "boss", "--name", "x", "--role", "admin", "--org", "hq", "--password-file", "-"],
        input="short\n",
    )
    assert short.exit_code == 1 and "8文字以上" in short.output
    assert stored(app, "boss") is None


def test_password_on_the_command_line_still_works_with_a_warning(app, runner, client, hq):
    result = runner.invoke(
        args=["create-user", "boss", "--name", "x", "--role", "admin", "--org", "hq", "--password", "visible-in-ps"]
    )
    assert result.exit_code == 0, result.output
    assert "ps やシェルの履歴" in result.stderr
    assert client.post("/login", data={"login": "boss", "password": "visible-in-ps"}).status_code == 302


def test_reset_password_from_stdin_ends_the_sessions_and_is_audited(app, runner, client, make_user, login_as):
    user = make_user("member", login="forgetful")
    login_as(user)
    assert client.get("/password").status_code == 200
    token = stored(app, "forgetful").session_token
    result = runner.invoke(args=["reset-password", "forgetful", "--password-file", "-"], input="brand-new-pass\n")
    assert result.exit_code == 0, result.output
    assert "新しいパスワード" not in result.output
    after = stored(app, "forgetful")
    assert after.session_token != token
    assert after.check_password("brand-new-pass") and not after.check_password("password123")
    assert client.get("/password").status_code == 302  # the session open before the reset has ended
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "password_reset"))
        assert event.object_id == user.id and event.user_id is None


def test_reset_password_without_one_generates_it_and_refuses_unknown_logins(app, runner, make_user):
    make_user("member", login="forgetful")
    result = runner.invoke(args=["reset-password", "forgetful"])
    assert result.exit_code == 0, result.output
    password = re.search(r"新しいパスワード: (\S+)", result.output).group(1)
    assert stored(app, "forgetful").check_password(password)
    unknown = runner.invoke(args=["reset-password", "nobody", "--password-file", "-"], input="whatever-pass\n")
    assert unknown.exit_code == 1 and "ログインID「nobody」の利用者はいません" in unknown.output
    short = runner.invoke(args=["reset-password", "forgetful", "--password-file", "-"], input="short\n")
    assert short.exit_code == 1 and "8文字以上" in short.output
    assert stored(app, "forgetful").check_password(password)


# --- at a terminal: the real console script on a pseudo-terminal, which becomes its controlling terminal -------


def on_terminal(database_url: str, tmp_path, args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run `consult ARGS` on a pty, answer each password prompt in turn; (exit status, everything shown)."""
    master, slave = pty.openpty()

    def controlling_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = {
        "PATH": os.environ.get("PATH", ""),
        "LANG": "C.UTF-8",
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "CONSULT_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    process = subprocess.Popen(
        [str(CONSULT), *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        preexec_fn=controlling_terminal,
        close_fds=True,
    )
    os.close(slave)
    shown, pending, deadline = b"", list(answers), time.monotonic() + 60
    answered = 0  # what was shown up to the last answer: only a new prompt after it gets the next one
    while time.monotonic() < deadline:
        ready, _, _ = io_select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            if pending and shown[answered:].rstrip().endswith(b":"):
                os.write(master, pending.pop(0).encode() + b"\n")
                answered = len(shown)
        elif process.poll() is not None:
            break
    status = process.wait(timeout=30)
    os.close(master)
    return status, shown.decode("utf-8", "replace")


def test_create_user_at_a_terminal_asks_twice_without_echo(app, database_url, hq, tmp_path, client):
    status, shown = on_terminal(
        database_url,
        tmp_path,
        ["create-user", "boss", "--name", "本部 太郎", "--role", "admin", "--org", "hq"],
        ["typed-at-tty", "typed-at-tty"],
    )
    assert status == 0, shown
    assert "パスワード（空のまま Enter で自動生成）" in shown and "もう一度" in shown
    assert "typed-at-tty" not in shown  # not echoed
    assert "初期パスワード" not in shown
    assert client.post("/login", data={"login": "boss", "password": "typed-at-tty"}).status_code == 302


def test_create_user_at_a_terminal_refuses_two_different_entries(app, database_url, hq, tmp_path):
    status, shown = on_terminal(
        database_url,
        tmp_path,
        ["create-user", "boss", "--name", "x", "--role", "admin", "--org", "hq"],
        ["first-entry", "second-entry"],
    )
    assert status == 1 and "2回の入力が一致しません" in shown, shown
    assert stored(app, "boss") is None


def test_reset_password_at_a_terminal_with_an_empty_entry_generates_one(app, database_url, make_user, tmp_path):
    make_user("member", login="forgetful")
    status, shown = on_terminal(database_url, tmp_path, ["reset-password", "forgetful"], [""])
    assert status == 0, shown
    password = re.search(r"新しいパスワード: (\S+)", shown).group(1)
    assert stored(app, "forgetful").check_password(password)
