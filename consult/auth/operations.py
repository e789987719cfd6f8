"""Creating users and checking credentials; flush, never commit."""

from sqlalchemy import select

from consult.auth.models import ROLE_LABELS, User
from consult.extensions import db
from consult.orgs.models import Organization


class UserError(ValueError):
    """A user cannot be created as asked; the message is for the person who asked."""


def authenticate(login: str, password: str) -> User | None:
    """The active user with these credentials, or None."""
    user = db.session.scalar(select(User).where(User.login == login.strip()))
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


def create_user(login: str, name: str, password: str, role: str, organization: Organization,
                email: str | None = None) -> User:
    """Add a user; the login must be new and the role known."""
    if role not in ROLE_LABELS:
        raise UserError(f"役割「{role}」は使えません（admin, staff, member のいずれか）。")
    if db.session.scalar(select(User.id).where(User.login == login)) is not None:
        raise UserError(f"ログインID「{login}」は既に使われています。")
    if role in ("admin", "staff") and not organization.is_headquarters:
        raise UserError("本部管理者・本部職員は本部に所属させてください。")
    user = User(login=login, name=name, role=role, organization=organization, email=email or None)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> bool:
    """Change the password if the current one is right; other sessions end."""
    if not user.check_password(current):
        return False
    user.set_password(new)
    db.session.flush()
    return True
