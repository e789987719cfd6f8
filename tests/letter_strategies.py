"""Hypothesis strategies for realistic request letters: the seed's wording cut into phrases, real titles and names,
every numbering style and honorific, western and era dates (元年 and ● included), layouts of the addressee block."""

from __future__ import annotations

from hypothesis import strategies as st

from consult.letters import dates, numbering
from consult.letters.document import PrintedAddressee, PrintedLetter, Section
from consult.letters.models import HONORIFICS

# Phrases of the seed's letters (and a few of their neighbours), as they are joined by 「、」 in real text.
PHRASES = (
    "情報システムの標準化・共通化",
    "2026年度以降の移行とならざるを得ないこととなった「特定移行支援システム」",
    "概ね５年以内の移行スケジュールが示されていることから",
    "「期限第一」とはせず「安全第一」の観点に立ち",
    "システムベンダーまで含めた人員の確保にも留意しつつ",
    "国費による確実な財政支援を行い",
    "標準化にともない生じる20業務以外のシステム改修や設備投資についても",
    "地域特性など必要性に応じたサービスを保障し",
    "ガバメントクラウド接続に係る利用料等が",
    "ランニングコストの大幅な増加につながっている自治体が多数あることから",
    "健康保険証とマイナンバーカードの一体化は",
    "マイナ保険証保有の有無により対応が異なるため",
    "自治体フロントヤード改革も推進されているが",
    "「先進事例」や「モデル事例」として",
    "首長まで含めた全庁的な取り組みとして",
    "自治体職員の全般的なITスキル向上をはかり",
    "戸籍の氏名に振り仮名記載を義務付ける改正戸籍法の施行が本年5月26日に迫り",
    "法施行後１年以内の完了をめざし",
    "自治体向けのヘルプデスク（仮称）を新設し",
    "①の手続きと②の周知を並行して進め",
    "職員・組合員の声を聴き",
    "会計年度任用職員を含む全ての職員の処遇を改善し",
    "国として支援を充実し",
    "DX推進計画（第3.0版）に沿って",
    "総務大臣様あての要望を踏まえ",
    "時期は2025年3月●日を目途とし",
    "100％の財源を国が負担し",
)
GREETINGS = (
    "日頃より市民生活の向上にむけ、ご尽力いただいている貴職に敬意を表します。",
    "日頃より地方自治の発展にご尽力いただき、心より感謝申し上げます。",
    "日頃より組合員の福祉の向上にご尽力いただいている貴職に敬意を表します。",
    "拝啓　時下ますますご清栄のこととお慶び申し上げます。",
)
CLOSINGS = (
    "つきましては、市民また職員にとっても、DXによる利便性の向上や業務改善の効果を実感できる取り組みとなるよう、"
    "以下の通り要請します。",
    "つきましては、関係する省庁とも連携を取りながら、以下の要請に対し真摯なご対応をいただけるよう、ここに要請します。",
    "つきましては、下記の事項について特段のご配慮をいただきますよう要望いたします。",
)
TITLES = (
    "自治体DXの推進に関する要請書",
    "戸籍振り仮名法制化への対応に関する要請書",
    "2026年度予算編成に関する要望書",
    "地方財政の確立を求める要請書",
    "会計年度任用職員の処遇改善について（要請）",
)
ORGANISATIONS = (
    "総務省",
    "全国市町村職員共済組合連合会",
    "立憲民主党",
    "全国知事会",
    "デジタル庁",
    "厚生労働省",
    "地方公務員災害補償基金",
)
ADDRESSEE_TITLES = ("総務大臣", "法務大臣", "理事長", "会長", "代表", "デジタル大臣", "事務総長", "幹事長", "知事")
FAMILY = ("村上", "鈴木", "石上", "山田", "林", "長谷川", "高橋", "佐藤")
GIVEN = ("誠一郎", "馨祐", "千博", "太郎", "花子", "一", "健太", "伸治")
SENDER_ORGS = ("全日本自治団体労働組合", "自治労東京都本部", "日本労働組合総連合会")
SENDER_TITLES = ("中央執行委員長", "執行委員長", "会長", "書記長")


@st.composite
def sentence(draw, ending: str, *, max_phrases: int = 4) -> str:
    phrases = draw(st.lists(st.sampled_from(PHRASES), min_size=1, max_size=max_phrases))
    text = "、".join(phrases) + ending
    if draw(st.integers(0, 9)) == 0:  # a line break typed inside the paragraph (Shift+Enter)
        text = text.replace("、", "、\n", 1)
    return text


def request() -> st.SearchStrategy[str]:
    return sentence("こと。")


def heading() -> st.SearchStrategy[str]:
    return st.builds(lambda p: p + "について", st.sampled_from(PHRASES[:16]))


def person_name() -> st.SearchStrategy[str]:
    return st.builds(
        lambda f, sep, g: f + sep + g, st.sampled_from(FAMILY), st.sampled_from(("", "　")), st.sampled_from(GIVEN)
    )


@st.composite
def addressees(draw) -> PrintedAddressee:
    organisation = draw(st.sampled_from(("", *ORGANISATIONS)))
    title = draw(st.sampled_from(("", *ADDRESSEE_TITLES)))
    name = draw(st.one_of(st.just(""), person_name()))
    if not (organisation or title or name):
        organisation = ORGANISATIONS[0]
    return PrintedAddressee(
        organisation, title, name, draw(st.sampled_from(HONORIFICS)), draw(st.booleans()), draw(st.booleans())
    )


@st.composite
def date_texts(draw) -> str:
    year = draw(st.integers(2019, 2031))
    month = draw(st.integers(1, 12))
    day = draw(st.one_of(st.none(), st.integers(1, 28)))
    return dates.format_date(year, month, day, draw(st.sampled_from(dates.STYLES)), fullwidth=draw(st.booleans()))


@st.composite
def sections(draw, style: str) -> list[Section]:
    if numbering.is_two_level_style(style):
        return draw(
            st.lists(st.builds(Section, st.one_of(st.just(""), heading()), st.lists(request(), max_size=4)), max_size=4)
        )
    return draw(
        st.lists(
            st.builds(
                Section, st.one_of(st.just(""), st.just(""), heading()), st.lists(request(), min_size=1, max_size=6)
            ),
            max_size=3,
        )
    )


@st.composite
def letters(draw) -> PrintedLetter:
    style = draw(st.sampled_from(numbering.STYLES))
    return PrintedLetter(
        date_text=draw(date_texts()),
        addressee=draw(addressees()),
        sender_org=draw(st.sampled_from(SENDER_ORGS)),
        sender_title=draw(st.sampled_from(("", *SENDER_TITLES))),
        sender_name=draw(st.one_of(st.just(""), person_name())),
        title=draw(st.sampled_from(TITLES)),
        greeting=draw(st.one_of(st.just(""), st.sampled_from(GREETINGS))),
        paragraphs=draw(st.lists(st.builds(lambda s: "さて、" + s, sentence("ています。")), max_size=3)),
        extra_paragraphs=draw(st.lists(sentence("です。"), max_size=1)),
        closing=draw(st.one_of(st.just(""), st.sampled_from(CLOSINGS))),
        sections=draw(sections(style)),
        numbering=style,
        fullwidth_digits=draw(st.booleans()),
    )
