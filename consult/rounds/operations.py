"""State changes of rounds; each flushes and leaves the commit to the request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from consult.audit.operations import record_object
from consult.core.clock import format_jst
from consult.core.errors import ConflictError, DomainError, TransitionError, TranslatedError
from consult.core.text import uploaded_file_name
from consult.core.zipguard import check_zip
from consult.extensions import db
from consult.orgs.models import Organization
from consult.rounds import signals
from consult.rounds.models import (
    TITLE_LENGTH,
    Attachment,
    DeadlineExtension,
    ItemRevision,
    Milestone,
    Round,
    RoundItem,
    RoundTarget,
)
from consult.rounds.queries import answered_org_ids, item_opinion_counts

ALLOWED_ATTACHMENT_TYPES = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}


CONFLICT_MESSAGE = _l(
    "他の人がこの討議を先に更新しました。あなたの入力内容は消えていません。"
    "下に表示した保存済みの内容と見比べてから、もう一度保存してください。"
)


@dataclass
class ItemDraft:
    """An item as typed, pasted or imported, before it is saved."""

    number: str
    heading: str
    body: str = ""


class PastDeadlineError(TranslatedError):
    """An open round's deadline moved into the past without headquarters confirming it."""

    message = _l(
        "締切を過去の日時（%(deadline)s）にすると、受付中のこの討議はすぐに締切経過になり、"
        "延長のない組織は回答できなくなります。よろしければ確認の欄にチェックを入れて、もう一度保存してください。"
    )


def check_version(round_: Round, expected_version: int | None) -> None:
    """Refuse an edit made on a page loaded before someone else's save."""
    if expected_version is not None and expected_version != round_.version:
        raise ConflictError(CONFLICT_MESSAGE, current=round_)


def check_schedule(opens_at: datetime, deadline: datetime) -> None:
    """The deadline must come after the opening."""
    if deadline <= opens_at:
        raise DomainError(_("締切は受付開始より後の日時にしてください。"))


