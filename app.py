"""The application factory. ``flask --app app ...`` and WSGI servers find ``create_app`` here;
nothing in the product imports this module."""

from __future__ import annotations

from flask import Flask

import admin
from pengesahan import cli, records, translations, web
from pengesahan.config import Settings, load_settings
from pengesahan.extensions import babel, csrf
from pengesahan.jobs import queue
from pengesahan.web import RecordIdConverter


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    """Build the web application: settings, database, queue, login, admin, blueprints, commands."""
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
        API_RATE_LIMIT=settings.api_rate_limit,
        # Every officer screen in Bahasa Indonesia, times in the office's zone.
        BABEL_DEFAULT_LOCALE="id",
        BABEL_DEFAULT_TIMEZONE=settings.office_timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(translations.DIRECTORY),
    )
    if test_config:
        app.config.update(test_config)
    queue.configure(settings)
    records.init_app(app)
    csrf.init_app(app)
    babel.init_app(app)
    web.init_app(app)
    admin.init_app(app)
    cli.init_app(app)
    return app
