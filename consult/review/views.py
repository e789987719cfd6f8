"""Headquarters' reading of a round's opinions: overview, per-item lists, dispositions, exports, publication.

Every page is headquarters' except `published`, the answer table the target branches read once it is
published. Organisation names on the published table: headquarters sees every name; a branch sees its own
name and 「他の組織」 for the others, because a branch never reads another branch's answer elsewhere in the
app either (the opinions and headquarters' views themselves are what the round's result tells everyone).
"""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from consult.answers.models import DISPOSITIONS, STANCES
from consult.core.access import require_hq
from consult.core.clock import format_jst, request_now, to_jst
from consult.core.convert import parse_id, parse_page
from consult.core.errors import ConflictError, DomainError
from consult.core.transaction import refused
from consult.extensions import db
from consult.orgs.models import prefectures
from consult.review import answering_views, exports, queries, search
from consult.review import operations as reviewing
from consult.review.forms import disposition_form
from consult.review.groups import disposition_labels
from consult.rounds.models import Round, RoundItem

bp = Blueprint("review", __name__, url_prefix="/rounds")

# review.matrix(_xlsx) (federation.py) check Round.can_manage themselves: a prefecture runs its own sub-round.
_OPEN_TO_BRANCHES = {
    "review.published",
    "review.published_docx",
    "review.published_xlsx",
    "review.matrix",
    "review.matrix_xlsx",
}
MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
FILE_TITLES = {"opinions": _l("意見一覧"), "answers": _l("回答表")}


# Headquarters' work; branches only read the published answer table.
require_hq(bp, open_to=frozenset(_OPEN_TO_BRANCHES))


