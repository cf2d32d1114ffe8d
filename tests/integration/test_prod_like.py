"""The production-like layout: ``flask up`` with one worker per queue list, and
``scripts/prod-like.sh`` starting PostgreSQL, Redis, two web processes and three workers with
one command and stopping every one of them with one signal."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from redis import Redis
from rq import Worker

from tests.support.reliability import ROOT, descendants, free_port, process_env, wait_until

# `up` runs on the session's Redis here: what it leaves queued is not the next test's.
pytestmark = pytest.mark.usefixtures("session_redis_emptied_after")

LAYOUT = ["--worker-queues", "processing", "--worker-queues", "signing,maintenance",
          "--worker-queues", "notifications"]


def test_up_refuses_a_queue_that_does_not_exist(app):
    result = app.test_cli_runner().invoke(args=["up", "--worker-queues", "processing,scans"])
    assert result.exit_code == 2
    assert "antrean tidak dikenal: scans" in result.output


def _stop(process: subprocess.Popen, sig: int = signal.SIGINT) -> None:
    process.send_signal(sig)
    try:
        process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


@pytest.mark.slow
def test_up_runs_one_worker_per_queue_list(settings, redis_url, tmp_path):
    env = process_env(settings, redis_url, PORT=str(free_port()), DEMO_PKI_PORT=str(free_port()))
    log = tmp_path / "up.log"
    with log.open("ab") as out:
        up = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "up", *LAYOUT], cwd=ROOT, env=env,
                              stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: "Web: http" in log.read_text(errors="replace"), 240, 0.5, "up to serve")

        def served() -> list[list[str]]:
            ours = set(descendants(up.pid))
            return sorted(w.queue_names() for w in Worker.all(connection=Redis.from_url(redis_url)) if w.pid in ours)

        assert wait_until(lambda: len(served()) == 3 and served(), 90, 0.5, "three workers registered") == [
            ["notifications"], ["processing"], ["signing", "maintenance"]]
    finally:
        _stop(up)
    assert not descendants(up.pid)


@pytest.mark.slow
# The stack's own PostgreSQL: on a fresh machine only the PostgreSQL run (which installs the
# server) can run this test, so it is one of that run's tests.
@pytest.mark.database
@pytest.mark.skipif(not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")), reason="PostgreSQL tidak terpasang")
@pytest.mark.skipif(shutil.which("runuser") is None and os.geteuid() == 0, reason="runuser tidak ada")
def test_prod_like_starts_everything_and_one_signal_stops_everything(tmp_path):
    port, pg_port, redis_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DATABASE_URL", "REDIS_URL"))}
    env.update(PORT=str(port), PG_PORT=str(pg_port), REDIS_PORT=str(redis_port), DEMO_PKI_PORT=str(free_port()))
    log = tmp_path / "prod-like.log"
    with log.open("ab") as out:
        script = subprocess.Popen(["bash", "scripts/prod-like.sh"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    started: list[int] = []
    try:
        wait_until(lambda: "prod-like: web di" in log.read_text(errors="replace"), 300, 0.5, f"the stack; {log}")
        work = Path(log.read_text().split("data di ")[1].split()[0])
        assert requests.get(f"http://127.0.0.1:{port}/masuk", timeout=10).status_code == 200
        started = descendants(script.pid)
        commands = []
        for pid in started:
            with contextlib.suppress(OSError):
                commands.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        text = "\n".join(commands)
        assert "redis-server" in text and "gunicorn" in text
        # A set: a worker busy with a job has a work horse with the same command line.
        assert sorted({c.split("--queue=", 1)[1].strip() for c in commands if "--queue=" in c}) == [
            "notifications", "processing", "signing --queue=maintenance"], text
        assert (work / "data" / "demo" / "credentials.json").exists()
    finally:
        _stop(script, signal.SIGTERM)

    def leftovers() -> list[str]:
        found = []
        for pid in started:
            with contextlib.suppress(OSError):
                if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z":
                    found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        return found

    # A child may take a moment to finish exiting after the script (a work horse, a backend);
    # none may stay.
    wait_until(lambda: not leftovers(), 20, 0.5, "every process of the stack to end")
    assert not work.exists()
    for gone in (port, pg_port, redis_port):  # PostgreSQL runs detached from the script: its port says
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{gone}/", timeout=5)
