"""From stored campaign to printed letter: numbering, honorifics, dates, subsets, per-addressee text, hostile text,
file names and the uploaded template."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.oxml.ns import qn
from sqlalchemy import text as sql

from consult.extensions import db
from consult.letters import numbering
from consult.letters import operations as ops
from consult.letters.compose import (
    build_letter,
    campaign_zip,
    current_template,
    letter_filename,
    render_addressee,
)
from consult.letters.models import Addressee, Campaign
from consult.letters.render import default_template_path

SENDER = ("全日本自治団体労働組合", "中央執行委員長", "石上千博")


def _campaign(now, *, year=2025, month=3, day=None, style="western") -> Campaign:
    return ops.create_campaign(ops.CampaignInput("テスト要請", year, month, day, style, *SENDER), now, user=None)


def _letter(campaign, structure, style=numbering.DOT_PAREN, **text):
    """structure: list of (heading, [items]) for a two-level letter, or a list of strings for a flat one."""
    letter = ops.add_letter(
        campaign,
        ops.LetterInput(
            title=text.pop("title", "要請書"),
            numbering=style,
            greeting=text.pop("greeting", "あいさつ。"),
            closing=text.pop("closing", "以下の通り要請します。"),
            **text,
        ),
        user=None,
        now=campaign.created_at,
    )
    for entry in structure:
        if isinstance(entry, tuple):
            section = ops.add_request_item(letter, entry[0], user=None, now=campaign.created_at)
            for child in entry[1]:
                ops.add_request_item(letter, child, parent=section, user=None, now=campaign.created_at)
        else:
            ops.add_request_item(letter, entry, user=None, now=campaign.created_at)
    return letter


def _addressee(campaign, letter, organisation="総務省", **fields) -> Addressee:
    return ops.add_addressee(
        campaign, letter, ops.AddresseeInput(organisation=organisation, **fields), user=None, now=campaign.created_at
    )


def _texts(data: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(data)).paragraphs if p.text]


def _record(texts: list[str]) -> list[str]:
    """The numbered lines between 記 and 以上."""
    return texts[texts.index("記") + 1 : texts.index("以上")]


TWO_LEVEL = [
    ("Aについて", ["a1こと。", "a2こと。"]),
    ("Bについて", ["b1こと。"]),
    ("Cについて", ["c1こと。", "c2こと。"]),
]


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        (numbering.DOT_PAREN, ["１．Aについて", "（１）a1こと。", "（２）a2こと。", "２．Bについて", "（１）b1こと。"]),
        (numbering.DOT_CIRCLE, ["１．Aについて", "①a1こと。", "②a2こと。", "２．Bについて", "①b1こと。"]),
        (numbering.PAREN_CIRCLE, ["（１）Aについて", "①a1こと。", "②a2こと。", "（２）Bについて", "①b1こと。"]),
    ],
)
def test_two_level_numbering_styles(app, clock, style, expected):
    with app.app_context():
        campaign = _campaign(clock())
        addressee = _addressee(campaign, _letter(campaign, TWO_LEVEL[:2], style))
        assert _record(_texts(render_addressee(addressee)[0])) == expected


@pytest.mark.parametrize(
    ("style", "wide", "expected"),
    [
        (numbering.DOT, True, ["１．x", "２．y"]),
        (numbering.CIRCLE, True, ["①x", "②y"]),
        (numbering.PAREN, False, ["(1)x", "(2)y"]),
        (numbering.DOT, False, ["1.　x", "2.　y"]),
    ],
)
def test_flat_numbering_styles_and_half_width_digits(app, clock, style, wide, expected):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, ["x", "y"], style)
        ops.update_letter(
            letter,
            letter.version,
            ops.LetterInput(
                title=letter.title,
                greeting=letter.greeting,
                closing=letter.closing,
                numbering=style,
                fullwidth_digits=wide,
            ),
            user=None,
            now=clock(),
        )
        assert _record(_texts(render_addressee(_addressee(campaign, letter))[0])) == expected


def test_flat_style_on_a_letter_with_sections_prints_headings_unnumbered(app, clock):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, TWO_LEVEL[:2], numbering.CIRCLE)
        assert _record(_texts(render_addressee(_addressee(campaign, letter))[0])) == [
            "Aについて",
            "①a1こと。",
            "②a2こと。",
            "Bについて",
            "③b1こと。",
        ]


def test_honorific_dono_and_organisation_printed_when_the_title_does_not_name_it(app, clock):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, ["x"], numbering.DOT)
        mutual = _addressee(
            campaign,
            letter,
            "全国市町村職員共済組合連合会",
            kind="other",
            title="理事長",
            name="山田太郎",
            honorific="殿",
        )
        minister = _addressee(campaign, letter, "総務省", title="総務大臣", name="村上誠一郎")
        party = _addressee(campaign, letter, "立憲民主党", kind="party")
        title_only = _addressee(campaign, letter, "厚生労働省", title="厚生労働大臣", honorific="殿")
        assert _texts(render_addressee(mutual)[0])[1:4] == ["全国市町村職員共済組合連合会", "理事長", "　山田太郎　殿"]
        assert _texts(render_addressee(minister)[0])[1:3] == ["総務大臣", "　村上誠一郎　様"]
        assert _texts(render_addressee(party)[0])[1:3] == ["立憲民主党　様", SENDER[0]]
        assert _texts(render_addressee(title_only)[0])[1:3] == ["厚生労働大臣　殿", SENDER[0]]


@pytest.mark.parametrize(
    ("date", "style", "expected"),
    [
        ((2025, 3, None), "western", "2025年3月●日"),
        ((2025, 3, None), "era", "令和7年3月●日"),
        ((2025, 3, 17), "era", "令和7年3月17日"),
        ((2019, 5, None), "era", "令和元年5月●日"),
        ((2019, 4, 30), "era", "平成31年4月30日"),
        ((2019, 7, 23), "western", "2019年7月23日"),
    ],
)
def test_dates_fixed_or_undecided_western_or_era(app, clock, date, style, expected):
    with app.app_context():
        campaign = _campaign(clock(), year=date[0], month=date[1], day=date[2], style=style)
        addressee = _addressee(campaign, _letter(campaign, ["x"], numbering.DOT))
        assert build_letter(addressee).date_text == expected
        assert _texts(render_addressee(addressee)[0])[0] == expected


def test_subset_keeps_sections_of_chosen_items_and_numbers_from_one(app, clock):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, TWO_LEVEL)
        a, b, c = letter.top_items()
        addressee = _addressee(campaign, letter)
        # one item of A, the whole of C
        ops.set_addressee_items(addressee, [a.children[1].id, c.id], user=None, now=clock())
        assert _record(_texts(render_addressee(addressee)[0])) == [
            "１．Aについて",
            "（１）a2こと。",
            "２．Cについて",
            "（１）c1こと。",
            "（２）c2こと。",
        ]
        ops.set_addressee_items(addressee, [b.id], user=None, now=clock())
        assert _record(_texts(render_addressee(addressee)[0])) == ["１．Bについて", "（１）b1こと。"]
        ops.set_addressee_items(addressee, None, user=None, now=clock())
        assert len(_record(_texts(render_addressee(addressee)[0]))) == 8


def test_subset_of_a_flat_letter_renumbers_the_kept_items(app, clock):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, ["p", "q", "r", "s"], numbering.DOT)
        addressee = _addressee(campaign, letter)
        items = letter.top_items()
        ops.set_addressee_items(addressee, [items[3].id, items[1].id], user=None, now=clock())
        assert _record(_texts(render_addressee(addressee)[0])) == ["１．q", "２．s"]
        other = _addressee(campaign, letter, "デジタル庁")
        assert _record(_texts(render_addressee(other)[0])) == ["１．p", "２．q", "３．r", "４．s"]


def test_own_greeting_and_extra_paragraph_before_the_closing(app, clock):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, ["x"], numbering.DOT, background="背景一。\r\n\r\n背景二。\n")
        plain = _addressee(campaign, letter)
        special = _addressee(
            campaign,
            letter,
            "共済組合連合会",
            kind="other",
            greeting="日頃より組合員の福祉向上にご尽力いただき、敬意を表します。",
            extra_paragraph="とくに貴会には次の点をお願いします。\n\n追加の二段落目。",
        )
        texts = _texts(render_addressee(plain)[0])
        start = texts.index("要請書") + 1
        assert texts[start : start + 4] == ["あいさつ。", "背景一。", "背景二。", "以下の通り要請します。"]
        texts = _texts(render_addressee(special)[0])
        start = texts.index("要請書") + 1
        assert texts[start : start + 6] == [
            "日頃より組合員の福祉向上にご尽力いただき、敬意を表します。",
            "背景一。",
            "背景二。",
            "とくに貴会には次の点をお願いします。",
            "追加の二段落目。",
            "以下の通り要請します。",
        ]


HOSTILE = (
    "<w:t>&amp;</w:t> {{ content }} {% if %} 👨‍👩‍👧 ｶﾞ ㍻ 髙﨑 e\u0301 \u202eRTL\u202c "
    "\u200bゼロ幅 タブ\tあり 𠮷野家 ＼ ' \" ; DROP TABLE;"
)


def test_hostile_item_text_reaches_the_docx_character_for_character(app, clock):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, [HOSTILE + "こと。", "行を\n分ける要請こと。"], numbering.DOT)
        addressee = _addressee(campaign, letter, "総務省/政策局:*?", title="局長<script>", name="山田　太郎")
        data, removed = render_addressee(addressee)
        assert removed == []
        texts = _texts(data)
        assert "１．" + HOSTILE + "こと。" in texts
        assert "２．行を\n分ける要請こと。" in texts
        assert texts[1:4] == ["総務省/政策局:*?", "局長<script>", "　山田　太郎　様"]


def test_characters_word_cannot_hold_are_reported_not_dropped_silently(app, clock):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, ["ok"], numbering.DOT)
        addressee = _addressee(campaign, letter)
        db.session.flush()
        # Stored by some older path than the forms (which, with the session, refuse such text today).
        db.session.execute(
            sql("UPDATE request_item SET text = :t WHERE id = :id"),
            {"t": "ベル\x07と\ufffeの入った要請", "id": letter.top_items()[0].id},
        )
        db.session.execute(
            sql("UPDATE addressee SET extra_paragraph = :t WHERE id = :id"), {"t": "縦タブ\x0bあり", "id": addressee.id}
        )
        db.session.expire_all()
        data, removed = render_addressee(addressee)
        assert removed == ["\x0b", "\x07", "\ufffe"]
        assert "１．ベルとの入った要請" in _texts(data)
        buffer = io.BytesIO()
        assert campaign_zip(campaign, buffer) == [(letter_filename(addressee), removed)]


def test_file_names_are_unique_and_safe_even_for_the_same_organisation(app, clock):
    with app.app_context():
        campaign = _campaign(clock())
        letter = _letter(campaign, ["x"], numbering.DOT, title="要請書/その1: 「DX」?")
        first = _addressee(campaign, letter, "総務省")
        second = _addressee(campaign, letter, "総務省", title="自治行政局長")
        odd = _addressee(campaign, letter, 'A\\B<C>|"D" E')
        names = [letter_filename(a) for a in (first, second, odd)]
        assert names == [
            "01_総務省_要請書_その1_「DX」.docx",
            "02_総務省_要請書_その1_「DX」.docx",
            "03_A_B_C_D_E_要請書_その1_「DX」.docx",
        ]
        buffer = io.BytesIO()
        campaign_zip(campaign, buffer)
        import zipfile

        assert zipfile.ZipFile(io.BytesIO(buffer.getvalue())).namelist() == names


def test_newest_uploaded_template_is_used_and_east_asian_font_comes_from_it(app, clock):
    document = Document(str(default_template_path()))
    letterhead = document.paragraphs[0].insert_paragraph_before("レターヘッド：自治労本部")
    letterhead.runs[0].font.bold = True
    fonts = document.styles["Normal"].element.rPr.rFonts
    fonts.set(qn("w:eastAsia"), "ＭＳ ゴシック")
    out = io.BytesIO()
    document.save(out)
    with app.app_context():
        campaign = _campaign(clock())
        addressee = _addressee(campaign, _letter(campaign, ["x"], numbering.DOT))
        assert current_template() is None
        assert "レターヘッド：自治労本部" not in _texts(render_addressee(addressee)[0])
        ops.upload_template("社内用.docx", out.getvalue(), None, clock())
        data = render_addressee(addressee)[0]
        assert _texts(data)[0] == "レターヘッド：自治労本部"
        runs = [r for p in Document(io.BytesIO(data)).paragraphs[1:] for r in p.runs]
        assert runs and all(r._r.rPr.rFonts.get(qn("w:eastAsia")) == "ＭＳ ゴシック" for r in runs)
