"""SQLite connections are pooled per process: a request no longer sets the pragmas anew and
checkpoints the WAL to disk on closing. A kept connection must still behave as a fresh one:
its pragmas set, never shared with a forked child (RQ's work horse), and never reading a
database file that ``flask restore`` has replaced underneath it."""

from __future__ import annotations

import os
import sqlite3

import pytest

from tests.support.app import PG_URL

pytestmark = pytest.mark.skipif(bool(PG_URL), reason="pool SQLite saja (proses uji tanpa DATABASE_URL)")


def test_a_request_reuses_the_connection_with_its_pragmas(app):
    from pengesahan.records.base import db

    with app.app_context():
        db.connect(reuse_if_open=True)
        first = db.connection()
        db.close()
        db.connect()
        assert db.connection() is first
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 10000
        db.close()


def test_a_forked_child_opens_its_own_connection_and_leaves_the_parents_alone(app):
    from pengesahan.records.base import db, write_transaction
    from pengesahan.records.people import Company

    with app.app_context():
        db.connect(reuse_if_open=True)
        parent_connection = db.connection()
        db.close()  # back to the pool, still open: what the worker holds when RQ forks
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the child
            code = 1
            try:
                db.connect()
                if db.connection() is not parent_connection:
                    with write_transaction():
                        Company.create(name="PT Dari Anak")
                    code = 0
                db.close()
            finally:
                os._exit(code)  # as RQ's work horse ends: no interpreter shutdown
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        db.connect()
        assert db.connection() is parent_connection
        assert Company.select().where(Company.name == "PT Dari Anak").count() == 1
        db.close()


def test_a_replaced_database_file_is_read_not_the_one_a_kept_connection_opened(app, settings, tmp_path):
    from pengesahan.records.base import db, write_transaction
    from pengesahan.records.people import Company

    path = settings.database_url.removeprefix("sqlite:///")
    with app.app_context():
        db.connect(reuse_if_open=True)
        earlier = tmp_path / "earlier.db"
        with sqlite3.connect(earlier) as copy:
            db.connection().backup(copy)  # the database as a backup holds it
        copy.close()
        with write_transaction():
            Company.create(name="PT Sesudah Cadangan")
        db.close()  # kept in the pool, open on the current file
        os.replace(earlier, path)  # what restore does
        for suffix in ("-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
        db.connect()
        assert Company.select().where(Company.name == "PT Sesudah Cadangan").count() == 0
        db.close()
