"""One letter: its title, greeting, background, closing and numbering, and its request items."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from consult.answers.models import STANCES
from consult.core.clock import request_now
from consult.core.convert import parse_id
from consult.core.errors import ConflictError, DomainError
from consult.core.forms import move_step
from consult.core.transaction import refused
from consult.letters import compose, queries
from consult.letters import operations as letters
from consult.letters.forms import AddItemForm, ConfirmForm, ItemForm, LetterForm
from consult.letters.models import Campaign, Letter
from consult.letters.views import bp
from consult.letters.views.common import (
    back_to_item,
    campaign_or_404,
    conflict,
    excerpt,
    item_or_404,
    letter_or_404,
    show_errors,
    typed,
)


def _letter_form(letter: Letter) -> LetterForm:
    return LetterForm(
        formdata=None,
        data={
            "title": letter.title,
            "greeting": letter.greeting,
            "background": letter.background,
            "closing": letter.closing,
            "numbering": letter.numbering,
            "fullwidth_digits": letter.fullwidth_digits,
            "version": str(letter.version),
        },
    )


def _render_letter(
    campaign: Campaign,
    letter: Letter,
    form: LetterForm | None = None,
    item_forms: dict[int, ItemForm] | None = None,
    add_forms: dict[str, AddItemForm] | None = None,
    status: int = 200,
):
    letter, traces = queries.items_with_opinions(letter.id)
    forms = {}
    for item in letter.items:
        forms[item.id] = (item_forms or {}).get(item.id) or ItemForm(
            formdata=None, prefix=f"item-{item.id}", data={"text": item.text, "shown": item.text}
        )
    adds = dict(add_forms or {})
    adds.setdefault("top", AddItemForm(formdata=None, prefix="add-top"))
    for top in letter.top_items():
        adds.setdefault(str(top.id), AddItemForm(formdata=None, prefix=f"add-{top.id}", data={"parent_id": top.id}))
    shared_lines, differences = compose.letter_differences(letter, list(campaign.addressees))
    return render_template(
        "letters/letter.html",
        shared_lines=shared_lines,
        differences=differences,
        campaign=campaign,
        letter=letter,
        form=form or _letter_form(letter),
        item_forms=forms,
        add_forms=adds,
        labels={trace.item.id: trace.label for trace in traces},
        two_level=compose.has_sections(letter.top_items()),
        stances=STANCES,
        excerpt=excerpt,
    ), status


@bp.route("/<int:campaign_id>/letters/<int:letter_id>", methods=["GET", "POST"])
def letter(campaign_id: int, letter_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_ = letter_or_404(campaign, letter_id)
    if request.method == "GET":
        return _render_letter(campaign, letter_)
    form = LetterForm()
    if form.validate_on_submit():
        try:
            letters.update_letter(
                letter_,
                form.expected_version(),
                letters.LetterInput(
                    title=typed(form.title),
                    greeting=typed(form.greeting),
                    background=typed(form.background),
                    closing=typed(form.closing),
                    numbering=form.numbering.data,
                    fullwidth_digits=form.fullwidth_digits.data,
                ),
                user=current_user,
                now=request_now(),
            )
        except (ConflictError, StaleDataError) as exc:
            conflict(form, exc)
            letter_ = letter_or_404(campaign, letter_id)
            form.version.data = str(letter_.version)
        except DomainError as exc:
            show_errors(form, exc, "title")
        else:
            flash(_("要請書を保存しました。"), "success")
            return redirect(url_for("letters.letter", campaign_id=campaign.id, letter_id=letter_.id))
    return _render_letter(campaign, letter_, form=form)


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/remove", methods=["GET", "POST"])
def remove_letter(campaign_id: int, letter_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_ = letter_or_404(campaign, letter_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        title = letter_.title
        try:
            letters.remove_letter(letter_, user=current_user, now=request_now())
        except DomainError as exc:  # an addressee still receives it: the letter stays as it was
            flash(refused(exc), "error")
            return redirect(url_for("letters.letter", campaign_id=campaign.id, letter_id=letter_.id))
        flash(_("要請書「%(title)s」を削除しました。", title=title), "success")
        return redirect(url_for("letters.detail", campaign_id=campaign.id) + "#letters")
    return render_template(
        "letters/confirm_remove_letter.html",
        campaign=campaign,
        letter=letter_,
        form=form,
        users=queries.addressees_of(letter_),
        items=queries.item_count(letter_),
    )


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items", methods=["POST"])
def add_item(campaign_id: int, letter_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_ = letter_or_404(campaign, letter_id)
    key = request.form.get("form", "top")
    parent_id = None if key == "top" else parse_id(key)
    if key != "top" and parent_id is None:
        abort(400)
    form = AddItemForm(prefix=f"add-{key}")
    parent = item_or_404(letter_, parent_id) if parent_id is not None else None
    if parent is not None and parent.parent_id is not None:
        abort(400)  # two levels only: an item under an item has no number to print
    if form.validate_on_submit():
        try:
            item = letters.add_request_item(
                letter_, typed(form.text), parent=parent, user=current_user, now=request_now()
            )
        except DomainError as exc:
            show_errors(form, exc, "text")
        else:
            flash(_("要請項目を追加しました。") if parent is not None else _("項目を追加しました。"), "success")
            return back_to_item(campaign, letter_, item.id)
    return _render_letter(campaign, letter_, add_forms={key: form})


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>", methods=["POST"])
def edit_item(campaign_id: int, letter_id: int, item_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_ = letter_or_404(campaign, letter_id)
    item = item_or_404(letter_, item_id)
    form = ItemForm(prefix=f"item-{item.id}")
    if form.validate_on_submit():
        try:
            letters.update_request_item(
                item, typed(form.text), shown=form.shown.data, user=current_user, now=request_now()
            )
        except ConflictError as exc:  # someone changed the wording after this page was loaded
            form.text.errors = [refused(exc), _("保存済みの文言：%(item_text)s", item_text=item.text)]
            form.shown.data = item.text
        except DomainError as exc:
            show_errors(form, exc, "text")
        else:
            flash(_("項目の文言を保存しました。"), "success")
            return back_to_item(campaign, letter_, item.id)
    return _render_letter(campaign, letter_, item_forms={item.id: form})


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>/move", methods=["POST"])
def move_item(campaign_id: int, letter_id: int, item_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_ = letter_or_404(campaign, letter_id)
    item = item_or_404(letter_, item_id)
    step = move_step(request.form)
    letters.move_request_item(item, step, user=current_user, now=request_now())
    return back_to_item(campaign, letter_, item.id)


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>/remove", methods=["GET", "POST"])
def remove_item(campaign_id: int, letter_id: int, item_id: int):
    campaign = campaign_or_404(campaign_id)
    letter_ = letter_or_404(campaign, letter_id)
    item = item_or_404(letter_, item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            letters.remove_request_item(item, user=current_user, now=request_now())
        except DomainError as exc:
            flash(refused(exc), "error")
        else:
            flash(_("項目を削除しました。"), "success")
        return back_to_item(campaign, letter_)
    return render_template(
        "letters/confirm_remove_item.html",
        campaign=campaign,
        letter=letter_,
        item=item,
        form=form,
        label=compose.item_labels(letter_).get(item.id, ""),
        users=queries.addressees_choosing(item),
    )
