"""Unbound Flask extensions; the app factory binds them."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base shared by every feature package."""


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
babel = Babel()
# Storage from RATELIMIT_STORAGE_URI; no default limits, only the login's (consult/auth/throttle.py).
limiter = Limiter(key_func=get_remote_address, default_limits=[], strategy="moving-window")
