"""Demo data: the real organisation tree, four logins, two rounds and the request letters. Flush, never commit.

Everything is found by its unique key (organisation code, user login, round title) before it is created,
so loading the demo twice changes nothing.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from consult.answers import operations as answers
from consult.auth.models import User
from consult.auth.operations import create_user
from consult.core.clock import from_jst, to_jst
from consult.demo import data
from consult.extensions import db
from consult.orgs.models import Organization
from consult.rounds import operations as rounds
from consult.rounds.models import Round


@dataclass
class DemoResult:
    """What the demo load did, and the logins to print."""

    created: dict[str, int] = field(default_factory=lambda: {"organizations": 0, "users": 0, "rounds": 0})
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # (login, password, who)


def load_demo(now: datetime) -> DemoResult:
    """Load whatever part of the demo is missing."""
    result = DemoResult()
    orgs = _load_orgs(result)
    users = _load_users(orgs, result, now)
    _demo_addresses()
    staff = users["staff"]
    if _find_round(data.CONCEPTS_TITLE) is None:
        _load_concepts_round(orgs, staff, now)
        result.created["rounds"] += 1
    if _find_round(data.DX_TITLE) is None:
        _load_dx_round(orgs, users, staff, result, now)
        result.created["rounds"] += 1
    _load_campaign(now)
    _demo_addresses()
    load_federation(now)  # issue 10: the two-tier discussion
    for login, _name, _role, code, password in data.DEMO_USERS:
        who = f"{users[login].role_label}（{orgs[code].name}）"
        result.logins.append((login, password, who))
    return result


def _demo_addresses() -> None:
    """Every demo user without an address gets one at example.org (reserved: mail there reaches nobody)."""
    for user in db.session.scalars(select(User).where(User.email.is_(None) | (User.email == ""))):
        user.email = f"{user.login.replace('@', '.')}@example.org"
    db.session.flush()


def _load_campaign(now: datetime) -> None:
    """The request letters drawn from the DX round's opinions (the letters feature keeps its own demo data)."""
    from consult.demo.letters import load_demo_campaign

    load_demo_campaign(now)
    from consult.demo.followup import load_demo_followup

    load_demo_followup(now)


def _load_orgs(result: DemoResult) -> dict[str, Organization]:
    existing = {org.code: org for org in db.session.scalars(select(Organization))}
    position = db.session.scalar(select(func.max(Organization.position))) or 0

    def ensure(code: str, name: str, kind: str, parent: Organization | None) -> Organization:
        nonlocal position
        if code not in existing:
            position += 1
            existing[code] = Organization(code=code, name=name, kind=kind, parent=parent, position=position)
            db.session.add(existing[code])
            result.created["organizations"] += 1
        return existing[code]

    hq_code, hq_name = data.HQ
    hq = ensure(hq_code, hq_name, "hq", None)
    for number, prefecture in enumerate(data.PREFECTURES, start=1):
        ensure(data.prefecture_code(number), data.prefecture_name(prefecture), "prefecture", hq)
    for code, name in data.COUNCILS:
        ensure(code, name, "council", hq)
    for code, name, number in data.LOCAL_UNIONS:
        ensure(code, name, "local", existing[data.prefecture_code(number)])
    db.session.flush()
    return existing


def _load_users(orgs: dict[str, Organization], result: DemoResult, now: datetime) -> dict[str, User]:
    users = {}
    for login, name, role, code, password in data.DEMO_USERS:
        users[login] = _ensure_user(login, name, role, orgs[code], password, result, now)
    return users


def _ensure_user(
    login: str, name: str, role: str, org: Organization, password: str, result: DemoResult, now: datetime
) -> User:
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        user = create_user(login, name, password, role, org, admin=None, now=now)
        result.created["users"] += 1
    return user


def _find_round(title: str) -> Round | None:
    return db.session.scalars(select(Round).where(Round.title == title, Round.parent_id.is_(None))).first()


