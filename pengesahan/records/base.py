"""The database handle and the base model every record derives from."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from contextlib import contextmanager

import peewee
from playhouse.db_url import connect as connect_url

#: Bound to the real database by :func:`bind_database` (once per process).
db = peewee.DatabaseProxy()


def now() -> dt.datetime:
    """Current time, timezone-aware UTC: every stored time is UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTimeField(peewee.DateTimeField):
    """A datetime stored as ISO text in UTC and read back timezone-aware.

    SQLite has no time zones; storing ISO strings with the offset keeps ordering and avoids
    naive/aware mix-ups between SQLite and PostgreSQL.
    """

    field_type = "VARCHAR(40)"

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")

    def python_value(self, value):
        if value is None or isinstance(value, dt.datetime):
            return value
        return dt.datetime.fromisoformat(value)


class JSONField(peewee.TextField):
    """JSON stored as text (portable between SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(peewee.Model):
    class Meta:
        database = db
        legacy_table_names = False


def bind_database(url: str) -> peewee.Database:
    """Connect the proxy to ``url`` (sqlite:///..., postgresql://...)."""
    if url.startswith("sqlite"):
        database = connect_url(
            url,
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                # Several processes (web, workers) share the file: wait instead of failing.
                "busy_timeout": 10000,
                "synchronous": "normal",
            },
        )
    else:
        database = connect_url(url)
    db.initialize(database)
    return database


def is_sqlite() -> bool:
    return isinstance(db.obj, peewee.SqliteDatabase)


class _TransactionState(threading.local):
    def __init__(self):
        self.depth = 0
        self.after_commit: list[Callable[[], None]] = []


_transaction = _TransactionState()


@contextmanager
def write_transaction():
    """A transaction that takes the write lock at once; the one way services write.

    SQLite's default deferred transactions upgrade their lock lazily and can deadlock with a
    concurrent writer; IMMEDIATE serialises writers up front (they wait on busy_timeout).
    Callbacks registered with :func:`after_commit` run once the outermost one has committed.
    """
    outermost = _transaction.depth == 0
    _transaction.depth += 1
    try:
        if is_sqlite() and not db.in_transaction():
            with db.atomic(lock_type="IMMEDIATE") as txn:
                yield txn
        else:
            with db.atomic() as txn:
                yield txn
    except BaseException:
        if outermost:
            _transaction.after_commit.clear()
        raise
    finally:
        _transaction.depth -= 1
    if outermost:
        callbacks, _transaction.after_commit = _transaction.after_commit, []
        for callback in callbacks:
            callback()


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` after the current write_transaction commits (now when none is open)."""
    if _transaction.depth:
        _transaction.after_commit.append(callback)
    else:
        callback()
