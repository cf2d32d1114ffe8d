"""The automatic checks measured against the officers' verdicts: a return names the defect of
the reason picked, an acceptance over a failed check is that check's false alarm, and the
dashboard shows both."""

from __future__ import annotations

import datetime as dt

import pytest

from pengesahan.errors import ServiceError
from pengesahan.records.base import db

BLUR_OK_NIK_FAILED = [{"name": "blur", "ok": True, "message": "Gambar tajam."},
                      {"name": "crop", "ok": True, "message": "Tepi lengkap."},
                      {"name": "nik", "ok": False, "message": "NIK berbeda dengan formulir."}]


@pytest.fixture
def dossier(app, make_user):
    """A submitted dossier whose KTP and KK slots each hold a processed upload."""
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.records.people import Candidate
    from pengesahan.services.dossiers import add_upload, open_dossier

    p3mi, _ = make_user("p3mi", "p3mi-a")
    with db.connection_context():
        candidate = Candidate.create(nik="6309055708980002", name="SITI AMINAH", sex="P",
                                     birth_date=dt.date(1998, 8, 17), birth_place="Tanjung")
        record = open_dossier(candidate, p3mi.company, actor=None)
        slots = {}
        for doc_type, checks in (("ktp", BLUR_OK_NIK_FAILED),
                                 ("kartu_keluarga", [{"name": "blur", "ok": True, "message": "Gambar tajam."}])):
            slot = record.slots.where(DocumentSlot.doc_type == doc_type, DocumentSlot.owner == "cpmi").get()
            upload = add_upload(slot, sha256=doc_type[0] * 64, media_type="image/png", size=1000,
                                original_name=f"{doc_type}.png", actor=None)
            Upload.update(state="done", classified_type=doc_type, confidence=0.9, checks=checks).where(
                Upload.id == upload.id).execute()
            slots[doc_type] = (slot.id, upload.id)
    return {"id": record.id, "slots": slots}


def _review(client, slot_id: int, **form):
    return client.post(f"/admin/pemeriksaan/slot/{slot_id}/tinjau", data=form, follow_redirects=True)


def _officer(make_user, login):
    user, password = make_user("pelaksana")
    login(user.username, password)
    return user


def test_a_return_with_a_picked_reason_names_its_defect_even_reworded(client, make_user, login, dossier):
    from pengesahan.records.dossiers import DocumentSlot, ReviewEvent

    _officer(make_user, login)
    slot_id, upload_id = dossier["slots"]["ktp"]
    _review(client, slot_id, decision="tolak", template="buram", reason="Foto KTP buram, mohon foto ulang.")
    with db.connection_context():
        assert DocumentSlot.get_by_id(slot_id).reason == "Foto KTP buram, mohon foto ulang."
        event = ReviewEvent.select().where(ReviewEvent.slot == slot_id).order_by(ReviewEvent.id.desc()).get()
        assert (event.to_status, event.upload_id, event.defect) == ("ditolak", upload_id, "blur")

    # Blur and legibility were not failed on it: the return is a blur the checks missed.
    home = client.get("/admin/").get_data(as_text=True)
    row = home[home.index('data-defect="blur"'):]
    row = row[:row.index("</tr>")]
    assert "Buram" in row and "<td>1</td>" in row and "0 (0%)" in row and "text-danger" in row


def test_a_return_naming_a_defect_a_check_had_seen_counts_as_caught(client, make_user, login, dossier):
    _officer(make_user, login)
    slot_id, _ = dossier["slots"]["ktp"]
    _review(client, slot_id, decision="tolak", template="nik_beda", reason="")
    home = client.get("/admin/").get_data(as_text=True)
    row = home[home.index('data-defect="nik_mismatch"'):]
    assert "1 (100%)" in row[:row.index("</tr>")]


def test_an_upload_accepted_over_a_failed_check_is_that_checks_false_alarm(client, make_user, login, dossier):
    from pengesahan.records.dossiers import ReviewEvent

    _officer(make_user, login)
    ktp, ktp_upload = dossier["slots"]["ktp"]
    kk, _ = dossier["slots"]["kartu_keluarga"]
    _review(client, ktp, decision="terima", template="", reason="NIK di formulir salah ketik; KTP benar.")
    # A clean upload accepted with the others counts among the accepted, overriding nothing.
    client.post(f"/admin/pemeriksaan/berkas/{dossier['id']}/terima-lolos", data={})
    with db.connection_context():
        event = ReviewEvent.select().where(ReviewEvent.slot == ktp).order_by(ReviewEvent.id.desc()).get()
        assert (event.to_status, event.upload_id, event.defect) == ("terverifikasi", ktp_upload, None)
        assert ReviewEvent.select().where(ReviewEvent.slot == kk, ReviewEvent.to_status == "terverifikasi").exists()

    home = client.get("/admin/").get_data(as_text=True)
    row = home[home.index('data-check-overridden="nik"'):]
    row = row[:row.index("</tr>")]
    assert "NIK / nomor" in row and "<td>1</td>" in row and "1 (100.0%)" in row
    assert 'data-check-overridden="blur"' not in home  # ran on both, failed neither
    assert "2 dokumen diterima petugas" in home


