"""Headquarters' pages for running a round (placeholder: filled by the rounds work)."""

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from consult.extensions import db
from consult.rounds.models import Round

bp = Blueprint("rounds", __name__, url_prefix="/rounds")


@bp.route("/")
@login_required
def index():
    if not current_user.is_hq:
        abort(403)
    rounds = db.session.scalars(select(Round).order_by(Round.deadline.desc())).all()
    return render_template("rounds/index.html", rounds=rounds)
