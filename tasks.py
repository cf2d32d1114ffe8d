"""Queue jobs and the one place queues, timeouts and retries are declared.

Jobs take record ids and reload the records; they are idempotent, so a job run twice (its
worker died, Redis came back) ends in the same state as one run.
"""

from __future__ import annotations

import contextlib
import logging
import time
from contextlib import contextmanager

from redis import Redis
from rq import Queue, Retry, Worker

from config import Settings, load_settings

log = logging.getLogger(__name__)

#: name -> job timeout in seconds. OCR of a multi-page scan is the slowest job.
QUEUES = {"processing": 600, "signing": 300, "notifications": 60}
RETRY = Retry(max=3, interval=[5, 30, 120])

_redis: Redis | None = None


def redis_connection(settings: Settings | None = None) -> Redis:
    """The Redis of the queues (REDIS_URL; `make run` sets it to the embedded server)."""
    global _redis
    if _redis is None:
        settings = settings or load_settings()
        if not settings.redis_url:
            raise RuntimeError("REDIS_URL belum diatur; jalankan lewat `make run` atau atur REDIS_URL.")
        _redis = Redis.from_url(settings.redis_url)
    return _redis


def reset_connection() -> None:
    """Forget the cached connection (tests, after fork)."""
    global _redis
    _redis = None


def queue(name: str, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection(), default_timeout=QUEUES[name])


def enqueue(queue_name: str, func, *args, job_id: str | None = None, connection: Redis | None = None,
            retry: Retry = RETRY):
    """Put ``func(*args)`` on ``queue_name`` with the declared timeout and retries."""
    q = queue(queue_name, connection)
    return q.enqueue_call(func, args=args, job_id=job_id, retry=retry, failure_ttl=7 * 24 * 3600)


def reconcile(connection: Redis | None = None) -> int:
    """Re-enqueue uploads recorded as queued or running whose job Redis no longer knows, and
    webhook deliveries a queue outage left without a job.

    Covers a Redis that was restarted empty and a worker that died with its job; jobs are
    idempotent, so enqueueing one twice is harmless.
    """
    from rq.job import Job

    import notifications
    from records.dossiers import Upload

    connection = connection or redis_connection()
    count = 0
    with job_database():
        count += notifications.reconcile(connection)
        for upload in Upload.select().where(Upload.state.in_(["queued", "running"])):
            if upload.job_id and Job.exists(upload.job_id, connection=connection):
                job = Job.fetch(upload.job_id, connection=connection)
                if _job_is_live(job, connection):
                    continue
            job = enqueue("processing", process_upload, upload.id,
                          job_id=f"upload-{upload.id}-r{int(time.time())}", connection=connection)
            Upload.update(job_id=job.id).where(Upload.id == upload.id).execute()
            count += 1
    return count


#: How often a running worker looks for uploads whose job Redis lost.
RECONCILE_INTERVAL = 5


class ReconcilingWorker(Worker):
    """An RQ worker that also reconciles, in its own main loop, every RECONCILE_INTERVAL.

    Not in a thread: a forking worker must not fork while another thread may hold a lock
    (logging, a connection), or the work horse can hang on it forever.
    """

    def __init__(self, *args, **kwargs):
        # BLPOP wakes up every few seconds even when idle, so the reconcile clock is kept.
        kwargs.setdefault("worker_ttl", 15 + RECONCILE_INTERVAL)
        super().__init__(*args, **kwargs)
        self._reconciled_at = 0.0

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return super().should_run_maintenance_tasks or self._reconcile_due()

    def _reconcile_due(self) -> bool:
        return time.monotonic() - self._reconciled_at >= RECONCILE_INTERVAL

    def run_maintenance_tasks(self) -> None:
        if Worker.should_run_maintenance_tasks.fget(self):
            super().run_maintenance_tasks()
        if self._reconcile_due():
            self._reconciled_at = time.monotonic()
            try:
                requeued = reconcile(self.connection)
            except Exception:  # noqa: BLE001 - Redis or the database away: retried next round
                log.warning("reconcile failed; retrying in %ss", RECONCILE_INTERVAL, exc_info=True)
            else:
                if requeued:
                    log.info("reconcile: %s upload(s) re-enqueued", requeued)


