"""The API's users: who am I, my personal tokens, and the admin's user list; and how a bearer token is read."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from marshmallow import validate
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.auth import operations as accounts
from consult.auth.models import EMAIL_LENGTH, LOGIN_LENGTH, NAME_LENGTH, ROLE_LABELS, ApiToken, User
from consult.core import api
from consult.core.api import schemas as s
from consult.core.clock import request_now
from consult.extensions import db
from consult.orgs.models import Organization

blp = api.blueprint("auth", "利用者: 自分（/me）、個人用 API トークン、利用者の一覧と登録（本部管理者）")


@api.token_loader
def load_token(token: str, now):
    """A token acts as its user; its use is noted after the request, at most once a minute."""
    try:
        user, row = accounts.token_user(token, now)
    except accounts.TokenRefused as exc:
        raise api.Unauthenticated(str(exc)) from exc
    token_id = row.id
    note = (lambda: accounts.note_token_use(token_id, now)) if accounts.token_use_due(row, now) else None
    return user, note


# ---------------------------------------------------------------- schemas


class OrganizationRefSchema(s.Schema):
    id = s.Integer(required=True)
    code = s.String(required=True)
    name = s.String(required=True)
    kind = s.String(required=True)
    parent_id = s.Integer(allow_none=True, required=True)


class UserSchema(s.Schema):
    id = s.Integer(required=True)
    login = s.String(required=True)
    name = s.String(required=True)
    email = s.String(allow_none=True, required=True)
    role = s.Choice(list(ROLE_LABELS), required=True, metadata={"description": "admin, staff（本部）, member（支部）"})
    role_label = s.String(required=True)
    organization_id = s.Integer(required=True)
    active = s.Boolean(required=True)


class MeSchema(UserSchema):
    organization = s.Nested(OrganizationRefSchema, required=True)


class NewUserSchema(s.Schema):
    login = s.String(
        required=True,
        max_length=LOGIN_LENGTH,
        validate=validate.Regexp(
            accounts.LOGIN_PATTERN, error=_l("ログインIDは64文字以内の半角英数字と . _ @ - で入力してください。")
        ),
    )
    name = s.String(required=True, max_length=NAME_LENGTH, blank=False, strip=True)
    email = s.String(max_length=EMAIL_LENGTH, load_default="")
    role = s.Choice(list(ROLE_LABELS), required=True)
    organization_id = s.Id(required=True)
    password = s.String(
        required=True,
        max_length=200,
        validate=validate.Length(min=accounts.MIN_PASSWORD, error=_l("パスワードは{min}文字以上にしてください。")),
    )


class UserChangeSchema(s.Schema):
    active = s.Boolean(required=True, metadata={"description": "false で利用停止（トークンもすべて使えなくなる）"})


class TokenSchema(s.Schema):
    id = s.Integer(required=True)
    name = s.String(required=True)
    prefix = s.String(required=True, metadata={"description": "トークンの先頭（見分けるため。残りは保存していない）"})
    created_at = s.Time(required=True)
    last_used_at = s.Time(allow_none=True, required=True)
    revoked_at = s.Time(allow_none=True, required=True)


class NewTokenSchema(s.Schema):
    name = s.String(required=True, max_length=accounts.TOKEN_NAME_MAX, blank=False, strip=True)


class CreatedTokenSchema(TokenSchema):
    token = s.String(required=True, metadata={"description": "トークン本体。この応答でしか見られません"})


def _user(user: User) -> dict:
    return {
        "id": user.id,
        "login": user.login,
        "name": user.name,
        "email": user.email,
        "role": user.role,
        "role_label": user.role_label,
        "organization_id": user.organization_id,
        "active": user.active,
    }


# ---------------------------------------------------------------- me and my tokens


@blp.route("/me")
class Me(api.Resource):
    @blp.response(200, MeSchema)
    def get(self):
        """The user the token acts as, with the organisation and role the API's rules use."""
        org = current_user.organization
        return {
            **_user(current_user),
            "organization": {
                "id": org.id,
                "code": org.code,
                "name": org.name,
                "kind": org.kind,
                "parent_id": org.parent_id,
            },
        }


@blp.route("/me/tokens")
class MyTokens(api.Resource):
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """My personal API tokens (the tokens themselves are not stored; `prefix` tells them apart)."""
        return accounts.user_tokens(current_user)

    @blp.arguments(NewTokenSchema)
    @blp.response(201, CreatedTokenSchema)
    def post(self, data):
        """Create a token for myself; `token` is shown in this answer only."""
        row, token = accounts.create_token(current_user, data["name"], now=request_now())
        fields = ("id", "name", "prefix", "created_at", "last_used_at", "revoked_at")
        return {**{name: getattr(row, name) for name in fields}, "token": token}


@blp.route("/me/tokens/<id:token_id>")
class MyToken(api.Resource):
    def load(self, token_id):
        self.token = api.found(db.session.get(ApiToken, token_id), lambda t: t.user_id == current_user.id)

    @blp.response(200, TokenSchema)
    def delete(self, token_id):
        """Revoke one of my tokens (also the one this request uses); it stays listed, revoked."""
        accounts.revoke_token(self.token, user=current_user, now=request_now())
        return self.token


# ---------------------------------------------------------------- users (headquarters' admins)


def _admin_only() -> None:
    api.require(current_user.is_admin)


@blp.route("/users")
class Users(api.Resource):
    def load(self):
        _admin_only()

    @blp.response(200, UserSchema(many=True))
    def get(self):
        """Every user, by organisation and login (HQ admins only)."""
        stmt = select(User).options(selectinload(User.organization)).order_by(User.organization_id, User.login)
        return [_user(user) for user in db.session.scalars(stmt)]

    @blp.arguments(NewUserSchema)
    @blp.response(201, UserSchema)
    def post(self, data):
        """Register a user, as on the user page (HQ admins only)."""
        organization = db.session.get(Organization, data["organization_id"])
        if organization is None:
            api.invalid("organization_id", _("この ID の組織はありません。"))
        user = accounts.create_user(
            data["login"],
            data["name"],
            data["password"],
            data["role"],
            organization,
            data["email"] or None,
            admin=current_user,
            now=request_now(),
        )
        return _user(user)


@blp.route("/users/<id:user_id>")
class UserResource(api.Resource):
    def load(self, user_id):
        _admin_only()
        self.user = api.found(db.session.get(User, user_id))

    @blp.response(200, UserSchema)
    def get(self, user_id):
        """One user (HQ admins only)."""
        return _user(self.user)

    @blp.arguments(UserChangeSchema)
    @blp.response(200, UserSchema)
    def patch(self, data, user_id):
        """Disable a user (their sessions and tokens stop working at once) or enable them again."""
        accounts.set_active(self.user, current_user, data["active"], now=request_now())
        return _user(self.user)
