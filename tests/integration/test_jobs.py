"""The job plumbing after the move into the application package: jobs queued by the first
version (top-level ``tasks``/``notifications`` modules) still run once a worker has started."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job
from rq.scheduler import RQScheduler

from pengesahan.records.base import db
from tests.support.images import make_card, png
from tests.support.reliability import count_round_trips


def _ktp_slot(nik: str, name: str, company: str):
    """The KTP slot of a new dossier (inside the caller's connection)."""
    from pengesahan.records.dossiers import DocumentSlot
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    candidate = Candidate.create(nik=nik, name=name, sex="P", birth_date=dt.date(1998, 8, 17))
    dossier = open_dossier(candidate, Company.create(name=company), actor=None)
    return dossier.slots.where(DocumentSlot.doc_type == "ktp").first()


def _queued_upload(settings):
    from pengesahan.records.dossiers import Upload
    from pengesahan.services.dossiers import add_upload
    from pengesahan.storage import file_store

    data = png(make_card(seed=3))
    with db.connection_context():
        slot = _ktp_slot("6309055708980002", "SITI AMINAH", "PT Uji")
        key = file_store(settings).put(data)
        upload = add_upload(slot, sha256=key, media_type="image/png", size=len(data), original_name="ktp.png",
                            actor=None)
        return Upload.get_by_id(upload.id)


def test_a_job_queued_under_the_old_name_runs_after_the_worker_renames_it(app):
    from pengesahan.jobs import queue
    from pengesahan.jobs.worker import migrate_legacy_jobs
    from pengesahan.records.dossiers import Upload

    queue.queue("processing").empty()
    upload = _queued_upload(app.config["SETTINGS"])
    connection = queue.redis_connection()
    # What the first version put in Redis: the job named by its old module path.
    legacy = queue.queue("processing").enqueue_call("tasks.process_upload", args=(upload.id,),
                                                    job_id=f"upload-{upload.id}-0")
    assert Job.fetch(legacy.id, connection=connection).func_name == "tasks.process_upload"

    assert migrate_legacy_jobs(connection) == 1
    assert Job.fetch(legacy.id, connection=connection).func_name == queue.PROCESS_UPLOAD
    assert migrate_legacy_jobs(connection) == 0  # idempotent

    assert SimpleWorker(["processing"], connection=connection).work(burst=True)
    with db.connection_context():
        assert Upload.get_by_id(upload.id).state == "done"


def test_events_fire_only_after_the_transaction_commits(app):
    from pengesahan.events import Event, subscribe, unsubscribe

    seen: list[int] = []

    def handler(slot_id: int) -> None:
        seen.append(slot_id)

    subscribe(Event.SLOT_REJECTED, handler)
    try:
        _commit_and_roll_back(seen)
    finally:
        unsubscribe(Event.SLOT_REJECTED, handler)


def _commit_and_roll_back(seen: list[int]) -> None:
    from pengesahan.events import Event, fire
    from pengesahan.records.base import write_transaction

    with db.connection_context():
        try:
            with write_transaction():
                fire(Event.SLOT_REJECTED, slot_id=1)
                assert seen == []  # not inside the transaction
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert seen == []  # a rolled-back change notifies no one
        with write_transaction():
            with write_transaction():
                fire(Event.SLOT_REJECTED, slot_id=2)
            assert seen == []  # the inner block is not the commit
        assert seen == [2]


# --- the reconciler ------------------------------------------------------------------------------


def _uploads_with_jobs(count: int, *, unqueued: int = 0) -> list:
    """``count`` uploads recorded queued in one slot, each with its job waiting in Redis but the
    last ``unqueued``, accepted during a queue outage."""
    from pengesahan.records.dossiers import Upload
    from pengesahan.services.dossiers import add_upload
    from pengesahan.services.uploads import enqueue_processing

    with db.connection_context():
        slot = _ktp_slot("6309055708980003", "RINA WATI", "PT Antre")
        uploads = []
        for n in range(count):
            upload = add_upload(slot, sha256=f"{n:064x}", media_type="image/png", size=1,
                                original_name=f"ktp-{n}.png", actor=None)
            if n < count - unqueued:
                assert enqueue_processing(upload)
            uploads.append(Upload.get_by_id(upload.id))
        return uploads


def _job_of(upload_id: int) -> str:
    from pengesahan.records.dossiers import Upload

    with db.connection_context():
        return Upload.get_by_id(upload_id).processing_job_id


def test_reconcile_asks_redis_about_the_queued_uploads_in_batches(app):
    """A backlog is the normal state under load, and every worker reconciles every few seconds:
    one question to Redis per queued upload (three, before) took more CPU than the uploads."""
    from pengesahan.jobs import queue
    from pengesahan.jobs.worker import reconcile

    queue.queue("processing").empty()
    _uploads_with_jobs(150)
    connection = count_round_trips(Redis.from_url(app.config["SETTINGS"].redis_url))
    connection.ping()  # the connection's own handshake is not the reconcile's
    connection.round_trips = 0

    assert reconcile(connection) == 0  # every job is waiting: nothing to queue again
    assert connection.round_trips == 1


def test_reconcile_queues_again_exactly_the_uploads_whose_job_is_lost_or_failed(app):
    from rq.job import JobStatus

    from pengesahan.jobs import queue
    from pengesahan.jobs.worker import reconcile
    from pengesahan.records.dossiers import Upload

    queue.queue("processing").empty()
    connection = queue.redis_connection()
    waiting, lost, failed, finished, queued_again, never_queued = _uploads_with_jobs(6, unqueued=1)
    connection.delete(Job.key_for(lost.processing_job_id))  # a Redis restarted empty
    Job.fetch(failed.processing_job_id, connection=connection).set_status(JobStatus.FAILED)
    Job.fetch(finished.processing_job_id, connection=connection).set_status(JobStatus.FINISHED)
    # Queued again under another name (as the reconciler does), its first job gone: the name
    # recorded is the one asked about, not the first job's.
    again = queue.enqueue("processing", queue.PROCESS_UPLOAD, queued_again.id, job_id=f"upload-{queued_again.id}-r1")
    connection.delete(Job.key_for(queued_again.processing_job_id))
    with db.connection_context():
        Upload.update(job_id=again.id).where(Upload.id == queued_again.id).execute()

    assert reconcile(connection) == 3

    assert _job_of(waiting.id) == waiting.processing_job_id == f"upload-{waiting.id}-0"
    assert _job_of(finished.id) == finished.processing_job_id  # its result is on its way to the database
    assert _job_of(queued_again.id) == again.id
    for upload in (lost, failed, never_queued):
        job_id = _job_of(upload.id)
        assert job_id != upload.processing_job_id
        assert Job.fetch(job_id, connection=connection).get_status() == JobStatus.QUEUED
    assert reconcile(connection) == 0


def test_of_several_workers_one_reconciles_in_each_interval(app):
    from pengesahan.jobs import queue, worker

    queue.queue("processing").empty()
    connection = queue.redis_connection()
    (upload,) = _uploads_with_jobs(1)
    first, second = (worker.ReconcilingWorker(["processing"], connection=connection) for _ in range(2))
    # The daily jobs are another test's: marked as queued today, so that these workers leave
    # nothing behind on the session's Redis.
    daily = [key for key in (worker._LTV_RENEWAL_KEY, worker._TYPE_MODEL_KEY) if connection.set(key, 0, nx=True)]
    try:
        connection.delete(Job.key_for(upload.processing_job_id))
        first.run_maintenance_tasks()
        requeued = _job_of(upload.id)
        assert requeued != upload.processing_job_id

        connection.delete(Job.key_for(requeued))
        second.run_maintenance_tasks()  # within the same interval: the first one's round stands
        assert _job_of(upload.id) == requeued
        assert not Job.exists(requeued, connection=connection)  # nor queued again under the same id
    finally:
        connection.delete(worker._RECONCILE_KEY, *daily)


def test_an_outage_logs_its_traceback_once_a_line_a_round_and_its_end(app, caplog):
    """Redis away for three rounds of maintenance: each step that fails logs its traceback the
    first time only, then one line a round with how long it has lasted, and says when it works
    again; a log that repeats a traceback every five seconds hides what else happens."""
    import logging

    from rq.utils import now

    from pengesahan.jobs import queue, worker

    connection = queue.redis_connection()
    maintainer = worker.ReconcilingWorker(["processing"], connection=connection)
    maintainer.last_cleaned_at = now()  # RQ's own cleaning is not what is measured here
    daily = [key for key in (worker._LTV_RENEWAL_KEY, worker._TYPE_MODEL_KEY) if connection.set(key, 0, nx=True)]
    caplog.set_level(logging.INFO, logger="pengesahan.jobs.worker")
    try:
        maintainer.connection = Redis(port=1, socket_connect_timeout=0.2)
        for _ in range(3):
            maintainer._reconciled_at = 0.0
            maintainer.run_maintenance_tasks()
        maintainer.connection = connection
        maintainer._reconciled_at = 0.0
        maintainer.run_maintenance_tasks()
    finally:
        connection.delete(worker._RECONCILE_KEY, *daily)

    reconcile_lines = [r for r in caplog.records if r.getMessage().startswith("reconcile")]
    assert [bool(r.exc_info) for r in reconcile_lines[:3]] == [True, False, False]
    assert "3 rounds" in reconcile_lines[2].getMessage()
    assert "ConnectionError" in reconcile_lines[1].getMessage()
    assert "works again after 3 failed rounds" in reconcile_lines[3].getMessage()
    daily_lines = [r for r in caplog.records if r.getMessage().startswith("daily jobs queueing")]
    assert [bool(r.exc_info) for r in daily_lines] == [True, False, False, False]
    assert sum(bool(r.exc_info) for r in caplog.records) == 2


def scheduling_policy() -> int:
    """A job body: the CPU scheduling policy its work horse runs under."""
    return os.sched_getscheduler(0)


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE hanya ada di Linux")
def test_a_scan_is_analysed_on_cpu_time_requests_leave_and_signing_keeps_its_priority(app):
    from pengesahan.jobs import queue, worker

    connection = queue.redis_connection()
    for name in ("processing", "signing"):
        queue.queue(name).empty()
    analysed = queue.queue("processing").enqueue(scheduling_policy)
    signed = queue.queue("signing").enqueue(scheduling_policy)
    # A forking worker on both queues, as `make run` starts one; its maintenance round (the
    # reconcile, the daily jobs) is another test's, so it is marked as done for this interval.
    held = _held_maintenance(connection)
    try:
        assert worker.ReconcilingWorker(["processing", "signing"], connection=connection).work(burst=True)
    finally:
        connection.delete(*held)
    assert Job.fetch(analysed.id, connection=connection).return_value() == os.SCHED_IDLE
    assert Job.fetch(signed.id, connection=connection).return_value() == os.SCHED_OTHER
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # the worker itself: only its horses yield


def where_it_ran() -> dict:
    """A job body: the process, the CPU scheduling policy and the database connection it ran with."""
    from pengesahan.jobs.tasks import job_database
    from pengesahan.records.base import is_sqlite

    with job_database():
        if is_sqlite():
            connection = id(db.connection())
        else:
            connection = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    return {"pid": os.getpid(), "policy": os.sched_getscheduler(0), "connection": connection}


def busy_for(seconds: float) -> str:
    """A job body that computes for ``seconds`` (a timeout reaches it between two steps)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sum(range(1000))
    return "finished"


def _held_maintenance(connection) -> list[str]:
    """Marks this interval's reconcile and today's daily jobs as done (other tests' work), so
    that a burst worker runs only the jobs a test queued; returns the keys to delete after."""
    from pengesahan.jobs import worker

    return [key for key in (worker._RECONCILE_KEY, worker._LTV_RENEWAL_KEY, worker._TYPE_MODEL_KEY)
            if connection.set(key, 0, nx=True)]


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE hanya ada di Linux")
def test_a_scans_worker_runs_its_jobs_itself_on_idle_time_and_keeps_its_database_connection(app):
    """A worker of the scans queue alone forks no work horse: a horse opened a new database
    connection and rebuilt the analysis's state for every scan."""
    from pengesahan.jobs import queue, worker

    connection = queue.redis_connection()
    queue.queue("processing").empty()
    jobs = [queue.queue("processing").enqueue(where_it_ran) for _ in range(3)]
    held = _held_maintenance(connection)
    try:
        assert worker.ReconcilingWorker(["processing"], connection=connection).work(burst=True)
    finally:
        connection.delete(*held)
    ran = [Job.fetch(job.id, connection=connection).return_value() for job in jobs]
    assert {r["pid"] for r in ran} == {os.getpid()}
    assert {r["policy"] for r in ran} == {os.SCHED_IDLE}
    assert len({r["connection"] for r in ran}) == 1, ran
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # only the jobs' threads yield


def test_a_job_the_scans_worker_runs_itself_still_stops_at_its_timeout(app):
    from pengesahan.jobs import queue, worker

    connection = queue.redis_connection()
    queue.queue("processing").empty()
    endless = queue.queue("processing").enqueue(busy_for, 60, job_timeout=1)
    after = queue.queue("processing").enqueue(busy_for, 0)
    held = _held_maintenance(connection)
    started = time.monotonic()
    try:
        worker.ReconcilingWorker(["processing"], connection=connection).work(burst=True)
    finally:
        connection.delete(*held)
    assert time.monotonic() - started < 30
    stopped = Job.fetch(endless.id, connection=connection)
    assert stopped.get_status() == "failed"
    assert "JobTimeoutException" in (stopped.latest_result().exc_string or "")
    assert Job.fetch(after.id, connection=connection).return_value() == "finished"


def test_a_scans_worker_whose_job_hangs_past_its_timeout_exits_for_its_supervisor(app, redis_url):
    """A job stuck where the timeout cannot reach it (native code, here a long sleep) ends the
    worker, as RQ kills a horse that outlives its timeout: ``up`` starts it again and the
    reconcile queues the job again."""
    from pengesahan.jobs import queue, worker
    from tests.support.reliability import process_env

    queue.queue("processing").empty()
    # The queue's scheduler lock is this worker's to take (a scheduler of another test's may
    # have held it, and would keep this worker from starting its own).
    queue.redis_connection().delete(RQScheduler.get_locking_key("processing"))
    stuck = queue.queue("processing").enqueue("time.sleep", 120, job_timeout=1)
    script = ("import logging, sys, redis\n"
              "logging.basicConfig(level=logging.INFO)\n"
              "from pengesahan.jobs import worker\n"
              "worker.HUNG_JOB_GRACE = 1\n"
              "class W(worker.ReconcilingWorker):\n"
              "    def run_maintenance_tasks(self): pass\n"
              "W(['processing'], connection=redis.Redis.from_url(sys.argv[1]), job_monitoring_interval=1)"
              ".work(with_scheduler=True)\n")
    env = process_env(app.config["SETTINGS"], redis_url)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script, redis_url], env=env, capture_output=True, text=True,
                          timeout=90, check=False)
    try:
        assert done.returncode == worker.EXIT_HUNG_JOB, done.stderr[-2000:]
        assert time.monotonic() - started < 60
        assert f"job {stuck.id} ran" in done.stderr
        # RQ's scheduler, a child process of the worker, went with it.
        scheduler = int(re.search(r"Scheduler for processing started with PID (\d+)", done.stderr).group(1))
        with pytest.raises(ProcessLookupError):
            os.kill(scheduler, 0)
    finally:
        Job.fetch(stuck.id, connection=queue.redis_connection()).delete()


