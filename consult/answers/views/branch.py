"""Branch pages: the rounds put to my organisation, the draft, and the organisation's answer."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from consult.answers import operations as answering
from consult.answers import roll_up
from consult.answers.fields import AnswerFields
from consult.answers.forms import STANCE_CHOICES, AnswerPage, answer_form, posted_proposal_count, read_posted
from consult.answers.models import Answer, AnswerEvent
from consult.answers.views import bp
from consult.core import clock
from consult.core.clock import request_now
from consult.core.convert import parse_int
from consult.core.errors import ConflictError, DomainError
from consult.core.transaction import refused
from consult.extensions import csrf, db
from consult.orgs.models import Organization
from consult.rounds.models import Attachment, Round, RoundTarget
from consult.rounds.queries import visible_rounds

EMPTY_SLOTS = 2


@bp.route("/answers/")
@login_required
def index():
    """The rounds open to my organisation, soonest deadline first, with my answer's state."""
    if current_user.is_hq:
        return redirect(url_for("rounds.index"))
    org_id = current_user.organization_id
    rounds = visible_rounds(current_user)
    answers = {}
    if rounds:
        stmt = select(Answer).where(Answer.organization_id == org_id, Answer.round_id.in_([r.id for r in rounds]))
        answers = {answer.round_id: answer for answer in db.session.scalars(stmt)}
    now = request_now()
    accepting = sorted((r for r in rounds if r.is_accepting(org_id, now)), key=lambda r: r.deadline_for(org_id))
    others = sorted((r for r in rounds if not r.is_accepting(org_id, now)), key=lambda r: r.deadline, reverse=True)
    return render_template("answers/index.html", rounds=accepting + others, answers=answers, org_id=org_id, now=now)


@bp.route("/answers/<int:round_id>")
@login_required
def round_page(round_id: int):
    """The whole draft as a branch reads it, with my organisation's answer and what I can do with it."""
    round_ = db.get_or_404(Round, round_id)
    if not round_.can_view(current_user):
        abort(403)
    attachments = db.session.execute(
        select(Attachment.id, Attachment.filename, Attachment.size)
        .where(Attachment.round_id == round_.id)
        .order_by(Attachment.id)
    ).all()
    org_id = current_user.organization_id
    answer = None
    target_rows = []
    if current_user.is_hq:
        stmt = (
            select(RoundTarget).where(RoundTarget.round_id == round_.id).options(joinedload(RoundTarget.organization))
        )
        targets = sorted(db.session.scalars(stmt), key=lambda t: (t.organization.position, t.organization_id))
        answers = {a.organization_id: a for a in db.session.scalars(select(Answer).where(Answer.round_id == round_.id))}
        target_rows = [(t.organization, answers.get(t.organization_id)) for t in targets]
    else:
        answer = answering.find_answer(round_.id, org_id)
    # On a sub-round: what the prefecture published back to its unions (its answer to headquarters).
    back_answer, back_opinions = (None, [])
    if round_.is_subround and not current_user.is_hq:
        back_answer, back_opinions = roll_up.published_back(round_, org_id)
    return render_template(
        "answers/round.html",
        back_answer=back_answer,
        back_opinions=back_opinions,
        stances=dict(STANCE_CHOICES),
        round=round_,
        attachments=attachments,
        answer=answer,
        org_id=org_id,
        target_rows=target_rows,
        now=request_now(),
        **_state(round_, None if current_user.is_hq else org_id, answer),
    )


@bp.route("/answers/<int:round_id>/org/<int:org_id>")
@login_required
def show(round_id: int, org_id: int):
    """The organisation's answer, read-only; HQ and that organisation only."""
    round_, org = _scope(round_id, org_id)
    return _render_show(round_, org)


