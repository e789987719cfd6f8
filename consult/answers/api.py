"""Answers in the API: a branch's answer to a round (draft, submit, withdraw, 「意見なし」), its history, the board.

The rules are the answer pages': headquarters reads and may enter the answer of every target organisation, a
branch only its own; saving follows the same version, deadline and late-draft rules (answers.operations).
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from marshmallow import ValidationError, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from consult.answers import operations as answering
from consult.answers import roll_up
from consult.answers.models import (
    ACTION_LABELS,
    DECISION_LENGTH,
    HEADING_LENGTH,
    SOURCES_LIMIT,
    STANCES,
    TEXT_LIMIT,
    Answer,
    AnswerEvent,
    Opinion,
)
from consult.answers.queries import STATE_LABELS, answer_state, compute_board
from consult.core import api
from consult.core.api import schemas as s
from consult.core.clock import request_now
from consult.extensions import db
from consult.orgs.models import KIND_LABELS, Organization
from consult.rounds.api import managed_round, visible_round
from consult.rounds.models import Round

blp = api.blueprint("answers", "回答: 組織ごとの回答（下書き・提出・取り下げ・意見なし）、履歴、提出状況ボード")

MAX_OPINIONS = 1000
MAX_PROPOSALS = 200
BOARD_STATES = [*STATE_LABELS, "late", "extended"]


# ---------------------------------------------------------------- schemas


class OpinionSchema(s.Schema):
    id = s.Integer(required=True)
    item_id = s.Integer(required=True)
    item_revision = s.Integer(allow_none=True, required=True, metadata={"description": "意見が答えた項目の版"})
    stance = s.Choice(list(STANCES), required=True)
    stance_label = s.String(required=True)
    referred_text = s.String(required=True, metadata={"description": "該当箇所・現行の文言"})
    proposed_text = s.String(required=True, metadata={"description": "修正案"})
    reason = s.String(required=True, metadata={"description": "理由"})
    sources = s.List(
        s.Integer(),
        required=True,
        metadata={"description": "この意見のもとになった単組の意見の id（県本部が県内討議の意見から作った意見）"},
    )


class ProposalSchema(s.Schema):
    id = s.Integer(required=True)
    heading = s.String(required=True, metadata={"description": "提案する項目の見出し"})
    proposed_text = s.String(required=True)
    reason = s.String(required=True)


class OpinionInSchema(s.Schema):
    item_id = s.Id(required=True, metadata={"description": "討議案の項目の id（GET /rounds/{round_id} の items）"})
    stance = s.Choice(
        list(STANCES), required=True, metadata={"description": "agree, amend, add, delete, oppose, other"}
    )
    referred_text = s.String(load_default="", max_length=TEXT_LIMIT)
    proposed_text = s.String(load_default="", max_length=TEXT_LIMIT)
    reason = s.String(load_default="", max_length=TEXT_LIMIT)
    sources = s.List(
        s.Id(),
        max_items=SOURCES_LIMIT,
        metadata={
            "description": "もとにした単組の意見の id（この組織の県内討議で同じ項目に提出されたもの）。"
            "省略すると保存済みの出典のまま"
        },
    )


class ProposalInSchema(s.Schema):
    heading = s.String(load_default="", max_length=HEADING_LENGTH)
    proposed_text = s.String(load_default="", max_length=TEXT_LIMIT)
    reason = s.String(load_default="", max_length=TEXT_LIMIT)


class LateDraftSchema(s.Schema):
    opinions = s.List(s.Nested(OpinionInSchema), required=True)
    proposals = s.List(s.Nested(ProposalInSchema), required=True)
    comment = s.String(required=True)


class AnswerSchema(s.Schema):
    round_id = s.Integer(required=True)
    organization_id = s.Integer(required=True)
    state = s.Choice(
        list(STATE_LABELS), required=True, metadata={"description": "not_started, draft, submitted, no_opinion"}
    )
    state_label = s.String(required=True)
    version = s.Integer(
        required=True, metadata={"description": "版（まだ回答がなければ 0）。PUT などの version に渡す"}
    )
    opinions = s.List(s.Nested(OpinionSchema), required=True)
    proposals = s.List(s.Nested(ProposalSchema), required=True)
    comment = s.String(required=True, metadata={"description": "全体を通しての意見"})
    updated_at = s.Time(allow_none=True, required=True)
    submitted_at = s.Time(allow_none=True, required=True)
    deadline = s.Time(required=True, metadata={"description": "この組織の締切（延長後）"})
    accepting = s.Boolean(required=True, metadata={"description": "いま保存・提出できるか"})
    late_at = s.Time(allow_none=True, required=True, metadata={"description": "締切後に送られた内容の日時"})
    late_draft = s.Nested(
        LateDraftSchema,
        allow_none=True,
        required=True,
        metadata={"description": "締切後に送られ、締切後の下書きとして保存された内容（本部が確認する）"},
    )
    decided_by = s.String(required=True, metadata={"description": "回答を決めた会議（例: 県本部執行委員会）"})
    decided_on = s.Day(allow_none=True, required=True, metadata={"description": "決定日"})


class _NoDuplicateItems:
    @validates_schema
    def one_opinion_per_item(self, data, **kwargs):
        seen: set[int] = set()
        for index, opinion in enumerate(data.get("opinions") or []):
            if opinion["item_id"] in seen:
                raise ValidationError({"opinions": {index: {"item_id": [_("同じ項目への意見が二つあります。")]}}})
            seen.add(opinion["item_id"])


class AnswerPutSchema(_NoDuplicateItems, s.Schema):
    version = s.Integer(
        required=True,
        validate=s.at_least(0),
        metadata={"description": "GET で受け取った版（回答がまだなければ 0）。違えば 409"},
    )
    opinions = s.List(
        s.Nested(OpinionInSchema),
        load_default=list,
        max_items=MAX_OPINIONS,
        metadata={"description": "項目ごとの意見。載せなかった項目は「意見なし」"},
    )
    proposals = s.List(s.Nested(ProposalInSchema), load_default=list, max_items=MAX_PROPOSALS)
    comment = s.String(load_default="", max_length=TEXT_LIMIT, metadata={"description": "全体を通しての意見"})
    decided_by = s.String(max_length=DECISION_LENGTH, metadata={"description": "回答を決めた会議（省略時は変えない）"})
    decided_on = s.Day(allow_none=True, metadata={"description": "決定日"})


class SubmitSchema(_NoDuplicateItems, s.Schema):
    version = s.Integer(validate=s.at_least(0), metadata={"description": "読み込んだときの版"})
    opinions = s.List(s.Nested(OpinionInSchema), max_items=MAX_OPINIONS)
    proposals = s.List(s.Nested(ProposalInSchema), max_items=MAX_PROPOSALS)
    comment = s.String(max_length=TEXT_LIMIT)


class VersionSchema(s.Schema):
    version = s.Integer(validate=s.at_least(0), metadata={"description": "読み込んだときの版"})


class ChangeSchema(s.Schema):
    where = s.String(required=True)
    field = s.String(required=True)
    before = s.String(required=True)
    after = s.String(required=True)


class EventSchema(s.Schema):
    id = s.Integer(required=True)
    action = s.Choice(list(ACTION_LABELS), required=True)
    action_label = s.String(required=True)
    at = s.Time(required=True)
    user_id = s.Integer(allow_none=True, required=True)
    user_name = s.String(allow_none=True, required=True)
    on_behalf = s.Boolean(required=True, metadata={"description": "本部による代理入力"})
    changes = s.List(s.Nested(ChangeSchema), required=True)


class BoardRowSchema(s.Schema):
    organization_id = s.Integer(required=True)
    organization_code = s.String(required=True)
    organization_name = s.String(required=True)
    kind = s.String(required=True)
    state = s.Choice(list(STATE_LABELS), required=True)
    state_label = s.String(required=True)
    answer_id = s.Integer(allow_none=True, required=True)
    submitted_at = s.Time(allow_none=True, required=True)
    late_at = s.Time(allow_none=True, required=True)
    deadline = s.Time(required=True, metadata={"description": "この組織の締切（延長後）"})
    extension_reason = s.String(allow_none=True, required=True)


class BoardFilters(s.Schema):
    state = s.Choice(
        BOARD_STATES, metadata={"description": "状態で絞り込む（late: 締切後の送信あり、extended: 延長あり）"}
    )
    kind = s.Choice(list(KIND_LABELS))
    q = s.String(max_length=200, metadata={"description": "組織名・組織コードの一部"})


# ---------------------------------------------------------------- loading and access


class AnswerPath(api.Resource):
    """/rounds/{round_id}/answers/{organization_id}: the round and organisation, as the answer pages load them."""

    def load(self, round_id, organization_id):
        self.round: Round = visible_round(round_id)
        self.org = api.found(
            db.session.get(Organization, organization_id),
            lambda org: self.round.may_see_answer_of(current_user, org.id),
        )
        if request.method != "GET":  # a prefecture reads its unions' answers to its sub-round, never writes them
            api.require(self.round.may_answer(current_user, self.org.id))

    def answer(self) -> Answer | None:
        """The stored answer with its opinions and events, as fresh as the database has it."""
        stmt = (
            select(Answer)
            .where(Answer.round_id == self.round.id, Answer.organization_id == self.org.id)
            .options(selectinload(Answer.opinions), selectinload(Answer.events))
            .execution_options(populate_existing=True)
        )
        return db.session.scalars(stmt).first()

    def shown(self):
        """The answer as AnswerSchema shows it, with its version as the ETag."""
        answer = self.answer()
        data = answer_data(self.round, self.org.id, answer)
        return data, api.etag(data["version"])


def answer_data(round_: Round, organization_id: int, answer: Answer | None) -> dict:
    """An organisation's answer (an empty one at version 0 when it has not started)."""
    now = request_now()
    state = answer_state(answer)
    late = answering.late_draft_pending(answer)
    item_opinions = [op for op in (answer.opinions if answer else []) if op.item_id is not None]
    sources = roll_up.sources_of([op.id for op in item_opinions])
    return {
        "round_id": round_.id,
        "organization_id": organization_id,
        "state": state,
        "state_label": STATE_LABELS[state],
        "version": answer.version if answer else 0,
        "opinions": [
            {**_opinion_fields(op), "item_id": op.item_id, "item_revision": op.item_revision, "sources": sources[op.id]}
            for op in item_opinions
        ],
        "proposals": [{"id": op.id, **_opinion_fields(op)} for op in (answer.proposals() if answer else [])],
        "comment": answer.general_comment if answer else "",
        "updated_at": answer.updated_at if answer else None,
        "submitted_at": answer.submitted_at if answer else None,
        "deadline": round_.deadline_for(organization_id),
        "accepting": round_.can_submit(current_user, organization_id, now),
        "late_at": answer.late_at if answer else None,
        "late_draft": _late_draft(answer) if late else None,
        "decided_by": answer.decided_by if answer else "",
        "decided_on": answer.decided_on if answer else None,
    }


