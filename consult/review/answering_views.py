"""Screens of bulk answering, on the review blueprint (views.register_answering): the bulk step under a list of
opinions, the staff member of one row, the round's 定型文, and the published answer table's downloads."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from consult.core.clock import format_jst, request_now, to_jst
from consult.core.convert import parse_id
from consult.core.errors import ConflictError, DomainError
from consult.core.forms import options
from consult.core.transaction import refused
from consult.extensions import db
from consult.review import answering, exports, queries
from consult.review.answering_forms import BulkAnswerForm, bulk_form, template_choices, template_form
from consult.review.forms import NOBODY
from consult.rounds.models import Round, RoundItem

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
REFUSED_SHOWN = 20  # refused ids named in the message; the API lists all of them


@dataclass
class Aids:
    """What the answer forms of a list offer: the round's 定型文 and the staff to assign to."""

    templates: list
    staff: list
    bulk: BulkAnswerForm | None = None
    scope_total: int = 0
    scope_fits: bool = True

    @property
    def staff_names(self) -> dict[int, str]:
        return {u.id: u.name for u in self.staff}


def aids_for(round_: Round) -> Aids:
    return Aids(templates=answering.round_templates(round_.id), staff=answering.hq_staff())


def list_aids(round_: Round, item: RoundItem | None, filters, bulk: BulkAnswerForm | None = None) -> Aids:
    """The aids plus the bulk form, with every opinion of the filter (id.version) for 「すべて選ぶ」."""
    aids = aids_for(round_)
    total, scope = queries.filter_scope(round_.id, item.id if item else None, filters, answering.BULK_LIMIT)
    aids.scope_total, aids.scope_fits = total, total <= answering.BULK_LIMIT
    if bulk is None:
        bulk = bulk_form(aids.templates, aids.staff, scope=scope)
    else:
        bulk.scope.data = scope  # the versions as they are now: ticking 「すべて」 again is a fresh read
    aids.bulk = bulk
    return aids


def fill_row_form(form, aids: Aids) -> None:
    """Give one row's form the 定型文 and staff choices (before it is validated)."""
    form.template.choices = template_choices(aids.templates)
    form.assignee.choices = options(
        [("", _("（変えない）")), (NOBODY, _("担当なしにする")), *((str(u.id), u.name) for u in aids.staff)]
    )
    form.template_ids = {str(t.id) for t in aids.templates}
    form.staff_ids = {str(u.id) for u in aids.staff}


def answer_of(round_: Round, form) -> tuple[str | None, str]:
    """(対応, 本部の考え方) typed; a chosen 定型文 fills what was left empty (the page's script fills it as typed)."""
    disposition, hq_view = form.disposition.data or None, form.hq_view.data or ""
    template_id = parse_id(form.template.data or "")
    template = answering.template_of_round(round_.id, template_id) if template_id else None
    if template is not None:
        hq_view = hq_view or template.body
        disposition = disposition or template.disposition
    return disposition, hq_view


def save_row_assignee(round_: Round, opinion, form, now) -> None:
    """One row's 担当者, when the select was changed from 「変えない」."""
    value = form.assignee.data or ""
    if value:
        answering.assign_opinions(
            round_, [opinion.id], None if value == NOBODY else parse_id(value), user=current_user, now=now
        )


def _list_url(round_: Round, item_value: str, filters) -> str:
    item_id = parse_id(item_value)
    if item_id is None:
        return url_for("review.proposals", round_id=round_.id, **filters.params())
    return url_for("review.item", round_id=round_.id, item_id=item_id, **filters.params())


def _refused_message(result: answering.BulkResult) -> str:
    shown = result.refused_labels()[:REFUSED_SHOWN]
    listed = "、".join(f"#{i}（{reason}）" for i, reason in shown)
    more = len(result.refused) - len(shown)
    return _(
        "%(count)s件は記入しませんでした：%(listed)s%(more)s。最新の内容を確かめてから、もう一度選んでください。",
        count=len(result.refused),
        listed=listed,
        more=_("ほか%(more)s件", more=more) if more > 0 else "",
    )