def create_round(title: str, background: str, opens_at: datetime, deadline: datetime, user, now: datetime) -> Round:
    """A new round in the draft state."""
    check_schedule(opens_at, deadline)
    round_ = Round(
        title=title,
        background=background,
        opens_at=opens_at,
        deadline=deadline,
        status="draft",
        created_at=now,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(round_)
    db.session.flush()
    record_object("round_created", round_, user=user, now=now)
    return round_


def update_round(
    round_: Round,
    expected_version: int | None,
    *,
    title: str,
    background: str,
    opens_at: datetime,
    deadline: datetime,
    user,
    now: datetime,
    past_deadline_confirmed: bool = False,
) -> Round:
    """Change the round's own fields, refusing a stale edit, and an open round's deadline moved into the past
    unless headquarters has confirmed that answering should end now."""
    check_version(round_, expected_version)
    check_schedule(opens_at, deadline)
    if round_.is_subround and deadline != round_.deadline:
        check_subround_deadline(round_.parent, round_.organization_id, deadline, now)
    if round_.deadline_moves_into_past(deadline, now) and not past_deadline_confirmed:
        raise PastDeadlineError(deadline=format_jst(deadline))
    round_.title, round_.background = title, background
    round_.opens_at, round_.deadline = opens_at, deadline
    try:
        db.session.flush()
    except StaleDataError as exc:  # someone saved between our read and our write
        raise ConflictError(CONFLICT_MESSAGE, current=None) from exc
    record_object("round_edited", round_, user=user, now=now)
    return round_


def targetable(organization_ids: set[int]) -> set[int]:
    """The ids among these that can be a round's targets: organisations, but never headquarters (it runs them)."""
    if not organization_ids:
        return set()
    return set(
        db.session.scalars(
            select(Organization.id).where(Organization.id.in_(organization_ids), Organization.kind != "hq")
        )
    )


def set_targets(
    round_: Round, organization_ids: set[int], *, all_prefectures: bool = False, user, now: datetime
) -> set[int]:
    """Put the round to exactly these organisations (every prefecture headquarters too when asked; never
    headquarters itself, nor an id that is no organisation); those that already answered stay, and are returned."""
    chosen = targetable(organization_ids)
    if round_.is_subround:  # a prefecture puts its discussion to organisations beneath it only
        chosen &= descendant_ids(round_.organization_id)
        all_prefectures = False
    if all_prefectures:
        chosen |= set(db.session.scalars(select(Organization.id).where(Organization.kind == "prefecture")))
    answered = answered_org_ids(round_)
    keep = chosen | answered
    for target in list(round_.targets):
        if target.organization_id not in keep:
            round_.targets.remove(target)
    existing = round_.target_ids()
    for org_id in sorted(keep - existing):
        round_.targets.append(RoundTarget(round_id=round_.id, organization_id=org_id))
    record_object("targets_changed", round_, f"{len(keep)}組織", user=user, now=now)
    db.session.flush()
    return answered - chosen


def _check_items_editable(round_: Round) -> None:
    if round_.fixed_items():
        raise TransitionError(_("県内討議の項目は本部の討議案と同じです。ここでは変更できません。"))


def _next_position(round_: Round) -> int:
    current = db.session.scalar(select(func.max(RoundItem.position)).where(RoundItem.round_id == round_.id))
    return (current or 0) + 1


def _subrounds_of(round_: Round) -> list[Round]:
    return list(db.session.scalars(select(Round).where(Round.parent_id == round_.id).order_by(Round.id)))


def _copies_of(item: RoundItem) -> list[RoundItem]:
    """The sub-rounds' copies of a headquarters item (RoundItem.parent_item_id) that are still in their drafts."""
    stmt = select(RoundItem).where(RoundItem.parent_item_id == item.id, RoundItem.removed_at.is_(None))
    return list(db.session.scalars(stmt))


def _copy_item(sub: Round, item: RoundItem, position: int, now: datetime) -> RoundItem:
    """A sub-round's copy of a headquarters item, pointing at its original, with its first revision."""
    copy = RoundItem(
        round=sub,
        position=position,
        number=item.number,
        heading=item.heading,
        body=item.body,
        revision=1,
        parent_item_id=item.id,
    )
    copy.revisions.append(
        ItemRevision(revision=1, number=item.number, heading=item.heading, body=item.body, created_at=now)
    )
    db.session.add(copy)
    return copy


def _revise(item: RoundItem, draft: ItemDraft, now: datetime) -> None:
    """New wording as a new revision; opinions keep pointing at the one they answered."""
    item.number, item.heading, item.body = draft.number, draft.heading, draft.body
    item.revision += 1
    item.revisions.append(
        ItemRevision(
            revision=item.revision, number=draft.number, heading=draft.heading, body=draft.body, created_at=now
        )
    )


def _follow_order(round_: Round) -> None:
    """The sub-rounds' items in headquarters' order (a copy takes its original's position)."""
    positions = {item.id: item.position for item in round_.items}
    for copy in db.session.scalars(select(RoundItem).where(RoundItem.parent_item_id.in_(list(positions)))):
        copy.position = positions[copy.parent_item_id]


def add_items(round_: Round, drafts: list[ItemDraft], now: datetime, *, user) -> list[RoundItem]:
    """Append items at the end, each with its first revision; the sub-rounds already open get them too."""
    _check_items_editable(round_)
    position = _next_position(round_)
    added = []
    for offset, draft in enumerate(drafts):
        item = RoundItem(
            round=round_,
            position=position + offset,
            number=draft.number,
            heading=draft.heading,
            body=draft.body,
            revision=1,
        )
        item.revisions.append(
            ItemRevision(revision=1, number=draft.number, heading=draft.heading, body=draft.body, created_at=now)
        )
        db.session.add(item)
        added.append(item)
    db.session.flush()
    for sub in _subrounds_of(round_):
        for item in added:
            _copy_item(sub, item, item.position, now)
    db.session.flush()
    record_object("items_added", round_, f"{len(added)}件", user=user, now=now)
    return added


def update_item(item: RoundItem, draft: ItemDraft, now: datetime, *, user) -> bool:
    """New wording becomes a new revision, in the sub-rounds' copies too: a union answers headquarters' current
    text, and its opinions keep pointing at the revision they answered."""
    _check_items_editable(item.round)
    if (item.number, item.heading, item.body) == (draft.number, draft.heading, draft.body):
        return False
    for each in [item, *_copies_of(item)]:
        _revise(each, draft, now)
    db.session.flush()
    record_object("item_edited", item, f"第{item.revision}版", user=user, now=now)
    return True


def remove_item(item: RoundItem, now: datetime, *, user) -> str:
    """Delete an unanswered item; an answered one is withdrawn from the draft but kept with its opinions."""
    _check_items_editable(item.round)
    record_object("item_removed", item, user=user, now=now)
    for copy in _copies_of(item):  # a sub-round's copy goes the same way, answered copies being kept
        _remove(copy, now)
    return _remove(item, now)


def _remove(item: RoundItem, now: datetime) -> str:
    if item_opinion_counts(item.round).get(item.id):
        item.removed_at = now
        db.session.flush()
        return "withdrawn"
    db.session.delete(item)
    db.session.flush()
    return "deleted"


def move_item(round_: Round, item: RoundItem, step: int, *, user, now: datetime) -> None:
    """Swap an item with its neighbour above (-1) or below (+1)."""
    _check_items_editable(round_)
    items = list(round_.items)
    index = next(i for i, candidate in enumerate(items) if candidate.id == item.id)
    other = index + step
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
        for position, each in enumerate(items, start=1):
            each.position = position
        _follow_order(round_)
    record_object("item_moved", item, "上へ" if step < 0 else "下へ", user=user, now=now)
    db.session.flush()


def add_attachment(round_: Round, filename: str, data: bytes, user, now: datetime, max_bytes: int) -> Attachment:
    """Keep the draft file after checking its size and that its content is a PDF or DOCX."""
    content_type = checked_document(data, max_bytes)
    filename = uploaded_file_name(filename, ALLOWED_ATTACHMENT_TYPES[content_type], "draft")
    attachment = Attachment(
        round=round_,
        filename=filename,
        content_type=content_type,
        size=len(data),
        data=data,
        uploaded_at=now,
        uploaded_by_id=getattr(user, "id", None),
    )
    db.session.add(attachment)
    db.session.flush()
    record_object("attachment_added", attachment, user=user, now=now)
    return attachment


def checked_document(data: bytes, max_bytes: int) -> str:
    """The content type of an uploaded PDF or DOCX, refused when empty, too large, a zip bomb or anything else."""
    if not data:
        raise DomainError(_("ファイルが空です。"))
    if len(data) > max_bytes:
        raise DomainError(
            _(
                "ファイルが大きすぎます（%(human_size_len_data)s）。%(human_size_max_bytes)s以下のファイルにしてください。",
                human_size_len_data=human_size(len(data)),
                human_size_max_bytes=human_size(max_bytes),
            )
        )
    if data.startswith(b"PK"):
        check_zip(data)  # a DOCX: no zip bomb before zipfile looks inside (raises ZipRefused, a DomainError)
    content_type = sniff_document(data)
    if content_type is None:
        raise DomainError(_("ファイルの中身が PDF・Word（DOCX）ではありません。PDF か DOCX を添付してください。"))
    return content_type


def human_size(size: int) -> str:
    """A byte count as people read it: 20MB, 512KB."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g}MB"
    if size >= 1024:
        return f"{size / 1024:.3g}KB"
    return _("%(size)sバイト", size=size)


def remove_attachment(attachment: Attachment, *, user, now: datetime) -> None:
    """Take a file off the round."""
    record_object("attachment_removed", attachment, user=user, now=now)
    db.session.delete(attachment)
    db.session.flush()


def sniff_document(data: bytes) -> str | None:
    """The type by content, not by name: PDF magic, or a ZIP holding word/document.xml."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        import io
        import zipfile

        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        except zipfile.BadZipFile:
            return None
    return None


def add_milestone(round_: Round, when: date, meeting: str, what: str, *, user, now: datetime) -> Milestone:
    """Add a dated step to the schedule."""
    milestone = Milestone(round=round_, date=when, meeting=meeting, what=what)
    db.session.add(milestone)
    db.session.flush()
    record_object("milestone_added", milestone, user=user, now=now)
    return milestone


def remove_milestone(milestone: Milestone, *, user, now: datetime) -> None:
    """Take a step off the schedule."""
    record_object("milestone_removed", milestone, user=user, now=now)
    db.session.delete(milestone)
    db.session.flush()


def open_round(round_: Round, now: datetime, *, user) -> None:
    """draft → open; needs items and targets."""
    if not round_.can_transition("open"):
        raise TransitionError(
            _("「%(round__status_label)s」の討議は受付開始できません。", round__status_label=round_.status_label)
        )
    if not round_.items:
        raise TransitionError(_("項目が一つもありません。項目を追加してから受付を開始してください。"))
    if not round_.targets:
        raise TransitionError(_("対象組織が選ばれていません。"))
    if round_.deadline <= now:
        raise TransitionError(_("締切が過ぎています。締切を先の日時に直してから受付を開始してください。"))
    round_.status = "open"
    record_object("round_opened", round_, user=user, now=now)
    db.session.flush()
    signals.round_opened.send(round_, user=user, now=now)


def close_round(round_: Round, now: datetime, *, user) -> None:
    """open → closed; organisations with a running extension may still answer."""
    if not round_.can_transition("closed"):
        raise TransitionError(
            _("「%(round__status_label)s」の討議は締め切れません。", round__status_label=round_.status_label)
        )
    round_.status = "closed"
    record_object("round_closed", round_, user=user, now=now)
    db.session.flush()


def grant_extension(
    round_: Round, organization_id: int, until: datetime, reason: str, user, now: datetime
) -> DeadlineExtension:
    """Give one target organisation more time; the reason and who granted it are kept."""
    if not round_.is_target(organization_id):
        raise DomainError(_("対象組織ではありません。"))
    if until <= now:
        raise DomainError(_("延長後の締切は現在より後の日時にしてください。"))
    if until <= round_.deadline:
        raise DomainError(_("延長後の締切は、討議の締切より後の日時にしてください。"))
    if not reason.strip():
        raise DomainError(_("延長の理由を入力してください。"))
    if round_.is_subround:
        check_subround_deadline(round_.parent, round_.organization_id, until, now)
    extension = DeadlineExtension(
        round_id=round_.id,
        organization_id=organization_id,
        until=until,
        reason=reason,
        granted_at=now,
        granted_by_id=getattr(user, "id", None),
    )
    round_.extensions.append(extension)
    db.session.flush()
    record_object("extension_granted", extension, user=user, now=now)
    signals.extension_granted.send(round_, organization_id=organization_id, user=user, now=now)
    return extension


# ---------------------------------------------------------------- sub-consultations (issue 10)


def descendant_ids(organization_id: int) -> set[int]:
    """Every organisation beneath this one in the tree, at any depth (one query per level)."""
    found: set[int] = set()
    level = {organization_id}
    while level:
        level = set(db.session.scalars(select(Organization.id).where(Organization.parent_id.in_(level)))) - found
        found |= level
    return found


def default_subround_targets(organization_id: int) -> set[int]:
    """By default a sub-round is put to every local union beneath the organisation."""
    below = descendant_ids(organization_id)
    if not below:
        return set()
    return set(
        db.session.scalars(select(Organization.id).where(Organization.id.in_(below), Organization.kind == "local"))
    )


def check_subround_deadline(parent: Round, organization_id: int, deadline: datetime, now: datetime) -> None:
    """A sub-round's deadline (and any extension in it) falls after now and before the organisation's own
    deadline to the round above, with its extension."""
    limit = parent.deadline_for(organization_id)
    if deadline <= now:
        raise DomainError(_("締切は現在より後の日時にしてください。"))
    if deadline >= limit:
        raise DomainError(
            _(
                "県内討議の締切は、本部への回答の締切（%(limit)s）より前の日時にしてください。",
                limit=format_jst(limit),
            )
        )


def open_subround(
    parent: Round,
    user,
    *,
    deadline: datetime,
    background: str,
    organization_ids: set[int] | None,
    now: datetime,
) -> Round:
    """A prefecture's own discussion on a round put to it: the same items (copied, each pointing at its
    original), its own background note and deadline (before its own to headquarters), put to organisations
    beneath it (by default all its local unions), open at once. Sends rounds.signals.subround_opened."""
    from consult.rounds.signals import subround_opened

    org_id = user.organization_id
    if not parent.may_open_subround(user, now):
        raise DomainError(_("この討議について県内討議を開始することはできません。"))
    existing = db.session.scalar(select(Round.id).where(Round.parent_id == parent.id, Round.organization_id == org_id))
    if existing is not None:
        raise TransitionError(_("この討議の県内討議はすでに開始されています。"))
    check_subround_deadline(parent, org_id, deadline, now)
    below = descendant_ids(org_id)
    if organization_ids:
        if not organization_ids <= below:
            raise DomainError(_("対象組織は自組織の下部組織から選んでください。"))
        chosen = organization_ids
    else:
        chosen = default_subround_targets(org_id)
    if not chosen:
        raise DomainError(_("対象にできる下部組織（単組）がありません。"))
    if not parent.items:
        raise TransitionError(_("項目が一つもありません。"))
    sub = Round(
        title=_subround_title(parent.title, user.organization.name),
        background=background,
        status="open",
        opens_at=now,
        deadline=deadline,
        created_at=now,
        created_by_id=user.id,
        parent_id=parent.id,
        organization_id=org_id,
    )
    db.session.add(sub)
    db.session.flush()
    for position, item in enumerate(parent.items, start=1):
        _copy_item(sub, item, position, now)
    for target_id in sorted(chosen):
        sub.targets.append(RoundTarget(round_id=sub.id, organization_id=target_id))
    db.session.flush()
    record_object("subround_opened", sub, f"{len(chosen)}組織", user=user, now=now)
    subround_opened.send(sub, user=user, now=now)
    return sub


def _subround_title(title: str, organization_name: str) -> str:
    """「…素案に対する組織討議（自治労東京都本部の県内討議）」, within the title's length."""
    suffix = f"（{organization_name}の県内討議）"
    return title[: TITLE_LENGTH - len(suffix)] + suffix


def subround_of(parent: Round, organization_id: int) -> Round | None:
    """The sub-round this organisation runs on the round, if it has opened one."""
    return db.session.scalar(
        select(Round).where(Round.parent_id == parent.id, Round.organization_id == organization_id)
    )


def set_show_sub_opinions(round_: Round, shown: bool, *, user, now: datetime) -> None:
    """Headquarters' per-round choice: read the union opinions beneath the prefectures' answers, or not."""
    round_.show_sub_opinions = shown
    db.session.flush()
    record_object("sub_opinions_shown", round_, "表示する" if shown else "表示しない", user=user, now=now)
