"""The follow-up in the API: visits, the answer and grade of each request item per addressee, the grading scale
and publication, the outcome grid, and the carry-over into next year's campaign.

Campaigns are headquarters' work (Campaign.visible_to): a branch gets 404 on everything here but the outcome,
which it reads once headquarters has published it (FollowupPlan.outcome_visible_to).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _
from flask_login import current_user
from marshmallow import validate

from consult.core import api
from consult.core.api import schemas as s
from consult.core.clock import request_now
from consult.extensions import db
from consult.followup import operations as followup
from consult.followup import queries
from consult.followup.models import INDICATOR_YEARS_LIMIT, SCALES, VISIT_STATUSES, Indicator, Visit, VisitAttachment
from consult.letters.api import CampaignDetailSchema, campaign_detail
from consult.letters.models import Addressee, Campaign, RequestItem
from consult.orgs.models import Organization
from consult.rounds.api import RoundDetailSchema, round_data

blp = api.blueprint("followup", "回答と評価: 要請行動（訪問）、要請項目ごとの回答と評価、結果の公開、翌年への引き継ぎ")

TEXT_MAX = 20_000


class VisitSchema(s.Schema):
    id = s.Integer(required=True)
    campaign_id = s.Integer(required=True)
    addressee_id = s.Integer(required=True)
    date = s.Time(required=True, attribute="starts_at", metadata={"description": "日時"})
    place = s.String(required=True)
    status = s.Choice(list(VISIT_STATUSES), required=True)
    our_side = s.String(required=True, metadata={"description": "こちらの参加者（1行に1人）"})
    their_side = s.String(required=True, metadata={"description": "先方の応対者（1行に1人、役職も）"})
    notes = s.String(required=True)
    answer_expected_on = s.Day(allow_none=True, required=True, metadata={"description": "先方が約束した回答日"})
    file_names = s.List(s.String(), required=True)
    version = s.Integer(required=True)


class VisitInSchema(s.Schema):
    addressee_id = s.Id()
    date = s.Time(metadata={"description": "日時（オフセットなしは日本時間）"})
    place = s.String(max_length=TEXT_MAX)
    status = s.Choice(list(VISIT_STATUSES))
    our_side = s.String(max_length=TEXT_MAX)
    their_side = s.String(max_length=TEXT_MAX)
    notes = s.String(max_length=TEXT_MAX)
    answer_expected_on = s.Day(allow_none=True)


class NewVisitSchema(VisitInSchema):
    addressee_id = s.Id(required=True)
    date = s.Time(required=True, metadata={"description": "日時（オフセットなしは日本時間）"})


class VisitChangeSchema(VisitInSchema):
    version = s.Integer(metadata={"description": "読み込んだときの版。違えば 409（If-Match でも可）"})


class ExchangeSchema(s.Schema):
    number = s.Integer(required=True)
    stage = s.String(required=True, metadata={"description": "第1次回答、第2次回答 … 妥結"})
    settled = s.Boolean(required=True)
    text = s.String(required=True)
    date = s.Day(allow_none=True, required=True)
    grade = s.String(required=True)
    reason = s.String(required=True)
    remedy = s.String(required=True)
    graded_by = s.String(allow_none=True, required=True, metadata={"description": "評価した人"})
    updated_at = s.Time(required=True)


class ItemAnswerSchema(s.Schema):
    request_item_id = s.Integer(required=True)
    addressee_id = s.Integer(required=True)
    text = s.String(required=True)
    date = s.Day(allow_none=True, required=True)
    grade = s.String(required=True)
    version = s.Integer(required=True, metadata={"description": "0: まだ回答なし"})
    exchanges = s.List(s.Nested(ExchangeSchema), required=True)


class ItemAnswerInSchema(s.Schema):
    text = s.String(max_length=TEXT_MAX)
    date = s.Day(allow_none=True)
    grade = s.String(max_length=100, metadata={"description": "要請行動の評価区分の1つ（空: 未評価）"})
    reason = s.String(max_length=TEXT_MAX)
    remedy = s.String(max_length=TEXT_MAX)
    new_exchange = s.Boolean(metadata={"description": "true: 今の回答を残し、次の回答（第2次回答…）として保存"})
    settled = s.Boolean(metadata={"description": "妥結"})
    version = s.Integer(metadata={"description": "読み込んだときの版（0: 回答なし）。違えば 409（If-Match でも可）"})


class GradingSchema(s.Schema):
    scale = s.Choice(list(SCALES), required=True)
    grades = s.List(s.String(), required=True)
    custom_labels = s.String(required=True)
    published = s.Boolean(required=True, metadata={"description": "県本部・単組に結果を公開しているか"})
    version = s.Integer(required=True)


class GradingInSchema(s.Schema):
    scale = s.Choice(list(SCALES))
    custom_labels = s.String(max_length=TEXT_MAX)
    published = s.Boolean()
    version = s.Integer()


class CarryOverSchema(s.Schema):
    grades = s.List(s.String(max_length=100), required=True, max_items=100)
    title = s.String(required=True, max_length=TEXT_MAX)


class IndicatorValueSchema(s.Schema):
    fiscal_year = s.Integer(
        required=True,
        validate=validate.Range(min=1900, max=2200, error=_("年度は西暦で書いてください。")),
        metadata={"description": "年度（西暦）"},
    )
    target = s.Number(allow_none=True, load_default=None, metadata={"description": "目標"})
    actual = s.Number(allow_none=True, load_default=None, metadata={"description": "実績（未確定は null）"})


class IndicatorValueOutSchema(IndicatorValueSchema):
    grade = s.String(required=True, metadata={"description": "達成状況 S/A/B/C（目標か実績がなければ空）の自動判定"})


class IndicatorSchema(s.Schema):
    id = s.Integer(required=True)
    campaign_id = s.Integer(allow_none=True, required=True)
    organization_id = s.Integer(allow_none=True, required=True)
    name = s.String(required=True)
    unit = s.String(required=True)
    higher_is_better = s.Boolean(required=True)
    values = s.List(s.Nested(IndicatorValueOutSchema), required=True)
    version = s.Integer(required=True)


class IndicatorInSchema(s.Schema):
    name = s.String(max_length=TEXT_MAX)
    unit = s.String(max_length=TEXT_MAX)
    higher_is_better = s.Boolean()
    values = s.List(s.Nested(IndicatorValueSchema), max_items=INDICATOR_YEARS_LIMIT)


class NewIndicatorSchema(IndicatorInSchema):
    campaign_id = s.Id(metadata={"description": "要請行動の指標なら要請行動の id"})
    organization_id = s.Id(metadata={"description": "組織の指標なら組織の id（campaign_id とどちらか一方）"})
    name = s.String(required=True, max_length=TEXT_MAX)


class IndicatorChangeSchema(IndicatorInSchema):
    version = s.Integer(metadata={"description": "読み込んだときの版。違えば 409（If-Match でも可）"})


class IndicatorFilters(s.Schema):
    campaign_id = s.Id(strict=False)
    organization_id = s.Id(strict=False)


class CarryIntoRoundSchema(s.Schema):
    grades = s.List(s.String(max_length=100), required=True, max_items=100)
    title = s.String(max_length=TEXT_MAX, metadata={"description": "討議の名称（空: 要請行動の名称）"})


class NoBody(s.Schema):
    """No fields: a body, if sent, must be {}."""


class VersionArgs(s.Schema):
    version = s.Integer(strict=False, metadata={"description": "読み込んだときの版。違えば 409（If-Match でも可）"})


class OutcomeCellSchema(s.Schema):
    request_item_id = s.Integer(required=True)
    addressee_id = s.Integer(required=True)
    grade = s.String(required=True)
    answered = s.Boolean(required=True)
    overdue = s.Boolean(required=True)


class OutcomeSchema(s.Schema):
    campaign_id = s.Integer(required=True)
    published = s.Boolean(required=True)
    counts = s.Dict(keys=s.String(), values=s.Integer(), required=True)
    unanswered = s.Integer(required=True)
    overdue = s.Integer(required=True)
    cells = s.List(s.Nested(OutcomeCellSchema), required=True)


# ---------------------------------------------------------------- loading


def _campaign(campaign_id: int) -> Campaign:
    return api.found(db.session.get(Campaign, campaign_id), lambda _c: Campaign.visible_to(current_user))


def _visit_data(visit: Visit) -> dict:
    names = ("id", "campaign_id", "addressee_id", "starts_at", "place", "status", "our_side", "their_side", "notes")
    return {
        **{name: getattr(visit, name) for name in names},
        "answer_expected_on": visit.answer_expected_on,
        "file_names": [f.filename for f in visit.attachments],
        "version": visit.version,
    }


def _visit_input(data: dict, visit: Visit | None = None) -> followup.VisitInput:
    def value(name, attribute=None, default=""):
        return data[name] if name in data else getattr(visit, attribute or name) if visit else default

    return followup.VisitInput(
        addressee_id=value("addressee_id", default=None),
        starts_at=value("date", "starts_at", None),
        place=value("place"),
        status=value("status", default="planned"),
        our_side=value("our_side"),
        their_side=value("their_side"),
        notes=value("notes"),
        answer_expected_on=value("answer_expected_on", default=None),
    )


def _answer_data(item: RequestItem, addressee: Addressee) -> dict:
    answer = followup.answer_for(item, addressee)
    current = answer.current if answer else None
    return {
        "request_item_id": item.id,
        "addressee_id": addressee.id,
        "text": current.text if current else "",
        "date": current.answered_on if current else None,
        "grade": current.grade if current else "",
        "version": answer.version if answer else 0,
        "exchanges": [
            {
                "number": e.number,
                "stage": e.stage,
                "settled": e.settled,
                "text": e.text,
                "date": e.answered_on,
                "grade": e.grade,
                "reason": e.reason,
                "remedy": e.remedy,
                "graded_by": e.graded_by.name if e.graded_by else None,
                "updated_at": e.updated_at,
            }
            for e in (answer.exchanges if answer else [])
        ],
    }


def _grading_data(campaign: Campaign) -> dict:
    plan = followup.plan_for(campaign)
    return {
        "scale": plan.scale,
        "grades": list(plan.grades()),
        "custom_labels": plan.custom_labels,
        "published": plan.is_published(),
        "version": plan.version or 1,
    }


# ---------------------------------------------------------------- resources


@blp.route("/campaigns/<id:campaign_id>/visits")
class Visits(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.response(200, VisitSchema(many=True))
    def get(self, campaign_id):
        """The campaign's visits, by date."""
        return [_visit_data(v) for v in queries.visits_of(self.campaign)]

    @blp.arguments(NewVisitSchema)
    @blp.response(201, VisitSchema)
    def post(self, data, campaign_id):
        """Plan (or record) a visit to one of the campaign's addressees: `{addressee_id, date, place, status}`."""
        visit = followup.add_visit(self.campaign, _visit_input(data), user=current_user, now=request_now())
        return _visit_data(visit)


