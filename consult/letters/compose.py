"""From the stored campaign to the printed letter of one addressee: subset, greeting, extra paragraph, date, sender.

Rules decided here (and relied on by the screens):
- A letter is two-level when any of its top-level items has children: each top-level item is then a section
  (heading …について, its children the requests …こと。). Otherwise the top-level items are one flat list.
- An addressee who gets only part of a letter keeps a section when the section or any of its items was chosen,
  and an item when the item or its section was chosen. Numbering restarts: the kept sections (or, in a flat
  letter, the kept items) are numbered 1, 2, … so the 厚生労働省 letter's only section prints as 「１．」.
- The organisation line is left out when the title already names it (総務省 / 総務大臣, デジタル庁 / デジタル大臣),
  so the seed's letters print 「総務大臣」 alone; otherwise it is printed above the title (全国…連合会 / 理事長).
- Background and the addressee's extra paragraph hold one paragraph per line; blank lines are dropped. Every
  other character is passed to the renderer, which reports (never silently drops) what Word cannot hold.
"""

from __future__ import annotations

import zipfile
from typing import BinaryIO

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.core.text import file_name, normalise_newlines
from consult.extensions import db
from consult.letters import dates, document, numbering
from consult.letters.models import Addressee, Campaign, Letter, LetterTemplate, RequestItem
from consult.letters.render import render_letter_report

_UNSET = object()
_ORG_CHARS, _TITLE_CHARS = 40, 60


def paragraphs_of(text: str | None) -> list[str]:
    """One paragraph per line, blank lines dropped; the characters themselves are left for the renderer."""
    if not text:
        return []
    return [line for line in normalise_newlines(text).split("\n") if line.strip()]


def date_text(campaign: Campaign) -> str:
    """The campaign's date as printed (● for an undecided day, era or western as the campaign says)."""
    try:
        return dates.format_date(campaign.date_year, campaign.date_month, campaign.date_day, style=campaign.date_style)
    except ValueError:  # a date stored by some other path than the forms: still show what is there
        return _(
            "%(campaign_date_year)s年%(campaign_date_month)s月%(undecided)s日",
            campaign_date_year=campaign.date_year,
            campaign_date_month=campaign.date_month,
            undecided=campaign.date_day or dates.UNDECIDED,
        )


def title_names_organisation(organisation: str, title: str) -> bool:
    """Whether the title already says who the organisation is (総務大臣 names 総務省), so it is not printed twice."""
    if not organisation or not title:
        return False
    stem = organisation[:-1] if len(organisation) > 1 and organisation[-1] in "省庁" else organisation
    return stem in title


def document_addressee(addressee: Addressee) -> document.PrintedAddressee:
    """The printed addressee block of one addressee."""
    organisation = "" if title_names_organisation(addressee.organisation, addressee.title) else addressee.organisation
    return document.PrintedAddressee(
        organisation=organisation, title=addressee.title, name=addressee.name, honorific=addressee.honorific
    )


def has_sections(items: list[RequestItem]) -> bool:
    """A letter with sections (two levels of stored items): some top-level item has children. Not to be confused
    with numbering.is_two_level_style, which is about how a style numbers them."""
    return any(item.children for item in items if item.parent_id is None)


def item_labels(letter: Letter) -> dict[int, str]:
    """Each item's number as it prints in the whole letter (１．, （２）…), by item id."""
    tops = letter.top_items()
    groups = [(top, list(top.children)) for top in tops] if has_sections(tops) else [(None, tops)]
    sections, ids = [], []
    for heading, items in groups:
        sections.append(document.Section(heading.text if heading else "", [item.text for item in items]))
        ids.extend(([heading.id] if heading else []) + [item.id for item in items])
    style = letter.numbering if letter.numbering in numbering.STYLES else numbering.DEFAULT
    sample = document.PrintedLetter(
        date_text="",
        addressee=document.PrintedAddressee(),
        sender_org="",
        sender_title="",
        sender_name="",
        title="",
        sections=sections,
        numbering=style,
        fullwidth_digits=letter.fullwidth_digits,
    )
    return {item_id: entry.label.strip() for item_id, entry in zip(ids, document.outline(sample), strict=True)}


