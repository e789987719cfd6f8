"""Creating users and checking credentials; flush, never commit."""

import re
import secrets
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from consult.audit.operations import record
from consult.auth.models import EMAIL_LENGTH, LOGIN_LENGTH, NAME_LENGTH, PASSWORD_MIN, ROLE_LABELS, User
from consult.core.errors import DomainError, RowErrors
from consult.core.text import describe_characters, forbidden_in
from consult.extensions import db
from consult.orgs.models import Organization


class UserError(DomainError):
    """A user cannot be created as asked; the message is for the person who asked."""


class LoginRefused(DomainError):
    """Why a login failed, in Japanese; a disabled account is named only to someone who knows its password."""

    keeps_changes = True  # the audit line of the failed attempt is kept


WRONG_CREDENTIALS = _l("ログインIDまたはパスワードが違います。")
DISABLED_ACCOUNT = _l("このアカウントは利用停止中です。本部の管理者に連絡してください。")


# A hash made like every stored one (the library's default method), checked for logins nobody has; made once
# at start-up, so that not even the first unknown login does different work.
_DUMMY_HASH = generate_password_hash(secrets.token_urlsafe(16))


def find_login(login: str) -> User | None:
    """The user with this login id (as typed, blanks around it ignored)."""
    return db.session.scalar(select(User).where(User.login == login.strip()))


def log_in(login: str, password: str, now: datetime) -> User:
    """Check the credentials and write the audit line either way; raises LoginRefused with the reason."""
    login = login.strip()
    user = find_login(login)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)  # the same work as a real account: timing tells nothing
    if user is None or not user.check_password(password):
        record(
            None,
            "login_failed",
            "user",
            getattr(user, "id", None),
            f"ログイン失敗（ログインID「{login[:64]}」）",
            details={"login": login[:64]},
            now=now,
        )
        raise LoginRefused(WRONG_CREDENTIALS)
    if not user.active:
        record(
            None,
            "login_failed",
            "user",
            user.id,
            f"利用停止中のアカウント「{login}」へのログイン",
            details={"login": login, "disabled": True},
            now=now,
        )
        raise LoginRefused(DISABLED_ACCOUNT)
    record(user, "login", "user", user.id, f"{user.name}（{user.login}）がログイン", now=now)
    return user


def log_out(user, now: datetime) -> None:
    """End the session for good: a new session token, so a copied session or remember-me cookie stops working."""
    user.session_token = secrets.token_hex(16)
    record(user, "logout", "user", user.id, f"{user.name}（{user.login}）がログアウト", now=now)


def note_throttled(login: str, user: User | None, address: str, limit: str, rule: str, *, now: datetime) -> None:
    """The audit line written when failed logins reach a throttling limit (once, when it is reached)."""
    record(
        None,
        "login_throttled",
        "user",
        getattr(user, "id", None),
        f"ログインの試行を制限（ログインID「{login[:64]}」、{address}、{rule}）",
        details={"login": login[:64], "address": address, "limit": limit, "rule": rule},
        now=now,
    )


def reset_password(target: User, admin: User, new_password: str | None = None, *, now: datetime) -> str:
    """An admin sets a new password (typed, or generated when left empty); the user's sessions end."""
    password = new_password or generate_password()
    if len(password) < MIN_PASSWORD:
        raise UserError(_("パスワードは%(min_password)s文字以上にしてください。", min_password=MIN_PASSWORD))
    target.set_password(password)
    record(
        admin,
        "password_reset",
        "user",
        target.id,
        f"{target.name}（{target.login}）のパスワードを再設定",
        details={"generated": not new_password},
        now=now,
    )
    return password


def set_active(target: User, admin: User, active: bool, *, now: datetime) -> None:
    """Disable (ending every session) or re-enable an account; an admin never locks themselves out."""
    if target.id == admin.id and not active:
        raise UserError(_("自分自身のアカウントは利用停止にできません。"))
    if target.active == active:
        return
    target.active = active
    if not active:
        target.session_token = secrets.token_hex(16)  # sessions and remember-me cookies end now
    action, verb = ("user_enabled", "利用再開") if active else ("user_disabled", "利用停止")  # for the log, as written
    record(admin, action, "user", target.id, f"{target.name}（{target.login}）を{verb}", now=now)