def _round_or_404(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _item_or_404(round_: Round, item_id: int) -> RoundItem:
    """An item of this round; a removed one still has its opinions to read."""
    item = db.session.get(RoundItem, item_id)
    if item is None or item.round_id != round_.id:
        abort(404)
    return item


search.follow()  # the full-text index follows every flush of the app's session


# ---------------------------------------------------------------- search


@bp.route("/search")
def search_page():
    """One search box over every round's opinions, proposals, items and 本部の考え方 (?round= narrows it)."""
    query = search.Query.from_args(request.args)
    results = search.search(query, search.PAGE_SIZE)
    round_ = db.session.get(Round, query.round_id) if query.round_id else None
    rounds = db.session.scalars(select(Round).order_by(Round.id.desc())).all()
    items = round_.all_items if round_ is not None else []
    return render_template(
        "review/search.html",
        query=query,
        results=results,
        round=round_,
        rounds=rounds,
        items=items,
        prefectures=prefectures(),
        stances=STANCES,
        dispositions=DISPOSITIONS,
        disposition_filters={**DISPOSITIONS, search.NO_DISPOSITION: _("未設定")},
        field_labels=SEARCH_FIELD_LABELS,
    )


SEARCH_FIELD_LABELS = {
    "heading": _l("提案する項目"),
    "referred_text": _l("該当箇所"),
    "proposed_text": _l("修正案・意見"),
    "reason": _l("理由"),
    "hq_view": _l("本部の考え方"),
}


@bp.route("/<int:round_id>/aggregate/opinions/<int:opinion_id>/similar")
def similar(round_id: int, opinion_id: int):
    """「この意見に似た意見」: the other opinions of the round most like this one."""
    round_ = _round_or_404(round_id)
    opinion = reviewing.opinion_of_round(round_.id, opinion_id)
    if opinion is None:
        abort(404)
    found = search.similar_opinions(opinion)
    scores = dict(found)
    rows = queries.opinion_rows([i for i, _score in found])
    return render_template(
        "review/similar.html", round=round_, opinion=opinion, rows=rows, scores=scores, dispositions=DISPOSITIONS
    )


@bp.route("/<int:round_id>/aggregate/items/<int:item_id>/groups")
def groups(round_id: int, item_id: int):
    """The item's kept groups (論点), then proposed groups of the rest that say the same thing."""
    from consult.review.group_views import render_groups

    round_ = _round_or_404(round_id)
    return render_groups(round_, _item_or_404(round_, item_id))


# ---------------------------------------------------------------- overview


@bp.route("/<int:round_id>/aggregate")
def overview(round_id: int):
    round_ = _round_or_404(round_id)
    return render_template("review/overview.html", round=round_, ov=queries.overview(round_), stances=STANCES)


# ---------------------------------------------------------------- opinions of one item


def _render_list(
    round_: Round, item: RoundItem | None, filters: queries.Filters, posted=None, status: int = 200, bulk=None
):
    """The list page; `posted` = (opinion_id, form, stored opinion or None) re-shows a refused row as typed,
    `bulk` a refused bulk step as typed."""
    choices = queries.request_choices(round_.id)
    counts = queries.stance_counts_for(round_.id, item.id if item else None)
    page = queries.opinion_page(round_.id, item.id if item else None, filters, current_app.config["PAGE_SIZE"], choices)
    aids = answering_views.list_aids(round_, item, filters, bulk)
    forms = {}
    for row in page.rows:
        if posted is not None and posted[0] == row.opinion.id:
            forms[row.opinion.id] = posted[1]
        else:
            forms[row.opinion.id] = disposition_form(row.opinion, choices)
        answering_views.fill_row_form(forms[row.opinion.id], aids)
    return render_template(
        "review/item.html",
        round=round_,
        item=item,
        counts=counts,
        page=page,
        filters=filters,
        forms=forms,
        has_choices=bool(choices),
        stances=STANCES,
        dispositions=DISPOSITIONS,
        disposition_filters={**DISPOSITIONS, queries.NO_DISPOSITION: _("未設定")},
        conflict=posted[2] if posted else None,
        conflict_id=posted[0] if posted else None,
        # The request-item select is long (every item of every letter): only the row being linked carries it.
        link_id=posted[0] if posted else request.args.get("link", type=int),
        aids=aids,
        both_ways=queries.answering_both_ways(round_.id),
    ), status


@bp.route("/<int:round_id>/aggregate/items/<int:item_id>")
def item(round_id: int, item_id: int):
    round_ = _round_or_404(round_id)
    return _render_list(round_, _item_or_404(round_, item_id), queries.Filters.from_args(request.args, current_user.id))


@bp.route("/<int:round_id>/aggregate/proposals")
def proposals(round_id: int):
    round_ = _round_or_404(round_id)
    return _render_list(round_, None, queries.Filters.from_args(request.args, current_user.id))


def _list_url(round_: Round, item_id: int | None, filters: queries.Filters, opinion_id: int) -> str:
    if item_id is None:
        base = url_for("review.proposals", round_id=round_.id, **filters.params())
    else:
        base = url_for("review.item", round_id=round_.id, item_id=item_id, **filters.params())
    return f"{base}#op-{opinion_id}"


@bp.route("/<int:round_id>/aggregate/opinions/<int:opinion_id>", methods=["POST"])
def save_opinion(round_id: int, opinion_id: int):
    """Save one row's 対応 and 本部の考え方 (and link or unlink request items), then back to the same page."""
    round_ = _round_or_404(round_id)
    opinion = reviewing.opinion_of_round(round_.id, opinion_id, lock=True)
    if opinion is None:
        abort(404)
    filters = queries.Filters.from_args(request.form, current_user.id)
    item = opinion.item
    choices = queries.request_choices(round_.id)
    form = disposition_form(opinion, choices, formdata=request.form)
    answering_views.fill_row_form(form, answering_views.aids_for(round_))
    if not form.validate():
        return _render_list(round_, item, filters, posted=(opinion.id, form, None))
    now = request_now()
    try:
        disposition, hq_view = answering_views.answer_of(round_, form)
        reviewing.set_disposition(
            opinion,
            disposition,
            hq_view,
            current_user,
            now,
            expected=form.seen.data or "",
        )
        removed = reviewing.unlink_request_items(opinion, form.unlink.data, user=current_user, now=now)
        answering_views.save_row_assignee(round_, opinion, form, now)
        linked = form.request_item_id() is not None and reviewing.link_request_item(
            opinion, form.request_item_id(), user=current_user, now=now
        )
    except ConflictError as exc:
        flash(refused(exc), "error")
        stored = reviewing.opinion_of_round(round_.id, opinion_id)
        # The typed text stays; saving again after comparing overwrites what is stored knowingly.
        form.seen.data = reviewing.disposition_token(stored.disposition, stored.hq_view)
        return _render_list(round_, stored.item, filters, posted=(opinion_id, form, stored))
    except DomainError as exc:
        form.request_item.errors = [*form.request_item.errors, refused(exc)]
        return _render_list(round_, item, filters, posted=(opinion_id, form, None))
    message = _("対応を保存しました。")
    if linked:
        message += _("要請項目に結び付けました。")
    if removed:
        message += _("結び付けを%(removed)s件外しました。", removed=removed)
    flash(message, "success")
    return redirect(_list_url(round_, item.id if item else None, filters, opinion_id))


# ---------------------------------------------------------------- publication


@bp.route("/<int:round_id>/aggregate/publish", methods=["POST"])
def publish(round_id: int):
    round_ = _round_or_404(round_id)
    try:
        reviewing.publish_answers(round_, request_now(), user=current_user)
    except DomainError as exc:
        flash(refused(exc), "error")
    else:
        flash(_("回答表を対象組織に公開しました。"), "success")
    return redirect(url_for("review.overview", round_id=round_id))


@bp.route("/<int:round_id>/aggregate/unpublish", methods=["POST"])
def unpublish(round_id: int):
    round_ = _round_or_404(round_id)
    reviewing.unpublish_answers(round_, user=current_user, now=request_now())
    flash(_("回答表の公開を取りやめました。対象組織からは見えなくなります。"), "success")
    return redirect(url_for("review.overview", round_id=round_id))


@bp.route("/<int:round_id>/published")
def published(round_id: int):
    """The answer table as the target branches read it (headquarters sees it too, published or not)."""
    round_ = _round_or_404(round_id)
    if not round_.can_view(current_user):
        abort(403)
    if not round_.may_read_answer_table(current_user):
        abort(404)  # not published yet: to a branch it does not exist
    own_org = None if current_user.is_hq else current_user.organization_id
    page_no = parse_page(request.args.get("page"))
    only_own = own_org is not None and request.args.get("mine") == "1"
    page = queries.published_page(round_.id, own_org, only_own, page_no, current_app.config["PAGE_SIZE"])
    groups = queries.record_groups(page, queries.published_counts(round_.id, own_org, only_own))
    return render_template(
        "review/published.html",
        round=round_,
        page=page,
        groups=groups,
        own_org=own_org,
        only_own=only_own,
        dispositions=DISPOSITIONS,
        modification=queries.MODIFICATION,
        labels=disposition_labels(row.opinion for row in page.rows),  # 「統合（論点名）」
    )


# ---------------------------------------------------------------- exports


def _export_item_arg(round_: Round):
    """?item=<id> or ?item=proposals narrows an export to one item; anything else is the whole round."""
    value = request.args.get("item", "")
    if value == "proposals":
        return None
    if value.isascii() and value.isdigit():
        item_id = parse_id(value)
        if item_id is None:  # digits beyond any id
            abort(404)
        return _item_or_404(round_, item_id).id
    return "all"


def _export(round_id: int, kind: str, fmt: str):
    round_ = _round_or_404(round_id)
    item_id = _export_item_arg(round_)
    if fmt == "docx":
        rows = exports.count_rows(round_.id, item_id)
        if rows > exports.DOCX_MAX_ROWS:
            flash(
                _(
                    "Word形式で書き出せるのは%(limit)s件までです（この表は%(rows)s件）。"
                    "項目ごとに書き出すか、Excel形式またはCSV形式を使ってください。",
                    limit=f"{exports.DOCX_MAX_ROWS:,}",
                    rows=f"{rows:,}",
                ),
                "error",
            )
            return redirect(url_for("review.overview", round_id=round_.id))
    filename = f"{FILE_TITLES[kind]}_{round_.title}.{fmt}"
    engine = db.engine
    round_id, title = round_.id, round_.title
    printed_on = format_jst(to_jst(request_now()).date(), lang="ja")
    links = {choice.id: choice.label for choice in queries.request_choices(round_.id).values()}

    def chunks():
        """Runs while the server sends the body, after the request, with a session of its own.

        No Flask context is needed or pushed (stream_with_context would keep the request's context pushed
        until the response is closed, which breaks a client that never reads the body).
        """
        with Session(engine) as session:
            yield from exports.export_chunks(
                kind, fmt, round_id, title, item_id, session=session, printed_on=printed_on, links=links
            )

    response = Response(chunks(), mimetype=MIMETYPES[fmt])
    ascii_name = f"{kind}_{round_.id}.{fmt}"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    return response


def _register_exports() -> None:
    """One endpoint per table and format, e.g. aggregation.export_answers_xlsx → /rounds/1/export/answers.xlsx."""
    for kind in ("opinions", "answers"):
        for fmt in ("xlsx", "docx", "csv"):

            def view(round_id: int, kind=kind, fmt=fmt):
                return _export(round_id, kind, fmt)

            view.__doc__ = f"The {kind} table as {fmt.upper()}, streamed."
            bp.add_url_rule(f"/<int:round_id>/export/{kind}.{fmt}", f"export_{kind}_{fmt}", view)


_register_exports()

from consult.review import federation  # noqa: E402,F401  (the tiers, matrix and trace routes register on bp)

answering_views.register(bp, _render_list)  # bulk answers, 定型文, assignment, the published table's downloads

from consult.review import group_views  # noqa: E402, F401  (kept groups: their routes on this blueprint)
