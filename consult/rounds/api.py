"""Rounds in the API: create and edit, items with their revisions, targets, schedule, files, open and close.

Reading a round is for everyone who may see it (Round.can_view: headquarters, and the target branches once it
is open); every change is headquarters' (Round.can_manage), as on the round pages.
"""

from __future__ import annotations

import io

from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest.fields import Upload
from marshmallow import ValidationError, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import defer

from consult.core import api
from consult.core.api import schemas as s
from consult.core.clock import request_now
from consult.core.downloads import private_file
from consult.extensions import db
from consult.rounds import models, queries
from consult.rounds import operations as rounds
from consult.rounds.models import STATUS_LABELS, Attachment, DeadlineExtension, Milestone, Round, RoundItem

blp = api.blueprint(
    "rounds", "組織討議: 作成・編集、項目と版、対象組織、日程、添付ファイル、受付開始と締切、締切の延長"
)


# ---------------------------------------------------------------- schemas


class ItemSchema(s.Schema):
    id = s.Integer(required=True)
    number = s.String(required=True, metadata={"description": "番号（例: 1, 2-1, 第3章）"})
    heading = s.String(required=True)
    text = s.String(required=True, attribute="body", metadata={"description": "討議案の文言"})
    revision = s.Integer(required=True, metadata={"description": "版（文言を直すたびに 1 増える）"})
    position = s.Integer(required=True)


class RevisionSchema(s.Schema):
    revision = s.Integer(required=True)
    number = s.String(required=True)
    heading = s.String(required=True)
    text = s.String(required=True, attribute="body")
    created_at = s.Time(required=True)


class ItemDetailSchema(ItemSchema):
    withdrawn = s.Boolean(required=True, metadata={"description": "意見があるため記録として残した取り下げ済みの項目"})
    revisions = s.List(s.Nested(RevisionSchema), required=True)


class MilestoneSchema(s.Schema):
    id = s.Integer(required=True)
    date = s.Day(required=True)
    meeting = s.String(required=True)
    what = s.String(required=True)


class AttachmentSchema(s.Schema):
    id = s.Integer(required=True)
    filename = s.String(required=True)
    content_type = s.String(required=True)
    size = s.Integer(required=True)
    uploaded_at = s.Time(required=True)


class RoundSchema(s.Schema):
    id = s.Integer(required=True)
    title = s.String(required=True)
    status = s.Choice(list(STATUS_LABELS), required=True, metadata={"description": "draft, open, closed"})
    status_label = s.String(required=True)
    state = s.Choice(
        list(STATUS_LABELS),
        required=True,
        metadata={"description": "今の見え方: 受付開始前の open は draft、締切後の open は closed"},
    )
    state_label = s.String(required=True, metadata={"description": "受付前・受付中・締切経過など"})
    opens_at = s.Time(required=True)
    deadline = s.Time(required=True)
    my_deadline = s.Time(required=True, metadata={"description": "自組織の締切（延長があれば延長後）"})
    accepting = s.Boolean(required=True, metadata={"description": "自組織の回答をいま受け付けているか"})
    answers_published_at = s.Time(allow_none=True, required=True, metadata={"description": "回答表の公開日時"})
    created_at = s.Time(required=True)
    version = s.Integer(required=True, metadata={"description": "版（編集のたびに増える。PATCH の version に渡す）"})
    parent_id = s.Integer(
        allow_none=True, required=True, metadata={"description": "県内討議のとき、もとの（本部の）討議の id"}
    )
    organization_id = s.Integer(
        allow_none=True, required=True, metadata={"description": "県内討議のとき、それを開いた組織の id"}
    )
    show_sub_opinions = s.Boolean(
        required=True, metadata={"description": "本部が県本部の回答の下の単組の意見も見る設定か"}
    )


class RoundDetailSchema(RoundSchema):
    background = s.String(required=True)
    items = s.List(s.Nested(ItemSchema), required=True)
    milestones = s.List(s.Nested(MilestoneSchema), required=True)
    attachments = s.List(s.Nested(AttachmentSchema), required=True)


class _Schedule:
    @validates_schema
    def deadline_after_opening(self, data, **kwargs):
        if data.get("opens_at") and data.get("deadline") and data["deadline"] <= data["opens_at"]:
            raise ValidationError({"deadline": [_("締切は受付開始より後の日時にしてください。")]})


