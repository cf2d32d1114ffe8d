"""The worker process: an RQ worker that also reconciles (uploads and webhook deliveries whose
job Redis lost are queued again), links the pending audit entries into the chain, and carries
jobs queued by older installations over."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import socket
import threading
import time

import redis
from peewee import chunked
from redis import Redis
from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.registry import DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.worker import WorkerStatus

from pengesahan.jobs.queue import (
    LEGACY_JOB_NAMES,
    PROCESS_UPLOAD,
    QUEUES,
    RENEW_LTV,
    TRAIN_TYPE_MODEL,
    enqueue,
    queue,
    redis_connection,
)
from pengesahan.jobs.tasks import job_database
from pengesahan.records import audit
from pengesahan.records.dossiers import Upload, processing_job_id
from pengesahan.services import webhooks
from pengesahan.workflow import UploadState

log = logging.getLogger(__name__)

__all__ = [
    "BACKGROUND_QUEUES",
    "LTV_RENEWAL_INTERVAL",
    "RECONCILE_INTERVAL",
    "ReconcilingWorker",
    "link_audit_entries",
    "migrate_legacy_jobs",
    "reconcile",
    "run_worker",
    "schedule_ltv_renewal",
    "schedule_type_model_training",
]

#: Queues whose jobs run on CPU time nothing else wants (Linux's SCHED_IDLE). A scan's analysis
#: takes seconds of CPU and no one waits on it in a request, while on a regency's one machine the
#: web and PostgreSQL share its cores: an upload or a page must not queue behind OCR.
BACKGROUND_QUEUES = frozenset({"processing"})
#: How long past its timeout a job run in the worker's own process may go on before the worker
#: gives up on it and exits (its supervisor starts it again; the reconcile queues the job again).
#: A job stuck in native code never sees the timeout's exception.
HUNG_JOB_GRACE = 60
#: The exit status of a worker that left a hung job (EX_SOFTWARE).
EXIT_HUNG_JOB = 70
#: How often the workers look for uploads whose job Redis lost (one of them each time).
RECONCILE_INTERVAL = 5
#: Queued uploads whose jobs' states are asked of Redis in one round trip.
RECONCILE_BATCH = 1000
_RECONCILE_KEY = "pengesahan:reconcile:claimed"
#: How long the worker's start-up waits for a busy database or an absent Redis.
STARTUP_RETRY_SECONDS = 60
#: The long-term renewal of signed PPs runs once per this many seconds, whichever worker queues it.
LTV_RENEWAL_INTERVAL = 24 * 3600
_LTV_RENEWAL_KEY = "pengesahan:ltv-renewal:queued"
_TYPE_MODEL_KEY = "pengesahan:type-model:queued"


def reconcile(connection: Redis | None = None) -> int:
    """Re-enqueue uploads recorded as queued or running whose job Redis no longer knows, and
    webhook deliveries a queue outage left without a job.

    Covers a Redis that was restarted empty and a worker that died with its job; jobs are
    idempotent, so enqueueing one twice is harmless. The jobs' states are asked for in batches
    of RECONCILE_BATCH, one round trip each: a backlog of queued uploads is the normal state
    under load, and one question per upload cost the workers and Redis more than the uploads.
    """
    connection = connection or redis_connection()
    count = 0
    with job_database():
        count += webhooks.reconcile(connection)
        waiting = list(Upload.select(Upload.id, Upload.job_id)
                       .where(Upload.state.in_([UploadState.QUEUED, UploadState.RUNNING]))
                       .order_by(Upload.id).tuples())
        for batch in chunked(waiting, RECONCILE_BATCH):
            for upload_id in _uploads_without_live_job(batch, connection):
                job = enqueue("processing", PROCESS_UPLOAD, upload_id,
                              job_id=f"upload-{upload_id}-r{int(time.time())}", connection=connection)
                Upload.update(job_id=job.id).where(Upload.id == upload_id).execute()
                count += 1
    return count


def _uploads_without_live_job(batch: list[tuple[int, str | None]], connection: Redis) -> list[int]:
    """The uploads of ``batch`` (upload id, job id recorded) whose job will not run or finish by
    itself."""
    jobs = [(upload_id, processing_job_id(upload_id, recorded)) for upload_id, recorded in batch]
    with connection.pipeline(transaction=False) as pipe:
        for _, job_id in jobs:
            pipe.hget(Job.key_for(job_id), "status")
        statuses = pipe.execute()
    return [upload_id for (upload_id, job_id), status in zip(jobs, statuses, strict=True)
            if not _job_is_live(job_id, status and status.decode(), connection)]


def link_audit_entries() -> int:
    """Link the audit entries the uploads left pending (records/audit.py); how many."""
    with job_database():
        return audit.link_pending()


def migrate_legacy_jobs(connection: Redis) -> int:
    """Rename jobs queued under the names of the first version (``tasks.process_upload``...)."""
    renamed = 0
    for name in QUEUES:
        q = queue(name, connection)
        job_ids = set(q.get_job_ids())
        for registry in (ScheduledJobRegistry, DeferredJobRegistry, FailedJobRegistry):
            job_ids.update(registry(queue=q).get_job_ids())
        for job_id in job_ids:
            try:
                job = Job.fetch(job_id, connection=connection)
                current = job.func_name
            except Exception:  # noqa: BLE001 - an unreadable or vanished job is RQ's to handle
                continue
            if current in LEGACY_JOB_NAMES:
                job.func_name = LEGACY_JOB_NAMES[current]
                job.save()
                renamed += 1
    if renamed:
        log.info("%s job(s) of an older installation renamed", renamed)
    return renamed


def schedule_ltv_renewal(connection: Redis) -> bool:
    """Queue the daily long-term renewal of signed PPs unless a worker did so in the last 24 h."""
    return _queue_daily(connection, _LTV_RENEWAL_KEY, RENEW_LTV, "ltv-renewal")


def schedule_type_model_training(connection: Redis) -> bool:
    """Queue the daily training of the office's document-type model (same rule as above)."""
    return _queue_daily(connection, _TYPE_MODEL_KEY, TRAIN_TYPE_MODEL, "type-model")


