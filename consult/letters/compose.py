"""From the stored campaign to the printed letter of one addressee: subset, greeting, extra paragraph, date, sender.

Rules decided here (and relied on by the screens):
- A letter is two-level when any of its top-level items has children: each top-level item is then a section
  (heading …について, its children the requests …こと。). Otherwise the top-level items are one flat list.
- An addressee who gets only part of a letter keeps a section when the section or any of its items was chosen,
  and an item when the item or its section was chosen. Numbering restarts: the kept sections (or, in a flat
  letter, the kept items) are numbered 1, 2, … so the 厚生労働省 letter's only section prints as 「１．」.
- Whether the organisation line prints is the addressee's explicit choice (Addressee.print_organisation): 'always',
  'never', or 'auto', where it is left out when the title already names it (総務省 / 総務大臣,
  デジタル庁 / デジタル大臣), so the seed's letters print 「総務大臣」 alone; otherwise it is printed above the
  title (全国…連合会 / 理事長). The addressee pages say which it is (organisation_note), so nothing is left out
  silently.
- Per-addressee overrides (issue 13) are applied here, so the DOCX, the preview and the editor's diff all read the
  same letter: the addressee's own date (fixed, ●, era), the block layout (one line / two, 均等割り), the greeting,
  edits of the background paragraphs (replace, insert, remove: AddresseeParagraph, applied by
  diffing.apply_paragraph_edits), the closing, the numbering, and an own outline under 記 (AddresseeRequest rows:
  subset, order and wording of the items, applied by diffing.apply_section_refs).
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
from consult.letters import dates, diffing, document, numbering
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


def addressee_date_text(addressee: Addressee) -> str:
    """The date printed on this addressee's letter: the campaign's, or the addressee's own (fixed or ●)."""
    if addressee.date_mode == "shared" or addressee.date_year is None or addressee.date_month is None:
        return date_text(addressee.campaign)
    day = addressee.date_day if addressee.date_mode == "fixed" else None
    try:
        style = addressee.date_style or "western"
        return dates.format_date(addressee.date_year, addressee.date_month, day, style=style)
    except ValueError:
        return f"{addressee.date_year}年{addressee.date_month}月{day or dates.UNDECIDED}日"


def organisation_note(addressee: Addressee) -> str:
    """What the pages say about the organisation line, so its absence is never a surprise."""
    if addressee.prints_organisation():
        return _("組織名「%(organisation)s」を宛名の1行目に印字します。", organisation=addressee.organisation)
    if addressee.print_organisation == "never":
        return _("組織名「%(organisation)s」は印字しません（この要請先の設定）。", organisation=addressee.organisation)
    return _(
        "組織名「%(organisation)s」は肩書「%(title)s」に含まれるため印字しません（「いつも印字する」で変えられます）。",
        organisation=addressee.organisation,
        title=addressee.title,
    )


