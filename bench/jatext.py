"""Realistic Japanese opinion texts for the search and similarity benchmarks, made deterministically from a seed.

The sentences are those of the 2025 DX request letters in shared/ (`fixtures/jichiro-2025-dx-requests.json`, from
`seeds/000_6eb25e781fba01c8.txt`), copied here so the benchmarks run from a checkout alone, and opinions on the
round's three draft items (social security, education, tax) written in the same register. Texts vary by clause
choice and order, sentence endings, the branch that speaks, synonyms, full/half width (ＤＸ, ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ), and
long vowels (サーバー/サーバ), as typed texts do.
"""

from __future__ import annotations

import random

# From the request letters of the fixture (items and background), as published.
LETTER_SENTENCES = [
    "2026年度以降の移行とならざるを得ないこととなった「特定移行支援システム」については、概ね５年以内の移行"
    "スケジュールが示されていることから、今後は「期限第一」とはせず「安全第一」の観点に立ち、システムベンダーまで"
    "含めた人員の確保にも留意しつつ、国費による確実な財政支援を行うこと。",
    "標準化にともない生じる20業務以外のシステム改修や設備投資についても、地域特性など必要性に応じたサービスを"
    "保障するための措置であることから、あわせて国庫補助の対象とすること。",
    "ガバメントクラウド接続に係る利用料等が、結果としてランニングコストの大幅な増加につながっている自治体が多数"
    "あることから、ランニングコストまで含めた継続的な財政支援のあり方について、早急に検討すること。",
    "2024年12月2日に健康保険証の新規交付が終了したことにともない、マイナンバーカードとの紐づけ作業や、資格確認書、"
    "資格情報のお知らせ、制度説明など、自治体における業務が急増していることから、これに際する人員確保等の取り組み"
    "について、国として支援を充実すること。",
    "健康保険証とマイナンバーカードの一体化は医療事務の効率化ではなく、マイナンバーカード普及促進のための施策と"
    "なっていることから、関係省庁や自治体とも連携し、直近の対応にとどまらず、中長期的な改善策についても検討を"
    "行うこと。",
    "国民健康保険の対応事務の詳細について国から十分に示されておらず、従来世帯ごとの保険証の交付のみで足りた事務"
    "についても、マイナ保険証保有の有無により対応が異なるため、市町村国保の事務も激増している。",
    "DXによる社会的なコストの低減という基本に戻った制度設計となるよう、対応の改善をはかること。",
    "標準化等の取り組みに並行し、自治体フロントヤード改革も推進されているが、その取り組み状況を公表することで"
    "自治体間での安易な比較が生じ、無意味な競争を招いている。",
    "地域特性などが考慮されない一律的な公表はせず、「先進事例」や「モデル事例」として、一部の自治体を取り扱う"
    "よう、公表のあり方を改善すること。",
    "マイナンバーカード更新等の業務も時期の集中が想定されることから、財政支援にとどまらず、業務改善のあり方に"
    "ついても速やかに検討すること。",
    "自治体DXは自治体の業務だけでなく、人員の確保や組織のあり方にも関わる長期的な課題であることから、その施策に"
    "あたっては、より積極的に自治体の意向調査等を行うこと。",
    "DXは情報政策等の担当部署のみでなく、首長まで含めた、全庁的な取り組みであることを理解させるよう、国の責任に"
    "おいても取り組むこと。",
    "研修制度を充実させ、自治体職員の全般的なITスキル向上をはかること。",
    "とくに小規模自治体を中心に、DXにより生じる新たな業務への対応、また必要な専門職員の配置は難しいことから、"
    "人員体制の構築にむけた支援を充実させること。",
    "引き続き、自治体DXにおける情報セキュリティの強化に留意すること。",
    "過去の書面において蓄積されているデータについての電子化も今後対応を強化する必要があることから、これにともなう"
    "国としての支援のあり方を検討すること。",
    "戸籍振り仮名事業を進める上で、法務省が一方的に事業内容を決定することのないよう、法務省と市区町村による協議の"
    "場を設けること。",
    "自治体で戸籍振り仮名法制化に係る事務事業を進めるにあたり、今後もさらなる経費が発生する可能性があることから、"
    "必要な経費についてはその全額を国の責任において負担すること。",
    "国による住民向けのコールセンターとは別に、自治体向けのヘルプデスクを新設すること。",
    "「一般的な読み方」への判断基準が通知されているものの、なお自治体での判断が困難なケースも想定される。",
    "住民からの振り仮名修正の届け出完了は2025年5月26日より1年以内をめざすとされているものの、多くの自治体から"
    "期日には「間に合わない」との懸念が示されている。",
    "各自治体において、極めて広範、多岐にわたる課題への対応を一斉に迫られたため、自治体のみならずシステム"
    "ベンダーまで巻き込み、DXにかかる膨大な業務が集中している。",
    "人員不足のみならず、想定をはるかに超える追加経費の発生まで見込まれる事態となっている。",
    "政府は2020年に「デジタル・ガバメント実行計画」を閣議決定し、自治体の取り組むべき課題を明示した。",
    "「自治体デジタル・トランスフォーメーション（DX）推進計画」の重点取り組み事項として、自治体フロントヤード改革の"
    "推進、情報システムの標準化・共通化、マイナンバーカードの普及促進が掲げられている。",
    "戸籍事務は法定受託事務であることから、その責任はひとえに自治体に帰するものではなく、国の主体的な関与こそが"
    "肝要である。",
]