def _upload_writes_while_processed(settings, monkeypatch, progress_interval: float) -> tuple[list[str], list[str]]:
    """The statements writing the upload's row while a queued upload is processed, and those of
    them that write its progress alone."""
    from pengesahan.services import scans
    from tests.support.queries import StatementCounter

    upload = _queued_upload(settings)
    monkeypatch.setattr(scans, "PROGRESS_INTERVAL", progress_interval)
    with db.connection_context():
        counter = StatementCounter(monkeypatch)
        assert scans.process_upload(settings, upload.id) == "done"
    writes = [sql for sql in counter.statements if sql.lstrip().upper().startswith("UPDATE") and '"upload"' in sql]
    return writes, [sql for sql in writes if "progress" in sql and "checks" not in sql and "state" not in sql]


def test_a_scan_analysed_within_the_progress_interval_writes_its_upload_three_times(app, settings, monkeypatch):
    # Each write is a commit and a flush to disk, on the database the web's requests use: a
    # file analysed in a moment needs no progress on record, only its start, its checks and
    # its result.
    writes, progress_only = _upload_writes_while_processed(settings, monkeypatch, 3600.0)
    assert len(writes) == 3, writes
    assert not progress_only


def test_a_scan_analysed_for_longer_than_the_interval_reports_its_progress_on_the_way(app, settings, monkeypatch):
    _, progress_only = _upload_writes_while_processed(settings, monkeypatch, 0.0)
    assert len(progress_only) >= 3