@blp.route("/campaigns/<id:campaign_id>/visits/<id:visit_id>")
class VisitResource(api.Resource):
    def load(self, campaign_id, visit_id):
        self.campaign = _campaign(campaign_id)
        self.visit = api.found(db.session.get(Visit, visit_id), lambda v: v.campaign_id == self.campaign.id)

    @blp.response(200, VisitSchema)
    def get(self, campaign_id, visit_id):
        """One visit."""
        return _visit_data(self.visit), api.etag(self.visit.version)

    @blp.arguments(VisitChangeSchema)
    @blp.response(200, VisitSchema)
    def patch(self, data, campaign_id, visit_id):
        """Change a visit (planned → done → answered); a stale version answers 409."""
        expected = api.expected_version(data.pop("version", None))
        followup.update_visit(
            self.visit, expected, _visit_input(data, self.visit), user=current_user, now=request_now()
        )
        return _visit_data(self.visit), api.etag(self.visit.version)

    @blp.arguments(VersionArgs, location="query")
    @blp.response(204)
    def delete(self, args, campaign_id, visit_id):
        """Delete a visit with its files (?version= or If-Match: a visit changed since answers 409)."""
        expected = api.expected_version(args.get("version"))
        followup.delete_visit(self.visit, expected, user=current_user, now=request_now())
        return api.no_content()