def _queue_daily(connection: Redis, key: str, func: str, name: str) -> bool:
    """Queue ``func`` on the maintenance queue unless a worker did so in the last 24 h.

    The guard is a Redis key set only when absent and expiring after a day: of many workers,
    exactly one queues the job each day, and a Redis restarted empty only brings it forward.
    """
    if not connection.set(key, int(time.time()), nx=True, ex=LTV_RENEWAL_INTERVAL):
        return False
    try:
        job = enqueue("maintenance", func, connection=connection,
                      job_id=f"{name}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}")
    except BaseException:
        connection.delete(key)  # not queued: let the next round try again
        raise
    log.info("job %s: daily %s queued", job.id, name)
    return True


class ReconcilingWorker(Worker):
    """An RQ worker that also reconciles and links the pending audit entries, in its own main
    loop, every RECONCILE_INTERVAL, and queues the daily jobs (:func:`schedule_ltv_renewal`).
    Of several workers, one reconciles in each interval (:func:`_claim_reconcile`).

    Not in a thread: a forking worker must not fork while another thread may hold a lock
    (logging, a connection), or the work horse can hang on it forever.

    A worker given background queues only (the scans worker of a deployment) runs their jobs in
    a thread of its own process, at SCHED_IDLE, instead of forking a work horse for each. A
    horse started cold: a new database connection (about 4 ms of the server's CPU and as many
    again warming its caches), then the lazily built state of the analysis (OCR languages,
    compiled patterns, OpenCV's first calls), lost with it. A small scan cost 150-210 ms of
    CPU in a horse and 20 ms in a warm process; PostgreSQL spent 17.6 ms a scan against 5-6
    (README, Scale). What the fork gave is kept otherwise: the timeout raises in the job's
    thread, a job stuck past it ends the worker (:data:`HUNG_JOB_GRACE`), and a worker that dies
    is restarted by ``up`` while the reconcile queues its job again.
    """

    def __init__(self, *args, **kwargs):
        # BLPOP wakes up every few seconds even when idle, so the reconcile clock is kept.
        kwargs.setdefault("worker_ttl", 15 + RECONCILE_INTERVAL)
        super().__init__(*args, **kwargs)
        self._reconciled_at = 0.0
        self._outages = _Outages()
        self.runs_jobs_itself = set(self.queue_names()) <= BACKGROUND_QUEUES
        if self.runs_jobs_itself:
            # SIGALRM reaches the main thread only: the timeout is raised in the job's thread.
            self.death_penalty_class = TimerDeathPenalty

    def execute_job(self, job: Job, queue) -> None:
        if not self.runs_jobs_itself:
            super().execute_job(job, queue)
            return
        execution = self.prepare_execution(job)
        failure: list[BaseException] = []

        def perform() -> None:
            _run_in_background()  # this thread only: the worker's own loop keeps its priority
            try:
                self.perform_job(job, queue, execution)
            except BaseException as exc:  # noqa: BLE001 - raised again in the worker's loop below
                failure.append(exc)

        # A daemon: a cold shutdown (a second SIGTERM) ends the process without waiting for it.
        runner = threading.Thread(target=perform, name=f"job-{job.id}", daemon=True)
        started = time.monotonic()
        runner.start()
        limit = None if job.timeout == -1 else (job.timeout or QUEUES[queue.name]) + HUNG_JOB_GRACE
        # Joined in steps: signals (a warm shutdown waits for the job) and heartbeats in between.
        while True:
            runner.join(self.job_monitoring_interval)
            if not runner.is_alive():
                break
            if limit is not None and time.monotonic() - started > limit:
                self._exit_leaving_job(f"job {job.id} ran {time.monotonic() - started:.0f} s, past its "
                                       f"timeout and {HUNG_JOB_GRACE} s more")
            self.maintain_heartbeats(job, execution)
        _return_freed_memory()
        self.set_state(WorkerStatus.IDLE)
        if failure:
            raise failure[0]

    def kill_horse(self, sig=None) -> None:
        if self.runs_jobs_itself:
            # No horse: RQ would signal the worker's own process group (pid 0), up included.
            self._exit_leaving_job(f"a job of worker {self.name} was asked to stop")
        super().kill_horse(*([sig] if sig is not None else []))

    def _exit_leaving_job(self, reason: str) -> None:
        """End the process with a job still running in its thread (no exception reaches it).

        RQ's scheduler runs in a child process that would outlive the worker and hold the
        queues' scheduler locks; it is stopped first.
        """
        log.error("%s; the worker exits", reason)
        if self.scheduler is not None:
            self.stop_scheduler()
        logging.shutdown()
        os._exit(EXIT_HUNG_JOB)

    @property
    def should_run_maintenance_tasks(self) -> bool:
        return super().should_run_maintenance_tasks or self._reconcile_due()

    def _reconcile_due(self) -> bool:
        return time.monotonic() - self._reconciled_at >= RECONCILE_INTERVAL

    def main_work_horse(self, job: Job, queue) -> None:
        # In the horse forked for this job only: the worker itself keeps its priority, so a
        # worker serving several queues still runs a signing job at full speed.
        if queue.name in BACKGROUND_QUEUES:
            _run_in_background()
        super().main_work_horse(job, queue)

    def run_maintenance_tasks(self) -> None:
        if Worker.should_run_maintenance_tasks.fget(self):
            super().run_maintenance_tasks()
        if self._reconcile_due():
            self._reconciled_at = time.monotonic()
            try:
                requeued = reconcile(self.connection) if _claim_reconcile(self.connection) else 0
            except Exception as exc:  # noqa: BLE001 - Redis or the database away: retried next round
                self._outages.failed("reconcile", exc)
            else:
                self._outages.worked("reconcile")
                if requeued:
                    log.info("reconcile: %s upload(s) re-enqueued", requeued)
            try:
                link_audit_entries()
            except Exception as exc:  # noqa: BLE001 - the database away or locked: linked next round
                self._outages.failed("audit entries linking", exc)
            else:
                self._outages.worked("audit entries linking")
            try:
                schedule_ltv_renewal(self.connection)
                schedule_type_model_training(self.connection)
            except redis.exceptions.RedisError as exc:
                self._outages.failed("daily jobs queueing", exc)
            else:
                self._outages.worked("daily jobs queueing")


