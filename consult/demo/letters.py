"""The seed's request campaign (自治体DX推進にかかる省庁要請): two letters, eight addressees. Flush, never commit.

The data is copied from the seed (fixtures/jichiro-2025-dx-requests.json); the package never reads that file.
Decisions where the seed is silent:
- デジタル庁 and 厚生労働省 have no title or name in the seed: both are left empty, so their letters are addressed
  「デジタル庁　様」「厚生労働省　様」 until staff fill in the minister; nothing is invented.
- 社民党 and 公明党 (letter unspecified in the seed) receive letter 1, as the other parties do.
- Each request item is linked to the opinions of the closed DX round (looked up by its title) whose proposal it
  takes up: opinions on the matching round item, stance amend/add/delete/other, whose proposed text holds the
  item's keyword below. Without that round nothing is linked and the campaign has no round.
Loading twice changes nothing: the campaign is found by its title; links are only added when the campaign has
no round yet and the round now exists.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from consult.answers.models import Answer, Opinion
from consult.demo.data import DX_TITLE
from consult.extensions import db
from consult.letters import numbering
from consult.letters import operations as letters
from consult.letters.models import Campaign, Letter, RequestItem
from consult.rounds.models import Round, RoundItem

TITLE = "自治体DX推進にかかる省庁要請"
DATE = (2025, 3, None)  # 2025年3月●日: the day of the visit was not fixed yet
SENDER = ("全日本自治団体労働組合", "中央執行委員長", "石上千博")
LINKED_STANCES = ("amend", "add", "delete", "other")

# Letter 1 (別紙１) has sections: (heading, [(keyword, request)]); letter 2 (別紙２) is flat: [(keyword, request)].
# The keyword finds the demo round's opinions that the request takes up (see the module docstring).
LETTERS = {
    "b1": {
        "title": "自治体DXの推進に関する要請書",
        "greeting": "日頃より市民生活の向上にむけ、ご尽力いただいている貴職に敬意を表します。",
        "closing": (
            "つきましては、市民また職員にとっても、DXによる利便性の向上や業務改善の効果を実感できる取り組みとなるよう、"
            "以下の通り要請します。"
        ),
        "background": [
            (
                "さて、政府は2020年に「デジタル・ガバメント実行計画」を閣議決定し、自治体の取り組むべき課題を明示しまし"
                "た。これに際し、貴省および関係省庁により「自治体デジタル・トランスフォーメーション（DX）推進計画」が策"
                "定され、現在もその重点取り組み事項として、自治体フロントヤード改革の推進、自治体の情報システムの標準化"
                "・共通化、マイナンバーカードの普及促進・利用の推進等が掲げられています。しかし、各自治体において、極め"
                "て広範、多岐にわたる課題への対応を一斉に迫られたため、自治体のみならずシステムベンダーまで巻き込み、DX"
                "にかかる膨大な業務が集中し、効率的な行財政運営どころか、人員不足のみならず、想定をはるかに超える追加経"
                "費の発生まで見込まれる事態となっています。"
            ),
        ],
        "items": [
            (
                "情報システムの標準化・共通化について",
                [
                    (
                        "安全第一",
                        (
                            "2026年度以降の移行とならざるを得ないこととなった「特定移行支援システム」については、概ね５年以内の"
                            "移行スケジュールが示されていることから、今後は「期限第一」とはせず「安全第一」の観点に立ち、システ"
                            "ムベンダーまで含めた人員の確保にも留意しつつ、国費による確実な財政支援を行うこと。"
                        ),
                    ),
                    (
                        "20業務以外",
                        (
                            "標準化にともない生じる20業務以外のシステム改修や設備投資についても、地域特性など必要性に応じたサー"
                            "ビスを保障するための措置であることから、あわせて国庫補助の対象とすること。"
                        ),
                    ),
                    (
                        "ランニングコスト",
                        (
                            "ガバメントクラウド接続に係る利用料等が、結果としてランニングコストの大幅な増加につながっている自治"
                            "体が多数あることから、ランニングコストまで含めた継続的な財政支援のあり方について、早急に検討するこ"
                            "と。"
                        ),
                    ),
                ],
            ),
            (
                "健康保険証とマイナンバーカードの一体化について",
                [
                    (
                        "紐づけ",
                        (
                            "2024年12月2日に健康保険証の新規交付が終了したことにともない、マイナンバーカードとの紐づけ作業や、"
                            "資格確認書、資格情報のお知らせ、制度説明など、自治体における業務が急増していることから、これに際す"
                            "る人員確保等の取り組みについて、国として支援を充実すること。"
                        ),
                    ),
                    (
                        "中長期的",
                        (
                            "健康保険証とマイナンバーカードの一体化は医療事務の効率化ではなく、マイナンバーカード普及促進のため"
                            "の施策となっていることから、関係省庁や自治体とも連携し、直近の対応にとどまらず、中長期的な改善策に"
                            "ついても検討を行うこと。"
                        ),
                    ),
                    (
                        "国民健康保険",
                        (
                            "また、国民健康保険の対応事務の詳細について国から十分に示されておらず、従来世帯ごとの保険証の交付の"
                            "みで足りた事務についても、マイナ保険証保有の有無により対応が異なるため、市町村国保の事務も激増して"
                            "いる。DXによる社会的なコストの低減という基本に戻った制度設計となるよう、対応の改善をはかること。"
                        ),
                    ),
                ],
            ),
            (
                "自治体DX推進のあり方に関する課題ついて",
                [
                    (
                        "公表",
                        (
                            "標準化等の取り組みに並行し、自治体フロントヤード改革も推進されているが、その取り組み状況を公表する"
                            "ことで自治体間での安易な比較が生じ、無意味な競争を招いていることから、地域特性などが考慮されない一"
                            "律的な公表はせず、「先進事例」や「モデル事例」として、一部の自治体を取り扱うよう、公表のあり方を改"
                            "善すること。"
                        ),
                    ),
                    (
                        "更新業務",
                        (
                            "加えて、マイナンバーカード更新等の業務も時期の集中が想定されることから、財政支援にとどまらず、業務"
                            "改善のあり方についても速やかに検討すること。"
                        ),
                    ),
                    (
                        "意向調査",
                        (
                            "自治体DXは自治体の業務だけでなく、人員の確保や組織のあり方にも関わる長期的な課題であることから、そ"
                            "の施策にあたっては、より積極的に自治体の意向調査等を行うこと。"
                        ),
                    ),
                    (
                        "全庁的",
                        (
                            "DXは情報政策等の担当部署のみでなく、首長まで含めた、全庁的な取り組みであることを理解させるよう、国"
                            "の責任においても取り組むこと。また、研修制度を充実させ、自治体職員の全般的なITスキル向上をはかるこ"
                            "と。"
                        ),
                    ),
                    (
                        "小規模自治体",
                        (
                            "とくに小規模自治体を中心に、DXにより生じる新たな業務への対応、また必要な専門職員の配置は難しいこと"
                            "から、人員体制の構築にむけた支援を充実させること。"
                        ),
                    ),
                    ("情報セキュリティ", "引き続き、自治体DXにおける情報セキュリティの強化に留意すること。"),
                    (
                        "電子化",
                        (
                            "過去の書面において蓄積されているデータについての電子化も今後対応を強化する必要があることから、これ"
                            "にともなう国としての支援のあり方を検討すること。"
                        ),
                    ),
                ],
            ),
        ],
    },
    "b2": {
        "title": "戸籍振り仮名法制化への対応に関する要請書",
        "greeting": "日頃より市民生活の向上にむけ、ご尽力いただいている貴職に敬意を表します。",
        "closing": (
            "つきましては、関係する省庁とも連携を取りながら、以下の要請に対し真摯なご対応をいただけるよう、ここに要請し"
            "ます。"
        ),
        "background": [
            (
                "さて、戸籍の氏名に振り仮名記載を義務付ける改正戸籍法の施行が本年5月26日に迫っています。振り仮名の届け"
                "出については、法施行後１年以内の完了がめざされていますが、自治体においては相当の事務負担が想定されます"
                "。"
            ),
            (
                "自治体DXの一環として、事業の必要性は一定理解するものの、戸籍事務は法定受託事務であることから、その責任"
                "はひとえに自治体に帰するものではなく、国の主体的な関与こそが肝要です。"
            ),
        ],
        "items": [
            (
                "協議の場",
                (
                    "戸籍振り仮名事業を進める上で、法務省が一方的に事業内容を決定することのないよう、法務省と市区町村による"
                    "協議の場を設けること。"
                ),
            ),
            (
                "全額を国の責任",
                (
                    "自治体で戸籍振り仮名法制化に係る事務事業を進めるにあたり、今後もさらなる経費が発生する可能性があること"
                    "から、引き続き自治体の状況を把握し、必要な経費についてはその全額を国の責任において負担すること。"
                ),
            ),
            (
                "ヘルプデスク",
                (
                    "国による住民向けのコールセンターとは別に、自治体向けのヘルプデスクを新設すること。また、「一般的な読み"
                    "方」への判断基準が通知されているものの、なお自治体での判断が困難なケースも想定されることから、そのこと"
                    "も念頭においた対応をはかること。"
                ),
            ),
            (
                "期日の緩和",
                (
                    "住民からの振り仮名修正の届け出完了は2025年5月26日より1年以内をめざすとされているものの、多くの自治体か"
                    "ら期日には「間に合わない」との懸念が示されている。自治体DXを巡っては、国の要請に基づき、他の業務も並行"
                    "し、数多く発生していることから、国として自治体DXを推進するなら、関係省庁とも密に連携し、自治体に対し十"
                    "分な支援を行うこと。また、その期日については緩和することも含め、柔軟に対応すること。加えて、自治体にお"
                    "ける実務が円滑に行われるよう、必要な情報を早期に明示すること。"
                ),
            ),
            (
                "事務作業の進め方",
                (
                    "振り仮名の届出に係る対応において、自治体が効率的かつ最小限度の負担で本事業に対応できるよう、自治体にお"
                    "ける事務作業の進め方について国としても具体的な検討を進めること。"
                ),
            ),
        ],
    },
}
# Which item of the DX round each letter's sections (letter 1) or items (letter 2) answer.
ROUND_ITEMS = {"b1": ("1", "2", "3"), "b2": ("4",)}
NUMBERING = {"b1": numbering.DOT_PAREN, "b2": numbering.DOT}

# (organisation, kind, title, name, honorific, letter, sections of letter 1 only (1-based) or None for all)
ADDRESSEES = (
    ("立憲民主党", "party", "", "", "様", "b1", None),
    ("国民民主党", "party", "", "", "様", "b1", None),
    ("社民党", "party", "", "", "様", "b1", None),
    ("公明党", "party", "", "", "様", "b1", None),
    ("総務省", "ministry", "総務大臣", "村上誠一郎", "様", "b1", None),
    ("デジタル庁", "ministry", "", "", "様", "b1", None),
    ("法務省", "ministry", "法務大臣", "鈴木馨祐", "様", "b2", None),
    ("厚生労働省", "ministry", "", "", "様", "b1", (2,)),  # only the My Number card section
)


def load_demo_campaign(now: datetime) -> Campaign:
    """The seed's campaign, created once; a second call returns it unchanged."""
    campaign = db.session.scalars(select(Campaign).where(Campaign.title == TITLE).order_by(Campaign.id)).first()
    if campaign is None:
        campaign = _create(now)
    round_ = db.session.scalars(select(Round).where(Round.title == DX_TITLE).order_by(Round.id)).first()
    if campaign.round_id is None and round_ is not None:
        _link(campaign, round_, now)
    return campaign