class NewRoundSchema(_Schedule, s.Schema):
    title = s.String(required=True, max_length=models.TITLE_LENGTH, blank=False, strip=True)
    background = s.String(load_default="", max_length=models.BACKGROUND_LIMIT)
    opens_at = s.Time(required=True, metadata={"description": "受付開始（オフセットなしは日本時間）"})
    deadline = s.Time(required=True, metadata={"description": "締切（オフセットなしは日本時間）"})


class RoundChangeSchema(_Schedule, s.Schema):
    title = s.String(max_length=models.TITLE_LENGTH, blank=False, strip=True)
    background = s.String(max_length=models.BACKGROUND_LIMIT)
    opens_at = s.Time()
    deadline = s.Time()
    version = s.Integer(
        metadata={"description": '読み込んだときの版。違えば 409（If-Match: "版" でも可）'},
    )


class NewItemSchema(s.Schema):
    number = s.String(required=True, max_length=models.NUMBER_LENGTH, blank=False, strip=True)
    heading = s.String(required=True, max_length=models.HEADING_LENGTH, blank=False, strip=True)
    text = s.String(load_default="", max_length=models.BODY_LIMIT, metadata={"description": "討議案の文言"})


class ItemChangeSchema(s.Schema):
    number = s.String(max_length=models.NUMBER_LENGTH, blank=False, strip=True)
    heading = s.String(max_length=models.HEADING_LENGTH, blank=False, strip=True)
    text = s.String(max_length=models.BODY_LIMIT)


class RemovedSchema(s.Schema):
    outcome = s.Choice(
        ["deleted", "withdrawn"],
        required=True,
        metadata={"description": "deleted: 削除した / withdrawn: 意見があるため取り下げて記録に残した"},
    )


class TargetsSchema(s.Schema):
    organization_ids = s.List(s.Id(), required=True, max_items=20_000)


class TargetsResultSchema(s.Schema):
    organization_ids = s.List(s.Integer(), required=True, metadata={"description": "対象組織（回答済みの組織を含む）"})
    kept = s.List(s.Integer(), required=True, metadata={"description": "既に回答があるため外せず残した組織"})


class NewMilestoneSchema(s.Schema):
    date = s.Day(required=True)
    meeting = s.String(required=True, max_length=models.MEETING_LENGTH, blank=False, strip=True)
    what = s.String(load_default="", max_length=models.WHAT_LIMIT)


class UploadSchema(s.Schema):
    file = Upload(required=True, metadata={"description": "討議案の PDF または Word（DOCX）"})


class ExtensionSchema(s.Schema):
    id = s.Integer(required=True)
    organization_id = s.Integer(required=True)
    until = s.Time(required=True)
    reason = s.String(required=True)
    granted_at = s.Time(required=True)
    granted_by_id = s.Integer(allow_none=True, required=True)


class NewSubroundSchema(s.Schema):
    deadline = s.Time(
        required=True,
        metadata={"description": "県内の締切（自組織の本部への締切（延長後）より前。オフセットなしは日本時間）"},
    )
    organization_ids = s.List(
        s.Id(),
        load_default=list,
        max_items=10_000,
        metadata={"description": "対象にする下部組織の id。空なら下のすべての単組"},
    )
    background = s.String(load_default="", max_length=models.BACKGROUND_LIMIT, metadata={"description": "単組への説明"})


class SubOpinionsSchema(s.Schema):
    show_sub_opinions = s.Boolean(required=True, metadata={"description": "県本部の回答の下の単組の意見も本部が見るか"})


class NewExtensionSchema(s.Schema):
    organization_id = s.Id(required=True)
    until = s.Time(required=True, metadata={"description": "延長後の締切"})
    reason = s.String(required=True, max_length=models.EXTENSION_REASON_LIMIT, blank=False, strip=True)


# ---------------------------------------------------------------- loading and access (the pages' predicates)


def visible_round(round_id: int) -> Round:
    """The round, or 404 when it does not exist or the caller may not see it."""
    return api.found(db.session.get(Round, round_id), lambda round_: round_.can_view(current_user))


def managed_round(round_id: int) -> Round:
    """A round the caller runs: 404 when they may not see it, 403 when they see it but do not run rounds."""
    round_ = visible_round(round_id)
    api.require(round_.can_manage(current_user))
    return round_


def _item_of(round_: Round, item_id: int, withdrawn: bool = False) -> RoundItem:
    item = db.session.get(RoundItem, item_id)
    return api.found(item, lambda i: i.round_id == round_.id and (withdrawn or i.removed_at is None))


