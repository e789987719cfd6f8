"""One addressee's own version of the shared letter (issue 13): date, addressee block, organisation line, body
paragraphs, closing, numbering, and the items' subset, order and wording. The preview shows the result."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from consult.core.clock import request_now
from consult.core.errors import ConflictError, DomainError
from consult.core.text import clean
from consult.letters import compose, document, numbering
from consult.letters import operations as letters
from consult.letters.forms import OverridesForm
from consult.letters.views import bp
from consult.letters.views.common import addressee_or_404, campaign_or_404, conflict, show_errors, typed

EXAMPLE_ITEMS = document.sample_letter().sections


def numbering_examples(wide: bool) -> dict[str, list[str]]:
    """A live example of each numbering style, as it prints (shown next to the choice)."""
    examples = {}
    for style, _label in numbering.CHOICES:
        sample = document.sample_letter()
        sample.numbering, sample.fullwidth_digits = style, wide
        sample.sections = [document.Section("…について", ["…こと。", "…こと。"]), document.Section("…について", [])]
        if not numbering.is_two_level_style(style):
            sample.sections = [document.Section("", ["…こと。", "…こと。", "…こと。"])]
        examples[style] = [f"{e.label}{e.text}" for e in document.outline(sample)]
    return examples


def _rows(addressee) -> list[dict]:
    """The shared items, each with whether this addressee keeps it, its place and its wording."""
    letter = addressee.letter
    own = {r.request_item_id: (n, r) for n, r in enumerate(addressee.outline_rows, start=1) if r.request_item_id}
    labels = compose.item_labels(letter)
    kept = compose.included_ids(addressee)
    rows = []
    for n, item in enumerate(letter.items, start=1):
        place, row = own.get(item.id, (None, None))
        rows.append(
            {
                "item": item,
                "label": labels.get(item.id, ""),
                "keep": (place is not None) if addressee.own_outline else item.id in kept,
                "order": place if place is not None else item.position,
                "text": row.text if row is not None and row.text is not None else item.text,
                "heading": item.parent_id is None and compose.has_sections(letter.top_items()),
            }
        )
        del n
    return rows


def _outline_from_form(addressee) -> list | None:
    """The outline typed on the page; [] when it is the shared one unchanged (nothing stored)."""
    letter = addressee.letter
    tops = letter.top_items()
    two_level = compose.has_sections(tops)

    def entry(item):
        text = clean(request.form.get(f"text-{item.id}", item.text)).strip()
        order = request.form.get(f"order-{item.id}", "")
        try:
            number = int(order)
        except ValueError:
            number = item.position
        return number, item, (None if text == item.text else text)

    outline = []
    changed = False
    for number, top, text in sorted((entry(t) for t in tops), key=lambda e: (e[0], e[1].position)):
        del number
        keep_top = request.form.get(f"keep-{top.id}") is not None
        children = sorted((entry(c) for c in top.children), key=lambda e: (e[0], e[1].position))
        kept_children = [(c, t) for _n, c, t in children if request.form.get(f"keep-{c.id}") is not None]
        if not keep_top and not kept_children:
            changed = True
            continue
        outline.append((top.id, two_level, text))
        outline.extend((c.id, False, t) for c, t in kept_children)
        changed = changed or text is not None or any(t is not None for _c, t in kept_children)
        changed = changed or len(kept_children) != len(children)
    shared_order = [(i.id) for t in tops for i in [t, *t.children]]
    if [row[0] for row in outline] != shared_order:
        changed = True
    return outline if changed else []


@bp.route("/<int:campaign_id>/addressees/<int:addressee_id>/overrides", methods=["GET", "POST"])
def addressee_overrides(campaign_id: int, addressee_id: int):
    campaign = campaign_or_404(campaign_id)
    addressee = addressee_or_404(campaign, addressee_id)
    if request.method == "GET":
        typed_in = letters.overrides_input(addressee)
        form = OverridesForm(
            formdata=None,
            data={
                "date_mode": typed_in.date_mode,
                "date_year": str(typed_in.date_year or campaign.date_year),
                "date_month": str(typed_in.date_month or campaign.date_month),
                "date_day": str(typed_in.date_day or ""),
                "date_style": typed_in.date_style,
                "print_organisation": typed_in.print_organisation,
                "one_line": typed_in.one_line,
                "spread": typed_in.spread,
                "numbering": typed_in.numbering or "",
                "background": typed_in.background,
                "closing": typed_in.closing or "",
                "version": str(addressee.version),
            },
        )
        return _render(campaign, addressee, form)
    form = OverridesForm()
    if form.validate_on_submit():
        data = letters.OverridesInput(
            date_mode=form.date_mode.data,
            date_year=getattr(form.date_year, "number", None),
            date_month=getattr(form.date_month, "number", None),
            date_day=getattr(form.date_day, "number", None),
            date_style=form.date_style.data or "western",
            one_line=form.one_line.data,
            spread=form.spread.data,
            print_organisation=form.print_organisation.data,
            closing=typed(form.closing) or None,
            numbering=form.numbering.data or None,
            background=typed(form.background),
            outline=_outline_from_form(addressee),
        )
        try:
            letters.set_addressee_overrides(
                addressee, data, expected_version=form.expected_version(), user=current_user, now=request_now()
            )
        except (ConflictError, StaleDataError) as exc:
            conflict(form, exc)
            addressee = addressee_or_404(campaign, addressee_id)
            form.version.data = str(addressee.version)  # saving again, after a look, is allowed
        except DomainError as exc:
            show_errors(form, exc, "date_mode", {"outline": "date_mode"})
        else:
            flash(_("要請先「%(name)s」だけの変更を保存しました。", name=addressee.organisation), "success")
            return redirect(url_for("letters.preview", campaign_id=campaign.id, addressee_id=addressee.id))
    stale = bool(form.version.errors)
    return _render(campaign, addressee, form, status=409 if stale else 422)


def _render(campaign, addressee, form, status=200):
    return render_template(
        "letters/overrides.html",
        campaign=campaign,
        addressee=addressee,
        form=form,
        rows=_rows(addressee),
        examples=numbering_examples(addressee.letter.fullwidth_digits),
        choices=dict(numbering.CHOICES),
        campaign_date=compose.date_text(campaign),
        organisation_note=compose.organisation_note(addressee),
        problems=compose.override_problems(addressee),
    ), status
