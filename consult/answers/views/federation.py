"""A prefecture's part of a round (issue 10): opening its own discussion among its unions, and building its
answer to headquarters from their opinions.

Who runs it: the prefecture's policy officer is any active member user of the prefecture's organisation (the
same person who enters the prefecture's answer). The sub-round itself is then run on headquarters' own screens
(rounds.detail, answers.board, ...), which let the officer in for that sub-round only (Round.can_manage).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from consult.answers import operations as answering
from consult.answers import roll_up
from consult.answers.forms import DecisionForm, RollUpForm
from consult.answers.models import STANCES
from consult.answers.views import bp
from consult.core.clock import request_now
from consult.core.convert import parse_int, parse_page
from consult.core.errors import DomainError
from consult.core.transaction import refused
from consult.extensions import db
from consult.orgs.models import Organization
from consult.rounds import operations as rounds
from consult.rounds.forms import SubroundForm
from consult.rounds.models import Round, RoundItem


def _own_round(round_id: int) -> Round:
    """A round put to the caller's organisation, an inner node of the tree (403 otherwise: a local union has no
    organisations beneath it, and headquarters has its own pages for every organisation)."""
    round_ = db.get_or_404(Round, round_id)
    if not round_.can_view(current_user) or not round_.is_put_to_inner_node(current_user):
        abort(403)
    return round_


# ---------------------------------------------------------------- opening a sub-round


@bp.route("/answers/<int:round_id>/subround", methods=["GET", "POST"])
@login_required
def subround_new(round_id: int):
    """The prefecture opens its own discussion on the round: deadline, a note, and which of its organisations."""
    round_ = _own_round(round_id)
    org_id = current_user.organization_id
    existing = roll_up.subround_for(round_, org_id)
    if existing is not None:
        return redirect(url_for("rounds.detail", round_id=existing.id))
    below_ids = rounds.descendant_ids(org_id)
    below = db.session.scalars(
        select(Organization).where(Organization.id.in_(below_ids)).order_by(Organization.position, Organization.id)
    ).all()
    form = SubroundForm()
    now = request_now()
    if form.validate_on_submit():
        try:
            sub = rounds.open_subround(
                round_,
                current_user,
                deadline=form.deadline.utc(),
                background=form.background.data or "",
                organization_ids=set(form.org.data),
                now=now,
            )
        except DomainError as exc:
            form.deadline.errors = [*form.deadline.errors, refused(exc)]
        else:
            flash(_("県内討議を開始しました。対象の単組が回答を入力できます。"), "success")
            return redirect(url_for("rounds.detail", round_id=sub.id))
    selected = set(form.org.data) if request.method == "POST" else {o.id for o in below if o.kind == "local"}
    return render_template(
        "answers/subround_new.html",
        round=round_,
        form=form,
        below=below,
        selected=selected,
        limit=round_.deadline_for(org_id),
        may_open=round_.may_open_subround(current_user, now),
    )


# ---------------------------------------------------------------- building the answer


def _shown_item(round_: Round, forms: dict | None) -> int | None:
    """The item whose union opinions the page lists: the one a refused form was for, else ?item=, else the first."""
    ids = [item.id for item in round_.items]
    if forms:
        return next(iter(forms))
    wanted = parse_int(request.args.get("item"))
    return wanted if wanted in ids else (ids[0] if ids else None)


def _roll_up_page(round_: Round, forms: dict | None = None, decision: DecisionForm | None = None, status: int = 200):
    """Every item's counts and the prefecture's own opinions, and one page of one item's union opinions (a
    constant number of queries, whatever the number of unions)."""
    org_id = current_user.organization_id
    sub = roll_up.subround_for(round_, org_id)
    answer = answering.find_answer(round_.id, org_id)
    mine = answer.item_opinions() if answer else {}
    sources = roll_up.sources_of([op.id for op in mine.values()])
    shown = _shown_item(round_, forms)
    counts = roll_up.stance_counts(sub) if sub else {}
    totals = {item_id: sum(by_stance.values()) for item_id, by_stance in counts.items()}
    pages = max(1, -(-totals.get(shown, 0) // roll_up.PAGE_SIZE))
    page = min(parse_page(request.args.get("page")), pages)
    rows = roll_up.union_opinions(sub, shown, page=page) if sub and shown else []
    if decision is None:
        decision = DecisionForm(
            data={
                "decided_by": answer.decided_by if answer else "",
                "decided_on": answer.decided_on if answer else None,
                "version": str(answer.version if answer else 0),
            }
        )
    return render_template(
        "answers/roll_up.html",
        round=round_,
        sub=sub,
        answer=answer,
        mine=mine,
        sources=sources,
        shown=shown,
        rows=rows,
        page=page,
        pages=pages,
        counts=counts,
        totals=totals,
        stances={key: str(label) for key, label in STANCES.items()},  # translated once, not per item and row
        forms=forms or {},
        decision=decision,
        org_id=org_id,
        accepting=round_.can_submit(current_user, org_id, request_now()),
    ), status


@bp.route("/answers/<int:round_id>/roll-up")
@login_required
def roll_up_page(round_id: int):
    """Per item: the unions' opinions from the sub-round, with counts by stance, and the prefecture's own."""
    return _roll_up_page(_own_round(round_id))


@bp.route("/answers/<int:round_id>/roll-up/items/<int:item_id>", methods=["POST"])
@login_required
def roll_up_item(round_id: int, item_id: int):
    """Adopt one union opinion as it is, or merge the ticked ones, into the prefecture's draft on this item."""
    round_ = _own_round(round_id)
    item = db.session.get(RoundItem, item_id)
    if item is None or item.round_id != round_.id or item.removed_at is not None:
        abort(404)
    form = RollUpForm()
    if form.validate_on_submit():
        try:
            roll_up.build_opinion(
                round_,
                current_user.organization_id,
                item,
                form.source.data,
                current_user,
                parse_int(form.version.data),
                request_now(),
            )
        except DomainError as exc:
            form.source.errors = [refused(exc)]
        else:
            flash(
                _("「%(item)s」の県本部の意見を下書きに保存しました。", item=f"{item.number} {item.heading}"), "success"
            )
            return redirect(url_for("answers.roll_up_page", round_id=round_.id, item=item.id) + f"#item-{item.id}")
    return _roll_up_page(round_, forms={item.id: form}, status=422)


