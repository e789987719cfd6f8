"""The list of request campaigns, a new campaign, and a campaign's own page with its letters and addressees."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from consult.core import clock
from consult.core.clock import request_now
from consult.core.errors import ConflictError, DomainError
from consult.extensions import db
from consult.letters import compose, queries
from consult.letters import operations as letters
from consult.letters.forms import CampaignForm, NewLetterForm
from consult.letters.models import Campaign
from consult.letters.views import bp
from consult.letters.views.common import campaign_or_404, conflict, scope_text, show_errors, typed
from consult.rounds.models import Round


@bp.route("/")
def index():
    campaigns = db.session.scalars(
        select(Campaign)
        .options(selectinload(Campaign.letters), selectinload(Campaign.addressees))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ).all()
    return render_template("letters/index.html", campaigns=campaigns, date_text=compose.date_text)


def _campaign_input(form: CampaignForm) -> letters.CampaignInput:
    year, month, day = form.date_values()
    return letters.CampaignInput(
        title=typed(form.title),
        round_id=form.chosen_round_id(),
        date_year=year,
        date_month=month,
        date_day=day,
        date_style=form.date_style.data,
        sender_org=typed(form.sender_org),
        sender_title=typed(form.sender_title),
        sender_name=typed(form.sender_name),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = CampaignForm(rounds=queries.rounds_to_build_on())
    if request.method == "GET":
        today = clock.to_jst(request_now())
        form.date_year.data, form.date_month.data = str(today.year), str(today.month)
        form.sender_org.data = current_user.organization.name
    if form.validate_on_submit():
        try:
            campaign = letters.create_campaign(_campaign_input(form), request_now(), user=current_user)
        except DomainError as exc:
            show_errors(form, exc, "title")
        else:
            flash(_("要請行動を作成しました。続けて要請書と要請先を登録してください。"), "success")
            return redirect(url_for("letters.detail", campaign_id=campaign.id))
    return render_template("letters/campaign_form.html", form=form)


def _render_detail(campaign: Campaign, form: CampaignForm, letter_form: NewLetterForm, status: int = 200):
    campaign = queries.campaign_for_overview(campaign.id)
    labels = {}
    for letter in campaign.letters:
        labels.update(compose.item_labels(letter))
    source = db.session.get(Round, campaign.round_id) if campaign.round_id else None
    return render_template(
        "letters/detail.html",
        campaign=campaign,
        form=form,
        letter_form=letter_form,
        date_text=compose.date_text(campaign),
        labels=labels,
        scope_text=scope_text,
        source=source,
    ), status


@bp.route("/<int:campaign_id>", methods=["GET", "POST"])
def detail(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    if request.method == "GET":
        return _render_detail(campaign, _campaign_form(campaign), NewLetterForm(formdata=None))
    form = CampaignForm(rounds=queries.rounds_to_build_on())
    if form.validate_on_submit():
        try:
            letters.update_campaign(
                campaign, form.expected_version(), _campaign_input(form), user=current_user, now=request_now()
            )
        except (ConflictError, StaleDataError) as exc:
            conflict(form, exc)
            campaign = campaign_or_404(campaign_id)
            form.version.data = str(campaign.version)
        except DomainError as exc:
            show_errors(form, exc, "title")
        else:
            flash(_("要請行動の内容を保存しました。"), "success")
            return redirect(url_for("letters.detail", campaign_id=campaign.id))
    return _render_detail(campaign, form, NewLetterForm(formdata=None))


@bp.route("/<int:campaign_id>/letters", methods=["POST"])
def add_letter(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_form = NewLetterForm()
    if letter_form.validate_on_submit():
        try:
            letter = letters.add_letter(
                campaign, letters.LetterInput(title=typed(letter_form.title)), user=current_user, now=request_now()
            )
        except DomainError as exc:
            show_errors(letter_form, exc, "title", {name: "title" for name in ("greeting", "closing")})
        else:
            flash(
                _("要請書「%(title)s」を作成しました。本文と要請項目を入力してください。", title=letter.title),
                "success",
            )
            return redirect(url_for("letters.letter", campaign_id=campaign.id, letter_id=letter.id))
    return _render_detail(campaign, _campaign_form(campaign), letter_form)


def _campaign_form(campaign: Campaign) -> CampaignForm:
    return CampaignForm(
        formdata=None,
        rounds=queries.rounds_to_build_on(),
        data={
            "title": campaign.title,
            "date_year": str(campaign.date_year),
            "date_month": str(campaign.date_month),
            "date_day": "" if campaign.date_day is None else str(campaign.date_day),
            "date_style": campaign.date_style,
            "sender_org": campaign.sender_org,
            "sender_title": campaign.sender_title,
            "sender_name": campaign.sender_name,
            "round_id": campaign.round_id or 0,
            "version": str(campaign.version),
        },
    )
