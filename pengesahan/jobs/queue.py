"""The one place queues, timeouts and retries are declared, and the one way to enqueue.

A leaf: jobs are named by dotted path, so the services that enqueue them never import the job
bodies (which import the services). The process's settings are handed here once, at start-up
(``configure``), and job bodies read them back with :func:`settings`.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue, Retry

from pengesahan.config import Settings, load_settings

__all__ = [
    "DELIVER_WEBHOOK",
    "LEGACY_JOB_NAMES",
    "PROCESS_UPLOAD",
    "QUEUES",
    "RENEW_LTV",
    "RETRY",
    "SIGN_BATCH",
    "TRAIN_TYPE_MODEL",
    "configure",
    "enqueue",
    "queue",
    "redis_connection",
    "settings",
]

#: name -> job timeout in seconds. OCR of a multi-page scan is the slowest job of a request;
#: maintenance (the daily long-term renewal of every signed PP) may take longer.
QUEUES = {"processing": 600, "signing": 300, "notifications": 60, "maintenance": 3600}
RETRY = Retry(max=3, interval=[5, 30, 120])

#: The job bodies, by the dotted name RQ imports them from.
PROCESS_UPLOAD = "pengesahan.jobs.tasks.process_upload"
SIGN_BATCH = "pengesahan.jobs.tasks.sign_batch"
DELIVER_WEBHOOK = "pengesahan.jobs.tasks.deliver_webhook"
RENEW_LTV = "pengesahan.jobs.tasks.renew_ltv"
TRAIN_TYPE_MODEL = "pengesahan.jobs.tasks.train_type_model"

#: Names jobs were queued under before the application package existed; a worker rewrites
#: them on start (``worker.migrate_legacy_jobs``) so an upgraded installation loses none.
LEGACY_JOB_NAMES = {
    "tasks.process_upload": PROCESS_UPLOAD,
    "tasks.sign_batch": SIGN_BATCH,
    "notifications.deliver": DELIVER_WEBHOOK,
}

_settings: Settings | None = None
_redis: Redis | None = None


def configure(settings: Settings) -> None:
    """Make ``settings`` this process's (the app factory and the worker command call it)."""
    global _settings, _redis
    if _settings is not None and _settings.redis_url != settings.redis_url:
        _redis = None
    _settings = settings


def settings() -> Settings:
    """The settings this process was configured with (read from the environment if never)."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def redis_connection() -> Redis:
    """The Redis of the queues (REDIS_URL; `make run` sets it to the embedded server)."""
    global _redis
    if _redis is None:
        url = settings().redis_url
        if not url:
            raise RuntimeError("REDIS_URL belum diatur; jalankan lewat `make run` atau atur REDIS_URL.")
        _redis = Redis.from_url(url)
    return _redis


def reset_connection() -> None:
    """Forget the cached connection (tests, after fork)."""
    global _redis
    _redis = None


def queue(name: str, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection(), default_timeout=QUEUES[name])


def enqueue(queue_name: str, func: str, *args, job_id: str | None = None, connection: Redis | None = None,
            retry: Retry = RETRY):
    """Put the job ``func`` (a dotted name above) with ``args`` on ``queue_name``."""
    q = queue(queue_name, connection)
    # On a pipeline of our own: the queue's registration and the job go in one round trip
    # (RQ sends them in two otherwise), all or nothing.
    with q.connection.pipeline() as pipe:
        job = q.enqueue_call(func, args=args, job_id=job_id, retry=retry, failure_ttl=7 * 24 * 3600,
                             pipeline=pipe)
        pipe.execute()
    return job