@bp.route("/answers/<int:round_id>/decision", methods=["POST"])
@login_required
def decision(round_id: int):
    """Record the meeting that settled the prefecture's answer (県本部執行委員会) and its date."""
    round_ = _own_round(round_id)
    answer = answering.find_answer(round_.id, current_user.organization_id)
    form = DecisionForm()
    if answer is None:
        form.decided_by.errors = [_("先に回答の下書きを保存してください。")]
        return _roll_up_page(round_, decision=form, status=422)
    if form.validate_on_submit():
        if parse_int(form.version.data) not in (None, answer.version):
            form.decided_by.errors = [str(answering.CONFLICT_MESSAGE)]
        else:
            try:
                roll_up.record_decision(
                    answer, form.decided_by.data or "", form.decided_on.data, user=current_user, now=request_now()
                )
            except DomainError as exc:
                form.decided_by.errors = [refused(exc)]
            else:
                flash(_("決定機関と決定日を記録しました。"), "success")
                return redirect(url_for("answers.roll_up_page", round_id=round_.id))
    return _roll_up_page(round_, decision=form, status=422)


@bp.route("/answers/<int:round_id>/roll-up/publish-back", methods=["POST"])
@login_required
def publish_back(round_id: int):
    """Show the prefecture's submitted answer to its sub-round's unions (show=1), or stop showing it."""
    round_ = _own_round(round_id)
    shown = request.form.get("show") == "1"
    try:
        roll_up.publish_back(round_, current_user.organization_id, shown, user=current_user, now=request_now())
    except DomainError as exc:
        flash(refused(exc), "error")
    else:
        flash(_("県本部の回答を単組に公開しました。") if shown else _("単組への公開を取りやめました。"), "success")
    return redirect(url_for("answers.roll_up_page", round_id=round_.id) + "#publish-back")
