"""The inbox, the preferences, unsubscribing (no login), the failures page, and a round's reminders."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from consult.core.access import hq_required
from consult.core.clock import request_now
from consult.core.convert import parse_id
from consult.core.errors import DomainError
from consult.core.transaction import refused
from consult.extensions import db
from consult.notify import operations as ops
from consult.notify import queries
from consult.notify.forms import ScheduleForm, steps_text
from consult.notify.models import DEFAULT_STEPS, KINDS, steps_of
from consult.rounds.models import Round

bp = Blueprint("notify", __name__)


@bp.app_context_processor
def _header():
    def unread_notice_count() -> int:
        return queries.unread_count(current_user) if current_user.is_authenticated else 0

    return {"unread_notice_count": unread_notice_count}


@bp.route("/notices")
@login_required
def inbox():
    before = parse_id(request.args.get("before"))
    notices = queries.inbox(current_user, before)
    more = len(notices) == queries.INBOX_SIZE
    return render_template("notify/inbox.html", notices=notices, more=more)


@bp.route("/notices/read", methods=["POST"])
@login_required
def mark_read():
    raw = request.form.getlist("notice_id")
    ids = [i for i in (parse_id(v) for v in raw) if i is not None] if raw else None
    ops.mark_read(current_user, ids, request_now())
    return redirect(url_for("notify.inbox"))


@bp.route("/notices/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    if request.method == "POST":
        chosen = {kind: request.form.get(f"email-{kind}") == "1" for kind in KINDS}
        ops.set_preferences(current_user, chosen)
        flash(_("通知の受け取り方を保存しました。"), "success")
        return redirect(url_for("notify.preferences"))
    return render_template(
        "notify/preferences.html",
        choices=ops.preferences_of(current_user),
        kinds=KINDS,
        has_email=bool(current_user.email),
    )


@bp.route("/notices/unsubscribe", methods=["GET", "POST"])
def unsubscribe():
    """The link in every e-mail: works without logging in, only for its own recipient and kind."""
    token = request.values.get("t", "")
    data = ops.read_unsubscribe_token(token)
    if data is None:
        message = _("このリンクは正しくありません。メールにあるリンクをそのまま開いてください。")
        return render_template("error.html", code=400, message=message), 400
    kind_label = KINDS[data["k"]]
    if request.method == "POST":
        ops.unsubscribe(data)
        return render_template("notify/unsubscribe.html", done=True, kind_label=kind_label, token=token)
    return render_template("notify/unsubscribe.html", done=False, kind_label=kind_label, token=token)


@bp.route("/notices/failures")
@login_required
def failures():
    if not current_user.is_admin:
        abort(403)
    return render_template("notify/failures.html", notices=queries.failures(), waiting=queries.waiting_count())


def _round_or_404(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _render_reminders(round_: Round, form: ScheduleForm, status: int = 200):
    orgs, recipients, sample = ops.remind_preview(round_)
    from consult.orgs.models import Organization

    names = {o.id: o for o in db.session.query(Organization).filter(Organization.id.in_(orgs))} if orgs else {}
    return render_template(
        "notify/reminders.html",
        round=round_,
        form=form,
        orgs=[names[o] for o in orgs if o in names],
        recipients=recipients,
        sample=sample,
        following=ops.is_following(round_, current_user),
        steps=steps_of(ops.schedule_of(round_)),
    ), status


@bp.route("/rounds/<int:round_id>/reminders")
@hq_required
def reminders(round_id: int):
    round_ = _round_or_404(round_id)
    schedule = ops.schedule_of(round_)
    form = ScheduleForm(
        enabled=schedule is None or schedule.enabled,
        steps=steps_text(steps_of(schedule) or list(DEFAULT_STEPS)),
    )
    return _render_reminders(round_, form)


@bp.route("/rounds/<int:round_id>/reminders/schedule", methods=["POST"])
@hq_required
def save_schedule(round_id: int):
    round_ = _round_or_404(round_id)
    form = ScheduleForm()
    if not form.validate():
        return _render_reminders(round_, form, 422)
    steps = getattr(form, "parsed", None) or list(DEFAULT_STEPS)
    try:
        ops.set_schedule(round_, steps, form.enabled.data, user=current_user, now=request_now())
    except DomainError as exc:
        form.steps.errors.append(refused(exc))
        return _render_reminders(round_, form, 422)
    flash(_("督促の日程を保存しました。"), "success")
    return redirect(url_for("notify.reminders", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/reminders/send", methods=["POST"])
@hq_required
def remind(round_id: int):
    round_ = _round_or_404(round_id)
    try:
        recipients = ops.remind_now(round_, user=current_user, now=request_now())
    except DomainError as exc:
        flash(refused(exc), "error")
        return redirect(url_for("notify.reminders", round_id=round_.id))
    orgs = len({r.organization_id for r in recipients})
    flash(_("%(orgs)s組織（%(people)s件）に督促を送りました。", orgs=orgs, people=len(recipients)), "success")
    return redirect(url_for("answers.board", round_id=round_.id))


@bp.route("/rounds/<int:round_id>/follow", methods=["POST"])
@hq_required
def follow(round_id: int):
    round_ = _round_or_404(round_id)
    ops.set_following(round_, current_user, request.form.get("follow") == "1")
    return redirect(url_for("notify.reminders", round_id=round_.id))
