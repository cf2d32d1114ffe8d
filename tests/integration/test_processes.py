"""Several processes, one product: two web processes share what a visitor made in one, ``flask
up`` brings back a worker that died, and its worker processes what many clients send while
everything is still starting."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.support.reliability import (
    ROOT,
    descendants,
    free_port,
    process_env,
    scan_png,
    wait_until,
)
from tests.support.signing import make_agreement_pdf

# `up` runs on the session's Redis here: what it leaves queued is not the next test's.
pytestmark = pytest.mark.usefixtures("session_redis_emptied_after")


@contextlib.contextmanager
def _gunicorn(env: dict[str, str], log: Path):
    """One web process (gunicorn, one worker) on a free loopback port."""
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind",
                                    f"127.0.0.1:{port}", "app:create_app()"], cwd=ROOT, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(base), 60, 0.2, f"gunicorn on {port}; log: {log}")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/masuk", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.mark.slow
def test_a_report_made_in_one_web_process_downloads_from_another(app, settings, redis_url, demo_pki, tmp_path):
    trust = settings.data_dir / "trust"
    trust.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo_pki.trust_root_path, trust / "demo-root.pem")
    env = process_env(settings, redis_url)
    with _gunicorn(env, tmp_path / "web-a.log") as first, _gunicorn(env, tmp_path / "web-b.log") as second:
        with requests.Session() as visitor:
            form = visitor.get(f"{first}/verifikasi", timeout=10).text
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
            page = visitor.post(f"{first}/verifikasi", data={"csrf_token": token},
                                files={"file": ("pp.pdf", make_agreement_pdf(), "application/pdf")}, timeout=60)
        assert page.status_code == 200, page.text[:500]
        link = re.search(r'href="(/verifikasi/laporan/[^"]+\.json)"', page.text).group(1)
        report = requests.get(f"{second}{link}", timeout=10)
    assert report.status_code == 200 and report.json()["sha256"]


@pytest.mark.slow
def test_up_brings_back_a_worker_that_died(settings, redis_url, tmp_path):
    env = process_env(settings, redis_url, PORT=str(free_port()), DEMO_PKI_PORT=str(free_port()))
    log = tmp_path / "up.log"
    with log.open("ab") as out:
        up = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "up"], cwd=ROOT, env=env,
                              stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "Web: http" in log.read_text(errors="replace"), 240, 0.5, "up to serve")

        def workers() -> list[int]:
            found = []
            for pid in descendants(up.pid):
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                    if b"worker" in cmdline and b"flask" in b" ".join(cmdline):
                        found.append(pid)
            return found

        first = wait_until(workers, 60, 0.5, "the worker process")
        os.kill(first[0], signal.SIGKILL)
        restarted = wait_until(lambda: [p for p in workers() if p not in first], 30, 0.5, "a new worker")
        assert restarted
        assert "dijalankan ulang" in log.read_text(errors="replace")
    finally:
        _stop(up)
    time.sleep(0.5)
    assert not descendants(up.pid)


@pytest.mark.slow
def test_ctrl_c_stops_up_and_its_workers_without_restarting_any(settings, redis_url, tmp_path):
    # A terminal's Ctrl-C (and a service manager's stop) signals every process of the group at
    # once: the workers end on their own while up is still stopping the first of them.
    env = process_env(settings, redis_url, PORT=str(free_port()), DEMO_PKI_PORT=str(free_port()))
    log = tmp_path / "up.log"
    with log.open("ab") as out:
        up = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "up", "--workers", "3"], cwd=ROOT,
                              env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "Web: http" in log.read_text(errors="replace"), 240, 0.5, "up to serve")
        wait_until(lambda: log.read_text(errors="replace").count("started with PID") >= 1, 60, 0.5,
                   "the workers to start")
        time.sleep(2)
        os.killpg(up.pid, signal.SIGINT)
        assert up.wait(timeout=60) == 0
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
    text = log.read_text(errors="replace")
    assert "Selesai." in text
    assert "dijalankan ulang" not in text, text[-2000:]
    time.sleep(0.5)
    assert not descendants(up.pid)


def _stop(up: subprocess.Popen) -> None:
    up.send_signal(signal.SIGINT)
    try:
        up.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(up.pid, signal.SIGKILL)
        raise


def _client(base: str, token: str, number: int) -> list[int]:
    """One P3MI system: a dossier, then three KTP scans, sent as fast as the server answers."""
    headers = {"Authorization": f"Bearer {token}"}
    with requests.Session() as session:
        created = session.post(f"{base}/api/v1/dossiers", headers=headers, timeout=60, json={
            "candidate": {"nik": f"63090557089801{number:02d}", "name": f"CPMI SERENTAK {number}", "sex": "P",
                          "birth_date": "1998-08-17"},
            "destination_country": "Taiwan"})
        assert created.status_code == 201, created.text
        dossier = created.json()
        ktp = next(slot for slot in dossier["slots"] if slot["doc_type"] == "ktp")
        uploads = []
        for seed in range(3):
            sent = session.post(f"{base}/api/v1/dossiers/{dossier['id']}/slots/{ktp['id']}/uploads",
                                headers=headers, timeout=60,
                                files={"file": (f"ktp-{number}-{seed}.png", scan_png(number * 10 + seed))})
            assert sent.status_code == 202, sent.text
            uploads.append(sent.json()["id"])
        return uploads


@pytest.mark.slow
def test_the_worker_of_up_processes_what_many_clients_send_while_it_starts(settings, redis_url, tmp_path):
    port = free_port()
    # The clients and the polling below are one token's traffic: lift the per-token limit.
    env = process_env(settings, redis_url, PORT=str(port), DEMO_PKI_PORT=str(free_port()),
                      API_RATE_LIMIT="100000/minute")
    log = tmp_path / "up.log"
    with log.open("ab") as out:
        up = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "up"], cwd=ROOT, env=env,
                              stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        # The first answer of the web is the start: the worker is starting at the same moment.
        wait_until(lambda: _answers(base), 240, 0.05, f"up to serve; log: {log}")
        token = json.loads((settings.data_dir / "demo" / "credentials.json").read_text())["p3mi_token"]
        with ThreadPoolExecutor(max_workers=10) as pool:
            sent = [upload for uploads in pool.map(lambda n: _client(base, token, n), range(10))
                    for upload in uploads]
        assert len(sent) == 30

        def all_processed() -> bool:
            headers = {"Authorization": f"Bearer {token}"}
            answers = [requests.get(f"{base}/api/v1/uploads/{upload}", headers=headers, timeout=30)
                       for upload in sent]
            assert all(answer.status_code == 200 for answer in answers), answers[0].text
            states = [answer.json()["state"] for answer in answers]
            assert "failed" not in states
            return all(state == "done" for state in states)

        wait_until(all_processed, 300, 1.0, f"every upload processed; log: {log}")
        assert "Traceback" not in log.read_text(errors="replace")
    finally:
        _stop(up)
