"""Login and logout for officers, officials and P3MI staff."""

from __future__ import annotations

import datetime as dt
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from pengesahan.extensions import login_manager
from pengesahan.records import audit
from pengesahan.records.base import now
from pengesahan.records.people import User

bp = Blueprint("auth", __name__)

#: After this many failed attempts the account is locked for LOCK_MINUTES.
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15

OFFICE_ROLES = frozenset({"admin", "pelaksana", "kabid", "sekdis", "kadin"})


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Silakan masuk terlebih dahulu."
    login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str):
    user = User.get_or_none(User.id == int(user_id))
    return user if user and user.active else None


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


@bp.route("/masuk", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = User.get_or_none(User.username == form.username.data.strip())
        moment = now()
        if user and user.locked_until and user.locked_until > moment:
            flash("Akun dikunci sementara karena terlalu banyak percobaan gagal. Coba lagi nanti.", "error")
            status = 429
        elif user and user.active and user.check_password(form.password.data):
            User.update(failed_logins=0, locked_until=None).where(User.id == user.id).execute()
            login_user(user)
            audit.record(user.username, "auth.login", f"user:{user.id}")
            return redirect(_safe_next(request.args.get("next")) or url_for("admin.index"))
        else:
            if user:
                failures = user.failed_logins + 1
                locked = moment + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILED_LOGINS else None
                User.update(failed_logins=0 if locked else failures, locked_until=locked).where(
                    User.id == user.id).execute()
                if locked:
                    audit.record(user.username, "auth.locked", f"user:{user.id}")
            flash("Nama pengguna atau kata sandi salah.", "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/keluar", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.record(current_user.username, "auth.logout", f"user:{current_user.id}")
    logout_user()
    flash("Anda telah keluar.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/")
def home():
    return redirect(url_for("admin.index") if current_user.is_authenticated else url_for("auth.login"))


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
