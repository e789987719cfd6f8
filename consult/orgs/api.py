"""The organisation tree in the API: headquarters → prefecture headquarters → local unions (and councils)."""

from __future__ import annotations

from flask_login import current_user

from consult.core import api
from consult.core.api import schemas as s
from consult.extensions import db
from consult.orgs import queries
from consult.orgs.models import KIND_LABELS, Organization

blp = api.blueprint("orgs", "組織: 本部・県本部・単組・協議会の木構造（本部は全体、支部は自組織とその上下）")


class OrganizationSchema(s.Schema):
    id = s.Integer(required=True)
    code = s.String(required=True)
    name = s.String(required=True)
    kind = s.Choice(list(KIND_LABELS), required=True, metadata={"description": "hq, prefecture, local, council"})
    kind_label = s.String(required=True)
    parent_id = s.Integer(allow_none=True, required=True, metadata={"description": "親組織（本部は null）"})
    position = s.Integer(required=True, metadata={"description": "表示順"})


@blp.route("/organizations")
class Organizations(api.Resource):
    @blp.response(200, OrganizationSchema(many=True))
    def get(self):
        """The tree as a list, each node with its parent_id, in display order."""
        return queries.organizations_for(current_user)


@blp.route("/organizations/<id:organization_id>")
class OrganizationResource(api.Resource):
    def load(self, organization_id):
        allowed = queries.visible_ids(current_user)
        self.org = api.found(
            db.session.get(Organization, organization_id), lambda org: allowed is None or org.id in allowed
        )

    @blp.response(200, OrganizationSchema)
    def get(self, organization_id):
        """One organisation."""
        return self.org