def _create(now: datetime) -> Campaign:
    year, month, day = DATE
    campaign = letters.create_campaign(
        letters.CampaignInput(TITLE, year, month, day, "western", *SENDER), now, user=None
    )
    by_key: dict[str, Letter] = {}
    for key, data in LETTERS.items():
        letter = letters.add_letter(
            campaign,
            letters.LetterInput(
                title=data["title"],
                greeting=data["greeting"],
                background="\n".join(data["background"]),
                closing=data["closing"],
                numbering=NUMBERING[key],
                fullwidth_digits=True,
            ),
            user=None,
            now=now,
        )
        for entry in data["items"]:
            if isinstance(entry[1], list):  # a section: heading, then its requests
                section = letters.add_request_item(letter, entry[0], user=None, now=now)
                for _keyword, text in entry[1]:
                    letters.add_request_item(letter, text, parent=section, user=None, now=now)
            else:
                letters.add_request_item(letter, entry[1], user=None, now=now)
        by_key[key] = letter
    for organisation, kind, title, name, honorific, key, sections in ADDRESSEES:
        letter = by_key[key]
        addressee = letters.add_addressee(
            campaign,
            letter,
            letters.AddresseeInput(organisation=organisation, kind=kind, title=title, name=name, honorific=honorific),
            user=None,
            now=now,
        )
        if sections is not None:
            tops = letter.top_items()
            letters.set_addressee_items(addressee, [tops[n - 1].id for n in sections], user=None, now=now)
    return campaign


