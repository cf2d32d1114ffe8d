"""The database handle and the base model every record derives from."""

from __future__ import annotations

import datetime as dt
import json
import os
import select
import threading
import weakref
from collections.abc import Callable
from contextlib import contextmanager

import peewee
from playhouse.db_url import connect as connect_url
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

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


#: Connections a process keeps open between requests. Opening a PostgreSQL one starts a server
#: process (8 ms of a 2-core machine's time per request when every request connected anew);
#: opening an SQLite one sets its pragmas, and closing the last checkpoints the WAL to disk (an
#: upload alone took 28-31 ms so, 8-9 ms with the connection kept).
POOL_MAX_CONNECTIONS = 32
#: An idle pooled connection older than this is closed and opened afresh (seconds).
POOL_STALE_SECONDS = 300
#: How long a thread waits for a pooled connection when all are in use (seconds).
POOL_WAIT_SECONDS = 30
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # Several processes (web, workers) share the file: wait instead of failing.
    "busy_timeout": 10000,
    "synchronous": "normal",
}

#: Connections a forked child inherited from its parent: the parent still talks on them, so
#: the child neither uses nor closes them (closing would end the parent's session); referenced
#: here for the child's life so that no finaliser closes them either.
_inherited_connections: list = []
_pools: weakref.WeakSet = weakref.WeakSet()


