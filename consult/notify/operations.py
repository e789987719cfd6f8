"""Queueing notices (rows written in the caller's transaction), reminders, the inbox and preferences.

Every function here flushes or executes inside the current transaction and never commits: a notice exists
exactly when the change that caused it is committed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import insert, select, update

from consult.answers.models import Answer
from consult.audit.operations import record_object
from consult.auth.models import User
from consult.core.clock import format_jst
from consult.core.errors import DomainError
from consult.extensions import db
from consult.followup.models import Visit
from consult.followup.queries import overdue_answers, visits_due
from consult.letters.models import Campaign
from consult.notify.models import (
    KINDS,
    STEP_LIMIT,
    AddressOptOut,
    FollowupNoticeSent,
    Notice,
    NoticePreference,
    ReminderSchedule,
    ReminderSent,
    RoundFollower,
    format_step,
    steps_of,
)
from consult.orgs.models import Organization
from consult.rounds.models import Round

MAIL_PREFIX = "【意見集約】"
# A step that falls this soon after the round-open notice is not sent: that notice has just said the same.
QUIET_AFTER_OPENING = timedelta(days=1)


@dataclass(frozen=True)
class Recipient:
    """One addressee of a notice: a user (inbox, and e-mail when they have an address and want it), or an
    organisation's contact address (e-mail only)."""

    user_id: int | None
    address: str | None
    organization_id: int | None
    name: str = ""


# ---------------------------------------------------------------- who is told


def members_of(organization_ids: Iterable[int]) -> list[Recipient]:
    """The active users of these organisations, then each organisation's contact address."""
    ids = sorted(set(organization_ids))
    if not ids:
        return []
    found: list[Recipient] = []
    for chunk in _chunks(ids):
        users = db.session.execute(
            select(User.id, User.email, User.organization_id, User.name)
            .where(User.organization_id.in_(chunk), User.active.is_(True))
            .order_by(User.organization_id, User.id)
        )
        found += [Recipient(uid, email or None, org_id, name) for uid, email, org_id, name in users]
        contacts = db.session.execute(
            select(Organization.id, Organization.contact_email, Organization.name).where(
                Organization.id.in_(chunk), Organization.contact_email.is_not(None), Organization.contact_email != ""
            )
        )
        found += [Recipient(None, email, org_id, name) for org_id, email, name in contacts]
    return found


def followers_of(round_: Round) -> list[Recipient]:
    """Headquarters staff following the round: its creator, and everyone who chose to follow it."""
    ids = set(db.session.scalars(select(RoundFollower.user_id).where(RoundFollower.round_id == round_.id)))
    if round_.created_by_id:
        ids.add(round_.created_by_id)
    if not ids:
        return []
    users = db.session.execute(
        select(User.id, User.email, User.organization_id, User.name)
        .where(User.id.in_(ids), User.active.is_(True), User.role.in_(("admin", "staff")))
        .order_by(User.id)
    )
    return [Recipient(uid, email or None, org_id, name) for uid, email, org_id, name in users]


def is_following(round_: Round, user) -> bool:
    if round_.created_by_id == user.id:
        return True
    return db.session.get(RoundFollower, (round_.id, user.id)) is not None


def set_following(round_: Round, user, follow: bool) -> None:
    """Follow a round (told of its submissions) or stop; the creator stops by choosing the inbox only."""
    row = db.session.get(RoundFollower, (round_.id, user.id))
    if follow and row is None:
        db.session.add(RoundFollower(round_id=round_.id, user_id=user.id))
    elif not follow and row is not None:
        db.session.delete(row)
    db.session.flush()


def org_names(organization_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(organization_ids))
    names: dict[int, str] = {}
    for chunk in _chunks(ids):
        rows = db.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(chunk)))
        names.update(rows.all())
    return names


def _chunks(ids: list[int], size: int = 900):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# ---------------------------------------------------------------- queueing


def inbox_only_users(kind: str, user_ids: Iterable[int]) -> set[int]:
    """Users who chose the inbox only for this kind."""
    ids = sorted(set(user_ids))
    chosen: set[int] = set()
    for chunk in _chunks(ids):
        chosen |= set(
            db.session.scalars(
                select(NoticePreference.user_id).where(
                    NoticePreference.kind == kind,
                    NoticePreference.email.is_(False),
                    NoticePreference.user_id.in_(chunk),
                )
            )
        )
    return chosen


