"""The pages of kept groups (論点) and 「この意見から要請項目を作る」, on the review blueprint (views.bp).

The groups page of an item shows the kept groups (rename, split, move an opinion, undo) above the proposals of
what is not kept yet (confirm, with a name). A refused change shows the page again with its message next to the
form it came from and the typed name kept; nothing is written.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.answers.models import DISPOSITIONS
from consult.core.clock import request_now
from consult.core.convert import parse_id
from consult.core.errors import ConflictError, DomainError
from consult.core.text import clean
from consult.core.transaction import refused
from consult.extensions import db
from consult.review import groups, queries, search
from consult.review import operations as reviewing
from consult.review.models import GROUP_NAME_LENGTH
from consult.review.views import _item_or_404, _round_or_404, bp
from consult.rounds.models import Round, RoundItem


def _ids(name: str) -> list[int]:
    return list(dict.fromkeys(i for i in map(parse_id, request.form.getlist(name)) if i is not None))


def _version() -> int | None:
    return parse_id(request.form.get("version", ""))


def _typed_name() -> str:
    return clean(request.form.get("name", "")).strip()


def render_groups(round_: Round, item: RoundItem, errors: dict | None = None, typed: dict | None = None, status=200):
    """The groups page; `errors` and `typed` are keyed by the form they belong to."""
    kept = groups.item_groups(item.id)
    proposed = search.proposed_groups(round_.id, item.id)
    ids = [i for g in kept for i in g.opinion_ids] + [i for g in proposed for i in g.ids]
    rows = {row.opinion.id: row for row in queries.opinion_rows(ids)}
    return render_template(
        "review/groups.html",
        round=round_,
        item=item,
        kept=kept,
        groups=proposed,
        rows=rows,
        dispositions=DISPOSITIONS,
        errors=errors or {},
        typed=typed or {},
        name_limit=GROUP_NAME_LENGTH,
        has_letters=bool(groups.request_letters(round_.id)),
    ), status


def _refusal(round_: Round, item: RoundItem, key: str, exc: DomainError):
    message = refused(exc)
    return render_groups(
        round_,
        item,
        errors={key: message},
        typed={key: _typed_name()},
        status=409 if isinstance(exc, ConflictError) else 422,
    )


def _back(round_: Round, item_id: int, anchor: str = ""):
    return redirect(url_for("review.groups", round_id=round_.id, item_id=item_id) + (f"#{anchor}" if anchor else ""))


def _group_or_404(round_: Round, group_id: int):
    """A kept group of the round, locked when the request writes (PostgreSQL)."""
    group = groups.group_of_round(round_.id, group_id, lock=request.method == "POST")
    if group is None:
        abort(404)
    return group


@bp.route("/<int:round_id>/aggregate/items/<int:item_id>/groups", methods=["POST"])
def confirm_group(round_id: int, item_id: int):
    """Keep a proposed group (the ticked opinions of it) as a 論点 with a name."""
    round_ = _round_or_404(round_id)
    item = _item_or_404(round_, item_id)
    key = f"proposal-{request.form.get('key', '')}"
    try:
        group = groups.confirm_group(item, _ids("opinion_ids"), _typed_name(), user=current_user, now=request_now())
    except DomainError as exc:
        return _refusal(round_, item, key, exc)
    flash(_("論点「%(name)s」として確定しました。", name=group.label), "success")
    return _back(round_, item.id, f"kept-{group.id}")


@bp.route("/<int:round_id>/aggregate/groups/<int:group_id>", methods=["POST"])
def rename_group(round_id: int, group_id: int):
    """Name (or rename) a kept 論点."""
    round_ = _round_or_404(round_id)
    group = _group_or_404(round_, group_id)
    item = group.item_id
    try:
        groups.rename_group(group, _typed_name(), _version(), user=current_user, now=request_now())
    except DomainError as exc:
        return _refusal(round_, db.session.get(RoundItem, item), f"kept-{group_id}", exc)
    flash(_("論点名を保存しました。"), "success")
    return _back(round_, item, f"kept-{group_id}")


@bp.route("/<int:round_id>/aggregate/groups/<int:group_id>/split", methods=["POST"])
def split_group(round_id: int, group_id: int):
    """Split the ticked opinions off into a new 論点."""
    round_ = _round_or_404(round_id)
    group = _group_or_404(round_, group_id)
    item = group.item_id
    try:
        new = groups.split_group(
            group, _ids("opinion_ids"), _typed_name(), _version(), user=current_user, now=request_now()
        )
    except DomainError as exc:
        return _refusal(round_, db.session.get(RoundItem, item), f"kept-{group_id}", exc)
    flash(_("論点を分けました。"), "success")
    return _back(round_, item, f"kept-{new.id}")


@bp.route("/<int:round_id>/aggregate/groups/<int:group_id>/move", methods=["POST"])
def move_group_opinion(round_id: int, group_id: int):
    """Move one opinion to another 論点 of the item, or out of every one."""
    round_ = _round_or_404(round_id)
    group = _group_or_404(round_, group_id)
    item = group.item_id
    target_id = parse_id(request.form.get("target", ""))
    target = groups.group_of_round(round_.id, target_id, lock=True) if target_id else None
    try:
        if target_id and target is None:
            raise DomainError(_("移す先は同じ項目の別の論点から選んでください。"))
        opinion_id = parse_id(request.form.get("opinion_id", "")) or 0
        groups.move_opinion(group, opinion_id, target, _version(), user=current_user, now=request_now())
    except DomainError as exc:
        return _refusal(round_, db.session.get(RoundItem, item), f"kept-{group_id}", exc)
    flash(_("意見を移しました。") if target else _("意見を論点から外しました。"), "success")
    return _back(round_, item, f"kept-{target.id}" if target else "")


@bp.route("/<int:round_id>/aggregate/groups/<int:group_id>/delete", methods=["POST"])
def delete_group(round_id: int, group_id: int):
    """Undo a confirmation: the opinions are proposed again."""
    round_ = _round_or_404(round_id)
    group = _group_or_404(round_, group_id)
    item = group.item_id
    try:
        groups.delete_group(group, _version(), user=current_user, now=request_now())
    except DomainError as exc:
        return _refusal(round_, db.session.get(RoundItem, item), f"kept-{group_id}", exc)
    flash(_("論点の確定を取り消しました。"), "success")
    return _back(round_, item)


# ---------------------------------------------------------------- 「この意見から要請項目を作る」


def _request_page(round_: Round, opinions, subject: str, action: str, back: str, error: str = "", status=200):
    letters = groups.request_letters(round_.id)
    text = clean(request.form.get("text", "")) if request.method == "POST" else groups.request_wording(opinions)
    return render_template(
        "review/request_from.html",
        round=round_,
        opinions=opinions,
        subject=subject,
        action=action,
        back=back,
        letters=letters,
        letter_id=parse_id(request.form.get("letter", "")) if request.method == "POST" else None,
        text=text,
        error=error,
    ), status


def _make_request(round_: Round, opinions, subject: str, action: str, back: str):
    if request.method == "GET":
        return _request_page(round_, opinions, subject, action, back)
    try:
        item = groups.make_request_item(
            round_.id,
            parse_id(request.form.get("letter", "")),
            clean(request.form.get("text", "")),
            opinions,
            user=current_user,
            now=request_now(),
        )
    except DomainError as exc:
        return _request_page(round_, opinions, subject, action, back, error=refused(exc), status=422)
    flash(_("要請項目を作り、意見%(count)s件を結び付けました。", count=len(opinions)), "success")
    letter = item.letter
    return redirect(url_for("letters.letter", campaign_id=letter.campaign_id, letter_id=letter.id))


@bp.route("/<int:round_id>/aggregate/opinions/<int:opinion_id>/request-item", methods=["GET", "POST"])
def request_from_opinion(round_id: int, opinion_id: int):
    """「この意見から要請項目を作る」: a request item worded from the opinion's proposed change, linked to it."""
    round_ = _round_or_404(round_id)
    opinion = reviewing.opinion_of_round(round_.id, opinion_id)
    if opinion is None:
        abort(404)
    action = url_for("review.request_from_opinion", round_id=round_.id, opinion_id=opinion.id)
    back = (
        url_for("review.item", round_id=round_.id, item_id=opinion.item_id)
        if opinion.item_id
        else url_for("review.proposals", round_id=round_.id)
    ) + f"#op-{opinion.id}"
    subject = _("%(org)sの意見（#%(id)s）", org=opinion.answer.organization.name, id=opinion.id)
    return _make_request(round_, [opinion], subject, action, back)


@bp.route("/<int:round_id>/aggregate/groups/<int:group_id>/request-item", methods=["GET", "POST"])
def request_from_group(round_id: int, group_id: int):
    """「この論点から要請項目を作る」: a request item worded from the proposed change, linked to every opinion of it."""
    round_ = _round_or_404(round_id)
    group = _group_or_404(round_, group_id)
    action = url_for("review.request_from_group", round_id=round_.id, group_id=group.id)
    back = url_for("review.groups", round_id=round_.id, item_id=group.item_id) + f"#kept-{group.id}"
    subject = _("論点「%(name)s」", name=group.label)
    return _make_request(round_, groups.group_opinions(group), subject, action, back)
