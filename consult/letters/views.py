"""Headquarters' pages for request campaigns: letters, request items, addressees, previews and downloads."""

from __future__ import annotations

import io
import tempfile

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from consult.answers.models import STANCES, Answer, Opinion
from consult.core import clock
from consult.core.access import require_hq
from consult.core.clock import request_now
from consult.core.convert import parse_id, parse_ids
from consult.core.errors import ConflictError, DomainError
from consult.core.text import clean, describe_characters
from consult.core.transaction import refused
from consult.extensions import db
from consult.letters import compose, dates, document, numbering
from consult.letters import operations as letters
from consult.letters.document import clean_letter, outline
from consult.letters.forms import (
    TEMPLATE_MAX_BYTES,
    AddItemForm,
    AddresseeForm,
    CampaignForm,
    ConfirmForm,
    ItemForm,
    LetterForm,
    NewLetterForm,
    TemplateForm,
)
from consult.letters.models import Addressee, Campaign, Letter, LetterTemplate, RequestItem, RequestItemOpinion
from consult.letters.render import default_template_path
from consult.rounds.models import Round, RoundItem

bp = Blueprint("letters", __name__, url_prefix="/campaigns")

STALE_MESSAGE = (
    "他の人がこの内容を先に更新しました。あなたの入力内容は消えていません。"
    "保存済みの内容を確かめてから、もう一度保存してください。"
)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OPINION_PAGE = 200


# Request letters are headquarters' work only.
require_hq(bp)


# ---------------------------------------------------------------- loading (another campaign's part = unknown)


def _campaign_or_404(campaign_id: int) -> Campaign:
    return db.get_or_404(Campaign, campaign_id)


def _letter_or_404(campaign: Campaign, letter_id: int) -> Letter:
    letter = db.session.get(Letter, letter_id)
    if letter is None or letter.campaign_id != campaign.id:
        abort(404)
    return letter


def _item_or_404(letter: Letter, item_id: int) -> RequestItem:
    item = db.session.get(RequestItem, item_id)
    if item is None or item.letter_id != letter.id:
        abort(404)
    return item


def _addressee_or_404(campaign: Campaign, addressee_id: int) -> Addressee:
    addressee = db.session.get(Addressee, addressee_id)
    if addressee is None or addressee.campaign_id != campaign.id:
        abort(404)
    return addressee


# ---------------------------------------------------------------- display helpers


def date_text(campaign: Campaign) -> str:
    """The date as printed on the letters (2025年3月●日 / 令和7年3月●日)."""
    try:
        return dates.format_date(campaign.date_year, campaign.date_month, campaign.date_day, campaign.date_style)
    except ValueError:
        return f"{campaign.date_year}年{campaign.date_month}月{campaign.date_day or dates.UNDECIDED}日"


def item_labels(letter: Letter) -> dict[int, str]:
    """Each item's number as it will print: the letter's items through compose's sections and document.outline."""
    tops = letter.top_items()
    if compose.is_two_level(tops):
        groups = [(top, list(top.children)) for top in tops]
    else:
        groups = [(None, tops)]
    sections, ids = [], []
    for heading, items in groups:
        sections.append(document.Section(heading.text if heading else "", [item.text for item in items]))
        ids.extend(([heading.id] if heading else []) + [item.id for item in items])
    style = letter.numbering if letter.numbering in numbering.STYLES else numbering.DEFAULT
    sample = document.Letter(
        date_text="",
        addressee=document.Addressee(),
        sender_org="",
        sender_title="",
        sender_name="",
        title="",
        sections=sections,
        numbering=style,
        fullwidth_digits=letter.fullwidth_digits,
    )
    return {item_id: entry.label.strip() for item_id, entry in zip(ids, outline(sample), strict=True)}


def scope_text(addressee: Addressee, labels: dict[int, str]) -> str:
    """「すべて」 or 「一部（2. マイナンバー…）」 for the overview table."""
    if addressee.all_items:
        return "すべて"
    parts = []
    for item in addressee.selected:
        text = item.text if len(item.text) <= 20 else item.text[:20] + "…"
        parts.append(f"{labels.get(item.id, '')} {text}".strip())
    return f"一部（{'、'.join(parts)}）" if parts else "一部（未選択）"


