"""The two request letters of the seed (別紙１ to 総務大臣, 別紙２ to 法務大臣), copied from
../shared/fixtures/jichiro-2025-dx-requests.json so the tests run where that file is absent."""

from dataclasses import dataclass

from consult.letters import numbering
from consult.letters.document import PrintedAddressee, PrintedLetter, Section

LETTERS = {
    "b1": {
        "date_text": "2025年3月●日",
        "addressee_title": "総務大臣",
        "addressee_name": "村上誠一郎",
        "honorific": "様",
        "sender_org": "全日本自治団体労働組合",
        "sender_title": "中央執行委員長",
        "sender_name": "石上千博",
        "title": "自治体DXの推進に関する要請書",
        "greeting": "日頃より市民生活の向上にむけ、ご尽力いただいている貴職に敬意を表します。",
        "closing": (
            "つきましては、市民また職員にとっても、DXによる利便性の向上や業務改善の効果を実感できる取"
            "り組みとなるよう、以下の通り要請します。"
        ),
        "body": [
            (
                "さて、政府は2020年に「デジタル・ガバメント実行計画」を閣議決定し、自治体の取り組むべき"
                "課題を明示しました。これに際し、貴省および関係省庁により「自治体デジタル・トランスフォーメ"
                "ーション（DX）推進計画」が策定され、現在もその重点取り組み事項として、自治体フロントヤー"
                "ド改革の推進、自治体の情報システムの標準化・共通化、マイナンバーカードの普及促進・利用の推"
                "進等が掲げられています。しかし、各自治体において、極めて広範、多岐にわたる課題への対応を一"
                "斉に迫られたため、自治体のみならずシステムベンダーまで巻き込み、DXにかかる膨大な業務が集"
                "中し、効率的な行財政運営どころか、人員不足のみならず、想定をはるかに超える追加経費の発生ま"
                "で見込まれる事態となっています。"
            ),
        ],
        "items": [
            {
                "text": "情報システムの標準化・共通化について",
                "children": [
                    (
                        "2026年度以降の移行とならざるを得ないこととなった「特定移行支援システム」については、概"
                        "ね５年以内の移行スケジュールが示されていることから、今後は「期限第一」とはせず「安全第一」"
                        "の観点に立ち、システムベンダーまで含めた人員の確保にも留意しつつ、国費による確実な財政支援"
                        "を行うこと。"
                    ),
                    (
                        "標準化にともない生じる20業務以外のシステム改修や設備投資についても、地域特性など必要性に"
                        "応じたサービスを保障するための措置であることから、あわせて国庫補助の対象とすること。"
                    ),
                    (
                        "ガバメントクラウド接続に係る利用料等が、結果としてランニングコストの大幅な増加につながって"
                        "いる自治体が多数あることから、ランニングコストまで含めた継続的な財政支援のあり方について、"
                        "早急に検討すること。"
                    ),
                ],
            },
            {
                "text": "健康保険証とマイナンバーカードの一体化について",
                "children": [
                    (
                        "2024年12月2日に健康保険証の新規交付が終了したことにともない、マイナンバーカードとの"
                        "紐づけ作業や、資格確認書、資格情報のお知らせ、制度説明など、自治体における業務が急増してい"
                        "ることから、これに際する人員確保等の取り組みについて、国として支援を充実すること。"
                    ),
                    (
                        "健康保険証とマイナンバーカードの一体化は医療事務の効率化ではなく、マイナンバーカード普及促"
                        "進のための施策となっていることから、関係省庁や自治体とも連携し、直近の対応にとどまらず、中"
                        "長期的な改善策についても検討を行うこと。"
                    ),
                    (
                        "また、国民健康保険の対応事務の詳細について国から十分に示されておらず、従来世帯ごとの保険証"
                        "の交付のみで足りた事務についても、マイナ保険証保有の有無により対応が異なるため、市町村国保"
                        "の事務も激増している。DXによる社会的なコストの低減という基本に戻った制度設計となるよう、"
                        "対応の改善をはかること。"
                    ),
                ],
            },
            {
                "text": "自治体DX推進のあり方に関する課題ついて",
                "children": [
                    (
                        "標準化等の取り組みに並行し、自治体フロントヤード改革も推進されているが、その取り組み状況を"
                        "公表することで自治体間での安易な比較が生じ、無意味な競争を招いていることから、地域特性など"
                        "が考慮されない一律的な公表はせず、「先進事例」や「モデル事例」として、一部の自治体を取り扱"
                        "うよう、公表のあり方を改善すること。"
                    ),
                    (
                        "加えて、マイナンバーカード更新等の業務も時期の集中が想定されることから、財政支援にとどまら"
                        "ず、業務改善のあり方についても速やかに検討すること。"
                    ),
                    (
                        "自治体DXは自治体の業務だけでなく、人員の確保や組織のあり方にも関わる長期的な課題であるこ"
                        "とから、その施策にあたっては、より積極的に自治体の意向調査等を行うこと。"
                    ),
                    (
                        "DXは情報政策等の担当部署のみでなく、首長まで含めた、全庁的な取り組みであることを理解させ"
                        "るよう、国の責任においても取り組むこと。また、研修制度を充実させ、自治体職員の全般的なIT"
                        "スキル向上をはかること。"
                    ),
                    (
                        "とくに小規模自治体を中心に、DXにより生じる新たな業務への対応、また必要な専門職員の配置は"
                        "難しいことから、人員体制の構築にむけた支援を充実させること。"
                    ),
                    "引き続き、自治体DXにおける情報セキュリティの強化に留意すること。",
                    (
                        "過去の書面において蓄積されているデータについての電子化も今後対応を強化する必要があることか"
                        "ら、これにともなう国としての支援のあり方を検討すること。"
                    ),
                ],
            },
        ],
    },
    "b2": {
        "date_text": "2025年3月●日",
        "addressee_title": "法務大臣",
        "addressee_name": "鈴木馨祐",
        "honorific": "様",
        "sender_org": "全日本自治団体労働組合",
        "sender_title": "中央執行委員長",
        "sender_name": "石上千博",
        "title": "戸籍振り仮名法制化への対応に関する要請書",
        "greeting": "日頃より市民生活の向上にむけ、ご尽力いただいている貴職に敬意を表します。",
        "closing": (
            "つきましては、関係する省庁とも連携を取りながら、以下の要請に対し真摯なご対応をいただけるよ"
            "う、ここに要請します。"
        ),
        "body": [
            (
                "さて、戸籍の氏名に振り仮名記載を義務付ける改正戸籍法の施行が本年5月26日に迫っています。"
                "振り仮名の届け出については、法施行後１年以内の完了がめざされていますが、自治体においては相"
                "当の事務負担が想定されます。"
            ),
            (
                "自治体DXの一環として、事業の必要性は一定理解するものの、戸籍事務は法定受託事務であること"
                "から、その責任はひとえに自治体に帰するものではなく、国の主体的な関与こそが肝要です。"
            ),
        ],
        "items": [
            {
                "text": (
                    "戸籍振り仮名事業を進める上で、法務省が一方的に事業内容を決定することのないよう、法務省と市"
                    "区町村による協議の場を設けること。"
                ),
                "children": [],
            },
            {
                "text": (
                    "自治体で戸籍振り仮名法制化に係る事務事業を進めるにあたり、今後もさらなる経費が発生する可能"
                    "性があることから、引き続き自治体の状況を把握し、必要な経費についてはその全額を国の責任にお"
                    "いて負担すること。"
                ),
                "children": [],
            },
            {
                "text": (
                    "国による住民向けのコールセンターとは別に、自治体向けのヘルプデスクを新設すること。また、「"
                    "一般的な読み方」への判断基準が通知されているものの、なお自治体での判断が困難なケースも想定"
                    "されることから、そのことも念頭においた対応をはかること。"
                ),
                "children": [],
            },
            {
                "text": (
                    "住民からの振り仮名修正の届け出完了は2025年5月26日より1年以内をめざすとされているも"
                    "のの、多くの自治体から期日には「間に合わない」との懸念が示されている。自治体DXを巡っては"
                    "、国の要請に基づき、他の業務も並行し、数多く発生していることから、国として自治体DXを推進"
                    "するなら、関係省庁とも密に連携し、自治体に対し十分な支援を行うこと。また、その期日について"
                    "は緩和することも含め、柔軟に対応すること。加えて、自治体における実務が円滑に行われるよう、"
                    "必要な情報を早期に明示すること。"
                ),
                "children": [],
            },
            {
                "text": (
                    "振り仮名の届出に係る対応において、自治体が効率的かつ最小限度の負担で本事業に対応できるよう"
                    "、自治体における事務作業の進め方について国としても具体的な検討を進めること。"
                ),
                "children": [],
            },
        ],
    },
}


