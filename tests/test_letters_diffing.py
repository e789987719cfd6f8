"""Per-addressee overrides: apply(shared, diff(shared, variant)) == variant for any two letters, the overrides survive
JSON, they stay small for the differences of issue #13, and a variant imported from Word diffs against the shared
letter it came from."""

from __future__ import annotations

import dataclasses
import json

import letter_fixture
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from letter_strategies import GREETINGS, PHRASES, addressees, date_texts, letters

from consult.letters import numbering
from consult.letters.diffing import (
    BodyEdit,
    ItemRef,
    Overrides,
    SectionRef,
    apply_overrides,
    char_diff,
    check_overrides,
    letter_diff,
)
from consult.letters.document import Section
from consult.letters.docx_import import import_docx
from consult.letters.render import render_letter

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def stored(overrides: Overrides) -> dict:
    """Through a JSON column and back."""
    return json.loads(json.dumps(overrides.to_dict(), ensure_ascii=False))


@SETTINGS
@given(shared=letters(), variant=letters())
def test_apply_of_diff_gives_the_variant_for_any_two_letters(shared, variant):
    overrides = letter_diff(shared, variant)
    assert apply_overrides(shared, overrides) == variant
    assert apply_overrides(shared, stored(overrides)) == variant
    assert Overrides.from_dict(stored(overrides)) == overrides
    assert check_overrides(shared, overrides) == []


@st.composite
def variants(draw, shared):
    """What staff change for one addressee (issue #13): date, block, greeting, paragraphs, wording, subset, order."""
    v = dataclasses.replace(
        shared,
        sections=[Section(s.heading, list(s.items)) for s in shared.sections],
        paragraphs=list(shared.paragraphs),
    )
    if draw(st.booleans()):
        v.date_text = draw(date_texts())
    if draw(st.booleans()):
        v.addressee = draw(addressees())
    if draw(st.booleans()):
        v.greeting = draw(st.sampled_from(GREETINGS))
    if v.paragraphs and draw(st.booleans()):
        i = draw(st.integers(0, len(v.paragraphs) - 1))
        v.paragraphs[i] = v.paragraphs[i].replace("自治体", "組合員", 1) + "また、" + draw(st.sampled_from(PHRASES))
    if draw(st.booleans()):
        v.paragraphs.insert(draw(st.integers(0, len(v.paragraphs))), "加えて、" + draw(st.sampled_from(PHRASES)) + "。")
    if v.paragraphs and draw(st.booleans()):
        del v.paragraphs[draw(st.integers(0, len(v.paragraphs) - 1))]
    for section in v.sections:
        if section.items and draw(st.booleans()):
            i = draw(st.integers(0, len(section.items) - 1))
            section.items[i] = section.items[i].replace("、", "、早急に", 1)
        section.items = draw(st.permutations(section.items)) if draw(st.booleans()) else section.items
        if draw(st.booleans()):
            section.items = [item for item in section.items if draw(st.booleans())]
    if draw(st.booleans()):
        v.sections = draw(st.permutations(v.sections))
    if draw(st.booleans()):
        v.numbering = draw(st.sampled_from(numbering.STYLES))
    return v


@SETTINGS
@given(data=st.data(), shared=letters())
def test_apply_of_diff_gives_the_variant_for_an_addressees_changes(data, shared):
    variant = data.draw(variants(shared))
    overrides = letter_diff(shared, variant)
    assert apply_overrides(shared, stored(overrides)) == variant
    assert letter_diff(shared, shared).is_empty() and stored(letter_diff(shared, shared)) == {"version": 1}
    kept = {item for s in shared.sections for item in s.items}
    for section in overrides.sections or []:
        for ref in section.items:
            if ref.text is not None and ref.text in kept:
                assert ref.ref is not None  # a request the shared letter has is referenced, not copied


def test_the_differences_of_issue_13_are_what_the_overrides_hold():
    shared = letter_fixture.letter("b1")
    variant = dataclasses.replace(
        shared,
        date_text="2025年3月24日",
        addressee=dataclasses.replace(
            shared.addressee,
            organisation="全国市町村職員共済組合連合会",
            title="理事長",
            name="山田太郎",
            honorific="殿",
            one_line=True,
        ),
        greeting="日頃より組合員の福祉の向上にご尽力いただいている貴職に敬意を表します。",
        paragraphs=[
            shared.paragraphs[0].replace("人員不足", "組合員の負担増"),
            "とりわけ共済事務の負担は大きくなっています。",
        ],
        sections=[
            shared.sections[1],
            Section(
                shared.sections[0].heading,
                [shared.sections[0].items[2], shared.sections[0].items[0] + "併せて検討すること。"],
            ),
        ],
        numbering=numbering.DOT_CIRCLE,
    )
    overrides = letter_diff(shared, variant)
    data = stored(overrides)
    assert data["date"] == "2025年3月24日" and data["numbering"] == "dot-circle"
    assert data["addressee"] == {
        "organisation": "全国市町村職員共済組合連合会",
        "title": "理事長",
        "name": "山田太郎",
        "honorific": "殿",
        "one_line": True,
    }
    assert [(e["op"], e["at"]) for e in data["paragraphs"]] == [("replace", 0), ("insert", 1)]
    assert data["paragraphs"][0]["was"] == shared.paragraphs[0]
    assert data["sections"] == [
        {"ref": 1, "items": [{"ref": [1, 0]}, {"ref": [1, 1]}, {"ref": [1, 2]}]},
        {
            "ref": 0,
            "items": [{"ref": [0, 2]}, {"ref": [0, 0], "text": shared.sections[0].items[0] + "併せて検討すること。"}],
        },
    ]
    assert "closing" not in data and "fields" not in data and "extra_paragraphs" not in data
    assert apply_overrides(shared, data) == variant


