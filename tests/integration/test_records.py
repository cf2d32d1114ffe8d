"""Records: schema upgrades, the audit chain, the dossier workflow and the file store."""

from __future__ import annotations

import datetime as dt

import pytest

from pengesahan import workflow
from pengesahan.errors import Conflict, NotFound, ServiceError
from pengesahan.records.base import db


@pytest.fixture
def conn(app):
    with db.connection_context():
        yield


def test_upgrade_is_versioned_and_idempotent(conn):
    from pengesahan.records.schema import LATEST, current_version, upgrade

    assert current_version() == LATEST
    assert upgrade() == []


def test_upgrade_adds_columns_an_older_installation_lacks(conn):
    from pengesahan.records.people import User
    from pengesahan.records.schema import LATEST, SchemaVersion, current_version, upgrade

    db.execute_sql('ALTER TABLE "user" DROP COLUMN nip')
    SchemaVersion.delete().where(SchemaVersion.version >= 3).execute()
    assert "nip" not in {c.name for c in db.get_columns("user")}
    assert upgrade() == list(range(3, LATEST + 1))  # v4 (webhook tables) and later are pending as well
    assert "nip" in {c.name for c in db.get_columns("user")}
    assert current_version() == LATEST
    User.create(username="baru", password_hash="x", role="pelaksana", nip="199001012020011001")


@pytest.mark.parametrize(("stored", "after"), [(70.0, 55.0), (60.0, 60.0)])
def test_upgrade_to_v12_moves_the_shipped_washed_out_limit_only(conn, stored, after):
    from pengesahan.records.catalogue import CheckThreshold
    from pengesahan.records.schema import SchemaVersion, upgrade
    from processing.spec import DEFAULT_THRESHOLDS

    assert DEFAULT_THRESHOLDS["exposure_ink"] == 55.0
    CheckThreshold.update(value=stored).where(CheckThreshold.check == "exposure_ink").execute()
    SchemaVersion.delete().where(SchemaVersion.version >= 12).execute()
    assert 12 in upgrade()
    # The shipped 70 follows the new measure; a limit the office chose stays.
    assert CheckThreshold.get(CheckThreshold.check == "exposure_ink", CheckThreshold.doc_type == "").value == after


def test_seeded_configuration_follows_the_sop(conn):
    from pengesahan.records.catalogue import DocumentType, Requirement, SlaSetting

    codes = {t.code for t in DocumentType.select()}
    assert {"ktp", "kartu_keluarga", "perjanjian_penempatan", "surat_sehat", "bpjs_tk"} <= codes
    labels = [r.slot_label for r in Requirement.select().order_by(Requirement.position)]
    assert labels[0] == "Surat Permohonan" and "KTP CPMI" in labels and "KTP Petugas" in labels
    assert SlaSetting.get(SlaSetting.code == "pemeriksaan").working_days == 1
    assert SlaSetting.get(SlaSetting.code == "layanan").working_days == 3


def _drop_audit_guards():
    """What an attacker with database access does first: remove the append-only triggers."""
    from pengesahan.records.base import is_sqlite

    if is_sqlite():
        db.execute_sql("DROP TRIGGER audit_entry_no_update")
        db.execute_sql("DROP TRIGGER audit_entry_no_delete")
    else:
        db.execute_sql("DROP TRIGGER audit_entry_append_only ON audit_entry")


def _sql(statement: str) -> str:
    return statement.replace("?", db.obj.param)


def test_audit_chain_detects_an_edited_entry(conn):
    from pengesahan.records import audit

    for i in range(5):
        audit.record("pelaksana", "slot.reject", f"slot:{i}", reason=f"alasan {i}")
    assert audit.verify_chain().ok
    third = audit.AuditEntry.select().order_by(audit.AuditEntry.id).offset(2).first()
    # The database refuses edits; an attacker with file access drops the trigger first.
    with pytest.raises(Exception, match="append-only"):
        with db.atomic():
            db.execute_sql(_sql("UPDATE audit_entry SET actor = 'x' WHERE id = ?"), (third.id,))
    _drop_audit_guards()
    db.execute_sql(_sql("UPDATE audit_entry SET details = ? WHERE id = ?"), ('{"reason": "diubah"}', third.id))
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_broken_id == third.id


