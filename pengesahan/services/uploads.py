"""Accepting an upload, the same for every door (admin screen, P3MI API): check the content,
store the file once, record it, queue its processing."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, BinaryIO

import redis

from pengesahan.config import Settings
from pengesahan.errors import IntakeError
from pengesahan.jobs.queue import PROCESS_UPLOAD, enqueue
from pengesahan.records import audit
from pengesahan.records.base import write_transaction
from pengesahan.records.dossiers import DocumentSlot, Upload, attempt_job_id
from pengesahan.records.people import User
from pengesahan.services.dossiers import actor_name, add_upload, display_name
from pengesahan.storage import file_store
from pengesahan.workflow import UploadState

if TYPE_CHECKING:
    from processing.intake import IntakeResult

log = logging.getLogger(__name__)


def enqueue_processing(upload: Upload) -> bool:
    """Queue the processing job of ``upload``; False when the queue is unreachable.

    The upload stays recorded as queued either way: the workers' reconciler picks it up once
    Redis is back, so an outage of the queue never loses an accepted file.
    """
    try:
        job = enqueue("processing", PROCESS_UPLOAD, upload.id, job_id=_job_id(upload))
    except redis.exceptions.RedisError:
        log.warning("queue unreachable; upload %s stays queued for the reconciler", upload.id, exc_info=True)
        return False
    if upload.processing_job_id != job.id:
        Upload.update(job_id=job.id).where(Upload.id == upload.id).execute()
    return True


def _job_id(upload: Upload) -> str:
    # The first job's (attempts 0) is the name the row implies: nothing to write back.
    return attempt_job_id(upload.id, upload.attempts)


def accept_upload(settings: Settings, slot: DocumentSlot, stream: BinaryIO, filename: str | None,
                  actor: User | None) -> Upload:
    """Intake one file into ``slot``; raises IntakeError/FileTooLarge/StorageError/Conflict.

    A refused file is not stored, but the refusal is kept in the audit log (who, which slot,
    why), so an officer can answer "I uploaded it and it disappeared".
    """
    data, result = take_in(slot, stream, filename, actor)
    upload = store_upload(settings, slot, data, result, filename, actor)
    enqueue_processing(upload)
    return upload


def take_in(slot: DocumentSlot, stream: BinaryIO, filename: str | None,
            actor: User | None) -> tuple[bytes, IntakeResult]:
    """Read and check one file meant for ``slot``; a refusal is audited, nothing is stored."""
    # The PDF and image readers (pikepdf, pdfium, Pillow) load with the first upload, not when
    # a web or CLI process starts.
    from processing.intake import inspect_upload, read_limited

    try:
        data = read_limited(stream)
        result = inspect_upload(data, declared_name=filename)
    except IntakeError as exc:
        audit.record_pending(actor_name(actor), "upload.refused", f"slot:{slot.id}",
                             reason=exc.message, name=display_name(filename or ""))
        raise
    return data, result


def store_upload(settings: Settings, slot: DocumentSlot, data: bytes, result: IntakeResult,
                 filename: str | None, actor: User | None) -> Upload:
    """Store a file that passed intake and record it in ``slot``; the caller queues it.

    Inside a caller's transaction the record rolls back with it; queue the processing
    (:func:`enqueue_processing`) only once that transaction has committed.
    """
    # Stored before it is recorded: a failure after this leaves at most an unreferenced,
    # content-addressed file, never a record pointing to a missing one.
    file_store(settings).put(data, sha256=result.sha256)
    # Its first job is named after the row (records.dossiers.processing_job_id): should the
    # enqueue fail, the reconciler finds no such job and queues the upload again.
    return add_upload(slot, sha256=result.sha256, media_type=result.media_type, size=result.size,
                      original_name=filename or "", actor=actor)


def reprocess_upload(upload: Upload, *, actor: User) -> None:
    """An officer has an upload analysed again (e.g. after the thresholds changed)."""
    with write_transaction():
        Upload.update(state=UploadState.QUEUED, state_reason="", progress=0).where(Upload.id == upload.id).execute()
        audit.record(actor.username, "upload.reprocess", f"upload:{upload.id}")
    enqueue_processing(Upload.get_by_id(upload.id))
