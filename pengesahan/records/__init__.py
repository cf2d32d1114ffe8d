"""The product's records (peewee models), one module per aggregate.

``init_app`` binds the database for the web application; workers and commands call
``bind`` with the same settings.
"""

from __future__ import annotations

from playhouse.pool import PooledDatabase

from pengesahan.config import Settings
from pengesahan.records.base import bind_database, db

_bound_url: str | None = None


def bind(settings: Settings):
    """Bind the models to the configured database (once per process and URL)."""
    global _bound_url
    if db.obj is None or _bound_url != settings.database_url:
        if isinstance(db.obj, PooledDatabase):
            # Every connection of the pool, not only this thread's: they hold the old database.
            db.obj.close_all()
        elif db.obj is not None and not db.is_closed():
            db.close()
        bind_database(settings.database_url)
        _bound_url = settings.database_url
    return db


def init_app(app) -> None:
    """Bind the database and open/close a connection around each request."""
    bind(app.config["SETTINGS"])

    @app.before_request
    def _connect():
        db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()
