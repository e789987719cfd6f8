"""Request letters written the way people write them in Word, built with python-docx (no binary fixtures).

Each builder returns the DOCX bytes. What a person does in Word and how it shows up here:
- typed numbers 「１．」「（１）」「①」, or Word's automatic numbering (番号付け: w:numPr pointing into numbering.xml,
  defined below as Word writes it: w:abstractNum with its w:lvl formats, w:num instances, startOverride to restart);
- the List Number style (段落番号のスタイル), whose numbering comes through the style, not the paragraph;
- indents typed as a full-width space 「　」, names and titles spread with spaces (均等割り), a title over two lines
  (two centred paragraphs, or Shift+Enter inside one), a date that is only ●, 殿, stray empty paragraphs,
  a document number above the date, 公印省略 under the sender and a contact line after 以上.
"""

from __future__ import annotations

import io

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Pt

LEFT, RIGHT, CENTER, JUSTIFY = (
    WD_ALIGN_PARAGRAPH.LEFT,
    WD_ALIGN_PARAGRAPH.RIGHT,
    WD_ALIGN_PARAGRAPH.CENTER,
    WD_ALIGN_PARAGRAPH.JUSTIFY,
)


def _save(document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def add(
    document,
    text: str = "",
    align=None,
    *,
    style: str | None = None,
    num: tuple[int, int] | None = None,
    first_line_em: float | None = None,
):
    """One paragraph as typed: its text ("\\n" = Shift+Enter), alignment, style, automatic number (numId, ilvl)."""
    par = document.add_paragraph(style=style)
    if text:
        par.add_run(text)
    if align is not None:
        par.alignment = align
    if first_line_em:
        par.paragraph_format.first_line_indent = Pt(10.5 * first_line_em)
    if num is not None:
        num_pr = par._p.get_or_add_pPr().get_or_add_numPr()
        num_pr.get_or_add_ilvl().val = num[1]
        num_pr.get_or_add_numId().val = num[0]
    return par


def level_xml(ilvl: int, fmt: str, text: str, start: int = 1, indent_twips: int = 420) -> str:
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/><w:lvlJc w:val="left"/>'
        f'<w:pPr><w:ind w:left="{indent_twips * (ilvl + 1)}" w:hanging="{indent_twips}"/></w:pPr></w:lvl>'
    )


def define_numbering(document, abstracts: dict[int, list[str]], nums: dict[int, tuple[int, dict[int, int]]]) -> None:
    """Add abstract numberings {id: [level xml]} and instances {numId: (abstractId, {ilvl: startOverride})}."""
    root = document.part.numbering_part.element
    first_num = root.find(qn("w:num"))
    for abstract_id, levels in abstracts.items():
        abstract = parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{abstract_id}">'
            f'<w:multiLevelType w:val="hybridMultilevel"/>{"".join(levels)}</w:abstractNum>'
        )
        if first_num is not None:
            first_num.addprevious(abstract)  # the schema wants every abstractNum before the first num
        else:
            root.append(abstract)
    for num_id, (abstract_id, starts) in nums.items():
        overrides = "".join(
            f'<w:lvlOverride w:ilvl="{ilvl}"><w:startOverride w:val="{start}"/></w:lvlOverride>'
            for ilvl, start in starts.items()
        )
        root.append(
            parse_xml(
                f'<w:num {nsdecls("w")} w:numId="{num_id}"><w:abstractNumId w:val="{abstract_id}"/>{overrides}</w:num>'
            )
        )


# ---------------------------------------------------------------------------------------------------------------

