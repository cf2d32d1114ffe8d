"""The office's type model from the officers' decisions: which uploads are examples, training
by command and on the worker's daily round, and what the dashboard says about it."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from click.testing import CliRunner

from bench.corpus import build
from pengesahan.records.base import db

TYPES = ("ktp", "kartu_keluarga", "surat_sehat")


def _dossier(index: int):
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    company = Company.get_or_none(Company.name == "PT Belajar") or Company.create(name="PT Belajar")
    candidate = Candidate.create(nik=f"630905570898{index:04d}", name=f"CPMI {index}", sex="P",
                                 birth_date=dt.date(1998, 8, 17))
    return open_dossier(candidate, company, actor=None)


def _upload(slot, text: str | None, seed: int):
    from pengesahan.records.dossiers import Upload

    return Upload.create(slot=slot, sha256=hashlib.sha256(f"{slot.id}-{seed}".encode()).hexdigest(),
                         media_type="image/png", size=1000, state="done", ocr_text=text)


def _seed(accepted_per_type: int) -> dict:
    """Dossiers whose KTP, KK and health-letter slots an officer accepted, and some that do not
    count: a rejected slot, an older upload replaced in its slot, an upload without text."""
    from pengesahan.records.dossiers import DocumentSlot

    expected = []
    for index in range(accepted_per_type):
        dossier = _dossier(index)
        for code in TYPES:
            slot = dossier.slots.where(DocumentSlot.doc_type == code).first()
            _upload(slot, "TEKS LAMA YANG DIGANTI", 0)
            newest = _upload(slot, build(code, index)[0].ground_truth(), 1)
            DocumentSlot.update(status="terverifikasi").where(DocumentSlot.id == slot.id).execute()
            expected.append((newest.ocr_text, code))
    rejected = _dossier(900).slots.where(DocumentSlot.doc_type == "ktp").first()
    _upload(rejected, build("surat_sehat", 99)[0].ground_truth(), 1)
    DocumentSlot.update(status="ditolak").where(DocumentSlot.id == rejected.id).execute()
    silent = _dossier(901).slots.where(DocumentSlot.doc_type == "ktp").first()
    _upload(silent, None, 1)
    DocumentSlot.update(status="terverifikasi").where(DocumentSlot.id == silent.id).execute()
    return {"expected": expected}


def test_examples_are_the_newest_upload_of_each_accepted_slot(app):
    from pengesahan.services import learning

    with db.connection_context():
        seeded = _seed(3)
        examples = learning.labelled_examples()
        capped = learning.labelled_examples(per_type=2)
    assert sorted((e.text, e.doc_type) for e in examples) == sorted(seeded["expected"])
    assert sorted(e.doc_type for e in capped) == sorted(TYPES * 2)


def test_the_model_is_trained_by_command_audited_and_shown_on_the_dashboard(app, client, make_user, login):
    from pengesahan.cli.scans import model_group
    from pengesahan.records.audit import AuditEntry
    from pengesahan.services import learning

    runner = CliRunner()
    settings = app.config["SETTINGS"]
    officer, password = make_user("pelaksana")
    login(officer.username, password)
    assert "Model jenis dokumen belum dilatih" in client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        too_few = runner.invoke(model_group, ["train"])
    assert too_few.exit_code == 1 and "Model jenis dokumen belum dilatih" in too_few.output

    with db.connection_context():
        _seed(12)
    with app.app_context():
        trained = runner.invoke(model_group, ["train"])
    assert trained.exit_code == 0, trained.output
    assert "akurasi" in trained.output and "3 jenis" in trained.output
    quality = learning.model_quality(settings)
    assert quality.examples == 36 and set(quality.per_type) == set(TYPES)
    model = learning.current_model(settings)
    text = build("kartu_keluarga", 500)[0].ground_truth()
    probabilities = model.probabilities(text)
    assert max(probabilities, key=probabilities.get) == "kartu_keluarga"
    with db.connection_context():
        entry = AuditEntry.get(AuditEntry.action == "model.retrain")
        assert entry.details["examples"] == 36
    page = client.get("/admin/").get_data(as_text=True)
    assert "data-type-model" in page and f"pada {quality.held_out} contoh uji" in page


def test_the_workers_queue_the_training_once_a_day(settings, redis_url):
    import redis

    from pengesahan.jobs.queue import TRAIN_TYPE_MODEL, queue
    from pengesahan.jobs.worker import schedule_type_model_training

    connection = redis.Redis.from_url(redis_url)
    connection.delete("pengesahan:type-model:queued")
    assert schedule_type_model_training(connection) is True
    assert schedule_type_model_training(connection) is False  # another worker, the same day
    jobs = [job for job in queue("maintenance", connection).get_jobs() if job.func_name == TRAIN_TYPE_MODEL]
    assert len(jobs) == 1
    for job in jobs:
        job.delete()
    connection.delete("pengesahan:type-model:queued")


@pytest.mark.slow
def test_the_training_job_trains_on_the_worker(app, settings, redis_url):
    from rq import SimpleWorker

    from pengesahan.jobs.queue import TRAIN_TYPE_MODEL, enqueue, queue, redis_connection
    from pengesahan.services import learning

    with db.connection_context():
        _seed(12)
    job = enqueue("maintenance", TRAIN_TYPE_MODEL)
    SimpleWorker([queue("maintenance")], connection=redis_connection()).work(burst=True)
    job.refresh()
    assert job.is_finished, job.exc_info
    assert job.return_value()["examples"] == 36
    assert learning.model_quality(settings).examples == 36


def _text_pdf(text: str) -> bytes:
    """A born-digital PDF page carrying ``text`` in its text layer (read without OCR)."""
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    y = 800
    for line in text.splitlines():
        pdf.drawString(40, y, line[:110])
        y -= 14
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_every_scan_is_read_with_the_office_model_and_its_text_is_kept(app):
    """After training, the worker's analysis carries the model's say in the reasons, and the text
    it read is kept on the upload (the next training's example)."""
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.services import learning, scans
    from pengesahan.services.dossiers import add_upload
    from pengesahan.storage import file_store

    settings = app.config["SETTINGS"]
    text = build("kartu_keluarga", 777)[0].ground_truth()
    data = _text_pdf(text)
    with db.connection_context():
        before = scans.analyse_scan(settings, data, slot_type="kartu_keluarga", context=scans.scan_context())
        assert before.doc_type == "kartu_keluarga" and not any("model kantor" in r for r in before.reasons)
        _seed(12)
        assert learning.retrain(settings).weight > 0
        after = scans.analyse_scan(settings, data, slot_type="kartu_keluarga", context=scans.scan_context())
        assert after.doc_type == "kartu_keluarga" and after.confidence >= before.confidence
        assert any("model kantor setuju" in r for r in after.reasons)

        slot = _dossier(950).slots.where(DocumentSlot.doc_type == "kartu_keluarga").first()
        key = file_store(settings).put(data)
        upload = add_upload(slot, sha256=key, media_type="application/pdf", size=len(data),
                            original_name="kk.pdf", actor=None)
        assert scans.process_upload(settings, upload.id) == "done"
        stored = Upload.get_by_id(upload.id)
        assert "KARTU KELUARGA" in stored.ocr_text.upper() and stored.classified_type == "kartu_keluarga"


def test_a_look_alike_cue_keeps_the_model_from_naming_the_type():
    from processing.classify import vetoed_types

    assert vetoed_types("KARTU NPWP\nNOMOR POKOK WAJIB PAJAK\n09.254.294.3-407.000") == ("ktp",)
    assert vetoed_types(build("ktp", 3)[0].ground_truth()) == ()
