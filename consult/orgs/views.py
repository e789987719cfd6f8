"""The organisation tree, for HQ admins."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from consult.extensions import db
from consult.orgs.models import Organization

bp = Blueprint("orgs", __name__, url_prefix="/admin/orgs")


@bp.route("/")
@login_required
def index():
    if not current_user.is_admin:
        abort(403)
    roots = db.session.scalars(select(Organization).where(Organization.parent_id.is_(None))).all()
    return render_template("orgs/index.html", roots=roots)
