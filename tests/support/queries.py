"""Counting the SQL statements a request costs (N+1 queries show as counts growing with rows)."""

from __future__ import annotations

from pengesahan.records.base import db


class StatementCounter:
    """Counts the SQL statements the database runs while it is installed (pytest's monkeypatch)."""

    def __init__(self, monkeypatch):
        self.count = 0
        self.statements: list[str] = []
        database = db.obj
        real = database.execute_sql

        def counted(sql, params=None, *args, **kwargs):
            self.count += 1
            self.statements.append(sql)
            return real(sql, params, *args, **kwargs)

        monkeypatch.setattr(database, "execute_sql", counted)
