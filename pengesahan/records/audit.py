"""The append-only audit log. Each entry's hash covers its content and the previous entry's
hash, so editing, deleting or reordering any entry breaks the chain from there on."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import peewee

from pengesahan.records.base import (
    BaseModel,
    JSONField,
    UTCDateTimeField,
    db,
    is_sqlite,
    now,
    write_transaction,
)

GENESIS = "0" * 64


class AuditEntry(BaseModel):
    """One thing that happened: who did what to which record, and why."""

    at = UTCDateTimeField(default=now)
    actor = peewee.CharField(max_length=120)
    action = peewee.CharField(max_length=60)
    subject = peewee.CharField(max_length=120)
    details = JSONField(default=dict)
    prev_hash = peewee.CharField(max_length=64)
    hash = peewee.CharField(max_length=64, unique=True)

    def save(self, *args, **kwargs):
        # Entries are written once, through record(); an update would silently break the chain.
        if self.id is not None and not kwargs.get("force_insert"):
            raise PermissionError("Log audit hanya dapat ditambah, tidak dapat diubah.")
        return super().save(*args, **kwargs)

    def __str__(self):
        return f"#{self.id} {self.action} {self.subject}"


def _entry_hash(prev_hash: str, at: str, actor: str, action: str, subject: str, details) -> str:
    payload = json.dumps(
        [prev_hash, at, actor, action, subject, details],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(actor: str, action: str, subject: str, **details) -> AuditEntry:
    """Append an entry to the chain (inside the caller's transaction when there is one).

    The chain's lock is held from here to the commit, every other appender waiting on it: a
    caller writes its entry last. Inside a caller's transaction no savepoint is opened, whose
    release would be one more round trip under the lock.
    """
    details = json.loads(json.dumps(details, default=str))
    if db.in_transaction():
        return _append(actor, action, subject, details)
    with write_transaction():
        return _append(actor, action, subject, details)


#: Serialises appenders on PostgreSQL so two entries never share a predecessor, then reads the
#: last hash: two statements sent at once, so the read follows the grant without a round trip
#: while the lock is held. Two statements, not one: each takes its snapshot as it starts (read
#: committed), so the read sees the entry that the previous holder committed while we waited.
_LOCK_AND_READ_HEAD = ('SELECT pg_advisory_xact_lock(7412001); '
                       'SELECT "hash" FROM "audit_entry" ORDER BY "id" DESC LIMIT 1')


def _append(actor: str, action: str, subject: str, details) -> AuditEntry:
    if is_sqlite():
        # The write transaction already holds the database's only write lock.
        last = AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).first()
        prev_hash = last.hash if last else GENESIS
    else:
        row = db.execute_sql(_LOCK_AND_READ_HEAD).fetchone()
        prev_hash = row[0] if row else GENESIS
    at = now()
    at_text = AuditEntry.at.db_value(at)
    digest = _entry_hash(prev_hash, at_text, actor, action, subject, details)
    return AuditEntry.create(
        at=at, actor=actor, action=action, subject=subject, details=details,
        prev_hash=prev_hash, hash=digest,
    )


@dataclass(frozen=True)
class ChainReport:
    """Result of checking the chain: how many entries, and the first broken one if any."""

    entries: int
    first_broken_id: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken_id is None


#: Rows read per query while the chain is verified.
CHAIN_BATCH = 5000


def _chain_rows():
    """Every audit row in id order, a batch at a time (keyset), so memory stays flat however long
    the chain: a plain cursor would have PostgreSQL's driver load the whole table at once.

    Raw rows: the stored text of ``at`` is what was hashed, so no round trip through Python.
    """
    last, mark, batch = 0, db.param, CHAIN_BATCH
    while True:
        rows = db.execute_sql(
            'SELECT id, at, actor, action, subject, details, prev_hash, hash FROM "audit_entry" '
            f"WHERE id > {mark} ORDER BY id LIMIT {mark}", (last, batch)
        ).fetchall()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1][0]


def verify_chain() -> ChainReport:
    """Recompute every hash in order; report the first entry that does not match."""
    prev_hash = GENESIS
    count = 0
    for entry_id, at, actor, action, subject, details, stored_prev, stored_hash in _chain_rows():
        count += 1
        if stored_prev != prev_hash:
            return ChainReport(count, entry_id, "Tautan ke entri sebelumnya tidak cocok (entri dihapus atau disisipkan).")
        expected = _entry_hash(prev_hash, at, actor, action, subject, json.loads(details))
        if expected != stored_hash:
            return ChainReport(count, entry_id, "Isi entri telah diubah.")
        prev_hash = stored_hash
    return ChainReport(count)
