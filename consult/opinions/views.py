"""Branch pages for reading a round and writing the organisation's answer (placeholder)."""

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("opinions", __name__, url_prefix="/answers")


@bp.route("/")
@login_required
def index():
    return render_template("opinions/index.html", rounds=[])
