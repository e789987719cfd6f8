"""Login, password and user forms."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from consult.auth.models import EMAIL_LENGTH, LOGIN_LENGTH, NAME_LENGTH, PASSWORD_MAX, PASSWORD_MIN, ROLE_LABELS
from consult.core import faults
from consult.core.forms import CleanTextForm, IdSelectField

_PASSWORD_SHORT = _l("パスワードは%(min)s文字以上にしてください。", min=PASSWORD_MIN)


class LoginForm(CleanTextForm):
    login = StringField(
        _l("ログインID"), validators=[DataRequired(_l("ログインIDを入力してください。")), Length(max=LOGIN_LENGTH)]
    )
    password = PasswordField(_l("パスワード"), validators=[DataRequired(_l("パスワードを入力してください。"))])
    submit = SubmitField(_l("ログイン"))


class PasswordForm(CleanTextForm):
    current = PasswordField(
        _l("現在のパスワード"), validators=[DataRequired(_l("現在のパスワードを入力してください。"))]
    )
    new = PasswordField(
        _l("新しいパスワード"),
        validators=[
            DataRequired(_l("新しいパスワードを入力してください。")),
            Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=_PASSWORD_SHORT),
        ],
    )
    confirm = PasswordField(
        _l("新しいパスワード（確認）"),
        validators=[EqualTo("new", message=_l("確認用のパスワードが一致しません。"))],
    )
    submit = SubmitField(_l("変更する"))


class UserForm(CleanTextForm):
    login = StringField(
        _l("ログインID"),
        validators=[
            DataRequired(_l("ログインIDを入力してください。")),
            Length(max=LOGIN_LENGTH, message=_l("ログインIDは%(max)s文字以内にしてください。", max=LOGIN_LENGTH)),
            Regexp(r"^[A-Za-z0-9._@-]+$", message=_l("ログインIDは半角英数字と . _ @ - で入力してください。")),
        ],
    )
    name = StringField(
        _l("氏名"),
        validators=[
            DataRequired(_l("氏名を入力してください。")),
            Length(max=NAME_LENGTH, message=_l("氏名は%(max)s文字以内です。", max=NAME_LENGTH)),
        ],
    )
    email = StringField(_l("メールアドレス"), validators=[Optional(), Length(max=EMAIL_LENGTH)])
    role = SelectField(_l("役割"), choices=list(ROLE_LABELS.items()))
    organization_id = IdSelectField(_l("所属組織"), message=_l("所属組織を一覧から選んでください。"))
    password = PasswordField(
        _l("初期パスワード"),
        validators=[
            DataRequired(_l("初期パスワードを入力してください。")),
            Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=_PASSWORD_SHORT),
        ],
    )
    submit = SubmitField(_l("登録する"))


class ResetPasswordForm(CleanTextForm):
    password = PasswordField(
        _l("新しいパスワード"),
        validators=[Optional(), Length(min=PASSWORD_MIN, max=PASSWORD_MAX, message=_PASSWORD_SHORT)],
    )
    submit = SubmitField(_l("パスワードを再設定"))


class ActiveForm(CleanTextForm):
    active = SelectField(_l("状態"), choices=[("1", _l("有効")), ("0", _l("停止"))])
    submit = SubmitField(_l("変更する"))


faults.add_field_labels({"login": _l("ログインID")})
