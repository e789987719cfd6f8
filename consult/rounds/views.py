"""Headquarters' pages for running a round: the draft, its schedule and targets, the states, and who answered."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import defer
from sqlalchemy.orm.exc import StaleDataError

from consult.core import clock
from consult.core.access import require_hq
from consult.core.clock import request_now
from consult.core.downloads import private_file
from consult.core.errors import ConflictError, DomainError, TransitionError
from consult.core.forms import move_step
from consult.core.transaction import refused
from consult.extensions import db
from consult.orgs.models import KIND_LABELS, Organization
from consult.rounds import importing, queries
from consult.rounds import operations as rounds
from consult.rounds.forms import (
    AttachmentForm,
    ConfirmImportForm,
    ItemForm,
    MilestoneForm,
    PasteForm,
    RoundForm,
    TargetsForm,
    UploadForm,
)
from consult.rounds.models import Attachment, Milestone, Round, RoundItem, RoundTarget

bp = Blueprint("rounds", __name__, url_prefix="/rounds")

# Pages open to anyone who may view the round, not only headquarters.
_OPEN_TO_VIEWERS = {"rounds.download"}


# The pages a prefecture's policy officer uses to run its own sub-round (Round.can_manage), the same as
# headquarters' for its rounds; the items of a sub-round are headquarters' and are not edited there.
_OPEN_TO_SUBROUND_RUNNERS = {
    "rounds.detail",
    "rounds.edit",
    "rounds.open_",
    "rounds.close",
    "rounds.attachments",
    "rounds.delete_attachment",
    "rounds.milestones",
    "rounds.delete_milestone",
    "rounds.targets",
}


# Every round page is headquarters' work; a branch only downloads the draft files, and a prefecture runs its
# own sub-rounds.
require_hq(bp, open_to=frozenset(_OPEN_TO_VIEWERS | _OPEN_TO_SUBROUND_RUNNERS))


@bp.before_request
def _subround_runner_only():
    if current_user.is_hq or request.endpoint in _OPEN_TO_VIEWERS:
        return None
    round_ = db.session.get(Round, (request.view_args or {}).get("round_id") or 0)
    if round_ is None or not round_.can_manage(current_user):
        abort(403)
    return None


def _round_or_404(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _item_or_404(round_: Round, item_id: int) -> RoundItem:
    """An item of this round still in the draft; another round's item is as unknown as a missing one."""
    item = db.session.get(RoundItem, item_id)
    if item is None or item.round_id != round_.id or item.removed_at is not None:
        abort(404)
    return item


def _jst_naive(value):
    local = clock.to_jst(value)
    return local.replace(tzinfo=None) if local else None


# ---------------------------------------------------------------- list, detail, create, edit


