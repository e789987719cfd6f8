"""consult: consultation rounds, branch opinions and request letters for a union federation."""

from __future__ import annotations

import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

from flask import current_app, has_request_context, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine

from consult import extensions
from consult.core import convert
from consult.core.files import create_private_file, private_folder
from consult.core.text import guard_sessions
from consult.core.transaction import App
from consult.extensions import babel, csrf, db, limiter, login_manager, migrate

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def resource_dir(name: str) -> Path:
    """A top-level resource folder: inside the package when installed as a wheel, beside it in a checkout."""
    installed = PACKAGE_DIR / name
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / name


def create_app(test_config: dict | None = None) -> App:
    """Build the app: defaults, then instance/config.py, then the environment, then test_config."""
    app = App(
        __name__,
        instance_relative_config=True,
        template_folder=str(resource_dir("templates")),
        instance_path=os.environ.get("CONSULT_INSTANCE_PATH") or None,
    )
    instance = Path(app.instance_path)
    convert.register(app)  # every <int:…> of every route is a bounded id
    guard_sessions()  # no forbidden character is ever stored, whatever path the text took
    app.config.from_mapping(
        SQLALCHEMY_DATABASE_URI="sqlite:///" + str(instance / "consult.sqlite"),
        LETTER_TEMPLATES_DIR=str(resource_dir("letter_templates")),
        MAX_CONTENT_LENGTH=25 * 1024 * 1024,
        MAX_ATTACHMENT_BYTES=20 * 1024 * 1024,
        # A branch may keep its form open for hours; the token lives as long as the session.
        WTF_CSRF_TIME_LIMIT=None,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        REMEMBER_COOKIE_DURATION=timedelta(days=14),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,  # True behind HTTPS; the remember-me cookie follows it
        # Login throttling (failed attempts only); "redis://127.0.0.1:6379" shares the counts between servers.
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_SWALLOW_ERRORS=True,  # storage down: log it and let people log in rather than fail
        LOGIN_LIMIT_PER_ACCOUNT="5 per 15 minutes",
        LOGIN_LIMIT_PER_ADDRESS="30 per 15 minutes",
        # Behind a reverse proxy: how many proxies set each X-Forwarded-* header (0 = do not trust it).
        PROXY_FIX_X_FOR=0,
        PROXY_FIX_X_PROTO=0,
        PROXY_FIX_X_HOST=0,
        PROXY_FIX_X_PORT=0,
        PROXY_FIX_X_PREFIX=0,
        BABEL_DEFAULT_LOCALE="ja",
        BABEL_TRANSLATION_DIRECTORIES=str(PACKAGE_DIR / "translations"),
        LANGUAGES=["ja", "en"],  # Japanese is the source language; English follows where translated
        BABEL_DEFAULT_TIMEZONE="Asia/Tokyo",
        PAGE_SIZE=50,
        CLOCK=None,
        # The JSON API (/api/v1): its OpenAPI document, and the requests one token may make (counted in the
        # storage of RATELIMIT_STORAGE_URI, like the login throttle).
        API_TITLE="consult API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        API_RATE_LIMIT="600 per minute",
    )
    app.config.from_pyfile("config.py", silent=True)
    _from_environment(app)
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
        _create_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"], instance)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    _proxy_fix(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["get_locale"] = get_locale
    _register(app)
    return app


