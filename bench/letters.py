#!/usr/bin/env python
"""Request-letter benchmark: one 100-item letter against plain python-docx, and a campaign's 50 letters as a ZIP.

    python bench/letters.py [--repeat 20] [--sections 10] [--items 10] [--addressees 50] [--zip-repeat 3]

1. **One letter.** A two-level letter of --sections × --items requests (about 120 Japanese characters each) is
   rendered --repeat times by consult.letters.render.render_letter (the default template), and the same
   paragraphs (same texts, labels, alignment, indents, keep-with-next, East Asian font on every run) are built
   --repeat times by a yardstick written in plain python-docx on the same template file, without our template
   logic (no placeholder search, no cleaning, no style lookup). Mean/median ms, the ratio ours/yardstick, and
   the tracemalloc peak of one render (a separate pass: tracemalloc slows Python down, so timing runs without it).
2. **The campaign ZIP.** A temp SQLite database (schema by migration) gets a campaign with two letters (100
   requests in 10 sections, and 15 flat requests) and --addressees addressees, some with a subset of items, an
   own greeting or an extra paragraph, all through consult.letters.operations. compose.campaign_zip() writes
   the ZIP to a temp file (timed --zip-repeat times, then once under tracemalloc), and GET
   /campaigns/<id>/letters.zip is fetched through the Flask test client logged in as HQ staff (time, SQL
   statements, bytes; tracemalloc peak in a second pass; ru_maxrss before/after).

3. **Overrides (issue 13).** The campaign is copied (operations.copy_campaign) and every addressee of the copy
   gets overrides (its own date, numbering, closing, a reworded paragraph, one line or spread names; on the big
   letter an own outline with a section dropped and every fifth request reworded). The copy's ZIP is timed
   against the plain campaign's ZIP (ratio); it must stay under 3 s.
4. **Import (issue 13).** The 100-item letter as DOCX, stored through operations.import_letter (read, campaign,
   letter, 110 items, addressee, overrides) --repeat times, each rolled back, against import_docx alone (read
   only); it must stay under 1 s.

A benchmark, not a test: it prints figures and writes bench/out/letters.json. No network: SQLite only.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from benchlib import RssSampler, StatementCounter, maxrss_mb
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Pt

from consult.letters import document as doc
from consult.letters import numbering
from consult.letters.render import default_template_path, render_letter

OUT_DIR = Path(__file__).resolve().parent / "out"
SECRET_KEY = "letters-benchmark-secret-not-for-production"
PASSWORD = "letters-benchmark-password"

# ---------------------------------------------------------------------------------------------------------
# Texts: realistic requests (from the 2025 DX letter), made unique and about 120 characters long.

SECTION_TOPICS = (
    "情報システムの標準化・共通化",
    "健康保険証とマイナンバーカードの一体化",
    "自治体DX推進のあり方に関する課題",
    "戸籍事務における氏名の振り仮名の記載",
    "ガバメントクラウドの利用料と財政支援",
    "自治体フロントヤード改革の推進",
    "デジタル人材の確保と育成",
    "情報セキュリティ対策の強化",
    "窓口業務の見直しと職員の労働条件",
    "住民サービスの質の確保",
)
REQUEST_STEMS = (
    "2026年度以降の移行とならざるを得ないこととなった「特定移行支援システム」については、「期限第一」とはせず"
    "「安全第一」の観点に立ち、システムベンダーまで含めた人員の確保にも留意しつつ、国費による確実な財政支援を行うこと。",
    "標準化にともない生じる20業務以外のシステム改修や設備投資についても、地域特性など必要性に応じたサービスを保障する"
    "ための措置であることから、あわせて国庫補助の対象とすること。",
    "ガバメントクラウド接続に係る利用料等が、結果としてランニングコストの大幅な増加につながっている自治体が多数ある"
    "ことから、ランニングコストまで含めた継続的な財政支援のあり方について、早急に検討すること。",
    "マイナンバーカードとの紐づけ作業や、資格確認書、資格情報のお知らせ、制度説明など、自治体における業務が急増して"
    "いることから、これに際する人員確保等の取り組みについて、国として支援を充実すること。",
    "地域特性などが考慮されない一律的な公表はせず、「先進事例」や「モデル事例」として一部の自治体を取り扱うよう、"
    "取り組み状況の公表のあり方を改善すること。",
)


def request_text(section: int, item: int) -> str:
    """120 characters: a tag naming the place, a realistic request, a common clause, ending in 「こと。」."""
    stem = REQUEST_STEMS[(section * 7 + item) % len(REQUEST_STEMS)][:-3]  # without こと。
    text = f"（第{section}分野{item}）" + stem + PADDING
    return text[:117].rstrip("、") + "こと。"


PADDING = "とともに、その実施にあたっては自治体および職員団体の意見を十分に聴取し、現場の負担が増えないよう配慮する"


def section_heading(section: int) -> str:
    return f"{SECTION_TOPICS[(section - 1) % len(SECTION_TOPICS)]}（{section}）について"


BACKGROUND = (
    "さて、政府は2020年に「デジタル・ガバメント実行計画」を閣議決定し、自治体の取り組むべき課題を明示しました。"
    "しかし、各自治体において、極めて広範、多岐にわたる課題への対応を一斉に迫られたため、DXにかかる膨大な業務が"
    "集中し、人員不足のみならず、想定をはるかに超える追加経費の発生まで見込まれる事態となっています。"
)
GREETING = "日頃より市民生活の向上にむけ、ご尽力いただいている貴職に敬意を表します。"
CLOSING = "つきましては、以下の通り要請します。"


def sample_letter(sections: int, items: int) -> doc.PrintedLetter:
    return doc.PrintedLetter(
        date_text="2025年3月●日",
        addressee=doc.PrintedAddressee(title="総務大臣", name="村上誠一郎", honorific="様"),
        sender_org="全日本自治団体労働組合",
        sender_title="中央執行委員長",
        sender_name="石上千博",
        title="自治体DXの推進に関する要請書",
        greeting=GREETING,
        paragraphs=[BACKGROUND],
        closing=CLOSING,
        sections=[
            doc.Section(section_heading(s), [request_text(s, i) for i in range(1, items + 1)])
            for s in range(1, sections + 1)
        ],
        numbering=numbering.DOT_PAREN,
    )


# ---------------------------------------------------------------------------------------------------------
# The yardstick: the same paragraphs in plain python-docx.


def yardstick(letter: doc.PrintedLetter, template_path: Path) -> bytes:
    """What a developer writes by hand: open the template, append the paragraphs, set font and indents."""
    document = Document(str(template_path))
    body = document.element.body
    for p in list(body.iterchildren(qn("w:p"))):  # start from an empty body, as ours replaces the placeholder
        body.remove(p)
    em = Pt(10.5)
    font = "ＭＳ 明朝"
    left, right = WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.RIGHT
    centre, justify = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.JUSTIFY

    def para(text="", align=None, style=None):
        p = document.add_paragraph(style=style)
        if text:
            run(p, text)
        if align is not None:
            p.alignment = align
        return p

    def run(p, text, hint=False):
        r = p.add_run(text)
        fonts = r._r.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), font)
        if hint:
            fonts.set(qn("w:hint"), "eastAsia")

    def hanging(label, text, width_em):
        p = para(align=justify)
        run(p, label, hint=True)
        run(p, text)
        p.paragraph_format.left_indent = int(em * width_em)
        p.paragraph_format.first_line_indent = -int(em * width_em)
        return p

    para(letter.date_text, right)
    for line in ("総務大臣", "　村上誠一郎　様"):
        para(line, left)
    para(letter.sender_org, right)
    para(f"{letter.sender_title}　{letter.sender_name}", right)
    para()
    para(letter.title, centre, style="Title")
    para()
    for text in (letter.greeting, *letter.paragraphs, letter.closing):
        p = para(text, justify)
        p.paragraph_format.first_line_indent = int(em)
    para()
    para("記", centre).paragraph_format.keep_with_next = True
    para().paragraph_format.keep_with_next = True
    digits = str.maketrans("0123456789", "０１２３４５６７８９")
    for s, section in enumerate(letter.sections, start=1):
        if s > 1:
            para()
        top = f"{s}．".translate(digits) if s < 10 else f"{s}．"
        hanging(top, section.heading, 2).paragraph_format.keep_with_next = True
        for i, text in enumerate(section.items, start=1):
            label = f"（{i}）".translate(digits) if i < 10 else f"（{i}）"
            last = hanging(label, text, 3)
    last.paragraph_format.keep_with_next = True
    para().paragraph_format.keep_with_next = True
    para("以上", right)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Measuring


def timed(fn, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def traced_peak(fn) -> tuple[float, object]:
    """tracemalloc peak (MB) of one call, in its own pass."""
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6, result


def summary(times: list[float]) -> dict:
    return {
        "n": len(times),
        "mean_ms": round(statistics.fmean(times), 1),
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
    }


def docx_paragraphs(data: bytes) -> int:
    return len(Document(io.BytesIO(data)).paragraphs)


def bench_single(args) -> dict:
    letter = sample_letter(args.sections, args.items)
    template = default_template_path()
    requests = sum(len(s.items) for s in letter.sections)
    ours_bytes, yard_bytes = render_letter(letter), yardstick(letter, template)  # warm-up (imports, caches)
    print(
        f"[letter] {args.sections} sections × {args.items} = {requests} requests, "
        f"{sum(len(t) for s in letter.sections for t in s.items) // requests} characters each on average; "
        f"paragraphs ours {docx_paragraphs(ours_bytes)} / yardstick {docx_paragraphs(yard_bytes)}"
    )
    rss0 = maxrss_mb()
    with RssSampler() as rss_o:
        ours = timed(lambda: render_letter(letter), args.repeat)
    rss_ours = maxrss_mb()
    with RssSampler() as rss_y:
        yard = timed(lambda: yardstick(letter, template), args.repeat)
    rss_yard = maxrss_mb()
    peak_ours, _ = traced_peak(lambda: render_letter(letter))
    peak_yard, _ = traced_peak(lambda: yardstick(letter, template))
    result = {
        "requests": requests,
        "repeat": args.repeat,
        "ours": {
            **summary(ours),
            "bytes": len(ours_bytes),
            "tracemalloc_peak_mb": round(peak_ours, 2),
            "rss_growth_mb": rss_o.growth_mb,
        },
        "yardstick": {
            **summary(yard),
            "bytes": len(yard_bytes),
            "tracemalloc_peak_mb": round(peak_yard, 2),
            "rss_growth_mb": rss_y.growth_mb,
        },
        "ratio_mean": round(statistics.fmean(ours) / statistics.fmean(yard), 2),
        "ratio_median": round(statistics.median(ours) / statistics.median(yard), 2),
        "maxrss_mb": {
            "before": round(rss0, 1),
            "after_ours": round(rss_ours, 1),
            "after_yardstick": round(rss_yard, 1),
        },
    }
    print(
        f"[letter] ours      mean {result['ours']['mean_ms']:7.1f} ms  median {result['ours']['median_ms']:7.1f} ms"
        f"  traced peak {peak_ours:4.1f} MB  RSS+ {rss_o.growth_mb} MB  {len(ours_bytes):,} bytes"
    )
    print(
        f"[letter] yardstick mean {result['yardstick']['mean_ms']:7.1f} ms  median "
        f"{result['yardstick']['median_ms']:7.1f} ms  traced peak {peak_yard:4.1f} MB  RSS+ {rss_y.growth_mb} MB  "
        f"{len(yard_bytes):,} bytes"
    )
    print(
        f"[letter] ratio ours/yardstick: mean {result['ratio_mean']}  median {result['ratio_median']}  "
        f"(ru_maxrss {rss0:.0f} → {rss_ours:.0f} → {rss_yard:.0f} MB)"
    )
    return result


# ---------------------------------------------------------------------------------------------------------
# The campaign


def build_campaign(app, addressees: int, sections: int, items: int) -> tuple[int, str]:
    """Schema, HQ, a staff user, and the campaign through the letters operations; returns (campaign id, login)."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from consult.auth.models import User
    from consult.extensions import db
    from consult.letters import operations as ops
    from consult.orgs.models import Organization

    now = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
    with app.app_context():
        upgrade()
        hq = Organization(code="hq", name="本部", kind="hq", position=0)
        db.session.add(hq)
        db.session.flush()
        db.session.add(
            User(
                login="staff",
                name="本部職員",
                role="staff",
                organization_id=hq.id,
                password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
            )
        )
        campaign = ops.create_campaign(
            ops.CampaignInput(
                title="自治体DX推進にかかる省庁要請",
                date_year=2025,
                date_month=3,
                date_day=None,
                sender_org="全日本自治団体労働組合",
                sender_title="中央執行委員長",
                sender_name="石上千博",
            ),
            now,
            user=None,
        )
        big = ops.add_letter(
            campaign,
            ops.LetterInput(
                title="自治体DXの推進に関する要請書",
                greeting=GREETING,
                background=BACKGROUND + "\n" + BACKGROUND,
                closing=CLOSING,
                numbering=numbering.DOT_PAREN,
            ),
            user=None,
            now=now,
        )
        small = ops.add_letter(
            campaign,
            ops.LetterInput(
                title="戸籍事務に関する要請書",
                greeting=GREETING,
                background=BACKGROUND,
                closing=CLOSING,
                numbering=numbering.DOT,
            ),
            user=None,
            now=now,
        )
        heads = []
        for s in range(1, sections + 1):
            head = ops.add_request_item(big, section_heading(s), user=None, now=now)
            heads.append(head)
            for i in range(1, items + 1):
                ops.add_request_item(big, request_text(s, i), parent=head, user=None, now=now)
        flat = [ops.add_request_item(small, request_text(90 + n, 1), user=None, now=now) for n in range(1, 16)]
        for n in range(1, addressees + 1):
            letter = small if n % 5 == 0 else big
            kind = ("ministry", "party", "other")[n % 3]
            own = "省" if kind == "ministry" else "党"
            extra = f"特に貴{own}におかれては、{BACKGROUND[:90]}" if n % 4 == 0 else ""
            addressee = ops.add_addressee(
                campaign,
                letter,
                ops.AddresseeInput(
                    organisation=f"要請先{n:02d}省" if kind == "ministry" else f"要請先{n:02d}党",
                    kind=kind,
                    title=f"要請先{n:02d}大臣" if kind == "ministry" else "代表",
                    name=f"氏名{n:02d}",
                    greeting="平素より格別のご高配を賜り、厚く御礼申し上げます。" if n % 6 == 0 else "",
                    extra_paragraph=extra,
                ),
                user=None,
                now=now,
            )
            if n % 3 == 0:  # a subset: two sections and some items of a third, or every other flat item
                if letter is big:
                    chosen = [
                        heads[n % sections].id,
                        heads[(n + 3) % sections].id,
                        *(c.id for c in heads[(n + 5) % sections].children[:4]),
                    ]
                else:
                    chosen = [item.id for item in flat[::2]]
                ops.set_addressee_items(addressee, chosen, user=None, now=now)
        db.session.commit()
        return campaign.id, "staff"