@bp.route("/")
def index():
    listed = db.session.scalars(select(Round).order_by(Round.deadline.desc(), Round.id.desc())).all()
    return render_template(
        "rounds/index.html",
        rounds=listed,
        targets=queries.target_counts(),
        submitted=queries.submitted_counts([r.id for r in listed]),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = RoundForm()
    if form.validate_on_submit():
        try:
            round_ = rounds.create_round(
                form.title.data.strip(),
                form.background.data,
                form.opens_at.utc(),
                form.deadline.utc(),
                current_user,
                request_now(),
            )
        except DomainError as exc:
            form.deadline.errors = [*form.deadline.errors, refused(exc)]
        else:
            flash(_("討議を作成しました。続けて項目と対象組織を登録してください。"), "success")
            return redirect(url_for("rounds.detail", round_id=round_.id))
    return render_template("rounds/round_form.html", form=form, round=None, stored=None)


@bp.route("/<int:round_id>")
def detail(round_id: int):
    round_ = _round_or_404(round_id)
    attachments = db.session.scalars(
        select(Attachment)
        .options(defer(Attachment.data))
        .where(Attachment.round_id == round_.id)
        .order_by(Attachment.id)
    ).all()
    kinds = db.session.execute(
        select(Organization.kind, func.count())
        .join(RoundTarget, RoundTarget.organization_id == Organization.id)
        .where(RoundTarget.round_id == round_.id)
        .group_by(Organization.kind)
    ).all()
    return render_template(
        "rounds/detail.html",
        round=round_,
        attachments=attachments,
        progress=queries.progress(round_),
        target_kinds=[(KIND_LABELS.get(kind, kind), count) for kind, count in kinds],
    )


@bp.route("/<int:round_id>/edit", methods=["GET", "POST"])
def edit(round_id: int):
    round_ = _round_or_404(round_id)
    if request.method == "GET":
        form = RoundForm(
            data={
                "title": round_.title,
                "background": round_.background,
                "opens_at": _jst_naive(round_.opens_at),
                "deadline": _jst_naive(round_.deadline),
                "version": str(round_.version),
            }
        )
        return render_template("rounds/round_form.html", form=form, round=round_, stored=None)
    form = RoundForm()
    stored = None
    if form.validate_on_submit():
        try:
            rounds.update_round(
                round_,
                form.expected_version(),
                title=form.title.data.strip(),
                background=form.background.data,
                opens_at=form.opens_at.utc(),
                deadline=form.deadline.utc(),
                user=current_user,
                now=request_now(),
                past_deadline_confirmed=form.confirm_past_deadline.data,
            )
        except rounds.PastDeadlineError as exc:  # told next to the box that confirms it; the typed text stays
            form.confirm_past_deadline.errors = [refused(exc)]
        except ConflictError as exc:
            flash(refused(exc), "error")
            round_ = _round_or_404(round_id)
            stored = round_
            # The page now shows what is stored; saving again after comparing overwrites it knowingly.
            form.version.data = str(round_.version)
        except DomainError as exc:
            form.deadline.errors = [*form.deadline.errors, refused(exc)]
        else:
            flash(_("討議の内容を保存しました。"), "success")
            return redirect(url_for("rounds.detail", round_id=round_.id))
    return render_template("rounds/round_form.html", form=form, round=round_, stored=stored)


# ---------------------------------------------------------------- transitions


@bp.route("/<int:round_id>/open", methods=["POST"])
def open_(round_id: int):
    return _transition(round_id, rounds.open_round, _("受付を開始しました。対象組織は回答を入力できます。"))


@bp.route("/<int:round_id>/close", methods=["POST"])
def close(round_id: int):
    message = _("受付を締め切りました。締切の延長を認めた組織は、延長後の締切まで回答できます。")
    return _transition(round_id, rounds.close_round, message)


def _transition(round_id: int, operation, success: str):
    """Run one state change; a refusal or a concurrent edit is told on the round's page."""
    round_ = _round_or_404(round_id)
    try:
        operation(round_, request_now(), user=current_user)
    except TransitionError as exc:
        flash(refused(exc), "error")
    except StaleDataError:
        db.session.rollback()
        flash(_("他の人が同時にこの討議を更新しました。画面を確認してから、もう一度操作してください。"), "error")
    else:
        flash(success, "success")
    return redirect(url_for("rounds.detail", round_id=round_id))


# ---------------------------------------------------------------- items


def _render_items(round_: Round, form: ItemForm):
    counts = queries.item_opinion_counts(round_)
    withdrawn = db.session.scalars(
        select(RoundItem)
        .where(RoundItem.round_id == round_.id, RoundItem.removed_at.is_not(None))
        .order_by(RoundItem.position, RoundItem.id)
    ).all()
    return render_template("rounds/items.html", round=round_, form=form, counts=counts, withdrawn=withdrawn)


@bp.route("/<int:round_id>/items", methods=["GET", "POST"])
def items(round_id: int):
    round_ = _round_or_404(round_id)
    form = ItemForm()
    if form.validate_on_submit():
        draft = rounds.ItemDraft(form.number.data.strip(), form.heading.data.strip(), form.body.data)
        rounds.add_items(round_, [draft], request_now(), user=current_user)
        flash(
            _(
                "項目「%(number)s %(heading)s」を追加しました。",
                number=form.number.data.strip(),
                heading=form.heading.data.strip(),
            ),
            "success",
        )
        return redirect(url_for("rounds.items", round_id=round_.id))
    if request.method == "GET":
        form.number.data = str(len(round_.items) + 1)
    return _render_items(round_, form)


@bp.route("/<int:round_id>/items/<int:item_id>/edit", methods=["GET", "POST"])
def edit_item(round_id: int, item_id: int):
    round_ = _round_or_404(round_id)
    item = _item_or_404(round_, item_id)
    opinions = queries.item_opinion_counts(round_).get(item.id, 0)
    form = ItemForm(obj=item)
    if form.validate_on_submit():
        draft = rounds.ItemDraft(form.number.data.strip(), form.heading.data.strip(), form.body.data)
        changed = rounds.update_item(item, draft, request_now(), user=current_user)
        if not changed:
            flash(_("変更はありませんでした。"), "info")
        elif opinions:
            flash(
                _(
                    "項目を更新しました。新しい版（第%(revision)s版）になりました。既存の意見 %(opinions)s 件は"
                    "元の文言に対するものとして残ります。",
                    revision=item.revision,
                    opinions=opinions,
                ),
                "success",
            )
        else:
            flash(_("項目を更新しました（第%(revision)s版）。", revision=item.revision), "success")
        return redirect(url_for("rounds.items", round_id=round_.id))
    return render_template("rounds/item_form.html", round=round_, item=item, form=form, opinions=opinions)


@bp.route("/<int:round_id>/items/<int:item_id>/move", methods=["POST"])
def move_item(round_id: int, item_id: int):
    round_ = _round_or_404(round_id)
    item = _item_or_404(round_, item_id)
    step = move_step(request.form)
    rounds.move_item(round_, item, step, user=current_user, now=request_now())
    return redirect(url_for("rounds.items", round_id=round_.id) + f"#item-{item.id}")


@bp.route("/<int:round_id>/items/<int:item_id>/remove", methods=["POST"])
def remove_item(round_id: int, item_id: int):
    round_ = _round_or_404(round_id)
    item = _item_or_404(round_, item_id)
    label = f"{item.number} {item.heading}"
    outcome = rounds.remove_item(item, request_now(), user=current_user)
    if outcome == "withdrawn":
        flash(
            _(
                "項目「%(label)s」を討議案から取り下げました。この項目への意見があるため、項目と意見は記録として残ります。",
                label=label,
            ),
            "success",
        )
    else:
        flash(_("項目「%(label)s」を削除しました。", label=label), "success")
    return redirect(url_for("rounds.items", round_id=round_.id))


@bp.route("/<int:round_id>/items/import", methods=["GET", "POST"])
def import_items(round_id: int):
    round_ = _round_or_404(round_id)
    paste, upload, confirm = PasteForm(), UploadForm(), ConfirmImportForm()
    drafts, errors, source = [], [], None
    action = request.form.get("action", "")
    if request.method == "POST" and action == "preview_text":
        if paste.validate_on_submit():
            drafts, errors = importing.parse_numbered_text(paste.text.data)
            source = _("貼り付けた文章")
    elif request.method == "POST" and action == "preview_file":
        file = upload.file.data
        if not file or not file.filename:
            upload.file.errors = [_("ファイルを選んでください。")]
        else:
            drafts, errors = importing.parse_table_file(file.filename, file.read())
            source = _("ファイル「%(file_filename)s」", file_filename=file.filename)
            if errors:
                upload.file.errors = [
                    _(
                        "ファイルに誤りがあるため、何も取り込んでいません。下の一覧を直してから、もう一度選んでください。"
                    )
                ]
    elif request.method == "POST" and action == "confirm":
        drafts, errors = importing.drafts_from_json(confirm.rows.data)
        if not errors:
            rounds.add_items(round_, drafts, request_now(), user=current_user)
            flash(_("%(count)s件の項目を取り込みました。", count=len(drafts)), "success")
            return redirect(url_for("rounds.items", round_id=round_.id))
    elif request.method == "POST":
        abort(400)
    if drafts:
        confirm.rows.data = importing.drafts_to_json(drafts)
    return render_template(
        "rounds/import.html",
        round=round_,
        paste=paste,
        upload=upload,
        confirm=confirm,
        drafts=drafts,
        errors=errors,
        source=source,
        existing=len(round_.items),
    )


# ---------------------------------------------------------------- attachments


@bp.route("/<int:round_id>/attachments", methods=["GET", "POST"])
def attachments(round_id: int):
    round_ = _round_or_404(round_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        file = form.file.data
        if not file or not file.filename:
            form.file.errors = [_("ファイルを選んでください。")]
        else:
            try:
                attachment = rounds.add_attachment(
                    round_,
                    file.filename,
                    file.read(),
                    current_user,
                    request_now(),
                    current_app.config["MAX_ATTACHMENT_BYTES"],
                )
            except DomainError as exc:
                form.file.errors = [refused(exc)]
            else:
                flash(_("「%(filename)s」を添付しました。", filename=attachment.filename), "success")
                return redirect(url_for("rounds.attachments", round_id=round_.id))
    files = db.session.scalars(
        select(Attachment)
        .options(defer(Attachment.data))
        .where(Attachment.round_id == round_.id)
        .order_by(Attachment.id)
    ).all()
    limit = rounds.human_size(current_app.config["MAX_ATTACHMENT_BYTES"])
    return render_template("rounds/attachments.html", round=round_, form=form, files=files, limit=limit)


@bp.route("/<int:round_id>/attachments/<int:attachment_id>/delete", methods=["POST"])
def delete_attachment(round_id: int, attachment_id: int):
    round_ = _round_or_404(round_id)
    attachment = db.session.get(Attachment, attachment_id, options=[defer(Attachment.data)])
    if attachment is None or attachment.round_id != round_.id:
        abort(404)
    name = attachment.filename
    rounds.remove_attachment(attachment, user=current_user, now=request_now())
    flash(_("「%(filename)s」を削除しました。", filename=name), "success")
    return redirect(url_for("rounds.attachments", round_id=round_.id))


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    attachment = db.get_or_404(Attachment, attachment_id)
    if not attachment.round.can_view(current_user):
        abort(403)
    return private_file(io.BytesIO(attachment.data), attachment.content_type, attachment.filename)


# ---------------------------------------------------------------- schedule and targets


@bp.route("/<int:round_id>/milestones", methods=["GET", "POST"])
def milestones(round_id: int):
    round_ = _round_or_404(round_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        rounds.add_milestone(
            round_, form.date.data, form.meeting.data.strip(), form.what.data, user=current_user, now=request_now()
        )
        flash(_("日程を追加しました。"), "success")
        return redirect(url_for("rounds.milestones", round_id=round_.id))
    return render_template("rounds/milestones.html", round=round_, form=form)


@bp.route("/<int:round_id>/milestones/<int:milestone_id>/delete", methods=["POST"])
def delete_milestone(round_id: int, milestone_id: int):
    round_ = _round_or_404(round_id)
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.round_id != round_.id:
        abort(404)
    rounds.remove_milestone(milestone, user=current_user, now=request_now())
    flash(_("日程を削除しました。"), "success")
    return redirect(url_for("rounds.milestones", round_id=round_.id))


@bp.route("/<int:round_id>/targets", methods=["GET", "POST"])
def targets(round_id: int):
    round_ = _round_or_404(round_id)
    stmt = select(Organization).order_by(Organization.position, Organization.id)
    if round_.is_subround:  # a prefecture's discussion is put to organisations beneath it, and it sees only those
        stmt = stmt.where(Organization.id.in_(rounds.descendant_ids(round_.organization_id)))
    orgs = db.session.scalars(stmt).all()
    by_id = {org.id: org for org in orgs}
    prefecture_ids = {org.id for org in orgs if org.kind == "prefecture"}
    form = TargetsForm()
    if form.validate_on_submit():
        kept = rounds.set_targets(
            round_, set(form.org.data), all_prefectures=form.all_prefectures.data, user=current_user, now=request_now()
        )
        flash(_("対象組織を%(count)s組織にしました。", count=len(round_.target_ids())), "success")
        if kept:
            names = "、".join(by_id[org_id].name for org_id in sorted(kept))
            flash(_("既に回答のある組織は対象から外せないため、残しました：%(names)s", names=names), "warning")
        return redirect(url_for("rounds.detail", round_id=round_.id))
    selected = round_.target_ids()
    if request.method == "GET":
        form.all_prefectures.data = bool(prefecture_ids) and prefecture_ids <= selected
    children: dict[int | None, list[Organization]] = {}
    for org in orgs:
        children.setdefault(org.parent_id, []).append(org)
    return render_template(
        "rounds/targets.html",
        round=round_,
        form=form,
        roots=children.get(round_.organization_id if round_.is_subround else None, []),
        children=children,
        selected=selected,
        prefecture_count=len(prefecture_ids),
    )