def queue(
    kind: str,
    recipients: list[Recipient],
    *,
    subject: str | dict,
    body: str | dict,
    link: str,
    now: datetime,
    round_id: int | None = None,
) -> int:
    """Write one notice row per recipient (subject/body may be {organization id: text}); returns how many.

    A user gets an inbox row always, mailed (status pending) when they have an address and want this kind by
    e-mail; a contact address gets a mailed row unless it unsubscribed from this kind."""
    if kind not in KINDS:
        raise ValueError(kind)
    if not recipients:
        return 0
    inbox_only = inbox_only_users(kind, [r.user_id for r in recipients if r.user_id])
    addresses = {r.address for r in recipients if r.user_id is None}
    opted_out = (
        set(
            db.session.scalars(
                select(AddressOptOut.address).where(AddressOptOut.kind == kind, AddressOptOut.address.in_(addresses))
            )
        )
        if addresses
        else set()
    )
    rows = []
    seen = set()
    for r in recipients:
        key = (r.user_id, r.address if r.user_id is None else None)
        if key in seen or (r.user_id is None and r.address in opted_out):
            continue
        seen.add(key)
        mailed = bool(r.address) and r.user_id not in inbox_only
        rows.append(
            {
                "kind": kind,
                "user_id": r.user_id,
                "address": r.address,
                "organization_id": r.organization_id,
                "round_id": round_id,
                "subject": (subject.get(r.organization_id) if isinstance(subject, dict) else subject)[:300],
                "body": body.get(r.organization_id) if isinstance(body, dict) else body,
                "link": link,
                "created_at": now,
                "status": "pending" if mailed else "inbox",
                "due_at": now,
                "attempts": 0,
            }
        )
    if rows:
        db.session.execute(insert(Notice), rows)  # one executemany (a multi-row VALUES compiles slower)
    return len(rows)


def _signature(closing: str = "") -> str:
    return "\n\n" + (closing + "\n\n" if closing else "") + "―――\n意見集約システム（このメールは送信専用です）"


# ---------------------------------------------------------------- the events


def round_opened(round_: Round, now: datetime, kind: str = "round_opened") -> int:
    """Every target's members (and contact address) are asked to answer, each with its own deadline."""
    targets = round_.target_ids()
    names = org_names(targets)
    deadlines = {org_id: round_.deadline_for(org_id) for org_id in targets} if round_.extensions else {}
    deadline_text = format_jst(round_.deadline, lang="ja")
    what = "討議" if kind == "round_opened" else "県本部の討議"
    subject = f"{MAIL_PREFIX}{what}「{round_.title}」の受付を開始しました"
    bodies = {}
    for org_id in targets:
        due = format_jst(deadlines[org_id], lang="ja") if org_id in deadlines else deadline_text
        bodies[org_id] = (
            f"{names.get(org_id, '')} ご担当者様\n\n"
            f"{what}「{round_.title}」の意見の受付を開始しました。\n"
            f"締切: {due}（日本時間）\n\n"
            "下のリンクから討議案を読み、締切までに意見を提出してください。"
            "意見がない場合も「意見なしで提出」を選んでください。" + _signature()
        )
    return queue(
        kind,
        members_of(targets),
        subject=subject,
        body=bodies,
        link=f"/answers/{round_.id}",
        now=now,
        round_id=round_.id,
    )


def extension_granted(round_: Round, organization_id: int, now: datetime) -> int:
    org = db.session.get(Organization, organization_id)
    until = format_jst(round_.deadline_for(organization_id), lang="ja")
    return queue(
        "extension_granted",
        members_of([organization_id]),
        subject=f"{MAIL_PREFIX}討議「{round_.title}」の締切を延長しました（{until}まで）",
        body=(
            f"{org.name} ご担当者様\n\n"
            f"討議「{round_.title}」の{org.name}の締切を、{until}（日本時間）まで延長しました。" + _signature()
        ),
        link=f"/answers/{round_.id}",
        now=now,
        round_id=round_.id,
    )


