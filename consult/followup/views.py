"""The follow-up pages: a campaign's dashboard, visits, the answer to each item, carry-over, a demand's history,
the reports, and the outcome page the branches read once headquarters publishes it."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError

from consult.core import clock
from consult.core.access import require_hq
from consult.core.clock import request_now
from consult.core.errors import ConflictError, DomainError
from consult.core.forms import VersionedForm, options
from consult.core.transaction import refused
from consult.extensions import db
from consult.followup import operations as followup
from consult.followup import queries, report
from consult.followup.forms import (
    AnswerForm,
    CarryForm,
    IndicatorForm,
    OrgIndicatorForm,
    ScaleForm,
    VisitFileForm,
    VisitForm,
)
from consult.followup.models import Indicator, Visit, VisitAttachment
from consult.letters import compose
from consult.letters.models import Campaign, RequestItem
from consult.letters.operations import STALE_MESSAGE
from consult.letters.views.common import addressee_or_404, campaign_or_404
from consult.orgs.models import Organization

bp = Blueprint("followup", __name__, url_prefix="/followup")
require_hq(bp, open_to=frozenset({"followup.outcome"}))


def _visit(campaign: Campaign, visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None or visit.campaign_id != campaign.id:
        abort(404)
    return visit


def _item(campaign: Campaign, item_id: int) -> RequestItem:
    item = db.session.get(RequestItem, item_id)
    if item is None or item.letter.campaign_id != campaign.id:
        abort(404)
    return item


def _show(form, exc: DomainError, fallback: str) -> None:
    message = refused(exc)
    errors = getattr(exc, "errors", None) or {fallback: message}
    for name, text in errors.items():
        target = form._fields.get(name) or form[fallback]
        target.errors = [*target.errors, text]


def _carry_form(plan) -> CarryForm:
    form = CarryForm(formdata=None)
    form.grades.choices = options((g, plan.grade_label(g)) for g in plan.grades())
    form.grades.data = list(plan.unresolved())
    return form


@bp.route("/campaigns/<int:campaign_id>")
def dashboard(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    return _render_dashboard(campaign)


def _render_dashboard(campaign, scale_form=None, carry_form=None, status=200, indicator_form=None):
    now = request_now()
    board = queries.grid(campaign, now)
    plan = board.plan
    if scale_form is None:
        scale_form = ScaleForm(
            formdata=None, data={"scale": plan.scale, "custom_labels": plan.custom_labels, "version": str(plan.version)}
        )
    return render_template(
        "followup/dashboard.html",
        campaign=board.campaign,
        board=board,
        plan=plan,
        visits=queries.visits_of(campaign),
        scale_form=scale_form,
        carry_form=carry_form or _carry_form(plan),
        date_text=compose.date_text(campaign),
        indicators=[
            (i, queries.indicator_rows(i), Markup(queries.indicator_chart(i))) for i in queries.indicators_of(campaign)
        ],
        indicator_form=indicator_form or IndicatorForm(formdata=None),
    ), status


@bp.route("/campaigns/<int:campaign_id>/settings", methods=["POST"])
def settings(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    form = ScaleForm()
    if form.validate_on_submit():
        try:
            followup.set_scale(
                campaign,
                form.scale.data,
                form.custom_labels.data or "",
                form.expected_version(),
                user=current_user,
                now=request_now(),
            )
        except (ConflictError, StaleDataError):
            db.session.rollback()
            form.version.errors = [str(STALE_MESSAGE)]
        except DomainError as exc:
            _show(form, exc, "scale")
        else:
            flash(_("評価の区分を保存しました。"), "success")
            return redirect(url_for("followup.dashboard", campaign_id=campaign.id))
    return _render_dashboard(campaign, scale_form=form, status=422)


@bp.route("/campaigns/<int:campaign_id>/publish", methods=["POST"])
def publish(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    published = request.form.get("publish") == "1"
    followup.publish(campaign, published, user=current_user, now=request_now())
    flash(_("結果を県本部・単組に公開しました。") if published else _("結果の公開をやめました。"), "success")
    return redirect(url_for("followup.dashboard", campaign_id=campaign.id))


# ---------------------------------------------------------------- visits


def _visit_form(campaign: Campaign, visit: Visit | None = None, formdata=True) -> VisitForm:
    kwargs = {}
    if visit is not None and formdata is None:
        kwargs["data"] = {
            "addressee_id": visit.addressee_id,
            "starts_at": clock.to_jst(visit.starts_at).replace(tzinfo=None),
            "place": visit.place,
            "status": visit.status,
            "our_side": visit.our_side,
            "their_side": visit.their_side,
            "answer_expected_on": visit.answer_expected_on,
            "notes": visit.notes,
            "version": str(visit.version),
        }
    form = VisitForm(formdata=None, **kwargs) if formdata is None else VisitForm()
    form.addressee_id.choices = [(a.id, " ".join(filter(None, (a.organisation, a.title)))) for a in campaign.addressees]
    return form


def _visit_input(form: VisitForm) -> followup.VisitInput:
    return followup.VisitInput(
        addressee_id=form.addressee_id.data,
        starts_at=form.starts_at.utc(),
        place=(form.place.data or "").strip(),
        status=form.status.data,
        our_side=form.our_side.data or "",
        their_side=form.their_side.data or "",
        notes=form.notes.data or "",
        answer_expected_on=form.answer_expected_on.data,
    )


@bp.route("/campaigns/<int:campaign_id>/visits/new", methods=["GET", "POST"])
def new_visit(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    form = _visit_form(campaign, formdata=None if request.method == "GET" else True)
    if request.method == "GET" and request.args.get("addressee_id", "").isdigit():
        form.addressee_id.data = int(request.args["addressee_id"])
    if form.validate_on_submit():
        try:
            visit = followup.add_visit(campaign, _visit_input(form), user=current_user, now=request_now())
        except DomainError as exc:
            _show(form, exc, "addressee_id")
        else:
            flash(_("要請行動を登録しました。"), "success")
            return redirect(url_for("followup.visit", campaign_id=campaign.id, visit_id=visit.id))
    status = 422 if form.errors else 200
    return render_template("followup/visit.html", campaign=campaign, form=form, visit=None, file_form=None), status


@bp.route("/campaigns/<int:campaign_id>/visits/<int:visit_id>", methods=["GET", "POST"])
def visit(campaign_id: int, visit_id: int):
    campaign = campaign_or_404(campaign_id)
    visit = _visit(campaign, visit_id)
    form = _visit_form(campaign, visit, formdata=None if request.method == "GET" else True)
    if form.validate_on_submit():
        try:
            followup.update_visit(
                visit, form.expected_version(), _visit_input(form), user=current_user, now=request_now()
            )
        except (ConflictError, StaleDataError):
            db.session.rollback()
            form.version.errors = [str(STALE_MESSAGE)]
            flash(str(STALE_MESSAGE), "error")
            visit = _visit(campaign, visit_id)
            form.version.data = str(visit.version)
        except DomainError as exc:
            _show(form, exc, "addressee_id")
        else:
            flash(_("要請行動を保存しました。"), "success")
            return redirect(url_for("followup.visit", campaign_id=campaign.id, visit_id=visit.id))
    status = 422 if form.errors else 200
    return render_template(
        "followup/visit.html", campaign=campaign, form=form, visit=visit, file_form=VisitFileForm(formdata=None)
    ), status


@bp.route("/campaigns/<int:campaign_id>/visits/<int:visit_id>/files", methods=["POST"])
def add_file(campaign_id: int, visit_id: int):
    campaign = campaign_or_404(campaign_id)
    visit = _visit(campaign, visit_id)
    file_form = VisitFileForm()
    upload = request.files.get("file")
    if file_form.validate_on_submit() and upload is not None and upload.filename:
        try:
            followup.add_visit_file(visit, upload.filename, upload.read(), user=current_user, now=request_now())
        except DomainError as exc:
            file_form.file.errors = [refused(exc)]
        else:
            flash(_("回答文書を登録しました。"), "success")
            return redirect(url_for("followup.visit", campaign_id=campaign.id, visit_id=visit.id))
    elif not file_form.errors:
        file_form.file.errors = [_("ファイルを選んでください。")]
    form = _visit_form(campaign, visit, formdata=None)
    return render_template("followup/visit.html", campaign=campaign, form=form, visit=visit, file_form=file_form), 422


@bp.route("/campaigns/<int:campaign_id>/visits/<int:visit_id>/delete", methods=["POST"])
def delete_visit(campaign_id: int, visit_id: int):
    campaign = campaign_or_404(campaign_id)
    visit = _visit(campaign, visit_id)
    form = VersionedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        followup.delete_visit(visit, form.expected_version(), user=current_user, now=request_now())
    except (ConflictError, StaleDataError):
        db.session.rollback()
        flash(str(STALE_MESSAGE), "error")
        return redirect(url_for("followup.visit", campaign_id=campaign.id, visit_id=visit_id))
    flash(_("要請行動を削除しました。"), "success")
    return redirect(url_for("followup.dashboard", campaign_id=campaign.id) + "#visits")


def _attachment(campaign: Campaign, file_id: int) -> VisitAttachment:
    attachment = db.session.get(VisitAttachment, file_id)
    if attachment is None or attachment.visit.campaign_id != campaign.id:
        abort(404)
    return attachment


@bp.route("/campaigns/<int:campaign_id>/files/<int:file_id>/delete", methods=["POST"])
def delete_file(campaign_id: int, file_id: int):
    campaign = campaign_or_404(campaign_id)
    attachment = _attachment(campaign, file_id)
    visit_id = attachment.visit_id
    form = VersionedForm()
    if not form.validate_on_submit():
        abort(400)
    followup.delete_visit_file(attachment, user=current_user, now=request_now())
    flash(_("回答文書を削除しました。"), "success")
    return redirect(url_for("followup.visit", campaign_id=campaign.id, visit_id=visit_id) + "#files")


@bp.route("/campaigns/<int:campaign_id>/files/<int:file_id>")
def download_file(campaign_id: int, file_id: int):
    attachment = _attachment(campaign_or_404(campaign_id), file_id)
    response = send_file(
        io.BytesIO(attachment.data),
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- answers


def _answer_form(plan, answer, formdata) -> AnswerForm:
    current = answer.current if answer else None
    if formdata is None:
        form = AnswerForm(
            formdata=None,
            data={
                "text": current.text if current else "",
                "answered_on": current.answered_on if current else None,
                "grade": current.grade if current else "",
                "reason": current.reason if current else "",
                "remedy": current.remedy if current else "",
                "settled": current.settled if current else False,
                "version": str(answer.version if answer else 0),
            },
        )
    else:
        form = AnswerForm()
    form.grade.choices = options([("", _("（未評価）"))] + [(g, plan.grade_label(g)) for g in plan.grades()])
    return form


@bp.route("/campaigns/<int:campaign_id>/items/<int:item_id>/answers/<int:addressee_id>", methods=["GET", "POST"])
def answer(campaign_id: int, item_id: int, addressee_id: int):
    campaign = campaign_or_404(campaign_id)
    item = _item(campaign, item_id)
    addressee = addressee_or_404(campaign, addressee_id)
    if not followup.receives(addressee, item):
        abort(404)
    plan = followup.plan_for(campaign)
    stored = followup.answer_for(item, addressee)
    form = _answer_form(plan, stored, None if request.method == "GET" else True)
    if form.validate_on_submit():
        data = followup.AnswerInput(
            text=form.text.data or "",
            answered_on=form.answered_on.data,
            grade=form.grade.data or "",
            reason=form.reason.data or "",
            remedy=form.remedy.data or "",
            new_exchange=bool(form.new_exchange.data),
            settled=bool(form.settled.data),
        )
        try:
            followup.save_answer(item, addressee, data, form.expected_version(), user=current_user, now=request_now())
        except ConflictError:
            db.session.rollback()
            form.version.errors = [str(STALE_MESSAGE)]
            flash(str(STALE_MESSAGE), "error")
            stored = followup.answer_for(item, addressee)
            form.version.data = str(stored.version if stored else 0)
        except DomainError as exc:
            _show(form, exc, "text")
        else:
            flash(_("回答と評価を保存しました。"), "success")
            return redirect(url_for("followup.dashboard", campaign_id=campaign.id) + f"#item-{item.id}")
    labels = compose.item_labels(item.letter)
    status = 422 if form.errors else 200
    return render_template(
        "followup/answer.html",
        campaign=campaign,
        item=item,
        label=labels.get(item.id, ""),
        addressee=addressee,
        answer=stored,
        plan=plan,
        form=form,
    ), status


@bp.route("/campaigns/<int:campaign_id>/items/<int:item_id>/answers/<int:addressee_id>/consult", methods=["POST"])
def consult_members(campaign_id: int, item_id: int, addressee_id: int):
    campaign = campaign_or_404(campaign_id)
    item = _item(campaign, item_id)
    addressee = addressee_or_404(campaign, addressee_id)
    stored = followup.answer_for(item, addressee)
    if stored is None:
        abort(404)
    try:
        round_ = followup.consult_on_answer(stored, user=current_user, now=request_now())
    except DomainError as exc:
        flash(refused(exc), "error")
        return redirect(url_for("followup.answer", campaign_id=campaign.id, item_id=item.id, addressee_id=addressee.id))
    flash(
        _("回答を素案にした組織討議（準備中）を作りました。対象組織と日程を決めてから受付を始めてください。"), "success"
    )
    return redirect(url_for("rounds.detail", round_id=round_.id))


# ---------------------------------------------------------------- carry-over and history


@bp.route("/campaigns/<int:campaign_id>/carry-over", methods=["POST"])
def carry_over(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    plan = followup.plan_for(campaign)
    form = CarryForm()
    form.grades.choices = options((g, plan.grade_label(g)) for g in plan.grades())
    if form.validate_on_submit():
        title = (form.title.data or "").strip() or campaign.title
        try:
            if form.into.data == "round":
                round_ = followup.carry_into_round(
                    campaign, list(form.grades.data or []), title, user=current_user, now=request_now()
                )
            else:
                new = followup.carry_over(
                    campaign, list(form.grades.data or []), title, user=current_user, now=request_now()
                )
        except DomainError as exc:
            _show(form, exc, "grades")
        else:
            flash(_("未解決の要請項目を引き継ぎました。"), "success")
            if form.into.data == "round":
                return redirect(url_for("rounds.detail", round_id=round_.id))
            return redirect(url_for("followup.dashboard", campaign_id=new.id))
    return _render_dashboard(campaign, carry_form=form, status=422)


@bp.route("/items/<int:item_id>/history")
def history(item_id: int):
    item = db.get_or_404(RequestItem, item_id)
    return render_template("followup/history.html", item=item, years=queries.history(item))


@bp.route("/campaigns/<int:campaign_id>/outcome")
def outcome(campaign_id: int):
    """The grades per addressee and item, for the branches once headquarters has published them."""
    campaign = campaign_or_404(campaign_id)
    plan = followup.plan_for(campaign)
    if not plan.outcome_visible_to(current_user):
        abort(404)
    board = queries.grid(campaign, request_now())
    return render_template("followup/outcome.html", campaign=board.campaign, board=board, plan=plan)


# ---------------------------------------------------------------- indicators and the report


def _save_indicator(form: IndicatorForm, owner, indicator: Indicator | None = None) -> bool:
    """Save the form's indicator for its owner; False with the messages next to the fields when refused."""
    try:
        values = followup.parse_values(form.values.data or "")
        followup.save_indicator(
            owner,
            form.name.data or "",
            form.unit.data or "",
            bool(form.higher_is_better.data),
            values,
            user=current_user,
            now=request_now(),
            indicator=indicator,
            expected_version=form.expected_version() if indicator is not None else None,
        )
    except (ConflictError, StaleDataError):
        db.session.rollback()
        form.version.errors = [str(STALE_MESSAGE)]
        return False
    except DomainError as exc:
        _show(form, exc, "name")
        return False
    return True


