"""Forms of the round pages; every message is Japanese and every typed value survives a refusal."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, ValidationError

from consult.core.forms import (
    BoundedDateField,
    CleanTextForm,
    IdListField,
    IdSelectField,
    JSTDateTimeField,
    MaxChars,
    VersionedForm,
)
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


class RoundForm(VersionedForm):
    title = StringField(
        _l("題名"), validators=[DataRequired(_l("題名を入力してください。")), MaxChars(TITLE_LENGTH, _l("題名"))]
    )
    background = TextAreaField(_l("背景・趣旨"), validators=[MaxChars(BACKGROUND_LIMIT, _l("背景・趣旨"))])
    opens_at = JSTDateTimeField(
        _l("受付開始（日本時間）"),
        validators=[InputRequired(_l("受付開始の日時を入力してください。"))],
    )
    deadline = JSTDateTimeField(
        _l("締切（日本時間）"),
        validators=[InputRequired(_l("締切の日時を入力してください。"))],
    )

    confirm_past_deadline = BooleanField(_l("締切を過去の日時にします（受付はすぐに締切経過になります）"))

    def validate_deadline(self, field) -> None:
        if self.opens_at.data and field.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("締切は受付開始より後の日時にしてください。"))


class ItemForm(CleanTextForm):
    number = StringField(
        _l("番号"), validators=[DataRequired(_l("番号を入力してください。")), MaxChars(NUMBER_LENGTH, _l("番号"))]
    )
    heading = StringField(
        _l("見出し"),
        validators=[DataRequired(_l("見出しを入力してください。")), MaxChars(HEADING_LENGTH, _l("見出し"))],
    )
    body = TextAreaField(_l("本文（討議案の文言）"), validators=[MaxChars(BODY_LIMIT, _l("本文"))])


class PasteForm(CleanTextForm):
    text = TextAreaField(
        _l("番号付きの文章を貼り付け"),
        validators=[DataRequired(_l("貼り付ける文章を入力してください。")), MaxChars(2_000_000, _l("貼り付ける文章"))],
    )


class UploadForm(CleanTextForm):
    file = FileField(_l("CSV または Excel（XLSX）ファイル"))


class ConfirmImportForm(CleanTextForm):
    rows = HiddenField()


class AttachmentForm(CleanTextForm):
    file = FileField(_l("討議案のファイル（PDF または Word（DOCX））"))


class MilestoneForm(CleanTextForm):
    date = BoundedDateField(_l("日付"), validators=[InputRequired(_l("日付を入力してください。"))])
    meeting = StringField(
        _l("会議など"),
        validators=[DataRequired(_l("会議名などを入力してください。")), MaxChars(MEETING_LENGTH, _l("会議名"))],
    )
    what = TextAreaField(_l("内容"), validators=[MaxChars(WHAT_LIMIT, _l("内容"))])


class TargetsForm(CleanTextForm):
    all_prefectures = BooleanField(_l("全県本部（すべての県本部を対象にする）"))
    org = IdListField()  # the organisations ticked in the tree


class ExtensionForm(CleanTextForm):
    organization_id = IdSelectField(_l("組織"), message=_l("対象組織の中から選んでください。"))
    until = JSTDateTimeField(
        _l("延長後の締切（日本時間）"),
        validators=[InputRequired(_l("延長後の締切の日時を入力してください。"))],
    )
    reason = TextAreaField(
        _l("延長の理由"),
        validators=[
            DataRequired(_l("延長の理由を入力してください。")),
            MaxChars(EXTENSION_REASON_LIMIT, _l("延長の理由")),
        ],
    )


class SubroundForm(CleanTextForm):
    """A prefecture opens its own discussion on a round put to it (issue 10)."""

    deadline = JSTDateTimeField(
        _l("県内の締切（日本時間）"),
        validators=[InputRequired(_l("県内の締切の日時を入力してください。"))],
    )
    background = TextAreaField(_l("県本部からの説明"), validators=[MaxChars(BACKGROUND_LIMIT, _l("県本部からの説明"))])
    org = IdListField()  # the organisations beneath the prefecture ticked; none ticked: all its local unions
