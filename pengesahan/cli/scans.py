"""``classify``: the worker's analysis of scans, inline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from pengesahan.cli.database import prepare_database
from pengesahan.records.dossiers import Dossier

__all__ = ["classify_command"]


@click.command("classify", help="Klasifikasi dan periksa berkas pindaian (jalur yang sama dengan worker).")
@click.option("--json", "as_json", is_flag=True, help="Satu objek JSON per berkas, satu per baris.")
@click.option("--dossier", "dossier_id", type=int, help="Bandingkan duplikat dengan berkas CPMI ini.")
@click.option("--slot", "slot_type", help="Jenis slot tempat berkas diunggah (untuk type_match).")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@with_appcontext
def classify_command(as_json: bool, dossier_id: int | None, slot_type: str | None, files: tuple[Path, ...]):
    # OpenCV and the OCR engines load only for this command, not for every `flask` call.
    from pengesahan.services.scans import analyse_scan, scan_context

    prepare_database()
    dossier = None
    if dossier_id is not None:
        dossier = Dossier.get_or_none(Dossier.id == dossier_id)
        if dossier is None:
            raise click.ClickException(f"Berkas CPMI #{dossier_id} tidak ditemukan.")
    context = scan_context(dossier)
    settings = current_app.config["SETTINGS"]
    unreadable = 0
    for index, path in enumerate(files):
        note = None
        try:
            data = path.read_bytes()
        except OSError as exc:
            line = {"path": str(path), "type": None, "confidence": 0.0, "checks": [], "fields": {},
                    "error": f"Berkas tidak dapat dibaca: {exc.strerror}."}
        else:
            analysis = analyse_scan(settings, data, slot_type=slot_type, context=context)
            line = analysis.to_json(str(path))
            note = analysis.capture_note
            if dossier is not None and analysis.error is None:
                context.remember(analysis, upload_id=-(index + 1))  # later files compare with this one
        unreadable += 1 if line["error"] else 0
        if as_json:
            click.echo(json.dumps(line, ensure_ascii=False, default=str))
        else:
            failed = [c["name"] for c in line["checks"] if not c["ok"]]
            summary = line["error"] or ("semua pemeriksaan lolos" if not failed else "gagal: " + ", ".join(failed))
            click.echo(f"{path}: {line['type']} ({line['confidence']:.2f}) — {summary}"
                       + (f" ({note})" if note else ""))
    # Failed checks are findings, not errors; a file that could not be read or analysed is.
    sys.exit(1 if unreadable else 0)


@click.group("model", help="Model kantor yang belajar dari keputusan petugas: jenis dokumen dan cacat gambar.")
def model_group():
    pass


@model_group.command("train", help="Latih ulang dari keputusan petugas (worker melakukannya setiap malam): model "
                     "jenis dokumen dari dokumen yang diterima, model cacat gambar dari dokumen yang diterima "
                     "dan yang dikembalikan dengan alasan siap pakai; tampilkan mutunya pada contoh uji. "
                     "Keluar 1 bila contoh belum cukup untuk keduanya.")
@with_appcontext
def model_train_command():
    # scikit-learn loads for this command and on the worker only.
    from pengesahan.services import learning

    prepare_database()
    settings = current_app.config["SETTINGS"]
    quality = learning.retrain(settings)
    defects = learning.retrain_defects(settings)
    if quality is None:
        click.echo(learning.NOT_YET_TRAINED)
    else:
        click.echo(f"Model jenis dilatih dari {quality.examples} dokumen ({len(quality.per_type)} jenis): akurasi "
                   f"{quality.accuracy:.0%} dan F1 rata-rata {quality.macro_f1:.0%} pada {quality.held_out} "
                   "contoh uji.")
        for doc_type, count in quality.per_type.items():
            click.echo(f"  {doc_type:<24} {count}")
    if defects is None:
        click.echo(learning.DEFECTS_NOT_YET_TRAINED)
    else:
        click.echo("Model cacat gambar (diukur di luar lipatan latih):")
        for line in learning.describe_defect_models(defects):
            click.echo(f"  {line}")
    sys.exit(1 if quality is None and defects is None else 0)
