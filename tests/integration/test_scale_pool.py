"""PostgreSQL connections are pooled per process (a web request no longer starts a server
process), and a forked child (RQ's work horse) never talks on its parent's pooled sockets."""

from __future__ import annotations

import os

import pytest

from tests.support.app import PG_URL

pytestmark = pytest.mark.skipif(not PG_URL, reason="pool PostgreSQL saja (scripts/ci-postgres.sh)")


def _backend_pid(db) -> int:
    return db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def test_a_request_reuses_the_connection_the_previous_one_returned(app):
    from pengesahan.records.base import db

    with app.app_context():
        db.connect(reuse_if_open=True)
        first = _backend_pid(db)
        db.close()
        db.connect()
        assert _backend_pid(db) == first
        db.close()


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(app):
    from pengesahan.records.base import db

    with app.app_context():
        db.connect(reuse_if_open=True)
        parent_pid = _backend_pid(db)
        db.close()  # back to the pool, socket open: what the worker holds when RQ forks
        read, write = os.pipe()
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                os.close(read)
                db.connect()
                os.write(write, str(_backend_pid(db)).encode())
                db.close()
                code = 0
            finally:
                os._exit(code)  # as RQ's work horse ends: no interpreter shutdown
        os.close(write)
        child_backend = int(os.read(read, 64).decode() or 0)
        os.close(read)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert child_backend and child_backend != parent_pid
        # The parent's pooled connection still works, and is the same session as before.
        db.connect()
        assert _backend_pid(db) == parent_pid
        db.close()