def test_audit_chain_detects_a_deleted_entry(conn):
    from pengesahan.records import audit

    for i in range(3):
        audit.record("admin", "config.update", f"setting:{i}")
    second = audit.AuditEntry.select().order_by(audit.AuditEntry.id).offset(1).first()
    _drop_audit_guards()
    db.execute_sql(_sql("DELETE FROM audit_entry WHERE id = ?"), (second.id,))
    report = audit.verify_chain()
    assert report.first_broken_id == second.id + 1


def test_audit_chain_is_verified_batch_by_batch_across_the_batch_boundaries(conn, monkeypatch):
    from pengesahan.records import audit

    monkeypatch.setattr(audit, "CHAIN_BATCH", 3)
    for i in range(7):
        audit.record("pelaksana", "slot.accept", f"slot:{i}")
    report = audit.verify_chain()
    assert report.ok and report.entries == 7
    fifth = audit.AuditEntry.select().order_by(audit.AuditEntry.id).offset(4).first()
    _drop_audit_guards()
    db.execute_sql(_sql("UPDATE audit_entry SET actor = ? WHERE id = ?"), ("orang lain", fifth.id))
    assert audit.verify_chain().first_broken_id == fifth.id


def test_concurrent_appenders_keep_one_chain(app):
    """Writers appending at once (each in its own transaction, the entry last, as uploads do)
    never share a predecessor: on PostgreSQL the chain's lock and the read of its head are sent
    together, and the read must still see the entry its predecessor committed."""
    from concurrent.futures import ThreadPoolExecutor

    from pengesahan.records import audit
    from pengesahan.records.base import write_transaction
    from pengesahan.records.people import Company

    def append(n: int) -> None:
        with db.connection_context():
            for k in range(5):
                with write_transaction():
                    Company.create(name=f"PT Serentak {n}-{k}")
                    audit.record("uji", "uji.serentak", f"company:{n}-{k}")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(8)))
    with db.connection_context():
        report = audit.verify_chain()
        assert report.ok, report
        assert audit.AuditEntry.select().where(audit.AuditEntry.action == "uji.serentak").count() == 40


def test_pending_entries_are_linked_before_the_next_entry_and_in_the_order_written(conn):
    from pengesahan.records import audit

    audit.record("admin", "config.update", "setting:1")
    for i in range(3):
        audit.record_pending(f"p3mi-{i}", "upload.add", f"slot:{i}", upload=i, sha256="ab" * 32)
    # Written, not yet in the chain: the chain as it was still verifies.
    assert audit.pending_count() == 3 and audit.AuditEntry.select().count() == 1
    assert audit.verify_chain().ok
    audit.record("pelaksana", "slot.accept", "slot:0")
    chain = [(e.actor, e.action, e.details) for e in audit.AuditEntry.select().order_by(audit.AuditEntry.id)]
    assert chain == [("admin", "config.update", {}),
                     ("p3mi-0", "upload.add", {"upload": 0, "sha256": "ab" * 32}),
                     ("p3mi-1", "upload.add", {"upload": 1, "sha256": "ab" * 32}),
                     ("p3mi-2", "upload.add", {"upload": 2, "sha256": "ab" * 32}),
                     ("pelaksana", "slot.accept", {})]
    assert audit.pending_count() == 0
    report = audit.verify_chain()
    assert report.ok and report.entries == 5


def test_a_pending_entry_keeps_the_time_it_was_written_and_rolls_back_with_its_transaction(conn):
    from pengesahan.records import audit
    from pengesahan.records.base import write_transaction

    audit.record_pending("p3mi", "upload.refused", "slot:7", reason="Bukan PDF")
    written_at = audit.PendingAuditEntry.get().at
    with pytest.raises(RuntimeError), write_transaction():
        audit.record_pending("p3mi", "upload.add", "slot:8")
        raise RuntimeError("upload gagal")
    assert audit.link_pending() == 1
    entry = audit.AuditEntry.get(audit.AuditEntry.action == "upload.refused")
    assert entry.at == written_at and entry.details == {"reason": "Bukan PDF"}
    assert not audit.AuditEntry.select().where(audit.AuditEntry.subject == "slot:8").exists()
    assert audit.verify_chain().ok