def register(bp, render_list) -> None:
    """Add these screens to the review blueprint; render_list(round, item, filters, bulk=…) shows a list again."""

    def _list_target(round_: Round):
        """The list the bulk form was posted from: an item of this round, or the proposals (item=proposals)."""
        value = request.form.get("item", "")
        item_id = parse_id(value)
        if item_id is None:
            return None, "proposals"
        item = db.session.get(RoundItem, item_id)
        if item is None or item.round_id != round_.id:
            abort(404)
        return item, str(item.id)

    @bp.route("/<int:round_id>/aggregate/bulk", methods=["POST"])
    def bulk_answer(round_id: int):
        """One 対応 and 本部の考え方 (or one 担当者) for every ticked opinion, or every opinion of the filter."""
        round_ = db.get_or_404(Round, round_id)
        item, item_value = _list_target(round_)
        filters = queries.Filters.from_args(request.form, current_user.id)
        aids = aids_for(round_)
        form = bulk_form(aids.templates, aids.staff, formdata=request.form)
        assigning = request.form.get("action") == "assign"
        if not form.validate():
            return render_list(round_, item, filters, bulk=form)
        chosen = form.chosen()
        if not chosen:
            form.pick.errors = [*form.pick.errors, _("意見を1件以上選んでください。")]
            return render_list(round_, item, filters, bulk=form)
        now = request_now()
        try:
            if assigning:
                if not form.assignee.data:
                    form.assignee.errors = [_("担当者を選んでください。")]
                    return render_list(round_, item, filters, bulk=form)
                result = answering.assign_opinions(round_, list(chosen), form.assignee_id(), user=current_user, now=now)
                flash(_("%(count)s件の担当者を設定しました。", count=len(result.updated)), "success")
            else:
                disposition, hq_view = answer_of(round_, form)
                result = answering.bulk_answer(
                    round_, list(chosen), disposition, hq_view, user=current_user, now=now, seen=chosen
                )
                flash(_("%(count)s件に対応と本部の考え方を記入しました。", count=len(result.updated)), "success")
        except DomainError as exc:
            field = form.assignee if assigning else form.hq_view
            field.errors = [*field.errors, refused(exc)]
            return render_list(round_, item, filters, bulk=form)
        if result.refused:
            flash(_refused_message(result), "error")
        return redirect(_list_url(round_, item_value, filters))

    # ------------------------------------------------------------ 定型文

    def _templates_page(round_: Round, new_form=None, forms=None, status: int = 200):
        templates = answering.round_templates(round_.id)
        forms = forms or {}
        for template in templates:
            forms.setdefault(template.id, template_form(template, prefix=f"t-{template.id}"))
        return render_template(
            "review/answer_templates.html",
            round=round_,
            templates=templates,
            forms=forms,
            new_form=new_form or template_form(),
        ), status

    def _template_or_404(round_: Round, template_id: int):
        template = answering.template_of_round(round_.id, template_id)
        if template is None:
            abort(404)
        return template

    def published_download(round_id: int, fmt: str):
        """The published answer table as a results notice, for a branch to file and print (its own marked)."""
        round_ = db.get_or_404(Round, round_id)
        if not round_.can_view(current_user):
            abort(403)
        if not round_.may_read_answer_table(current_user):
            abort(404)  # not published yet: to a branch it does not exist
        own_org = None if current_user.is_hq else current_user.organization_id
        printed_on = format_jst(to_jst(request_now()).date(), lang="ja")
        engine, title = db.engine, round_.title

        def chunks():
            """Runs while the body is sent, with a session of its own (as the other exports)."""
            with Session(engine) as session:
                yield from exports.record_chunks(fmt, round_id, title, own_org, session=session, printed_on=printed_on)

        response = Response(chunks(), mimetype=MIMETYPES[fmt])
        name = f"意見と本部の考え方_{round_.title}.{fmt}"
        response.headers["Content-Disposition"] = (
            f"attachment; filename=\"published_{round_.id}.{fmt}\"; filename*=UTF-8''{quote(name)}"
        )
        return response

    for kind in ("docx", "xlsx"):  # review.published_docx, review.published_xlsx

        def view(round_id: int, fmt=kind):
            return published_download(round_id, fmt)

        view.__doc__ = f"The published answer table as {kind.upper()}."
        bp.add_url_rule(f"/<int:round_id>/published.{kind}", f"published_{kind}", view)

    @bp.route("/<int:round_id>/aggregate/templates", methods=["GET", "POST"])
    def answer_templates(round_id: int):
        """The round's 定型文: the list, each one's edit form, and a form for a new one."""
        round_ = db.get_or_404(Round, round_id)
        if request.method == "GET":
            return _templates_page(round_)
        form = template_form(formdata=request.form)
        if not form.validate():
            return _templates_page(round_, new_form=form)
        try:
            answering.create_template(
                round_,
                form.name.data,
                form.disposition.data,
                form.body.data or "",
                user=current_user,
                now=request_now(),
            )
        except DomainError as exc:
            form.name.errors = [*form.name.errors, refused(exc)]
            return _templates_page(round_, new_form=form)
        flash(_("定型文「%(name)s」を作成しました。", name=form.name.data.strip()), "success")
        return redirect(url_for("review.answer_templates", round_id=round_.id))

    @bp.route("/<int:round_id>/aggregate/templates/<int:template_id>", methods=["POST"])
    def edit_answer_template(round_id: int, template_id: int):
        round_ = db.get_or_404(Round, round_id)
        template = _template_or_404(round_, template_id)
        form = template_form(formdata=request.form, prefix=f"t-{template.id}")
        if not form.validate():
            return _templates_page(round_, forms={template.id: form})
        try:
            answering.update_template(
                template,
                form.name.data,
                form.disposition.data,
                form.body.data or "",
                user=current_user,
                now=request_now(),
                expected_version=form.expected_version(),
            )
        except ConflictError as exc:
            form.name.errors = [*form.name.errors, refused(exc)]
            form.version.data = str(_template_or_404(round_, template_id).version)
            return _templates_page(round_, forms={template_id: form})
        except DomainError as exc:
            form.name.errors = [*form.name.errors, refused(exc)]
            return _templates_page(round_, forms={template_id: form})
        flash(_("定型文「%(name)s」を保存しました。", name=template.name), "success")
        return redirect(url_for("review.answer_templates", round_id=round_.id))

    @bp.route("/<int:round_id>/aggregate/templates/<int:template_id>/delete", methods=["POST"])
    def delete_answer_template(round_id: int, template_id: int):
        round_ = db.get_or_404(Round, round_id)
        template = _template_or_404(round_, template_id)
        name = template.name
        answering.delete_template(template, user=current_user, now=request_now())
        flash(_("定型文「%(name)s」を削除しました。", name=name), "success")
        return redirect(url_for("review.answer_templates", round_id=round_.id))
