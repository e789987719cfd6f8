"""Kept groups of opinions (論点): what headquarters confirms of the proposed groups, and the changes it makes.

Operations flush and never commit (the request commits once). A change names the group's version the page or
the API client saw and is refused when someone changed the group since; on PostgreSQL the group's row is also
locked (SELECT ... FOR UPDATE) before it is changed, and two confirmations racing for one opinion meet the
membership's primary key (the loser is refused, nothing half-written). SQLite's write requests are serial.

An opinion answered 統合 must trace to its group: it cannot be set to 統合 outside a group, taken out of its
group, or left behind by removing the group; moving it to another group of the item is allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from consult.answers.models import DISPOSITIONS, Answer, Opinion
from consult.answers.queries import counted
from consult.audit.operations import record_object
from consult.core.errors import ConflictError, DomainError
from consult.core.text import clean
from consult.extensions import db
from consult.review.models import GROUP_NAME_LENGTH, OpinionGroup, OpinionGroupMember
from consult.rounds.models import RoundItem

MERGED = "merged"
STALE = _l("この論点は、あなたが画面を開いた後に別の方が変更しました。読み込み直してから、もう一度操作してください。")
TAKEN = _l("選んだ意見の一部は、すでに別の論点にまとめられています。読み込み直してください。")


# ---------------------------------------------------------------- reading


def kept_ids(item_id: int):
    """A SELECT of the ids of the item's opinions already in a kept group (the proposals leave them out)."""
    return (
        select(OpinionGroupMember.opinion_id)
        .join(OpinionGroup, OpinionGroup.id == OpinionGroupMember.group_id)
        .where(OpinionGroup.item_id == item_id)
    )


def item_groups(item_id: int) -> list[OpinionGroup]:
    """The kept groups of an item, oldest first, with their members."""
    stmt = (
        select(OpinionGroup)
        .where(OpinionGroup.item_id == item_id)
        .options(selectinload(OpinionGroup.members))
        .order_by(OpinionGroup.id)
    )
    return list(db.session.scalars(stmt))


def group_of_round(round_id: int, group_id: int, lock: bool = False) -> OpinionGroup | None:
    """A kept group of this round, its row locked for update when asked (PostgreSQL)."""
    stmt = select(OpinionGroup).where(OpinionGroup.id == group_id, OpinionGroup.round_id == round_id)
    if lock:
        stmt = stmt.with_for_update()
    return db.session.scalars(stmt).first()


