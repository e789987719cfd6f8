"""The audit-log page for HQ admins: newest first, paginated, filterable, a fixed number of queries per page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from consult.audit.models import ACTIONS, KINDS, AuditEvent
from consult.audit.operations import AuditFilter, existing_ids, page_of_events
from consult.auth.models import User
from consult.extensions import db
from consult.rounds.models import Round

bp = Blueprint("audit", __name__)


class AuditFilterForm(FlaskForm):
    """A GET form: nothing changes, so no CSRF token; bad input is shown next to its field."""

    class Meta:
        csrf = False

    user = StringField("利用者（ログインID）", validators=[Optional(), Length(max=64)])
    action = SelectField("操作", choices=[("", "すべて"), *ACTIONS.items()], validate_choice=False)
    kind = SelectField("対象の種類", choices=[("", "すべて"), *KINDS.items()], validate_choice=False)
    round = SelectField("討議", choices=[], validate_choice=False)
    date_from = DateField("期間（から）", validators=[Optional()], format="%Y-%m-%d")
    date_to = DateField("期間（まで）", validators=[Optional()], format="%Y-%m-%d")
    q = StringField("キーワード", validators=[Optional(), Length(max=100)])


def _link(event: AuditEvent, exists: dict[str, set[int]]) -> str | None:
    """Where the object of a line can be seen, if it still exists."""
    kind, oid, details = event.object_kind, event.object_id, event.details or {}
    if oid is None or oid not in exists.get(kind, set()):
        if event.round_id is not None and event.round_id in exists.get("round", set()):
            return url_for("rounds.detail", round_id=event.round_id)
        return None
    if kind == "round":
        return url_for("rounds.detail", round_id=oid)
    if kind == "answer" and event.round_id and details.get("org_id"):
        return url_for("opinions.show", round_id=event.round_id, org_id=details["org_id"])
    if kind == "campaign":
        return url_for("letters.detail", campaign_id=oid)
    if kind == "letter" and details.get("campaign_id"):
        return url_for("letters.letter", campaign_id=details["campaign_id"], letter_id=oid)
    if kind == "addressee" and details.get("campaign_id"):
        return url_for("letters.edit_addressee", campaign_id=details["campaign_id"], addressee_id=oid)
    if kind == "user":
        return url_for("auth.users")
    return None


@bp.route("/admin/audit")
@login_required
def index():
    if not current_user.is_admin:
        abort(403)
    form = AuditFilterForm(request.args)
    rounds = db.session.execute(select(Round.id, Round.title).order_by(Round.id.desc())).all()
    form.round.choices = [("", "すべて")] + [(str(r.id), r.title) for r in rounds]
    criteria = AuditFilter()
    if form.validate():
        criteria = AuditFilter(action=form.action.data if form.action.data in ACTIONS else "",
                               object_kind=form.kind.data if form.kind.data in KINDS else "",
                               round_id=int(form.round.data) if (form.round.data or "").isdigit() else None,
                               date_from=form.date_from.data, date_to=form.date_to.data, text=form.q.data or "")
        if criteria.date_from and criteria.date_to and criteria.date_from > criteria.date_to:
            form.date_to.errors = ["「まで」は「から」と同じ日か、それより後の日付にしてください。"]
        login = (form.user.data or "").strip()
        if login:
            criteria.user_id = db.session.scalar(select(User.id).where(User.login == login))
            if criteria.user_id is None:
                form.user.errors = ["このログインIDの利用者はいません。"]
    else:
        for name in ("date_from", "date_to"):
            if getattr(form, name).errors:
                getattr(form, name).errors = ["日付は 2025-03-17 の形で入力してください。"]
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isdigit() and 0 < int(page_arg) < 10**6 else 1
    size = current_app.config["PAGE_SIZE"]
    invalid = any(f.errors for f in form)
    events, total = ([], 0) if invalid else page_of_events(criteria, page, size)
    pages = max(1, -(-total // size))
    exists = existing_ids(events)
    links = {event.id: _link(event, exists) for event in events}
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("audit/index.html", form=form, events=events, total=total, page=page,
                           pages=pages, links=links, args=args, invalid=invalid)
