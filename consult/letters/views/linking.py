"""The opinions a request item rests on: the source round's submitted opinions to choose from, and the links."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.answers.models import Opinion
from consult.core.clock import request_now
from consult.core.errors import DomainError
from consult.core.transaction import refused
from consult.extensions import db
from consult.letters import compose, queries
from consult.letters import operations as letters
from consult.letters.forms import ConfirmForm, LinkOpinionsForm
from consult.letters.views import bp
from consult.letters.views.common import back_to_item, campaign_or_404, excerpt, item_or_404, letter_or_404
from consult.rounds.models import Round


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>/opinions", methods=["GET", "POST"])
def item_opinions(campaign_id: int, letter_id: int, item_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_ = letter_or_404(campaign, letter_id)
    item = item_or_404(letter_, item_id)
    form = LinkOpinionsForm()
    if form.validate_on_submit():
        chosen = queries.linkable_ids(campaign, form.opinion.data)
        if not chosen:
            flash(_("結び付ける意見を選んでください。"), "error")
        else:
            try:
                added = letters.link_opinions(item, chosen, user=current_user, now=request_now())
            except DomainError as exc:
                flash(refused(exc), "error")
            else:
                flash(_("%(added)s件の意見をこの項目に結び付けました。", added=added), "success")
                return back_to_item(campaign, letter_, item.id)
    filters = queries.OpinionFilters.from_args(request.args)
    round_items, rows, more = queries.opinions_to_link(campaign, filters)
    linked_opinions = queries.linked_opinions(item)
    return render_template(
        "letters/item_opinions.html",
        campaign=campaign,
        letter=letter_,
        item=item,
        form=form,
        source=db.session.get(Round, campaign.round_id) if campaign.round_id else None,
        round_items=round_items,
        rows=rows,
        more=more,
        linked={op.id for op in linked_opinions},
        linked_opinions=linked_opinions,
        filters={"item": filters.item, "q": filters.q},
        excerpt=excerpt,
        label=compose.item_labels(letter_).get(item.id, ""),
        limit=queries.OPINION_PAGE,
    )


@bp.route(
    "/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>/opinions/<int:opinion_id>/unlink", methods=["POST"]
)
def unlink_opinion(campaign_id: int, letter_id: int, item_id: int, opinion_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_ = letter_or_404(campaign, letter_id)
    item = item_or_404(letter_, item_id)
    opinion = db.get_or_404(Opinion, opinion_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = opinion.answer.organization.name
        if letters.unlink_opinion(item, opinion, user=current_user, now=request_now()):
            flash(
                _("%(name)sの意見とこの項目との結び付けを外しました（意見そのものは残ります）。", name=name), "success"
            )
        else:  # already gone, e.g. the button pressed twice or on a page loaded before someone else's change
            flash(_("この意見はすでにこの項目と結び付いていません。"), "warning")
    return redirect(
        url_for("letters.item_opinions", campaign_id=campaign.id, letter_id=letter_.id, item_id=item.id) + "#linked"
    )
