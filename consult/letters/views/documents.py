"""What leaves the app: the preview of one addressee's letter, its DOCX, a campaign's ZIP, and the Word template."""

from __future__ import annotations

import io
import tempfile

from flask import flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from consult.core.clock import request_now
from consult.core.errors import DomainError
from consult.core.text import describe_characters, file_name
from consult.core.transaction import refused
from consult.extensions import db
from consult.letters import compose, queries
from consult.letters import operations as letters
from consult.letters.document import clean_letter, outline
from consult.letters.forms import TemplateForm
from consult.letters.models import LetterTemplate
from consult.letters.render import default_template_path
from consult.letters.views import bp
from consult.letters.views.common import DOCX_MIME, addressee_or_404, campaign_or_404, private


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>/preview")
def preview(campaign_id: int, addressee_id: int):
    campaign = campaign_or_404(campaign_id)
    addressee = addressee_or_404(campaign, addressee_id)
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
    campaign = campaign_or_404(campaign_id)
    addressee = addressee_or_404(campaign, addressee_id)
    data, _removed = compose.render_addressee(addressee)
    return private(
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
    campaign = campaign_or_404(campaign_id)
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
    name = file_name(campaign.title, 80, "letters")
    return private(
        send_file(spool, mimetype="application/zip", as_attachment=True, download_name=f"{name}_要請書.zip", max_age=0)
    )


# ---------------------------------------------------------------- letter template


@bp.route("/templates", methods=["GET", "POST"])
def templates():
    form = TemplateForm()
    if form.validate_on_submit():
        file = form.file.data
        if not file or not file.filename:
            form.file.errors = [_("ファイルを選んでください。")]
        else:
            data = file.read()
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
    return render_template("letters/templates.html", form=form, current=queries.current_template_row(), limit="5MB")


@bp.route("/templates/current.docx")
def download_template():
    current = queries.current_template_row()
    if current is None:
        data, name = default_template_path().read_bytes(), "要請書_既定の雛形.docx"
    else:
        data, name = db.session.get(LetterTemplate, current.id).data, current.filename
    return private(send_file(io.BytesIO(data), mimetype=DOCX_MIME, as_attachment=True, download_name=name, max_age=0))
