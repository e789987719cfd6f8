#!/usr/bin/env python
"""Similarity benchmark: groups of similar opinions for the 3,000 opinions of one item (consult.core.search.similarity).

    python bench/similarity.py [--opinions 3000] [--repeat 5] [--round 0]

1. **Opinions** (bench/jatext.py, deterministic): 70 % say one of 12 talking points -- the point as written or one
   of two paraphrases, with other endings, synonyms, a branch's preamble, full/half-width variants, now and then a
   clause left out; 15 % of those add a sentence on another matter (*mixed*: they say two things) -- and 30 % are
   on other matters (clauses of the DX request letters).
2. **Time**, median of --repeat runs after one warm-up: `Corpus.build` (fold, n-grams, TF-IDF), `Corpus.groups`
   (similarity matrix, average-linkage clustering, shared words), and `Corpus.similar` for one opinion (median
   of 200 opinions); the peak RSS growth while grouping (a thread sampling /proc/self/statm).
3. **Quality** against the labels: pairwise precision (of the pairs put in one group with at least one labelled
   member, how many share the label) and recall (of the pairs sharing a label, how many are in one group), over
   all labelled opinions and over those that are not mixed; groups made only of opinions on other matters are
   counted apart (they share a clause of the same letter; nothing is wrong with grouping them).
4. **Baseline**, run alongside: the same pipeline with the usual character 2-3-grams (`char_2_3_grams`) instead
   of `content_grams`, at its own best threshold among 0.2-0.5; and the separation of paraphrases from other
   points (lowest paraphrase pair vs highest pair of different points) for both.
5. **Stability**: the groups of the opinions in another order are the same groups (else the benchmark stops).
6. With --round N: a corpus of a whole round of N opinions (three fields each, bench/jatext.round_opinions),
   as `GET /api/v1/opinions/{id}/similar` over a round would need: build time and similar() per opinion.

A benchmark, not a test: it prints its figures and writes bench/out/similarity.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from benchlib import RssSampler
from jatext import PARAPHRASES, TALKING_POINTS, item_opinions, round_opinions

from consult.core.search.similarity import DEFAULT_THRESHOLD, Corpus, char_2_3_grams, content_grams

OUT_DIR = Path(__file__).resolve().parent / "out"


def timed(fn, repeat: int):
    """Median seconds of `repeat` calls after one warm-up, and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def quality(groups, rows, skip_mixed: bool = False) -> dict:
    """Pairwise precision and recall of the groups against the talking-point labels."""
    label = {i: lab for i, _, lab, mixed in rows if not (skip_mixed and mixed)}
    truth = Counter(lab for lab in label.values() if lab is not None)
    true_pairs = sum(v * (v - 1) // 2 for v in truth.values())
    good = bad = others_only = 0
    for g in groups:
        labels = Counter(label[i] for i in g.ids if i in label)
        others = labels.pop(None, 0)
        if not labels:
            others_only += 1
            continue
        size = sum(labels.values()) + others
        same = sum(v * (v - 1) // 2 for v in labels.values())
        good += same
        bad += size * (size - 1) // 2 - others * (others - 1) // 2 - same
    precision = good / (good + bad) if good + bad else 1.0
    recall = good / true_pairs if true_pairs else 1.0
    return {
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(2 * precision * recall / (precision + recall), 3) if precision + recall else 0.0,
        "groups": len(groups),
        "groups_of_other_matters": others_only,
    }


def separation(features) -> dict:
    """Lowest similarity of two paraphrases of one point, and highest of two different points."""
    docs = []
    for p, point in enumerate(TALKING_POINTS):
        docs += [(p * 10, point)] + [(p * 10 + 1 + j, q) for j, q in enumerate(PARAPHRASES[p])]
    corpus = Corpus.build(docs, features=features)
    sims, ids = corpus.similarities(), corpus.ids
    same, other = [], []
    for a in range(len(ids)):
        for b in range(a + 1, len(ids)):
            (same if ids[a] // 10 == ids[b] // 10 else other).append(float(sims[a, b]))
    return {
        "paraphrase_min": round(min(same), 3),
        "paraphrase_median": round(statistics.median(same), 3),
        "different_points_max": round(max(other), 3),
    }


def run_item(args) -> dict:
    rows = item_opinions(args.opinions)
    docs = [(i, text) for i, text, _, _ in rows]
    build_s, corpus = timed(lambda: Corpus.build(docs), args.repeat)
    groups_s, groups = timed(lambda: corpus.groups(args.threshold), args.repeat)
    whole_s, _ = timed(lambda: Corpus.build(docs).groups(args.threshold), args.repeat)
    with RssSampler() as rss:
        Corpus.build(docs).groups(args.threshold)
    probes = [i for i, _, _, _ in rows[:: max(1, len(rows) // 200)]]
    similar_times = []
    for i in probes:
        started = time.perf_counter()
        corpus.similar(i)
        similar_times.append(time.perf_counter() - started)
    shuffled = docs[:]
    random.Random(7).shuffle(shuffled)
    if Corpus.build(shuffled).groups(args.threshold) != groups:
        raise SystemExit("the same opinions in another order gave other groups")

    baseline_runs = {}
    for threshold in (0.2, 0.3, 0.4, 0.5):
        base_corpus = Corpus.build(docs, features=char_2_3_grams)
        baseline_runs[threshold] = quality(base_corpus.groups(threshold=threshold), rows)
    best = max(baseline_runs, key=lambda t: baseline_runs[t]["f1"])
    base_s, _ = timed(lambda: Corpus.build(docs, features=char_2_3_grams).groups(threshold=best), args.repeat)
    result = {
        "opinions": len(rows),
        "threshold": args.threshold,
        "build_s": round(build_s, 3),
        "groups_s": round(groups_s, 3),
        "build_and_groups_s": round(whole_s, 3),
        "similar_ms": round(statistics.median(similar_times) * 1000, 2),
        "rss_growth_mb": rss.growth_mb,
        "quality": quality(groups, rows),
        "quality_not_mixed": quality(groups, rows, skip_mixed=True),
        "baseline": {
            "features": "char_2_3_grams",
            "best_threshold": best,
            "build_and_groups_s": round(base_s, 3),
            "quality": baseline_runs[best],
            "by_threshold": baseline_runs,
            "quality_not_mixed": quality(
                Corpus.build(docs, features=char_2_3_grams).groups(best), rows, skip_mixed=True
            ),
        },
        "separation": {"content_grams": separation(content_grams), "char_2_3_grams": separation(char_2_3_grams)},
        "largest_groups": [
            {"size": len(g.ids), "key": g.key, "cohesion": g.cohesion, "terms": list(g.terms)} for g in groups[:14]
        ],
    }
    return result


def run_round(n: int) -> dict:
    docs = [(i, "\n".join(fields)) for i, fields in round_opinions(n)]
    started = time.perf_counter()
    corpus = Corpus.build(docs)
    build_s = time.perf_counter() - started
    times = []
    for i in range(1, n + 1, max(1, n // 50)):
        started = time.perf_counter()
        corpus.similar(i)
        times.append(time.perf_counter() - started)
    return {
        "opinions": n,
        "build_s": round(build_s, 1),
        "similar_ms": round(statistics.median(times) * 1000, 1),
        "features": corpus.matrix.shape[1],
        "nonzeros": int(corpus.matrix.nnz),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opinions", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--round", type=int, default=0, help="also a whole round of this many opinions")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    args = parser.parse_args(argv)
    np.seterr(all="raise")
    result = run_item(args)
    q, qn, b = result["quality"], result["quality_not_mixed"], result["baseline"]
    print(f"== one item, {result['opinions']:,} opinions, threshold {result['threshold']}")
    print(
        f"   build {result['build_s']} s, groups {result['groups_s']} s, build + groups "
        f"{result['build_and_groups_s']} s, similar() {result['similar_ms']} ms, "
        f"RSS growth {result['rss_growth_mb']} MB"
    )
    print(
        f"   quality: precision {q['precision']}, recall {q['recall']}, F1 {q['f1']} ({q['groups']} groups, "
        f"{q['groups_of_other_matters']} of other matters only); without mixed opinions: precision "
        f"{qn['precision']}, recall {qn['recall']}, F1 {qn['f1']}"
    )
    bq, bqn = b["quality"], b["quality_not_mixed"]
    print(
        f"   baseline {b['features']} at its best threshold {b['best_threshold']}: build + groups "
        f"{b['build_and_groups_s']} s, precision {bq['precision']}, recall {bq['recall']}, F1 {bq['f1']} "
        f"({bq['groups']} groups); without mixed: F1 {bqn['f1']}"
    )
    for name, sep in result["separation"].items():
        print(
            f"   separation {name}: paraphrases of one point >= {sep['paraphrase_min']} (median "
            f"{sep['paraphrase_median']}), different points <= {sep['different_points_max']}"
        )
    for g in result["largest_groups"]:
        print(f"   group of {g['size']:>3} (key {g['key']}, cohesion {g['cohesion']}): {' / '.join(g['terms'])}")
    if args.round:
        result["round"] = run_round(args.round)
        r = result["round"]
        print(f"== a whole round, {r['opinions']:,} opinions: build {r['build_s']} s, similar() {r['similar_ms']} ms")
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "similarity.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
