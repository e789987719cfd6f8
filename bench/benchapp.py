"""The rush benchmark's app: the real app plus its yardstick, the same answer rows written with plain SQLAlchemy
Core and nothing else (no login, no CSRF, no form class, no history). Lives outside the package: production
never has this route.

    gunicorn --pythonpath bench 'benchapp:create_app()'
"""

from __future__ import annotations

from flask import Blueprint, abort, request
from sqlalchemy import insert, select

from consult import create_app as create_consult_app
from consult.answers.models import Answer, Opinion
from consult.core.clock import request_now
from consult.extensions import csrf, db
from consult.rounds.models import RoundItem

bp = Blueprint("bench", __name__, url_prefix="/bench")
ANSWER, OPINION = Answer.__table__, Opinion.__table__
FIELDS = ("referred_text", "proposed_text", "reason")


@bp.route("/baseline/<int:org_id>", methods=["POST"])
@csrf.exempt
def baseline(org_id: int):
    """Insert one submitted answer and its opinions from the same form the real view takes (one commit, the app's)."""
    round_id = request.form.get("round_id", type=int)
    if round_id is None:
        abort(400)
    item_ids = db.session.scalars(
        select(RoundItem.id)
        .where(RoundItem.round_id == round_id, RoundItem.removed_at.is_(None))
        .order_by(RoundItem.position, RoundItem.id)
    ).all()
    at = request_now()
    answer_id = db.session.execute(
        insert(ANSWER)
        .values(
            round_id=round_id,
            organization_id=org_id,
            status="submitted",
            no_opinion=False,
            general_comment=request.form.get("general_comment", ""),
            created_at=at,
            updated_at=at,
            submitted_at=at,
            version=1,
        )
        .returning(ANSWER.c.id)
    ).scalar_one()
    rows = []
    for position, item_id in enumerate(item_ids, start=1):
        stance = request.form.get(f"item-{item_id}-stance", "")
        if not stance:
            continue
        row = {
            "answer_id": answer_id,
            "item_id": item_id,
            "item_revision": 1,
            "position": position,
            "stance": stance,
            "heading": "",
            "hq_view": "",
        }
        for name in FIELDS:
            row[name] = request.form.get(f"item-{item_id}-{name}", "")
        rows.append(row)
    if rows:
        db.session.execute(insert(OPINION), rows)
    return "", 302, {"Location": "/bench/done"}


def create_app(test_config: dict | None = None):
    """The consult app with the baseline route; the request still commits once, in the app's own place."""
    app = create_consult_app(test_config)
    app.register_blueprint(bp)
    return app
