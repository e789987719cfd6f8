"""Numbering labels per style and level, the ⑳ → (21) fallback, and the letter outline built from sections."""

import pytest

from consult.letters import numbering as n
from consult.letters.document import PrintedAddressee, PrintedLetter, Section, outline


@pytest.mark.parametrize(
    ("style", "level", "index", "expected"),
    [
        (n.DOT_PAREN, 1, 1, "１．"),
        (n.DOT_PAREN, 2, 3, "（３）"),
        (n.DOT_CIRCLE, 1, 2, "２．"),
        (n.DOT_CIRCLE, 2, 1, "①"),
        (n.PAREN_CIRCLE, 1, 4, "（４）"),
        (n.PAREN_CIRCLE, 2, 20, "⑳"),
        (n.DOT, 1, 5, "５．"),
        (n.CIRCLE, 1, 9, "⑨"),
        (n.PAREN, 1, 1, "（１）"),
    ],
)
def test_label_for_each_style(style, level, index, expected):
    assert n.label(style, level, index) == expected


def test_circled_numbers_fall_back_to_parentheses_after_twenty():
    assert n.label(n.CIRCLE, 1, 20) == "⑳"
    assert n.label(n.CIRCLE, 1, 21) == "（21）"
    assert n.label(n.DOT_CIRCLE, 2, 100) == "（100）"
    assert n.label(n.CIRCLE, 1, 21, fullwidth=False) == "(21)"
    labels = [n.label(n.CIRCLE, 1, i) for i in range(1, 101)]
    assert len(set(labels)) == 100


def test_two_digit_numbers_are_half_width_and_half_width_option():
    assert n.label(n.DOT, 1, 10) == "10．"
    assert n.label(n.PAREN, 1, 12) == "（12）"
    assert n.label(n.DOT, 1, 3, fullwidth=False) == "3."
    assert n.label(n.DOT_PAREN, 2, 3, fullwidth=False) == "(3)"
    # A half-width "1." is followed by a full-width space on the printed line; full-width labels are not.
    assert n.prefix(n.DOT, 1, 1, fullwidth=False) == "1.　"
    assert n.prefix(n.DOT, 1, 1) == "１．"


def test_width_of_labels_in_ems():
    assert n.width_em("（１）") == 3
    assert n.width_em("１．") == 2
    assert n.width_em("①") == 1
    assert n.width_em("1.　") == 2
    assert n.width_em("（21）") == 3


def test_levels_and_indexes_outside_the_style_are_refused():
    with pytest.raises(ValueError, match="第2段"):
        n.label(n.DOT, 2, 1)
    with pytest.raises(ValueError, match="1 から"):
        n.label(n.DOT_PAREN, 1, 0)
    with pytest.raises(ValueError, match="書式"):
        n.label("roman", 1, 1)


def _letter(sections, style):
    return PrintedLetter(
        "2025年3月●日",
        PrintedAddressee(title="総務大臣"),
        "組合",
        "委員長",
        "氏名",
        "要請書",
        sections=sections,
        numbering=style,
    )


def test_outline_two_level_restarts_items_per_section_and_headless_sections_are_top_level():
    sections = [
        Section("Ａについて", ["a1こと。", "a2こと。"]),
        Section("", ["単独こと。"]),
        Section("Ｂについて", ["b1こと。"]),
    ]
    entries = [(e.level, e.label, e.text, e.is_heading) for e in outline(_letter(sections, n.DOT_PAREN))]
    assert entries == [
        (1, "１．", "Ａについて", True),
        (2, "（１）", "a1こと。", False),
        (2, "（２）", "a2こと。", False),
        (1, "２．", "単独こと。", False),
        (1, "３．", "Ｂについて", True),
        (2, "（１）", "b1こと。", False),
    ]


def test_outline_flat_numbers_all_items_in_one_run_and_leaves_headings_unnumbered():
    sections = [Section("", ["一こと。", "二こと。"]), Section("補足について", ["三こと。"])]
    entries = [(e.label, e.text) for e in outline(_letter(sections, n.CIRCLE))]
    assert entries == [("①", "一こと。"), ("②", "二こと。"), ("", "補足について"), ("③", "三こと。")]
