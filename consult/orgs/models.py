"""The organisation tree of any depth."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.extensions import db

CODE_LENGTH = 64
NAME_LENGTH = 200
CONTACT_EMAIL_LENGTH = 200
KIND_LABELS = {
    "hq": _l("本部"),
    "prefecture": _l("県本部"),
    "local": _l("単組"),
    "council": _l("協議会・部会"),
}


class Organization(db.Model):
    """A node of the federation: 本部 at the root, 県本部 beneath it, 単組 beneath those."""

    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(20), default="local")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    # A shared address of the organisation (a prefecture's office), told of its notices besides its users.
    contact_email: Mapped[str | None] = mapped_column(String(CONTACT_EMAIL_LENGTH))

    parent: Mapped[Organization | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Organization]] = relationship(
        back_populates="parent", order_by="Organization.position, Organization.id"
    )

    @property
    def kind_label(self) -> str:
        """Japanese name of the node's kind."""
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def is_headquarters(self) -> bool:
        """The root of the tree runs the rounds."""
        return self.parent_id is None

    def __repr__(self) -> str:
        return f"<Organization {self.code} {self.name}>"


def prefectures() -> list[Organization]:
    """Every prefecture headquarters in display order."""
    stmt = (
        select(Organization).where(Organization.kind == "prefecture").order_by(Organization.position, Organization.id)
    )
    return list(db.session.scalars(stmt))


def headquarters() -> Organization | None:
    """The root organisation, if the tree has been loaded."""
    stmt = select(Organization).where(Organization.parent_id.is_(None)).order_by(Organization.id)
    return db.session.scalars(stmt).first()