def test_pending_entries_are_linked_batch_by_batch(conn, monkeypatch):
    from pengesahan.records import audit

    monkeypatch.setattr(audit, "LINK_BATCH", 3)
    for i in range(7):
        audit.record_pending("p3mi", "upload.add", f"slot:{i}")
    assert audit.link_pending() == 7
    assert [e.subject for e in audit.AuditEntry.select().order_by(audit.AuditEntry.id)] == [
        f"slot:{i}" for i in range(7)]
    assert audit.verify_chain().ok and audit.pending_count() == 0


def test_a_pending_entry_cannot_be_changed_before_it_is_linked(conn):
    from pengesahan.records import audit

    audit.record_pending("p3mi-a", "upload.add", "slot:1")
    with pytest.raises(Exception, match="not changed"):
        with db.atomic():
            db.execute_sql("UPDATE audit_pending SET actor = 'p3mi-b'")
    audit.link_pending()
    assert audit.AuditEntry.get(audit.AuditEntry.subject == "slot:1").actor == "p3mi-a"


def test_entries_written_while_others_link_are_all_linked_once(app):
    """Uploads write pending entries while the worker and officers link them: each entry ends
    up in the chain exactly once. On PostgreSQL an entry with a lower id can commit after a
    linker read the pending ones: it must be left for the next batch, not deleted unlinked."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from pengesahan.records import audit
    from pengesahan.records.base import write_transaction
    from pengesahan.records.people import Company

    writing = threading.Event()
    writing.set()

    def write(n: int) -> None:
        with db.connection_context():
            for k in range(20):
                with write_transaction():
                    Company.create(name=f"PT Tertunda {n}-{k}")
                    audit.record_pending("p3mi", "uji.tertunda", f"company:{n}-{k}")

    def link() -> None:
        with db.connection_context():
            while writing.is_set():
                audit.link_pending()
                audit.record("pelaksana", "uji.tautkan", "slot:0")

    with ThreadPoolExecutor(8) as pool:
        linkers = [pool.submit(link) for _ in range(2)]
        list(pool.map(write, range(6)))
        writing.clear()
        for linker in linkers:
            linker.result()
    with db.connection_context():
        audit.link_pending()
        subjects = [e.subject for e in audit.AuditEntry.select().where(audit.AuditEntry.action == "uji.tertunda")]
        assert sorted(subjects) == sorted(f"company:{n}-{k}" for n in range(6) for k in range(20))
        assert audit.pending_count() == 0
        assert audit.verify_chain().ok


def _dossier(married: bool = False):
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    candidate = Candidate.create(nik="6309055708980002", name="SITI AMINAH", sex="P",
                                 birth_date=dt.date(1998, 8, 17),
                                 marital_status="kawin" if married else "belum_kawin")
    company = Company.create(name="PT Uji")
    return open_dossier(candidate, company, actor=None, destination_country="Taiwan")


def test_requirement_matrix_applies_conditions(conn):
    single = _dossier(married=False)
    assert "surat_nikah" not in {s.doc_type for s in single.slots}
    assert len(single.slots) == 16
    from pengesahan.records.people import Candidate
    from pengesahan.services.dossiers import open_dossier

    married = Candidate.create(nik="6309021203950001", name="RUDI", sex="L",
                               birth_date=dt.date(1995, 3, 12), marital_status="kawin")
    dossier = open_dossier(married, single.company, actor=None)
    assert "surat_nikah" in {s.doc_type for s in dossier.slots}


def test_review_round_trip_keeps_history(conn, make_user):
    from pengesahan.records.dossiers import DocumentSlot, ReviewEvent
    from pengesahan.services.dossiers import add_upload, review_slot, verify_dossier

    officer, _ = make_user("pelaksana")
    dossier = _dossier()
    ktp = dossier.slots.where(DocumentSlot.label == "KTP CPMI").get()
    first = add_upload(ktp, sha256="a" * 64, media_type="image/png", size=10, original_name="ktp.png", actor=officer)
    with pytest.raises(ServiceError, match="Alasan penolakan wajib"):
        review_slot(ktp, accept=False, reason=" ", actor=officer)
    review_slot(ktp, accept=False, reason="Dokumen buram.", actor=officer)
    ktp = DocumentSlot.get_by_id(ktp.id)
    assert ktp.status == "ditolak" and ktp.reason == "Dokumen buram."
    assert ktp.dossier.status == "ditolak"
    with pytest.raises(Conflict):
        verify_dossier(ktp.dossier, actor=officer)
    from pengesahan.records.dossiers import Dossier

    Dossier.update(check_due_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).where(Dossier.id == dossier.id).execute()
    service_due = Dossier.get_by_id(dossier.id).service_due_at
    second = add_upload(ktp, sha256="b" * 64, media_type="image/png", size=11, original_name="ktp2.png", actor=officer)
    ktp = DocumentSlot.get_by_id(ktp.id)
    assert ktp.status == "diajukan" and ktp.dossier.status == "diajukan"
    # Resubmission restarts the one-day check clock, not the service clock.
    assert ktp.dossier.check_due_at > dt.datetime.now(dt.UTC)
    assert ktp.dossier.service_due_at == service_due
    assert ktp.current_upload.id == second.id and first.id != second.id
    from pengesahan.records.dossiers import with_current_uploads

    # Read for all slots at once: the newest upload of each, none for a slot without one.
    page = {s.id: s.current_upload for s in with_current_uploads(ktp.dossier.slots)}
    assert page[ktp.id].id == second.id
    assert sum(upload is None for upload in page.values()) == len(page) - 1
    assert [u.id for u in ktp.uploads.order_by(ktp.uploads.model.id)] == [first.id, second.id]
    for slot in ktp.dossier.slots:
        if slot.status == "kosong":
            add_upload(slot, sha256="c" * 64, media_type="image/png", size=1, original_name="x", actor=officer)
        review_slot(DocumentSlot.get_by_id(slot.id), accept=True, reason="", actor=officer)
    verify_dossier(ktp.dossier, actor=officer)
    transitions = [(e.from_status, e.to_status) for e in
                   ReviewEvent.select().where(ReviewEvent.slot.is_null(), ReviewEvent.dossier == dossier.id)
                   .order_by(ReviewEvent.id)]
    assert transitions == [("diajukan", "ditolak"), ("ditolak", "diajukan"), ("diajukan", "terverifikasi")]


def test_status_transitions_are_enforced():
    with pytest.raises(Conflict, match="Terverifikasi"):
        workflow.check_transition("dossier", "terverifikasi", "ditolak")
    with pytest.raises(Conflict):
        workflow.check_transition("agreement", "menunggu_verifikasi", "ditandatangani")
    workflow.check_transition("agreement", "terverifikasi", "ditandatangani")


def test_working_days_skip_weekends():
    friday = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    assert workflow.add_working_days(friday, 1) == dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    assert workflow.add_working_days(friday, 3).weekday() == 2
    saturday = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
    assert workflow.add_working_days(saturday, 1).date() == dt.date(2026, 11, 24)


def test_file_store_is_content_addressed_and_read_only(tmp_path):
    import hashlib
    import os

    from pengesahan.storage import LocalFileStore

    store = LocalFileStore(tmp_path)
    key = store.put(b"%PDF-1.7 isi")
    assert key == hashlib.sha256(b"%PDF-1.7 isi").hexdigest()
    assert store.put(b"%PDF-1.7 isi") == key
    assert store.read(key) == b"%PDF-1.7 isi"
    assert not os.access(store.path(key), os.W_OK) or os.geteuid() == 0
    assert oct(store.path(key).stat().st_mode & 0o777) == "0o440"
    with pytest.raises(NotFound):
        store.read("../../etc/passwd")
    with pytest.raises(NotFound):
        store.read("0" * 64)


def test_upgrade_to_v5_keeps_sks_that_signatures_rest_on(conn):
    """Before v5 an SK on record sufficed: SKs already used for signatures count as confirmed
    from their entry (audited); unused ones stay drafts for their maker to confirm."""
    import datetime as dt

    from pengesahan.records.agreements import Agreement, Delegation, Signature
    from pengesahan.records.audit import AuditEntry
    from pengesahan.records.people import Candidate, Company, Official
    from pengesahan.records.schema import LATEST, SchemaVersion, upgrade
    from pengesahan.services.dossiers import open_dossier

    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    kadis = Official.create(name="Kadis", nip="1", rank="IV/b", position="kepala_dinas")
    sekdis = Official.create(name="Sekdis", nip="2", rank="IV/a", position="sekretaris_dinas")
    used = Delegation.create(number="SK/1", date=start.date(), delegating=kadis, delegated=sekdis,
                             valid_from=start, created_at=start)
    unused = Delegation.create(number="SK/2", date=start.date(), delegating=kadis, delegated=sekdis,
                               valid_from=start)
    dossier = open_dossier(Candidate.create(nik="6309055708980002", name="X", sex="P",
                                            birth_date=dt.date(1998, 8, 17)), Company.create(name="PT"), actor=None)
    agreement = Agreement.create(dossier=dossier, number="PP/1", status="ditandatangani")
    Signature.create(agreement=agreement, official=sekdis, delegation=used, field_name="f", level="B-LTA",
                     signed_at=start + dt.timedelta(days=3), result_sha256="a" * 64)
    SchemaVersion.delete().where(SchemaVersion.version >= 5).execute()
    assert upgrade() == list(range(5, LATEST + 1))
    assert Delegation.get_by_id(used.id).confirmed_at == start
    assert Delegation.get_by_id(unused.id).confirmed_at is None
    assert AuditEntry.select().where(AuditEntry.action == "delegation.confirmed_by_upgrade").count() == 1


def test_a_prepared_select_answers_as_the_query_it_prepares(conn):
    """Built once, run with new values each time: the same rows (joined records included) as
    the query itself gives, never a previous run's, and None when nothing matches."""
    from pengesahan.records.base import PreparedSelect
    from pengesahan.records.people import Company, User

    first, second = Company.create(name="PT Satu"), Company.create(name="PT Dua")
    for company, name in ((first, "satu"), (second, "dua")):
        User.create(username=name, password_hash="!", role="p3mi", company=company)

    def by_company(company_id):
        return (User.select(User, Company).join(Company).where(Company.id == company_id)
                .order_by(User.username))

    prepared = PreparedSelect(by_company)
    for company in (first, second, first):
        expected = by_company(company.id).first()
        found = prepared.first(company.id)
        assert (found.id, found.username) == (expected.id, expected.username)
        assert found.company.name == company.name  # the joined record, as peewee gives it
        assert "company" in found.__rel__
    assert prepared.first(2**31 - 1) is None

    unused = PreparedSelect(lambda company_id, username: User.select().where(User.company == company_id))
    with pytest.raises(ValueError, match="once"):
        unused.first(first.id, "satu")


