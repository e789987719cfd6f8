"""Reading the organisation tree: which organisations a user may see."""

from __future__ import annotations

from sqlalchemy import select

from consult.extensions import db
from consult.orgs.models import Organization


def visible_ids(user) -> set[int] | None:
    """Headquarters sees the whole tree (None: no limit); a branch its own organisation, the organisations above
    it (its prefecture, headquarters) and those below it (a prefecture's local unions)."""
    if user.is_hq:
        return None
    parent_of = {
        org_id: parent for org_id, parent in db.session.execute(select(Organization.id, Organization.parent_id))
    }
    own = user.organization_id
    seen = {own}
    current = parent_of.get(own)
    while current is not None and current not in seen:
        seen.add(current)
        current = parent_of.get(current)
    children: dict[int, list[int]] = {}
    for org_id, parent_id in parent_of.items():
        children.setdefault(parent_id, []).append(org_id)
    stack = [own]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def organizations_for(user) -> list[Organization]:
    """The organisations the user may see, in the tree's display order."""
    stmt = select(Organization).order_by(Organization.position, Organization.id)
    allowed = visible_ids(user)
    if allowed is not None:
        stmt = stmt.where(Organization.id.in_(allowed))
    return list(db.session.scalars(stmt))