def _requests_by_round_item(key: str, letter: Letter) -> list[tuple[str, str, RequestItem]]:
    """(round item number, keyword, request item) for every request of a letter."""
    tops = letter.top_items()
    found = []
    for n, entry in enumerate(LETTERS[key]["items"]):
        if isinstance(entry[1], list):
            for (keyword, _text), child in zip(entry[1], tops[n].children, strict=True):
                found.append((ROUND_ITEMS[key][n], keyword, child))
        else:
            found.append((ROUND_ITEMS[key][0], entry[0], tops[n]))
    return found


def _link(campaign: Campaign, round_: Round, now: datetime) -> None:
    """Link each request to the submitted opinions of the round whose proposal it takes up."""
    opinions = db.session.execute(
        select(Opinion, RoundItem.number)
        .join(Opinion.answer)
        .join(RoundItem, Opinion.item_id == RoundItem.id)
        .where(Answer.round_id == round_.id, Answer.status == "submitted", Opinion.stance.in_(LINKED_STANCES))
        .order_by(Opinion.id)
    ).all()
    campaign.round_id = round_.id  # the requests rest on this round's opinions
    db.session.flush()
    for key, letter in zip(LETTERS, campaign.letters, strict=True):
        for number, keyword, item in _requests_by_round_item(key, letter):
            ids = [op.id for op, on in opinions if on == number and keyword in op.proposed_text]
            letters.link_opinions(item, ids, user=None, now=now)
