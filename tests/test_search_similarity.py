"""Groups of similar opinions: a hand-labelled set, stable groups, "opinions like this one", the shared words."""

from __future__ import annotations

import random

import pytest

from consult.core.search.similarity import DEFAULT_THRESHOLD, Corpus, groups, shared_terms, similar, words

# Eight opinions on one draft, as branches would write them: 101-104 ask the same thing (keep the health-insurance
# card, do not rush the My Number card) in four wordings; the other four are on other matters, two of them on
# the same subject (health insurance, costs) as the four.
SAME = {101, 102, 103, 104}
LABELLED = [
    (101, "マイナ保険証への一本化は拙速であり、現行の健康保険証の廃止は延期すること。"),
    (102, "現行の健康保険証を当面残すこと。マイナンバーカードとの一体化は拙速で、保険証の廃止時期を見直すべきである。"),
    (103, "健康保険証の廃止を延期し、マイナ保険証を持たない人への資格確認書の発行を徹底すること。"),
    (104, "ﾏｲﾅ保険証のトラブルが続いており、紙の健康保険証の廃止は延期すべきである。"),
    (105, "ガバメントクラウドの利用料が想定を超えており、ランニングコストへの財政支援を行うこと。"),
    (106, "国民健康保険の保険料負担が限界に達しており、国庫負担を引き上げること。"),
    (107, "戸籍の振り仮名の届出について、自治体向けのヘルプデスクを新設すること。"),
    (108, "消費税の逆進性を緩和するため、給付付き税額控除を導入すること。"),
]


def _pairs(ids) -> set[frozenset]:
    ids = sorted(ids)
    return {frozenset((a, b)) for i, a in enumerate(ids) for b in ids[i + 1 :]}


def test_the_four_opinions_that_say_the_same_thing_are_one_group():
    found = groups(LABELLED)
    predicted = set().union(*(_pairs(g.ids) for g in found)) if found else set()
    expected = _pairs(SAME)
    precision = len(predicted & expected) / len(predicted)
    recall = len(predicted & expected) / len(expected)
    print(f"hand-labelled set at {DEFAULT_THRESHOLD}: precision {precision:.2f}, recall {recall:.2f}")
    assert (precision, recall) == (1.0, 1.0)
    assert [g.ids for g in found] == [(101, 102, 103, 104)]
    group = found[0]
    assert group.key == 101 and DEFAULT_THRESHOLD <= group.cohesion < 1
    assert {"健康保険証", "マイナ保険証", "廃止"} <= set(group.terms)


def test_opinions_like_this_one_come_most_similar_first():
    ranked = similar(LABELLED, 101, limit=7, min_score=0)
    assert {i for i, _ in ranked[:3]} == SAME - {101}
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True) and 101 not in {i for i, _ in ranked}
    assert ranked[3][0] == 106 and ranked[3][1] < 0.2  # the same subject, another demand: far behind
    assert all(score < 0.05 for i, score in ranked[4:])
    assert similar(LABELLED, 101, limit=2) == ranked[:2]
    assert [i for i, _ in similar(LABELLED, 101)] == [i for i, _ in ranked[:4]]  # min_score 0.1 drops the rest
    with pytest.raises(KeyError):
        similar(LABELLED, 999)


def test_groups_stay_the_same_when_nothing_has_changed():
    docs = LABELLED + [
        (200 + i, text + "単組からも同様の意見が多数寄せられた。") for i, (_, text) in enumerate(LABELLED)
    ]
    first = groups(docs)
    shuffled = docs[:]
    random.Random(3).shuffle(shuffled)
    assert groups(shuffled) == first == groups(docs)
    assert [g.key for g in first] == [min(g.ids) for g in first]


def test_width_and_kana_variants_are_the_same_opinion():
    corpus = Corpus.build(
        [
            (1, "自治体ＤＸの推進にはｻｰﾊﾞｰの更新費用が必要"),
            (2, "自治体DXの推進にはサーバの更新費用が必要"),
            (3, "教職員定数の改善"),
        ]
    )
    assert corpus.similar(1, min_score=0)[0] == (2, 1.0)


def test_a_higher_threshold_asks_for_closer_opinions():
    assert [g.ids for g in groups(LABELLED, threshold=0.35)] == [(101, 102, 104)]
    assert [g.ids for g in groups(LABELLED, threshold=0.5)] == [(101, 104)]
    assert groups(LABELLED, threshold=0.9) == []
    assert [g.ids for g in groups(LABELLED, min_size=5)] == []


@pytest.mark.parametrize("docs", [[], [(1, "一件だけ")], [(1, ""), (2, ""), (3, "、。")]])
def test_too_few_or_empty_texts_make_no_group(docs):
    assert groups(docs) == []


def test_ids_must_be_unique():
    with pytest.raises(ValueError):
        Corpus.build([(1, "a"), (1, "b")])


def test_words_are_cut_at_particles_and_keep_their_okurigana():
    assert words("マイナ保険証への一本化は拙速であり、給付付き税額控除を引き上げ") >= {
        "マイナ保険証",
        "一本化",
        "拙速",
        "給付付き税額控除",
    }
    assert words("ＤＸの推進") == {"DX", "推進"}


def test_shared_terms_are_the_words_most_texts_hold():
    texts = ["マイナ保険証の廃止は延期", "マイナ保険証の廃止を見直す", "マイナ保険証の延期", "教職員定数の改善"]
    assert shared_terms(texts) == ["マイナ保険証", "廃止", "延期"]
    assert shared_terms(texts, limit=1) == ["マイナ保険証"]