# Opinions on the draft's three items, in the register of the letters: one talking point each, written once;
# the near-duplicates of the similarity benchmark are variations of these.
TALKING_POINTS = [
    "マイナ保険証への一本化は拙速であり、現行の健康保険証の廃止は延期すること。",
    "資格確認書の発行事務が市町村の窓口に集中しており、発行にかかる経費の全額を国が負担すること。",
    "医療・介護・保育の現場で働く職員の処遇改善を進め、賃金水準を全産業平均まで引き上げること。",
    "会計年度任用職員の処遇改善と雇用の安定をはかり、期末・勤勉手当の支給を確実に行うこと。",
    "教職員の長時間労働を是正するため、教職員定数を改善し、少人数学級を早期に実現すること。",
    "給食費を含む義務教育の無償化を国の責任で実施し、自治体間の格差を生じさせないこと。",
    "奨学金の返済負担を軽減するため、給付型奨学金の対象を拡大し、所得連動返還の要件を緩和すること。",
    "消費税の逆進性を緩和するため、給付付き税額控除を早期に導入すること。",
    "地方交付税の法定率を引き上げ、地方一般財源の総額を確保すること。",
    "金融所得課税を強化し、所得の再分配機能を回復させること。",
    "国民健康保険の保険料負担が限界に達しており、国庫負担を引き上げること。",
    "地域医療構想の推進にあたっては、公立病院の機能を維持し、医師の確保を国の責任で行うこと。",
    "生活保護のケースワーカーの標準数を見直し、福祉事務所の体制を強化すること。",
    "子ども・子育て支援金の負担が医療保険料に上乗せされることについて、国民への丁寧な説明を行うこと。",
]

