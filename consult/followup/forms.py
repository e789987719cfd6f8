"""Forms of the follow-up pages: Japanese messages next to the field, the typed text kept on a refusal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from consult.core.forms import (
    BoundedDateField,
    CleanTextForm,
    IdSelectField,
    JSTDateTimeField,
    MaxChars,
    VersionedForm,
    options,
)
from consult.followup.models import (
    ANSWER_TEXT_LIMIT,
    LABELS_LIMIT,
    NOTES_LIMIT,
    PEOPLE_LIMIT,
    PLACE_LENGTH,
    REASON_LIMIT,
    SCALES,
    VISIT_STATUSES,
)
from consult.letters.models import TITLE_LENGTH


class VisitForm(VersionedForm):
    addressee_id = IdSelectField(_l("要請先"), message=_l("要請先を一覧から選んでください。"))
    starts_at = JSTDateTimeField(_l("日時"), validators=[DataRequired(_l("日時を入力してください。"))])
    place = StringField(_l("場所"), validators=[MaxChars(PLACE_LENGTH)])
    status = SelectField(_l("状況"), choices=options(VISIT_STATUSES.items()))
    our_side = TextAreaField(_l("こちらの参加者（1行に1人）"), validators=[MaxChars(PEOPLE_LIMIT)])
    their_side = TextAreaField(_l("先方の応対者（1行に1人、役職も）"), validators=[MaxChars(PEOPLE_LIMIT)])
    answer_expected_on = BoundedDateField(_l("回答の予定日"), validators=[Optional()])
    notes = TextAreaField(_l("メモ"), validators=[MaxChars(NOTES_LIMIT)])


class VisitFileForm(CleanTextForm):
    file = FileField(_l("回答文書（PDF・DOCX）"))


class AnswerForm(VersionedForm):
    text = TextAreaField(_l("回答の内容"), validators=[MaxChars(ANSWER_TEXT_LIMIT)])
    answered_on = BoundedDateField(_l("回答日"), validators=[Optional()])
    grade = SelectField(_l("評価"), choices=[], validate_choice=False)
    reason = TextAreaField(_l("理由"), validators=[MaxChars(REASON_LIMIT)])
    remedy = TextAreaField(_l("改善策"), validators=[MaxChars(REASON_LIMIT)])
    new_exchange = BooleanField(_l("次の回答として残す（今の回答はそのまま残ります）"))
    settled = BooleanField(_l("妥結"))


class ScaleForm(VersionedForm):
    scale = SelectField(_l("評価の区分"), choices=options(SCALES.items()))
    custom_labels = TextAreaField(_l("独自の区分（1行に1つ）"), validators=[MaxChars(LABELS_LIMIT)])


class CarryForm(CleanTextForm):
    grades = SelectMultipleField(_l("引き継ぐ評価"), choices=[], validate_choice=False)
    title = StringField(_l("新しい名称"), validators=[MaxChars(TITLE_LENGTH)])
    into = SelectField(
        _l("引き継ぎ先"),
        choices=options([("campaign", _l("新しい要請行動")), ("round", _l("新しい組織討議の素案"))]),
    )


class IndicatorForm(VersionedForm):
    name = StringField(_l("指標の名前"), validators=[MaxChars(200)])
    unit = StringField(_l("単位"), validators=[MaxChars(20)])
    higher_is_better = BooleanField(_l("大きいほどよい"), default=True)
    values = TextAreaField(_l("年度ごとの目標と実績（1行に「年度 目標 実績」）"), validators=[MaxChars(5_000)])


class OrgIndicatorForm(IndicatorForm):
    organization_id = IdSelectField(_l("組織"), message=_l("組織を一覧から選んでください。"))
