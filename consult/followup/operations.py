"""Changes of the follow-up: settings, visits, files, answers and grades, carry-over, consulting members.
Each checks before it writes, flushes, writes its audit line, and leaves the commit to the request."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from consult.audit.operations import record_object
from consult.core.errors import ConflictError, DomainError
from consult.core.text import uploaded_file_name
from consult.extensions import db
from consult.followup.models import (
    ANSWER_TEXT_LIMIT,
    ATTACHMENT_MAX_BYTES,
    INDICATOR_NAME_LENGTH,
    INDICATOR_YEARS_LIMIT,
    LABELS_LIMIT,
    NOTES_LIMIT,
    PEOPLE_LIMIT,
    PLACE_LENGTH,
    REASON_LIMIT,
    SCALES,
    UNIT_LENGTH,
    VISIT_STATUSES,
    AnswerExchange,
    CarryLink,
    FollowupPlan,
    Indicator,
    IndicatorValue,
    ItemAnswer,
    Visit,
    VisitAttachment,
)
from consult.letters import compose
from consult.letters import operations as letters
from consult.letters.models import Addressee, Campaign, RequestItem
from consult.letters.operations import CONFLICT_MESSAGE, Checker, InputErrors
from consult.orgs.models import Organization
from consult.rounds import operations as rounds
from consult.rounds.models import Round
from consult.rounds.operations import ALLOWED_ATTACHMENT_TYPES as ALLOWED_TYPES
from consult.rounds.operations import checked_document


def _flush(obj=None) -> None:
    try:
        db.session.flush()
    except StaleDataError as exc:  # someone saved between our read and our write
        raise ConflictError(CONFLICT_MESSAGE, current=None) from exc


def _check_version(obj, expected: int | None) -> None:
    if expected is not None and expected != obj.version:
        raise ConflictError(CONFLICT_MESSAGE, current=obj)


# ---------------------------------------------------------------- settings


def plan_for(campaign: Campaign) -> FollowupPlan:
    """The campaign's follow-up settings; the defaults until someone changes them (created on first write)."""
    plan = db.session.get(FollowupPlan, campaign.id)
    if plan is None:
        plan = FollowupPlan(campaign_id=campaign.id, scale="default", custom_labels="", version=1)
        plan.campaign = campaign
    return plan


def _stored_plan(campaign: Campaign) -> FollowupPlan:
    plan = plan_for(campaign)
    if plan not in db.session:
        db.session.add(plan)
        db.session.flush()
    return plan


def set_scale(
    campaign: Campaign, scale: str, custom_labels: str, expected_version: int | None, *, user, now: datetime
) -> FollowupPlan:
    c = Checker()
    c.choice("scale", scale, SCALES, _("評価の区分を一覧から選んでください。"))
    labels = c.text("custom_labels", custom_labels, _("独自の区分"), LABELS_LIMIT)
    if scale == "custom" and not [line for line in labels.splitlines() if line.strip()]:
        c.errors["custom_labels"] = _("独自の区分を1行に1つずつ入力してください。")
    if any(len(line.strip()) > 40 for line in labels.splitlines()):
        c.errors["custom_labels"] = _("区分の名前は40文字以内にしてください。")
    c.raise_if_any()
    plan = _stored_plan(campaign)
    _check_version(plan, expected_version)
    plan.scale, plan.custom_labels = scale, labels
    _flush()
    record_object("followup_settings", plan, SCALES[scale], user=user, now=now)
    return plan


def publish(campaign: Campaign, published: bool, *, user, now: datetime) -> FollowupPlan:
    """Let the branches see the outcome (grades per addressee and item), or take it back."""
    plan = _stored_plan(campaign)
    plan.published_at = now if published else None
    _flush()
    record_object("followup_settings", plan, "公開" if published else "非公開", user=user, now=now)
    return plan


# ---------------------------------------------------------------- visits


@dataclass
class VisitInput:
    addressee_id: int
    starts_at: datetime
    place: str = ""
    status: str = "planned"
    our_side: str = ""
    their_side: str = ""
    notes: str = ""
    answer_expected_on: date | None = None