@blp.route("/campaigns/<id:campaign_id>/visits/<id:visit_id>/files/<id:file_id>")
class VisitFileResource(api.Resource):
    def load(self, campaign_id, visit_id, file_id):
        self.campaign = _campaign(campaign_id)
        self.visit = api.found(db.session.get(Visit, visit_id), lambda v: v.campaign_id == self.campaign.id)
        self.file = api.found(db.session.get(VisitAttachment, file_id), lambda f: f.visit_id == self.visit.id)

    @blp.response(204)
    def delete(self, campaign_id, visit_id, file_id):
        """Delete one file of the visit (its name is in the visit's file_names)."""
        followup.delete_visit_file(self.file, user=current_user, now=request_now())
        return api.no_content()


class _AnswerPath(api.Resource):
    def load(self, campaign_id, item_id, addressee_id):
        self.campaign = _campaign(campaign_id)
        self.item = api.found(db.session.get(RequestItem, item_id), lambda i: i.letter.campaign_id == self.campaign.id)
        self.addressee = api.found(
            db.session.get(Addressee, addressee_id),
            lambda a: a.campaign_id == self.campaign.id and followup.receives(a, self.item),
        )


@blp.route("/campaigns/<id:campaign_id>/request-items/<id:item_id>/answers/<id:addressee_id>")
class ItemAnswerResource(_AnswerPath):
    @blp.response(200, ItemAnswerSchema)
    def get(self, campaign_id, item_id, addressee_id):
        """The addressee's answer to the request item, every exchange kept (version 0: none yet)."""
        data = _answer_data(self.item, self.addressee)
        return data, api.etag(data["version"])

    @blp.arguments(ItemAnswerInSchema)
    @blp.response(200, ItemAnswerSchema)
    def put(self, data, campaign_id, item_id, addressee_id):
        """Record the answer and its grade: `{text, date, grade}` (the current exchange, or the next one with
        `new_exchange`); a stale version answers 409."""
        expected = api.expected_version(data.get("version"))
        followup.save_answer(
            self.item,
            self.addressee,
            followup.AnswerInput(
                text=data.get("text", ""),
                answered_on=data.get("date"),
                grade=data.get("grade", ""),
                reason=data.get("reason", ""),
                remedy=data.get("remedy", ""),
                new_exchange=data.get("new_exchange", False),
                settled=data.get("settled", False),
            ),
            expected,
            user=current_user,
            now=request_now(),
        )
        answer = _answer_data(self.item, self.addressee)
        return answer, api.etag(answer["version"])


