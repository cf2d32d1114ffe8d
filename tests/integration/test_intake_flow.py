"""An upload through the admin screen, processed by a real RQ worker on a real Redis; and the
``classify`` command."""

from __future__ import annotations

import datetime as dt
import gc
import io
import json

import pytest
from rq import Worker

from pengesahan.records.base import db


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    from bench import corpus

    out = tmp_path_factory.mktemp("corpus")
    samples = corpus.generate(out, per_type=1, seed=7, pdf_per_type=0, types=("ktp", "kartu_keluarga"))
    return {s.doc_type: s for s in samples}


@pytest.fixture
def dossier(app):
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    with db.connection_context():
        candidate = Candidate.create(nik="6309055708980002", name="SITI AMINAH", sex="P",
                                     birth_date=dt.date(1998, 8, 17))
        return open_dossier(candidate, Company.create(name="PT Uji"), actor=None)


def _slot(dossier, label):
    from pengesahan.records.dossiers import DocumentSlot

    with db.connection_context():
        return DocumentSlot.get((DocumentSlot.dossier == dossier.id) & (DocumentSlot.label == label))


def test_upload_is_stored_queued_and_processed_by_a_worker(app, client, make_user, login, dossier, corpus):
    from pengesahan.jobs import queue
    from pengesahan.records.dossiers import Upload

    _, password = make_user("pelaksana")
    login("pelaksana", password)
    kk_slot = _slot(dossier, "Kartu Keluarga")
    ktp_scan = corpus["ktp"].path.read_bytes()
    response = client.post(f"/admin/pemeriksaan/slot/{kk_slot.id}/unggah",
                           data={"file": (io.BytesIO(ktp_scan), "kk.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    with db.connection_context():
        upload = Upload.get(Upload.slot == kk_slot.id)
        assert upload.state == "queued" and upload.original_name == "kk.png"
    assert upload.processing_job_id in queue.queue("processing").job_ids
    stored = app.config["SETTINGS"].files_dir
    assert any(p.read_bytes() == ktp_scan for p in stored.rglob("*") if p.is_file())

    # A real forking worker, in burst mode: it runs what is queued and stops.
    worker = Worker(list(queue.QUEUES), connection=queue.redis_connection())
    assert worker.work(burst=True)
    with db.connection_context():
        upload = Upload.get_by_id(upload.id)
    assert upload.state == "done", upload.state_reason
    assert upload.classified_type == "ktp"
    checks = {c["name"]: c for c in upload.checks}
    # A KTP put into the Kartu Keluarga slot is caught.
    assert checks["type_match"]["ok"] is False
    assert upload.thumbnail_key and upload.normalised_key
    page = client.get(f"/admin/pemeriksaan/berkas/{dossier.id}").get_data(as_text=True)
    assert "type_match" in page and "terdeteksi sebagai" in page
    assert client.get(f"/berkas/unggahan/{upload.id}/thumbnail").mimetype == "image/png"


@pytest.mark.slow
def test_a_mirrored_capture_is_stored_set_right_and_the_officer_is_told(app, client, make_user, login,
                                                                     dossier, corpus, tmp_path):
    """A KTP taken with a front camera (a mirror image): the worker keeps how it set the capture
    right and why it took it for a KTP, and the officer's page says so beside the image."""
    import cv2
    import numpy as np

    from pengesahan.jobs import queue
    from pengesahan.records.dossiers import Upload

    _, password = make_user("pelaksana")
    login("pelaksana", password)
    ktp_slot = _slot(dossier, "KTP CPMI")
    card = cv2.imdecode(np.frombuffer(corpus["ktp"].path.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    mirrored = cv2.imencode(".png", cv2.flip(card, 1))[1].tobytes()
    response = client.post(f"/admin/pemeriksaan/slot/{ktp_slot.id}/unggah",
                           data={"file": (io.BytesIO(mirrored), "selfie.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    assert Worker(list(queue.QUEUES), connection=queue.redis_connection()).work(burst=True)
    with db.connection_context():
        upload = Upload.get(Upload.slot == ktp_slot.id)
    assert upload.state == "done", upload.state_reason
    assert (upload.classified_type, upload.capture_mirrored, upload.capture_rotation) == ("ktp", True, 0)
    assert upload.type_reasons and any("skor" in reason for reason in upload.type_reasons)
    page = client.get(f"/admin/pemeriksaan/berkas/{dossier.id}").get_data(as_text=True)
    assert "Gambar tercermin" in page
    # The command says it too (its JSON line keeps the agreed shape).
    selfie = tmp_path / "selfie.png"
    selfie.write_bytes(mirrored)
    said = app.test_cli_runner().invoke(args=["classify", "--slot", "ktp", str(selfie)])
    assert said.exit_code == 0 and "(Gambar tercermin" in said.output, said.output


# The grainy PNG is spooled by Werkzeug's test client to a temporary file it never closes (see
# the oversized upload below); it is collected here.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_soft_ktp_gets_its_blur_verdict_with_the_final_results(app, client, make_user, login, dossier,
                                                                 monkeypatch):
    """A KTP a little soft: the results stored while its text is read (what the P3MI and the
    officer see first) carry no blur verdict; the final ones pass it, its labels read whole."""
    from rq import SimpleWorker

    from pengesahan.jobs import queue
    from pengesahan.records.dossiers import Upload
    from pengesahan.services import scans
    from tests.support.images import png, soft_capture

    shown_early: list[dict] = []
    analyse_scan = scans.analyse_scan

    def watching(*args, on_checks=None, **kwargs):
        def stored_then_seen(results):
            on_checks(results)
            with db.connection_context():
                shown_early.append({c["name"]: c for c in Upload.get(Upload.slot == slot.id).checks})
        return analyse_scan(*args, on_checks=stored_then_seen, **kwargs)

    monkeypatch.setattr(scans, "analyse_scan", watching)
    _, password = make_user("pelaksana")
    login("pelaksana", password)
    slot = _slot(dossier, "KTP CPMI")
    response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah",
                           data={"file": (io.BytesIO(png(soft_capture(2.0))), "ktp.png")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    # In this process (no fork), so the watch above sees the early results as stored.
    assert SimpleWorker(list(queue.QUEUES), connection=queue.redis_connection()).work(burst=True)
    assert len(shown_early) == 1
    assert {"skew", "blank"} <= set(shown_early[0]) and "blur" not in shown_early[0]
    with db.connection_context():
        final = {c["name"]: c for c in Upload.get(Upload.slot == slot.id).checks}
    assert final["blur"]["ok"] and "label kartu terbaca utuh" in final["blur"]["message"]
    gc.collect()


def test_upgrade_to_v17_keeps_room_for_how_a_capture_was_set_right(app, dossier):
    """An installation upgraded to v17 keeps its uploads; those processed before say nothing of
    how their capture lay (None), rather than claiming it lay upright."""
    from playhouse.migrate import SchemaMigrator, migrate

    from pengesahan.records.base import is_sqlite
    from pengesahan.records.dossiers import Upload
    from pengesahan.records.schema import LATEST, SchemaVersion, upgrade
    from pengesahan.services.dossiers import add_upload

    added = ("capture_rotation", "capture_mirrored", "type_reasons")
    with db.connection_context():
        slot = _slot(dossier, "KTP CPMI")
        before = add_upload(slot, sha256="b" * 64, media_type="image/png", size=10, original_name="ktp.png",
                            actor=None)
        migrator = SchemaMigrator.from_database(db.obj)
        copied = {"legacy": True} if is_sqlite() else {}
        migrate(*(migrator.drop_column("upload", column, **copied) for column in added))
        SchemaVersion.delete().where(SchemaVersion.version >= 17).execute()
        assert upgrade() == list(range(17, LATEST + 1))
        assert set(added) <= {c.name for c in db.get_columns("upload")}
        kept = Upload.get_by_id(before.id)
        assert (kept.capture_rotation, kept.capture_mirrored, kept.capture_note) == (None, None, None)


def test_bad_upload_is_refused_and_nothing_is_recorded(app, client, make_user, login, dossier, tmp_path):
    from pengesahan.records.dossiers import Upload

    _, password = make_user("pelaksana")
    login("pelaksana", password)
    slot = _slot(dossier, "KTP CPMI")
    fake = tmp_path / "ktp.jpg"
    fake.write_bytes(b"MZ\x90\x00 bukan gambar" * 10)
    response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah",
                           data={"file": (io.BytesIO(fake.read_bytes()), "ktp.jpg")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "bukan JPG, PNG atau PDF" in response.get_data(as_text=True)
    with db.connection_context():
        assert Upload.select().count() == 0


# Werkzeug's test client spools a body this large to a temporary file it never closes; collect
# it here so the warning is not blamed on the next test.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_oversized_upload_gets_413(app, client, make_user, login, dossier, tmp_path):
    _, password = make_user("pelaksana")
    login("pelaksana", password)
    slot = _slot(dossier, "KTP CPMI")
    big = tmp_path / "besar.pdf"
    big.write_bytes(b"%PDF-1.7\n" + b"0" * (7 * 1024 * 1024))
    response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah",
                           data={"file": (io.BytesIO(big.read_bytes()), "besar.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "5 MB" in response.get_data(as_text=True)
    del response
    gc.collect()


def test_classify_command_prints_one_json_line_per_file(app, corpus, tmp_path):
    bad = tmp_path / "rusak.png"
    bad.write_bytes(corpus["ktp"].path.read_bytes()[:300])
    runner = app.test_cli_runner()
    result = runner.invoke(args=["classify", "--json", "--slot", "ktp", str(corpus["ktp"].path), str(bad),
                                 str(corpus["kartu_keluarga"].path)])
    # The unreadable file makes the exit code 1; every file still gets its line.
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["path"] for line in lines] == [str(corpus["ktp"].path), str(bad), str(corpus["kartu_keluarga"].path)]
    assert lines[0]["type"] == "ktp" and lines[0]["error"] is None
    assert {"path", "type", "confidence", "checks", "fields", "error"} == set(lines[0])
    assert lines[1]["error"] or not next(c for c in lines[1]["checks"] if c["name"] == "format")["ok"]
    assert lines[2]["type"] == "kartu_keluarga"
    assert next(c for c in lines[2]["checks"] if c["name"] == "type_match")["ok"] is False


def test_classify_compares_files_of_one_dossier_for_duplicates(app, corpus, dossier):
    runner = app.test_cli_runner()
    path = str(corpus["ktp"].path)
    result = runner.invoke(args=["classify", "--json", "--dossier", str(dossier.id), "--slot", "ktp", path, path])
    lines = [json.loads(line) for line in result.output.splitlines()]
    duplicate = [next(c for c in line["checks"] if c["name"] == "duplicate") for line in lines]
    assert duplicate[0]["ok"] is True and duplicate[1]["ok"] is False
