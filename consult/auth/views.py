"""Login, logout, password change, and the admin's user list."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from consult.auth.forms import LoginForm, PasswordForm, UserForm
from consult.auth.models import User
from consult.auth.operations import UserError, authenticate, change_password, create_user
from consult.extensions import db, login_manager
from consult.orgs.models import Organization

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = "ログインしてください。"
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(key: str) -> User | None:
    """Sessions carry id and token; a changed token means the session is over."""
    user_id, _, token = key.partition(":")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_token != token:
        return None
    return user


def _safe_next(target: str | None) -> str:
    """Only follow a local path after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.login.data, form.password.data)
        if user is None:
            form.password.errors.append("ログインIDまたはパスワードが違います。")
        else:
            login_user(user, remember=True)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("ログアウトしました。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        if change_password(current_user, form.current.data, form.new.data):
            db.session.commit()
            login_user(current_user._get_current_object(), remember=True)
            flash("パスワードを変更しました。他の端末のログインは解除されました。", "success")
            return redirect(url_for("main.index"))
        form.current.errors.append("現在のパスワードが違います。")
    return render_template("auth/password.html", form=form)


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def users():
    if not current_user.is_admin:
        abort(403)
    form = UserForm()
    orgs = db.session.scalars(select(Organization).order_by(Organization.position, Organization.id)).all()
    form.organization_id.choices = [(o.id, o.name) for o in orgs]
    if form.validate_on_submit():
        try:
            create_user(form.login.data.strip(), form.name.data.strip(), form.password.data, form.role.data,
                        db.session.get(Organization, form.organization_id.data), form.email.data)
        except UserError as exc:
            form.login.errors.append(str(exc))
        else:
            db.session.commit()
            flash("利用者を登録しました。", "success")
            return redirect(url_for("auth.users"))
    people = db.session.scalars(select(User).order_by(User.organization_id, User.login)).all()
    return render_template("auth/users.html", form=form, users=people)