# The same talking points in other words, as another branch would put them.
PARAPHRASES = [
    [
        "現行の健康保険証を当面残すこと。マイナンバーカードとの一体化は拙速で、保険証の廃止時期を見直すべきである。",
        "ﾏｲﾅ保険証のトラブルが続いており、紙の健康保険証の廃止は延期すべきである。",
    ],
    [
        "資格確認書の発行が窓口の負担となっており、その経費は国の責任で全額措置すること。",
        "市町村窓口での資格確認書の交付事務について、必要な経費を国が全額負担されたい。",
    ],
    [
        "医療・介護・保育に従事する職員の賃金を全産業平均並みに引き上げ、処遇を改善すること。",
        "ケア労働者の処遇改善を進め、全産業平均との賃金格差を解消すること。",
    ],
    [
        "会計年度任用職員の雇用を安定させ、勤勉手当を確実に支給すること。",
        "会計年度任用職員について、期末・勤勉手当の支給と処遇改善を確実に進めること。",
    ],
    [
        "少人数学級の早期実現と教職員定数の改善により、教職員の長時間労働を解消すること。",
        "教員の長時間勤務を是正するため、定数改善と少人数学級を進めること。",
    ],
    [
        "義務教育の給食費を無償とし、国の責任で実施して自治体間の格差をなくすこと。",
        "学校給食費を含め、義務教育を国の責任で無償化すること。",
    ],
    [
        "給付型奨学金を拡充し、奨学金返済の負担を軽減すること。",
        "所得連動返還の要件緩和と給付型奨学金の拡大で、奨学金の返済負担を軽くすること。",
    ],
    [
        "給付付き税額控除を早期に導入し、消費税の逆進性を緩和すること。",
        "消費税の逆進性対策として、給付付き税額控除の導入を急ぐこと。",
    ],
    [
        "地方一般財源の総額を確保するため、地方交付税の法定率を引き上げること。",
        "地方交付税の法定率引き上げにより、地方の一般財源総額を確保されたい。",
    ],
    [
        "所得再分配機能の回復にむけ、金融所得への課税を強化すること。",
        "金融所得課税の強化によって、税の再分配機能を取り戻すこと。",
    ],
    [
        "国民健康保険料の負担は限界であり、国庫負担の引き上げを求める。",
        "国保の保険料負担が重くなっており、国庫負担を引き上げること。",
    ],
    [
        "公立病院の機能を維持し、地域医療構想の推進にあたっては医師確保を国の責任で行うこと。",
        "地域医療構想の名による公立病院の縮小ではなく、医師の確保を国の責任で進めること。",
    ],
    [
        "福祉事務所の体制を強化し、ケースワーカーの標準数を見直すこと。",
        "生活保護の現業員（ケースワーカー）の標準数を見直し、体制を強化すること。",
    ],
    [
        "子ども・子育て支援金の医療保険料への上乗せについて、国民に丁寧に説明すること。",
        "医療保険料に上乗せされる子ども・子育て支援金について、負担の丁寧な説明を行うこと。",
    ],
]

# Wordings people swap for one another.
SYNONYMS = [
    ("延期すること", "先送りすること"),
    ("延期", "見直し"),
    ("拙速", "時期尚早"),
    ("国が負担", "国費で措置"),
    ("全額を国が負担", "国の責任で全額措置"),
    ("引き上げること", "引き上げを求める"),
    ("早期に", "速やかに"),
    ("実現すること", "実現されたい"),
    ("自治体", "市町村"),
    ("職員", "現場の職員"),
    ("確保すること", "確保されたい"),
    ("強化すること", "強化をはかること"),
    ("軽減するため", "軽くするため"),
    ("導入すること", "導入を検討すること"),
    ("市町村の窓口", "自治体の窓口"),
    ("改善し", "見直し"),
    ("国の責任で", "国として"),
]
ENDINGS = ["こと。", "ことを求める。", "べきである。", "よう要望する。", "こと。", "ことが必要である。"]
PREFIXES = ["", "", "", "当県本部としては、", "単組からは、", "組織討議の結果、", "現場の声として、", "かねてより、"]
EXTRA_CLAUSES = [
    "現場の負担は限界に達している。",
    "住民サービスへの影響も懸念される。",
    "単組からも同様の意見が多数寄せられた。",
    "十分な説明がないまま進められている。",
    "地域の実情に応じた対応が必要である。",
    "早急な対応を求める。",
    "サーバー更新の時期とも重なっている。",
    "これまでの要請の成果を踏まえ、引き続き取り組むべきである。",
]
PREFECTURES = (
    "北海道 青森 岩手 宮城 秋田 山形 福島 茨城 栃木 群馬 埼玉 千葉 東京 神奈川 新潟 富山 石川 福井 山梨 長野 岐阜 静岡 "
    "愛知 三重 滋賀 京都 大阪 兵庫 奈良 和歌山 鳥取 島根 岡山 広島 山口 徳島 香川 愛媛 高知 福岡 佐賀 長崎 熊本 大分 "
    "宮崎 鹿児島 沖縄"
).split()
# Typed variants: full width, half-width katakana, long vowel left off.
WIDTH_VARIANTS = [
    ("DX", "ＤＸ"),
    ("IT", "ＩＴ"),
    ("マイナンバーカード", "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞ"),
    ("サーバー", "サーバ"),
    ("システム", "ｼｽﾃﾑ"),
    ("ランニングコスト", "ﾗﾝﾆﾝｸﾞｺｽﾄ"),
    ("2025", "２０２５"),
    ("20業務", "２０業務"),
]