def _load_letter(letter_id: int) -> Letter:
    """The letter with its items, their opinions and the opinions' organisations in a few queries."""
    return db.session.scalars(
        select(Letter)
        .where(Letter.id == letter_id)
        .options(
            selectinload(Letter.items).selectinload(RequestItem.children),
            selectinload(Letter.items)
            .selectinload(RequestItem.opinions)
            .joinedload(Opinion.answer)
            .joinedload(Answer.organization),
            selectinload(Letter.items).selectinload(RequestItem.opinions).joinedload(Opinion.item),
        )
        .execution_options(populate_existing=True)
    ).one()


def _rounds():
    return db.session.scalars(select(Round).order_by(Round.deadline.desc(), Round.id.desc())).all()


def _conflict(form, exc: Exception) -> None:
    flash(str(exc) if isinstance(exc, ConflictError) and str(exc) else STALE_MESSAGE, "error")
    form.version.errors = [STALE_MESSAGE]


# ---------------------------------------------------------------- campaigns


@bp.route("/")
def index():
    campaigns = db.session.scalars(
        select(Campaign)
        .options(selectinload(Campaign.letters), selectinload(Campaign.addressees))
        .order_by(Campaign.created_at.desc(), Campaign.id.desc())
    ).all()
    return render_template("letters/index.html", campaigns=campaigns, date_text=date_text)


def _typed(field) -> str:
    """A text field's value trimmed; a field missing from the POST counts as empty, never as a 500."""
    return (field.data or "").strip()


def _campaign_input(form: CampaignForm) -> letters.CampaignInput:
    year, month, day = form.date_values()
    return letters.CampaignInput(
        title=_typed(form.title),
        round_id=form.chosen_round_id(),
        date_year=year,
        date_month=month,
        date_day=day,
        date_style=form.date_style.data,
        sender_org=_typed(form.sender_org),
        sender_title=_typed(form.sender_title),
        sender_name=_typed(form.sender_name),
    )


def _show_errors(form, exc: DomainError, fallback: str, names: dict[str, str] | None = None) -> None:
    """Put an operation's refusal next to the field it concerns (InputErrors names them), else on fallback."""
    message = refused(exc)
    errors = getattr(exc, "errors", None) or {fallback: message}
    for name, message in errors.items():
        target = form._fields.get((names or {}).get(name, name)) or form[fallback]
        target.errors = [*target.errors, message]


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = CampaignForm(rounds=_rounds())
    if request.method == "GET":
        today = clock.to_jst(request_now())
        form.date_year.data, form.date_month.data = str(today.year), str(today.month)
        form.sender_org.data = current_user.organization.name
    if form.validate_on_submit():
        try:
            campaign = letters.create_campaign(_campaign_input(form), request_now(), user=current_user)
        except DomainError as exc:
            _show_errors(form, exc, "title")
        else:
            flash(_("要請行動を作成しました。続けて要請書と要請先を登録してください。"), "success")
            return redirect(url_for("letters.detail", campaign_id=campaign.id))
    return render_template("letters/campaign_form.html", form=form)


def _render_detail(campaign: Campaign, form: CampaignForm, letter_form: NewLetterForm, status: int = 200):
    campaign = db.session.scalars(
        select(Campaign)
        .where(Campaign.id == campaign.id)
        .options(
            selectinload(Campaign.letters).selectinload(Letter.items).selectinload(RequestItem.children),
            selectinload(Campaign.addressees).selectinload(Addressee.selected),
        )
    ).one()
    labels = {}
    for letter in campaign.letters:
        labels.update(item_labels(letter))
    source = db.session.get(Round, campaign.round_id) if campaign.round_id else None
    return render_template(
        "letters/detail.html",
        campaign=campaign,
        form=form,
        letter_form=letter_form,
        date_text=date_text(campaign),
        labels=labels,
        scope_text=scope_text,
        source=source,
    ), status


