"""Configuration order: the defaults, INSTANCE/config.py, the environment (DATABASE_URL, SECRET_KEY, then every
CONSULT_<SETTING>), then test_config; and no file written that the settings make unnecessary."""

from __future__ import annotations

import sys

import pytest

from consult import create_app

ENVIRONMENT = (
    "DATABASE_URL",
    "SECRET_KEY",
    "RATELIMIT_STORAGE_URI",
    "CONSULT_PAGE_SIZE",
    "CONSULT_SECRET_KEY",
    "CONSULT_SQLALCHEMY_DATABASE_URI",
    "CONSULT_DATABASE_URL",
    "CONSULT_SESSION_COOKIE_SECURE",
    "CONSULT_PROXY_FIX_X_FOR",
    "CONSULT_LOGIN_LIMIT_PER_ADDRESS",
)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """An instance folder of our own, and none of the variables under test inherited from the shell."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "instance"
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(folder))
    return folder


def config_py(folder, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "config.py").write_text(text, encoding="utf-8")


def test_each_source_overrides_the_one_before(instance, monkeypatch):
    assert create_app({"SECRET_KEY": "x"}).config["PAGE_SIZE"] == 50  # the default
    config_py(instance, "PAGE_SIZE = 10\nLOGIN_LIMIT_PER_ADDRESS = '90 per 15 minutes'\n")
    assert create_app({"SECRET_KEY": "x"}).config["PAGE_SIZE"] == 10  # instance/config.py
    monkeypatch.setenv("CONSULT_PAGE_SIZE", "20")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["PAGE_SIZE"] == 20  # the environment, read as JSON: a number
    assert app.config["LOGIN_LIMIT_PER_ADDRESS"] == "90 per 15 minutes"  # config.py where the environment is silent
    assert create_app({"SECRET_KEY": "x", "PAGE_SIZE": 30}).config["PAGE_SIZE"] == 30  # test_config last


def test_database_url_plain_and_prefixed(instance, monkeypatch, tmp_path):
    config_py(instance, f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{tmp_path / 'a.sqlite'}'\n")
    assert create_app({"SECRET_KEY": "x"}).config["SQLALCHEMY_DATABASE_URI"].endswith("a.sqlite")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:5432/b")
    assert create_app({"SECRET_KEY": "x"}).config["SQLALCHEMY_DATABASE_URI"].endswith("/b")
    monkeypatch.setenv("CONSULT_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:5432/c")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("/c") and "DATABASE_URL" not in app.config
    monkeypatch.setenv("CONSULT_SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://u@127.0.0.1:5432/d")
    monkeypatch.delenv("CONSULT_DATABASE_URL")
    assert create_app({"SECRET_KEY": "x"}).config["SQLALCHEMY_DATABASE_URI"].endswith("/d")


def test_prefixed_values_are_typed_and_the_secret_key_stays_text(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:5432/x")
    monkeypatch.setenv("CONSULT_SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("CONSULT_PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("SECRET_KEY", "plain-secret")
    app = create_app()
    assert app.config["SECRET_KEY"] == "plain-secret"
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["PROXY_FIX_X_FOR"] == 1
    monkeypatch.setenv("CONSULT_SECRET_KEY", "0123456789")  # all digits: JSON would make it a number
    assert create_app().config["SECRET_KEY"] == "0123456789"


def test_ratelimit_storage_from_the_plain_variable(instance, monkeypatch):
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://:pw@127.0.0.1:6379/3")
    assert create_app({"SECRET_KEY": "x"}).config["RATELIMIT_STORAGE_URI"] == "redis://:pw@127.0.0.1:6379/3"


def test_nothing_is_written_when_the_settings_need_no_file(instance, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:5432/x")
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    create_app()
    assert not instance.exists()


def test_the_generated_secret_and_the_default_database_are_private(instance):
    app = create_app()
    assert (instance.stat().st_mode & 0o777) == 0o700
    secret = instance / "secret_key"
    assert (secret.stat().st_mode & 0o777) == 0o600
    assert app.config["SECRET_KEY"] == secret.read_text()
    assert ((instance / "consult.sqlite").stat().st_mode & 0o777) == 0o600
    assert create_app().config["SECRET_KEY"] == app.config["SECRET_KEY"]  # generated once


def test_an_instance_folder_inside_the_installation_is_warned_about(tmp_path, monkeypatch, instance, capsys):
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(tmp_path / "venv" / "var" / "consult-instance"))
    create_app()
    assert "CONSULT_INSTANCE_PATH を設定してください" in capsys.readouterr().err
    create_app()
    assert capsys.readouterr().err == ""  # once it exists, no more warning
    monkeypatch.setenv("CONSULT_INSTANCE_PATH", str(instance))
    create_app()
    assert capsys.readouterr().err == ""  # outside the installation: nothing to say
