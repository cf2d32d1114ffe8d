"""Login and logout for officers, officials and P3MI staff."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from pengesahan.errors import ServiceError
from pengesahan.extensions import login_manager
from pengesahan.services import accounts

bp = Blueprint("auth", __name__)

OFFICE_ROLES = frozenset({"admin", "pelaksana", "kabid", "sekdis", "kadin"})


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Silakan masuk terlebih dahulu."
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(session_id: str):
    # The session id carries the user's session generation: logout, a password change or an
    # administrator's "end sessions" raise it, and every older session stops loading here.
    return accounts.session_user(session_id)


class LoginForm(FlaskForm):
    username = StringField("Nama pengguna", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Kata sandi", validators=[DataRequired(), Length(max=200)])


def _safe_next(target: str | None) -> str | None:
    # Only local paths: an absolute or scheme-relative URL would be an open redirect.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _home_of(user) -> str:
    """Where a user starts: P3MI staff in their portal, the office in the admin."""
    return url_for("portal.index") if user.role == "p3mi" else url_for("admin.index")


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_home_of(current_user))
    form = LoginForm()
    status, retry_after = 200, None
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.username.data, form.password.data, request.remote_addr or "")
        except ServiceError as exc:
            # A throttled login says how long to wait ("Coba lagi dalam 15 detik."), to people
            # and, through Retry-After, to browsers and scripts.
            flash(exc.message, "error")
            status, retry_after = exc.status, exc.details.get("retry_after")
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or _home_of(user))
    elif request.method == "POST":
        flash("Isi nama pengguna dan kata sandi.", "error")
        status = 400
    response = make_response(render_template("auth/login.html", form=form), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/keluar", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        # Ends this session and every copy of its cookie, on every device.
        accounts.end_sessions(current_user._get_current_object(), actor=None, reason="auth.logout")
    logout_user()
    flash("Anda telah keluar.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def home():
    return redirect(_home_of(current_user) if current_user.is_authenticated else url_for("auth.login"))


def roles_required(*roles: str):
    """Allow the view only to logged-in users holding one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
