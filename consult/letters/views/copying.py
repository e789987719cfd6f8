"""Copies with a new date (issue 13): a whole campaign (the next year), an addressee (the next visit, with its
own date) and a letter (into this campaign or another one)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from consult.core.clock import request_now
from consult.core.errors import DomainError
from consult.extensions import db
from consult.letters import compose
from consult.letters import operations as letters
from consult.letters.forms import CopyForm
from consult.letters.models import Campaign
from consult.letters.views import bp
from consult.letters.views.common import addressee_or_404, campaign_or_404, letter_or_404, show_errors, typed


def _render(form, campaign, what: str, status: int, **extra):
    return render_template(
        "letters/copy.html", form=form, campaign=campaign, what=what, date_text=compose.date_text(campaign), **extra
    ), status


def _status() -> int:
    return 422 if request.method == "POST" else 200


@bp.route("/<int:campaign_id>/copy", methods=["GET", "POST"])
def copy_campaign(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    form = CopyForm(date_required=True)
    if request.method == "GET":
        form.date_year.data, form.date_month.data = str(campaign.date_year + 1), str(campaign.date_month)
    if form.validate_on_submit():
        try:
            copy = letters.copy_campaign(
                campaign, form.new_date(), typed(form.title) or None, user=current_user, now=request_now()
            )
        except DomainError as exc:
            show_errors(form, exc, "date_year")
        else:
            flash(_("要請行動「%(title)s」を新しい日付で複製しました。", title=copy.title), "success")
            return redirect(url_for("letters.detail", campaign_id=copy.id))
    return _render(form, campaign, "campaign", _status())


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>/copy", methods=["GET", "POST"])
def copy_addressee(campaign_id: int, addressee_id: int):
    campaign = campaign_or_404(campaign_id)
    addressee = addressee_or_404(campaign, addressee_id)
    form = CopyForm(date_required=False)
    if form.validate_on_submit():
        try:
            copy = letters.copy_addressee(addressee, date=form.new_date(), user=current_user, now=request_now())
        except DomainError as exc:
            show_errors(form, exc, "date_year", {"date_month": "date_month", "date_day": "date_day"})
        else:
            flash(_("要請先「%(name)s」を複製しました。", name=copy.organisation), "success")
            return redirect(url_for("letters.addressee_overrides", campaign_id=campaign.id, addressee_id=copy.id))
    return _render(form, campaign, "addressee", _status(), addressee=addressee)


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/copy", methods=["GET", "POST"])
def copy_letter(campaign_id: int, letter_id: int):
    campaign = campaign_or_404(campaign_id)
    letter = letter_or_404(campaign, letter_id)
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())).all()
    form = CopyForm(campaigns=campaigns, date_required=False)
    if request.method == "GET":
        form.campaign_id.data = campaign.id
    if form.validate_on_submit():
        target = db.session.get(Campaign, form.campaign_id.data or campaign.id) or campaign
        copy = letters.copy_letter(letter, target, user=current_user, now=request_now())
        flash(_("要請書「%(title)s」を複製しました。", title=copy.title), "success")
        return redirect(url_for("letters.letter", campaign_id=target.id, letter_id=copy.id))
    return _render(form, campaign, "letter", _status(), letter=letter)
