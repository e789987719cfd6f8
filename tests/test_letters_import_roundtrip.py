"""The round-trip guarantee: for any letter the app writes, export → import → export gives the same letter,
paragraph for paragraph (text, alignment, indents, style), with the same numbering levels.

Checked on the seed's two letters, on every demo letter as `consult letters` writes them, and on letters
Hypothesis makes of realistic text over every numbering style, honorific, date style and addressee layout."""

from __future__ import annotations

import io

import letter_fixture
import pytest
from docx import Document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from letter_strategies import letters, request
from sqlalchemy import update

from consult.demo.letters import load_demo_campaign
from consult.extensions import db
from consult.letters import numbering
from consult.letters.compose import build_letter, preload
from consult.letters.document import PrintedAddressee, PrintedLetter, Section, outline
from consult.letters.docx_import import import_docx
from consult.letters.models import Campaign
from consult.letters.render import paragraph_text, render_letter
from consult.orgs.models import Organization


def printed(data: bytes) -> list[tuple]:
    """Every body paragraph as the reader of the printed letter sees it."""
    rows = []
    for p in Document(io.BytesIO(data)).paragraphs:
        fmt = p.paragraph_format
        rows.append((paragraph_text(p._p), p.alignment, fmt.left_indent, fmt.first_line_indent, p.style.name))
    return rows


def round_trip(letter: PrintedLetter) -> tuple[bytes, bytes, object]:
    first = render_letter(letter)
    imported = import_docx(first)
    return first, render_letter(imported.to_letter()), imported


def assert_round_trip(letter: PrintedLetter):
    first, second, imported = round_trip(letter)
    assert printed(second) == printed(first)
    entries = outline(letter)
    assert [(i.level, i.label, i.text) for i in imported.items] == [(e.level, e.label.strip(), e.text) for e in entries]
    assert imported.unplaced == []
    return imported


@pytest.mark.parametrize("key", ["b1", "b2"])
def test_the_seed_letters_come_back_as_the_very_same_letter(key):
    letter = letter_fixture.letter(key)
    imported = assert_round_trip(letter)
    assert imported.to_letter() == letter
    assert imported.warnings == [] and imported.has_record_mark and imported.has_end_mark
    data = letter_fixture.LETTERS[key]
    assert (imported.date.style, imported.date.year, imported.date.month, imported.date.day) == (
        "western",
        2025,
        3,
        None,
    )
    assert (imported.addressee.title, imported.addressee.name, imported.addressee.honorific) == (
        data["addressee_title"],
        data["addressee_name"],
        "様",
    )
    assert (imported.sender.organisation, imported.sender.title, imported.sender.name) == (
        data["sender_org"],
        data["sender_title"],
        data["sender_name"],
    )
    assert [imported.greeting, *imported.paragraphs, imported.closing] == [
        data["greeting"],
        *data["body"],
        data["closing"],
    ]
    assert imported.numbering == (numbering.DOT_PAREN if key == "b1" else numbering.DOT)


@pytest.fixture
def demo_letters(app, clock):
    """Every addressee's letter of the demo campaign, built as `consult letters` builds them."""
    with app.app_context():
        campaign = db.session.get(Campaign, load_demo_campaign(clock()).id)
        db.session.commit()
        built = {a.organisation: build_letter(a) for a in preload(campaign)}
    yield built
    with app.app_context():  # as in test_letters_demo.py: the tree's RESTRICT links would refuse the cleanup
        db.session.execute(update(Organization).values(parent_id=None))
        db.session.commit()


def test_every_demo_letter_round_trips_paragraph_for_paragraph(demo_letters):
    assert len(demo_letters) == 8
    for organisation, letter in demo_letters.items():
        imported = assert_round_trip(letter)
        assert imported.to_letter().sections == letter.sections, organisation
    kosei = import_docx(render_letter(demo_letters["厚生労働省"]))
    assert [s.heading for s in kosei.to_letter().sections] == ["健康保険証とマイナンバーカードの一体化について"]
    assert kosei.addressee.organisation == "厚生労働省" and kosei.addressee.name == ""


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(letter=letters())
def test_any_realistic_letter_round_trips(letter):
    imported = assert_round_trip(letter)
    again = import_docx(render_letter(imported.to_letter()))
    assert again.to_letter() == imported.to_letter()  # after one trip the letter is a fixed point


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(letter=letters())
def test_the_imported_letter_keeps_what_the_app_stores(letter):
    """Beyond the print: date, title, blocks, body and requests come back as the same values."""
    imported = import_docx(render_letter(letter)).to_letter()
    assert (imported.date_text, imported.title) == (letter.date_text, letter.title)
    assert imported.addressee.lines() == letter.addressee.lines()
    assert imported.sender_lines() == letter.sender_lines()
    assert imported.body_paragraphs() == letter.body_paragraphs()
    assert [e.text for e in outline(imported)] == [e.text for e in outline(letter)]
    if any(mark in e.label for e in outline(letter) for mark in "．.（("):
        assert imported.fullwidth_digits == letter.fullwidth_digits