def bench_campaign(args, tmp: Path) -> dict:
    from consult import create_app
    from consult.extensions import db
    from consult.letters import compose
    from consult.letters.models import Campaign

    url = "sqlite:///" + str(tmp / "letters.sqlite")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET_KEY, "WTF_CSRF_ENABLED": False})
    start = time.perf_counter()
    campaign_id, login = build_campaign(app, args.addressees, args.sections, args.items)
    print(f"[zip] campaign built in {time.perf_counter() - start:.1f} s ({args.addressees} addressees)")

    def make_zip():
        with app.app_context():
            campaign = db.session.get(Campaign, campaign_id)
            with tempfile.TemporaryFile(dir=tmp) as f:
                report = compose.campaign_zip(campaign, f)
                size = f.tell()
                f.seek(0)
                with zipfile.ZipFile(f) as z:
                    names = z.namelist()
            db.session.remove()
        return size, len(report), names

    make_zip()  # warm-up
    rss0 = maxrss_mb()
    times, size, count = [], 0, 0
    with RssSampler() as rss_zip:
        for _ in range(args.zip_repeat):
            gc.collect()
            t0 = time.perf_counter()
            size, count, names = make_zip()
            times.append((time.perf_counter() - t0) * 1000)
    rss1 = maxrss_mb()
    peak, _ = traced_peak(make_zip)
    zip_result = {
        **summary(times),
        "letters": count,
        "zip_bytes": size,
        "tracemalloc_peak_mb": round(peak, 2),
        "rss_growth_mb": rss_zip.growth_mb,
        "per_letter_ms": round(statistics.median(times) / count, 1),
        "maxrss_mb": {"before": round(rss0, 1), "after": round(rss1, 1)},
        "first_names": names[:3],
    }
    print(
        f"[zip] compose.campaign_zip: median {zip_result['median_ms']:.0f} ms ({zip_result['per_letter_ms']} ms a "
        f"letter), {count} letters, {size:,} bytes, tracemalloc peak {peak:.1f} MB, RSS+ {rss_zip.growth_mb} MB"
    )

    client = app.test_client()
    response = client.post("/login", data={"login": login, "password": PASSWORD})
    assert response.status_code == 302, response.status_code

    def fetch():
        response = client.get(f"/campaigns/{campaign_id}/letters.zip")
        assert response.status_code == 200, response.status_code
        total = 0
        for chunk in response.response:  # send_file: a file wrapper read block by block
            total += len(chunk)
        response.close()
        return total

    fetch()  # warm-up
    with app.app_context():
        engine = db.engine
    rss0 = maxrss_mb()
    counter = StatementCounter(engine)
    http_times, nbytes = [], 0
    try:
        with RssSampler() as rss_http:
            for _ in range(args.zip_repeat):
                gc.collect()
                t0 = time.perf_counter()
                nbytes = fetch()
                http_times.append((time.perf_counter() - t0) * 1000)
    finally:
        counter.close()
    rss1 = maxrss_mb()
    peak_http, _ = traced_peak(fetch)
    http_result = {
        **summary(http_times),
        "bytes": nbytes,
        "statements": counter.count // args.zip_repeat,
        "tracemalloc_peak_mb": round(peak_http, 2),
        "rss_growth_mb": rss_http.growth_mb,
        "maxrss_mb": {"before": round(rss0, 1), "after": round(rss1, 1)},
    }
    print(
        f"[zip] GET /campaigns/{campaign_id}/letters.zip: median {http_result['median_ms']:.0f} ms, "
        f"{http_result['statements']} SQL statements, {nbytes:,} bytes, tracemalloc peak {peak_http:.1f} MB, "
        f"RSS+ {rss_http.growth_mb} MB, ru_maxrss {rss0:.0f} → {rss1:.0f} MB"
    )
    overrides_result = bench_overrides(app, campaign_id, args, tmp)
    import_result = bench_import(app, args)
    with app.app_context():
        db.engine.dispose()
    return {"campaign_zip": zip_result, "http_zip": http_result, "overrides_zip": overrides_result,
            "import": import_result}  # fmt: skip


