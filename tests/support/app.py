"""The application under test: settings of a fresh installation, a prepared app, page helpers."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

#: Set by scripts/ci-postgres.sh: the suite then runs against PostgreSQL as well as SQLite.
PG_URL = os.environ.get("TEST_DATABASE_URL") or (
    os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else None)


def fresh_pg_schema(url: str) -> None:
    """An empty public schema, so each test starts from a new installation."""
    import psycopg2

    from pengesahan.records.base import db

    if db.obj is not None and not db.is_closed():
        db.close()
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    connection.close()


@contextlib.contextmanager
def prepared_app(settings, **config):
    """An application on ``settings`` with its schema and configuration in place."""
    from app import create_app
    from pengesahan.cli.database import prepare_database
    from pengesahan.jobs import queue
    from pengesahan.records.base import db

    queue.reset_connection()
    application = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **config}, settings=settings)
    forget_login_failures()
    with application.app_context():
        prepare_database()
    db.close()
    try:
        yield application
    finally:
        if not db.is_closed():
            db.close()
        queue.reset_connection()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def forget_login_failures() -> None:
    """Clear the login throttle: the session's Redis is shared by every test."""
    from pengesahan.jobs import queue

    connection = queue.redis_connection()
    for key in connection.scan_iter("pengesahan:login:*"):
        connection.delete(key)