def test_a_variant_imported_from_word_diffs_against_its_shared_letter():
    shared = letter_fixture.letter("b2")
    edited = dataclasses.replace(
        shared,
        addressee=dataclasses.replace(shared.addressee, honorific="殿"),
        sections=[Section("", shared.sections[0].items[:3])],
        numbering=numbering.CIRCLE,
    )
    imported = import_docx(render_letter(edited))
    overrides = letter_diff(shared, imported)
    assert stored(overrides) == {
        "version": 1,
        "addressee": {"honorific": "殿"},
        "numbering": "circle",
        "sections": [{"ref": 0, "items": [{"ref": [0, 0]}, {"ref": [0, 1]}, {"ref": [0, 2]}]}],
    }
    assert apply_overrides(shared, overrides) == edited


def test_an_edited_shared_letter_is_reported_and_the_addressees_own_text_is_kept():
    shared = letter_fixture.letter("b2")
    variant = dataclasses.replace(
        shared,
        paragraphs=["（この要請先だけの背景）", shared.paragraphs[1]],
        sections=[Section("", ["独自の要請を行うこと。", shared.sections[0].items[4]])],
    )
    overrides = letter_diff(shared, variant)
    changed = dataclasses.replace(
        shared, paragraphs=["（書き換えた背景）"], sections=[Section("", shared.sections[0].items[:2])]
    )
    problems = check_overrides(changed, overrides)
    assert problems == [
        "本文の第1段落は、この要請先の変更のあとで共通の要請書が書き換えられました。",
        "要請項目（1-5）は共通の要請書にもうありません（この要請先の要請書から外れます）。",
    ]
    letter = apply_overrides(changed, overrides)
    assert letter.paragraphs == ["（この要請先だけの背景）"]
    assert letter.sections == [Section("", ["独自の要請を行うこと。"])]


@pytest.mark.parametrize(
    "bad, message",
    [
        ([], "辞書"),
        ({"version": 2}, "version 2"),
        ({"colour": "red"}, "知らない項目"),
        ({"addressee": {"honorific": 1}}, "addressee.honorific"),
        ({"addressee": {"rank": "大臣"}}, "addressee に使える項目"),
        ({"paragraphs": [{"op": "move", "at": 0}]}, "replace / insert / remove"),
        ({"paragraphs": [{"op": "remove", "at": -1}]}, "0 以上の整数"),
        ({"sections": [{"ref": 0, "items": [{}]}]}, "ref か text"),
        ({"sections": [{"ref": 0, "items": [{"ref": [0]}]}]}, "[節, 項目]"),
        ({"fullwidth_digits": "yes"}, "true / false"),
    ],
)
def test_malformed_overrides_are_refused_in_japanese(bad, message):
    with pytest.raises(ValueError, match="要請先ごとの変更") as error:
        Overrides.from_dict(bad)
    assert message in str(error.value)


def test_overrides_dataclasses_and_json_agree():
    overrides = Overrides(
        date="●",
        paragraphs=[BodyEdit("insert", 0, "追加")],
        sections=[SectionRef(None, "新しい節について", [ItemRef(None, "新しい要請を行うこと。")])],
    )
    assert stored(overrides) == {
        "version": 1,
        "date": "●",
        "paragraphs": [{"op": "insert", "at": 0, "text": "追加"}],
        "sections": [{"ref": None, "heading": "新しい節について", "items": [{"text": "新しい要請を行うこと。"}]}],
    }
    assert Overrides.from_dict(stored(overrides)) == overrides


def test_char_diff_shows_the_rewording_of_issue_13():
    assert char_diff("市民また職員にとっても", "市民また組合員にとっても") == [
        ("equal", "市民また"),
        ("delete", "職"),
        ("insert", "組合"),
        ("equal", "員にとっても"),
    ]
    assert char_diff("", "") == [] and char_diff("同じ", "同じ") == [("equal", "同じ")]


@settings(max_examples=200, deadline=None)
@given(a=st.text(max_size=80), b=st.text(max_size=80))
def test_char_diff_runs_rebuild_both_texts(a, b):
    runs = char_diff(a, b)
    assert "".join(t for op, t in runs if op != "insert") == a
    assert "".join(t for op, t in runs if op != "delete") == b
    assert all(t for _op, t in runs) and all(x[0] != y[0] for x, y in zip(runs, runs[1:], strict=False))
