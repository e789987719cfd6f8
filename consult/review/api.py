"""Aggregation in the API: counts per item and stance, the opinions (filtered, paged by cursor), headquarters'
対応 and 本部の考え方, and the published answer table that the target branches read.

Everything is headquarters' work, except the published answer table (Round.may_read_answer_table).
"""

from __future__ import annotations

import marshmallow as ma
from flask import request
from flask_babel import gettext as _
from flask_login import current_user

from consult.answers import roll_up
from consult.answers.models import DISPOSITIONS, STANCES, TEXT_LIMIT, Opinion
from consult.core import api
from consult.core.api import schemas as s
from consult.core.clock import request_now
from consult.extensions import db
from consult.review import answering, queries, search
from consult.review import operations as reviewing
from consult.review.groups import disposition_labels
from consult.review.models import TEMPLATE_NAME_LENGTH
from consult.rounds.api import RoundDetailSchema, managed_round, round_data, visible_round
from consult.rounds.models import Round, RoundItem

blp = api.blueprint(
    "review", "集約: 項目・区分ごとの件数、意見（絞り込み・カーソルでページ送り）、対応と本部の考え方、回答表"
)


# ---------------------------------------------------------------- schemas

StanceCountsSchema = type(
    "StanceCountsSchema",
    (s.Schema,),
    {stance: s.Integer(required=True, metadata={"description": label}) for stance, label in STANCES.items()},
)


class ItemCountsSchema(s.Schema):
    item_id = s.Integer(allow_none=True, required=True, metadata={"description": "null: 新しい項目の提案"})
    number = s.String(required=True)
    heading = s.String(required=True)
    withdrawn = s.Boolean(required=True)
    counts = s.Nested(StanceCountsSchema, required=True)
    total = s.Integer(required=True)


class AggregateSchema(s.Schema):
    round_id = s.Integer(required=True)
    targets = s.Integer(required=True, metadata={"description": "対象組織の数"})
    answered = s.Integer(required=True, metadata={"description": "提出した対象組織（意見なしを含む）"})
    no_opinion = s.Integer(required=True)
    items = s.List(s.Nested(ItemCountsSchema), required=True)
    proposals = s.Nested(ItemCountsSchema, required=True)
    stance_totals = s.Nested(StanceCountsSchema, required=True)


class OpinionRowSchema(s.Schema):
    id = s.Integer(required=True)
    answer_id = s.Integer(required=True)
    organization_id = s.Integer(required=True)
    organization_name = s.String(required=True)
    item_id = s.Integer(allow_none=True, required=True, metadata={"description": "null: 新しい項目の提案"})
    item_revision = s.Integer(allow_none=True, required=True)
    stance = s.Choice(list(STANCES), required=True)
    heading = s.String(required=True, metadata={"description": "提案の見出し（項目への意見では空）"})
    referred_text = s.String(required=True)
    proposed_text = s.String(required=True)
    reason = s.String(required=True)
    disposition = s.Choice(list(DISPOSITIONS), allow_none=True, required=True, metadata={"description": "対応"})
    hq_view = s.String(required=True, metadata={"description": "本部の考え方"})
    request_item_ids = s.List(s.Integer(), required=True, metadata={"description": "この意見を取り上げた要請項目"})
    sources = s.List(
        s.Integer(), required=True, metadata={"description": "この意見のもとになった単組の意見の id（県内討議）"}
    )
    seen = s.String(
        required=True,
        metadata={"description": "対応と本部の考え方の指紋。PUT …/disposition の If-Match か seen に渡す"},
    )
    answer_version = s.Integer(
        required=True, metadata={"description": "対応の版。POST …/answers/bulk の versions に渡す"}
    )
    assignee_id = s.Integer(allow_none=True, required=True, metadata={"description": "担当の本部職員"})