def _job_is_live(job, connection: Redis) -> bool:
    """Whether ``job`` will still run or finish without our help.

    A job left "started" by a worker that was killed (SIGKILL, OOM, power cut) stays so in
    RQ until its heartbeat expires and a worker's maintenance pass, up to 10 minutes later,
    notices it. A worker on this host whose process is gone is known dead now: its job is
    cancelled (so RQ's clean-up does not run it a second time) and re-enqueued by the caller.
    """
    import os
    import socket

    from rq.exceptions import InvalidJobOperation
    from rq.worker import Worker

    status = job.get_status(refresh=True)
    if status in ("failed", "stopped", "canceled", None):
        return False
    if status != "started":
        return True
    names = {e.worker_name for e in job.get_executions() if e.worker_name} or {job.worker_name} - {None, ""}
    if not names:
        return True  # nothing says who runs it: leave it to RQ's own clean-up
    for name in names:
        worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + name, connection=connection)
        if worker is None:
            continue  # its registration is gone: dead
        if worker.hostname != socket.gethostname() or not worker.pid:
            return True  # another machine's worker: trust its heartbeat
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:
            pass  # a live process of another user
        return True
    with contextlib.suppress(InvalidJobOperation):
        job.cancel()
    log.warning("job %s abandoned by a dead worker; re-enqueueing", job.id)
    return False


@contextmanager
def job_database():
    """Bind and open the database inside a job (workers fork; connections are per process)."""
    import records
    from records.base import db

    records.bind(load_settings())
    db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if not db.is_closed():
            db.close()


def process_upload(upload_id: int) -> str:
    """Classify and check one upload and store the results on its record."""
    with job_database():
        return _process_upload(upload_id)


def _process_upload(upload_id: int) -> str:
    import storage
    from processing.pipeline import analyse
    from processing.spec import FormData, KnownDocument
    from records.base import now, write_transaction
    from records.catalogue import DocumentType, load_thresholds
    from records.dossiers import DocumentSlot, Upload

    upload = Upload.get_or_none(Upload.id == upload_id)
    if upload is None:
        log.warning("upload %s gone; nothing to do", upload_id)
        return "missing"
    if upload.state == "done":
        return "done"  # idempotent: a retried job after success does nothing
    Upload.update(state="running", attempts=Upload.attempts + 1, progress=0).where(
        Upload.id == upload_id).execute()
    settings = load_settings()
    store = storage.LocalFileStore(settings.files_dir)
    slot = upload.slot
    dossier = slot.dossier
    candidate = dossier.candidate
    form = FormData(nik=candidate.nik, name=candidate.name, birth_date=candidate.birth_date,
                    sex=candidate.sex, kk_number=candidate.kk_number or None)
    others = (Upload.select(Upload, DocumentSlot).join(DocumentSlot)
              .where((DocumentSlot.dossier == dossier) & (Upload.id != upload.id)
                     & (Upload.state == "done")))
    known = [KnownDocument(upload_id=o.id, sha256=o.sha256, doc_type=o.classified_type,
                           number=o.doc_number,
                           candidate_id=candidate.id, phash=o.phash) for o in others]

    def on_progress(fraction: float, stage: str) -> None:
        Upload.update(progress=int(100 * fraction)).where(Upload.id == upload_id).execute()

    analysis = analyse(
        store.read(upload.sha256),
        slot_type=slot.doc_type,
        form=form if slot.owner == "cpmi" else None,
        known=known,
        thresholds=load_thresholds(),
        doc_types=[t.to_spec() for t in DocumentType.select()],
        on_progress=on_progress,
        candidate_id=candidate.id,
    )
    normalised_key = store.put(analysis.normalised_png) if analysis.normalised_png else None
    thumbnail_key = store.put(analysis.thumbnail_png) if analysis.thumbnail_png else None
    with write_transaction():
        Upload.update(
            state="failed" if analysis.error else "done",
            state_reason=analysis.error or "",
            progress=100,
            processed_at=now(),
            pages=analysis.pages,
            classified_type=analysis.doc_type,
            confidence=analysis.confidence,
            checks=[c.as_dict() for c in analysis.checks],
            fields=analysis.fields,
            phash=analysis.phash,
            doc_number=analysis.number,
            normalised_key=normalised_key,
            thumbnail_key=thumbnail_key,
        ).where(Upload.id == upload_id).execute()
    return "failed" if analysis.error else "done"


def sign_batch(agreement_ids: list[int], user_id: int, sealed_passphrase: str) -> list[dict]:
    """Sign many agreements with one passphrase entry; one failure does not stop the rest.

    Progress is kept in the job's meta (``done``/``total``/``outcomes``) for the signer's page.
    """
    from rq import get_current_job

    import ratification
    from records.people import User

    job = get_current_job()
    settings = load_settings()
    outcomes: list[dict] = []
    with job_database():
        user = User.get_by_id(user_id)
        passphrase = ratification.unseal_passphrase(settings, sealed_passphrase)
        for index, agreement_id in enumerate(agreement_ids):
            outcome = ratification.sign_agreement(settings, agreement_id, user, passphrase)
            outcomes.append(outcome.__dict__)
            if job is not None:
                job.meta.update(done=index + 1, total=len(agreement_ids), outcomes=outcomes)
                job.save_meta()
    return outcomes
