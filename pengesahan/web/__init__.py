"""The web doors: login, stored files, public verification and the P3MI API, plus what every
page shares (time filter, error pages, security headers). ``init_app`` wires them on the app."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import peewee
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from pengesahan.config import zone_label
from pengesahan.errors import ServiceError, Unavailable
from pengesahan.timefmt import format_moment
from pengesahan.web import api, auth, files, portal, verify
from pengesahan.web.api.errors import handle_http_exception

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Register the blueprints, the API and the shared page behaviour on ``app``."""
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(verify.bp)
    app.register_blueprint(portal.bp)
    api.init_app(app)
    _register_time_filter(app, app.config["SETTINGS"].office_timezone)
    _register_error_handlers(app)
    _register_security_headers(app)


class RecordIdConverter(IntegerConverter):
    """``<int:...>`` limited to the range of a database id."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, *args, **kwargs)




def _register_time_filter(app: Flask, timezone: str) -> None:
    """``{{ moment|waktu }}``: a stored UTC time in the office's zone, as every screen writes it
    (``30 Nov 2026 02.41 WITA``); ``waktu('%d-%m-%Y')`` for a compact form where space is short."""
    zone = ZoneInfo(timezone)
    label = zone_label(timezone)

    @app.template_filter("waktu")
    def waktu(moment, fmt: str | None = None):
        if moment is None:
            return "-"
        if fmt is None:
            return format_moment(moment, timezone)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return f"{moment.astimezone(zone).strftime(fmt)} {label}"


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _back_url() -> str:
    """Where the error page's link leads: the page the user came from on this site, else home."""
    referrer = request.referrer or ""
    same_site = referrer.startswith(request.host_url) and urlsplit(referrer).path != request.path
    return referrer if same_site else "/"


def _error_page(message: str, status: int):
    """An error inside the normal layout, with a link back to where the user was."""
    return render_template("error.html", message=message, status=status, back_url=_back_url()), status


#: Pages for the HTTP errors not handled one by one below (the API answers them in JSON).
_HTTP_MESSAGES = {
    400: "Permintaan tidak dapat dibaca atau formulir sudah kedaluwarsa. Muat ulang halaman lalu coba lagi.",
    405: "Alamat ini tidak dapat dibuka dengan cara tersebut.",
    429: "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi.",
    500: "Terjadi kesalahan pada server. Tidak ada data yang berubah; coba lagi nanti.",
}


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        if _wants_json():
            body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
            return jsonify(body), exc.status
        return _error_page(exc.message, exc.status)

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
        return _error_page(message, 413)

    @app.errorhandler(404)
    def not_found(exc):
        message = "Halaman tidak ditemukan."
        if _wants_json():
            return jsonify({"error": {"code": "not_found", "message": message, "details": {}}}), 404
        return _error_page(message, 404)

    @app.errorhandler(403)
    def forbidden(exc):
        message = "Anda tidak berhak membuka halaman ini."
        if _wants_json():
            return jsonify({"error": {"code": "forbidden", "message": message, "details": {}}}), 403
        return _error_page(message, 403)

    def http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            return handle_http_exception(exc)  # the API's JSON body, as flask-smorest would send it
        status = exc.code or 500
        return _error_page(_HTTP_MESSAGES[status], status)

    for status in _HTTP_MESSAGES:
        app.register_error_handler(status, http_error)


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Scans, signed PPs and every page name people: nothing may be kept by a shared cache
        # or the browser's disk cache. Only the static assets (no personal data) are cacheable.
        if not request.path.startswith(("/static/", "/admin/static/")):
            response.headers["Cache-Control"] = "private, no-store"
            response.headers.pop("Expires", None)
        return response