def _items_letter(items: list[str], style: str, fullwidth: bool = True) -> PrintedLetter:
    """A short letter of one flat list of requests."""
    return PrintedLetter(
        "2025年3月●日",
        PrintedAddressee(title="総務大臣"),
        "全日本自治団体労働組合",
        "",
        "",
        "要請書",
        sections=[Section("", items)],
        numbering=style,
        fullwidth_digits=fullwidth,
    )


@pytest.mark.parametrize("fullwidth", [True, False])
def test_circled_numbers_beyond_twenty_are_still_one_flat_list(fullwidth):
    imported = assert_round_trip(
        _items_letter([f"第{n}の要請を実施すること。" for n in range(1, 26)], numbering.CIRCLE, fullwidth)
    )
    assert imported.numbering == numbering.CIRCLE and {i.level for i in imported.items} == {1}
    assert [i.label for i in imported.items][19:21] == ["⑳", "（21）" if fullwidth else "(21)"]


@pytest.mark.parametrize("style", numbering.STYLES)
@pytest.mark.parametrize("fullwidth", [True, False])
def test_every_numbering_style_and_digit_width_is_recognised(style, fullwidth):
    sections = [
        Section("情報システムの標準化について", [f"要請{n}を行うこと。" for n in range(1, 12)]),
        Section("職員の確保について", ["人員を確保すること。"]),
    ]
    letter = PrintedLetter(
        "令和7年3月17日",
        PrintedAddressee(title="総務大臣", name="村上誠一郎"),
        "組合",
        "委員長",
        "石上千博",
        "要請書",
        sections=sections,
        numbering=style,
        fullwidth_digits=fullwidth,
    )
    imported = assert_round_trip(letter)
    assert imported.numbering == style
    assert imported.fullwidth_digits == fullwidth or style == numbering.CIRCLE  # ① to ⑪ say nothing of the width
    assert imported.to_letter().sections == (
        sections if numbering.is_two_level_style(style) else [Section(s.heading, s.items) for s in sections]
    )


@pytest.mark.parametrize(
    "addressee, lines",
    [
        (
            PrintedAddressee(title="総務大臣", name="村上　誠一郎", spread=True),
            ["総 務 大 臣", "　村 上　誠 一 郎　様"],
        ),
        (PrintedAddressee(title="総務大臣", name="村上誠一郎", one_line=True), ["総務大臣　村上誠一郎　様"]),
        (
            PrintedAddressee("全国市町村職員共済組合連合会", "理事長", "山田太郎", "殿", True, True),
            ["全国市町村職員共済組合連合会", "理 事 長　山 田 太 郎　殿"],
        ),
        (PrintedAddressee("立憲民主党", "", "林", "様", True), ["立憲民主党　林　様"]),
        (
            PrintedAddressee("全国市町村職員共済組合連合会", "理事長", "", "殿"),
            ["全国市町村職員共済組合連合会", "理事長　殿"],
        ),
        (PrintedAddressee("厚生労働省"), ["厚生労働省　様"]),
        (PrintedAddressee(name="佐藤　花子", spread=True), ["　佐 藤　花 子　様"]),
    ],
)
def test_addressee_layouts_come_back_with_their_values(addressee, lines):
    letter = PrintedLetter(
        "2025年3月17日",
        addressee,
        "全日本自治団体労働組合",
        "中央執行委員長",
        "石上千博",
        "要請書",
        greeting="日頃より敬意を表します。",
    )
    assert addressee.lines() == lines
    imported = assert_round_trip(letter)
    assert imported.to_letter().addressee == addressee


@pytest.mark.parametrize(
    "text, value",
    [
        ("2025年3月17日", ("western", 2025, 3, 17, False)),
        ("２０２５年３月●日", ("western", 2025, 3, None, True)),
        ("令和7年3月17日", ("era", 2025, 3, 17, False)),
        ("令和元年5月1日", ("era", 2019, 5, 1, False)),
        ("平成31年4月●日", ("era", 2019, 4, None, False)),
        ("令和７年●月●日", ("era", 2025, None, None, True)),
    ],
)
def test_dates_as_the_dates_module_writes_them(text, value):
    letter = PrintedLetter(text, PrintedAddressee(title="総務大臣"), "組合", "", "", "要請書")
    date = assert_round_trip(letter).date
    assert (date.text, (date.style, date.year, date.month, date.day, date.fullwidth)) == (text, value)
    assert date.problem == ""


@settings(max_examples=30, deadline=None)
@given(items=st.lists(request(), min_size=1, max_size=30), style=st.sampled_from(numbering.STYLES))
def test_long_flat_lists_keep_every_request(items, style):
    assert [i.text for i in assert_round_trip(_items_letter(items, style)).items] == items