def _vary(rng: random.Random, sentence: str) -> str:
    """One typed version of a sentence: a synonym or two, another ending, width and long-vowel variants."""
    for old, new in rng.sample(SYNONYMS, 2):
        if old in sentence and rng.random() < 0.5:
            sentence = sentence.replace(old, new, 1)
    if sentence.endswith("こと。") and rng.random() < 0.4:
        sentence = sentence[: -len("こと。")] + rng.choice(ENDINGS)
    for plain, variant in WIDTH_VARIANTS:
        if plain in sentence and rng.random() < 0.08:
            sentence = sentence.replace(plain, variant)
    return sentence


def opinion_fields(rng: random.Random, org: int) -> tuple[str, str, str]:
    """(該当箇所, 修正案, 理由) of one opinion: 100-600 characters, mixing letters' sentences and talking points."""
    pool = LETTER_SENTENCES + TALKING_POINTS
    referred = rng.choice(pool)
    referred = referred[: rng.randint(20, 60)]
    proposed = "".join(_vary(rng, s) for s in rng.sample(pool, rng.choice([1, 2])))
    reason = rng.choice(PREFIXES) + "".join(_vary(rng, s) for s in rng.sample(pool, rng.choice([1, 1, 2])))
    if rng.random() < 0.5:
        reason += rng.choice(EXTRA_CLAUSES)
    if rng.random() < 0.3:
        reason = f"{PREFECTURES[org % 47]}県本部：" + reason
    return referred, proposed, reason


def round_opinions(n: int, seed: int = 2025):
    """n opinions of a round as (id, (該当箇所, 修正案, 理由)), ids from 1."""
    rng = random.Random(seed)
    for i in range(1, n + 1):
        yield i, opinion_fields(rng, i // 50)


def near_duplicate(rng: random.Random, point: int) -> tuple[str, bool]:
    """Another branch saying the same thing: the point or one of its paraphrases, varied; now and then a clause
    left out, or a sentence on another matter added (then the opinion says two things: mixed is True)."""
    base = TALKING_POINTS[point] if rng.random() < 0.6 else rng.choice(PARAPHRASES[point])
    text = _vary(rng, base)
    clauses = text.split("、")
    if len(clauses) > 2 and rng.random() < 0.2:
        del clauses[rng.randrange(1, len(clauses) - 1)]
        text = "、".join(clauses)
    text = rng.choice(PREFIXES) + text
    if rng.random() < 0.4:
        text += rng.choice(EXTRA_CLAUSES)
    mixed = rng.random() < 0.15
    if mixed:
        text += _vary(rng, rng.choice(LETTER_SENTENCES))
    return text, mixed


def unrelated(rng: random.Random) -> str:
    """An opinion on something else: clauses of two or three different letters' sentences, joined and varied."""
    clauses = [c for s in rng.sample(LETTER_SENTENCES, 3) for c in s.rstrip("。").split("、")]
    picked = rng.sample(clauses, min(len(clauses), rng.choice([2, 3])))
    return rng.choice(PREFIXES) + _vary(rng, "、".join(picked) + "こと。")


def item_opinions(n: int = 3000, points: int = 12, share: float = 0.7, seed: int = 2025):
    """n opinions of one item as (id, text, label, mixed): `share` of them near-duplicates or paraphrases of
    `points` talking points (label = the point's number; mixed when a sentence on another matter was added), the
    rest on other matters (label None)."""
    rng = random.Random(seed)
    rows = []
    for i in range(1, n + 1):
        if rng.random() < share:
            label = rng.randrange(points)
            text, mixed = near_duplicate(rng, label)
            rows.append((i, text, label, mixed))
        else:
            rows.append((i, unrelated(rng), None, False))
    return rows
