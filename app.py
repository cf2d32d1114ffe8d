"""The application factory. ``flask --app app ...`` finds ``app`` (or ``create_app``)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import peewee
from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from config import Settings, load_settings
from errors import ServiceError, Unavailable

csrf = CSRFProtect()


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    """Build the web application: settings, database, queue, login, admin, blueprints."""
    settings = settings or load_settings()
    app = Flask(__name__)
    # Record ids are 64-bit: a larger number in a URL is simply not found, never handed to
    # the database (SQLite raises OverflowError on it).
    app.url_map.converters["int"] = RecordIdConverter
    app.config.from_mapping(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=6 * 1024 * 1024,  # 5 MB files plus form overhead; 413 past it
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
    )
    if test_config:
        app.config.update(test_config)

    import records
    import web.api
    import web.auth
    import web.files
    import web.verify
    from admin import init_admin

    records.init_app(app)
    csrf.init_app(app)
    web.auth.init_app(app)
    app.register_blueprint(web.auth.bp)
    app.register_blueprint(web.files.bp)
    app.register_blueprint(web.verify.bp)
    web.api.init_app(app)
    csrf.exempt(web.api.bp)
    init_admin(app)

    import cli

    cli.init_app(app)
    _register_time_filter(app, settings.office_timezone)
    _register_error_handlers(app)
    _register_security_headers(app)
    return app


class RecordIdConverter(IntegerConverter):
    """``<int:...>`` limited to the range of a database id."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)


_ZONE_NAMES = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}


def _register_time_filter(app: Flask, timezone: str) -> None:
    """``{{ moment|waktu }}``: a stored UTC time shown in the office's zone, e.g. 24-11-2026 09:41 WITA."""
    zone = ZoneInfo(timezone)
    label = _ZONE_NAMES.get(timezone, timezone)

    @app.template_filter("waktu")
    def waktu(moment, fmt: str = "%d-%m-%Y %H:%M"):
        if moment is None:
            return "-"
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return f"{moment.astimezone(zone).strftime(fmt)} {label}"


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if _wants_json():
            body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
            return jsonify(body), exc.status
        return render_template("error.html", message=exc.message, status=exc.status), exc.status

    @app.errorhandler(peewee.OperationalError)
    def database_busy(exc):
        # A lock held past busy_timeout, or the database briefly gone: the transaction was
        # rolled back, so nothing half-written remains; the user may simply try again.
        app.logger.warning("database unavailable: %s", exc)
        return service_error(Unavailable("Sistem sedang sibuk. Tidak ada data yang berubah; coba lagi sebentar lagi."))

    @app.errorhandler(413)
    def too_large(exc):
        message = "Berkas terlalu besar. Ukuran maksimum 5 MB."
        if _wants_json():
            return jsonify({"error": {"code": "file_too_large", "message": message, "details": {}}}), 413
        return render_template("error.html", message=message, status=413), 413

    @app.errorhandler(404)
    def not_found(exc):
        message = "Halaman tidak ditemukan."
        if _wants_json():
            return jsonify({"error": {"code": "not_found", "message": message, "details": {}}}), 404
        return render_template("error.html", message=message, status=404), 404

    @app.errorhandler(403)
    def forbidden(exc):
        message = "Anda tidak berhak membuka halaman ini."
        if _wants_json():
            return jsonify({"error": {"code": "forbidden", "message": message, "details": {}}}), 403
        return render_template("error.html", message=message, status=403), 403


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline' cdn.jsdelivr.net; "
            "script-src 'self' 'unsafe-inline' cdn.jsdelivr.net; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


_app: Flask | None = None


def __getattr__(name: str) -> Flask:
    # The module-level ``app`` that `flask --app app` and WSGI servers look up, built on first
    # access so that importing this module (tests, workers) reads no environment.
    global _app
    if name == "app":
        if _app is None:
            _app = create_app()
        return _app
    raise AttributeError(name)
