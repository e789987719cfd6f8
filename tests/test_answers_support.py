"""Helpers shared by the tests of the branch answer pages (no tests here)."""

from __future__ import annotations

import re

from sqlalchemy import select

from consult.extensions import db

PASSWORD = "password123"


def edit_url(round_, org) -> str:
    return f"/answers/{round_.id}/org/{org.id}/edit"


def answer_post(
    version: int = 0,
    opinions: dict | None = None,
    proposals: list | None = None,
    general_comment: str = "",
    action: str = "save",
    item_ids=(),
) -> dict:
    """The body a browser sends from the answer form; items not given are sent empty."""
    body = {"version": str(version), "general_comment": general_comment, "action": action}
    opinions = opinions or {}
    for item_id in set(item_ids) | set(opinions):
        typed = opinions.get(item_id, {})
        for name in ("stance", "referred_text", "proposed_text", "reason"):
            body[f"item-{item_id}-{name}"] = typed.get(name, "")
    for index, proposal in enumerate(proposals or [{}, {}]):
        for name in ("heading", "proposed_text", "reason"):
            body[f"proposal-{index}-{name}"] = proposal.get(name, "")
    return body


def stored(app, round_id: int, org_id: int) -> dict | None:
    """What the database holds for one organisation's answer, as plain values."""
    from consult.answers.models import Answer

    with app.app_context():
        answer = db.session.scalars(
            select(Answer).where(Answer.round_id == round_id, Answer.organization_id == org_id)
        ).first()
        if answer is None:
            return None
        return {
            "id": answer.id,
            "status": answer.status,
            "no_opinion": answer.no_opinion,
            "version": answer.version,
            "general_comment": answer.general_comment,
            "late_at": answer.late_at,
            "late_payload": answer.late_payload,
            "opinions": {
                op.item_id: (op.stance, op.referred_text, op.proposed_text, op.reason)
                for op in answer.opinions
                if op.item_id is not None
            },
            "proposals": [(op.heading, op.proposed_text, op.reason) for op in answer.proposals()],
            "events": [(e.action, e.on_behalf, e.user_id, e.changes) for e in answer.events],
        }


def new_client(app, user):
    """A second browser logged in as another person."""
    client = app.test_client()
    response = client.post("/login", data={"login": user.login, "password": PASSWORD})
    assert response.status_code == 302
    return client


def hidden_version(html: str) -> int:
    match = re.search(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"', html)
    assert match, "no version field"
    return int(match.group(1) or match.group(2))
