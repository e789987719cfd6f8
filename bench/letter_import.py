#!/usr/bin/env python
"""Letter-import benchmark: reading a 100-item letter from DOCX, against plain python-docx reading its paragraphs.

    python bench/letter_import.py [--repeat 20] [--sections 10] [--items 10]

1. **App-written letter.** The two-level letter of bench/letters.py (--sections × --items requests of about 120
   Japanese characters) is rendered once by consult.letters.render; consult.letters.docx_import.import_docx reads
   it --repeat times. The **baseline** opens the same bytes with python-docx and collects every paragraph's text
   (``[p.text for p in Document(...).paragraphs]``), which is the least any importer has to do.
2. **Word-written letter.** The same requests as a person writes them in Word: Word's automatic numbering
   (numbering.xml, １．／（１）), typed 「　」 indents, a spread name (tests/word_letters.py builds it), read the same
   way against the same baseline.
3. **Per-addressee overrides** of the 100-item letter: letter_diff against a variant with every tenth request
   reworded, a section dropped and the order of another reversed, then apply_overrides.
Mean/median ms and the ratio to the baseline; the tracemalloc peak of one import in its own pass. A benchmark, not
a test: it prints figures and writes bench/out/letter_import.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import statistics
import sys
from pathlib import Path

from benchlib import write_result
from docx import Document
from letters import sample_letter, summary, timed, traced_peak

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import word_letters  # noqa: E402  (the Word-style builders of the tests)

from consult.letters.diffing import apply_overrides, letter_diff  # noqa: E402
from consult.letters.document import Section  # noqa: E402
from consult.letters.docx_import import import_docx  # noqa: E402
from consult.letters.render import render_letter  # noqa: E402


def baseline(data: bytes) -> list[str]:
    """Plain python-docx: open the file and read every paragraph's text."""
    return [p.text for p in Document(io.BytesIO(data)).paragraphs]


def word_written(letter) -> bytes:
    """The letter as a person types it in Word: automatic numbering on two levels, 「　」 indents."""
    d = Document()
    word_letters.define_numbering(
        d,
        {
            10: [
                word_letters.level_xml(0, "decimalFullWidth", "%1．"),
                word_letters.level_xml(1, "decimalFullWidth", "（%2）"),
            ]
        },
        {10: (10, {})},
    )
    add = word_letters.add
    add(d, letter.date_text, word_letters.RIGHT)
    add(d, "総 務 大 臣")
    add(d, "　村 上 誠 一 郎　様")
    add(d, letter.sender_org, word_letters.RIGHT)
    add(d, f"{letter.sender_title}　{letter.sender_name}", word_letters.RIGHT)
    add(d, letter.title, word_letters.CENTER)
    for text in (letter.greeting, *letter.paragraphs, letter.closing):
        add(d, "　" + text)
    add(d, "記", word_letters.CENTER)
    for section in letter.sections:
        add(d, section.heading, num=(10, 0))
        for item in section.items:
            add(d, item, num=(10, 1))
    add(d, "以上", word_letters.RIGHT)
    return word_letters._save(d)


def compare(name: str, data: bytes, repeat: int, requests: int) -> dict:
    imported = import_docx(data)  # warm-up, and a check that the benchmark reads what it should
    assert sum(not i.heading for i in imported.items) == requests, name
    ours = timed(lambda: import_docx(data), repeat)
    base = timed(lambda: baseline(data), repeat)
    peak, _ = traced_peak(lambda: import_docx(data))
    result = {
        "bytes": len(data),
        "paragraphs": len(baseline(data)),
        "ours": summary(ours),
        "baseline": summary(base),
        "ratio_mean": round(statistics.fmean(ours) / statistics.fmean(base), 2),
        "ratio_median": round(statistics.median(ours) / statistics.median(base), 2),
        "tracemalloc_peak_mb": round(peak, 2),
    }
    print(f"[{name}] {len(data):,} bytes, {result['paragraphs']} paragraphs, {requests} requests")
    print(
        f"[{name}]   import_docx  mean {result['ours']['mean_ms']:7.1f} ms  median {result['ours']['median_ms']:7.1f}"
        f" ms  max {result['ours']['max_ms']:7.1f} ms  traced peak {peak:.1f} MB"
    )
    print(
        f"[{name}]   baseline     mean {result['baseline']['mean_ms']:7.1f} ms  median "
        f"{result['baseline']['median_ms']:7.1f} ms"
    )
    print(f"[{name}]   ratio import/baseline: mean {result['ratio_mean']}  median {result['ratio_median']}")
    return result


def bench_overrides(letter, repeat: int) -> dict:
    sections = [
        Section(s.heading, [t + "併せて検討すること。" if i % 10 == 0 else t for i, t in enumerate(s.items)])
        for s in letter.sections[1:]
    ]
    sections[0] = Section(sections[0].heading, sections[0].items[::-1])
    variant = dataclasses.replace(letter, sections=sections, greeting="日頃より組合員の福祉の向上にご尽力いただき。")
    overrides = letter_diff(letter, variant)
    assert apply_overrides(letter, overrides) == variant
    diff_ms = timed(lambda: letter_diff(letter, variant), repeat)
    apply_ms = timed(lambda: apply_overrides(letter, overrides), repeat)
    stored = json.dumps(overrides.to_dict(), ensure_ascii=False)
    result = {"diff": summary(diff_ms), "apply": summary(apply_ms), "json_bytes": len(stored.encode())}
    print(
        f"[overrides] letter_diff mean {result['diff']['mean_ms']:.1f} ms, apply_overrides mean "
        f"{result['apply']['mean_ms']:.2f} ms, stored as {result['json_bytes']:,} bytes of JSON"
    )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--sections", type=int, default=10)
    parser.add_argument("--items", type=int, default=10)
    args = parser.parse_args(argv)
    letter = sample_letter(args.sections, args.items)
    requests = args.sections * args.items
    result = {
        "repeat": args.repeat,
        "requests": requests,
        "load_before": round(os.getloadavg()[0], 2),
        "app_written": compare("app-written", render_letter(letter), args.repeat, requests),
        "word_written": compare("word-written", word_written(letter), args.repeat, requests),
        "overrides": bench_overrides(letter, args.repeat),
        "load_after": round(os.getloadavg()[0], 2),
    }
    write_result("letter_import", result)
    print(f"wrote bench/out/letter_import.json (1-min load {result['load_before']} → {result['load_after']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