@bp.route("/answers/<int:round_id>/org/<int:org_id>/edit", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one re-renders with the typed text
@login_required
def edit(round_id: int, org_id: int):
    """Write the answer: save a draft as often as wanted, submit; stale, late or bad input keeps the text."""
    round_, org = _scope(round_id, org_id)
    if round_.status == "draft" or not round_.may_answer(current_user, org.id):
        abort(403)  # a prefecture reads its unions' answers to its sub-round, and never writes them
    now = request_now()
    item_ids = [item.id for item in round_.items]

    if request.method == "GET":
        answer = _load_answer(round_.id, org.id)
        if not round_.is_accepting(org.id, now) or (answer is not None and answer.status == "submitted"):
            return redirect(url_for(".show", round_id=round_.id, org_id=org.id))
        restored = answering.late_draft_pending(answer)
        data = answering.AnswerInput.from_json(answer.late_payload) if restored else answering.answer_input_of(answer)
        page = AnswerPage(item_ids, len(data.proposals) + EMPTY_SLOTS, data, answer.version if answer else 0)
        return _render_edit(round_, org, page, answer, restored=restored)

    # A POST saves first and loads the stored answer with everything the page shows only to show it again.
    action = request.form.get("action", "save")
    count = posted_proposal_count(request.form)
    if action == "more":
        form = answer_form(item_ids, count + 1)
        return _render_edit(round_, org, form, _load_answer(round_.id, org.id))
    posted = read_posted(item_ids, count, request.form)  # the common case: everything valid, no form built
    if posted is None:
        form = answer_form(item_ids, count)
        if not form.validate():
            return _render_edit(round_, org, form, _load_answer(round_.id, org.id))
        posted = form.to_input(), form.expected_version()
    data, version = posted
    try:
        saved = answering.save_answer(round_, org.id, current_user, data, version, now, submit=(action == "submit"))
    except answering.LateError as exc:  # keeps_changes: what was typed stays as a late draft for headquarters
        message = refused(exc)
        form = _as_posted(item_ids, count, exc.answer.version)
        return _render_edit(round_, org, form, _load_answer(round_.id, org.id), message=message)
    except ConflictError as exc:
        message = refused(exc)
        current = _load_answer(round_.id, org.id)
        form = _as_posted(item_ids, count, current.version if current else 0)
        return _render_edit(round_, org, form, current, message=message, compare=_compare(data, current))
    except DomainError as exc:
        message = refused(exc)
        form = _as_posted(item_ids, count, version)
        return _render_edit(round_, org, form, _load_answer(round_.id, org.id), message=message)
    if saved.status == "submitted":
        flash(_("回答を提出しました。締切までは、提出を取り下げて修正できます。"), "success")
        return redirect(url_for(".show", round_id=round_.id, org_id=org.id))
    flash(_("下書きを保存しました（%(at)s）。まだ提出していません。", at=clock.format_jst(now)), "success")
    return redirect(url_for(".edit", round_id=round_.id, org_id=org.id))


@bp.route("/answers/<int:round_id>/org/<int:org_id>/withdraw", methods=["POST"])
@login_required
def withdraw(round_id: int, org_id: int):
    """Take a submitted answer back to draft to revise it before the deadline."""
    round_, org = _scope(round_id, org_id)
    if round_.status == "draft" or not round_.may_answer(current_user, org.id):
        abort(403)  # a prefecture reads its unions' answers to its sub-round, and never writes them
    answer = answering.find_answer(round_.id, org.id)
    if answer is None:
        return _render_show(round_, org, message=_("まだ回答がありません。"))
    try:
        answering.withdraw_answer(round_, answer, current_user, _posted_version(), request_now())
    except DomainError as exc:
        return _render_show(round_, org, message=refused(exc))
    flash(_("提出を取り下げました。修正して、締切までにもう一度提出してください。"), "success")
    return redirect(url_for(".edit", round_id=round_.id, org_id=org.id))


@bp.route("/answers/<int:round_id>/org/<int:org_id>/no-opinion", methods=["POST"])
@login_required
def no_opinion(round_id: int, org_id: int):
    """An explicit 「意見なし」 answer, so headquarters does not chase the organisation."""
    round_, org = _scope(round_id, org_id)
    if round_.status == "draft" or not round_.may_answer(current_user, org.id):
        abort(403)  # a prefecture reads its unions' answers to its sub-round, and never writes them
    try:
        answering.submit_no_opinion(round_, org.id, current_user, _posted_version(), request_now())
    except DomainError as exc:
        return _render_show(round_, org, message=refused(exc))
    flash(_("「意見なし」として提出しました。"), "success")
    return redirect(url_for(".show", round_id=round_.id, org_id=org.id))


@bp.route("/answers/<int:round_id>/org/<int:org_id>/history")
@login_required
def history(round_id: int, org_id: int):
    """Who saved, submitted or withdrew the answer, when, and what changed."""
    round_, org = _scope(round_id, org_id)
    events = []
    answer = answering.find_answer(round_.id, org.id)
    if answer is not None:
        stmt = (
            select(AnswerEvent)
            .where(AnswerEvent.answer_id == answer.id)
            .options(joinedload(AnswerEvent.user))
            .order_by(AnswerEvent.id.desc())
        )
        events = list(db.session.scalars(stmt))
    return render_template("answers/history.html", round=round_, org=org, answer=answer, events=events)


def _scope(round_id: int, org_id: int) -> tuple[Round, Organization]:
    """Load round and organisation; a branch sees only its own answer to a round put to it, HQ sees all."""
    round_ = db.get_or_404(Round, round_id)
    org = db.get_or_404(Organization, org_id)
    if not round_.may_see_answer_of(current_user, org.id):
        abort(404 if current_user.is_hq else 403)
    return round_, org


def _as_posted(item_ids: list[int], count: int, version: int):
    """The form as it was posted (what was typed stays), carrying the version the page is to be saved against."""
    form = answer_form(item_ids, count)
    form.version.data = str(version)
    return form


def _load_answer(round_id: int, org_id: int) -> Answer | None:
    """The answer with its opinions and who saved and submitted it, in two queries (the round's items are loaded
    already; an old wording or the events load only when the page needs them)."""
    stmt = (
        select(Answer)
        .where(Answer.round_id == round_id, Answer.organization_id == org_id)
        .options(selectinload(Answer.opinions), joinedload(Answer.updated_by), joinedload(Answer.submitted_by))
        .execution_options(populate_existing=True)
    )
    return db.session.scalars(stmt).first()


def _posted_version() -> int:
    version = parse_int(request.form.get("version"))
    return version if version is not None else 0


def _state(round_: Round, org_id: int | None, answer: Answer | None) -> dict:
    """What the pages need to know to offer the right buttons; org_id None: headquarters reading the round."""
    now = request_now()
    state = round_.state_for(org_id, now)
    return {
        "state": state,
        "accepting": org_id is not None and round_.can_submit(current_user, org_id, now),
        "not_yet_open": not round_.has_opened(now),
        "deadline": state.deadline,
        "extension": round_.extension_for(org_id),
        "submitted": answer is not None and answer.status == "submitted",
        "state_label": answer.status_label if answer is not None else _("未着手"),
    }


def _render_show(round_: Round, org: Organization, message: str | None = None):
    answer = _load_answer(round_.id, org.id)
    opinions = answer.item_opinions() if answer else {}
    removed = [op for op in opinions.values() if op.item is not None and op.item.removed_at is not None]
    late = answering.late_draft_pending(answer)
    late_data = answering.AnswerInput.from_json(answer.late_payload) if late else None
    late_rows = []
    if late_data is not None:
        late_rows = [
            (item, late_data.opinions[item.id])
            for item in round_.all_items
            if item.id in late_data.opinions and not late_data.opinions[item.id].is_empty()
        ]
    return render_template(
        "answers/show.html",
        round=round_,
        org=org,
        answer=answer,
        opinions=opinions,
        removed=removed,
        late_data=late_data,
        late_rows=late_rows,
        message=message,
        stances=dict(STANCE_CHOICES),
        **_state(round_, org.id, answer),
    )


def _render_edit(
    round_: Round,
    org: Organization,
    form,
    answer: Answer | None,
    message: str | None = None,
    compare: dict | None = None,
    restored: bool = False,
):
    """The form page; status 200 whether fresh or re-rendered with a message."""
    opinions = answer.item_opinions() if answer else {}
    saved_by = ""
    if compare is not None and answer is not None:
        name = answer.updated_by.name if answer.updated_by else _("不明な利用者")
        saved_by = _("%(name)sさんが %(at)s に保存", name=name, at=f"{clock.to_jst(answer.updated_at):%H:%M}")
    return render_template(
        "answers/edit.html",
        round=round_,
        org=org,
        form=form,
        answer=answer,
        opinions=opinions,
        message=message,
        compare=compare or {},
        saved_by=saved_by,
        restored=restored,
        stances=dict(STANCE_CHOICES),
        answer_fields=AnswerFields,
        on_behalf=current_user.organization_id != org.id,
        **_state(round_, org.id, answer),
    )


def _compare(typed: answering.AnswerInput, current: Answer | None) -> dict:
    """Per item (and for proposals and the general comment), the typed and the stored content where they differ."""
    stored = answering.answer_input_of(current)
    rows: dict = {}
    for item_id, mine in typed.opinions.items():
        theirs = stored.opinions.get(item_id, answering.OpinionInput())
        if _normalised(mine) != _normalised(theirs):
            rows[item_id] = (mine, theirs)
    if typed.proposals != stored.proposals:
        rows["proposals"] = (typed.proposals, stored.proposals)
    if typed.general_comment != stored.general_comment:
        rows["general_comment"] = (typed.general_comment, stored.general_comment)
    return rows


def _normalised(opinion: answering.OpinionInput) -> answering.OpinionInput:
    """A text without a stance is stored as その他; compare as stored."""
    if opinion.is_empty():
        return answering.OpinionInput()
    return answering.OpinionInput(
        opinion.stance or "other", opinion.referred_text, opinion.proposed_text, opinion.reason
    )
