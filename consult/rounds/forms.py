"""Forms of the round pages; every message is Japanese and every typed value survives a refusal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, ValidationError

from consult.core.forms import CleanTextForm, IdListField, MaxChars, VersionedForm
from consult.rounds.models import (
    BACKGROUND_LIMIT,
    BODY_LIMIT,
    EXTENSION_REASON_LIMIT,
    HEADING_LENGTH,
    MEETING_LENGTH,
    NUMBER_LENGTH,
    TITLE_LENGTH,
    WHAT_LIMIT,
)

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
DATETIME_MESSAGE = _l("日時を「2025-03-17 17:00」のように入力してください。")
DATE_MESSAGE = _l("日付を「2025-03-17」のように入力してください。")


class RoundForm(VersionedForm):
    text_fields = ("title", "background")

    title = StringField(
        _l("題名"), validators=[DataRequired(_l("題名を入力してください。")), MaxChars(TITLE_LENGTH, _l("題名"))]
    )
    background = TextAreaField(_l("背景・趣旨"), validators=[MaxChars(BACKGROUND_LIMIT, _l("背景・趣旨"))])
    opens_at = DateTimeLocalField(
        _l("受付開始（日本時間）"),
        format=DATETIME_FORMATS,
        invalid_value_message=DATETIME_MESSAGE,
        validators=[InputRequired(_l("受付開始の日時を入力してください。"))],
    )
    deadline = DateTimeLocalField(
        _l("締切（日本時間）"),
        format=DATETIME_FORMATS,
        invalid_value_message=DATETIME_MESSAGE,
        validators=[InputRequired(_l("締切の日時を入力してください。"))],
    )

    def validate_deadline(self, field) -> None:
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("締切は受付開始より後の日時にしてください。"))


class ItemForm(CleanTextForm):
    text_fields = ("number", "heading", "body")

    number = StringField(
        _l("番号"), validators=[DataRequired(_l("番号を入力してください。")), MaxChars(NUMBER_LENGTH, _l("番号"))]
    )
    heading = StringField(
        _l("見出し"),
        validators=[DataRequired(_l("見出しを入力してください。")), MaxChars(HEADING_LENGTH, _l("見出し"))],
    )
    body = TextAreaField(_l("本文（討議案の文言）"), validators=[MaxChars(BODY_LIMIT, _l("本文"))])


class PasteForm(CleanTextForm):
    text_fields = ("text",)

    text = TextAreaField(
        _l("番号付きの文章を貼り付け"),
        validators=[DataRequired(_l("貼り付ける文章を入力してください。")), MaxChars(2_000_000, _l("貼り付ける文章"))],
    )


class UploadForm(FlaskForm):
    file = FileField(_l("CSV または Excel（XLSX）ファイル"))


class ConfirmImportForm(FlaskForm):
    rows = HiddenField()


class AttachmentForm(FlaskForm):
    file = FileField(_l("討議案のファイル（PDF または Word（DOCX））"))


class MilestoneForm(CleanTextForm):
    text_fields = ("meeting", "what")

    date = DateField(
        _l("日付"), invalid_value_message=DATE_MESSAGE, validators=[InputRequired(_l("日付を入力してください。"))]
    )
    meeting = StringField(
        _l("会議など"),
        validators=[DataRequired(_l("会議名などを入力してください。")), MaxChars(MEETING_LENGTH, _l("会議名"))],
    )
    what = TextAreaField(_l("内容"), validators=[MaxChars(WHAT_LIMIT, _l("内容"))])


class TargetsForm(FlaskForm):
    all_prefectures = BooleanField(_l("全県本部（すべての県本部を対象にする）"))
    org = IdListField()  # the organisations ticked in the tree


class OrgSelectField(SelectField):
    """A select of organisation ids whose refusals are in Japanese."""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = int(valuelist[0]) if valuelist[0].isdigit() else None

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(_l("対象組織の中から選んでください。"))


class ExtensionForm(CleanTextForm):
    text_fields = ("reason",)

    organization_id = OrgSelectField(_l("組織"), coerce=int)
    until = DateTimeLocalField(
        _l("延長後の締切（日本時間）"),
        format=DATETIME_FORMATS,
        invalid_value_message=DATETIME_MESSAGE,
        validators=[InputRequired(_l("延長後の締切の日時を入力してください。"))],
    )
    reason = TextAreaField(
        _l("延長の理由"),
        validators=[
            DataRequired(_l("延長の理由を入力してください。")),
            MaxChars(EXTENSION_REASON_LIMIT, _l("延長の理由")),
        ],
    )