def add_overrides(app, campaign_id: int) -> int:
    """A copy of the campaign whose every addressee has overrides; returns the copy's id."""
    from consult.extensions import db
    from consult.letters import operations as ops
    from consult.letters.models import Campaign

    now = datetime(2025, 3, 2, 1, 0, tzinfo=UTC)
    styles = [numbering.DOT_CIRCLE, numbering.PAREN_CIRCLE, numbering.DOT_PAREN]
    with app.app_context():
        copy = ops.copy_campaign(db.session.get(Campaign, campaign_id), (2025, 4, None), user=None, now=now)
        for n, addressee in enumerate(copy.addressees, start=1):
            letter = addressee.letter
            shared = [p for p in letter.background.split("\n") if p]
            outline = None
            if len(letter.top_items()) > 1 and addressee.all_items:
                outline = []
                for s_n, top in enumerate(letter.top_items()):
                    if s_n == n % len(letter.top_items()):
                        continue  # one section dropped
                    outline.append((top.id, True, None))
                    outline.extend(
                        (c.id, False, c.text.replace("こと。", "よう求める。") if i % 5 == 0 else None)
                        for i, c in enumerate(top.children)
                    )
            ops.set_addressee_overrides(
                addressee,
                ops.OverridesInput(
                    date_mode="fixed",
                    date_year=2025,
                    date_month=4,
                    date_day=1 + n % 28,
                    date_style="era" if n % 2 else "western",
                    one_line=n % 3 == 0,
                    spread=n % 4 == 0,
                    closing=f"つきましては、要請先{n:02d}の立場から以下の通り要請します。",
                    numbering=styles[n % 3] if numbering.is_two_level_style(letter.numbering) else numbering.CIRCLE,
                    background="\n".join([shared[0].replace("自治体", "組合員"), *shared[1:]]),
                    outline=outline,
                ),
                user=None,
                now=now,
            )
        db.session.commit()
        return copy.id


