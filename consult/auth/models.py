"""Users and the three roles: HQ admin, HQ staff, branch member."""

from __future__ import annotations

import secrets

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from consult.audit.models import register_actions, register_kind
from consult.extensions import db
from consult.orgs.models import Organization

LOGIN_LENGTH = 64
NAME_LENGTH = 100
EMAIL_LENGTH = 200
PASSWORD_MIN = 8
PASSWORD_MAX = 200
ROLE_LABELS = {
    "admin": _l("本部管理者"),
    "staff": _l("本部職員"),
    "member": _l("支部担当者"),
}


class User(db.Model, UserMixin):
    """A person who logs in; belongs to exactly one organisation."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(LOGIN_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(10), default="member")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changing it logs out every other session of the user.
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))

    organization: Mapped[Organization] = relationship()

    def set_password(self, password: str) -> None:
        """Hash with the library's default and end every other session."""
        self.password_hash = generate_password_hash(password)
        self.session_token = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        """Compare against the stored hash."""
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """Session key: id plus token, so a password change invalidates old sessions."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def is_hq(self) -> bool:
        """HQ admin and HQ staff see every branch's answers."""
        return self.role in ("admin", "staff")

    @property
    def is_admin(self) -> bool:
        """Only HQ admins manage users and organisations."""
        return self.role == "admin"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def may_answer_for(self, organization_id: int) -> bool:
        """A member writes their own organisation's answer; HQ may enter one on its behalf."""
        return self.is_hq or self.organization_id == organization_id


register_actions(
    {
        "login": _l("ログイン"),
        "login_failed": _l("ログイン失敗"),
        "login_throttled": _l("ログイン試行の制限"),
        "logout": _l("ログアウト"),
        "password_changed": _l("パスワード変更"),
        "password_reset": _l("パスワード再設定（管理者）"),
        "user_created": _l("利用者の登録"),
        "user_disabled": _l("利用停止"),
        "user_enabled": _l("利用再開"),
    }
)
register_kind("user", _l("利用者"), User, link=lambda _user_id, _event: url_for("auth.users"))