def select_locale() -> str:
    """The language chosen for this browser session, if supported; Japanese otherwise (and outside a request)."""
    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _proxy_fix(app: App) -> None:
    """Trust X-Forwarded-* only when configured: the client address (throttling, audit) and https come from it."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    counts = {
        name: int(app.config[f"PROXY_FIX_X_{name.upper()}"]) for name in ("for", "proto", "host", "port", "prefix")
    }
    if any(counts.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{name}": count for name, count in counts.items()})


# Read from the environment under these plain names too (before the CONSULT_ ones, which win).
PLAIN_ENVIRONMENT = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI",
}


def _from_environment(app: App) -> None:
    """DATABASE_URL, SECRET_KEY, RATELIMIT_STORAGE_URI, then every CONSULT_<SETTING> (values parsed as JSON)."""
    for variable, key in PLAIN_ENVIRONMENT.items():
        if os.environ.get(variable):
            app.config[key] = os.environ[variable]
    app.config.from_prefixed_env("CONSULT")
    if "DATABASE_URL" in app.config:  # CONSULT_DATABASE_URL, by analogy with the plain name
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config.pop("DATABASE_URL")
    for key in ("SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "RATELIMIT_STORAGE_URI", "MAIL_USERNAME", "MAIL_PASSWORD"):
        if app.config.get(key) is not None and not isinstance(app.config[key], str):
            app.config[key] = str(os.environ.get(f"CONSULT_{key}", app.config[key]))  # all digits: still text


def _instance_folder(instance: Path) -> Path:
    """The instance folder, created 700; warn when it would sit inside the installation (a venv)."""
    if not instance.is_dir() and Path(sys.prefix) in instance.parents:
        print(
            f"警告: インスタンスフォルダ（SQLite のデータベース・secret_key）をインストール先の中に作ります:"
            f" {instance}\n  本番では CONSULT_INSTANCE_PATH を設定してください"
            "（consult -e /etc/consult/consult.env …、docs/PRODUCTION.md）。",
            file=sys.stderr,
        )
    return private_folder(instance)


def _instance_secret(instance: Path) -> str:
    """Generate SECRET_KEY into the instance folder on first run; never committed."""
    path = _instance_folder(instance) / "secret_key"
    if not path.exists():
        create_private_file(path, secrets.token_hex(32).encode())
    return path.read_text().strip()


def _create_sqlite_file(uri: str, instance: Path) -> None:
    """Create the SQLite file as 600 before SQLite does (it would follow the umask); -wal and -shm copy its mode."""
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.parent == instance:
        _instance_folder(instance)
    if path.exists() or not path.parent.is_dir():
        return  # SQLite itself says so when the folder is missing
    try:
        create_private_file(path)
    except FileExistsError:
        pass  # another process made it first


def _register(app: App) -> None:
    """Every feature's models and blueprint (in the order of consult.layers), template helpers, error pages, CLI."""
    from consult import cli
    from consult.core import api, faults, filters, security, transaction
    from consult.core.api import problems
    from consult.home import bp as home_bp
    from consult.layers import feature_modules

    feature_modules("models")  # every table in the metadata (migrations compare against it)
    app.register_blueprint(home_bp)
    for views in feature_modules("views"):
        app.register_blueprint(views.bp)
    api.register(app)
    for resources in feature_modules("api"):
        extensions.api.register_blueprint(resources.blp)
    transaction.register(app)
    filters.register(app)
    security.register(app)
    faults.register(app)
    cli.register(app)

    @app.errorhandler(404)
    def not_found(error):
        if problems.is_api_request():
            return problems.from_http_exception(error)
        return render_template("error.html", code=404, message=_("ページが見つかりません。")), 404

    @app.errorhandler(403)
    def forbidden(error):
        if problems.is_api_request():
            return problems.from_http_exception(error)
        return render_template("error.html", code=403, message=_("このページを見る権限がありません。")), 403

    @app.errorhandler(413)
    def too_large(error):
        if problems.is_api_request():
            return problems.from_http_exception(error)
        message = _("送信されたデータが大きすぎます。ファイルの大きさを確認してください。")
        return render_template("error.html", code=413, message=message), 413

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = _("画面の有効期限が切れました。ブラウザの「戻る」で入力内容を確認し、もう一度送信してください。")
        return render_template("error.html", code=400, message=message), 400

    @app.after_request
    def no_store_for_forms(response):
        if request.method == "GET" and response.mimetype == "text/html":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """SQLite: foreign keys on, WAL, and let SQLAlchemy emit BEGIN itself."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: a POST takes the write lock at BEGIN, so concurrent writers queue instead of failing."""
    if conn.dialect.name != "sqlite":
        return
    from flask import has_request_context

    immediate = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
    immediate = immediate or conn.get_execution_options().get("begin_immediate", False)  # a notice runner's claim
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