def _prefecture_ids(orgs: dict[str, Organization]) -> set[int]:
    return {orgs[data.prefecture_code(n)].id for n in range(1, len(data.PREFECTURES) + 1)}


def _load_concepts_round(orgs: dict[str, Organization], staff: User, now: datetime) -> Round:
    """The three concepts round, open, its schedule shifted so the deadline is two weeks from today."""
    today = to_jst(now).date()
    shift = (today + timedelta(days=14)) - data.CONCEPTS_DEADLINE
    opens_at = from_jst(datetime.combine(data.CONCEPTS_OPENS + shift, time(10, 0)))
    deadline = from_jst(datetime.combine(data.CONCEPTS_DEADLINE + shift, time(17, 0)))
    created = min(opens_at, now) - timedelta(days=6)
    round_ = rounds.create_round(data.CONCEPTS_TITLE, data.CONCEPTS_BACKGROUND, opens_at, deadline, staff, created)
    rounds.add_items(round_, [rounds.ItemDraft(*item) for item in data.CONCEPTS_ITEMS], created, user=staff)
    rounds.set_targets(round_, _prefecture_ids(orgs), user=staff, now=created)
    for when, meeting, what in data.CONCEPTS_SCHEDULE:
        rounds.add_milestone(round_, when + shift, meeting, what, user=staff, now=created)
    rounds.open_round(round_, now, user=staff)
    return round_


def _jst(parts: tuple[int, ...]) -> datetime:
    return from_jst(datetime(*parts))


def _load_dx_round(
    orgs: dict[str, Organization], users: dict[str, User], staff: User, result: DemoResult, now: datetime
) -> Round:
    """The DX round of winter 2024–25: 29 prefecture headquarters answered before it closed."""
    opens_at, deadline = _jst(data.DX_OPENS), _jst(data.DX_DEADLINE)
    created = opens_at - timedelta(days=3)
    round_ = rounds.create_round(data.DX_TITLE, data.DX_BACKGROUND, opens_at, deadline, staff, created)
    rounds.add_items(round_, [rounds.ItemDraft(*item) for item in data.DX_ITEMS], created, user=staff)
    rounds.set_targets(round_, _prefecture_ids(orgs), user=staff, now=created)
    for when, meeting, what in data.DX_SCHEDULE:
        rounds.add_milestone(round_, when, meeting, what, user=staff, now=created)
    rounds.open_round(round_, opens_at, user=staff)

    rng = random.Random(2025)
    numbers = sorted(rng.sample(range(1, len(data.PREFECTURES) + 1), data.DX_ANSWERING))
    if 13 not in numbers:  # Tokyo's demo login should find its own submitted answer
        numbers[-1] = 13
        numbers.sort()
    items = {item.number: item for item in round_.items}
    window = int((deadline - opens_at).total_seconds())
    moments = sorted(opens_at + timedelta(seconds=int(window * (1 - rng.random() ** 2.5))) for _ in numbers)
    locked_hash = generate_password_hash(secrets.token_urlsafe(24))
    for number, at in zip(numbers, moments, strict=True):
        org = orgs[data.prefecture_code(number)]
        user = users["tokyo"] if number == 13 else _prefecture_officer(number, org, locked_hash, result)
        answers.save_answer(round_, org.id, user, _dx_answer(rng, items), None, min(at, deadline), submit=True)
    rounds.close_round(round_, deadline + timedelta(hours=1), user=staff)
    return round_


def _prefecture_officer(number: int, org: Organization, locked_hash: str, result: DemoResult) -> User:
    """The prefecture's policy officer who entered its answer; nobody knows the password."""
    login = f"{data.prefecture_code(number)}-seisaku"
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        # One hash of an unknown password for all of them: hashing 28 times would slow the load down.
        user = User(
            login=login,
            name=f"{data.PREFECTURES[number - 1]}本部 政策担当",
            role="member",
            organization=org,
            password_hash=locked_hash,
        )
        db.session.add(user)
        db.session.flush()
        result.created["users"] += 1
    return user


