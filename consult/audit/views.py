"""The audit-log page for HQ admins: newest first, paginated, filterable, a fixed number of queries per page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional

from consult.audit.models import ACTIONS, KINDS
from consult.audit.queries import AuditFilter, existing_ids, link_of, page_of_events, user_id_of
from consult.core.convert import parse_id, parse_page
from consult.core.forms import BoundedDateField, CleanTextForm

bp = Blueprint("audit", __name__)
DATE_MESSAGE = "日付は 2025-03-17 の形で入力してください。"


class AuditFilterForm(CleanTextForm):
    """A GET form: nothing changes, so no CSRF token; bad input is shown next to its field."""

    class Meta:
        csrf = False

    user = StringField(_l("利用者（ログインID）"), validators=[Optional(), Length(max=64)])
    action = SelectField(_l("操作"), choices=[], validate_choice=False)
    kind = SelectField(_l("対象の種類"), choices=[], validate_choice=False)
    round = SelectField(_l("討議"), choices=[], validate_choice=False)
    date_from = BoundedDateField(_l("期間（から）"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    date_to = BoundedDateField(_l("期間（まで）"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    q = StringField(_l("キーワード"), validators=[Optional(), Length(max=100)])


def _filter_form() -> AuditFilterForm:
    form = AuditFilterForm(request.args)
    form.action.choices = [("", _("すべて")), *ACTIONS.items()]
    form.kind.choices = [("", _("すべて")), *((name, kind.label) for name, kind in KINDS.items())]
    rounds = KINDS["round"].choices() if "round" in KINDS and KINDS["round"].choices else []
    form.round.choices = [("", _("すべて"))] + [(str(round_id), title) for round_id, title in rounds]
    return form


@bp.route("/admin/audit")
@login_required
def index():
    if not current_user.is_admin:
        abort(403)
    form = _filter_form()
    criteria = AuditFilter()
    if form.validate():
        criteria = AuditFilter(
            action=form.action.data if form.action.data in ACTIONS else "",
            object_kind=form.kind.data if form.kind.data in KINDS else "",
            round_id=parse_id(form.round.data),
            date_from=form.date_from.data,
            date_to=form.date_to.data,
            text=form.q.data or "",
        )
        if criteria.date_from and criteria.date_to and criteria.date_from > criteria.date_to:
            form.date_to.errors = [_("「まで」は「から」と同じ日か、それより後の日付にしてください。")]
        login = (form.user.data or "").strip()
        if login:
            criteria.user_id = user_id_of(login)
            if criteria.user_id is None:
                form.user.errors = [_("このログインIDの利用者はいません。")]
    page = parse_page(request.args.get("page"))
    size = current_app.config["PAGE_SIZE"]
    invalid = any(f.errors for f in form)
    events, total = ([], 0) if invalid else page_of_events(criteria, page, size)
    pages = max(1, -(-total // size))
    exists = existing_ids(events)
    links = {event.id: link_of(event, exists) for event in events}
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "audit/index.html",
        form=form,
        events=events,
        total=total,
        page=page,
        pages=pages,
        links=links,
        args=args,
        invalid=invalid,
    )