class _Outages:
    """The log of maintenance steps that fail round after round: the traceback the first time,
    then a line a round saying how long it has lasted, and a line when the step works again. An
    outage of Redis or the database would otherwise repeat a traceback every few seconds."""

    def __init__(self) -> None:
        self._rounds: dict[str, int] = {}

    def failed(self, step: str, exc: BaseException) -> None:
        rounds = self._rounds[step] = self._rounds.get(step, 0) + 1
        if rounds == 1:
            log.warning("%s failed; retrying every %ss", step, RECONCILE_INTERVAL, exc_info=exc)
        else:
            log.warning("%s failed again (%s rounds): %s: %s", step, rounds, type(exc).__name__, exc)

    def worked(self, step: str) -> None:
        rounds = self._rounds.pop(step, 0)
        if rounds:
            log.info("%s works again after %s failed rounds", step, rounds)


def _run_in_background() -> None:
    """Give this thread, and what it starts (Tesseract), only CPU time no other process wants.

    Not starved for good: the kernel still lends an idle-class task a sliver of a busy core,
    so a horse holding a database lock that a request waits on goes on and releases it.
    """
    with contextlib.suppress(AttributeError, OSError):  # not Linux: the job runs as it is
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _return_freed_memory() -> None:
    """Give the memory a scan's analysis freed back to the system (glibc's ``malloc_trim``).

    A work horse took its images' buffers with it; a worker that runs the scans itself keeps
    what glibc holds on to after each of them, up to the largest scan's.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library is another (the memory stays with
    the allocator)."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def _claim_reconcile(connection: Redis) -> bool:
    """Whether this worker reconciles in this interval: of all the workers, the first to ask.

    Every worker would otherwise read the whole backlog every interval, a cost that grows with
    the workers and the backlog together. The claim expires with the interval, so a worker that
    dies after claiming delays the next reconcile by one interval at most.
    """
    return bool(connection.set(_RECONCILE_KEY, socket.gethostname(), nx=True, ex=RECONCILE_INTERVAL))


def _job_is_live(job_id: str, status: str | None, connection: Redis) -> bool:
    """Whether the job ``job_id``, in RQ's ``status`` (None: unknown to Redis), will still run
    or finish without our help.

    A job left "started" by a worker that was killed (SIGKILL, OOM, power cut) stays so in
    RQ until its heartbeat expires and a worker's maintenance pass, up to 10 minutes later,
    notices it. A worker on this host whose process is gone is known dead now: its job is
    cancelled (so RQ's clean-up does not run it a second time) and re-enqueued by the caller.
    """
    if status in ("failed", "stopped", "canceled", None):
        return False
    if status != "started":
        return True
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False  # gone since its state was read
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


def _start_up(connection: Redis) -> int:
    """Carry old jobs over and reconcile once, waiting out a busy database or an absent Redis."""
    deadline = time.monotonic() + STARTUP_RETRY_SECONDS
    while True:
        try:
            migrate_legacy_jobs(connection)
            return reconcile(connection)
        except Exception as exc:  # noqa: BLE001 - "database is locked", Redis not up yet: both pass
            if time.monotonic() > deadline:
                raise
            # The reason without its traceback: this is the expected wait, not a fault; past the
            # deadline the exception itself goes up, traceback and all.
            log.warning("start-up of the worker refused (%s: %s); retrying in 1 s", type(exc).__name__, exc)
            time.sleep(1)


def run_worker(*, burst: bool = False, queues: list[str] | None = None) -> int:
    """Run one worker until stopped (or, with ``burst``, until the queues are empty)."""
    connection = redis_connection()
    requeued = _start_up(connection)
    while True:
        worker = ReconcilingWorker(queues or list(QUEUES), connection=connection)
        try:
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        except redis.exceptions.ConnectionError:
            # RQ gives up when Redis vanishes at some moments (e.g. while registering); the
            # jobs are safe in the database, so wait for Redis and start a fresh worker.
            log.warning("Redis tidak terjangkau; worker dimulai ulang dalam 2 detik")
            time.sleep(2)
            continue
        # RQ also leaves work() quietly on an unexpected error (Redis gone while a job runs):
        # only a burst run or a stop asked for by a signal ends the worker.
        if burst or worker._shutdown_requested_date is not None:  # set by RQ on SIGTERM/SIGINT
            return requeued
        log.warning("worker berhenti tanpa diminta; dimulai ulang dalam 2 detik")
        time.sleep(2)