def answer_event(answer: Answer, kind: str, now: datetime) -> int:
    """Submitted, withdrawn or late: told to the headquarters staff who follow the round."""
    round_ = db.session.get(Round, answer.round_id)
    org = db.session.get(Organization, answer.organization_id)
    words = {
        "answer_submitted": "「意見なし」で提出しました" if answer.no_opinion else "回答を提出しました",
        "answer_withdrawn": "提出を取り下げました",
        "late_answer": "締切後に回答を送信しました",
    }[kind]
    when = format_jst(now, lang="ja")
    return queue(
        kind,
        followers_of(round_),
        subject=f"{MAIL_PREFIX}{org.name}が討議「{round_.title}」の{words}",
        body=f"{org.name}が討議「{round_.title}」の{words}（{when}）。" + _signature(),
        link=f"/answers/{round_.id}/org/{org.id}",
        now=now,
        round_id=round_.id,
    )


def answers_published(round_: Round, now: datetime) -> int:
    return queue(
        "answers_published",
        members_of(round_.target_ids()),
        subject=f"{MAIL_PREFIX}討議「{round_.title}」の回答表（本部の考え方）を公開しました",
        body=f"討議「{round_.title}」に寄せられた意見への本部の回答表を公開しました。下のリンクから読めます。"
        + _signature(),
        link=f"/rounds/{round_.id}/published",
        now=now,
        round_id=round_.id,
    )


def opinion_changed(opinion, answer: Answer, now: datetime) -> int:
    round_ = db.session.get(Round, answer.round_id)
    org = db.session.get(Organization, answer.organization_id)
    return queue(
        "opinion_changed",
        followers_of(round_),
        subject=f"{MAIL_PREFIX}{org.name}が回答済みの意見を変更しました（討議「{round_.title}」）",
        body=f"{org.name}が、本部が回答（本部の考え方）を記入済みの意見を変更しました。回答を見直してください。"
        + _signature(),
        link=f"/answers/{round_.id}/org/{org.id}",
        now=now,
        round_id=round_.id,
    )


# ---------------------------------------------------------------- reminders


def schedule_of(round_: Round) -> ReminderSchedule | None:
    return db.session.get(ReminderSchedule, round_.id)


def set_schedule(round_: Round, steps: list[int], enabled: bool, *, user, now: datetime) -> ReminderSchedule:
    """Edit the round's reminder steps (minutes before the deadline), or switch reminders off."""
    if len(steps) > STEP_LIMIT:
        raise DomainError(_("督促は%(limit)s回までにしてください。", limit=STEP_LIMIT))
    if any(s <= 0 or s > 60 * 24 * 90 for s in steps):
        raise DomainError(_("督促の時期は締切の1分前から90日前までにしてください。"))
    schedule = schedule_of(round_) or ReminderSchedule(round_id=round_.id)
    schedule.steps, schedule.enabled = sorted(set(steps), reverse=True), enabled
    db.session.add(schedule)
    db.session.flush()
    words = "、".join(format_step(s) for s in schedule.steps) if enabled else "督促しない"
    record_object("reminder_schedule_changed", round_, words, user=user, now=now)
    return schedule


def not_submitted(round_: Round) -> list[int]:
    """Target organisations with neither a submitted answer nor 「意見なし」 (both are status submitted)."""
    done = set(
        db.session.scalars(
            select(Answer.organization_id).where(Answer.round_id == round_.id, Answer.status == "submitted")
        )
    )
    return sorted(round_.target_ids() - done)


def reminder_text(round_: Round, organization_id: int, names: dict[int, str]) -> tuple[str, str]:
    due = format_jst(round_.deadline_for(organization_id), lang="ja")
    subject = f"{MAIL_PREFIX}【督促】討議「{round_.title}」の締切が近づいています（{due}）"
    body = (
        f"{names.get(organization_id, '')} ご担当者様\n\n"
        f"討議「{round_.title}」への意見がまだ提出されていません。\n締切: {due}（日本時間）\n\n"
        "締切までに提出してください。意見がない場合も「意見なしで提出」を選んでください。"
        "すでに提出の準備中でしたら、このメールは読み流してください。" + _signature()
    )
    return subject, body