class OpinionFilters(s.PageArgs):
    item_id = s.Id(strict=False, metadata={"description": "この項目への意見だけ"})
    proposals = s.Boolean(metadata={"description": "true: 新しい項目の提案だけ"})
    stance = s.Choice(list(STANCES))
    disposition = s.Choice([*DISPOSITIONS, queries.NO_DISPOSITION], metadata={"description": "none: 未設定"})
    org = s.String(max_length=queries.FILTER_TEXT_LIMIT, metadata={"description": "組織名の一部、または組織コード"})
    q = s.String(max_length=queries.FILTER_TEXT_LIMIT, metadata={"description": "意見と本部の考え方の本文を検索"})
    mine = s.Boolean(metadata={"description": "true: 自分の担当の意見だけ"})


class DispositionSchema(s.Schema):
    disposition = s.Choice(list(DISPOSITIONS), allow_none=True, required=True, metadata={"description": "null: 未設定"})
    hq_view = s.String(load_default="", max_length=TEXT_LIMIT, metadata={"description": "本部の考え方"})
    seen = s.String(max_length=40, metadata={"description": "GET で受け取った seen。違えば 409（If-Match でも可）"})


class PublishedRowSchema(s.Schema):
    opinion_id = s.Integer(required=True)
    item_id = s.Integer(allow_none=True, required=True)
    item_number = s.String(required=True)
    item_heading = s.String(required=True)
    organization_id = s.Integer(allow_none=True, required=True, metadata={"description": "他の組織の意見では null"})
    organization_name = s.String(required=True, metadata={"description": "他の組織の意見では「他の組織」"})
    own = s.Boolean(required=True, metadata={"description": "自組織の意見"})
    stance = s.Choice(list(STANCES), required=True)
    proposed_text = s.String(required=True)
    reason = s.String(required=True)
    disposition = s.Choice(list(DISPOSITIONS), allow_none=True, required=True)
    disposition_label = s.String(allow_none=True, required=True)
    hq_view = s.String(required=True)


class PublishedFilters(s.PageArgs):
    mine = s.Boolean(metadata={"description": "true: 自組織の意見だけ（支部）"})


# ---------------------------------------------------------------- helpers