@bp.route("/<int:campaign_id>", methods=["GET", "POST"])
def detail(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if request.method == "GET":
        return _render_detail(campaign, _campaign_form(campaign), NewLetterForm(formdata=None))
    form = CampaignForm(rounds=_rounds())
    if form.validate_on_submit():
        try:
            letters.update_campaign(
                campaign, form.expected_version(), _campaign_input(form), user=current_user, now=request_now()
            )
        except (ConflictError, StaleDataError) as exc:
            db.session.rollback()
            campaign = _campaign_or_404(campaign_id)
            _conflict(form, exc)
            form.version.data = str(campaign.version)
        except DomainError as exc:
            _show_errors(form, exc, "title")
        else:
            flash(_("要請行動の内容を保存しました。"), "success")
            return redirect(url_for("letters.detail", campaign_id=campaign.id))
    return _render_detail(campaign, form, NewLetterForm(formdata=None))


@bp.route("/<int:campaign_id>/letters", methods=["POST"])
def add_letter(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_form = NewLetterForm()
    if letter_form.validate_on_submit():
        try:
            letter = letters.add_letter(
                campaign, letters.LetterInput(title=_typed(letter_form.title)), user=current_user, now=request_now()
            )
        except DomainError as exc:
            _show_errors(letter_form, exc, "title", {name: "title" for name in ("greeting", "closing")})
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
        rounds=_rounds(),
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


# ---------------------------------------------------------------- letter editor


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
    letter = _load_letter(letter.id)
    forms = {}
    for item in letter.items:
        forms[item.id] = (item_forms or {}).get(item.id) or ItemForm(
            formdata=None, prefix=f"item-{item.id}", data={"text": item.text, "shown": item.text}
        )
    adds = dict(add_forms or {})
    adds.setdefault("top", AddItemForm(formdata=None, prefix="add-top"))
    for top in letter.top_items():
        adds.setdefault(str(top.id), AddItemForm(formdata=None, prefix=f"add-{top.id}", data={"parent_id": top.id}))
    return render_template(
        "letters/letter.html",
        campaign=campaign,
        letter=letter,
        form=form or _letter_form(letter),
        item_forms=forms,
        add_forms=adds,
        labels=item_labels(letter),
        two_level=compose.is_two_level(letter.top_items()),
        stances=STANCES,
        excerpt=_excerpt,
    ), status


def _excerpt(opinion: Opinion, limit: int = 80) -> str:
    """The first characters of what the branch asked for, to recognise an opinion in a list."""
    text = " ".join(t for t in (opinion.heading, opinion.proposed_text or opinion.reason or opinion.referred_text) if t)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


@bp.route("/<int:campaign_id>/letters/<int:letter_id>", methods=["GET", "POST"])
def letter(campaign_id: int, letter_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_ = _letter_or_404(campaign, letter_id)
    if request.method == "GET":
        return _render_letter(campaign, letter_)
    form = LetterForm()
    if form.validate_on_submit():
        try:
            letters.update_letter(
                letter_,
                form.expected_version(),
                letters.LetterInput(
                    title=_typed(form.title),
                    greeting=_typed(form.greeting),
                    background=_typed(form.background),
                    closing=_typed(form.closing),
                    numbering=form.numbering.data,
                    fullwidth_digits=form.fullwidth_digits.data,
                ),
                user=current_user,
                now=request_now(),
            )
        except (ConflictError, StaleDataError) as exc:
            db.session.rollback()
            letter_ = _letter_or_404(campaign, letter_id)
            _conflict(form, exc)
            form.version.data = str(letter_.version)
        except DomainError as exc:
            _show_errors(form, exc, "title")
        else:
            flash(_("要請書を保存しました。"), "success")
            return redirect(url_for("letters.letter", campaign_id=campaign.id, letter_id=letter_.id))
    return _render_letter(campaign, letter_, form=form)


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/remove", methods=["GET", "POST"])
def remove_letter(campaign_id: int, letter_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_ = _letter_or_404(campaign, letter_id)
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
    users = db.session.scalars(
        select(Addressee).where(Addressee.letter_id == letter_.id).order_by(Addressee.position, Addressee.id)
    ).all()
    items = db.session.scalar(select(func.count()).select_from(RequestItem).where(RequestItem.letter_id == letter_.id))
    return render_template(
        "letters/confirm_remove_letter.html", campaign=campaign, letter=letter_, form=form, users=users, items=items
    )


def _back_to_item(campaign: Campaign, letter_: Letter, item_id: int | None = None):
    anchor = f"#item-{item_id}" if item_id else ""
    return redirect(url_for("letters.letter", campaign_id=campaign.id, letter_id=letter_.id) + anchor)


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items", methods=["POST"])
def add_item(campaign_id: int, letter_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_ = _letter_or_404(campaign, letter_id)
    key = request.form.get("form", "top")
    parent_id = None if key == "top" else parse_id(key)
    if key != "top" and parent_id is None:
        abort(400)
    form = AddItemForm(prefix=f"add-{key}")
    parent = _item_or_404(letter_, parent_id) if parent_id is not None else None
    if parent is not None and parent.parent_id is not None:
        abort(400)  # two levels only: an item under an item has no number to print
    if form.validate_on_submit():
        try:
            item = letters.add_request_item(
                letter_, _typed(form.text), parent=parent, user=current_user, now=request_now()
            )
        except DomainError as exc:
            _show_errors(form, exc, "text")
        else:
            flash(_("要請項目を追加しました。") if parent is not None else _("項目を追加しました。"), "success")
            return _back_to_item(campaign, letter_, item.id)
    return _render_letter(campaign, letter_, add_forms={key: form})


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>", methods=["POST"])
def edit_item(campaign_id: int, letter_id: int, item_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_ = _letter_or_404(campaign, letter_id)
    item = _item_or_404(letter_, item_id)
    form = ItemForm(prefix=f"item-{item.id}")
    if form.validate_on_submit():
        if form.shown.data is not None and clean(form.shown.data).strip() != item.text.strip():
            form.text.errors = [STALE_MESSAGE, f"保存済みの文言：{item.text}"]
            form.shown.data = item.text
        else:
            try:
                letters.update_request_item(item, _typed(form.text), user=current_user, now=request_now())
            except DomainError as exc:
                _show_errors(form, exc, "text")
            else:
                flash(_("項目の文言を保存しました。"), "success")
                return _back_to_item(campaign, letter_, item.id)
    return _render_letter(campaign, letter_, item_forms={item.id: form})


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>/move", methods=["POST"])
def move_item(campaign_id: int, letter_id: int, item_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_ = _letter_or_404(campaign, letter_id)
    item = _item_or_404(letter_, item_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400)
    letters.move_request_item(item, step, user=current_user, now=request_now())
    return _back_to_item(campaign, letter_, item.id)


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>/remove", methods=["GET", "POST"])
def remove_item(campaign_id: int, letter_id: int, item_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_ = _letter_or_404(campaign, letter_id)
    item = _item_or_404(letter_, item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            letters.remove_request_item(item, user=current_user, now=request_now())
        except DomainError as exc:
            flash(refused(exc), "error")
        else:
            flash(_("項目を削除しました。"), "success")
        return _back_to_item(campaign, letter_)
    users = db.session.scalars(
        select(Addressee)
        .join(Addressee.selected)
        .where(RequestItem.id.in_([item.id, *(c.id for c in item.children)]))
        .distinct()
    ).all()
    return render_template(
        "letters/confirm_remove_item.html",
        campaign=campaign,
        letter=letter_,
        item=item,
        form=form,
        label=item_labels(letter_).get(item.id, ""),
        users=users,
    )


# ---------------------------------------------------------------- linking opinions to an item


@bp.route("/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>/opinions", methods=["GET", "POST"])
def item_opinions(campaign_id: int, letter_id: int, item_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_ = _letter_or_404(campaign, letter_id)
    item = _item_or_404(letter_, item_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        chosen = set(parse_ids(request.form.getlist("opinion")) or ())
        allowed = (
            set(
                db.session.scalars(
                    _submitted_opinions(campaign).with_only_columns(Opinion.id).where(Opinion.id.in_(chosen))
                )
            )
            if chosen
            else set()
        )
        if not allowed:
            flash(_("結び付ける意見を選んでください。"), "error")
        else:
            try:
                added = letters.link_opinions(item, sorted(allowed), user=current_user, now=request_now())
            except DomainError as exc:
                flash(refused(exc), "error")
            else:
                flash(_("%(added)s件の意見をこの項目に結び付けました。", added=added), "success")
                return _back_to_item(campaign, letter_, item.id)
    source = db.session.get(Round, campaign.round_id) if campaign.round_id else None
    round_items, rows, more = [], [], False
    filters = {"item": request.args.get("item", ""), "q": clean(request.args.get("q", "")).strip()[:200]}
    if source is not None:
        round_items = db.session.scalars(
            select(RoundItem).where(RoundItem.round_id == source.id).order_by(RoundItem.position, RoundItem.id)
        ).all()
        query = _submitted_opinions(campaign).options(
            joinedload(Opinion.answer).joinedload(Answer.organization), joinedload(Opinion.item)
        )
        if filters["item"] == "new":
            query = query.where(Opinion.item_id.is_(None))
        elif parse_id(filters["item"]) is not None:
            query = query.where(Opinion.item_id == parse_id(filters["item"]))
        if filters["q"]:
            like = "%" + filters["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query = query.where(
                or_(
                    *(
                        column.ilike(like, escape="\\")
                        for column in (Opinion.heading, Opinion.referred_text, Opinion.proposed_text, Opinion.reason)
                    )
                )
            )
        rows = (
            db.session.scalars(query.order_by(Opinion.item_id, Opinion.answer_id, Opinion.id).limit(OPINION_PAGE + 1))
            .unique()
            .all()
        )
        more = len(rows) > OPINION_PAGE
        rows = rows[:OPINION_PAGE]
    linked_opinions = (
        db.session.scalars(
            select(Opinion)
            .join(RequestItemOpinion, RequestItemOpinion.opinion_id == Opinion.id)
            .where(RequestItemOpinion.request_item_id == item.id)
            .options(joinedload(Opinion.answer).joinedload(Answer.organization), joinedload(Opinion.item))
            .order_by(Opinion.id)
        )
        .unique()
        .all()
    )
    linked = {op.id for op in linked_opinions}
    return render_template(
        "letters/item_opinions.html",
        campaign=campaign,
        letter=letter_,
        item=item,
        form=form,
        source=source,
        round_items=round_items,
        rows=rows,
        more=more,
        linked=linked,
        linked_opinions=linked_opinions,
        filters=filters,
        excerpt=_excerpt,
        label=item_labels(letter_).get(item.id, ""),
        limit=OPINION_PAGE,
    )


def _submitted_opinions(campaign: Campaign):
    """Opinions of submitted answers to the campaign's source round: the material the requests rest on."""
    return (
        select(Opinion)
        .join(Answer, Opinion.answer_id == Answer.id)
        .where(Answer.round_id == campaign.round_id, Answer.status == "submitted")
    )


@bp.route(
    "/<int:campaign_id>/letters/<int:letter_id>/items/<int:item_id>/opinions/<int:opinion_id>/unlink", methods=["POST"]
)
def unlink_opinion(campaign_id: int, letter_id: int, item_id: int, opinion_id: int):
    campaign = _campaign_or_404(campaign_id)
    letter_ = _letter_or_404(campaign, letter_id)
    item = _item_or_404(letter_, item_id)
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


# ---------------------------------------------------------------- addressees


def _letters_with_items(campaign: Campaign) -> list[Letter]:
    return db.session.scalars(
        select(Letter)
        .where(Letter.campaign_id == campaign.id)
        .options(selectinload(Letter.items).selectinload(RequestItem.children))
        .order_by(Letter.position, Letter.id)
    ).all()


def _addressee_input(form: AddresseeForm) -> letters.AddresseeInput:
    return letters.AddresseeInput(
        organisation=_typed(form.organisation),
        kind=form.kind.data,
        title=_typed(form.title),
        name=_typed(form.name),
        honorific=form.honorific.data,
        greeting=_typed(form.greeting),
        extra_paragraph=_typed(form.extra_paragraph),
    )


def _chosen_items(form: AddresseeForm, campaign_letters: list[Letter]) -> list[int] | None:
    """The ids of the chosen letter's items ticked on the page; None = every item. Errors go on the form."""
    if form.scope.data != "subset":
        return None
    letter_ = next((ltr for ltr in campaign_letters if ltr.id == form.letter_id.data), None)
    own = {item.id for item in letter_.items} if letter_ else set()
    chosen = [item_id for item_id in _posted_item_ids() if item_id in own]
    if not chosen:
        form.scope.errors = [*form.scope.errors, "一部の項目を渡すときは、渡す要請書の項目を一つ以上選んでください。"]
    return chosen


def _posted_item_ids() -> list[int]:
    """The request items ticked on the addressee page; a value that is no id is ignored like an unknown id."""
    return [item_id for item_id in map(parse_id, request.form.getlist("item")) if item_id is not None]


def _render_addressee(campaign, form, campaign_letters, addressee=None, selected=(), status=200):
    labels = {}
    for letter_ in campaign_letters:
        labels.update(item_labels(letter_))
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
    ), status


@bp.route("/<int:campaign_id>/addressees/new", methods=["GET", "POST"])
def new_addressee(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    campaign_letters = _letters_with_items(campaign)
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
                _show_errors(form, exc, "scope", {"items": "scope"})
            else:
                flash(_("要請先「%(name)s」を登録しました。", name=addressee.organisation), "success")
                return redirect(url_for("letters.detail", campaign_id=campaign.id) + "#addressees")
    elif request.method == "POST":
        selected = _posted_item_ids()
    return _render_addressee(campaign, form, campaign_letters, selected=selected)


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>", methods=["GET", "POST"])
def edit_addressee(campaign_id: int, addressee_id: int):
    campaign = _campaign_or_404(campaign_id)
    addressee = _addressee_or_404(campaign, addressee_id)
    campaign_letters = _letters_with_items(campaign)
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
            },
        )
        return _render_addressee(campaign, form, campaign_letters, addressee, [i.id for i in addressee.selected])
    form = AddresseeForm(letters=campaign_letters)
    selected = _posted_item_ids()
    if form.validate_on_submit():
        chosen = _chosen_items(form, campaign_letters)
        if not form.scope.errors:
            letter_ = next(ltr for ltr in campaign_letters if ltr.id == form.letter_id.data)
            try:
                letters.update_addressee(
                    addressee, letter_, _addressee_input(form), user=current_user, now=request_now()
                )
                letters.set_addressee_items(addressee, chosen, user=current_user, now=request_now())
            except DomainError as exc:
                _show_errors(form, exc, "scope", {"items": "scope"})
                addressee = _addressee_or_404(campaign, addressee_id)
                campaign_letters = _letters_with_items(campaign)
            else:
                flash(_("要請先「%(name)s」を保存しました。", name=addressee.organisation), "success")
                return redirect(url_for("letters.edit_addressee", campaign_id=campaign.id, addressee_id=addressee.id))
    return _render_addressee(campaign, form, campaign_letters, addressee, selected)


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>/move", methods=["POST"])
def move_addressee(campaign_id: int, addressee_id: int):
    campaign = _campaign_or_404(campaign_id)
    addressee = _addressee_or_404(campaign, addressee_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None:
        abort(400)
    letters.move_addressee(addressee, step, user=current_user, now=request_now())
    return redirect(url_for("letters.detail", campaign_id=campaign.id) + f"#addressee-{addressee.id}")


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>/remove", methods=["GET", "POST"])
def remove_addressee(campaign_id: int, addressee_id: int):
    campaign = _campaign_or_404(campaign_id)
    addressee = _addressee_or_404(campaign, addressee_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = addressee.organisation
        letters.remove_addressee(addressee, user=current_user, now=request_now())
        flash(_("要請先「%(name)s」を削除しました。", name=name), "success")
        return redirect(url_for("letters.detail", campaign_id=campaign.id) + "#addressees")
    return render_template("letters/confirm_remove_addressee.html", campaign=campaign, addressee=addressee, form=form)


# ---------------------------------------------------------------- preview and downloads


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>/preview")
def preview(campaign_id: int, addressee_id: int):
    campaign = _campaign_or_404(campaign_id)
    addressee = _addressee_or_404(campaign, addressee_id)
    letter_, removed = clean_letter(compose.build_letter(addressee))
    if removed:
        flash(
            _(
                "Word に入れられない文字（%(chars)s）は、要請書から取り除かれます。元の入力欄を確かめてください。",
                chars=describe_characters(removed),
            ),
            "warning",
        )
    return render_template(
        "letters/preview.html",
        campaign=campaign,
        addressee=addressee,
        doc=letter_,
        entries=outline(letter_),
        filename=compose.letter_filename(addressee),
    )


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>.docx")
def download_letter(campaign_id: int, addressee_id: int):
    campaign = _campaign_or_404(campaign_id)
    addressee = _addressee_or_404(campaign, addressee_id)
    data, _removed = compose.render_addressee(addressee)
    return _private(
        send_file(
            io.BytesIO(data),
            mimetype=DOCX_MIME,
            as_attachment=True,
            download_name=compose.letter_filename(addressee),
            max_age=0,
        )
    )


@bp.route("/<int:campaign_id>/letters.zip")
def download_zip(campaign_id: int):
    campaign = _campaign_or_404(campaign_id)
    if not campaign.addressees:
        flash(_("要請先がまだありません。要請先を登録してから一括ダウンロードしてください。"), "error")
        return redirect(url_for("letters.detail", campaign_id=campaign.id))
    spool = tempfile.TemporaryFile()  # closed by the response once sent; 50 letters never sit in memory
    try:
        compose.campaign_zip(campaign, spool)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    name = "".join(ch for ch in campaign.title if ch not in '\\/:*?"<>|').strip()[:80] or "letters"
    return _private(
        send_file(spool, mimetype="application/zip", as_attachment=True, download_name=f"{name}_要請書.zip", max_age=0)
    )


def _private(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- letter template


def _current_template_row() -> LetterTemplate | None:
    from sqlalchemy.orm import defer

    return db.session.scalars(
        select(LetterTemplate)
        .options(defer(LetterTemplate.data))
        .order_by(LetterTemplate.uploaded_at.desc(), LetterTemplate.id.desc())
        .limit(1)
    ).first()


@bp.route("/templates", methods=["GET", "POST"])
def templates():
    form = TemplateForm()
    if form.validate_on_submit():
        file = form.file.data
        data = file.read(TEMPLATE_MAX_BYTES + 1) if file and file.filename else b""
        if not file or not file.filename:
            form.file.errors = ["ファイルを選んでください。"]
        elif len(data) > TEMPLATE_MAX_BYTES:
            form.file.errors = ["雛形のファイルは 5MB までにしてください。"]
        else:
            try:
                template = letters.upload_template(file.filename, data, current_user, request_now())
            except DomainError as exc:  # TemplateRejected: every reason, the current template stays in use
                form.file.errors = list(getattr(exc, "messages", None) or [refused(exc)])
            else:
                flash(
                    _(
                        "雛形「%(filename)s」を登録しました。これからの要請書はこの雛形で作成します。",
                        filename=template.filename,
                    ),
                    "success",
                )
                return redirect(url_for("letters.templates"))
    return render_template("letters/templates.html", form=form, current=_current_template_row(), limit="5MB")


@bp.route("/templates/current.docx")
def download_template():
    current = _current_template_row()
    if current is None:
        data, name = default_template_path().read_bytes(), "要請書_既定の雛形.docx"
    else:
        data, name = db.session.get(LetterTemplate, current.id).data, current.filename
    return _private(send_file(io.BytesIO(data), mimetype=DOCX_MIME, as_attachment=True, download_name=name, max_age=0))