@blp.route("/campaigns/<id:campaign_id>/request-items/<id:item_id>/answers/<id:addressee_id>/consult")
class ConsultOnAnswer(_AnswerPath):
    @blp.arguments(NoBody)
    @blp.response(201, RoundDetailSchema)
    def post(self, _data, campaign_id, item_id, addressee_id):
        """Open a round (準備中) to the branches on how to take this answer, the answer its draft
        (「回答をどう受け止めるか」); 422 while the answer has no text."""
        answer = api.found(followup.answer_for(self.item, self.addressee))
        round_ = followup.consult_on_answer(answer, user=current_user, now=request_now())
        return round_data(round_, detail=True)


@blp.route("/campaigns/<id:campaign_id>/grading")
class Grading(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.response(200, GradingSchema)
    def get(self, campaign_id):
        """The campaign's grading scale and whether the outcome is published to the branches."""
        return _grading_data(self.campaign)

    @blp.arguments(GradingInSchema)
    @blp.response(200, GradingSchema)
    def put(self, data, campaign_id):
        """Choose the scale (default, sabc, custom with one label a line) and publish or withdraw the outcome."""
        now = request_now()
        plan = followup.plan_for(self.campaign)
        if "scale" in data or "custom_labels" in data:
            followup.set_scale(
                self.campaign,
                data.get("scale", plan.scale),
                data.get("custom_labels", plan.custom_labels),
                api.expected_version(data.get("version")),
                user=current_user,
                now=now,
            )
        if "published" in data:
            followup.publish(self.campaign, data["published"], user=current_user, now=now)
        return _grading_data(self.campaign)


@blp.route("/campaigns/<id:campaign_id>/outcome")
class Outcome(api.Resource):
    def load(self, campaign_id):
        campaign = api.found(db.session.get(Campaign, campaign_id))
        self.plan = api.found(followup.plan_for(campaign), lambda plan: plan.outcome_visible_to(current_user))
        self.campaign = campaign

    @blp.response(200, OutcomeSchema)
    def get(self, campaign_id):
        """Grades per addressee and request item, counts per grade, unanswered and overdue; a branch reads it
        once headquarters has published it."""
        board = queries.grid(self.campaign, request_now())
        return {
            "campaign_id": self.campaign.id,
            "published": self.plan.is_published(),
            "counts": board.counts,
            "unanswered": board.unanswered,
            "overdue": board.overdue,
            "cells": [
                {
                    "request_item_id": row.item.id,
                    "addressee_id": cell.addressee.id,
                    "grade": cell.grade,
                    "answered": cell.answered,
                    "overdue": cell.overdue,
                }
                for row in board.rows
                for cell in row.cells
                if cell.receives
            ],
        }


@blp.route("/campaigns/<id:campaign_id>/carry-over")
class CarryOver(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.arguments(CarryOverSchema)
    @blp.response(201, CampaignDetailSchema)
    def post(self, data, campaign_id):
        """Carry the requests graded one of `grades` into a new campaign a year later, named `title`; each new
        request item's `predecessor_id` names the one it continues."""
        new = followup.carry_over(self.campaign, data["grades"], data["title"], user=current_user, now=request_now())
        return campaign_detail(new.id)


@blp.route("/campaigns/<id:campaign_id>/carry-into-round")
class CarryIntoRound(api.Resource):
    def load(self, campaign_id):
        self.campaign = _campaign(campaign_id)

    @blp.arguments(CarryIntoRoundSchema)
    @blp.response(201, RoundDetailSchema)
    def post(self, data, campaign_id):
        """Carry the requests graded one of `grades` into a new round's draft (準備中); each round item is linked
        to the request it continues."""
        round_ = followup.carry_into_round(
            self.campaign, data["grades"], data.get("title", ""), user=current_user, now=request_now()
        )
        return round_data(round_, detail=True)


# ---------------------------------------------------------------- indicators


def _indicator_data(indicator: Indicator) -> dict:
    return {
        "id": indicator.id,
        "campaign_id": indicator.campaign_id,
        "organization_id": indicator.organization_id,
        "name": indicator.name,
        "unit": indicator.unit,
        "higher_is_better": indicator.higher_is_better,
        "values": [
            {"fiscal_year": fy, "target": target, "actual": actual, "grade": grade}
            for fy, target, actual, grade in queries.indicator_rows(indicator)
        ],
        "version": indicator.version,
    }


def _values(data: dict, indicator: Indicator | None = None) -> list[tuple[int, float | None, float | None]]:
    if "values" not in data:
        return [(v.fiscal_year, v.target, v.actual) for v in indicator.values] if indicator else []
    return [(v["fiscal_year"], v.get("target"), v.get("actual")) for v in data["values"]]


@blp.route("/indicators")
class Indicators(api.Resource):
    def load(self):
        api.require(Campaign.visible_to(current_user))

    @blp.arguments(IndicatorFilters, location="query")
    @blp.response(200, IndicatorSchema(many=True))
    def get(self, filters):
        """Indicators (到達指標) of a campaign (?campaign_id=), of an organisation (?organization_id=), or of
        every organisation; each year with its automatic grade (達成状況 S/A/B/C)."""
        if "campaign_id" in filters:
            found = queries.indicators_of(api.found(db.session.get(Campaign, filters["campaign_id"])))
        else:
            ids = [filters["organization_id"]] if "organization_id" in filters else None
            found = queries.indicators_of_organizations(ids)
        return [_indicator_data(i) for i in found]

    @blp.arguments(NewIndicatorSchema)
    @blp.response(201, IndicatorSchema)
    def post(self, data):
        """Add an indicator to a campaign or an organisation: `{campaign_id | organization_id, name, unit,
        higher_is_better, values: [{fiscal_year, target, actual}]}`."""
        if ("campaign_id" in data) == ("organization_id" in data):
            api.invalid("campaign_id", str(_("campaign_id か organization_id のどちらか一方を指定してください。")))
        if "campaign_id" in data:
            owner = db.session.get(Campaign, data["campaign_id"])
            if owner is None:
                api.invalid("campaign_id", str(_("その要請行動はありません。")))
        else:
            owner = db.session.get(Organization, data["organization_id"])
            if owner is None:
                api.invalid("organization_id", str(_("その組織はありません。")))
        indicator = followup.save_indicator(
            owner,
            data["name"],
            data.get("unit", ""),
            data.get("higher_is_better", True),
            _values(data),
            user=current_user,
            now=request_now(),
        )
        return _indicator_data(indicator), api.etag(indicator.version)


@blp.route("/indicators/<id:indicator_id>")
class IndicatorResource(api.Resource):
    def load(self, indicator_id):
        self.indicator = api.found(
            db.session.get(Indicator, indicator_id), lambda _i: Campaign.visible_to(current_user)
        )

    @blp.response(200, IndicatorSchema)
    def get(self, indicator_id):
        """One indicator with its years and their grades."""
        return _indicator_data(self.indicator), api.etag(self.indicator.version)

    @blp.arguments(IndicatorChangeSchema)
    @blp.response(200, IndicatorSchema)
    def patch(self, data, indicator_id):
        """Change the name, unit or direction, or replace the years (`values`: the whole list); a stale version
        answers 409."""
        expected = api.expected_version(data.get("version"))
        indicator = self.indicator
        followup.save_indicator(
            None,
            data.get("name", indicator.name),
            data.get("unit", indicator.unit),
            data.get("higher_is_better", indicator.higher_is_better),
            _values(data, indicator),
            user=current_user,
            now=request_now(),
            indicator=indicator,
            expected_version=expected,
        )
        return _indicator_data(indicator), api.etag(indicator.version)

    @blp.arguments(VersionArgs, location="query")
    @blp.response(204)
    def delete(self, args, indicator_id):
        """Remove the indicator and its years (?version= or If-Match: changed since answers 409)."""
        followup.delete_indicator(
            self.indicator, api.expected_version(args.get("version")), user=current_user, now=request_now()
        )
        return api.no_content()
