"""Notices in the API: my notices (the inbox), marking them read, my preferences, and the reminder button."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from consult.core import api
from consult.core.api import schemas as s
from consult.core.clock import request_now
from consult.extensions import db
from consult.notify import operations as ops
from consult.notify.models import KINDS, STATUS_LABELS, Notice
from consult.rounds.api import managed_round

blp = api.blueprint("notify", "通知: 自分の通知（受信箱）、既読、メールで受け取る通知の設定、未提出の組織への督促")


class NoticeSchema(s.Schema):
    id = s.Integer(required=True)
    kind = s.Choice(list(KINDS), required=True)
    kind_label = s.String(required=True)
    round_id = s.Integer(allow_none=True, required=True)
    subject = s.String(required=True)
    body = s.String(required=True)
    link = s.String(required=True, metadata={"description": "画面のパス（BASE_URL の後に付ける）"})
    created_at = s.Time(required=True)
    read_at = s.Time(allow_none=True, required=True)
    email_status = s.Choice(list(STATUS_LABELS), required=True, metadata={"description": "inbox: メールなし"})


class NoticeFilters(s.PageArgs):
    unread = s.Boolean(metadata={"description": "true: 未読だけ"})


class ReadSchema(s.Schema):
    ids = s.List(s.Id(), max_items=500, metadata={"description": "既読にする通知の id（省略するとすべての未読）"})


class ReadResultSchema(s.Schema):
    marked = s.Integer(required=True)
    unread = s.Integer(required=True)


PreferencesSchema = s.Schema.from_dict(
    {
        kind: s.Boolean(metadata={"description": f"{label}: true ならメールでも受け取る"})
        for kind, label in KINDS.items()
    },
    name="NoticePreferencesSchema",
)


class RemindSchema(s.Schema):
    preview = s.Boolean(load_default=False, metadata={"description": "true: 送らずに宛先だけ返す（確認用）"})


class RecipientSchema(s.Schema):
    organization_id = s.Integer(allow_none=True, required=True)
    user_id = s.Integer(allow_none=True, required=True, metadata={"description": "組織の連絡先アドレスでは null"})
    name = s.String(required=True)
    email = s.String(allow_none=True, required=True, metadata={"description": "null: 受信箱だけに届く"})


class RemindResultSchema(s.Schema):
    organization_ids = s.List(s.Integer(), required=True)
    recipients = s.List(s.Nested(RecipientSchema), required=True)


def _notice_data(notice: Notice) -> dict:
    return {
        "id": notice.id,
        "kind": notice.kind,
        "kind_label": str(notice.kind_label),
        "round_id": notice.round_id,
        "subject": notice.subject,
        "body": notice.body,
        "link": notice.link,
        "created_at": notice.created_at,
        "read_at": notice.read_at,
        "email_status": notice.status,
    }


@blp.route("/notices")
class Notices(api.Resource):
    @blp.arguments(NoticeFilters, location="query")
    @blp.response(200, s.page_of(NoticeSchema))
    def get(self, args):
        """My notices, oldest first (the inbox of the page, the same rows)."""
        try:
            after = s.decode_cursor(args.get("cursor"))
        except s.CursorError:
            api.invalid("cursor", _("カーソルが正しくありません。前のページの next_cursor をそのまま渡してください。"))
        stmt = select(Notice).where(Notice.user_id == current_user.id, Notice.id > after)
        if args.get("unread"):
            stmt = stmt.where(Notice.read_at.is_(None))
        rows = list(db.session.scalars(stmt.order_by(Notice.id).limit(args["limit"] + 1)))
        more = len(rows) > args["limit"]
        rows = rows[: args["limit"]]
        return {"items": [_notice_data(n) for n in rows], "next_cursor": s.encode_cursor(rows[-1].id) if more else None}


@blp.route("/notices/read")
class ReadNotices(api.Resource):
    @blp.arguments(ReadSchema)
    @blp.response(200, ReadResultSchema)
    def post(self, body):
        """Mark my notices read: the ids given, or every unread one."""
        from consult.notify.queries import unread_count

        marked = ops.mark_read(current_user, body.get("ids"), request_now())
        return {"marked": marked, "unread": unread_count(current_user)}


@blp.route("/me/notice-preferences")
class Preferences(api.Resource):
    @blp.response(200, PreferencesSchema)
    def get(self):
        """For each kind of notice: true when it also comes by e-mail, false for the inbox only."""
        return ops.preferences_of(current_user)

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def put(self, body):
        """Change the kinds given; the others stay as they are."""
        return ops.set_preferences(current_user, body)


@blp.route("/rounds/<id:round_id>/remind")
class Remind(api.Resource):
    def load(self, round_id):
        self.round = managed_round(round_id)

    @blp.arguments(RemindSchema)
    @blp.response(200, RemindResultSchema)
    def post(self, body, round_id):
        """「未提出の組織に督促する」: a reminder now to every target that has neither submitted nor answered
        「意見なし」; returns the organisations and the recipients (users and contact addresses). With
        {"preview": true} nothing is sent: the same answer says who would get it."""
        if body["preview"]:
            recipients = ops.remind_preview(self.round)[1]
        else:
            recipients = ops.remind_now(self.round, user=current_user, now=request_now())
        return {
            "organization_ids": sorted({r.organization_id for r in recipients if r.organization_id}),
            "recipients": [
                {"organization_id": r.organization_id, "user_id": r.user_id, "name": r.name, "email": r.address}
                for r in recipients
            ],
        }