def document_addressee(addressee: Addressee) -> document.PrintedAddressee:
    """The printed addressee block of one addressee."""
    return document.PrintedAddressee(
        organisation=addressee.organisation if addressee.prints_organisation() else "",
        title=addressee.title,
        name=addressee.name,
        honorific=addressee.honorific,
        one_line=bool(addressee.one_line),
        spread=bool(addressee.spread),
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


def shared_sections(letter: Letter) -> tuple[list[document.Section], dict[int, tuple[int, int | None]]]:
    """Every section of the letter, and where each item sits in them: id -> (section, item) (item None: a heading).
    These are the positions diffing's references use."""
    tops = letter.top_items()
    where: dict[int, tuple[int, int | None]] = {}
    if has_sections(tops):
        sections = []
        for s, top in enumerate(tops):
            where[top.id] = (s, None)
            children = list(top.children)
            for i, child in enumerate(children):
                where[child.id] = (s, i)
            sections.append(document.Section(top.text, [child.text for child in children]))
        return sections, where
    for i, top in enumerate(tops):
        where[top.id] = (0, i)
    return ([document.Section("", [top.text for top in tops])] if tops else []), where


def shared_letter(addressee: Addressee) -> document.PrintedLetter:
    """The letter as every addressee shares it (the whole outline, the letter's own texts), for this addressee's
    name and honorific: the left side of the editor's diff, and the base the overrides apply to."""
    campaign, letter = addressee.campaign, addressee.letter
    sections, _where = shared_sections(letter)
    return document.PrintedLetter(
        date_text=date_text(campaign),
        addressee=document_addressee(addressee),
        sender_org=campaign.sender_org,
        sender_title=campaign.sender_title or "",
        sender_name=campaign.sender_name or "",
        title=letter.title,
        greeting=letter.greeting or "",
        paragraphs=paragraphs_of(letter.background),
        closing=letter.closing or "",
        sections=sections,
        numbering=letter.numbering,
        fullwidth_digits=letter.fullwidth_digits,
    )


def outline_refs(addressee: Addressee) -> list[diffing.SectionRef]:
    """The addressee's own outline (AddresseeRequest rows, in order) as diffing's section references."""
    shared, where = shared_sections(addressee.letter)
    flat = len(shared) == 1 and not shared[0].heading
    refs: list[diffing.SectionRef] = []
    for row in addressee.outline_rows:
        place = where.get(row.request_item_id) if row.request_item_id is not None else None
        if row.is_heading:
            refs.append(diffing.SectionRef(place[0] if place else None, row.text, []))
            continue
        if not refs:
            refs.append(diffing.SectionRef(0, None, []) if flat else diffing.SectionRef(None, "", []))
        item_ref = [place[0], place[1]] if place and place[1] is not None else None
        if item_ref is None and row.text is None:
            continue  # a heading chosen as an item: nothing of its own to print
        refs[-1].items.append(diffing.ItemRef(item_ref, row.text))
    return refs


def overrides_of(addressee: Addressee) -> diffing.Overrides:
    """Everything this addressee changes of the shared letter, as diffing.Overrides (also the API's JSON form)."""
    letter = addressee.letter
    found = diffing.Overrides()
    if addressee.date_mode != "shared":
        found.date = addressee_date_text(addressee)
    if addressee.greeting and addressee.greeting != (letter.greeting or ""):
        found.greeting = addressee.greeting
    if addressee.closing is not None and addressee.closing != (letter.closing or ""):
        found.closing = addressee.closing
    found.paragraphs = [diffing.BodyEdit(e.op, e.at, e.text or "", e.was or "") for e in addressee.paragraph_edits]
    if addressee.extra_paragraph:
        found.extra_paragraphs = paragraphs_of(addressee.extra_paragraph)
    if addressee.numbering is not None and addressee.numbering != letter.numbering:
        found.numbering = addressee.numbering
    if addressee.fullwidth_digits is not None and addressee.fullwidth_digits != letter.fullwidth_digits:
        found.fullwidth_digits = addressee.fullwidth_digits
    if addressee.own_outline:
        found.sections = outline_refs(addressee)
    return found


def build_letter(addressee: Addressee) -> document.PrintedLetter:
    """Everything printed on this addressee's letter: the shared letter with the addressee's overrides applied."""
    base = shared_letter(addressee)
    printed = diffing.apply_overrides(base, overrides_of(addressee))
    if not addressee.own_outline and not addressee.all_items:
        printed.sections = sections_for(addressee)
    return printed


def override_problems(addressee: Addressee) -> list[str]:
    """What of this addressee's overrides no longer fits the shared letter (edited since), for the editor."""
    return diffing.check_overrides(shared_letter(addressee), overrides_of(addressee))


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
                selectinload(Addressee.paragraph_edits),
                selectinload(Addressee.outline_rows),
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


def printed_lines(letter: document.PrintedLetter) -> list[str]:
    """The letter's lines as printed, top to bottom (what the editor's diff compares)."""
    entries = [f"{e.label}{e.text}" for e in document.outline(letter)]
    record = [document.RECORD_MARK, *entries, document.END_MARK] if entries else []
    return [
        letter.date_text,
        *letter.addressee.lines(),
        *letter.sender_lines(),
        letter.title,
        *letter.body_paragraphs(),
        *record,
    ]


def line_changes(shared: list[str], own: list[str]) -> list[dict]:
    """Only the differences of an addressee's lines from the shared ones: each with the shared line's number (None
    for a line of its own) and the character-level runs (diffing.char_diff) from the shared text to the own."""
    from difflib import SequenceMatcher

    changes: list[dict] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, shared, own, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            changes.append({"at": i1 + k, "runs": diffing.char_diff(shared[i1 + k], own[j1 + k])})
        for i in range(i1 + paired, i2):
            changes.append({"at": i, "runs": [("delete", shared[i])]})
        for j in range(j1 + paired, j2):
            changes.append({"at": None, "after": i2, "runs": [("insert", own[j])]})
    return changes


def letter_differences(letter: Letter, addressees: list[Addressee]) -> tuple[list[str], list[tuple[Addressee, list]]]:
    """The shared letter's lines once, and each addressee's differences beside them (for the letter editor)."""
    mine = [a for a in addressees if a.letter_id == letter.id]
    if not mine:
        return [], []
    base = shared_letter(mine[0])
    base.addressee = document.PrintedAddressee(title="（要請先）", honorific="")
    shared = printed_lines(base)
    result = []
    for addressee in mine:
        own = build_letter(addressee)
        own_base = shared_letter(addressee)
        # The addressee block differs for everyone: compared with the shared block of the same person.
        lines = printed_lines(own)
        block = len(own.addressee.lines())
        head = diffing.char_diff("\n".join(own_base.addressee.lines()), "\n".join(own.addressee.lines()))
        layout = [] if all(op == "equal" for op, _t in head) else head
        rest = line_changes(shared[:1] + shared[2:], lines[:1] + lines[1 + block :])
        result.append((addressee, {"layout": layout, "lines": rest}))
    return shared[:1] + shared[2:], result