def included_ids(addressee: Addressee) -> set[int]:
    """Ids of the request items printed in this addressee's letter (sections included)."""
    tops = addressee.letter.top_items()
    everything = {item.id for item in addressee.letter.items}
    if addressee.all_items:
        return everything
    chosen = {item.id for item in addressee.selected}
    kept: set[int] = set()
    for top in tops:
        children = list(top.children)
        kept_children = [c.id for c in children if top.id in chosen or c.id in chosen]
        if top.id in chosen or kept_children:
            kept.add(top.id)
            kept.update(kept_children)
    return kept & everything


def sections_for(addressee: Addressee) -> list[document.Section]:
    """The sections (or the one flat section) of the letter, reduced to what this addressee gets."""
    tops = addressee.letter.top_items()
    kept = included_ids(addressee)
    if has_sections(tops):
        return [
            document.Section(top.text, [c.text for c in top.children if c.id in kept]) for top in tops if top.id in kept
        ]
    items = [top.text for top in tops if top.id in kept]
    return [document.Section("", items)] if items else []


def build_letter(addressee: Addressee) -> document.PrintedLetter:
    """Everything printed on this addressee's letter, from the campaign, the letter and the addressee's own text."""
    campaign, letter = addressee.campaign, addressee.letter
    return document.PrintedLetter(
        date_text=date_text(campaign),
        addressee=document_addressee(addressee),
        sender_org=campaign.sender_org,
        sender_title=campaign.sender_title or "",
        sender_name=campaign.sender_name or "",
        title=letter.title,
        greeting=addressee.greeting or letter.greeting or "",
        paragraphs=paragraphs_of(letter.background),
        extra_paragraphs=paragraphs_of(addressee.extra_paragraph),
        closing=letter.closing or "",
        sections=sections_for(addressee),
        numbering=letter.numbering,
        fullwidth_digits=letter.fullwidth_digits,
    )


def letter_filename(addressee: Addressee) -> str:
    """「01_総務省_自治体DXの推進に関する要請書.docx」: the addressee's place in the campaign keeps names unique."""
    siblings = addressee.campaign.addressees
    number = next(
        (n for n, a in enumerate(siblings, start=1) if a is addressee or (a.id is not None and a.id == addressee.id)),
        len(siblings) + 1,
    )
    width = max(2, len(str(len(siblings))))
    return (
        f"{number:0{width}d}_{file_name(addressee.organisation, _ORG_CHARS, '_', joiner='_')}_"
        f"{file_name(addressee.letter.title, _TITLE_CHARS, '_', joiner='_')}.docx"
    )


def current_template() -> bytes | None:
    """The newest uploaded template, or None for the default one shipped with the app."""
    return db.session.scalar(
        select(LetterTemplate.data).order_by(LetterTemplate.uploaded_at.desc(), LetterTemplate.id.desc()).limit(1)
    )


def render_addressee(addressee: Addressee, template=_UNSET) -> tuple[bytes, list[str]]:
    """The DOCX of one addressee's letter and the characters Word could not hold (to show, never to hide)."""
    if template is _UNSET:
        template = current_template()
    return render_letter_report(build_letter(addressee), template)


def preload(campaign: Campaign) -> list[Addressee]:
    """Load the addressees, their choices, letters and items in a few queries instead of one per addressee."""
    return list(
        db.session.scalars(
            select(Addressee)
            .where(Addressee.campaign_id == campaign.id)
            .order_by(Addressee.position, Addressee.id)
            .options(
                selectinload(Addressee.selected),
                selectinload(Addressee.letter).selectinload(Letter.items).selectinload(RequestItem.children),
            )
        )
    )


def campaign_zip(campaign: Campaign, fileobj: BinaryIO) -> list[tuple[str, list[str]]]:
    """Write every addressee's DOCX into a ZIP, one letter at a time; returns (file name, removed chars) each."""
    preload(campaign)
    template = current_template()
    report = []
    with zipfile.ZipFile(fileobj, "w", zipfile.ZIP_DEFLATED) as archive:
        for addressee in campaign.addressees:
            name = letter_filename(addressee)
            data, removed = render_addressee(addressee, template)
            archive.writestr(name, data)
            del data
            report.append((name, removed))
    return report