GREETING_KYOSAI = "日頃より組合員の福祉の向上にご尽力いただいている貴職に敬意を表します。"
BACKGROUND_KYOSAI = (
    "さて、健康保険証の新規交付が2024年12月2日に終了し、マイナンバーカードとの一体化が進められていますが、"
    "資格確認書の交付や制度の説明など、組合員の不安と職場の負担は大きくなっています。"
)
BACKGROUND_KYOSAI_2 = "また、職場ではシステムの移行にともなう業務が集中し、長時間労働が常態化しています。"
CLOSING_KYOSAI = "つきましては、組合員の生活と健康を守る立場から、以下の通り要請します。"
TYPED_ITEMS = {
    "s1": "共済事業の運営について",
    "s1i1": "マイナ保険証の利用にあたり、組合員が不利益を受けることのないよう、十分な周知を行うこと。",
    "s1i2": "次の点について、組合員と所属所への周知を徹底すること。",
    "s1i2a": "マイナ保険証の利用登録の解除の手続き",
    "s1i2b": "資格確認書の交付の時期と方法",
    "s1i3": "短期給付の事務を担う所属所の職員の負担を軽減すること。",
    "s1i3cont": "なお、事務の委託にあたっては、所属所と十分に協議するものとすること。",
    "s2": "職員の労働条件について",
    "s2i1": "システムの移行にともなう業務の集中を避け、職員の長時間労働を解消すること。",
}


def typed_letter() -> bytes:
    """To a mutual-aid association (殿), typed numbers on three levels, the sender spread, a two-line title."""
    d = Document()
    t = TYPED_ITEMS
    add(d, "自治労発第２５３号", RIGHT)
    add(d, "令和７年３月１７日", RIGHT)
    add(d, "全国市町村職員共済組合連合会", LEFT)
    add(d, "理事長　　山田　太郎　殿", LEFT)
    add(d)
    add(d, "全 日 本 自 治 団 体 労 働 組 合", RIGHT)
    add(d, "中央執行委員長　石 上 千 博", RIGHT)
    add(d, "（公印省略）", RIGHT)
    add(d)
    add(d)
    add(d, "自治体DXの推進および", CENTER)
    add(d, "組合員の福祉向上に関する要請書", CENTER)
    add(d)
    add(d, "　" + GREETING_KYOSAI)
    add(d, "　" + BACKGROUND_KYOSAI)
    add(d)  # a stray empty paragraph in the middle of the body
    add(d, "　" + BACKGROUND_KYOSAI_2)
    add(d, "　" + CLOSING_KYOSAI)
    add(d)
    add(d, "記", CENTER)
    add(d)
    add(d, "１．" + t["s1"])
    add(d, "（１）" + t["s1i1"])
    add(d, "（２）" + t["s1i2"])
    add(d, "　①" + t["s1i2a"])
    add(d, "　②" + t["s1i2b"])
    add(d, "（３）" + t["s1i3"])
    add(d, "　　" + t["s1i3cont"])
    add(d)
    add(d)
    add(d, "2 . " + t["s2"])
    add(d, "(1) " + t["s2i1"])
    add(d)
    add(d, "以上", RIGHT)
    add(d, "（連絡先）自治労本部　総合政治政策局　電話０３－３２６３－０２６２", LEFT)
    return _save(d)


AUTO_ITEMS = [
    (0, "情報システムの標準化・共通化について"),
    (1, "2026年度以降の移行となる「特定移行支援システム」については、国費による確実な財政支援を行うこと。"),
    (1, "ガバメントクラウドの利用料について、ランニングコストまで含めた財政支援のあり方を検討すること。"),
    (2, "移行の期限を一律に定めないこと"),
    (0, "健康保険証とマイナンバーカードの一体化について"),
    (1, "自治体における業務の急増に対し、人員確保等の取り組みについて国として支援を充実すること。"),
    (1, ""),  # an empty numbered paragraph Word leaves after the last item
]
GREETING_AUTO = (
    "時下ますますご清栄のこととお慶び申し上げます。日頃より地方自治の発展にご尽力いただき、感謝申し上げます。"
)
CLOSING_AUTO = "つきましては、以下の通り要請いたします。"