def _opinion_fields(op: Opinion) -> dict:
    return {
        "id": op.id,
        "stance": op.stance,
        "stance_label": op.stance_label,
        "heading": op.heading,
        "referred_text": op.referred_text,
        "proposed_text": op.proposed_text,
        "reason": op.reason,
    }


def _late_draft(answer: Answer) -> dict:
    data = answering.AnswerInput.from_json(answer.late_payload)
    return {
        "opinions": [
            {"item_id": item_id, **vars(opinion)}
            for item_id, opinion in data.opinions.items()
            if not opinion.is_empty()
        ],
        "proposals": [vars(proposal) for proposal in data.proposals],
        "comment": data.general_comment,
    }


def answer_input(data: dict) -> answering.AnswerInput:
    """The body's opinions, proposals and comment in the shape the operations take (the form's to_input)."""
    return answering.AnswerInput(
        opinions={
            op["item_id"]: answering.OpinionInput(op["stance"], op["referred_text"], op["proposed_text"], op["reason"])
            for op in data.get("opinions", [])
        },
        proposals=[
            answering.ProposalInput(p["heading"], p["proposed_text"], p["reason"]) for p in data.get("proposals", [])
        ],
        general_comment=data.get("comment", ""),
    )


# ---------------------------------------------------------------- the answer