def bench_overrides(app, campaign_id: int, args, tmp: Path) -> dict:
    from consult.extensions import db
    from consult.letters import compose
    from consult.letters.models import Campaign

    start = time.perf_counter()
    copy_id = add_overrides(app, campaign_id)
    print(f"[overrides] campaign copied and every addressee given overrides in {time.perf_counter() - start:.1f} s")

    def make_zip():
        with app.app_context():
            with tempfile.TemporaryFile(dir=tmp) as f:
                report = compose.campaign_zip(db.session.get(Campaign, copy_id), f)
                size = f.tell()
            db.session.remove()
        return size, len(report)

    def plain_zip():
        with app.app_context():
            with tempfile.TemporaryFile(dir=tmp) as f:
                compose.campaign_zip(db.session.get(Campaign, campaign_id), f)
            db.session.remove()

    make_zip()
    times, plain = [], []
    for _ in range(args.zip_repeat):  # alternated with the plain ZIP, so a busy machine weighs on both alike
        gc.collect()
        t0 = time.perf_counter()
        size, count = make_zip()
        times.append((time.perf_counter() - t0) * 1000)
        gc.collect()
        t0 = time.perf_counter()
        plain_zip()
        plain.append((time.perf_counter() - t0) * 1000)
    result = {**summary(times), "letters": count, "zip_bytes": size, "plain": summary(plain),
              "ratio_to_plain": round(statistics.median(times) / statistics.median(plain), 2),
              "under_3_s": min(times) < 3000}  # fmt: skip
    print(
        f"[overrides] ZIP of {count} letters, each with overrides: median {result['median_ms']:.0f} ms, "
        f"min {min(times):.0f} ms, max {max(times):.0f} ms (limit 3000 ms: "
        f"{'ok' if result['under_3_s'] else 'OVER'}); plain campaign alternated: median "
        f"{result['plain']['median_ms']:.0f} ms; ratio {result['ratio_to_plain']}×"
    )
    return result


