"""Kept groups (論点) in the API: confirm a proposed group, rename, split, move an opinion, undo; and
「この意見から要請項目を作る」 for an opinion or a group. Headquarters' work, as the rest of the review API; the
same operations (review.groups) and checks as the pages. Registered on the review API's blueprint."""

from __future__ import annotations

from flask_login import current_user

from consult.answers.models import Opinion
from consult.core import api
from consult.core.api import schemas as s
from consult.core.clock import request_now
from consult.extensions import db
from consult.review import groups
from consult.review import operations as reviewing
from consult.review.api import blp
from consult.review.models import GROUP_NAME_LENGTH, OpinionGroup
from consult.rounds.api import managed_round
from consult.rounds.models import RoundItem

MAX_MEMBERS = 10_000


class KeptGroupSchema(s.Schema):
    id = s.Integer(required=True)
    item_id = s.Integer(required=True)
    name = s.String(required=True, metadata={"description": "論点名"})
    opinion_ids = s.List(s.Integer(), required=True)
    version = s.Integer(required=True, metadata={"description": "変更のときに version か If-Match で渡す"})


class ConfirmGroupSchema(s.Schema):
    opinion_ids = s.List(s.Id(), required=True, max_items=MAX_MEMBERS)
    name = s.String(GROUP_NAME_LENGTH, load_default="", strip=True)


class RenameGroupSchema(s.Schema):
    name = s.String(GROUP_NAME_LENGTH, required=True, strip=True)
    version = s.Integer(load_default=None)


class MoveOpinionSchema(s.Schema):
    opinion_id = s.Id(required=True)
    target_group_id = s.Id(
        required=True, allow_none=True, metadata={"description": "移す先の論点。null: どの論点からも外す"}
    )
    version = s.Integer(load_default=None)


class SplitGroupSchema(s.Schema):
    opinion_ids = s.List(s.Id(), required=True, max_items=MAX_MEMBERS)
    name = s.String(GROUP_NAME_LENGTH, load_default="", strip=True)
    version = s.Integer(load_default=None)


class VersionArgs(s.Schema):
    version = s.Integer(load_default=None, strict=False)


class NewRequestFromSchema(s.Schema):
    letter_id = s.Id(required=True)
    text = s.String(10_000, load_default=None, metadata={"description": "省略: 意見の修正案から"})


class RequestFromSchema(s.Schema):
    request_item_id = s.Integer(required=True)
    letter_id = s.Integer(required=True)
    text = s.String(required=True)
    opinion_ids = s.List(s.Integer(), required=True)


def _data(group: OpinionGroup) -> dict:
    return {
        "id": group.id,
        "item_id": group.item_id,
        "name": group.name,
        "opinion_ids": group.opinion_ids,
        "version": group.version,
    }


def _group_of(round_id: int, group_id: int, lock: bool = False) -> OpinionGroup:
    return api.found(groups.group_of_round(round_id, group_id, lock=lock))


@blp.route("/rounds/<id:round_id>/items/<id:item_id>/kept-groups")
class KeptGroups(api.Resource):
    def load(self, round_id, item_id):
        self.round = managed_round(round_id)
        self.item = api.found(db.session.get(RoundItem, item_id), lambda i: i.round_id == self.round.id)

    @blp.response(200, KeptGroupSchema(many=True))
    def get(self, round_id, item_id):
        """The 論点 headquarters kept for the item, oldest first."""
        return [_data(g) for g in groups.item_groups(self.item.id)]

    @blp.arguments(ConfirmGroupSchema)
    @blp.response(201, KeptGroupSchema)
    def post(self, data, round_id, item_id):
        """Keep opinions of the item (a proposed group, or any choice) as a 論点; an opinion already in one: 409."""
        group = groups.confirm_group(self.item, data["opinion_ids"], data["name"], user=current_user, now=request_now())
        return _data(group)