def round_data(round_: Round, detail: bool = False) -> dict:
    """What RoundSchema and RoundDetailSchema show of a round, for the caller and the request's now."""
    now = request_now()
    own = current_user.organization_id
    state = round_.state_for(None if current_user.is_hq else own, now)
    data = {
        "id": round_.id,
        "title": round_.title,
        "status": round_.status,
        "status_label": round_.status_label,
        "state": state.key,
        "state_label": state.label,
        "opens_at": round_.opens_at,
        "deadline": round_.deadline,
        "my_deadline": round_.deadline_for(own),
        "accepting": round_.is_accepting(own, now) and (current_user.is_hq or round_.is_target(own)),
        "answers_published_at": round_.answers_published_at,
        "created_at": round_.created_at,
        "version": round_.version,
        "parent_id": round_.parent_id,
        "organization_id": round_.organization_id,
        "show_sub_opinions": round_.show_sub_opinions,
    }
    if detail:
        data["background"] = round_.background
        data["items"] = list(round_.items)
        data["milestones"] = list(round_.milestones)
        data["attachments"] = db.session.scalars(
            select(Attachment)
            .options(defer(Attachment.data))
            .where(Attachment.round_id == round_.id)
            .order_by(Attachment.id)
        ).all()
    return data


def _detail(round_: Round):
    return round_data(round_, detail=True), api.etag(round_.version)


# ---------------------------------------------------------------- rounds


class RoundFilters(s.Schema):
    status = s.Choice(list(STATUS_LABELS), metadata={"description": "draft, open, closed で絞り込む"})
    accepting = s.Boolean(metadata={"description": "true: 自組織の回答をいま受け付けている討議だけ"})


@blp.route("/rounds")
class Rounds(api.Resource):
    def load(self):
        if request.method == "POST":
            api.require(current_user.is_hq)

    @blp.arguments(RoundFilters, location="query")
    @blp.response(200, RoundSchema(many=True))
    def get(self, filters):
        """The rounds the caller may see: every round for headquarters, the rounds put to a branch once open."""
        rows = [round_data(round_) for round_ in queries.visible_rounds(current_user)]
        if "status" in filters:
            rows = [row for row in rows if row["status"] == filters["status"]]
        if "accepting" in filters:
            rows = [row for row in rows if row["accepting"] == filters["accepting"]]
        return rows

    @blp.arguments(NewRoundSchema)
    @blp.response(201, RoundDetailSchema)
    def post(self, data):
        """Create a round in the draft state (headquarters)."""
        round_ = rounds.create_round(
            data["title"], data["background"], data["opens_at"], data["deadline"], current_user, request_now()
        )
        return _detail(round_)


@blp.route("/rounds/<id:round_id>")
class RoundResource(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id) if request.method != "GET" else visible_round(round_id)

    @blp.response(200, RoundDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, round_id):
        """One round with its items, schedule and files; the ETag is its version."""
        return _detail(self.round)

    @blp.arguments(RoundChangeSchema)
    @blp.response(200, RoundDetailSchema)
    def patch(self, data, round_id):
        """Change the title, background, opening or deadline; a stale version answers 409."""
        round_ = self.round
        expected = api.expected_version(data.get("version"))
        rounds.update_round(
            round_,
            expected,
            title=data.get("title", round_.title),
            background=data.get("background", round_.background),
            opens_at=data.get("opens_at", round_.opens_at),
            deadline=data.get("deadline", round_.deadline),
            user=current_user,
            now=request_now(),
        )
        return _detail(round_)