@blp.route("/rounds/<id:round_id>/answers/<id:organization_id>")
class AnswerResource(AnswerPath):
    @blp.response(200, AnswerSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, round_id, organization_id):
        """The organisation's answer; before it has started one, an empty answer at version 0."""
        return self.shown()

    @blp.arguments(AnswerPutSchema)
    @blp.response(200, AnswerSchema)
    def put(self, data, round_id, organization_id):
        """Save the whole answer as a draft (what is not listed has no opinion); a stale version answers 409
        with the current version; after the deadline the text is kept as a late draft and 409 says so."""
        now = request_now()
        sources = {op["item_id"]: op["sources"] for op in data["opinions"] if "sources" in op}
        answer = roll_up.save_with_sources(
            self.round, self.org.id, current_user, answer_input(data), sources, data["version"], now
        )
        if "decided_by" in data or "decided_on" in data:
            roll_up.record_decision(
                answer,
                data.get("decided_by", answer.decided_by),
                data.get("decided_on", answer.decided_on),
                user=current_user,
                now=now,
            )
        return self.shown()


@blp.route("/rounds/<id:round_id>/answers/<id:organization_id>/submit")
class SubmitAnswer(AnswerPath):
    @blp.arguments(SubmitSchema, required=False)
    @blp.response(200, AnswerSchema)
    def post(self, data, round_id, organization_id):
        """Submit the stored draft (or, with opinions/proposals/comment in the body, that answer) before the
        deadline; an empty answer is refused: use no-opinion for 「意見なし」."""
        if any(key in data for key in ("opinions", "proposals", "comment")):
            typed = answer_input(data)
        else:
            typed = answering.answer_input_of(self.answer())
        version = api.expected_version(data.get("version"))
        answering.save_answer(self.round, self.org.id, current_user, typed, version, request_now(), submit=True)
        return self.shown()