def bench_import(app, args) -> dict:
    from consult.extensions import db
    from consult.letters import operations as ops
    from consult.letters.docx_import import import_docx

    data = render_letter(sample_letter(args.sections, args.items))
    now = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)

    def store():
        with app.app_context():
            result = ops.import_letter(data, user=None, now=now)
            items = len(result.letter.items)
            db.session.rollback()
        return items

    items = store()  # warm-up
    stored = timed(store, args.repeat)
    read = timed(lambda: import_docx(data), args.repeat)
    result = {**summary(stored), "items": items, "read_only": summary(read),
              "ratio_to_read_only": round(statistics.median(stored) / statistics.median(read), 2),
              "under_1_s": statistics.median(stored) < 1000}  # fmt: skip
    print(
        f"[import] {items}-entry letter read and stored (operations.import_letter): median "
        f"{result['median_ms']:.0f} ms, max {max(stored):.0f} ms (limit 1000 ms on the median: "
        f"{'ok' if result['under_1_s'] else 'OVER'}); read only {result['read_only']['median_ms']:.0f} ms, "
        f"{result['ratio_to_read_only']}×"
    )
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="renders per variant of the single letter")
    parser.add_argument("--sections", type=int, default=10)
    parser.add_argument("--items", type=int, default=10, help="requests per section")
    parser.add_argument("--addressees", type=int, default=50)
    parser.add_argument("--zip-repeat", type=int, default=5, help="timed runs of the ZIP and of the HTTP route")
    parser.add_argument("--skip-zip", action="store_true")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, 1-min load {os.getloadavg()[0]:.2f}")
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "load_before": round(os.getloadavg()[0], 2),
        "single_letter": bench_single(args),
    }
    if not args.skip_zip:
        with tempfile.TemporaryDirectory(prefix="consult-bench-letters-") as tmp:
            result.update(bench_campaign(args, Path(tmp)))
    result["load_after"] = round(os.getloadavg()[0], 2)
    result["maxrss_mb_final"] = round(maxrss_mb(), 1)
    result["wall_s"] = round(time.perf_counter() - started, 1)
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "letters.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"wrote {OUT_DIR / 'letters.json'} ({result['wall_s']} s, 1-min load {result['load_after']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