@blp.route("/rounds/<id:round_id>/open")
class OpenRound(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.response(200, RoundDetailSchema)
    def post(self, round_id):
        """Start taking answers (draft → open): the round needs items, targets and a deadline still ahead."""
        rounds.open_round(self.round, request_now(), user=current_user)
        return _detail(self.round)


@blp.route("/rounds/<id:round_id>/close")
class CloseRound(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.response(200, RoundDetailSchema)
    def post(self, round_id):
        """Stop taking answers (open → closed); organisations with a running extension may still answer."""
        rounds.close_round(self.round, request_now(), user=current_user)
        return _detail(self.round)


# ---------------------------------------------------------------- items


@blp.route("/rounds/<id:round_id>/items")
class Items(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id) if request.method != "GET" else visible_round(round_id)

    @blp.response(200, ItemSchema(many=True))
    def get(self, round_id):
        """The draft's items in order (withdrawn ones are left out)."""
        return list(self.round.items)

    @blp.arguments(NewItemSchema)
    @blp.response(201, ItemDetailSchema)
    def post(self, data, round_id):
        """Add an item at the end of the draft, as its first revision."""
        draft = rounds.ItemDraft(data["number"], data["heading"], data["text"])
        (item,) = rounds.add_items(self.round, [draft], request_now(), user=current_user)
        return _item_data(item)


def _item_data(item: RoundItem) -> dict:
    fields = ("id", "number", "heading", "body", "revision", "position", "revisions")
    return {**{name: getattr(item, name) for name in fields}, "withdrawn": item.removed_at is not None}


@blp.route("/rounds/<id:round_id>/items/<id:item_id>")
class ItemResource(api.Resource):
    def load(self, round_id, item_id):
        reading = request.method == "GET"
        self.round = visible_round(round_id) if reading else managed_round(round_id)
        self.item = _item_of(self.round, item_id, withdrawn=reading)

    @blp.response(200, ItemDetailSchema)
    def get(self, round_id, item_id):
        """One item with every revision of its wording (opinions keep the revision they answered)."""
        return _item_data(self.item)

    @blp.arguments(ItemChangeSchema)
    @blp.response(200, ItemDetailSchema)
    def patch(self, data, round_id, item_id):
        """New wording becomes a new revision; unchanged wording changes nothing."""
        item = self.item
        draft = rounds.ItemDraft(
            data.get("number", item.number), data.get("heading", item.heading), data.get("text", item.body)
        )
        rounds.update_item(item, draft, request_now(), user=current_user)
        return _item_data(item)

    @blp.response(200, RemovedSchema)
    def delete(self, round_id, item_id):
        """Delete an unanswered item; an answered one is withdrawn from the draft and kept with its opinions."""
        return {"outcome": rounds.remove_item(self.item, request_now(), user=current_user)}


@blp.route("/rounds/<id:round_id>/items/<id:item_id>/move")
class MoveItem(api.Resource):
    def load(self, round_id, item_id):
        self.round = managed_round(round_id)
        self.item = _item_of(self.round, item_id)

    @blp.arguments(s.MoveSchema)
    @blp.response(200, ItemSchema(many=True))
    def post(self, data, round_id, item_id):
        """Swap an item with its neighbour above or below; returns the items in their new order."""
        step = -1 if data["direction"] == "up" else 1
        rounds.move_item(self.round, self.item, step, user=current_user, now=request_now())
        db.session.expire(self.round, ["items"])
        return list(self.round.items)


# ---------------------------------------------------------------- targets


@blp.route("/rounds/<id:round_id>/targets")
class Targets(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.response(200, TargetsResultSchema)
    def get(self, round_id):
        """The organisations the round is put to (headquarters)."""
        return {"organization_ids": sorted(self.round.target_ids()), "kept": []}

    @blp.arguments(TargetsSchema)
    @blp.response(200, TargetsResultSchema)
    def put(self, data, round_id):
        """Put the round to exactly these organisations; those that have already answered stay targets."""
        wanted = set(data["organization_ids"])
        refused = wanted - rounds.targetable(wanted)
        if refused:
            api.invalid(
                "organization_ids",
                _(
                    "対象にできない組織の ID です（存在しないか本部）: %(ids)s",
                    ids=", ".join(map(str, sorted(refused))),
                ),
            )
        kept = rounds.set_targets(self.round, wanted, user=current_user, now=request_now())
        return {"organization_ids": sorted(self.round.target_ids()), "kept": sorted(kept)}


# ---------------------------------------------------------------- schedule


@blp.route("/rounds/<id:round_id>/milestones")
class Milestones(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id) if request.method != "GET" else visible_round(round_id)

    @blp.response(200, MilestoneSchema(many=True))
    def get(self, round_id):
        """The round's schedule: meetings before and after the deadline, by date."""
        return list(self.round.milestones)

    @blp.arguments(NewMilestoneSchema)
    @blp.response(201, MilestoneSchema)
    def post(self, data, round_id):
        """Add a dated step to the schedule."""
        return rounds.add_milestone(
            self.round, data["date"], data["meeting"], data["what"], user=current_user, now=request_now()
        )


@blp.route("/rounds/<id:round_id>/milestones/<id:milestone_id>")
class MilestoneResource(api.Resource):
    def load(self, round_id, milestone_id):
        self.round = managed_round(round_id)
        self.milestone = api.found(db.session.get(Milestone, milestone_id), lambda m: m.round_id == self.round.id)

    @blp.response(204)
    def delete(self, round_id, milestone_id):
        """Take a step off the schedule."""
        rounds.remove_milestone(self.milestone, user=current_user, now=request_now())
        return api.no_content()


# ---------------------------------------------------------------- files of the draft


@blp.route("/rounds/<id:round_id>/attachments")
class Attachments(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id) if request.method != "GET" else visible_round(round_id)

    @blp.response(200, AttachmentSchema(many=True))
    def get(self, round_id):
        """The draft's files (PDF, DOCX)."""
        return round_data(self.round, detail=True)["attachments"]

    @blp.arguments(UploadSchema, location="files")
    @blp.response(201, AttachmentSchema)
    def post(self, files, round_id):
        """Attach a PDF or DOCX, checked by its content, up to MAX_ATTACHMENT_BYTES."""
        file = files["file"]
        return rounds.add_attachment(
            self.round,
            file.filename or "",
            file.read(),
            current_user,
            request_now(),
            current_app.config["MAX_ATTACHMENT_BYTES"],
        )


_BINARY = {"type": "string", "format": "binary"}


@blp.route("/rounds/<id:round_id>/attachments/<id:attachment_id>")
class AttachmentResource(api.Resource):
    def load(self, round_id, attachment_id):
        self.round = managed_round(round_id) if request.method != "GET" else visible_round(round_id)
        self.attachment = api.found(
            db.session.get(Attachment, attachment_id, options=[defer(Attachment.data)]),
            lambda a: a.round_id == self.round.id,
        )

    @blp.response(200, _BINARY, content_type="application/pdf", description="The file as it was attached")
    @blp.doc(
        responses={
            "200": {
                "description": "The file as it was attached (PDF or DOCX)",
                "content": {kind: {"schema": _BINARY} for kind in rounds.ALLOWED_ATTACHMENT_TYPES},
            }
        }
    )
    def get(self, round_id, attachment_id):
        """Download the file."""
        attachment = self.attachment
        return private_file(io.BytesIO(attachment.data), attachment.content_type, attachment.filename)

    @blp.response(204)
    def delete(self, round_id, attachment_id):
        """Take the file off the round."""
        rounds.remove_attachment(self.attachment, user=current_user, now=request_now())
        return api.no_content()


# ---------------------------------------------------------------- more time for one organisation


@blp.route("/rounds/<id:round_id>/extensions")
class Extensions(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.response(200, ExtensionSchema(many=True))
    def get(self, round_id):
        """Every grant of more time, oldest first."""
        return db.session.scalars(
            select(DeadlineExtension)
            .where(DeadlineExtension.round_id == self.round.id)
            .order_by(DeadlineExtension.granted_at, DeadlineExtension.id)
        ).all()

    @blp.arguments(NewExtensionSchema)
    @blp.response(201, ExtensionSchema)
    def post(self, data, round_id):
        """Give one target organisation more time, with the reason."""
        return rounds.grant_extension(
            self.round, data["organization_id"], data["until"], data["reason"], current_user, request_now()
        )


# ---------------------------------------------------------------- sub-consultations (issue 10)


@blp.route("/rounds/<id:round_id>/subrounds")
class Subrounds(api.Resource):
    def load(self, round_id):
        self.round = visible_round(round_id)
        if request.method == "POST":  # an inner node the round is put to: not headquarters, not a local union
            api.require(self.round.is_put_to_inner_node(current_user))

    @blp.response(200, RoundSchema(many=True))
    def get(self, round_id):
        """The sub-rounds opened on this round: every one for headquarters, the caller's own for a prefecture."""
        stmt = select(Round).where(Round.parent_id == self.round.id).order_by(Round.id)
        if not current_user.is_hq:
            stmt = stmt.where(Round.organization_id == current_user.organization_id)
        return [round_data(sub) for sub in db.session.scalars(stmt)]

    @blp.arguments(NewSubroundSchema)
    @blp.response(201, RoundDetailSchema)
    def post(self, data, round_id):
        """A prefecture (any inner node put to the round) opens its own discussion among organisations beneath
        it, on the same items: its id then works with every round endpoint (board, extensions, answers)."""
        sub = rounds.open_subround(
            self.round,
            current_user,
            deadline=data["deadline"],
            background=data["background"],
            organization_ids=set(data["organization_ids"]),
            now=request_now(),
        )
        return _detail(sub)


@blp.route("/rounds/<id:round_id>/sub-opinions")
class SubOpinions(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)
        api.require(current_user.is_hq and not self.round.is_subround)

    @blp.arguments(SubOpinionsSchema)
    @blp.response(200, RoundSchema)
    def put(self, data, round_id):
        """Headquarters' choice: also read the union opinions beneath the prefectures' answers (marked)."""
        rounds.set_show_sub_opinions(self.round, data["show_sub_opinions"], user=current_user, now=request_now())
        return round_data(self.round)
