"""Headquarters' board of a round: who has answered, the CSV of it, and more time for one organisation. A
prefecture's policy officer uses the same screens for its own sub-round (Round.can_manage)."""

from __future__ import annotations

import io

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from consult.answers.queries import STATE_LABELS, board_csv, compute_board
from consult.answers.views import bp
from consult.core import clock
from consult.core.access import manager_required
from consult.core.clock import request_now
from consult.core.convert import parse_id
from consult.core.errors import DomainError
from consult.core.transaction import refused
from consult.extensions import db
from consult.orgs.models import KIND_LABELS, Organization
from consult.rounds import operations as rounds
from consult.rounds.forms import ExtensionForm
from consult.rounds.models import Round, RoundTarget

BOARD_FILTER_STATES = {**STATE_LABELS, "late": _l("締切後の送信あり"), "extended": _l("締切延長あり")}


def _board_filters() -> dict[str, str]:
    state = request.args.get("state", "")
    kind = request.args.get("kind", "")
    return {
        "state": state if state in BOARD_FILTER_STATES else "",
        "kind": kind if kind in KIND_LABELS else "",
        "q": request.args.get("q", "")[:200],
    }


def _render_board(round_: Round, form: ExtensionForm, status: int = 200):
    board = compute_board(round_)
    filters = _board_filters()
    rows = board.filtered(filters["state"], filters["q"], filters["kind"])
    return render_template(
        "answers/board.html",
        round=round_,
        board=board,
        rows=rows,
        filters=filters,
        form=form,
        states=BOARD_FILTER_STATES,
        kinds=KIND_LABELS,
    ), status


def _extension_form(round_: Round) -> ExtensionForm:
    form = ExtensionForm()
    targets = db.session.scalars(
        select(Organization)
        .join(RoundTarget, RoundTarget.organization_id == Organization.id)
        .where(RoundTarget.round_id == round_.id)
        .order_by(Organization.position, Organization.id)
    ).all()
    form.organization_id.choices = [(org.id, org.name) for org in targets]
    return form


@bp.route("/rounds/<int:round_id>/board")
@manager_required(Round)
def board(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = _extension_form(round_)
    extend = parse_id(request.args.get("extend"))
    if extend is not None:
        form.organization_id.data = extend
    return _render_board(round_, form)


@bp.route("/rounds/<int:round_id>/board.csv")
@manager_required(Round)
def board_download(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    filters = _board_filters()
    rows = compute_board(round_).filtered(filters["state"], filters["q"], filters["kind"])
    title = "".join(ch for ch in round_.title if ch not in '\\/:*?"<>|')[:80].strip() or "round"
    return send_file(
        io.BytesIO(board_csv(rows)),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"{title}_提出状況.csv",
        max_age=0,
    )


@bp.route("/rounds/<int:round_id>/extensions", methods=["POST"])
@manager_required(Round)
def extensions(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    form = _extension_form(round_)
    if form.validate_on_submit():
        try:
            extension = rounds.grant_extension(
                round_,
                form.organization_id.data,
                form.until.utc(),
                form.reason.data.strip(),
                current_user,
                request_now(),
            )
        except DomainError as exc:
            form.until.errors = [*form.until.errors, refused(exc)]
        else:
            name = dict(form.organization_id.choices)[extension.organization_id]
            flash(
                _("%(name)sの締切を%(until)sまで延長しました。", name=name, until=clock.format_jst(extension.until)),
                "success",
            )
            return redirect(url_for("answers.board", round_id=round_.id))
    return _render_board(round_, form)