def _owner_page(indicator: Indicator) -> str:
    if indicator.campaign_id is not None:
        return url_for("followup.dashboard", campaign_id=indicator.campaign_id) + "#indicators"
    return url_for("followup.org_indicators", organization_id=indicator.organization_id) + "#indicators"


@bp.route("/campaigns/<int:campaign_id>/indicators", methods=["POST"])
def add_indicator(campaign_id: int):
    campaign = campaign_or_404(campaign_id)
    form = IndicatorForm()
    if form.validate_on_submit() and _save_indicator(form, campaign):
        flash(_("到達指標を保存しました。"), "success")
        return redirect(url_for("followup.dashboard", campaign_id=campaign.id) + "#indicators")
    return _render_dashboard(campaign, indicator_form=form, status=422)


@bp.route("/indicators", methods=["GET", "POST"])
def org_indicators():
    """Indicators of an organisation (headquarters' own or a branch's), with their charts; ?organization_id=."""
    organizations = queries.indicator_organizations()
    chosen = request.args.get("organization_id", "")
    organization = db.session.get(Organization, int(chosen)) if chosen.isdigit() and len(chosen) < 10 else None
    form = OrgIndicatorForm(formdata=None) if request.method == "GET" else OrgIndicatorForm()
    form.organization_id.choices = [(o.id, o.name) for o in organizations]
    if request.method == "GET":
        form.organization_id.data = organization.id if organization else None
    status = 200
    if request.method == "POST":
        target = db.session.get(Organization, form.organization_id.data) if form.organization_id.data else None
        if form.validate_on_submit() and target is not None and _save_indicator(form, target):
            flash(_("到達指標を保存しました。"), "success")
            return redirect(url_for("followup.org_indicators", organization_id=target.id) + "#indicators")
        if target is None and not form.organization_id.errors:
            form.organization_id.errors = [_("組織を一覧から選んでください。")]
        status = 422
    shown = queries.indicators_of_organizations([organization.id] if organization else None)
    return render_template(
        "followup/indicators.html",
        organization=organization,
        organizations=organizations,
        org_names={o.id: o.name for o in organizations},
        indicators=[(i, queries.indicator_rows(i), Markup(queries.indicator_chart(i))) for i in shown],
        form=form,
    ), status


