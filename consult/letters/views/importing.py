"""Import a Word letter by upload (issue 13): the page first shows everything it recognised (date, addressee,
sender, title, greeting, paragraphs, items with their levels) and everything it could not place; 「保存する」
stores it through the same operation as `consult import-letter`. Between the two the file waits under a token."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from consult.core.clock import request_now
from consult.core.convert import parse_id
from consult.core.errors import DomainError
from consult.core.transaction import refused
from consult.extensions import db
from consult.letters import docx_import, numbering
from consult.letters import operations as letters
from consult.letters.forms import ImportConfirmForm, ImportForm
from consult.letters.models import Campaign, Letter
from consult.letters.views import bp

TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
KEPT_SECONDS = 24 * 3600  # an upload nobody confirmed is removed after a day


def _folder() -> Path:
    folder = Path(current_app.config.get("LETTER_IMPORT_DIR") or Path(current_app.instance_path) / "letter_imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _keep(data: bytes) -> str:
    """Keep the upload until it is confirmed; uploads older than a day go."""
    folder = _folder()
    for old in folder.glob("*.docx"):
        if old.stat().st_mtime < time.time() - KEPT_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(32)
    (folder / f"{token}.docx").write_bytes(data)
    return token


def _kept(token: str) -> Path | None:
    if not TOKEN.fullmatch(token or ""):
        return None
    path = _folder() / f"{token}.docx"
    return path if path.is_file() else None


def _choices():
    campaigns = db.session.scalars(select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())).all()
    all_letters = db.session.scalars(select(Letter).join(Campaign).order_by(Campaign.id.desc(), Letter.position)).all()
    return campaigns, all_letters


def _targets(campaign_id, variant_of) -> tuple[Campaign | None, Letter | None]:
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    letter = db.session.get(Letter, variant_of) if variant_of else None
    return campaign, letter


@bp.route("/import", methods=["GET", "POST"])
def import_letter():
    campaigns, all_letters = _choices()
    form = ImportForm(campaigns=campaigns, letters=all_letters)
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read() if upload else b""
        if not data:
            form.file.errors = [*form.file.errors, _("取り込む Word 文書（.docx）を選んでください。")]
        else:
            try:
                imported = docx_import.import_docx(data)
            except docx_import.DocxImportError as exc:
                form.file.errors = [*form.file.errors, str(exc)]
            else:
                campaign, letter = _targets(form.campaign_id.data, form.variant_of.data)
                confirm = ImportConfirmForm(
                    formdata=None,
                    data={
                        "token": _keep(data),
                        "campaign_id": str(campaign.id) if campaign else "",
                        "variant_of": str(letter.id) if letter else "",
                    },
                )
                return _preview(imported, confirm, campaign, letter, upload.filename or "")
    status = 422 if request.method == "POST" else 200
    return render_template("letters/import.html", form=form), status


def _preview(imported, confirm, campaign, letter, filename: str, status: int = 200):
    two_level = numbering.is_two_level_style(imported.numbering_style())
    return render_template(
        "letters/import_preview.html",
        imported=imported,
        form=confirm,
        campaign=None,
        target_campaign=campaign,
        variant_of=letter,
        filename=filename,
        two_level=two_level,
        style_label=dict(numbering.CHOICES).get(imported.numbering_style(), imported.numbering_style()),
    ), status


@bp.route("/import/confirm", methods=["POST"])
def import_confirm():
    form = ImportConfirmForm()
    path = _kept(form.token.data) if form.validate_on_submit() else None
    if path is None:
        flash(_("取り込みの確認画面の有効期限が切れました。もう一度 Word 文書を選んでください。"), "error")
        return redirect(url_for("letters.import_letter"))
    campaign, letter = _targets(_int(form.campaign_id.data), _int(form.variant_of.data))
    data = path.read_bytes()
    try:
        result = letters.import_letter(data, campaign=campaign, variant_of=letter, user=current_user, now=request_now())
    except DomainError as exc:
        message = refused(exc)
        flash(message, "error")
        return redirect(url_for("letters.import_letter"))
    path.unlink(missing_ok=True)
    flash(_("Word 文書を取り込みました（要請先「%(name)s」）。", name=result.addressee.organisation), "success")
    for note in result.notes:
        flash(note, "info")
    return redirect(url_for("letters.detail", campaign_id=result.campaign.id) + "#addressees")


def _int(value: str | None) -> int | None:
    return parse_id((value or "").strip()) if value else None