def test_a_prepared_insert_writes_the_row_model_create_writes(conn):
    """Every column as ``Model.create`` writes it (the model's defaults, a foreign key given as
    a record or as an id, JSON, times), and each call a row of its own with its own id."""
    from pengesahan.records.audit import PendingAuditEntry
    from pengesahan.records.base import PreparedInsert
    from pengesahan.records.dossiers import DocumentSlot, Upload

    slot = _dossier().slots.where(DocumentSlot.doc_type == "ktp").get()
    prepared = PreparedInsert(Upload)
    values = {"sha256": "c" * 64, "media_type": "image/png", "size": 12, "original_name": "ktp.png"}
    made = [prepared.create(slot=slot, **values), prepared.create(slot=slot.id, **values)]
    expected = Upload.create(slot=slot, **values)

    assert made[0].id != made[1].id and not made[0].is_dirty()
    for row in made:
        stored = Upload.get_by_id(row.id)
        assert row.uploaded_at == stored.uploaded_at and row.state == stored.state == "queued"
        assert {k: v for k, v in stored.__data__.items() if k not in ("id", "uploaded_at")} == \
               {k: v for k, v in Upload.get_by_id(expected.id).__data__.items() if k not in ("id", "uploaded_at")}

    entry = PreparedInsert(PendingAuditEntry).create(actor="a", action="x.y", subject="s:1", details={"n": [1, "é"]})
    assert PendingAuditEntry.get_by_id(entry.id).details == {"n": [1, "é"]}
