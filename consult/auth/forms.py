"""Login, password and user forms."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from consult.auth.models import ROLE_LABELS


class LoginForm(FlaskForm):
    login = StringField("ログインID", validators=[DataRequired("ログインIDを入力してください。"), Length(max=64)])
    password = PasswordField("パスワード", validators=[DataRequired("パスワードを入力してください。")])
    submit = SubmitField("ログイン")


class PasswordForm(FlaskForm):
    current = PasswordField("現在のパスワード", validators=[DataRequired("現在のパスワードを入力してください。")])
    new = PasswordField(
        "新しいパスワード",
        validators=[
            DataRequired("新しいパスワードを入力してください。"),
            Length(min=8, max=200, message="パスワードは8文字以上にしてください。"),
        ],
    )
    confirm = PasswordField(
        "新しいパスワード（確認）",
        validators=[EqualTo("new", message="確認用のパスワードが一致しません。")],
    )
    submit = SubmitField("変更する")


class UserForm(FlaskForm):
    login = StringField(
        "ログインID",
        validators=[
            DataRequired("ログインIDを入力してください。"),
            Length(max=64, message="ログインIDは64文字以内にしてください。"),
            Regexp(r"^[A-Za-z0-9._@-]+$", message="ログインIDは半角英数字と . _ @ - で入力してください。"),
        ],
    )
    name = StringField(
        "氏名",
        validators=[DataRequired("氏名を入力してください。"), Length(max=100, message="氏名は100文字以内です。")],
    )
    email = StringField("メールアドレス", validators=[Optional(), Length(max=200)])
    role = SelectField("役割", choices=list(ROLE_LABELS.items()))
    organization_id = SelectField("所属組織", coerce=int)
    password = PasswordField(
        "初期パスワード",
        validators=[
            DataRequired("初期パスワードを入力してください。"),
            Length(min=8, max=200, message="パスワードは8文字以上にしてください。"),
        ],
    )
    submit = SubmitField("登録する")


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "新しいパスワード",
        validators=[Optional(), Length(min=8, max=200, message="パスワードは8文字以上にしてください。")],
    )
    submit = SubmitField("パスワードを再設定")


class ActiveForm(FlaskForm):
    active = SelectField("状態", choices=[("1", "有効"), ("0", "停止")])
    submit = SubmitField("変更する")