class _RunDied(Exception):
    """What a run that never finished leaves behind, raised where the analysis would be."""


def test_a_file_whose_analysis_keeps_dying_is_failed_for_an_officer_not_run_for_ever(app, settings, monkeypatch,
                                                                                       make_user):
    """A run that never finished (its worker crashed in native code on this very file, was
    killed, or lost its database) leaves the upload running, and the reconcile queues it
    again. After MAX_INTERRUPTED_RUNS such runs in a row the upload fails with a reason,
    instead of taking down the scans worker every few seconds while the other uploads wait."""
    from pengesahan.records.dossiers import CheckTally, Upload
    from pengesahan.services import scans
    from pengesahan.services.uploads import reprocess_upload

    def dies(*args, **kwargs):
        raise _RunDied

    analyse = scans.analyse_scan
    upload = _queued_upload(settings)
    with db.connection_context():
        monkeypatch.setattr(scans, "analyse_scan", dies)
        for _ in range(scans.MAX_INTERRUPTED_RUNS - 1):
            with pytest.raises(_RunDied):
                scans.process_upload(settings, upload.id)
        monkeypatch.setattr(scans, "analyse_scan", analyse)
        assert scans.process_upload(settings, upload.id) == "done"  # interrupted, but not too often
        done = Upload.get_by_id(upload.id)
        assert done.interrupted_runs == 0  # a run that finishes starts the count again

        officer, _ = make_user("pelaksana", "pelaksana-ulang")
        reprocess_upload(done, actor=officer)
        monkeypatch.setattr(scans, "analyse_scan", dies)
        for _ in range(scans.MAX_INTERRUPTED_RUNS):
            with pytest.raises(_RunDied):
                scans.process_upload(settings, upload.id)
        assert scans.process_upload(settings, upload.id) == "failed"  # not analysed again
        failed = Upload.get_by_id(upload.id)
    assert failed.state == "failed"
    assert "terhenti" in failed.state_reason and "petugas" in failed.state_reason
    assert failed.checks == done.checks  # the results of the last run that finished stay
    # The dashboard no longer counts them: the upload is not processed any more.
    assert not failed.checks_tallied
    with db.connection_context():
        assert {row.uploads for row in CheckTally.select()} == {0}