def _check_visit(campaign: Campaign, data: VisitInput) -> VisitInput:
    c = Checker()
    addressee = db.session.get(Addressee, data.addressee_id) if isinstance(data.addressee_id, int) else None
    if addressee is None or addressee.campaign_id != campaign.id:
        c.errors["addressee_id"] = _("この要請行動の要請先を選んでください。")
    if not isinstance(data.starts_at, datetime):
        c.errors["starts_at"] = _("日時を入力してください。")
    place = c.text("place", data.place, _("場所"), PLACE_LENGTH, single_line=True)
    c.choice("status", data.status, VISIT_STATUSES, _("状況は予定・実施済み・回答ありから選んでください。"))
    our_side = c.text("our_side", data.our_side, _("こちらの参加者"), PEOPLE_LIMIT)
    their_side = c.text("their_side", data.their_side, _("先方の応対者"), PEOPLE_LIMIT)
    notes = c.text("notes", data.notes, _("メモ"), NOTES_LIMIT)
    c.raise_if_any()
    return VisitInput(
        data.addressee_id, data.starts_at, place, data.status, our_side, their_side, notes, data.answer_expected_on
    )


def add_visit(campaign: Campaign, data: VisitInput, *, user, now: datetime) -> Visit:
    data = _check_visit(campaign, data)
    visit = Visit(campaign_id=campaign.id, created_at=now, **vars(data))
    db.session.add(visit)
    db.session.flush()
    record_object("visit_added", visit, visit.status_label, user=user, now=now)
    return visit


def update_visit(visit: Visit, expected_version: int | None, data: VisitInput, *, user, now: datetime) -> Visit:
    _check_version(visit, expected_version)
    campaign = db.session.get(Campaign, visit.campaign_id)
    data = _check_visit(campaign, data)
    for name, value in vars(data).items():
        setattr(visit, name, value)
    _flush()
    record_object("visit_edited", visit, visit.status_label, user=user, now=now)
    return visit


def add_visit_file(visit: Visit, filename: str, data: bytes, *, user, now: datetime) -> VisitAttachment:
    """The addressee's written answer, PDF or DOCX, checked by its content (a DOCX through the zip guard)."""
    content_type = checked_document(data, ATTACHMENT_MAX_BYTES)
    attachment = VisitAttachment(
        visit=visit,
        filename=uploaded_file_name(filename, ALLOWED_TYPES[content_type], "answer"),
        content_type=content_type,
        size=len(data),
        data=data,
        uploaded_at=now,
        uploaded_by_id=getattr(user, "id", None),
    )
    db.session.add(attachment)
    db.session.flush()
    record_object("visit_file_added", attachment, user=user, now=now)
    return attachment


def delete_visit(visit: Visit, expected_version: int | None, *, user, now: datetime) -> None:
    """Remove a visit and its files (DELETE … WHERE version = the version read: a visit changed meanwhile stays)."""
    _check_version(visit, expected_version)
    record_object("visit_deleted", visit, visit.status_label, user=user, now=now)
    db.session.delete(visit)
    _flush()


def delete_visit_file(attachment: VisitAttachment, *, user, now: datetime) -> None:
    """Remove one file of a visit (a wrong upload)."""
    record_object("visit_file_deleted", attachment, user=user, now=now)
    db.session.delete(attachment)
    db.session.flush()


# ---------------------------------------------------------------- answers and grades


@dataclass
class AnswerInput:
    text: str = ""
    answered_on: date | None = None
    grade: str = ""
    reason: str = ""
    remedy: str = ""
    new_exchange: bool = False  # keep the current exchange and start the next (第2次回答 …)
    settled: bool = False  # this exchange is the settlement (妥結)


def answer_for(item: RequestItem, addressee: Addressee) -> ItemAnswer | None:
    return db.session.scalar(
        select(ItemAnswer).where(ItemAnswer.request_item_id == item.id, ItemAnswer.addressee_id == addressee.id)
    )


def receives(addressee: Addressee, item: RequestItem) -> bool:
    """The addressee's letter holds this request (their own subset, when they get part of it)."""
    return item.letter_id == addressee.letter_id and item.id in compose.included_ids(addressee)


