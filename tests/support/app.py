"""The application under test: settings of a fresh installation, a prepared app, page helpers."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"

#: Set by scripts/ci-postgres.sh: the suite then runs against PostgreSQL as well as SQLite.
PG_URL = os.environ.get("TEST_DATABASE_URL") or (
    os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else None)


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _database_of(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _on_server(url: str, *statements: str) -> None:
    """Run ``statements`` on the server of ``url``, from its maintenance database."""
    import psycopg2

    connection = psycopg2.connect(url, dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def _release_connections() -> None:
    """Give back every connection this process holds (a pool keeps them open)."""
    from pengesahan.records.base import db

    if db.obj is None:
        return
    close_all = getattr(db.obj, "close_all", None)
    if close_all is not None:
        close_all()
    elif not db.is_closed():
        db.close()


def prepared_pg_template(url: str) -> str:
    """The name of the database :func:`prepare_pg_template` prepares for ``url``."""
    return f"{_database_of(url)}_template"


def prepare_pg_template(url: str, settings_for) -> None:
    """Prepare a database once as a new installation's (``settings_for`` gives the settings
    for a URL): a test's database is then copied from it, which PostgreSQL does in a tenth of
    the time that preparing the schema takes."""
    template = prepared_pg_template(url)
    _on_server(url, f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)', f'CREATE DATABASE "{template}"')
    with prepared_app(settings_for(_with_database(url, template))):
        pass
    _release_connections()  # a template must have no connection when it is copied


def fresh_pg_database(url: str, template: str = "template1") -> None:
    """The database of ``url`` anew: empty (a copy of ``template1``, as ``createdb`` makes), or a
    copy of ``template`` (see :func:`prepare_pg_template`). Needs PostgreSQL 13 or later."""
    name = _database_of(url)
    _release_connections()
    _on_server(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
               f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


@contextlib.contextmanager
def prepared_app(settings, **config):
    """An application on ``settings`` with its schema and configuration in place."""
    from app import create_app
    from pengesahan.cli.database import prepare_database
    from pengesahan.jobs import queue
    from pengesahan.records.base import db

    queue.reset_connection()
    application = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, **config}, settings=settings)
    forget_authentication_failures()
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


def forget_authentication_failures() -> None:
    """Clear the login throttle and the API's failed-authentication budgets: the session's Redis
    is shared by every test, and they are kept per address (every test client is 127.0.0.1)."""
    from pengesahan.jobs import queue
    from pengesahan.web.api.ratelimit import KEY_PREFIX

    connection = queue.redis_connection()
    for pattern in ("pengesahan:login:*", f"{KEY_PREFIX}*auth-failed*"):
        for key in connection.scan_iter(pattern):
            connection.delete(key)


@contextlib.contextmanager
def served(application, **options):
    """``application`` on waitress at a free loopback port, in a thread; yields the base URL.

    The server is stopped from its own loop thread, after its task threads have finished:
    closing the sockets from outside races both the loop's ``select`` and a task thread's last
    wake-up of the loop (both raise EBADF in a thread, which pytest reports as a failure)."""
    import threading

    import waitress
    from waitress import wasyncore

    server = waitress.create_server(application, host="127.0.0.1", port=0, **options)
    stopping = threading.Event()

    def run() -> None:
        while not stopping.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        server.task_dispatcher.shutdown()
        wasyncore.close_all(server._map)

    thread = threading.Thread(target=run, name="waitress-under-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stopping.set()
        thread.join(10)
