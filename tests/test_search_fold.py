"""Japanese-aware folding: width, case, kana and long-vowel variants fold alike; highlights land on the original."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consult.core.search.fold import fold, fold_map, highlight, match_spans, terms


@pytest.mark.parametrize(
    "variants",
    [
        ["ＤＸ推進", "DX推進", "dx推進", "Ｄｘ推進"],
        ["デジタル化", "ﾃﾞｼﾞﾀﾙ化", "でじたる化", "テ゛シ゛タル化"],
        ["マイナンバーカード", "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ", "まいなんばーかーど"],
        ["サーバーの更新", "サーバの更新", "サ－バ－の更新", "サ―バの更新", "ｻｰﾊﾞｰの更新", "サーバーーの更新"],
        ["コンピューター", "コンピュータ"],
        ["令和７年　３月", "令和7年 3月", " 令和7年\n\t3月 "],
        ["山﨑副委員長", "山崎副委員長"],
        ["２０２５－２０２６", "2025-2026", "2025‐2026", "2025−2026"],
        ["資格確認書\u200bの発行", "資格確認書の発行", "資格確認書\u00adの発行"],
    ],
)
def test_variants_fold_alike(variants):
    assert len({fold(v) for v in variants}) == 1, [fold(v) for v in variants]


def test_folded_form_is_hiragana_lower_case_and_single_spaced():
    assert fold("ガバメントクラウド　ＡＷＳ") == "がばめんとくらうど aws"
    assert fold("㍻３１年") == "平成31年"
    assert fold(None) == "" and fold("   ") == ""


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("メール", "対応を求める"),  # ー inside a word stays: メール never folds to める
        ("データ", "ので、たとえば"),
        ("キー", "引き続き"),  # a one-sound word keeps its ー: キー is not き
        ("カー", "いかがか"),
    ],
)
def test_long_vowels_inside_words_and_after_one_sound_are_kept(query, text):
    assert fold(query) not in fold(text)


def test_a_word_final_long_vowel_folds_away_only_at_the_end_of_the_katakana_word():
    assert fold("サーバー") == fold("サーバ") == "さーば"
    assert fold("サーバーシステム") == "さーばーしすてむ"  # inside the compound the mark stays
    assert fold("ー") == "ー" and fold("すごーい") == "すごーい"


def test_the_wave_dash_marks_ranges_not_long_vowels():
    assert fold("3月〜5月") == fold("3月～5月") == "3月~5月"


def test_query_terms_are_folded_split_and_unique():
    assert terms("  ﾏｲﾅ　保険証  マイナ ") == ["まいな", "保険証"]
    assert terms("") == [] and terms(None) == []
    assert len(terms(" ".join(f"語{i}" for i in range(30)))) == 10


def test_fold_map_points_each_folded_character_at_the_original():
    mapped = fold_map("ﾃﾞｼﾞﾀﾙ化")
    assert mapped.folded == "でじたる化"
    assert [mapped.text[a:b] for a, b in zip(mapped.starts, mapped.ends, strict=True)] == ["ﾃﾞ", "ｼﾞ", "ﾀ", "ﾙ", "化"]


@pytest.mark.parametrize(
    ("text", "query", "expected"),
    [
        ("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞの申請", "マイナンバーカード", [("ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ", True), ("の申請", False)]),
        ("自治体ＤＸの推進", "dx", [("自治体", False), ("ＤＸ", True), ("の推進", False)]),
        ("サーバーの更新", "サーバ", [("サーバー", True), ("の更新", False)]),
        ("サーバーシステム", "サーバー", [("サーバー", True), ("システム", False)]),
        ("㍻の制度", "平成", [("㍻", True), ("の制度", False)]),
        (
            "保険証の廃止と保険証",
            "保険証 廃止",
            [("保険証", True), ("の", False), ("廃止", True), ("と", False), ("保険証", True)],
        ),
        ("標準化・共通化", "標準 準化", [("標準化", True), ("・共通化", False)]),  # overlapping matches merge
        ("関係のない文", "税", [("関係のない文", False)]),
        ("", "税", []),
    ],
)
def test_highlight_cuts_the_original_text(text, query, expected):
    assert highlight(text, query) == expected


def test_highlight_takes_folded_terms_too():
    assert match_spans("ＤＸとDX", ["dx"]) == [(0, 2), (3, 5)]


# Characters that change length or meaning under folding, with plain ones between them.
_ALPHABET = st.sampled_from(
    list("アイウカガサーバﾃﾞｼﾞﾀﾙｰｶﾞﾟ゛゜ぁあいうえお漢字化 　\t\n-‐―－〜～ABCabcßİ①㍻㈱\u200b\u00ad\u3099\u0301")
    + ["ᄀ", "ᅡ", "ᆨ", "가", "\ufe0f", "é", "e\u0301"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_fold_map_agrees_with_fold_and_highlight_rebuilds_the_text(text):
    mapped = fold_map(text)
    assert mapped.folded == fold(text)
    assert fold(mapped.folded) == mapped.folded  # a folded query term folds to itself
    assert all(0 <= a < b <= len(text) for a, b in zip(mapped.starts, mapped.ends, strict=True))
    assert list(mapped.starts) == sorted(mapped.starts)
    for term in terms(text[len(text) // 3 :])[:3]:
        segments = highlight(text, term)
        assert "".join(s for s, _ in segments) == text
        if term in mapped.folded:
            assert any(is_match for _, is_match in segments)