def groups_of(opinion_ids: Iterable[int]) -> dict[int, OpinionGroup]:
    """opinion id -> the kept group it is in, for the opinions that are in one."""
    ids = list(set(opinion_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(OpinionGroupMember.opinion_id, OpinionGroup)
        .join(OpinionGroup, OpinionGroup.id == OpinionGroupMember.group_id)
        .where(OpinionGroupMember.opinion_id.in_(ids))
    ).all()
    return dict(rows)


def disposition_label(disposition: str | None, group: OpinionGroup | None) -> str:
    """The 対応 as the answer table prints it: 「統合（論点名）」 for an opinion merged into a group."""
    return merged_label(disposition, group.label if group is not None else None)


def merged_label(disposition: str | None, group_label: str | None) -> str:
    """The 対応's label, with the group's name after 統合 when the opinion is in one."""
    if disposition is None:
        return ""
    label = str(DISPOSITIONS.get(disposition, disposition))
    if disposition == MERGED and group_label:
        return f"{label}（{group_label}）"  # a document's wording; exports run outside any request
    return label


def disposition_labels(opinions: Iterable[Opinion]) -> dict[int, str]:
    """opinion id -> its 対応 as the answer table prints it, for a page of opinions (one query)."""
    opinions = list(opinions)
    kept = groups_of([op.id for op in opinions if op.disposition == MERGED])
    return {op.id: disposition_label(op.disposition, kept.get(op.id)) for op in opinions}


def check_merged(opinion: Opinion, disposition: str | None) -> None:
    """統合 points to a group: an opinion outside every group cannot be answered 統合."""
    if disposition == MERGED and not groups_of([opinion.id]):
        raise DomainError(_("「統合」にするには、先にこの意見を論点（似た意見のグループ）にまとめてください。"))


# ---------------------------------------------------------------- changing


def _name(name: str) -> str:
    name = clean(name or "").strip()
    if len(name) > GROUP_NAME_LENGTH:
        raise DomainError(_("論点名は%(limit)s文字以内で入力してください。", limit=GROUP_NAME_LENGTH))
    return name


def _check_version(group: OpinionGroup, expected: int | None) -> None:
    if expected is not None and expected != group.version:
        raise ConflictError(STALE, current=group)


def _item_opinions(round_id: int, item_id: int, opinion_ids: Iterable[int]) -> list[Opinion]:
    """The submitted opinions of this item among the ids, refusing any other id."""
    wanted = set(opinion_ids)
    if not wanted:
        raise DomainError(_("論点にまとめる意見を一つ以上選んでください。"))
    found = list(
        db.session.scalars(
            select(Opinion)
            .join(Answer, counted(round_id))
            .where(Opinion.id.in_(wanted), Opinion.item_id == item_id)
            .order_by(Opinion.id)
        )
    )
    if len(found) != len(wanted):
        raise DomainError(_("選んだ意見の一部はこの項目の提出済みの意見ではありません。読み込み直してください。"))
    return found


def _flush_members() -> None:
    """Flush; an opinion another request put in a group meanwhile meets the membership's key (a conflict)."""
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise ConflictError(TAKEN, current=None) from exc


def _touch(group: OpinionGroup, now: datetime) -> None:
    group.updated_at = now  # an UPDATE of the row: the version column checks and raises it


def confirm_group(item: RoundItem, opinion_ids: Iterable[int], name: str, *, user, now: datetime) -> OpinionGroup:
    """Keep a proposed group (or any choice of the item's opinions) as a 論点 with a name."""
    name = _name(name)
    opinions = _item_opinions(item.round_id, item.id, opinion_ids)
    if groups_of([op.id for op in opinions]):
        raise ConflictError(TAKEN, current=None)
    group = OpinionGroup(round_id=item.round_id, item_id=item.id, name=name, created_at=now, updated_at=now)
    group.members = [OpinionGroupMember(opinion_id=op.id) for op in opinions]
    db.session.add(group)
    _flush_members()
    record_object("group_confirmed", group, f"意見{len(opinions)}件", user=user, now=now)
    return group


def rename_group(group: OpinionGroup, name: str, expected_version: int | None, *, user, now: datetime) -> None:
    """Name the 論点 (or rename it)."""
    _check_version(group, expected_version)
    group.name = _name(name)
    _touch(group, now)
    db.session.flush()
    record_object("group_changed", group, "名前の変更", user=user, now=now)


def _member(group: OpinionGroup, opinion_id: int) -> OpinionGroupMember:
    member = next((m for m in group.members if m.opinion_id == opinion_id), None)
    if member is None:
        raise DomainError(_("その意見はこの論点にありません。読み込み直してください。"))
    return member


def move_opinion(
    group: OpinionGroup,
    opinion_id: int,
    target: OpinionGroup | None,
    expected_version: int | None,
    *,
    user,
    now: datetime,
) -> None:
    """Move an opinion to another group of the item, or out of every group (not a 統合 one); an emptied group
    goes."""
    _check_version(group, expected_version)
    member = _member(group, opinion_id)
    opinion = db.session.get(Opinion, opinion_id)
    if target is not None and (target.item_id != group.item_id or target.id == group.id):
        raise DomainError(_("移す先は同じ項目の別の論点から選んでください。"))
    if target is None and opinion.disposition == MERGED:
        raise DomainError(_("「統合」の意見は論点から外せません。別の論点へ移すか、先に対応を変えてください。"))
    group.members.remove(member)
    db.session.flush()
    if target is not None:
        target.members.append(OpinionGroupMember(opinion_id=opinion_id))
        _touch(target, now)
    detail = f"意見#{opinion_id}を" + (f"論点「{target.label}」へ移動" if target else "論点から外す")
    record_object("group_changed", group, detail, user=user, now=now)
    if group.members:
        _touch(group, now)
    else:
        db.session.delete(group)
    _flush_members()


def split_group(
    group: OpinionGroup, opinion_ids: Iterable[int], name: str, expected_version: int | None, *, user, now: datetime
) -> OpinionGroup:
    """Split the chosen members off into a new group of the same item."""
    _check_version(group, expected_version)
    name = _name(name)
    chosen = sorted(set(opinion_ids))
    members = [_member(group, i) for i in chosen]
    if not members or len(members) == len(group.members):
        raise DomainError(_("分ける意見を、全部ではなく一部だけ選んでください。"))
    for member in members:
        group.members.remove(member)
    _touch(group, now)
    db.session.flush()
    new = OpinionGroup(round_id=group.round_id, item_id=group.item_id, name=name, created_at=now, updated_at=now)
    new.members = [OpinionGroupMember(opinion_id=i) for i in chosen]
    db.session.add(new)
    _flush_members()
    record_object("group_changed", group, f"意見{len(chosen)}件を論点「{new.label}」に分割", user=user, now=now)
    return new


def delete_group(group: OpinionGroup, expected_version: int | None, *, user, now: datetime) -> None:
    """Undo a confirmation: the opinions go back to the proposals (not while one of them is answered 統合)."""
    _check_version(group, expected_version)
    merged = db.session.scalar(
        select(Opinion.id).where(Opinion.id.in_(group.opinion_ids), Opinion.disposition == MERGED).limit(1)
    )
    if merged is not None:
        raise DomainError(
            _("「統合」の意見がある論点は解除できません。先にその意見を別の論点へ移すか、対応を変えてください。")
        )
    record_object("group_deleted", group, f"意見{len(group.members)}件", user=user, now=now)
    db.session.delete(group)
    db.session.flush()


# ---------------------------------------------------------------- 「この意見から要請項目を作る」


def request_wording(opinions: Iterable[Opinion]) -> str:
    """The wording a request item starts from: the proposed change (修正案) of the first opinion that has one."""
    return next((op.proposed_text.strip() for op in opinions if (op.proposed_text or "").strip()), "")


def request_letters(round_id: int) -> list:
    """The letters of the campaigns built on this round, where a request item may be added."""
    from consult.letters.models import Campaign, Letter

    stmt = (
        select(Letter)
        .join(Campaign, Campaign.id == Letter.campaign_id)
        .where(Campaign.round_id == round_id)
        .order_by(Campaign.id, Letter.position, Letter.id)
    )
    return list(db.session.scalars(stmt))


def make_request_item(round_id: int, letter_id: int | None, text: str, opinions: list[Opinion], *, user, now):
    """Add a request item to a letter of this round's campaigns and link the opinions it takes up to it
    (letters.add_request_item and letters.link_opinions, the writers of both)."""
    from consult.letters import operations as letters
    from consult.letters.models import Letter

    # Locked: the letter's items are numbered in order (PostgreSQL; SQLite's write requests are serial).
    letter = db.session.get(Letter, letter_id, with_for_update=True) if letter_id else None
    if letter is None or letter.campaign.round_id != round_id:
        raise DomainError(_("要請書は一覧から選んでください。"))
    item = letters.add_request_item(letter, text, user=user, now=now)
    letters.link_opinions(item, [op.id for op in opinions], user=user, now=now)
    return item


def group_opinions(group: OpinionGroup) -> list[Opinion]:
    """The group's opinions in id order."""
    return list(db.session.scalars(select(Opinion).where(Opinion.id.in_(group.opinion_ids)).order_by(Opinion.id)))
