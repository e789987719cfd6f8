"""The federation's tiers on headquarters' side (issue 10): the matrix of items × organisations, the prefectures'
sub-rounds beneath a round, and the trace from a request item down to the union opinions and back up.

Its routes are on the review feature's one blueprint (`review`, imported from consult.review.views, which
imports this module last). The matrix is for whoever runs the round
(Round.can_manage: headquarters, or a prefecture on its own sub-round); the rest is headquarters'. Whether
headquarters reads the union opinions' texts beneath the prefectures' answers is the round's own setting
(Round.show_sub_opinions); their number is always shown, apart from the prefectures'.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from consult.answers import roll_up
from consult.answers.models import STANCES, Answer, Opinion, OpinionSource
from consult.core.access import manager_required
from consult.core.clock import request_now
from consult.core.downloads import private_file
from consult.extensions import db
from consult.letters.models import Letter, RequestItem, RequestItemOpinion
from consult.orgs.models import Organization
from consult.review import matrix as grid
from consult.review import queries
from consult.review.views import bp
from consult.rounds import operations as rounds
from consult.rounds.models import Round, RoundItem, RoundTarget

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---------------------------------------------------------------- reading (a constant number of queries)


def load_matrix(round_: Round) -> grid.Matrix:
    """Items × the round's targets, with the stance of each submitted opinion and the number of union opinions
    each rests on, and which unions answered both ways (six queries, whatever the size)."""
    rows = [grid.Row(item.id, item.number, item.heading) for item in round_.items]
    orgs = db.session.execute(
        select(Organization.id, Organization.name, Organization.kind)
        .join(RoundTarget, RoundTarget.organization_id == Organization.id)
        .where(RoundTarget.round_id == round_.id)
        .order_by(Organization.position, Organization.id)
    ).all()
    both = queries.answering_both_ways(round_.id)
    columns = [grid.Column(oid, name, kind, oid in both) for oid, name, kind in orgs]
    submitted = (Answer.round_id == round_.id, Answer.status == "submitted", Opinion.item_id.is_not(None))
    cells = {
        (item_id, org_id): stance
        for item_id, org_id, stance in db.session.execute(
            select(Opinion.item_id, Answer.organization_id, Opinion.stance)
            .join(Answer, Answer.id == Opinion.answer_id)
            .where(*submitted)
        )
    }
    sources = {
        (item_id, org_id): count
        for item_id, org_id, count in db.session.execute(
            select(Opinion.item_id, Answer.organization_id, func.count(OpinionSource.source_id))
            .join(Answer, Answer.id == Opinion.answer_id)
            .join(OpinionSource, OpinionSource.opinion_id == Opinion.id)
            .where(*submitted)
            .group_by(Opinion.item_id, Answer.organization_id)
        )
    }
    return grid.Matrix(rows, columns, cells, sources)


@dataclass
class Tier:
    """One prefecture beneath a round: its sub-round and how far its discussion has come."""

    organization: Organization
    sub: Round | None
    targets: int
    union_answers: int
    union_opinions: int
    answer_status: str | None
    prefecture_opinions: int
    decided_by: str


def load_tiers(round_: Round) -> list[Tier]:
    """Every target with organisations beneath it, with its sub-round's counts (six queries, each counted by the
    database through the indexes on answer.round_id and opinion.answer_id)."""
    orgs = db.session.scalars(
        select(Organization)
        .join(RoundTarget, RoundTarget.organization_id == Organization.id)
        .where(RoundTarget.round_id == round_.id, Organization.kind != "local")
        .order_by(Organization.position, Organization.id)
    ).all()
    subs = {s.organization_id: s for s in db.session.scalars(select(Round).where(Round.parent_id == round_.id))}
    sub_ids = [s.id for s in subs.values()]
    targets: dict[int, int] = {}
    if sub_ids:
        stmt = (
            select(RoundTarget.round_id, func.count())
            .where(RoundTarget.round_id.in_(sub_ids))
            .group_by(RoundTarget.round_id)
        )
        targets = {rid: count for rid, count in db.session.execute(stmt)}
    union_counts: dict[int, tuple[int, int]] = {}
    if sub_ids:  # answers and opinions counted apart: no DISTINCT over the 150,000 joined rows
        submitted = (Answer.round_id.in_(sub_ids), Answer.status == "submitted")
        answers_ = dict(
            db.session.execute(select(Answer.round_id, func.count()).where(*submitted).group_by(Answer.round_id)).all()
        )
        opinions = dict(
            db.session.execute(
                select(Answer.round_id, func.count())
                .select_from(Opinion)
                .join(Answer, Answer.id == Opinion.answer_id)
                .where(*submitted)
                .group_by(Answer.round_id)
            ).all()
        )
        union_counts = {rid: (count, opinions.get(rid, 0)) for rid, count in answers_.items()}
    own = {
        org_id: (status, decided_by, count)
        for org_id, status, decided_by, count in db.session.execute(
            select(Answer.organization_id, Answer.status, Answer.decided_by, func.count(Opinion.id))
            .outerjoin(Opinion, Opinion.answer_id == Answer.id)
            .where(Answer.round_id == round_.id)
            .group_by(Answer.organization_id, Answer.status, Answer.decided_by)
        )
    }
    tiers = []
    for org in orgs:
        sub = subs.get(org.id)
        answers_, opinions = union_counts.get(sub.id, (0, 0)) if sub else (0, 0)
        status, decided_by, count = own.get(org.id, (None, "", 0))
        tiers.append(
            Tier(org, sub, targets.get(sub.id, 0) if sub else 0, answers_, opinions, status, count, decided_by)
        )
    return tiers


# ---------------------------------------------------------------- the matrix


def _shaped(round_: Round) -> tuple[grid.Matrix, dict]:
    args = {
        "stance": request.args.get("stance", "") if request.args.get("stance", "") in STANCES else "",
        "q": request.args.get("q", "")[:200],
        "sort": request.args.get("sort", "position") if request.args.get("sort") in grid.SORTS else "position",
    }
    return grid.shaped(load_matrix(round_), **args), args


@bp.route("/<int:round_id>/matrix")
@manager_required(Round)
def matrix(round_id: int):
    round_ = db.session.get(Round, round_id)
    shaped, args = _shaped(round_)
    return render_template(
        "review/matrix.html",
        round=round_,
        m=shaped,
        args=args,
        stances=STANCES,
        sorts=grid.SORTS,
        matrix_rows=shaped.table({key: str(label) for key, label in STANCES.items()}, _("（単組%(n)s件）")),
    )


@bp.route("/<int:round_id>/matrix.xlsx")
@manager_required(Round)
def matrix_xlsx(round_id: int):
    round_ = db.session.get(Round, round_id)
    shaped, _args = _shaped(round_)
    data = grid.to_xlsx(shaped, round_.title)
    return private_file(io.BytesIO(data), XLSX, "意見一覧表.xlsx")


# ---------------------------------------------------------------- the tiers beneath a round (headquarters)


@bp.route("/<int:round_id>/tiers")
def tiers(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    if round_.is_subround:  # the tiers are read from the round above
        return redirect(url_for("review.tiers", round_id=round_.parent_id))
    rows = load_tiers(round_)
    return render_template(
        "review/tiers.html",
        round=round_,
        tiers=rows,
        prefecture_opinions=sum(t.prefecture_opinions for t in rows if t.answer_status == "submitted"),
        union_opinions=sum(t.union_opinions for t in rows),
    )


@bp.route("/<int:round_id>/tiers/sub-opinions", methods=["POST"])
def sub_opinions(round_id: int):
    round_ = db.get_or_404(Round, round_id)
    if round_.is_subround:
        abort(404)
    shown = request.form.get("show") == "1"
    rounds.set_show_sub_opinions(round_, shown, user=current_user, now=request_now())
    flash(_("単組の意見の表示を切り替えました。"), "success")
    return redirect(url_for("review.tiers", round_id=round_.id))


# ---------------------------------------------------------------- traceability


@dataclass
class TraceOpinion:
    opinion: Opinion
    organization: Organization
    round_: Round
    sources: list  # roll_up.UnionOpinion of the union opinions beneath it
    request_items: list[RequestItem]


def _trace_rows(opinion_ids: list[int]) -> list[TraceOpinion]:
    """The opinions with their organisation, round, sources and request items (four queries)."""
    if not opinion_ids:
        return []
    found = db.session.execute(
        select(Opinion, Organization, Round)
        .join(Answer, Answer.id == Opinion.answer_id)
        .join(Organization, Organization.id == Answer.organization_id)
        .join(Round, Round.id == Answer.round_id)
        .where(Opinion.id.in_(opinion_ids))
        .order_by(Organization.position, Opinion.id)
    ).all()
    sources = roll_up.sources_of([op.id for op, _o, _r in found])
    every = sorted({sid for ids in sources.values() for sid in ids})
    unions = {}
    if every:
        for row in db.session.execute(
            select(Opinion.id, Organization.name, Opinion.stance, Opinion.proposed_text, RoundItem.number)
            .join(Answer, Answer.id == Opinion.answer_id)
            .join(Organization, Organization.id == Answer.organization_id)
            .join(RoundItem, RoundItem.id == Opinion.item_id)
            .where(Opinion.id.in_(every))
        ):
            unions[row.id] = row
    links: dict[int, list[RequestItem]] = {op.id: [] for op, _o, _r in found}
    for opinion_id, item in db.session.execute(
        select(RequestItemOpinion.opinion_id, RequestItem)
        .join(RequestItem, RequestItem.id == RequestItemOpinion.request_item_id)
        .where(RequestItemOpinion.opinion_id.in_(list(links)))
    ):
        links[opinion_id].append(item)
    return [
        TraceOpinion(op, org, rnd, [unions[sid] for sid in sources[op.id] if sid in unions], links[op.id])
        for op, org, rnd in found
    ]


@bp.route("/request-items/<int:request_item_id>/trace")
def trace_request_item(request_item_id: int):
    """From a letter's request item down: the prefecture answers it takes up, and the union opinions beneath."""
    item = db.get_or_404(RequestItem, request_item_id)
    letter = db.session.get(Letter, item.letter_id)
    opinion_ids = list(
        db.session.scalars(select(RequestItemOpinion.opinion_id).where(RequestItemOpinion.request_item_id == item.id))
    )
    return render_template(
        "review/trace.html", request_item=item, letter=letter, rows=_trace_rows(opinion_ids), opinion=None, up=[]
    )


@bp.route("/opinions/<int:opinion_id>/trace")
def trace_opinion(opinion_id: int):
    """From a union opinion back up: the prefecture opinions resting on it, and the request items taking those."""
    opinion = db.get_or_404(Opinion, opinion_id)
    above = roll_up.used_in([opinion.id])[opinion.id]
    return render_template(
        "review/trace.html",
        request_item=None,
        letter=None,
        rows=_trace_rows(above),
        opinion=_trace_rows([opinion.id])[0],
        up=above,
    )