def _dx_answer(rng: random.Random, items: dict) -> answers.AnswerInput:
    """Two to four opinions on different items, sometimes a new proposal, picked by the seeded generator."""
    chosen = rng.sample(data.DX_OPINIONS, rng.randint(2, 5))
    opinions: dict[int, answers.OpinionInput] = {}
    for number, stance, referred, proposed, reason in chosen:
        item_id = items[number].id
        if item_id not in opinions:
            opinions[item_id] = answers.OpinionInput(stance, referred, proposed, reason)
    proposals = []
    if rng.random() < 0.3:
        heading, proposed, reason = rng.choice(data.DX_PROPOSALS)
        proposals.append(answers.ProposalInput(heading, proposed, reason))
    return answers.AnswerInput(
        opinions=opinions, proposals=proposals, general_comment=rng.choice(data.DX_GENERAL_COMMENTS)
    )


def load_federation(now: datetime) -> int:
    """Issue 10: in the open three concepts round, 東京都本部 and 北海道本部 run their own discussion with their
    local unions; some unions have answered; Hokkaido has built its answer from theirs and submitted it to
    headquarters (Tokyo's demo login still has its own answer to write). Skipped for a prefecture that already
    has its sub-round (or when the round is missing)."""
    from consult.answers import roll_up

    round_ = _find_round(data.CONCEPTS_TITLE)
    if round_ is None or round_.status != "open":
        return 0
    orgs = {org.code: org for org in db.session.scalars(select(Organization))}
    locked_hash = generate_password_hash(secrets.token_urlsafe(24))
    opened = 0
    for number, note, unions in data.FEDERATION_SUBROUNDS:
        prefecture = orgs[data.prefecture_code(number)]
        if roll_up.subround_for(round_, prefecture.id) is not None or not round_.is_accepting(prefecture.id, now):
            continue
        officer = _demo_member(prefecture, "seisaku", f"{data.PREFECTURES[number - 1]}本部 政策担当", locked_hash)
        started = now - timedelta(days=2)
        sub = rounds.open_subround(
            round_,
            officer,
            deadline=round_.deadline_for(prefecture.id) - timedelta(days=4),
            background=note,
            organization_ids={orgs[code].id for code in unions},
            now=started,
        )
        opened += 1
        items = {item.number: item for item in sub.items}
        for code, (submitted, opinions) in unions.items():
            union = orgs[code]
            member = _demo_member(union, "shokuba", f"{union.name} 書記長", locked_hash)
            typed = answers.AnswerInput(
                opinions={
                    items[n].id: answers.OpinionInput(stance, "", proposed, reason)
                    for n, stance, proposed, reason in opinions
                }
            )
            answers.save_answer(sub, union.id, member, typed, None, started + timedelta(hours=20), submit=submitted)
        if number == 1:  # Hokkaido weighs its unions' opinions and submits its answer (Tokyo is still at it)
            at = now - timedelta(hours=3)
            by_item: dict[int, list[int]] = {}
            for row in roll_up.union_opinions(sub):
                by_item.setdefault(row.item_id, []).append(row.id)
            parents = {item.id: item for item in round_.items}
            for item_id, source_ids in by_item.items():
                roll_up.build_opinion(round_, prefecture.id, parents[item_id], source_ids, officer, None, at)
            answer = answers.find_answer(round_.id, prefecture.id)
            roll_up.record_decision(answer, data.FEDERATION_DECISION, to_jst(at).date(), user=officer, now=at)
            answers.save_answer(round_, prefecture.id, officer, answers.answer_input_of(answer), None, at, submit=True)
    return opened


def _demo_member(org: Organization, suffix: str, name: str, locked_hash: str) -> User:
    """A member of the organisation whose password nobody knows (the demo logins stay the four printed)."""
    login = f"{org.code}-{suffix}"
    user = db.session.scalar(select(User).where(User.login == login))
    if user is None:
        user = User(login=login, name=name, role="member", organization=org, password_hash=locked_hash)
        db.session.add(user)
        db.session.flush()
    return user
