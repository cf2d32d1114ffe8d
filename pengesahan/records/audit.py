"""The append-only audit log. Each entry's hash covers its content and the previous entry's
hash, so editing, deleting or reordering any entry breaks the chain from there on.

Two ways in, for two kinds of writer. :func:`record` links the entry at once, holding the
chain's lock to the commit: the officers' decisions, signatures, configuration. The doors any
P3MI or stranger can knock on many times a second (uploads, refused files) call
:func:`record_pending` instead: the entry is written with their transaction, unlinked and
without any lock, and :func:`link_pending` (the worker, every few seconds, and every
:func:`record` first) links the entries waiting, in the order they were written, in one batch.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import peewee

from pengesahan.records.base import (
    BaseModel,
    JSONField,
    PreparedInsert,
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


class PendingAuditEntry(BaseModel):
    """An entry written by a busy door, waiting to be linked into the chain.

    Deleted only by :func:`link_pending`, in the transaction that links it; the database
    refuses to change one (schema v13).
    """

    at = UTCDateTimeField(default=now)
    actor = peewee.CharField(max_length=120)
    action = peewee.CharField(max_length=60)
    subject = peewee.CharField(max_length=120)
    details = JSONField(default=dict)

    class Meta:
        table_name = "audit_pending"


# Every upload writes one: prepared once (records/base.py).
_NEW_PENDING = PreparedInsert(PendingAuditEntry)


def _entry_hash(prev_hash: str, at: str, actor: str, action: str, subject: str, details) -> str:
    payload = json.dumps(
        [prev_hash, at, actor, action, subject, details],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _plain(details: dict) -> dict:
    return json.loads(json.dumps(details, default=str))


def record(actor: str, action: str, subject: str, **details) -> AuditEntry:
    """Append an entry to the chain (inside the caller's transaction when there is one), after
    the entries still pending, so that the chain's order follows what happened.

    The chain's lock is held from here to the commit, every other appender waiting on it: a
    caller writes its entry last. Inside a caller's transaction no savepoint is opened, whose
    release would be one more round trip under the lock.
    """
    details = _plain(details)
    if db.in_transaction():
        return _append(actor, action, subject, details)
    with write_transaction():
        return _append(actor, action, subject, details)


def record_pending(actor: str, action: str, subject: str, **details) -> None:
    """Write an entry to be linked soon (:func:`link_pending`), without taking the chain's lock.

    For the doors that many clients use at once: linking each entry as it comes serialised
    them all on the lock, each holding it through its commit's flush to disk. Inside a
    caller's transaction the entry commits or rolls back with it.
    """
    _NEW_PENDING.create(actor=actor, action=action, subject=subject, details=_plain(details))


#: Entries linked per transaction, so that a long backlog does not hold the lock in one piece.
LINK_BATCH = 1000


def link_pending() -> int:
    """Link the pending entries into the chain, oldest first; returns how many were linked."""
    # Looked for before any lock: every worker calls this every few seconds, and on SQLite the
    # chain's lock is the whole database's write lock.
    if not PendingAuditEntry.select(PendingAuditEntry.id).limit(1).exists():
        return 0
    linked = 0
    while True:
        with write_transaction():
            _, count = _link_pending_locked(_lock_and_read_head())
        linked += count
        if count < LINK_BATCH:
            return linked


def pending_count() -> int:
    return PendingAuditEntry.select().count()


#: Serialises appenders on PostgreSQL so two entries never share a predecessor, then reads the
#: last hash: two statements sent at once, so the read follows the grant without a round trip
#: while the lock is held. Two statements, not one: each takes its snapshot as it starts (read
#: committed), so the read sees the entry that the previous holder committed while we waited.
_LOCK_AND_READ_HEAD = ('SELECT pg_advisory_xact_lock(7412001); '
                       'SELECT "hash" FROM "audit_entry" ORDER BY "id" DESC LIMIT 1')


def _lock_and_read_head() -> str:
    """Take the chain's lock for the current transaction; the last entry's hash."""
    if is_sqlite():
        # The write transaction already holds the database's only write lock.
        last = AuditEntry.select(AuditEntry.hash).order_by(AuditEntry.id.desc()).first()
        return last.hash if last else GENESIS
    row = db.execute_sql(_LOCK_AND_READ_HEAD).fetchone()
    return row[0] if row else GENESIS


def _link_pending_locked(prev_hash: str) -> tuple[str, int]:
    """Link up to LINK_BATCH pending entries after ``prev_hash``; the new head and the count.

    The stored text of ``at`` and ``details`` is hashed, as :func:`verify_chain` reads it.
    Rows are deleted by their ids, not by a range: on PostgreSQL an entry with a lower id may
    commit after this read, and must wait for the next batch, not vanish unlinked.
    """
    mark = db.param
    rows = db.execute_sql(
        f'SELECT id, at, actor, action, subject, details FROM "audit_pending" ORDER BY id LIMIT {mark}',
        (LINK_BATCH,)).fetchall()
    if not rows:
        return prev_hash, 0
    linked = []
    for _, at, actor, action, subject, details in rows:
        digest = _entry_hash(prev_hash, at, actor, action, subject, json.loads(details))
        linked.append({"at": at, "actor": actor, "action": action, "subject": subject,
                       "details": json.loads(details), "prev_hash": prev_hash, "hash": digest})
        prev_hash = digest
    AuditEntry.insert_many(linked).execute()
    PendingAuditEntry.delete().where(PendingAuditEntry.id.in_([row[0] for row in rows])).execute()
    return prev_hash, len(rows)


def _append(actor: str, action: str, subject: str, details) -> AuditEntry:
    prev_hash = _lock_and_read_head()
    # Pending entries were written before this one: they go first. Hardly ever more than a
    # batch (the worker links them every few seconds); any rest waits for the next linking.
    prev_hash, _ = _link_pending_locked(prev_hash)
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
