"""Reading notices for the inbox, the header and the failures page."""

from __future__ import annotations

from sqlalchemy import func, select

from consult.extensions import db
from consult.notify.models import Notice

INBOX_SIZE = 100


def unread_count(user) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
    )


def inbox(user, before_id: int | None = None, size: int = INBOX_SIZE) -> list[Notice]:
    """The user's notices, newest first (a page of them, before a notice id)."""
    stmt = select(Notice).where(Notice.user_id == user.id)
    if before_id is not None:
        stmt = stmt.where(Notice.id < before_id)
    return list(db.session.scalars(stmt.order_by(Notice.id.desc()).limit(size)))


def failures(size: int = 200) -> list[Notice]:
    """Notices that could not be delivered (a bad address, a refused message), newest first, for admins."""
    stmt = select(Notice).where(Notice.status == "failed").order_by(Notice.id.desc()).limit(size)
    return list(db.session.scalars(stmt))


def waiting_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Notice).where(Notice.status == "pending"))
