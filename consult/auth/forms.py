"""Login, password and user forms."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from consult.auth.models import ROLE_LABELS
from consult.core import faults
from consult.core.forms import Form, IdSelectField


class LoginForm(Form):
    login = StringField(
        _l("ログインID"), validators=[DataRequired(_l("ログインIDを入力してください。")), Length(max=64)]
    )
    password = PasswordField(_l("パスワード"), validators=[DataRequired(_l("パスワードを入力してください。"))])
    submit = SubmitField(_l("ログイン"))


class PasswordForm(Form):
    current = PasswordField(
        _l("現在のパスワード"), validators=[DataRequired(_l("現在のパスワードを入力してください。"))]
    )
    new = PasswordField(
        _l("新しいパスワード"),
        validators=[
            DataRequired(_l("新しいパスワードを入力してください。")),
            Length(min=8, max=200, message=_l("パスワードは8文字以上にしてください。")),
        ],
    )
    confirm = PasswordField(
        _l("新しいパスワード（確認）"),
        validators=[EqualTo("new", message=_l("確認用のパスワードが一致しません。"))],
    )
    submit = SubmitField(_l("変更する"))


class UserForm(Form):
    login = StringField(
        _l("ログインID"),
        validators=[
            DataRequired(_l("ログインIDを入力してください。")),
            Length(max=64, message=_l("ログインIDは64文字以内にしてください。")),
            Regexp(r"^[A-Za-z0-9._@-]+$", message=_l("ログインIDは半角英数字と . _ @ - で入力してください。")),
        ],
    )
    name = StringField(
        _l("氏名"),
        validators=[
            DataRequired(_l("氏名を入力してください。")),
            Length(max=100, message=_l("氏名は100文字以内です。")),
        ],
    )
    email = StringField(_l("メールアドレス"), validators=[Optional(), Length(max=200)])
    role = SelectField(_l("役割"), choices=list(ROLE_LABELS.items()))
    organization_id = IdSelectField(_l("所属組織"), message=_l("所属組織を一覧から選んでください。"))
    password = PasswordField(
        _l("初期パスワード"),
        validators=[
            DataRequired(_l("初期パスワードを入力してください。")),
            Length(min=8, max=200, message=_l("パスワードは8文字以上にしてください。")),
        ],
    )
    submit = SubmitField(_l("登録する"))


class ResetPasswordForm(Form):
    password = PasswordField(
        _l("新しいパスワード"),
        validators=[Optional(), Length(min=8, max=200, message=_l("パスワードは8文字以上にしてください。"))],
    )
    submit = SubmitField(_l("パスワードを再設定"))


class ActiveForm(Form):
    active = SelectField(_l("状態"), choices=[("1", _l("有効")), ("0", _l("停止"))])
    submit = SubmitField(_l("変更する"))


faults.add_field_labels({"login": "ログインID"})
