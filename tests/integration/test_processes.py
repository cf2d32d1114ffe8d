"""Several processes, one product: two web processes share what a visitor made in one, and
``flask up`` brings back a worker that died."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.support.reliability import ROOT, descendants, free_port, process_env, wait_until
from tests.support.signing import make_agreement_pdf


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
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(up.pid, signal.SIGKILL)
            raise
    time.sleep(0.5)
    assert not descendants(up.pid)
