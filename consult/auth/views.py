"""Login, logout, password change, and the admin's user list."""

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from consult.auth import throttle
from consult.auth.forms import ActiveForm, LoginForm, PasswordForm, ResetPasswordForm, UserForm
from consult.auth.models import User
from consult.auth.operations import (
    LoginRefused,
    UserError,
    change_password,
    create_user,
    find_login,
    log_in,
    log_out,
    note_throttled,
    reset_password,
    set_active,
)
from consult.core.clock import request_now
from consult.core.convert import parse_id
from consult.core.text import clean
from consult.core.transaction import refused
from consult.core.urls import safe_next
from consult.extensions import db, login_manager
from consult.orgs.models import Organization

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("ログインしてください。")
login_manager.localize_callback = str  # translated when flashed, in the request's language
login_manager.login_message_category = "info"


@login_manager.user_loader
def load_user(key: str) -> User | None:
    """Sessions carry id and token; a changed token means the session is over."""
    user_id, _colon, token = key.partition(":")
    user_id = parse_id(user_id)
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_token != token:
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "POST":
        typed = clean(request.form.get("login") or "")[:64]  # never a NUL into a query (PostgreSQL refuses it)
        account = find_login(typed) if typed.strip() else None
        attempt = throttle.attempt_of(typed, getattr(account, "id", None))
        wait = throttle.blocked(attempt)
        if wait is not None:
            return _throttled(typed, wait)
    if form.validate_on_submit():
        now = request_now()
        try:
            user = log_in(form.login.data, form.password.data, now)
        except LoginRefused as exc:  # keeps_changes: the audit line of the failure is committed
            form.password.errors.append(refused(exc))
            for limit in throttle.failed(attempt):  # a right password never counts
                note_throttled(attempt.login, account, attempt.address, limit, throttle.limit_text(limit), now=now)
        else:
            login_user(user, remember=True)
            response = redirect(safe_next(request.args.get("next"), url_for("main.index")))
            throttle.remember_device(response, user.id)
            return response
    return render_template("auth/login.html", form=form)


def _throttled(typed: str, wait: int):
    """The login page again, with the typed id kept, the reason, and 429 (nothing is counted or written)."""
    form = LoginForm(formdata=None, login=typed)
    response = make_response(render_template("auth/login.html", form=form, throttled=throttle.THROTTLED_MESSAGE))
    response.status_code = 429
    response.headers["Retry-After"] = str(wait)
    return response


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        log_out(current_user, request_now())
    logout_user()
    flash(_("ログアウトしました。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        if change_password(current_user, form.current.data, form.new.data, now=request_now()):
            login_user(current_user._get_current_object(), remember=True)
            flash(_("パスワードを変更しました。他の端末のログインは解除されました。"), "success")
            return redirect(url_for("main.index"))
        form.current.errors.append(_("現在のパスワードが違います。"))
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
            create_user(
                form.login.data.strip(),
                form.name.data.strip(),
                form.password.data,
                form.role.data,
                db.session.get(Organization, form.organization_id.data),
                form.email.data,
                admin=current_user,
                now=request_now(),
            )
        except UserError as exc:
            form.login.errors.append(refused(exc))
        else:
            flash(_("利用者を登録しました。"), "success")
            return redirect(url_for("auth.users"))
    return _users_page(form)


def _users_page(form: UserForm, errors: dict[int, str] | None = None, status: int = 200):
    """The user list with the registration form; `errors` puts a refused reset or disable next to its row."""
    people = db.session.scalars(
        select(User).options(selectinload(User.organization)).order_by(User.organization_id, User.login)
    ).all()
    return render_template(
        "auth/users.html",
        form=form,
        users=people,
        errors=errors or {},
        reset_form=ResetPasswordForm(formdata=None),
        active_form=ActiveForm(formdata=None),
    ), status


def _admin_target() -> User:
    """The user named by the form's user_id; only an admin gets this far."""
    if not current_user.is_admin:
        abort(403)
    user_id = parse_id(request.form.get("user_id"))
    if user_id is None:
        abort(404)
    return db.get_or_404(User, user_id)


def _empty_user_form() -> UserForm:
    form = UserForm(formdata=None)
    orgs = db.session.scalars(select(Organization).order_by(Organization.position, Organization.id)).all()
    form.organization_id.choices = [(o.id, o.name) for o in orgs]
    return form


@bp.route("/admin/users/password", methods=["POST"])
@login_required
def reset_user_password():
    """Set a new password for someone who forgot theirs; shown once, and their sessions end."""
    target = _admin_target()
    form = ResetPasswordForm()
    if not form.validate():
        return _users_page(_empty_user_form(), {target.id: " ".join(form.password.errors)})
    try:
        password = reset_password(target, current_user, form.password.data or None, now=request_now())
    except UserError as exc:  # e.g. only blanks typed: told next to the row, nothing changed
        return _users_page(_empty_user_form(), {target.id: refused(exc)})
    if target.id == current_user.id:
        login_user(target, remember=True)
    response = make_response(
        render_template("auth/password_reset.html", user=target, password=password, generated=not form.password.data)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/admin/users/active", methods=["POST"])
@login_required
def set_user_active():
    """Disable an account (its sessions end at once) or enable it again."""
    target = _admin_target()
    form = ActiveForm()
    if not form.validate():
        abort(400)
    try:
        set_active(target, current_user, form.active.data == "1", now=request_now())
    except UserError as exc:
        return _users_page(_empty_user_form(), {target.id: refused(exc)})
    if target.active:
        flash(_("%(name)s（%(login)s）を有効にしました。", name=target.name, login=target.login), "success")
    else:
        flash(_("%(name)s（%(login)s）を利用停止にしました。", name=target.name, login=target.login), "success")
    return redirect(url_for("auth.users"))