def save_answer(
    item: RequestItem,
    addressee: Addressee,
    data: AnswerInput,
    expected_version: int | None,
    *,
    user,
    now: datetime,
) -> ItemAnswer:
    """Write the answer's current exchange (or start the next one), with its grade on the campaign's scale.

    expected_version is the answer's version the caller read (0: there was none yet); a different one is a
    conflict, so two people grading the same cell never overwrite each other unseen."""
    if not receives(addressee, item):
        raise DomainError(_("この要請先はこの項目を受け取っていません。"))
    plan = plan_for(addressee.campaign)
    c = Checker()
    text = c.text("text", data.text, _("回答"), ANSWER_TEXT_LIMIT)
    grade = (data.grade or "").strip()
    if grade and grade not in plan.grades():
        c.errors["grade"] = _("評価は「%(grades)s」から選んでください。", grades="・".join(plan.grades()))
    reason = c.text("reason", data.reason, _("理由"), REASON_LIMIT)
    remedy = c.text("remedy", data.remedy, _("改善策"), REASON_LIMIT)
    if grade and plan.needs_reason(grade) and not reason:
        c.errors["reason"] = _("評価%(grade)sには理由を書いてください。", grade=grade)
    if grade and plan.needs_remedy(grade) and not remedy:
        c.errors["remedy"] = _("評価%(grade)sには改善策を書いてください。", grade=grade)
    if data.answered_on is not None and not isinstance(data.answered_on, date):
        c.errors["answered_on"] = _("回答日を入力してください。")
    c.raise_if_any()
    answer = answer_for(item, addressee)
    if answer is None:
        if expected_version not in (None, 0):
            raise ConflictError(CONFLICT_MESSAGE, current=None)
        answer = ItemAnswer(request_item_id=item.id, addressee_id=addressee.id, version=1)
        answer.request_item, answer.addressee = item, addressee
        db.session.add(answer)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError as exc:  # someone created it between our read and our write
            raise ConflictError(CONFLICT_MESSAGE, current=None) from exc
    else:
        _check_version(answer, expected_version)
        bumped = db.session.execute(
            update(ItemAnswer)
            .where(ItemAnswer.id == answer.id, ItemAnswer.version == answer.version)
            .values(version=ItemAnswer.version + 1)
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:
            raise ConflictError(CONFLICT_MESSAGE, current=None)
        db.session.expire(answer, ["version"])
    current = answer.current
    if current is None or data.new_exchange:
        current = AnswerExchange(number=len(answer.exchanges) + 1, updated_at=now)
        answer.exchanges.append(current)
    current.text, current.answered_on, current.grade = text, data.answered_on, grade
    current.reason, current.remedy, current.settled = reason, remedy, bool(data.settled)
    current.updated_at = now
    current.graded_by_id = getattr(user, "id", None) if grade else None
    _flush()
    record_object("item_answer_saved", answer, f"{current.stage} {plan.grade_label(grade)}".strip(), user=user, now=now)
    return answer


# ---------------------------------------------------------------- carry-over


def items_to_carry(campaign: Campaign, grades: list[str]) -> list[RequestItem]:
    """The requests whose current grade, for at least one addressee, is one of these (unanswered counts as 回答なし)."""
    from consult.followup.queries import grid

    chosen = set(grades)
    board = grid(campaign)
    carried = []
    for row in board.rows:
        if row.item.children:
            continue
        cell_grades = {cell.grade or "回答なし" for cell in row.cells if cell.receives}
        if cell_grades & chosen:
            carried.append(row.item)
    return carried


def carry_over(campaign: Campaign, grades: list[str], title: str, *, user, now: datetime) -> Campaign:
    """A new campaign a year later with the unresolved requests (by grade), each linked to its predecessor,
    their sections, and the addressees that received them."""
    if not grades:
        raise InputErrors({"grades": _("引き継ぐ評価を1つ以上選んでください。")})
    items = items_to_carry(campaign, grades)
    if not items:
        raise InputErrors({"grades": _("選んだ評価の項目がありません。")})
    new = letters.create_campaign(
        letters.CampaignInput(
            title=title,
            date_year=campaign.date_year + 1,
            date_month=campaign.date_month,
            date_day=None,
            date_style=campaign.date_style,
            sender_org=campaign.sender_org,
            sender_title=campaign.sender_title,
            sender_name=campaign.sender_name,
            round_id=None,
        ),
        now,
        user=user,
    )
    carried_ids = {item.id for item in items}
    mapping: dict[int, RequestItem] = {}
    letter_map = {}
    for letter in campaign.letters:
        chosen = [item for item in letter.items if item.id in carried_ids]
        if not chosen:
            continue
        copy = letters.add_letter(
            new,
            letters.LetterInput(
                title=letter.title,
                greeting=letter.greeting,
                background=letter.background,
                closing=letter.closing,
                numbering=letter.numbering,
                fullwidth_digits=letter.fullwidth_digits,
            ),
            user=user,
            now=now,
        )
        letter_map[letter.id] = copy
        for top in letter.top_items():
            if top.children:
                kept = [child for child in top.children if child.id in carried_ids]
                if not kept:
                    continue
                section = letters.add_request_item(copy, top.text, user=user, now=now)
                mapping[top.id] = section
                for child in kept:
                    mapping[child.id] = letters.add_request_item(copy, child.text, parent=section, user=user, now=now)
            elif top.id in carried_ids:
                mapping[top.id] = letters.add_request_item(copy, top.text, user=user, now=now)
    for old_id, new_item in mapping.items():
        db.session.add(CarryLink(predecessor_id=old_id, request_item_id=new_item.id))
    for addressee in campaign.addressees:
        copy_letter = letter_map.get(addressee.letter_id)
        if copy_letter is None:
            continue
        included = compose.included_ids(addressee)
        if not included & carried_ids:
            continue
        moved = letters.add_addressee(
            new,
            copy_letter,
            letters.AddresseeInput(
                organisation=addressee.organisation,
                kind=addressee.kind,
                title=addressee.title,
                name=addressee.name,
                honorific=addressee.honorific,
                greeting=addressee.greeting,
                extra_paragraph=addressee.extra_paragraph,
            ),
            user=user,
            now=now,
        )
        if not addressee.all_items:
            letters.set_addressee_items(moved, [mapping[i].id for i in included if i in mapping], user=user, now=now)
    plan = db.session.get(FollowupPlan, campaign.id)
    if plan is not None:
        db.session.add(FollowupPlan(campaign_id=new.id, scale=plan.scale, custom_labels=plan.custom_labels))
    db.session.flush()
    record_object("carried_over", new, f"{len(items)}件", user=user, now=now)
    return new


def carry_into_round(campaign: Campaign, grades: list[str], title: str, *, user, now: datetime) -> Round:
    """A new round's draft (準備中) whose items are the unresolved requests, each linked to its predecessor."""
    if not grades:
        raise InputErrors({"grades": _("引き継ぐ評価を1つ以上選んでください。")})
    items = items_to_carry(campaign, grades)
    if not items:
        raise InputErrors({"grades": _("選んだ評価の項目がありません。")})
    labels: dict[int, str] = {}
    for letter in campaign.letters:
        labels.update(compose.item_labels(letter))
    round_ = _draft_round(title or campaign.title, _("前年の要請項目のうち、引き続き求めるもの。"), user, now)
    added = rounds.add_items(
        round_, [rounds.ItemDraft(str(n), item.text, "") for n, item in enumerate(items, start=1)], now, user=user
    )
    for item, round_item in zip(items, added, strict=True):
        db.session.add(CarryLink(predecessor_id=item.id, round_item_id=round_item.id))
    db.session.flush()
    record_object("carried_over", campaign, f"討議「{round_.title}」へ{len(items)}件", user=user, now=now)
    return round_


def _draft_round(title: str, background: str, user, now: datetime) -> Round:
    from datetime import timedelta

    if not title.strip():
        raise InputErrors({"title": _("名称を入力してください。")})
    return rounds.create_round(title.strip(), background, now + timedelta(days=7), now + timedelta(days=21), user, now)


def consult_on_answer(answer: ItemAnswer, *, user, now: datetime) -> Round:
    """A round (準備中) to the branches on how to take the answer: 「回答をどう受け止めるか」, the answer its draft."""
    current = answer.current
    if current is None or not current.text:
        raise DomainError(_("回答の本文がまだありません。"))
    addressee = answer.addressee
    title = _("「%(who)s」の回答をどう受け止めるか", who=addressee.organisation)
    background = _("要請項目：%(item)s", item=answer.request_item.text)
    round_ = _draft_round(title[:300], background, user, now)
    rounds.add_items(
        round_,
        [rounds.ItemDraft("1", _("%(stage)sの内容", stage=current.stage), current.text)],
        now,
        user=user,
    )
    record_object("answer_consulted", answer, round_.title, user=user, now=now)
    return round_


# ---------------------------------------------------------------- indicators


def parse_values(text: str) -> list[tuple[int, float | None, float | None]]:
    """Lines 「年度 目標 実績」 (2022 98.2 98.3; 実績 may be left out or written -), as typed in the form."""
    from consult.core.text import normalise_number

    found = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        words = normalise_number(line).replace(",", " ").replace("%", " ").split()
        if not words:
            continue
        try:
            year = int(words[0])
            target = float(words[1]) if len(words) > 1 and words[1] != "-" else None
            actual = float(words[2]) if len(words) > 2 and words[2] != "-" else None
        except ValueError as exc:
            raise InputErrors(
                {"values": _("%(number)s行目：「年度 目標 実績」の数字で書いてください。", number=number)}
            ) from exc
        if any(v is not None and not (math.isfinite(v) and abs(v) < 1e12) for v in (target, actual)):
            raise InputErrors({"values": _("%(number)s行目：目標と実績は普通の数字で書いてください。", number=number)})
        if not 1900 <= year <= 2200:
            raise InputErrors({"values": _("%(number)s行目：年度は西暦で書いてください。", number=number)})
        found.append((year, target, actual))
    return found


def save_indicator(
    owner: Campaign | Organization,
    name: str,
    unit: str,
    higher_is_better: bool,
    values: list[tuple[int, float | None, float | None]],
    *,
    user,
    now: datetime,
    indicator: Indicator | None = None,
    expected_version: int | None = None,
) -> Indicator:
    """An indicator of a campaign or an organisation with its target and actual per fiscal year (replacing the
    years); editing one checks the version the writer read, and the row's own UPDATE … WHERE version = … refuses
    a write that lost a race (the years alone would not touch the row)."""
    c = Checker()
    name = c.text("name", name, _("指標の名前"), INDICATOR_NAME_LENGTH, required=True, single_line=True)
    unit = c.text("unit", unit, _("単位"), UNIT_LENGTH, single_line=True)
    years = [fy for fy, _t, _a in values]
    if len(set(years)) != len(years):
        c.errors["values"] = _("同じ年度が2回書かれています。")
    if len(values) > INDICATOR_YEARS_LIMIT:
        c.errors["values"] = _("年度は%(limit)s年分までにしてください。", limit=INDICATOR_YEARS_LIMIT)
    c.raise_if_any()
    if indicator is None:
        indicator = Indicator(name=name, unit=unit, higher_is_better=higher_is_better)
        if isinstance(owner, Campaign):
            indicator.campaign_id = owner.id
        else:
            indicator.organization_id = owner.id
        db.session.add(indicator)
    else:
        _check_version(indicator, expected_version)
        flag_modified(indicator, "name")  # the row's UPDATE carries the version check, whatever changed
    indicator.name, indicator.unit, indicator.higher_is_better = name, unit, higher_is_better
    indicator.values.clear()
    _flush()
    for fy, target, actual in sorted(values):
        indicator.values.append(IndicatorValue(fiscal_year=fy, target=target, actual=actual))
    _flush()
    record_object("indicator_saved", indicator, user=user, now=now)
    return indicator


def delete_indicator(indicator: Indicator, expected_version: int | None, *, user, now: datetime) -> None:
    """Remove an indicator with its years (DELETE … WHERE version = the version read)."""
    _check_version(indicator, expected_version)
    record_object("indicator_deleted", indicator, user=user, now=now)
    db.session.delete(indicator)
    _flush()
