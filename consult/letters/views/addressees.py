"""Who receives which letter: the addressee's name and honorific, the letter, all or part of its items, own text."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from consult.core.clock import request_now
from consult.core.errors import ConflictError, DomainError
from consult.core.forms import move_step
from consult.core.text import describe_characters
from consult.letters import compose, queries
from consult.letters import operations as letters
from consult.letters.document import clean_letter
from consult.letters.forms import AddresseeForm, ConfirmForm
from consult.letters.models import Letter
from consult.letters.views import bp
from consult.letters.views.common import addressee_or_404, campaign_or_404, conflict, show_errors, typed


def _addressee_input(form: AddresseeForm) -> letters.AddresseeInput:
    return letters.AddresseeInput(
        organisation=typed(form.organisation),
        kind=form.kind.data,
        title=typed(form.title),
        name=typed(form.name),
        honorific=form.honorific.data,
        greeting=typed(form.greeting),
        extra_paragraph=typed(form.extra_paragraph),
    )


def _chosen_items(form: AddresseeForm, campaign_letters: list[Letter]) -> list[int] | None:
    """The ids of the chosen letter's items ticked on the page; None = every item. Errors go on the form."""
    if form.scope.data != "subset":
        return None
    letter_ = next((ltr for ltr in campaign_letters if ltr.id == form.letter_id.data), None)
    own = {item.id for item in letter_.items} if letter_ else set()
    chosen = [item_id for item_id in form.item.data if item_id in own]
    if not chosen:
        form.scope.errors = [
            *form.scope.errors,
            _("一部の項目を渡すときは、渡す要請書の項目を一つ以上選んでください。"),
        ]
    return chosen


def _render_addressee(campaign, form, campaign_letters, addressee=None, selected=(), status=200):
    labels = {}
    for letter_ in campaign_letters:
        labels.update(compose.item_labels(letter_))
    removed = []
    if addressee is not None:
        removed = clean_letter(compose.build_letter(addressee))[1]
    return render_template(
        "letters/addressee_form.html",
        campaign=campaign,
        form=form,
        letters=campaign_letters,
        addressee=addressee,
        selected=set(selected),
        labels=labels,
        removed=describe_characters(removed) if removed else "",
        organisation_note=compose.organisation_note(addressee) if addressee is not None else "",
    ), status


@bp.route("/<int:campaign_id>/addressees/new", methods=["GET", "POST"])
def new_addressee(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    campaign_letters = queries.letters_with_items(campaign)
    if not campaign_letters:
        flash(_("先に要請書を作成してください。要請先には、どの要請書を渡すかを選びます。"), "error")
        return redirect(url_for("letters.detail", campaign_id=campaign.id))
    form = AddresseeForm(letters=campaign_letters)
    selected: list[int] = []
    if form.validate_on_submit():
        chosen = _chosen_items(form, campaign_letters)
        selected = chosen or []
        if not form.scope.errors:
            letter_ = next(ltr for ltr in campaign_letters if ltr.id == form.letter_id.data)
            try:
                addressee = letters.add_addressee(
                    campaign, letter_, _addressee_input(form), user=current_user, now=request_now()
                )
                letters.set_addressee_items(addressee, chosen, user=current_user, now=request_now())
            except DomainError as exc:
                show_errors(form, exc, "scope", {"items": "scope"})
            else:
                flash(_("要請先「%(name)s」を登録しました。", name=addressee.organisation), "success")
                return redirect(url_for("letters.detail", campaign_id=campaign.id) + "#addressees")
    elif request.method == "POST":
        selected = form.item.data
    return _render_addressee(campaign, form, campaign_letters, selected=selected)


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>", methods=["GET", "POST"])
def edit_addressee(campaign_id: int, addressee_id: int):
    campaign = campaign_or_404(campaign_id)
    addressee = addressee_or_404(campaign, addressee_id)
    campaign_letters = queries.letters_with_items(campaign)
    if request.method == "GET":
        form = AddresseeForm(
            formdata=None,
            letters=campaign_letters,
            data={
                "organisation": addressee.organisation,
                "kind": addressee.kind,
                "title": addressee.title,
                "name": addressee.name,
                "honorific": addressee.honorific,
                "letter_id": addressee.letter_id,
                "scope": "all" if addressee.all_items else "subset",
                "greeting": addressee.greeting,
                "extra_paragraph": addressee.extra_paragraph,
                "version": str(addressee.version),
            },
        )
        return _render_addressee(campaign, form, campaign_letters, addressee, [i.id for i in addressee.selected])
    form = AddresseeForm(letters=campaign_letters)
    selected = form.item.data
    if form.validate_on_submit():
        chosen = _chosen_items(form, campaign_letters)
        if not form.scope.errors:
            letter_ = next(ltr for ltr in campaign_letters if ltr.id == form.letter_id.data)
            try:
                letters.update_addressee(
                    addressee,
                    letter_,
                    _addressee_input(form),
                    expected_version=form.expected_version(),
                    user=current_user,
                    now=request_now(),
                )
                letters.set_addressee_items(addressee, chosen, user=current_user, now=request_now())
            except (ConflictError, StaleDataError) as exc:
                conflict(form, exc)
                addressee = addressee_or_404(campaign, addressee_id)
                form.version.data = str(addressee.version)  # saving again, after a look, is allowed
                campaign_letters = queries.letters_with_items(campaign)
                return _render_addressee(campaign, form, campaign_letters, addressee, selected, status=409)
            except DomainError as exc:
                show_errors(form, exc, "scope", {"items": "scope"})
                addressee = addressee_or_404(campaign, addressee_id)
                campaign_letters = queries.letters_with_items(campaign)
            else:
                flash(_("要請先「%(name)s」を保存しました。", name=addressee.organisation), "success")
                return redirect(url_for("letters.edit_addressee", campaign_id=campaign.id, addressee_id=addressee.id))
    return _render_addressee(campaign, form, campaign_letters, addressee, selected)


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>/move", methods=["POST"])
def move_addressee(campaign_id: int, addressee_id: int):
    campaign = campaign_or_404(campaign_id)
    addressee = addressee_or_404(campaign, addressee_id)
    step = move_step(request.form)
    letters.move_addressee(addressee, step, user=current_user, now=request_now())
    return redirect(url_for("letters.detail", campaign_id=campaign.id) + f"#addressee-{addressee.id}")


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>/remove", methods=["GET", "POST"])
def remove_addressee(campaign_id: int, addressee_id: int):
    campaign = campaign_or_404(campaign_id)
    addressee = addressee_or_404(campaign, addressee_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = addressee.organisation
        letters.remove_addressee(addressee, user=current_user, now=request_now())
        flash(_("要請先「%(name)s」を削除しました。", name=name), "success")
        return redirect(url_for("letters.detail", campaign_id=campaign.id) + "#addressees")
    return render_template("letters/confirm_remove_addressee.html", campaign=campaign, addressee=addressee, form=form)
