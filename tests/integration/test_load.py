"""Load: 200 uploads from 20 concurrent clients (own login, CSRF token, session each) to a real
server on 127.0.0.1, then two real burst workers. Every upload is stored exactly once and
processed; the count and the times are printed.

Bounded: a fixed number of requests, each with a timeout, and a deadline for the whole run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pengesahan.records.base import db
from tests.support.app import served
from tests.support.reliability import (
    RedisServer,
    WorkerProcess,
    dossier_with_slots,
    process_env,
    scan_png,
    wait_until,
)

CLIENTS = 20
UPLOADS_PER_CLIENT = 10
#: About 60 s on an idle 2-core machine; generous for a loaded one, still bounded.
DEADLINE_SECONDS = 240


@pytest.fixture
def installation(settings, tmp_path, make_user, monkeypatch):
    """The application behind waitress on a free loopback port, on a private Redis."""

    from app import create_app
    from pengesahan.cli.database import prepare_database
    from pengesahan.cli.run import waitress_options
    from pengesahan.jobs import queue

    redis_server = RedisServer(tmp_path / "redis")
    redis_server.start()
    load_settings = dataclasses.replace(settings, redis_url=redis_server.url)
    queue.reset_connection()
    application = create_app({"PROPAGATE_EXCEPTIONS": False}, settings=load_settings)  # CSRF on
    with application.app_context():
        prepare_database()
    db.close()
    with served(application, **waitress_options(load_settings)) as base:
        yield application, base, redis_server
    redis_server.stop()
    queue.reset_connection()


def _client_run(base: str, username: str, password: str, slot_ids: list[int], seeds: list[int]) -> list[tuple]:
    """One officer: log in with the CSRF token, then upload its files one after another."""
    results = []
    with requests.Session() as session:
        page = session.get(f"{base}/masuk", timeout=30).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = session.post(f"{base}/masuk", data={"username": username, "password": password,
                                                       "csrf_token": token}, timeout=30, allow_redirects=False)
        assert response.status_code == 302, response.status_code
        for slot_id, seed in zip(slot_ids, seeds, strict=True):
            data = scan_png(seed)
            response = session.post(f"{base}/admin/pemeriksaan/slot/{slot_id}/unggah",
                                    data={"csrf_token": token}, files={"file": (f"scan-{seed}.png", data)},
                                    timeout=60, allow_redirects=False)
            results.append((hashlib.sha256(data).hexdigest(), response.status_code))
    return results


@pytest.mark.slow
def test_200_uploads_from_20_clients_are_stored_once_and_processed(installation, settings, make_user, tmp_path):
    from pengesahan.records.dossiers import DocumentSlot, Upload

    application, base, redis_server = installation
    files_dir = application.config["SETTINGS"].files_dir
    plans = []
    for index in range(CLIENTS):
        username = f"pelaksana{index:02d}"
        _, password = make_user("pelaksana", username)
        dossier = dossier_with_slots(nik=f"63090557089{index:05d}", name=f"CPMI BEBAN {index}")
        with db.connection_context():
            slots = [s.id for s in dossier.slots.order_by(DocumentSlot.position)]
        slot_ids = [slots[i % len(slots)] for i in range(UPLOADS_PER_CLIENT)]
        seeds = [index * 1000 + i for i in range(UPLOADS_PER_CLIENT)]
        plans.append((username, password, slot_ids, seeds))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        futures = [pool.submit(_client_run, base, *plan) for plan in plans]
        results = [r for f in futures for r in f.result(timeout=DEADLINE_SECONDS)]
    upload_seconds = time.monotonic() - started
    assert len(results) == CLIENTS * UPLOADS_PER_CLIENT
    assert {status for _, status in results} == {302}, sorted({s for _, s in results})

    sent = [digest for digest, _ in results]
    with db.connection_context():
        rows = list(Upload.select(Upload.sha256, Upload.state))
    assert sorted(r.sha256 for r in rows) == sorted(sent), "each upload recorded exactly once"
    for digest in sent:
        assert files_dir.joinpath(digest[:2], digest[2:4], digest).exists()

    env = process_env(application.config["SETTINGS"], redis_server.url)
    processing_started = time.monotonic()
    workers = [WorkerProcess(env, tmp_path / f"worker-{i}.log", burst=True) for i in range(2)]
    remaining = DEADLINE_SECONDS - (time.monotonic() - started)
    for worker in workers:
        worker.wait(max(remaining, 10))

    def all_done():
        with db.connection_context():
            return Upload.select().where(Upload.state != "done").count() == 0

    wait_until(all_done, 10, 0.5, "every upload processed")
    processing_seconds = time.monotonic() - processing_started
    with db.connection_context():
        attempts = [u.attempts for u in Upload.select(Upload.attempts)]
    assert attempts == [1] * len(sent), "no upload processed twice"
    print(f"\nload: {len(sent)} uploads from {CLIENTS} clients stored in {upload_seconds:.1f} s "
          f"({len(sent) / upload_seconds:.1f}/s); processed by 2 workers in {processing_seconds:.1f} s "
          f"({len(sent) / processing_seconds:.1f}/s)")