class _GroupPath(api.Resource):
    def load(self, round_id, group_id, **_path):
        self.round = managed_round(round_id)
        self.group = _group_of(self.round.id, group_id, lock=True)


@blp.route("/rounds/<id:round_id>/groups/<id:group_id>")
class GroupResource(_GroupPath):
    @blp.response(200, KeptGroupSchema)
    def get(self, round_id, group_id):
        """One kept 論点."""
        return _data(self.group)

    @blp.arguments(RenameGroupSchema)
    @blp.response(200, KeptGroupSchema)
    def patch(self, data, round_id, group_id):
        """Name the 論点; a stale version answers 409."""
        expected = api.expected_version(data.get("version"))
        groups.rename_group(self.group, data["name"], expected, user=current_user, now=request_now())
        return _data(self.group)

    @blp.arguments(VersionArgs, location="query")
    @blp.response(204)
    def delete(self, args, round_id, group_id):
        """Undo the confirmation (the opinions are proposed again); refused while one is answered 統合."""
        expected = api.expected_version(args.get("version"))
        groups.delete_group(self.group, expected, user=current_user, now=request_now())
        return api.no_content()


@blp.route("/rounds/<id:round_id>/groups/<id:group_id>/move")
class MoveGroupOpinion(_GroupPath):
    @blp.arguments(MoveOpinionSchema)
    @blp.response(200, KeptGroupSchema(many=True))
    def post(self, data, round_id, group_id):
        """Move one opinion to another 論点 of the item (or out of every one); returns the item's groups."""
        target = None
        if data["target_group_id"] is not None:
            target = _group_of(self.round.id, data["target_group_id"], lock=True)
        expected = api.expected_version(data.get("version"))
        item_id = self.group.item_id
        groups.move_opinion(self.group, data["opinion_id"], target, expected, user=current_user, now=request_now())
        return [_data(g) for g in groups.item_groups(item_id)]


@blp.route("/rounds/<id:round_id>/groups/<id:group_id>/split")
class SplitGroup(_GroupPath):
    @blp.arguments(SplitGroupSchema)
    @blp.response(201, KeptGroupSchema)
    def post(self, data, round_id, group_id):
        """Split the chosen opinions off into a new 論点; returns the new one."""
        expected = api.expected_version(data.get("version"))
        new = groups.split_group(
            self.group, data["opinion_ids"], data["name"], expected, user=current_user, now=request_now()
        )
        return _data(new)


def _request_from(round_id: int, data: dict, opinions: list[Opinion]) -> dict:
    text = data.get("text")
    if text is None:
        text = groups.request_wording(opinions)
    item = groups.make_request_item(round_id, data["letter_id"], text, opinions, user=current_user, now=request_now())
    return {
        "request_item_id": item.id,
        "letter_id": item.letter_id,
        "text": item.text,
        "opinion_ids": [o.id for o in opinions],
    }


@blp.route("/rounds/<id:round_id>/groups/<id:group_id>/request-items")
class GroupRequestItem(_GroupPath):
    @blp.arguments(NewRequestFromSchema)
    @blp.response(201, RequestFromSchema)
    def post(self, data, round_id, group_id):
        """「この論点から要請項目を作る」: a new request item worded from the proposed change, linked to the group's
        opinions."""
        return _request_from(self.round.id, data, groups.group_opinions(self.group))


@blp.route("/rounds/<id:round_id>/opinions/<id:opinion_id>/request-items")
class OpinionRequestItem(api.Resource):
    def load(self, round_id, opinion_id):
        self.round = managed_round(round_id)
        self.opinion = api.found(reviewing.opinion_of_round(self.round.id, opinion_id))

    @blp.arguments(NewRequestFromSchema)
    @blp.response(201, RequestFromSchema)
    def post(self, data, round_id, opinion_id):
        """「この意見から要請項目を作る」: a request item worded from the opinion's proposed change, linked to it."""
        return _request_from(self.round.id, data, [self.opinion])
