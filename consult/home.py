"""The start page: HQ sees the rounds it runs, a branch the rounds open to it."""

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user, login_required

from consult.core.urls import safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def index():
    if current_user.is_hq:
        return redirect(url_for("rounds.index"))
    return redirect(url_for("answers.index"))


@bp.route("/language", methods=["POST"])
def set_language():
    """Remember the chosen UI language for this browser session (POST: a GET never changes state)."""
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    return redirect(safe_next(request.form.get("next"), url_for("main.index")))


@bp.route("/health")
def health():
    """Health check for the reverse proxy: the app answers and the database responds."""
    from sqlalchemy import text

    from consult.extensions import db

    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