def test_runs_the_machine_stops_are_not_counted_however_long_the_outage_lasts(app, settings, monkeypatch):
    """The file store unreachable (its directory moved away, as an unmounted share looks) stops
    every run. The upload waits as it was, a run that died before it still counted, and is
    analysed once the store is back: an outage is not the file's fault, and failing uploads for
    an officer after MAX_INTERRUPTED_RUNS of RQ's retries would lose the P3MI's work for it."""
    from pengesahan.errors import NotFound
    from pengesahan.records.dossiers import Upload
    from pengesahan.services import scans

    def dies(*args, **kwargs):
        raise _RunDied

    upload = _queued_upload(settings)
    files = settings.files_dir
    unmounted = files.with_name(files.name + "-unmounted")
    with db.connection_context():
        with monkeypatch.context() as patched:
            patched.setattr(scans, "analyse_scan", dies)
            with pytest.raises(_RunDied):
                scans.process_upload(settings, upload.id)
        files.rename(unmounted)
        try:
            for _ in range(scans.MAX_INTERRUPTED_RUNS + 1):
                with pytest.raises(NotFound):
                    scans.process_upload(settings, upload.id)
                waiting = Upload.get_by_id(upload.id)
                assert (waiting.state, waiting.interrupted_runs) == ("running", 0)  # as the run that died left it
        finally:
            unmounted.rename(files)
        assert scans.process_upload(settings, upload.id) == "done"
        assert Upload.get_by_id(upload.id).interrupted_runs == 0
