"""The follow-up of the demo's DX campaign: visits done to some addressees, answers graded for part of the items,
an indicator, the outcome published, and the 2026 campaign carried over from it. Flush, never commit; loading
twice changes nothing (the 2026 campaign is found by its title)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from consult.core.clock import from_jst
from consult.demo.letters import TITLE
from consult.extensions import db
from consult.followup import operations as followup
from consult.letters.models import Campaign
from consult.orgs.models import Organization

NEXT_TITLE = "2026年 自治体DX推進にかかる省庁要請"
VISITS = (  # addressee, JST time, place, our side, their side, status
    (
        "総務省",
        (2025, 3, 24, 10, 0),
        "総務省 10階 会議室",
        "総合政治政策局長\n政策局員",
        "自治行政局 行政経営支援室長",
        "answered",
    ),
    (
        "デジタル庁",
        (2025, 3, 24, 14, 0),
        "デジタル庁 会議室",
        "総合政治政策局長",
        "地方業務システム基盤チーム 参事官",
        "done",
    ),
    ("法務省", (2025, 3, 25, 11, 0), "法務省 民事局", "政策局員", "民事局 民事第一課 補佐官", "done"),
    ("立憲民主党", (2025, 3, 26, 13, 0), "衆議院第一議員会館", "総合政治政策局長", "政務調査会 事務局", "planned"),
)
# (addressee, position of the request among the letter's requests, first answer, grade, second answer or None)
ANSWERS = (
    ("総務省", 0, "特定移行支援システムの移行期限は柔軟に対応し、所要の財政措置を講じる。", "前進", None),
    ("総務省", 1, "20業務以外の改修は各団体の判断であり、補助の対象とは考えていない。", "現状維持", None),
    (
        "総務省",
        2,
        "ランニングコストについては実態を調査中。",
        "一部前進",
        "調査結果を踏まえ、令和8年度に支援策を検討する。",
    ),
    ("デジタル庁", 0, "移行スケジュールは自治体の状況を踏まえて見直す。", "一部前進", None),
    ("デジタル庁", 2, "ガバメントクラウドの利用料は引き下げに向け交渉している。", "後退", None),
)


def load_demo_followup(now: datetime) -> None:
    campaign = db.session.scalars(select(Campaign).where(Campaign.title == TITLE).order_by(Campaign.id)).first()
    if campaign is None or db.session.scalars(select(Campaign).where(Campaign.title == NEXT_TITLE)).first():
        return
    by_name = {a.organisation: a for a in campaign.addressees}
    for name, when, place, ours, theirs, status in VISITS:
        addressee = by_name.get(name)
        if addressee is None:
            continue
        followup.add_visit(
            campaign,
            followup.VisitInput(
                addressee.id,
                from_jst(datetime(*when)),
                place,
                status,
                ours,
                theirs,
                answer_expected_on=date(2025, 4, 30) if name == "デジタル庁" else None,
            ),
            user=None,
            now=now,
        )
    letter = campaign.letters[0]
    requests = [item for item in letter.items if item.parent_id is not None]
    for name, position, text, grade, second in ANSWERS:
        addressee, item = by_name.get(name), requests[position] if position < len(requests) else None
        if addressee is None or item is None or not followup.receives(addressee, item):
            continue
        answer = followup.save_answer(
            item,
            addressee,
            followup.AnswerInput(text=text, answered_on=date(2025, 3, 24), grade=grade),
            0,
            user=None,
            now=now,
        )
        if second:
            followup.save_answer(
                item,
                addressee,
                followup.AnswerInput(text=second, answered_on=date(2025, 5, 20), grade="前進", new_exchange=True),
                answer.version,
                user=None,
                now=now,
            )
    followup.save_indicator(
        campaign,
        "現年分収納率",
        "%",
        True,
        [(2022, 98.2, 98.3), (2023, 98.3, 98.4), (2024, 98.4, 98.1), (2025, 98.5, None), (2026, 98.6, None)],
        user=None,
        now=now,
    )
    headquarters = db.session.scalars(select(Organization).where(Organization.kind == "hq")).first()
    if headquarters is not None:  # an organisation's own indicator, beside the campaign's
        followup.save_indicator(
            headquarters,
            "組合員の組織率",
            "%",
            True,
            [(2022, 70.0, 69.2), (2023, 70.5, 69.8), (2024, 71.0, 71.3), (2025, 71.5, None), (2026, 72.0, None)],
            user=None,
            now=now,
        )
    followup.publish(campaign, True, user=None, now=now - timedelta(days=1))
    followup.carry_over(campaign, ["現状維持", "後退"], NEXT_TITLE, user=None, now=now)