def automatic_letter() -> bytes:
    """To the minister, Word's multi-level list (１．／（１）／①), a date that is only ●, names spread."""
    d = Document()
    define_numbering(
        d,
        {
            10: [
                level_xml(0, "decimalFullWidth", "%1．"),
                level_xml(1, "decimalFullWidth", "（%2）"),
                level_xml(2, "decimalEnclosedCircle", "%3"),
            ],
        },
        {10: (10, {})},
    )
    add(d, "●", RIGHT)
    add(d, "総 務 大 臣")
    add(d, "　村 上 誠 一 郎　様")
    add(d, "全日本自治団体労働組合", RIGHT)
    add(d, "中央執行委員長　石上　千博", RIGHT)
    add(d)
    add(d, "自治体DXの推進に関する\n要請書", style="Title")
    add(d)
    add(d, "拝啓", JUSTIFY)
    add(d, GREETING_AUTO, JUSTIFY, first_line_em=1)
    add(d, CLOSING_AUTO, JUSTIFY, first_line_em=1)
    add(d, "記", CENTER)
    for level, text in AUTO_ITEMS:
        add(d, text, num=(10, level))
    add(d, "以上", RIGHT)
    return _save(d)


RESTART_ITEMS = [  # (numId, text): 20 = headings (1) (2), 21 = items ① ②, 22 = the items restarted at ①
    (20, "地方財政の確立について"),
    (21, "地方一般財源総額を確保すること。"),
    (21, "地方交付税の法定率を引き上げること。"),
    (20, "地域医療の確保について"),
    (22, "公立病院の医師確保に向けた支援を拡充すること。"),
    (22, "看護職員の処遇を改善すること。"),
]


def restarted_lists_letter() -> bytes:
    """Headings and items in two separate Word lists, the items' numbering restarted per section (番号の振り直し)."""
    d = Document()
    define_numbering(
        d,
        {
            20: [level_xml(0, "decimal", "(%1)")],
            21: [level_xml(0, "decimalEnclosedCircle", "%1")],
        },
        {20: (20, {}), 21: (21, {}), 22: (21, {0: 1})},
    )
    add(d, "2025年３月２４日（月）", RIGHT)
    add(d, "全国知事会　会長　平井　伸治　様")
    add(d, "全日本自治団体労働組合", RIGHT)
    add(d, "中央執行委員長　石上千博", RIGHT)
    add(d, "地方財政の確立と地域医療の確保に関する要請書", CENTER)
    add(d, "日頃より地方自治の発展にご尽力いただいている貴職に敬意を表します。", first_line_em=1)
    add(d, "つきましては、下記の事項について要望します。", first_line_em=1)
    add(d, "記", CENTER)
    for num_id, text in RESTART_ITEMS:
        add(d, text, num=(num_id, 0))
    add(d, "以上", RIGHT)
    return _save(d)


LIST_STYLE_ITEMS = [
    "窓口業務の見直しにあたっては、職員の労働条件に配慮すること。",
    "会計年度任用職員の処遇を改善すること。",
    "デジタル人材の確保と育成を支援すること。",
]


def list_style_letter() -> bytes:
    """A flat list in the List Number style (numbering through the style) under an unnumbered heading."""
    d = Document()
    add(d, "令和元年５月７日", RIGHT)
    add(d, "デジタル大臣殿")
    add(d, "全日本自治団体労働組合　中央執行委員長　石上千博", RIGHT)
    add(d, "デジタル行政に関する要請書", CENTER)
    add(d, "　日頃より行政のデジタル化にご尽力いただいている貴職に敬意を表します。")
    add(d, "　つきましては、下記のとおり要請します。")
    add(d)
    add(d, "記", CENTER)
    add(d, "【窓口と職員】")
    for text in LIST_STYLE_ITEMS:
        add(d, text, style="List Number")
    add(d)
    add(d, "以上", RIGHT)
    return _save(d)
