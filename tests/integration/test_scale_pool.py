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


def _last_query_of(backend_pid: int) -> str:
    """What the server last ran on ``backend_pid``, asked over a connection outside the pool."""
    import psycopg2

    outside = psycopg2.connect(PG_URL)
    try:
        with outside.cursor() as cursor:
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", (backend_pid,))
            return cursor.fetchone()[0]
    finally:
        outside.close()


def test_a_pooled_connection_is_handed_out_again_without_a_round_trip_to_the_server(app):
    # peewee's pool asked "SELECT 1" before lending each connection: a round trip in front of
    # every request and job, a tenth of an upload's time in the web process.
    from pengesahan.records.base import db

    with app.app_context():
        db.connect(reuse_if_open=True)
        pid = _backend_pid(db)
        db.execute_sql("SELECT 'the last statement before check-in'")
        db.close()
        db.connect()
        assert _last_query_of(pid) == "SELECT 'the last statement before check-in'"
        assert _backend_pid(db) == pid
        db.close()


def test_a_pooled_connection_the_server_ended_is_replaced_before_it_is_lent(app):
    import time

    import psycopg2

    from pengesahan.records.base import db

    with app.app_context():
        db.connect(reuse_if_open=True)
        pid = _backend_pid(db)
        db.close()
        outside = psycopg2.connect(PG_URL)
        outside.autocommit = True
        try:
            with outside.cursor() as cursor:  # what a server restart or an administrator does
                cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
                for _ in range(100):
                    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
                    if cursor.fetchone()[0] == 0:
                        break
                    time.sleep(0.05)
        finally:
            outside.close()
        db.connect()
        assert _backend_pid(db) != pid
        db.close()