def _page(stmt, id_column, args: dict):
    """One keyset page of a statement in id order, and the cursor of the next one."""
    try:
        after = s.decode_cursor(args.get("cursor"))
    except s.CursorError:
        api.invalid("cursor", _("カーソルが正しくありません。前のページの next_cursor をそのまま渡してください。"))
    limit = args["limit"]
    rows = db.session.execute(stmt.where(id_column > after).order_by(id_column).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (s.encode_cursor(rows[-1][0].id) if more else None)


def _opinion_row(opinion: Opinion, org_id: int, org_name: str, links: list[int]) -> dict:
    return {
        "id": opinion.id,
        "answer_id": opinion.answer_id,
        "organization_id": org_id,
        "organization_name": org_name,
        "item_id": opinion.item_id,
        "item_revision": opinion.item_revision,
        "stance": opinion.stance,
        "heading": opinion.heading,
        "referred_text": opinion.referred_text,
        "proposed_text": opinion.proposed_text,
        "reason": opinion.reason,
        "disposition": opinion.disposition,
        "hq_view": opinion.hq_view,
        "request_item_ids": links,
        "seen": reviewing.disposition_token(opinion.disposition, opinion.hq_view),
        "answer_version": opinion.answer_version,
        "assignee_id": opinion.assignee_id,
    }


def _counts_row(row: queries.ItemRow) -> dict:
    item = row.item
    return {
        "item_id": item.id if item else None,
        "number": item.number if item else "",
        "heading": item.heading if item else _("新しい項目の提案"),
        "withdrawn": bool(item and item.removed_at is not None),
        "counts": row.counts,
        "total": row.total,
    }


# ---------------------------------------------------------------- counts and opinions


@blp.route("/rounds/<id:round_id>/aggregate")
class Aggregate(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.response(200, AggregateSchema)
    def get(self, round_id):
        """Counts per item and stance of the submitted opinions, and how many targets answered."""
        overview = queries.overview(self.round)
        return {
            "round_id": self.round.id,
            "targets": overview.targets,
            "answered": overview.answered,
            "no_opinion": overview.no_opinion,
            "items": [_counts_row(row) for row in overview.rows],
            "proposals": _counts_row(overview.proposals),
            "stance_totals": overview.stance_totals,
        }


@blp.route("/rounds/<id:round_id>/opinions")
class Opinions(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.arguments(OpinionFilters, location="query")
    @blp.response(200, s.page_of(OpinionRowSchema))
    def get(self, args, round_id):
        """The submitted opinions in id order, 100 a page by default; filters as on the aggregation pages."""
        if args.get("proposals"):
            item_id = None
        else:
            item_id = args.get("item_id", queries.ALL_ITEMS)
        filters = queries.Filters(
            stance=args.get("stance", ""),
            org=args.get("org", "").strip(),
            q=args.get("q", "").strip(),
            disposition=args.get("disposition", ""),
            assignee_id=current_user.id if args.get("mine") else None,
        )
        rows, next_cursor = _page(queries.filtered_opinions(self.round.id, item_id, filters), Opinion.id, args)
        links = queries.linked_request_items([opinion.id for opinion, _id, _name in rows])
        items = [_opinion_row(opinion, org_id, name, links[opinion.id]) for opinion, org_id, name in rows]
        sources = roll_up.sources_of([row["id"] for row in items])  # issue 10: the union opinions beneath
        for row in items:
            row["sources"] = sources[row["id"]]
        return {"items": items, "next_cursor": next_cursor}


def _opinion_of(round_: Round, opinion_id: int, lock: bool = False) -> Opinion:
    return api.found(reviewing.opinion_of_round(round_.id, opinion_id, lock=lock))


def _one(opinion: Opinion):
    org = opinion.answer.organization
    links = queries.linked_request_items([opinion.id])[opinion.id]
    row = _opinion_row(opinion, org.id, org.name, links)
    row["sources"] = roll_up.sources_of([opinion.id])[opinion.id]  # issue 10
    return row, {"ETag": f'"{row["seen"]}"'}


@blp.route("/rounds/<id:round_id>/opinions/<id:opinion_id>")
class OpinionResource(api.Resource):
    def load(self, round_id, opinion_id):
        self.round = managed_round(round_id)
        self.opinion = _opinion_of(self.round, opinion_id)

    @blp.response(200, OpinionRowSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, round_id, opinion_id):
        """One submitted opinion; the ETag is the fingerprint of its 対応 and 本部の考え方."""
        return _one(self.opinion)


@blp.route("/rounds/<id:round_id>/opinions/<id:opinion_id>/disposition")
class Disposition(api.Resource):
    def load(self, round_id, opinion_id):
        self.round = managed_round(round_id)
        self.opinion = _opinion_of(self.round, opinion_id, lock=True)

    @blp.arguments(DispositionSchema)
    @blp.response(200, OpinionRowSchema)
    def put(self, data, round_id, opinion_id):
        """Record 対応 and 本部の考え方; built on a stale `seen` (or If-Match), it answers 409."""
        expected = data.get("seen") or _if_match()
        reviewing.set_disposition(
            self.opinion, data["disposition"], data["hq_view"], current_user, request_now(), expected=expected
        )
        return _one(self.opinion)


def _if_match() -> str | None:
    tag = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    return tag or None


# ---------------------------------------------------------------- the answer table


@blp.route("/rounds/<id:round_id>/publish")
class Publish(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.response(200, RoundDetailSchema)
    def post(self, round_id):
        """Let the target branches read the answer table from now on."""
        reviewing.publish_answers(self.round, request_now(), user=current_user)
        return round_data(self.round, detail=True)


@blp.route("/rounds/<id:round_id>/unpublish")
class Unpublish(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.response(200, RoundDetailSchema)
    def post(self, round_id):
        """Take the answer table back from the branches (for a correction)."""
        reviewing.unpublish_answers(self.round, user=current_user, now=request_now())
        return round_data(self.round, detail=True)


@blp.route("/rounds/<id:round_id>/published")
class Published(api.Resource):
    def load(self, round_id):
        self.round = api.found(visible_round(round_id), lambda r: r.may_read_answer_table(current_user))

    @blp.arguments(PublishedFilters, location="query")
    @blp.response(200, s.page_of(PublishedRowSchema))
    def get(self, args, round_id):
        """The answer table (意見・対応・本部の考え方): other organisations' names read 「他の組織」 for a branch."""
        own = None if current_user.is_hq else current_user.organization_id
        stmt = queries.published_rows(self.round.id, own, bool(args.get("mine")))
        rows, next_cursor = _page(stmt, Opinion.id, args)
        labels = disposition_labels(row[0] for row in rows)  # 「統合（論点名）」
        items = []
        for opinion, number, heading, org_id, org_name in rows:
            row = queries.PublishedRow(opinion, number or "", heading or opinion.heading, org_id, org_name)
            named = row.shows_name(own)
            items.append(
                {
                    "opinion_id": opinion.id,
                    "item_id": opinion.item_id,
                    "item_number": row.item_number,
                    "item_heading": row.item_heading,
                    "organization_id": org_id if named else None,
                    "organization_name": org_name if named else _("他の組織"),
                    "own": own is not None and org_id == own,
                    "stance": opinion.stance,
                    "proposed_text": opinion.proposed_text,
                    "reason": opinion.reason,
                    "disposition": opinion.disposition,
                    "disposition_label": labels[opinion.id] or None,
                    "hq_view": opinion.hq_view,
                }
            )
        return {"items": items, "next_cursor": next_cursor}


# ---------------------------------------------------------------- search (issue 12)


class SearchArgs(s.PageArgs):
    q = s.String(
        load_default="",
        max_length=search.QUERY_LIMIT,
        metadata={
            "description": "語句（全角・半角、カナ・かな、長音を区別しない。空白区切りはすべてを含む。空なら0件）"
        },
    )
    round_id = s.Id(strict=False, metadata={"description": "この討議の意見だけ"})
    item_id = s.Id(strict=False, metadata={"description": "この項目への意見だけ"})
    proposals = s.Boolean(metadata={"description": "true: 新しい項目の提案だけ"})
    org = s.String(max_length=search.QUERY_LIMIT, metadata={"description": "組織コード、または組織名の一部"})
    prefecture_id = s.Id(strict=False, metadata={"description": "この県本部とその単組の意見だけ"})
    stance = s.Choice(list(STANCES))
    disposition = s.Choice([*DISPOSITIONS, search.NO_DISPOSITION], metadata={"description": "none: 未設定"})


class MatchSchema(s.Schema):
    field = s.Choice(list(search.FIELDS), required=True)
    text = s.String(required=True, metadata={"description": "その欄の全文"})
    spans = s.List(
        s.List(s.Integer()), required=True, metadata={"description": "一致した箇所 [開始, 終了)（文字の位置）"}
    )


class SearchHitSchema(s.Schema):
    opinion_id = s.Integer(required=True)
    round_id = s.Integer(required=True)
    item_id = s.Integer(allow_none=True, required=True, metadata={"description": "null: 新しい項目の提案"})
    organization_id = s.Integer(required=True)
    organization_code = s.String(required=True)
    organization_name = s.String(required=True)
    stance = s.Choice(list(STANCES), required=True)
    disposition = s.Choice(list(DISPOSITIONS), allow_none=True, required=True)
    matches = s.List(s.Nested(MatchSchema), required=True)


@blp.route("/search")
class Search(api.Resource):
    def load(self):
        api.require(current_user.is_hq)

    @blp.arguments(SearchArgs, location="query")
    @blp.response(200, s.page_of(SearchHitSchema))
    def get(self, args):
        """Submitted opinions of every round (or one) whose texts or 本部の考え方 hold every term, in id order."""
        try:
            after = s.decode_cursor(args.get("cursor"))
        except s.CursorError:
            api.invalid("cursor", _("カーソルが正しくありません。前のページの next_cursor をそのまま渡してください。"))
        item = search.PROPOSALS if args.get("proposals") else str(args.get("item_id") or "")
        query = search.Query(
            q=args["q"].strip(),
            round_id=args.get("round_id"),
            item=item,
            org=args.get("org", "").strip(),
            prefecture_id=args.get("prefecture_id"),
            stance=args.get("stance", ""),
            disposition=args.get("disposition", ""),
        )
        hits, last = search.api_page(query, after, args["limit"])
        items = [
            {
                "opinion_id": hit.opinion.id,
                "round_id": hit.round_id,
                "item_id": hit.opinion.item_id,
                "organization_id": hit.organization_id,
                "organization_code": hit.organization_code,
                "organization_name": hit.organization_name,
                "stance": hit.opinion.stance,
                "disposition": hit.opinion.disposition,
                "matches": [
                    {"field": sn.field, "text": sn.text, "spans": [list(span) for span in sn.spans]}
                    for sn in hit.snippets
                ],
            }
            for hit in hits
        ]
        return {"items": items, "next_cursor": s.encode_cursor(last) if last else None}


class SimilarSchema(s.Schema):
    opinion_id = s.Integer(required=True)
    score = ma.fields.Float(required=True, metadata={"description": "似ている度合い（0〜1、文字n-gramのTF-IDFの余弦）"})


@blp.route("/opinions/<id:opinion_id>/similar")
class SimilarOpinions(api.Resource):
    def load(self, opinion_id):
        opinion = api.found(db.session.get(Opinion, opinion_id))
        self.round = managed_round(opinion.answer.round_id)
        self.opinion = _opinion_of(self.round, opinion_id)

    @blp.response(200, SimilarSchema(many=True))
    def get(self, opinion_id):
        """The other submitted opinions of the same round most like this one, most similar first (at most 10)."""
        return [{"opinion_id": i, "score": score} for i, score in search.similar_opinions(self.opinion)]


class ProposedGroupSchema(s.Schema):
    key = s.Integer(required=True, metadata={"description": "グループの番号（いちばん小さい意見の ID）"})
    opinion_ids = s.List(s.Integer(), required=True)
    terms = s.List(s.String(), required=True, metadata={"description": "グループの意見が共有する語"})
    cohesion = ma.fields.Float(required=True, metadata={"description": "グループ内の平均の類似度（0〜1）"})


@blp.route("/rounds/<id:round_id>/items/<id:item_id>/groups")
class ProposedGroups(api.Resource):
    def load(self, round_id, item_id):
        self.round = managed_round(round_id)
        item = db.session.get(RoundItem, item_id)
        self.item = api.found(item, lambda i: i.round_id == self.round.id)

    @blp.response(200, ProposedGroupSchema(many=True))
    def get(self, round_id, item_id):
        """Proposed groups of the item's submitted opinions that say the same thing, largest first (not stored)."""
        return [
            {"key": g.key, "opinion_ids": list(g.ids), "terms": list(g.terms), "cohesion": g.cohesion}
            for g in search.proposed_groups(self.round.id, self.item.id)
        ]


# ---------------------------------------------------------------- bulk answers, assignment, 定型文 (issue 12)


class BulkAnswerSchema(s.Schema):
    opinion_ids = s.List(s.Id(), required=True, max_items=answering.BULK_LIMIT, metadata={"description": "意見の id"})
    disposition = s.Choice(list(DISPOSITIONS), allow_none=True, required=True, metadata={"description": "null: 未設定"})
    hq_view = s.String(load_default="", max_length=TEXT_LIMIT, metadata={"description": "本部の考え方"})
    versions = s.List(
        s.Integer(),
        max_items=answering.BULK_LIMIT,
        metadata={"description": "opinion_ids と同じ順に、読んだ answer_version。変わっていた意見は refused"},
    )


class RefusedSchema(s.Schema):
    opinion_id = s.Integer(required=True)
    reason = s.Choice(list(answering.REFUSED_REASONS), required=True)
    message = s.String(required=True)


class BulkResultSchema(s.Schema):
    updated = s.List(s.Integer(), required=True, metadata={"description": "書き込んだ意見の id"})
    refused = s.List(s.Nested(RefusedSchema), required=True, metadata={"description": "書き込まなかった意見"})


class AssignSchema(s.Schema):
    opinion_ids = s.List(s.Id(), required=True, max_items=answering.BULK_LIMIT)
    assignee_id = s.Id(allow_none=True, required=True, metadata={"description": "本部職員の id。null: 担当なし"})


def _bulk_result(result: answering.BulkResult) -> dict:
    return {
        "updated": result.updated,
        "refused": [
            {"opinion_id": i, "reason": result.refused[i], "message": message} for i, message in result.refused_labels()
        ],
    }


@blp.route("/rounds/<id:round_id>/answers/bulk")
class BulkAnswer(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.arguments(BulkAnswerSchema)
    @blp.response(200, BulkResultSchema)
    def post(self, data, round_id):
        """One 対応 and 本部の考え方 for many opinions (up to 5,000); a changed or unknown one is refused."""
        ids = data["opinion_ids"]
        versions = data.get("versions")
        if versions is not None and len(versions) != len(ids):
            api.invalid("versions", _("versions は opinion_ids と同じ数だけ指定してください。"))
        seen = dict(zip(ids, versions, strict=True)) if versions is not None else None
        result = answering.bulk_answer(
            self.round, ids, data["disposition"], data["hq_view"], user=current_user, now=request_now(), seen=seen
        )
        return _bulk_result(result)


@blp.route("/rounds/<id:round_id>/assignments")
class Assignments(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.arguments(AssignSchema)
    @blp.response(200, BulkResultSchema)
    def post(self, data, round_id):
        """Assign opinions to one staff member (null: nobody); 「自分の担当」: GET …/opinions?mine=true."""
        result = answering.assign_opinions(
            self.round, data["opinion_ids"], data["assignee_id"], user=current_user, now=request_now()
        )
        return _bulk_result(result)


class AnswerTemplateSchema(s.Schema):
    id = s.Integer(dump_only=True)
    round_id = s.Integer(dump_only=True)
    name = s.String(required=True, max_length=TEMPLATE_NAME_LENGTH)
    disposition = s.Choice(list(DISPOSITIONS), allow_none=True, load_default=None)
    body = s.String(load_default="", max_length=TEXT_LIMIT, metadata={"description": "本部の考え方"})
    version = s.Integer(metadata={"description": "PUT で渡すと、変わっていれば 409"})


def _template_data(template) -> dict:
    return {
        "id": template.id,
        "round_id": template.round_id,
        "name": template.name,
        "disposition": template.disposition,
        "body": template.body,
        "version": template.version,
    }


@blp.route("/rounds/<id:round_id>/answer-templates")
class AnswerTemplates(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.response(200, AnswerTemplateSchema(many=True))
    def get(self, round_id):
        """The round's 定型文, by name."""
        return [_template_data(t) for t in answering.round_templates(self.round.id)]

    @blp.arguments(AnswerTemplateSchema)
    @blp.response(201, AnswerTemplateSchema)
    def post(self, data, round_id):
        """A new 定型文; its name is unique within the round (422 otherwise)."""
        template = answering.create_template(
            self.round, data["name"], data["disposition"], data["body"], user=current_user, now=request_now()
        )
        return _template_data(template)


@blp.route("/rounds/<id:round_id>/answer-templates/<id:template_id>")
class AnswerTemplateResource(api.Resource):
    def load(self, round_id, template_id):
        self.round = managed_round(round_id)
        self.template = api.found(answering.template_of_round(self.round.id, template_id))

    @blp.response(200, AnswerTemplateSchema)
    def get(self, round_id, template_id):
        """One 定型文."""
        return _template_data(self.template)

    @blp.arguments(AnswerTemplateSchema)
    @blp.response(200, AnswerTemplateSchema)
    def put(self, data, round_id, template_id):
        """Change a 定型文; with a stale `version` it answers 409."""
        answering.update_template(
            self.template,
            data["name"],
            data["disposition"],
            data["body"],
            user=current_user,
            now=request_now(),
            expected_version=data.get("version"),
        )
        return _template_data(self.template)

    @blp.response(204)
    def delete(self, round_id, template_id):
        """Remove a 定型文; answers written with it keep their text."""
        answering.delete_template(self.template, user=current_user, now=request_now())


from consult.review import group_api  # noqa: E402, F401  (kept groups: their routes join this blueprint)