def _indicator_form(indicator: Indicator, formdata) -> IndicatorForm:
    if formdata is None:
        lines = "\n".join(
            f"{v.fiscal_year} " + " ".join("-" if n is None else f"{n:g}" for n in (v.target, v.actual))
            for v in indicator.values
        )
        form = IndicatorForm(
            formdata=None,
            data={
                "name": indicator.name,
                "unit": indicator.unit,
                "higher_is_better": indicator.higher_is_better,
                "values": lines,
                "version": str(indicator.version),
            },
        )
    else:
        form = IndicatorForm()
    return form


@bp.route("/indicators/<int:indicator_id>", methods=["GET", "POST"])
def indicator(indicator_id: int):
    """Edit an indicator's name, unit and years (targets and actuals)."""
    found = db.get_or_404(Indicator, indicator_id)
    form = _indicator_form(found, None if request.method == "GET" else True)
    if request.method == "POST":
        if form.validate_on_submit() and _save_indicator(form, None, found):
            flash(_("到達指標を保存しました。"), "success")
            return redirect(_owner_page(found))
        found = db.get_or_404(Indicator, indicator_id)
        form.version.data = str(found.version) if form.version.errors else form.version.data
    status = 422 if form.errors else 200
    return render_template(
        "followup/indicator.html",
        indicator=found,
        rows=queries.indicator_rows(found),
        chart=Markup(queries.indicator_chart(found)),
        form=form,
        back=_owner_page(found),
    ), status


@bp.route("/indicators/<int:indicator_id>/delete", methods=["POST"])
def delete_indicator(indicator_id: int):
    found = db.get_or_404(Indicator, indicator_id)
    back = _owner_page(found)
    form = VersionedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        followup.delete_indicator(found, form.expected_version(), user=current_user, now=request_now())
    except (ConflictError, StaleDataError):
        db.session.rollback()
        flash(str(STALE_MESSAGE), "error")
        return redirect(url_for("followup.indicator", indicator_id=indicator_id))
    flash(_("到達指標を削除しました。"), "success")
    return redirect(back)


@bp.route("/campaigns/<int:campaign_id>/report.xlsx", defaults={"kind": "xlsx"}, endpoint="report_xlsx")
@bp.route("/campaigns/<int:campaign_id>/report.docx", defaults={"kind": "docx"}, endpoint="report_docx")
def download_report(campaign_id: int, kind: str):
    campaign = campaign_or_404(campaign_id)
    data = queries.report_data(campaign, request_now())
    if kind == "xlsx":
        body = report.xlsx(data)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = report.docx(data)
        mimetype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    response = send_file(
        io.BytesIO(body), mimetype=mimetype, as_attachment=True, download_name=f"進行管理報告書_{campaign.title}.{kind}"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
