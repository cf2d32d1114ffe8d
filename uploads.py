"""Accepting an upload, the same for every door (admin screen, P3MI API): check the content,
store the file once, record it, queue its processing."""

from __future__ import annotations

import logging
from typing import BinaryIO

import redis

import storage
import tasks
from config import Settings
from errors import IntakeError
from processing.intake import inspect_upload, read_limited
from records import audit
from records.dossiers import DocumentSlot, Upload, add_upload, display_name
from records.people import User

log = logging.getLogger(__name__)


def enqueue_processing(upload: Upload) -> bool:
    """Queue the processing job of ``upload``; False when the queue is unreachable.

    The upload stays recorded as queued either way: the workers' reconciler picks it up once
    Redis is back, so an outage of the queue never loses an accepted file.
    """
    try:
        job = tasks.enqueue("processing", tasks.process_upload, upload.id,
                            job_id=f"upload-{upload.id}-{upload.attempts}")
    except redis.exceptions.RedisError:
        log.warning("queue unreachable; upload %s stays queued for the reconciler", upload.id, exc_info=True)
        return False
    Upload.update(job_id=job.id).where(Upload.id == upload.id).execute()
    return True


def accept_upload(settings: Settings, slot: DocumentSlot, stream: BinaryIO, filename: str | None,
                  actor: User | None) -> Upload:
    """Intake one file into ``slot``; raises IntakeError/FileTooLarge/StorageError/Conflict.

    A refused file is not stored, but the refusal is kept in the audit log (who, which slot,
    why), so an officer can answer "I uploaded it and it disappeared".
    """
    try:
        data = read_limited(stream)
        result = inspect_upload(data, declared_name=filename)
    except IntakeError as exc:
        audit.record(actor.username if actor else "sistem", "upload.refused", f"slot:{slot.id}",
                     reason=exc.message, name=display_name(filename or ""))
        raise
    # Stored before it is recorded: a failure after this leaves at most an unreferenced,
    # content-addressed file, never a record pointing to a missing one.
    storage.LocalFileStore(settings.files_dir).put(data)
    upload = add_upload(slot, sha256=result.sha256, media_type=result.media_type, size=result.size,
                        original_name=filename or "", actor=actor)
    enqueue_processing(upload)
    return upload
