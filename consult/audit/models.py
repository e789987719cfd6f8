"""One line of the audit log per state change, written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consult.auth.models import User
from consult.extensions import db
from consult.types import UTCDateTime

ACTIONS = {
    "login": "ログイン",
    "login_failed": "ログイン失敗",
    "logout": "ログアウト",
    "password_changed": "パスワード変更",
    "password_reset": "パスワード再設定（管理者）",
    "user_created": "利用者の登録",
    "user_disabled": "利用停止",
    "user_enabled": "利用再開",
    "round_created": "討議の作成",
    "round_edited": "討議の編集",
    "round_opened": "受付開始",
    "round_closed": "受付終了",
    "items_added": "項目の追加",
    "item_edited": "項目の修正",
    "item_moved": "項目の並べ替え",
    "item_removed": "項目の削除",
    "targets_changed": "対象組織の変更",
    "attachment_added": "添付ファイルの追加",
    "attachment_removed": "添付ファイルの削除",
    "milestone_added": "日程の追加",
    "milestone_removed": "日程の削除",
    "extension_granted": "締切の延長",
    "answer_save": "回答の一時保存",
    "answer_submit": "回答の提出",
    "answer_no_opinion": "意見なしで提出",
    "answer_withdraw": "提出の取り下げ",
    "answer_late": "締切後の下書き",
    "disposition_set": "対応・本部の考え方の記入",
    "request_link_changed": "要請項目との対応づけ",
    "answers_published": "回答表の公開",
    "answers_unpublished": "回答表の公開取り消し",
    "campaign_created": "要請行動の作成",
    "campaign_edited": "要請行動の編集",
    "campaign_removed": "要請行動の削除",
    "letter_added": "要請書の追加",
    "letter_edited": "要請書の編集",
    "letter_removed": "要請書の削除",
    "request_item_changed": "要請項目の変更",
    "addressee_added": "要請先の追加",
    "addressee_edited": "要請先の編集",
    "addressee_removed": "要請先の削除",
    "template_uploaded": "ひな形の登録",
}

KINDS = {
    "user": "利用者",
    "round": "討議",
    "item": "項目",
    "attachment": "添付ファイル",
    "answer": "回答",
    "opinion": "意見",
    "campaign": "要請行動",
    "letter": "要請書",
    "request_item": "要請項目",
    "addressee": "要請先",
    "template": "ひな形",
}


class AuditEvent(db.Model):
    """Kept when the round, answer or letter it names is deleted, so no foreign keys to them."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_kind: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[int | None] = mapped_column(Integer)
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User | None] = relationship()

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.object_kind, self.object_kind)