class _ForkSafe:
    """A connection pool that a forked child (RQ's work horse) starts empty, not sharing the
    sockets or SQLite handles of its parent's pooled connections."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _pools.add(self)

    def forget_parent(self) -> None:
        _inherited_connections.extend(conn for _ts, _n, conn in self._connections)
        _inherited_connections.extend(entry.connection for entry in self._in_use.values())
        if self._state.conn is not None:
            _inherited_connections.append(self._state.conn)
        self._connections, self._in_use = [], {}
        # A lock another thread of the parent held at the fork would stay held for ever here.
        self._pool_lock = threading.RLock()
        self._pool_available = threading.Condition(self._pool_lock)
        self._lock = threading.Lock()
        self._state = peewee._ConnectionLocal()


class ForkSafePool(_ForkSafe, PooledPostgresqlDatabase):
    """PostgreSQL connections kept between requests and jobs, safe across RQ's fork.

    peewee asks the server "SELECT 1" before lending each pooled connection, a round trip in
    front of every request and job (a tenth of an upload's time in the web process). A
    connection the server ended (a restart, an administrator, an idle timeout) has the
    server's farewell or the socket's end waiting to be read, so an idle one with nothing to
    read is lent as it is; the others get peewee's question.
    """

    def _is_closed(self, conn):
        if (not conn.closed and self._adapter.txn_status(conn) == self._adapter.txn_idle
                and not _has_input_waiting(conn.fileno())):
            return False
        return super()._is_closed(conn)


def _has_input_waiting(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


class SqlitePool(_ForkSafe, PooledSqliteDatabase):
    """SQLite connections kept between requests and jobs, safe across RQ's fork.

    A kept connection would go on reading and writing a database file that was replaced
    underneath it (``flask restore`` swaps the file in): one opened on a file that is no longer
    at the path is closed, not reused.
    """

    def __init__(self, database, **kwargs):
        # Threads hand connections to each other through the pool.
        super().__init__(database, check_same_thread=False, **kwargs)
        self._opened_on: dict[int, tuple[int, int] | None] = {}

    def _file_identity(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.database)
        except OSError:
            return None
        return found.st_dev, found.st_ino

    def _connect(self):
        conn = super()._connect()
        self._opened_on.setdefault(id(conn), self._file_identity())
        return conn

    def _is_closed(self, conn):
        if super()._is_closed(conn):
            self._opened_on.pop(id(conn), None)
            return True
        if self._opened_on.get(id(conn)) != self._file_identity():
            self._close_raw(conn)
            return True
        return False

    def _close_raw(self, conn):
        self._opened_on.pop(id(conn), None)
        super()._close_raw(conn)


def _after_fork_in_child() -> None:
    for pool in list(_pools):
        pool.forget_parent()


os.register_at_fork(after_in_child=_after_fork_in_child)


def bind_database(url: str) -> peewee.Database:
    """Connect the proxy to ``url`` (sqlite:///..., postgresql://...); a web thread or a worker
    returns its connection to the process's pool at the end of a request or job (db.close())."""
    pool = {"max_connections": POOL_MAX_CONNECTIONS, "stale_timeout": POOL_STALE_SECONDS,
            "timeout": POOL_WAIT_SECONDS}
    if url.startswith("sqlite"):
        database = SqlitePool(pragmas=SQLITE_PRAGMAS, **pool, **parse_url(url))
    elif url.startswith(("postgres://", "postgresql://")):
        database = ForkSafePool(**pool, **parse_url(url))
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


class PreparedSelect:
    """A select whose SQL is built once per process and database kind, then run with new values.

    Peewee builds a statement's SQL anew on every run: 0.6 ms for a select with joins, as much
    as PostgreSQL takes to answer it. Every API request runs two such (its token, an upload's
    slot), so those are prepared. ``build`` receives one placeholder per value and returns the
    query; the values are given to :meth:`first` as the database stores them (ids, not records).
    """

    def __init__(self, build: Callable[..., peewee.ModelSelect]):
        self._build = build
        self._built: dict[type, tuple[peewee.ModelSelect, str, list]] = {}
        self._lock = threading.Lock()

    def first(self, *values):
        """The query's first row for ``values``, as the model instance peewee would give, or None."""
        query, sql, params = self._prepared(len(values))
        bound = [values[p.index] if isinstance(p, _Placeholder) else p for p in params]
        # Read to the end (one row at most): peewee closes the cursor there, and an SQLite cursor
        # left open would keep its read transaction.
        rows = list(query._get_cursor_wrapper(db.execute_sql(sql, bound)))
        return rows[0] if rows else None

    def _prepared(self, count: int) -> tuple[peewee.ModelSelect, str, list]:
        kind = type(db.obj)  # the parameter style differs between SQLite and PostgreSQL
        prepared = self._built.get(kind)
        if prepared is None:
            with self._lock:
                # Unconverted (converter=False): the placeholder must reach the parameters as itself.
                query = self._build(*(peewee.Value(_Placeholder(i), converter=False) for i in range(count)))
                query = query.limit(1)
                sql, params = query.sql()
                if sum(isinstance(p, _Placeholder) for p in params) != count:
                    raise ValueError("each placeholder must appear once in the prepared query")
                prepared = self._built[kind] = (query, sql, params)
        return prepared


class PreparedInsert:
    """The INSERT of one ``model`` row, its SQL built once per process and database kind.

    ``Model.create`` builds it anew on every call, 0.3-0.6 ms a statement: three of an upload's
    five. The row is made as ``Model.create`` makes it (peewee fills in the model's defaults),
    every column is written, each value converted by its field; :meth:`create` returns the
    saved instance.
    """

    def __init__(self, model: type[peewee.Model]):
        self._model = model
        self._fields = [f for f in model._meta.sorted_fields if f is not model._meta.primary_key]
        self._built: dict[type, str] = {}
        self._lock = threading.Lock()

    def create(self, **values) -> peewee.Model:
        row = self._model(**values)
        params = [field.db_value(row.__data__.get(field.name)) for field in self._fields]
        cursor = db.execute_sql(self._prepared(), params)
        # PostgreSQL answers the id (the INSERT ends RETURNING it), SQLite keeps it on the cursor.
        row._pk = cursor.fetchone()[0] if db.obj.returning_clause else cursor.lastrowid
        row._dirty.clear()
        return row

    def _prepared(self) -> str:
        kind = type(db.obj)  # the parameter style and RETURNING differ between SQLite and PostgreSQL
        sql = self._built.get(kind)
        if sql is None:
            with self._lock:
                columns = {f: peewee.Value(_Placeholder(i), converter=False) for i, f in enumerate(self._fields)}
                sql, params = self._model.insert(columns).sql()
                if [p.index for p in params] != list(range(len(self._fields))):
                    raise ValueError("the INSERT must take its values in the fields' order")
                self._built[kind] = sql
        return sql


class _Placeholder:
    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index
