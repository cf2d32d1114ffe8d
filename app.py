"""The application factory. ``flask --app app ...`` and WSGI servers find ``create_app`` here;
nothing in the product imports this module."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from pengesahan import cli, doors, records, translations
from pengesahan.config import Settings, load_settings
from pengesahan.jobs import queue


def create_app(test_config: dict | None = None, settings: Settings | None = None) -> Flask:
    """Build the application: settings, database, queue and commands, and the doors that serve
    requests (login, blueprints, API, admin), which ``flask <command>`` adds on first request."""
    settings = settings or load_settings()
    app = Flask(__name__)
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
        API_AUTH_FAILURE_LIMIT=settings.api_auth_failure_limit,
        # Every officer screen in Bahasa Indonesia, times in the office's zone.
        BABEL_DEFAULT_LOCALE="id",
        BABEL_DEFAULT_TIMEZONE=settings.office_timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(translations.DIRECTORY),
    )
    if test_config:
        app.config.update(test_config)
    if settings.trusted_proxies:
        # The client's address (login throttle, API budgets) and scheme as the proxies saw them;
        # inside the doors' deferral (pengesahan.doors), which must stay the outermost wrapper.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    queue.configure(settings)
    records.init_app(app)
    cli.init_app(app)
    if doors.building_for_a_command():
        doors.defer_doors(app, add_doors)
    else:
        add_doors(app)
    return app


def add_doors(app: Flask) -> None:
    """What serves requests: CSRF protection, translations, the web blueprints, the API, the admin."""
    # Here, not at the top: an app built for a command never pays for them (pengesahan.doors).
    import admin  # loaded with the doors (pengesahan.doors)
    from pengesahan import web  # loaded with the doors (pengesahan.doors)
    from pengesahan.extensions import babel, csrf  # loaded with the doors (pengesahan.doors)

    # Record ids are 64-bit: a larger number in a URL is simply not found, never handed to
    # the database (SQLite raises OverflowError on it).
    app.url_map.converters["int"] = web.RecordIdConverter
    csrf.init_app(app)
    babel.init_app(app)
    web.init_app(app)
    admin.init_app(app)