def test_the_figures_come_from_the_verdicts_of_the_last_weeks(app, make_user, dossier):
    from pengesahan.records.dossiers import DocumentSlot
    from pengesahan.services.dashboard import officers_verdicts
    from pengesahan.services.dossiers import review_slot

    officer, _ = make_user("pelaksana")
    with db.connection_context():
        review_slot(DocumentSlot.get_by_id(dossier["slots"]["ktp"][0]), accept=False, reason="Terpotong.",
                    actor=officer, defect="cropped")
        now = dt.datetime.now(dt.UTC)
        figures = officers_verdicts(now)
        cropped = next(d for d in figures.defects if d.defect == "cropped")
        assert (cropped.returned, cropped.caught, cropped.checks) == (1, 0, ("crop",))
        assert figures.checks == []  # nothing accepted
        # Nine weeks on, the verdict has left the dashboard's eight.
        assert officers_verdicts(now + dt.timedelta(weeks=9)).defects == []


@pytest.mark.parametrize(("accept", "defect"), [(False, "smudge"), (True, "blur")])
def test_a_defect_must_be_known_and_name_a_return(app, make_user, dossier, accept, defect):
    from pengesahan.records.dossiers import DocumentSlot, ReviewEvent, VerdictTally
    from pengesahan.services.dossiers import review_slot

    officer, _ = make_user("pelaksana")
    with db.connection_context():
        slot = DocumentSlot.get_by_id(dossier["slots"]["ktp"][0])
        events = ReviewEvent.select().count()
        with pytest.raises(ServiceError, match="Jenis cacat tidak dikenal"):
            review_slot(slot, accept=accept, reason="Alasan.", actor=officer, defect=defect)
        assert DocumentSlot.get_by_id(slot.id).status == "diajukan"
        assert ReviewEvent.select().count() == events and VerdictTally.select().count() == 0


def test_an_unknown_template_code_is_no_reason(client, make_user, login, dossier):
    from pengesahan.records.dossiers import DocumentSlot

    _officer(make_user, login)
    slot_id, _ = dossier["slots"]["ktp"]
    page = _review(client, slot_id, decision="tolak", template="tidak-ada", reason="").get_data(as_text=True)
    assert "Alasan penolakan wajib diisi." in page
    with db.connection_context():
        assert DocumentSlot.get_by_id(slot_id).status == "diajukan"


def test_a_return_before_processing_counts_nothing(app, make_user, dossier):
    from pengesahan.records.dossiers import DocumentSlot, Upload, VerdictTally
    from pengesahan.services.dossiers import review_slot

    officer, _ = make_user("pelaksana")
    slot_id, upload_id = dossier["slots"]["ktp"]
    with db.connection_context():
        Upload.update(state="queued", checks=None).where(Upload.id == upload_id).execute()
        review_slot(DocumentSlot.get_by_id(slot_id), accept=False, reason="Buram.", actor=officer, defect="blur")
        assert VerdictTally.select().count() == 0


def test_upgrade_to_v15_names_the_shipped_reasons_defects(app):
    from playhouse.migrate import SchemaMigrator, migrate

    from pengesahan.records.base import is_sqlite
    from pengesahan.records.catalogue import RejectionTemplate
    from pengesahan.records.dossiers import ReviewEvent, VerdictTally
    from pengesahan.records.schema import LATEST, SchemaVersion, upgrade

    with db.connection_context():
        RejectionTemplate.create(code="foto_lama", text="Pasfoto sudah lebih dari 6 bulan.")
        VerdictTally.drop_table()
        db.execute_sql('DROP INDEX IF EXISTS "review_event_upload_id"')
        migrator = SchemaMigrator.from_database(db.obj)
        # SQLite's own DROP COLUMN refuses a column a foreign key names: copy the table instead.
        copied = {"legacy": True} if is_sqlite() else {}
        migrate(migrator.drop_column("review_event", "upload_id", **copied),
                migrator.drop_column("review_event", "defect", **copied),
                migrator.drop_column("rejection_template", "defect", **copied))
        SchemaVersion.delete().where(SchemaVersion.version >= 15).execute()
        assert upgrade() == list(range(15, LATEST + 1))
        assert {"upload_id", "defect"} <= {c.name for c in db.get_columns("review_event")}
        defects = dict(RejectionTemplate.select(RejectionTemplate.code, RejectionTemplate.defect).tuples())
        assert defects["buram"] == "blur" and defects["terpotong"] == "cropped" and defects["nik_beda"] == "nik_mismatch"
        assert defects["foto_lama"] is None and defects["kedaluwarsa"] is None
        assert VerdictTally.table_exists() and ReviewEvent.select().where(ReviewEvent.upload.is_null(False)).count() == 0


def test_the_administrator_says_which_defect_an_office_reason_names(client, make_user, login, app):
    from pengesahan.records.catalogue import RejectionTemplate

    user, password = make_user("admin")
    login(user.username, password)
    form = client.get("/admin/rejectiontemplate/new/").get_data(as_text=True)
    assert 'value="glare"' in form and "Silau" in form
    client.post("/admin/rejectiontemplate/new/",
                data={"code": "pantulan_plastik", "text": "Sampul plastik memantulkan cahaya.", "defect": "glare"})
    client.post("/admin/rejectiontemplate/new/",
                data={"code": "foto_lama", "text": "Pasfoto sudah lebih dari 6 bulan.", "defect": ""})
    client.post("/admin/rejectiontemplate/new/",
                data={"code": "noda", "text": "Ada noda.", "defect": "smudge"})
    with db.connection_context():
        defects = dict(RejectionTemplate.select(RejectionTemplate.code, RejectionTemplate.defect).tuples())
    assert defects["pantulan_plastik"] == "glare" and defects["foto_lama"] is None
    assert "noda" not in defects  # not one of the defects the checks are measured by