@blp.route("/rounds/<id:round_id>/answers/<id:organization_id>/withdraw")
class WithdrawAnswer(AnswerPath):
    @blp.arguments(VersionSchema, required=False)
    @blp.response(200, AnswerSchema)
    def post(self, data, round_id, organization_id):
        """Take a submitted answer back to draft, to revise it before the deadline."""
        answer = self.answer()
        if answer is None:
            return api.problems.problem(409, _("まだ回答がありません。"), kind="state")
        version = api.expected_version(data.get("version"))
        answering.withdraw_answer(self.round, answer, current_user, version, request_now())
        return self.shown()


@blp.route("/rounds/<id:round_id>/answers/<id:organization_id>/no-opinion")
class NoOpinion(AnswerPath):
    @blp.arguments(VersionSchema, required=False)
    @blp.response(200, AnswerSchema)
    def post(self, data, round_id, organization_id):
        """Answer 「意見なし」 explicitly, so headquarters does not chase the organisation."""
        version = api.expected_version(data.get("version"))
        answering.submit_no_opinion(self.round, self.org.id, current_user, version, request_now())
        return self.shown()


@blp.route("/rounds/<id:round_id>/answers/<id:organization_id>/history")
class AnswerHistory(AnswerPath):
    @blp.response(200, EventSchema(many=True))
    def get(self, round_id, organization_id):
        """Who saved, submitted or withdrew the answer, when, on whose behalf, and what changed; newest first."""
        answer = answering.find_answer(self.round.id, self.org.id)
        if answer is None:
            return []
        events = db.session.scalars(
            select(AnswerEvent)
            .where(AnswerEvent.answer_id == answer.id)
            .options(joinedload(AnswerEvent.user))
            .order_by(AnswerEvent.id.desc())
        )
        return [
            {
                "id": event.id,
                "action": event.action,
                "action_label": event.action_label,
                "at": event.at,
                "user_id": event.user_id,
                "user_name": event.user.name if event.user else None,
                "on_behalf": event.on_behalf,
                "changes": event.changes or [],
            }
            for event in events
        ]


# ---------------------------------------------------------------- the board


@blp.route("/rounds/<id:round_id>/board")
class Board(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.arguments(BoardFilters, location="query")
    @blp.response(200, BoardRowSchema(many=True))
    def get(self, filters, round_id):
        """Every target organisation with the state of its answer, as on headquarters' board (filters alike)."""
        board = compute_board(self.round)
        rows = board.filtered(filters.get("state", ""), filters.get("q", ""), filters.get("kind", ""))
        return [
            {
                "organization_id": row.organization.id,
                "organization_code": row.organization.code,
                "organization_name": row.organization.name,
                "kind": row.organization.kind,
                "state": row.state,
                "state_label": row.state_label,
                "answer_id": row.answer_id,
                "submitted_at": row.submitted_at,
                "late_at": row.late_at,
                "deadline": row.deadline,
                "extension_reason": row.extension.reason if row.extension else None,
            }
            for row in rows
        ]


# ---------------------------------------------------------------- publishing back to the unions (issue 10)


class PublishBackSchema(s.Schema):
    published = s.Boolean(required=True, metadata={"description": "true: 本部に提出した県本部の回答を単組に公開"})


class PublishedBackSchema(s.Schema):
    round_id = s.Integer(required=True, metadata={"description": "県内討議（サブラウンド）の id"})
    published_back_at = s.Time(allow_none=True, required=True, metadata={"description": "null: 公開していない"})


@blp.route("/rounds/<id:round_id>/publish-back")
class PublishBack(api.Resource):
    def load(self, round_id):
        self.round = visible_round(round_id)
        api.require(self.round.is_put_to_inner_node(current_user))

    @blp.arguments(PublishBackSchema)
    @blp.response(200, PublishedBackSchema)
    def put(self, data, round_id):
        """A prefecture shows its submitted answer to headquarters to its sub-round's unions, or stops showing it
        (the same as its roll-up page); 409 when it has not submitted."""
        sub = roll_up.publish_back(
            self.round, current_user.organization_id, data["published"], user=current_user, now=request_now()
        )
        return {"round_id": sub.id, "published_back_at": sub.published_back_at}