def letter(key: str) -> PrintedLetter:
    """The fixture letter as a PrintedLetter: b1 has numbered sections, b2 a flat list of items."""
    data = LETTERS[key]
    two_level = any(item["children"] for item in data["items"])
    if two_level:
        sections = [Section(item["text"], list(item["children"])) for item in data["items"]]
    else:
        sections = [Section("", [item["text"] for item in data["items"]])]
    return PrintedLetter(
        date_text=data["date_text"],
        addressee=PrintedAddressee(
            title=data["addressee_title"], name=data["addressee_name"], honorific=data["honorific"]
        ),
        sender_org=data["sender_org"],
        sender_title=data["sender_title"],
        sender_name=data["sender_name"],
        title=data["title"],
        greeting=data["greeting"],
        paragraphs=list(data["body"]),
        closing=data["closing"],
        sections=sections,
        numbering=numbering.DOT_PAREN if two_level else numbering.DOT,
    )


@dataclass
class Trace:
    """A request item that takes an opinion up, its letter and campaign, and the addressees who receive it."""

    item: object
    letter: object
    campaign: object
    addressees: list


def where_it_went(opinion) -> list[Trace]:
    """Where an opinion went: each request item linked to it, with the addressees whose letter prints that item
    (the items' links and compose.included_ids, as the letters show them)."""
    from consult.letters.compose import included_ids

    traces = []
    for item in sorted(opinion.request_items, key=lambda i: (i.letter_id, i.position, i.id)):
        receiving = [
            a for a in item.letter.campaign.addressees if a.letter_id == item.letter_id and item.id in included_ids(a)
        ]
        traces.append(Trace(item, item.letter, item.letter.campaign, receiving))
    return traces