def _send_reminders(round_: Round, org_steps: dict[int, str], now: datetime) -> list[Recipient]:
    """Record each (organisation, step) and queue its reminder; a step already recorded is skipped."""
    already = set(
        db.session.execute(
            select(ReminderSent.organization_id, ReminderSent.step).where(ReminderSent.round_id == round_.id)
        ).all()
    )
    todo = {org_id: step for org_id, step in org_steps.items() if (org_id, step) not in already}
    if not todo:
        return []
    db.session.execute(
        insert(ReminderSent),
        [{"round_id": round_.id, "organization_id": o, "step": s, "at": now} for o, s in todo.items()],
    )
    names = dict(
        db.session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(list(todo)))).all()
    )
    recipients = members_of(todo)
    texts = {org_id: reminder_text(round_, org_id, names) for org_id in todo}
    queue(
        "reminder",
        recipients,
        subject={o: t[0] for o, t in texts.items()},
        body={o: t[1] for o, t in texts.items()},
        link=f"/answers/{round_.id}",
        now=now,
        round_id=round_.id,
    )
    return recipients


def due_reminders(round_: Round, now: datetime) -> dict[int, str]:
    """{organisation: step} of the reminders due now: the latest step passed before the organisation's own
    deadline (so an extension moves it), for targets that have not submitted, while the deadline is ahead; a
    step within a day of the round-open notice is left out (that notice said it)."""
    steps = steps_of(schedule_of(round_))
    if not steps or round_.status != "open" or not round_.has_opened(now):
        return {}
    opened = db.session.scalars(
        select(Notice.created_at)
        .where(Notice.round_id == round_.id, Notice.kind.in_(("round_opened", "subround_opened")))
        .order_by(Notice.created_at)
        .limit(1)
    ).first()
    quiet_until = opened + QUIET_AFTER_OPENING if opened is not None else None
    done = set(
        db.session.execute(
            select(ReminderSent.organization_id, ReminderSent.step).where(ReminderSent.round_id == round_.id)
        ).all()
    )
    due = {}
    for org_id in not_submitted(round_):
        deadline = round_.deadline_for(org_id)
        if now > deadline:
            continue
        passed = [
            s
            for s in steps
            if deadline - timedelta(minutes=s) <= now
            and (quiet_until is None or deadline - timedelta(minutes=s) >= quiet_until)
        ]
        if passed and (org_id, str(min(passed))) not in done:
            due[org_id] = str(min(passed))  # the closest step; earlier ones it stands for are not sent late
    return due


def send_due_reminders(now: datetime) -> int:
    """Queue every reminder due now, in every open round; returns how many organisations were reminded.

    A step passed marks the larger ones done too (an organisation never gets the 7-day one after the 1-day
    one); an organisation reminded within the last day (the button) has its step marked done, not sent."""
    count = 0
    for round_ in db.session.scalars(select(Round).where(Round.status == "open").order_by(Round.id)).all():
        due = due_reminders(round_, now)
        if not due:
            continue
        recent = set(
            db.session.scalars(
                select(ReminderSent.organization_id).where(
                    ReminderSent.round_id == round_.id, ReminderSent.at > now - QUIET_AFTER_OPENING
                )
            )
        )
        steps = steps_of(schedule_of(round_))
        sent = _send_reminders(round_, {o: s for o, s in due.items() if o not in recent}, now)
        for org_id, step in due.items():
            for each in steps:
                if each >= int(step):
                    _mark_step(round_.id, org_id, str(each), now)  # the one just sent is there already
        count += len({r.organization_id for r in sent})
    return count


def _mark_step(round_id: int, organization_id: int, step: str, now: datetime) -> None:
    exists = db.session.scalar(
        select(ReminderSent.id).where(
            ReminderSent.round_id == round_id,
            ReminderSent.organization_id == organization_id,
            ReminderSent.step == step,
        )
    )
    if exists is None:
        db.session.add(ReminderSent(round_id=round_id, organization_id=organization_id, step=step, at=now))
        db.session.flush()


def remind_preview(round_: Round) -> tuple[list[int], list[Recipient], tuple[str, str] | None]:
    """What the button would send: the organisations not submitted, their recipients, one sample text."""
    orgs = not_submitted(round_)
    recipients = members_of(orgs)
    if not orgs:
        return orgs, recipients, None
    names = dict(db.session.execute(select(Organization.id, Organization.name).where(Organization.id == orgs[0])).all())
    return orgs, recipients, reminder_text(round_, orgs[0], names)


def remind_now(round_: Round, *, user, now: datetime) -> list[Recipient]:
    """The button 「未提出の組織に督促する」: remind every target that has not submitted, now."""
    if round_.status != "open":
        raise DomainError(_("受付中の討議ではないため、督促できません。"))
    orgs = not_submitted(round_)
    step = "now-" + now.strftime("%Y%m%d%H%M%S")
    recipients = _send_reminders(round_, dict.fromkeys(orgs, step), now)
    record_object("reminders_sent", round_, f"{len(orgs)}組織", user=user, now=now)
    return recipients