def create_user(
    login: str,
    name: str,
    password: str,
    role: str,
    organization: Organization,
    email: str | None = None,
    *,
    admin: User | None,
    now: datetime,
) -> User:
    """Add a user; the login must be new and the role known."""
    if role not in ROLE_LABELS:
        raise UserError(_("役割「%(role)s」は使えません（admin, staff, member のいずれか）。", role=role))
    if db.session.scalar(select(User.id).where(User.login == login)) is not None:
        raise UserError(_("ログインID「%(login)s」は既に使われています。", login=login))
    if role in ("admin", "staff") and not organization.is_headquarters:
        raise UserError(_("本部管理者・本部職員は本部に所属させてください。"))
    user = User(login=login, name=name, role=role, organization=organization, email=email or None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(
        admin,
        "user_created",
        "user",
        user.id,
        f"{user.name}（{user.login}、{ROLE_LABELS[role]}、{organization.name}）を登録",
        now=now,
    )
    return user


def change_password(user: User, current: str, new: str, *, now: datetime) -> bool:
    """Change the password if the current one is right; other sessions end."""
    if not user.check_password(current):
        return False
    user.set_password(new)
    db.session.flush()
    record(user, "password_changed", "user", user.id, f"{user.name}（{user.login}）がパスワードを変更", now=now)
    return True


USER_COLUMNS = ("login", "name", "role", "org_code", "email", "password")
LOGIN_PATTERN = re.compile(rf"^[A-Za-z0-9._@-]{{1,{LOGIN_LENGTH}}}$")
MIN_PASSWORD = PASSWORD_MIN


def generate_password() -> str:
    """A first password to hand over; the user changes it after logging in."""
    return secrets.token_urlsafe(9)


def check_new_user(
    login: str, name: str, role: str, org_code: str, email: str = "", password: str = "", taken: set[str] | None = None
) -> list[str]:
    """What is wrong with a user to be created, in Japanese; empty when it can be created."""
    errors = []
    if not LOGIN_PATTERN.match(login):
        errors.append(
            _("ログインIDは64文字以内の半角英数字と . _ @ - で入力してください。")
            if login
            else _("ログインIDが空です。")
        )
    elif login in (taken or set()) or db.session.scalar(select(User.id).where(User.login == login)) is not None:
        errors.append(_("ログインID %(login)s は既に使われています。", login=login))
    if not name:
        errors.append(_("氏名が空です。"))
    elif len(name) > NAME_LENGTH:
        errors.append(_("氏名は%(name_length)s文字以内にしてください。", name_length=NAME_LENGTH))
    elif chars := forbidden_in(name + email):
        errors.append(_("文書に書き込めない文字（%(chars)s）が含まれています。", chars=describe_characters(chars)))
    if role not in ROLE_LABELS:
        errors.append(_("役割「%(role)s」は使えません（admin, staff, member のいずれか）。", role=role))
    organization = db.session.scalar(select(Organization).where(Organization.code == org_code))
    if organization is None:
        errors.append(
            _("組織コード %(org_code)s が見つかりません。", org_code=org_code)
            if org_code
            else _("組織コードが空です。")
        )
    elif role in ("admin", "staff") and not organization.is_headquarters:
        errors.append(_("本部管理者・本部職員（admin, staff）は本部に所属させてください。"))
    if email and (len(email) > EMAIL_LENGTH or "@" not in email):
        errors.append(_("メールアドレス %(email)s の形式が正しくありません。", email=email))
    if password and len(password) < MIN_PASSWORD:
        errors.append(_("パスワードは%(min_password)s文字以上にしてください。", min_password=MIN_PASSWORD))
    return errors


def import_users(rows: list[tuple[int, dict[str, str]]], *, now: datetime) -> list[tuple[User, str | None]]:
    """Create every user of the file, or none; returns each user with the password generated for it."""
    errors: list[str] = []
    taken: set[str] = set()
    for line, row in rows:
        values = {key: row.get(key, "") for key in USER_COLUMNS}
        errors.extend(
            _("%(line)s行目: %(message)s", line=line, message=message)
            for message in check_new_user(
                values["login"],
                values["name"],
                values["role"],
                values["org_code"],
                values["email"],
                values["password"],
                taken,
            )
        )
        taken.add(values["login"])
    if errors:
        raise RowErrors(errors)
    created = []
    for _line, row in rows:
        generated = None if row.get("password") else generate_password()
        organization = db.session.scalar(select(Organization).where(Organization.code == row["org_code"]))
        user = create_user(
            row["login"],
            row["name"],
            row.get("password") or generated,
            row["role"],
            organization,
            email=row.get("email") or None,
            admin=None,
            now=now,
        )
        created.append((user, generated))
    return created