def cancel_stale_reminders(now: datetime) -> int:
    """Reminders still waiting to be mailed to an organisation that has submitted since are not sent."""
    submitted = select(Answer.organization_id).where(Answer.round_id == Notice.round_id, Answer.status == "submitted")
    result = db.session.execute(
        update(Notice)
        .where(Notice.kind == "reminder", Notice.status == "pending", Notice.organization_id.in_(submitted))
        .values(status="cancelled")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


# ---------------------------------------------------------------- follow-up: visits and overdue answers

# A planned visit is announced to the staff who go this long before it starts.
VISIT_REMINDER_WITHIN = timedelta(days=1)


def _plain(text: str) -> str:
    return "".join(text.split())  # 「山田　太郎」 and 「山田太郎」 are the same person


def staff_named(lines: Iterable[str]) -> list[Recipient]:
    """Headquarters' active staff named in a visit's 「こちらの参加者」 (one a line: a name, login or address)."""
    wanted = {_plain(line) for line in lines if _plain(line)}
    if not wanted:
        return []
    users = db.session.execute(
        select(User.id, User.email, User.organization_id, User.name, User.login)
        .join(Organization, Organization.id == User.organization_id)
        .where(User.active.is_(True), User.role.in_(("admin", "staff")), Organization.kind == "hq")
        .order_by(User.id)
    )
    return [
        Recipient(uid, email or None, org_id, name)
        for uid, email, org_id, name, login in users
        if {_plain(name), login, (email or "").lower()} & {w.lower() if "@" in w else w for w in wanted}
    ]


def _not_done(kind: str, keys: dict[str, object]) -> dict[str, object]:
    """The keys of this kind not yet recorded as told."""
    if not keys:
        return {}
    done = set(
        db.session.scalars(
            select(FollowupNoticeSent.key).where(
                FollowupNoticeSent.kind == kind, FollowupNoticeSent.key.in_(list(keys))
            )
        )
    )
    return {key: value for key, value in keys.items() if key not in done}


def _mark_told(kind: str, key: str, now: datetime) -> None:
    db.session.execute(insert(FollowupNoticeSent), [{"kind": kind, "key": key, "at": now}])


def visit_reminders(now: datetime) -> int:
    """Each planned visit starting within VISIT_REMINDER_WITHIN, told once to the staff named as going (a visit
    moved to another time is told again); returns how many visits were announced."""
    due = {f"{v.id}@{v.starts_at:%Y%m%d%H%M}": v for v in visits_due(now, VISIT_REMINDER_WITHIN)}
    count = 0
    for key, visit in _not_done("visit_reminder", due).items():
        recipients = staff_named(visit.our_side.splitlines())
        if not recipients:
            continue  # nobody named yet: told once someone is
        campaign = db.session.get(Campaign, visit.campaign_id)
        who = " ".join(filter(None, (visit.addressee.organisation, visit.addressee.title)))
        when = format_jst(visit.starts_at, lang="ja")
        queue(
            "visit_reminder",
            recipients,
            subject=f"{MAIL_PREFIX}【要請行動】{when} {who}（{campaign.title}）",
            body=(
                f"要請行動「{campaign.title}」で、次の訪問が予定されています。\n\n"
                f"日時: {when}（日本時間）\n要請先: {who}\n場所: {visit.place or '（未定）'}\n"
                f"参加者:\n{visit.our_side}\n\n"
                "持ち物（要請書・資料）と先方の応対者を確かめてください。" + _signature()
            ),
            link=f"/followup/campaigns/{campaign.id}/visits/{visit.id}",
            now=now,
        )
        _mark_told("visit_reminder", key, now)
        count += 1
    return count


def _overdue_recipients(campaign_id: int, addressee_id: int) -> list[Recipient]:
    """The staff who went to the addressee; when none is named, headquarters' admins."""
    lines = [
        line
        for our_side in db.session.scalars(
            select(Visit.our_side).where(Visit.campaign_id == campaign_id, Visit.addressee_id == addressee_id)
        )
        for line in our_side.splitlines()
    ]
    found = staff_named(lines)
    if found:
        return found
    admins = db.session.execute(
        select(User.id, User.email, User.organization_id, User.name)
        .where(User.active.is_(True), User.role == "admin")
        .order_by(User.id)
    )
    return [Recipient(uid, email or None, org_id, name) for uid, email, org_id, name in admins]


def overdue_notices(now: datetime) -> int:
    """Each addressee whose promised answer date has passed with requests unanswered, told once per promised
    date; returns how many addressees were told about."""
    overdue = {f"{o.addressee.id}@{o.expected_on:%Y%m%d}": o for o in overdue_answers(now)}
    count = 0
    for key, o in _not_done("answer_overdue", overdue).items():
        recipients = _overdue_recipients(o.campaign.id, o.addressee.id)
        if not recipients:
            continue
        who = " ".join(filter(None, (o.addressee.organisation, o.addressee.title)))
        promised = f"{o.expected_on.year}年{o.expected_on.month}月{o.expected_on.day}日"
        queue(
            "answer_overdue",
            recipients,
            subject=f"{MAIL_PREFIX}【回答期限超過】{who}（{o.campaign.title}）",
            body=(
                f"要請行動「{o.campaign.title}」で、{who}が{promised}までに約束した回答が、"
                f"まだ{o.unanswered_items}項目届いていません。\n\n"
                "先方に問い合わせるか、届いた回答を登録してください。" + _signature()
            ),
            link=f"/followup/campaigns/{o.campaign.id}#grid",
            now=now,
        )
        _mark_told("answer_overdue", key, now)
        count += 1
    return count


# ---------------------------------------------------------------- inbox and preferences


def mark_read(user, notice_ids: list[int] | None, now: datetime) -> int:
    """Mark the user's own notices read (all unread ones when no ids are given)."""
    stmt = update(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
    if notice_ids is not None:
        stmt = stmt.where(Notice.id.in_(notice_ids))
    result = db.session.execute(stmt.values(read_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0


def preferences_of(user) -> dict[str, bool]:
    """{kind: by e-mail} for every kind (True unless the user chose the inbox only)."""
    chosen = dict(
        db.session.execute(
            select(NoticePreference.kind, NoticePreference.email).where(NoticePreference.user_id == user.id)
        ).all()
    )
    return {kind: chosen.get(kind, True) for kind in KINDS}


def set_preferences(user, choices: dict[str, bool]) -> dict[str, bool]:
    for kind, email in choices.items():
        if kind not in KINDS:
            raise DomainError(_("通知の種類「%(kind)s」はありません。", kind=kind))
        row = db.session.scalars(
            select(NoticePreference).where(NoticePreference.user_id == user.id, NoticePreference.kind == kind)
        ).first()
        if row is None:
            db.session.add(NoticePreference(user_id=user.id, kind=kind, email=email))
        else:
            row.email = email
    db.session.flush()
    return preferences_of(user)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="notice-unsubscribe")


def unsubscribe_token(notice: Notice) -> str:
    """A signed token for "no more of this kind by e-mail" for this notice's own recipient."""
    if notice.user_id is not None:
        return _serializer().dumps({"u": notice.user_id, "k": notice.kind})
    return _serializer().dumps({"a": notice.address, "k": notice.kind})


def read_unsubscribe_token(token: str) -> dict | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or data.get("k") not in KINDS:
        return None
    return data


def unsubscribe(data: dict) -> None:
    """Apply a token read by read_unsubscribe_token: that recipient gets that kind in the inbox only (a user)
    or no longer (a contact address); pending mails of that kind to it are not sent."""
    kind = data["k"]
    if "u" in data:
        user = db.session.get(User, data["u"])
        if user is None:
            return
        set_preferences(user, {kind: False})
        db.session.execute(
            update(Notice)
            .where(Notice.user_id == user.id, Notice.kind == kind, Notice.status == "pending")
            .values(status="inbox")
            .execution_options(synchronize_session=False)
        )
    else:
        address = data["a"]
        exists = db.session.scalars(
            select(AddressOptOut).where(AddressOptOut.address == address, AddressOptOut.kind == kind)
        ).first()
        if exists is None:
            db.session.add(AddressOptOut(address=address, kind=kind))
        db.session.execute(
            update(Notice)
            .where(Notice.user_id.is_(None), Notice.address == address, Notice.kind == kind, Notice.status == "pending")
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
    db.session.flush()
