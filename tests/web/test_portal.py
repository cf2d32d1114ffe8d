"""The P3MI portal with the real app: a dossier from the SIAPkerja form, uploads into its slots
and their live status, company scoping, the placement agreement's submission and correction
(with the draft checked against the dossier), and the company's own users, tokens and webhook."""

from __future__ import annotations

import hashlib
import io
import re
from io import BytesIO

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from pengesahan.records.base import db
from tests.support.app import csrf_token_from, prepared_app
from tests.support.images import make_card, png, text_pdf

NIK = "6309055708980002"
OTHER_NIK = "6309055708980003"
NAME = "SITI AMINAH"


def draft_pdf(*, nik: str = NIK, name: str = NAME, country: str = "Taiwan", employer: str = "Chen Family") -> bytes:
    """A PP draft whose identity block names ``name``/``nik``, ``country`` and ``employer``."""
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    lines = ["PERJANJIAN PENEMPATAN PEKERJA MIGRAN INDONESIA", "Pihak Pertama", "Nama : Budi Santoso",
             "Jabatan : Direktur PT Uji", "Pihak Kedua", f"Nama Lengkap : {name}", f"NIK : {nik}",
             "Tempat/Tanggal Lahir : Tanjung, 17-08-1998", f"Negara Penempatan : {country}",
             f"Pemberi Kerja : {employer}"]
    y = 780
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 18
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def form_data(**overrides) -> dict:
    data = {
        "nik": NIK, "name": NAME, "sex": "P", "birth_place": "Tanjung", "birth_date": "17-08-1998",
        "religion": "Islam", "marital_status": "belum_kawin", "address": "Jl. Mawar 1, Tanjung",
        "phone": "0812 3456 7890", "kk_number": "6309051203150001", "kk_head_nik": "6309051203700001",
        "father_name": "Ahmad", "mother_name": "Aminah", "emergency_name": "Ahmad",
        "emergency_relation": "Ayah", "emergency_phone": "081234567891", "permit_date": "01-02-2026",
        "health_cert_number": "SKS/123/2026", "health_clinic": "Klinik Sehat", "health_doctor": "dr. Sari",
        "health_date": "10-01-2026", "bnsp_number": "", "bpjs_number": "12345678901",
        "destination_country": "Taiwan", "employer_name": "Chen Family", "job_title": "Pengasuh lansia",
    }
    data.update(overrides)
    return data


@pytest.fixture
def p3mi(make_user, login):
    user, password = make_user("p3mi")
    login(user.username, password)
    return user


def _create(client) -> int:
    response = client.post("/portal/berkas/baru", data=form_data())
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.search(r"/portal/berkas/(\d+)$", response.headers["Location"]).group(1))


def _slot(dossier_id: int, doc_type: str):
    from pengesahan.records.dossiers import DocumentSlot

    with db.connection_context():
        return DocumentSlot.get((DocumentSlot.dossier == dossier_id) & (DocumentSlot.doc_type == doc_type)
                                & (DocumentSlot.owner == ("p3mi" if doc_type == "perjanjian_penempatan" else "cpmi")))


def _upload(client, dossier_id: int, slot_id: int, data: bytes, name: str):
    return client.post(f"/portal/berkas/{dossier_id}/slot/{slot_id}/unggah",
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def _submitted(client, dossier_id: int) -> None:
    """Every slot of the draft filled from the portal (a KTP photo, a PDF elsewhere), then submitted."""
    from pengesahan.records.dossiers import DocumentSlot

    with db.connection_context():
        slots = list(DocumentSlot.select().where(DocumentSlot.dossier == dossier_id))
    for slot in slots:
        data, name = ((png(make_card(seed=1)), "ktp.png") if slot.doc_type == "ktp" and slot.owner == "cpmi"
                      else (draft_pdf(), "pp.pdf") if slot.doc_type == "perjanjian_penempatan"
                      else (text_pdf(pages=1), f"{slot.doc_type}.pdf"))
        assert _upload(client, dossier_id, slot.id, data, name).status_code == 303
    response = client.post(f"/portal/berkas/{dossier_id}/ajukan")
    assert response.status_code == 303, response.get_data(as_text=True)


def _verified_with_draft(settings, dossier_id: int, draft: bytes) -> None:
    """The officers' part, done directly: the PP draft in its slot, every slot and the dossier verified."""
    from pengesahan import storage
    from pengesahan.records.dossiers import DocumentSlot, Dossier
    from pengesahan.services.dossiers import add_upload

    with db.connection_context():
        slot = DocumentSlot.get((DocumentSlot.dossier == dossier_id) & (DocumentSlot.doc_type == "perjanjian_penempatan"))
        key = storage.file_store(settings).put(draft)
        add_upload(slot, sha256=key, media_type="application/pdf", size=len(draft), original_name="pp.pdf", actor=None)
        DocumentSlot.update(status="terverifikasi").where(DocumentSlot.dossier == dossier_id).execute()
        Dossier.update(status="terverifikasi").where(Dossier.id == dossier_id).execute()


def _returned_agreement(client, settings, make_user, dossier_id: int):
    from pengesahan.records.agreements import Agreement
    from pengesahan.services import ratification

    _verified_with_draft(settings, dossier_id, draft_pdf())
    response = client.post(f"/portal/berkas/{dossier_id}/pp", data={
        "employer_name": "Chen Family", "destination_country": "Taiwan", "job_title": "Pengasuh lansia",
        "contract_months": "24"})
    assert response.status_code == 303, response.get_data(as_text=True)
    officer, _ = make_user("pelaksana")
    with db.connection_context():
        agreement = Agreement.get(Agreement.dossier == dossier_id)
        ratification.return_agreement(agreement, reason="Gaji belum dicantumkan.", actor=officer)
        return Agreement.get_by_id(agreement.id)


# --- the dossier --------------------------------------------------------------------------------


def test_p3mi_creates_a_dossier_with_the_form_and_sees_it_listed(client, p3mi):
    from pengesahan.records.dossiers import Dossier

    assert client.get("/portal/berkas/baru").status_code == 200
    dossier_id = _create(client)
    with db.connection_context():
        dossier = Dossier.get_by_id(dossier_id)
        assert dossier.company_id == p3mi.company_id
        assert dossier.candidate.birth_date.isoformat() == "1998-08-17"
        assert dossier.candidate.health_date.isoformat() == "2026-01-10"
        assert dossier.destination_country == "Taiwan"
        assert dossier.slots.count() >= 10
    listing = client.get("/portal/").get_data(as_text=True)
    assert f'data-dossier="{dossier_id}"' in listing and NAME in listing
    page = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert 'capture="environment"' in page and 'accept="image/*,application/pdf"' in page
    assert "Draf, belum diajukan" in page and "dihitung sejak berkas diajukan" in page
    # The same NIK again opens the company's existing dossier instead of a second one.
    again = client.post("/portal/berkas/baru", data=form_data())
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/portal/berkas/{dossier_id}")


def _dossiers_of(company_id: int, count: int, *, first: int = 0) -> list[int]:
    """``count`` dossiers of the company, opened straight in the records; their ids, oldest first."""
    import datetime as dt

    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    with db.connection_context():
        company = Company.get_by_id(company_id)
        return [open_dossier(Candidate.create(nik=f"63090557089{n:05d}", name=f"CPMI NOMOR {n}", sex="P",
                                              birth_date=dt.date(1998, 8, 17)), company, actor=None).id
                for n in range(first, first + count)]


def _listed(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-dossier="(\d+)"', page)]


def test_the_list_of_dossiers_is_read_in_the_same_statements_however_many_there_are(client, p3mi, monkeypatch):
    """A page of the list reads its dossiers' returned slots and agreements a query per kind: a
    company of 120 dossiers cost 483 statements, four per dossier."""
    from tests.support.queries import StatementCounter

    statements = []
    for count in (3, 27):
        _dossiers_of(p3mi.company_id, count, first=len(statements) * 100)
        client.get("/portal/")
        counter = StatementCounter(monkeypatch)
        assert client.get("/portal/").status_code == 200
        statements.append(counter.count)
    assert statements[1] == statements[0]


def test_the_list_of_dossiers_comes_a_page_at_a_time_newest_first(client, p3mi):
    from pengesahan.services.dossiers import COMPANY_PAGE_SIZE

    ids = _dossiers_of(p3mi.company_id, COMPANY_PAGE_SIZE + 5)
    first = client.get("/portal/").get_data(as_text=True)
    assert _listed(first) == ids[::-1][:COMPANY_PAGE_SIZE]
    assert f"{COMPANY_PAGE_SIZE + 5} berkas" in first and "halaman 1 dari 2" in first
    assert 'rel="next" href="/portal/?halaman=2"' in first and 'rel="prev"' not in first
    second = client.get("/portal/?halaman=2").get_data(as_text=True)
    assert _listed(second) == ids[::-1][COMPANY_PAGE_SIZE:]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    # A page past the end goes to the last one; a page that is no number, to the first.
    past = client.get("/portal/?halaman=9")
    assert past.status_code == 302 and past.headers["Location"].endswith("/portal/?halaman=2")
    # A page number no database integer holds is past the end too, not a server error.
    huge = client.get("/portal/?halaman=99999999999999999999")
    assert huge.status_code == 302 and huge.headers["Location"].endswith("/portal/?halaman=2")
    assert _listed(client.get("/portal/?halaman=dua").get_data(as_text=True)) == _listed(first)


def test_a_cpmi_is_found_by_nik_or_name_among_the_companys_own_dossiers_only(client, p3mi, make_user):
    ids = _dossiers_of(p3mi.company_id, 12)
    other, _ = make_user("p3mi", username="p3mi_lain")
    _dossiers_of(other.company_id, 3, first=100)  # another company's: NIKs 6309055708900100-102

    assert _listed(client.get("/portal/?cari=6309055708900011").get_data(as_text=True)) == [ids[11]]
    assert _listed(client.get("/portal/?cari=cpmi nomor 1").get_data(as_text=True)) == [ids[11], ids[10], ids[1]]
    assert _listed(client.get("/portal/?cari=630905570890001").get_data(as_text=True)) == [ids[11], ids[10]]
    assert _listed(client.get("/portal/?cari=630905570890010").get_data(as_text=True)) == []
    none = client.get("/portal/?cari=NOMOR 100").get_data(as_text=True)
    assert _listed(none) == [] and "Tidak ada berkas dengan NIK atau nama CPMI “NOMOR 100”" in none


def test_form_errors_are_shown_beside_their_fields_and_nothing_is_created(client, p3mi):
    from pengesahan.records.dossiers import Dossier

    response = client.post("/portal/berkas/baru", data=form_data(
        nik="6309055713980002", birth_date="1-8-1998", health_date="31-02-2026", phone="telepon",
        kk_number="123"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for name in ("nik", "birth_date", "health_date", "phone", "kk_number"):
        assert f'data-error-for="{name}"' in page, name
    assert "hh-bb-tttt" in page and "tidak ada di kalender" in page
    assert 'value="1-8-1998"' in page  # what was typed stays in the form
    with db.connection_context():
        assert Dossier.select().count() == 0


def test_office_users_are_refused_and_visitors_sent_to_login(client, make_user, login):
    assert client.get("/portal/").status_code == 302
    officer, password = make_user("pelaksana")
    login(officer.username, password)
    assert client.get("/portal/").status_code == 403


def test_a_draft_is_submitted_only_when_every_slot_holds_a_file(client, p3mi, make_user):
    from pengesahan.errors import Conflict
    from pengesahan.records.audit import AuditEntry
    from pengesahan.records.base import now
    from pengesahan.records.dossiers import DocumentSlot, Dossier
    from pengesahan.services import dashboard
    from pengesahan.services.dossiers import review_slot

    dossier_id = _create(client)
    with db.connection_context():
        draft = Dossier.get_by_id(dossier_id)
        assert draft.status == "draf" and draft.check_due_at is None and draft.service_due_at is None
    ktp = _slot(dossier_id, "ktp")
    assert _upload(client, dossier_id, ktp.id, png(make_card(seed=1)), "ktp.png").status_code == 303

    # Not in the office's queue, whatever the status filter; an officer cannot decide on it.
    officer, _ = make_user("pelaksana")
    with db.connection_context():
        for status in ("diajukan", None):
            rows = dashboard.review_queue(dashboard.QueueFilter(status=status), now())
            assert dossier_id not in [r.dossier.id for r in rows]
        with pytest.raises(Conflict, match="masih berupa draf"):
            review_slot(DocumentSlot.get_by_id(ktp.id), accept=False, reason="KTP terpotong", actor=officer)

    # Submitting too early names what is missing, and changes nothing.
    early = client.post(f"/portal/berkas/{dossier_id}/ajukan")
    assert early.status_code == 409
    page = early.get_data(as_text=True)
    assert "data-submit-error" in page and "Perjanjian Penempatan" in page and "KTP CPMI" not in page.split(
        "data-submit-error")[1].split("</div>")[0]
    with db.connection_context():
        assert Dossier.get_by_id(dossier_id).status == "draf"

    _submitted(client, dossier_id)
    with db.connection_context():
        submitted = Dossier.get_by_id(dossier_id)
        assert submitted.status == "diajukan" and submitted.submitted_at >= draft.submitted_at
        assert submitted.check_due_at > submitted.submitted_at and submitted.service_due_at >= submitted.check_due_at
        assert AuditEntry.select().where((AuditEntry.action == "dossier.submit")
                                         & (AuditEntry.subject == f"dossier:{dossier_id}")).count() == 1
        rows = dashboard.review_queue(dashboard.QueueFilter(), now())
        assert dossier_id in [r.dossier.id for r in rows]
    again = client.post(f"/portal/berkas/{dossier_id}/ajukan")
    assert again.status_code == 409 and "sudah diajukan" in again.get_data(as_text=True)
    page = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert "data-submit-dossier" not in page and "Batas pemeriksaan" in page


def test_the_worker_checks_a_pp_draft_against_the_dossier_and_the_page_says_how_to_fix_it(
        client, p3mi, settings, make_user):
    from pengesahan.errors import ServiceError
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.services.dossiers import review_slot
    from pengesahan.services.scans import process_upload

    dossier_id = _create(client)
    pp = _slot(dossier_id, "perjanjian_penempatan")

    def processed(draft: bytes) -> dict:
        assert _upload(client, dossier_id, pp.id, draft, "pp.pdf").status_code == 303
        with db.connection_context():
            upload = Upload.select().where(Upload.slot == pp.id).order_by(Upload.id.desc()).get()
            assert process_upload(settings, upload.id) == "done"
        state = client.get(f"/portal/berkas/{dossier_id}/status").get_json()
        return next(s for s in state["slots"] if s["id"] == pp.id)["upload"]

    wrong = processed(draft_pdf(nik=OTHER_NIK, name="RATNA SANTOSO", country="Singapura"))
    failed = {c["name"]: c for c in wrong["failed"]}
    assert OTHER_NIK in failed["pp_match"]["message"] and "Singapura" in failed["pp_match"]["message"]
    assert failed["pp_match"]["hint"].startswith("Ganti dengan draf PP untuk CPMI ini")
    page = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert 'data-check="pp_match"' in page and "Kesesuaian draf PP" in page

    # An officer who accepts a wrong draft must say why (an override, audited).
    _submitted(client, dossier_id)  # the last upload into the PP slot is the right draft
    with db.connection_context():
        upload = Upload.select().where(Upload.slot == pp.id).order_by(Upload.id.desc()).get()
        assert process_upload(settings, upload.id) == "done"
        assert all(c["ok"] for c in Upload.get_by_id(upload.id).checks if c["name"] == "pp_match")
    wrong_again = processed(draft_pdf(nik=OTHER_NIK))
    assert "pp_match" in {c["name"] for c in wrong_again["failed"]}
    officer, _ = make_user("pelaksana")
    with db.connection_context(), pytest.raises(ServiceError, match="Tulis alasan"):
        review_slot(DocumentSlot.get_by_id(pp.id), accept=True, reason="", actor=officer)


def test_the_officer_reads_the_drafts_parties_and_terms_beside_the_dossier(client, p3mi, settings):
    from admin.review import field_rows, mismatched_fields
    from pengesahan.records.dossiers import Dossier, Upload
    from pengesahan.services.scans import process_upload

    dossier_id = _create(client)
    pp = _slot(dossier_id, "perjanjian_penempatan")
    assert _upload(client, dossier_id, pp.id, draft_pdf(employer="Wang Family"), "pp.pdf").status_code == 303
    with db.connection_context():
        upload = Upload.get(Upload.slot == pp.id)
        assert process_upload(settings, upload.id) == "done"
        upload = Upload.get_by_id(upload.id)
        check = next(c for c in upload.checks if c["name"] == "pp_match")
        assert not check["ok"] and "Pemberi kerja pada draf (Wang Family)" in check["message"]
        dossier, slot = Dossier.get_by_id(dossier_id), pp
        rows = {r["label"]: r for r in field_rows(slot, dossier, upload.fields)}
        assert rows["Pemberi kerja"]["state"] == "beda" and rows["Pemberi kerja"]["form"] == "Chen Family"
        assert rows["NIK"]["state"] == rows["Nama"]["state"] == rows["Negara penempatan"]["state"] == "sama"
        assert mismatched_fields(slot, dossier) == ["Pemberi kerja"]


# --- uploads ------------------------------------------------------------------------------------


def test_a_blurred_photo_is_flagged_on_the_page_while_its_text_is_still_being_read(
        client, p3mi, settings, monkeypatch):
    """The worker stores the checks the text cannot change as soon as they are final: the status
    poll shows the failed one with its fix while the upload is still running."""
    import cv2

    from pengesahan.records.dossiers import Upload
    from pengesahan.services import scans
    from tests.support.images import scan

    dossier_id = _create(client)
    ktp = _slot(dossier_id, "ktp")
    blurred = cv2.GaussianBlur(scan(make_card(1000), 5), (0, 0), 5)
    assert _upload(client, dossier_id, ktp.id, png(blurred), "ktp.png").status_code == 303
    seen_while_running = []
    real_analyse = scans.analyse

    def analyse_and_look(data, **options):
        report = options["on_checks"]

        def on_checks(results):
            report(results)  # the worker's own callback stores them
            state = client.get(f"/portal/berkas/{dossier_id}/status").get_json()
            seen_while_running.append(next(s for s in state["slots"] if s["id"] == ktp.id)["upload"])

        return real_analyse(data, **{**options, "on_checks": on_checks})

    monkeypatch.setattr(scans, "analyse", analyse_and_look)
    with db.connection_context():
        upload = Upload.get(Upload.slot == ktp.id)
    # Outside a connection context: the poll's request closes the thread's connection when it ends.
    assert scans.process_upload(settings, upload.id) == "done"
    (early,) = seen_while_running
    assert early["state"] == "running" and early["busy"]
    assert {c["name"]: c["hint"] for c in early["failed"]}["blur"] == "Foto ulang dengan kamera diam dan fokus."
    with db.connection_context():
        final = {c["name"]: c for c in Upload.get_by_id(upload.id).checks}
    assert len(final) > len(early["failed"]) and final["blur"]["ok"] is False


def test_upload_into_a_slot_and_follow_its_status(client, p3mi):
    from pengesahan.records.dossiers import Upload

    dossier_id = _create(client)
    ktp = _slot(dossier_id, "ktp")
    response = _upload(client, dossier_id, ktp.id, png(make_card(seed=1)), "ktp.png")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#slot-{ktp.id}")
    state = client.get(f"/portal/berkas/{dossier_id}/status").get_json()
    slot = next(s for s in state["slots"] if s["id"] == ktp.id)
    assert slot["status"] == "diajukan" and slot["upload"]["state"] == "queued" and state["pending"] >= 1
    assert state["filled"] == 1 and not state["complete"]

    # The worker's verdict: blurred, and not a KTP at all. Each failure comes with its fix.
    with db.connection_context():
        Upload.update(state="done", progress=100, classified_type="kartu_keluarga", checks=[
            {"name": "blur", "ok": False, "message": "Gambar buram."},
            {"name": "type_match", "ok": False, "message": "Bukan KTP."},
            {"name": "exposure", "ok": True, "message": "Pencahayaan baik."},
        ], capture_rotation=0, capture_mirrored=True).where(Upload.id == slot["upload"]["id"]).execute()
    state = client.get(f"/portal/berkas/{dossier_id}/status").get_json()
    upload = next(s for s in state["slots"] if s["id"] == ktp.id)["upload"]
    hints = {c["name"]: c["hint"] for c in upload["failed"]}
    assert hints["blur"] == "Foto ulang dengan kamera diam dan fokus."
    assert hints["type_match"].startswith("Unggah KTP") and "bukan Kartu Keluarga" in hints["type_match"]
    assert "exposure" not in hints and state["pending"] == 0
    # A front camera's mirror image was flipped back: the company learns it, and why it mattered.
    assert upload["capture_note"].startswith("Gambar tercermin")
    page = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert "Foto ulang dengan kamera diam dan fokus." in page
    assert "data-capture-note" in page and "Gambar tercermin" in page


def test_refused_uploads_are_shown_at_their_slot_with_the_right_status(client, p3mi):
    from pengesahan.records.dossiers import Upload

    dossier_id = _create(client)
    ktp = _slot(dossier_id, "ktp")
    missing = client.post(f"/portal/berkas/{dossier_id}/slot/{ktp.id}/unggah", data={},
                          content_type="multipart/form-data")
    assert missing.status_code == 400 and "data-slot-error" in missing.get_data(as_text=True)
    refused = _upload(client, dossier_id, ktp.id, b"bukan gambar sama sekali" * 10, "ktp.png")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f'id="slot-{ktp.id}"' in page and "data-slot-error" in page
    with db.connection_context():
        assert Upload.select().count() == 0


def test_a_returned_slot_shows_the_reason_and_takes_a_replacement(client, p3mi, make_user):
    from pengesahan.records.dossiers import DocumentSlot
    from pengesahan.services.dossiers import review_slot

    dossier_id = _create(client)
    ktp = _slot(dossier_id, "ktp")
    _submitted(client, dossier_id)
    officer, _ = make_user("pelaksana")
    with db.connection_context():
        review_slot(DocumentSlot.get_by_id(ktp.id), accept=False, reason="KTP terpotong", actor=officer)
    listing = client.get("/portal/").get_data(as_text=True)
    assert 'data-returned="1"' in listing
    page = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert "KTP terpotong" in page
    assert _upload(client, dossier_id, ktp.id, png(make_card(seed=2)), "ktp2.png").status_code == 303
    with db.connection_context():
        slot = DocumentSlot.get_by_id(ktp.id)
        assert slot.status == "diajukan" and slot.uploads.count() == 2


def test_another_companys_dossier_is_not_found(client, p3mi, make_user, login):
    dossier_id = _create(client)
    ktp = _slot(dossier_id, "ktp")
    other, password = make_user("p3mi", username="p3mi_lain")
    client.post("/keluar")
    login(other.username, password)
    assert client.get(f"/portal/berkas/{dossier_id}").status_code == 404
    assert client.get(f"/portal/berkas/{dossier_id}/status").status_code == 404
    assert _upload(client, dossier_id, ktp.id, png(make_card(seed=1)), "ktp.png").status_code == 404
    assert client.post(f"/portal/berkas/{dossier_id}/ajukan").status_code == 404
    assert f'data-dossier="{dossier_id}"' not in client.get("/portal/").get_data(as_text=True)


def test_posts_without_the_csrf_token_are_refused(settings, make_user):
    with prepared_app(settings, WTF_CSRF_ENABLED=True) as app:
        client = app.test_client()
        user, password = make_user("p3mi")
        token = csrf_token_from(client.get("/masuk").get_data(as_text=True))
        client.post("/masuk", data={"username": user.username, "password": password, "csrf_token": token})
        assert client.post("/portal/berkas/baru", data=form_data()).status_code == 400
        token = csrf_token_from(client.get("/portal/berkas/baru").get_data(as_text=True))
        assert client.post("/portal/berkas/baru", data=form_data(csrf_token=token)).status_code == 303


# --- the placement agreement ---------------------------------------------------------------------


def test_a_returned_agreement_is_corrected_with_a_new_draft(client, p3mi, settings, make_user):
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.audit import AuditEntry

    dossier_id = _create(client)
    agreement = _returned_agreement(client, settings, make_user, dossier_id)
    page = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert "Gaji belum dicantumkan." in page and "Unggah dan ajukan kembali" in page

    response = client.post(f"/portal/pp/{agreement.id}/perbaiki",
                           data={"file": (io.BytesIO(draft_pdf(country="Taiwan (R.O.C.)")), "pp-baru.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    with db.connection_context():
        again = Agreement.get_by_id(agreement.id)
        assert again.number == agreement.number and again.status == "menunggu_verifikasi"
        assert again.draft_id != agreement.draft_id and again.return_reason == ""
        slot = _slot(dossier_id, "perjanjian_penempatan")
        assert slot.status == "terverifikasi" and slot.uploads.count() == 2
        entry = AuditEntry.get((AuditEntry.action == "agreement.resubmit")
                               & (AuditEntry.subject == f"agreement:{agreement.id}"))
        assert entry.details["previous_reason"] == "Gaji belum dicantumkan."
        assert Agreement.select().where(Agreement.dossier == dossier_id).count() == 1
    state = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert 'data-agreement-status="menunggu_verifikasi"' in state


def test_a_new_draft_may_enter_the_verified_pp_slot_only_while_the_agreement_is_returned(
        client, p3mi, settings, make_user):
    from pengesahan.errors import Conflict
    from pengesahan.services.uploads import accept_upload

    dossier_id = _create(client)
    agreement = _returned_agreement(client, settings, make_user, dossier_id)
    with db.connection_context():
        # Another door (API, admin) uploading the corrected draft no longer gets a 409.
        accept_upload(settings, _slot(dossier_id, "perjanjian_penempatan"), io.BytesIO(draft_pdf()), "pp.pdf", p3mi)
        from pengesahan.services import ratification

        ratification.resubmit_agreement(agreement, p3mi, settings=settings)
        with pytest.raises(Conflict, match="Terverifikasi"):
            accept_upload(settings, _slot(dossier_id, "perjanjian_penempatan"), io.BytesIO(draft_pdf()),
                          "pp.pdf", p3mi)


def test_a_draft_naming_another_cpmi_is_refused_and_nothing_is_stored(client, p3mi, settings, make_user):
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.dossiers import Upload

    dossier_id = _create(client)
    agreement = _returned_agreement(client, settings, make_user, dossier_id)
    with db.connection_context():
        uploads_before = Upload.select().count()
    response = client.post(f"/portal/pp/{agreement.id}/perbaiki",
                           data={"file": (io.BytesIO(draft_pdf(nik=OTHER_NIK, country="Hong Kong")), "pp.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "data-pp-error" in page and OTHER_NIK in page and "Hong Kong" in page
    with db.connection_context():
        assert Upload.select().count() == uploads_before
        assert Agreement.get_by_id(agreement.id).status == "dikembalikan"


def test_a_first_submission_with_a_wrong_name_is_refused(client, p3mi, settings):
    from pengesahan.records.agreements import Agreement

    dossier_id = _create(client)
    _verified_with_draft(settings, dossier_id, draft_pdf(name="SITI RAHAYU"))
    response = client.post(f"/portal/berkas/{dossier_id}/pp", data={
        "employer_name": "Chen Family", "destination_country": "Taiwan", "job_title": "Pengasuh lansia",
        "contract_months": "24"})
    assert response.status_code == 409
    assert "SITI RAHAYU" in response.get_data(as_text=True)
    with db.connection_context():
        assert Agreement.select().count() == 0
    bad_terms = client.post(f"/portal/berkas/{dossier_id}/pp", data={
        "employer_name": "", "destination_country": "Taiwan", "job_title": "x", "contract_months": "500"})
    assert bad_terms.status_code == 422


def test_a_refused_first_submission_is_fixed_by_replacing_the_draft_in_its_verified_slot(client, p3mi, settings):
    """A dossier verified with a draft for another CPMI was stuck: the submission is refused,
    and the slot took no new draft (it is verified) until an agreement was returned."""
    from pengesahan.records.agreements import Agreement

    dossier_id = _create(client)
    _verified_with_draft(settings, dossier_id, draft_pdf(nik=OTHER_NIK))
    terms = {"employer_name": "Chen Family", "destination_country": "Taiwan", "job_title": "Pengasuh lansia",
             "contract_months": "24"}
    assert client.post(f"/portal/berkas/{dossier_id}/pp", data=terms).status_code == 409
    slot = _slot(dossier_id, "perjanjian_penempatan")
    page = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert f'action="/portal/berkas/{dossier_id}/slot/{slot.id}/unggah"' in page

    replaced = client.post(f"/portal/berkas/{dossier_id}/slot/{slot.id}/unggah",
                           data={"file": (io.BytesIO(draft_pdf()), "pp-benar.pdf")}, content_type="multipart/form-data")
    assert replaced.status_code == 303, replaced.get_data(as_text=True)
    assert _slot(dossier_id, "perjanjian_penempatan").status == "terverifikasi"
    assert client.post(f"/portal/berkas/{dossier_id}/pp", data=terms).status_code == 303
    with db.connection_context():
        agreement = Agreement.get(Agreement.dossier == dossier_id)
        assert agreement.draft_id == _slot(dossier_id, "perjanjian_penempatan").current_upload.id
    # Submitted: the draft is the agreement's now, and the slot is closed again.
    again = client.post(f"/portal/berkas/{dossier_id}/slot/{slot.id}/unggah",
                        data={"file": (io.BytesIO(draft_pdf()), "pp-lagi.pdf")}, content_type="multipart/form-data")
    assert again.status_code == 409


def test_the_signed_pp_is_downloaded_once_signed(client, p3mi, settings, make_user):
    from pengesahan import storage
    from pengesahan.records.agreements import Agreement

    dossier_id = _create(client)
    agreement = _returned_agreement(client, settings, make_user, dossier_id)
    assert client.get(f"/portal/pp/{agreement.id}.pdf").status_code == 404
    signed = draft_pdf()
    with db.connection_context():
        key = storage.file_store(settings).put(signed)
        # The signature itself is the signing tests' subject; here only its stored result matters.
        Agreement.update(status="ditandatangani", signed_sha256=key).where(Agreement.id == agreement.id).execute()
    page = client.get(f"/portal/berkas/{dossier_id}").get_data(as_text=True)
    assert f"/portal/pp/{agreement.id}.pdf" in page
    response = client.get(f"/portal/pp/{agreement.id}.pdf")
    assert response.status_code == 200 and hashlib.sha256(response.data).hexdigest() == key


# --- the company's own administration ------------------------------------------------------------

GOOD_PASSWORD = "lumbung-padi-biru-senja-42"


def _audited(action: str, subject: str):
    from pengesahan.records.audit import AuditEntry

    with db.connection_context():
        return AuditEntry.get_or_none((AuditEntry.action == action) & (AuditEntry.subject == subject))


def _colleague(make_user, p3mi, username: str = "rekan"):
    from pengesahan.records.people import Company

    with db.connection_context():
        company = Company.get_by_id(p3mi.company_id)
    return make_user("p3mi", username=username, company=company)


def test_the_company_page_lists_its_users_and_adds_one(client, p3mi, make_user, login):
    from pengesahan.records.people import User

    outsider, _ = make_user("p3mi", username="p3mi_lain")
    page = client.get("/portal/perusahaan")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-user="{p3mi.id}"' in html and f'data-user="{outsider.id}"' not in html

    weak = client.post("/portal/perusahaan/pengguna", data={
        "username": "staf2", "full_name": "Staf Dua", "password": "password123", "confirm": "password123"})
    assert weak.status_code == 422 and 'data-error-for="password"' in weak.get_data(as_text=True)
    taken = client.post("/portal/perusahaan/pengguna", data={
        "username": outsider.username, "full_name": "Staf Dua", "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert taken.status_code == 409 and "sudah dipakai" in taken.get_data(as_text=True)
    response = client.post("/portal/perusahaan/pengguna", data={
        "username": "staf2", "full_name": "Staf Dua", "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)
    with db.connection_context():
        added = User.get(User.username == "staf2")
        assert added.company_id == p3mi.company_id and added.role == "p3mi" and added.active
    assert _audited("user.create", f"user:{added.id}").actor == p3mi.username
    # Every other active login has its own deactivation form; one's own has none.
    html = client.get("/portal/perusahaan").get_data(as_text=True)
    assert f'action="/portal/perusahaan/pengguna/{added.id}/nonaktifkan"' in html
    assert f'action="/portal/perusahaan/pengguna/{p3mi.id}/nonaktifkan"' not in html
    client.post("/keluar")
    login("staf2", GOOD_PASSWORD)
    assert client.get("/portal/perusahaan").status_code == 200


def test_an_api_token_is_shown_once_works_and_can_be_revoked(client, p3mi):
    response = client.post("/portal/perusahaan/token", data={"name": "Sistem HRD"})
    assert response.status_code == 201 and "no-store" in response.headers["Cache-Control"]
    token = re.search(r'value="(pp_[^"]+)"', response.get_data(as_text=True)).group(1)
    assert token not in client.get("/portal/perusahaan").get_data(as_text=True)

    bearer = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/dossiers", headers=bearer)
    assert listed.status_code == 200 and listed.get_json()["total"] == 0
    _create(client)
    assert client.get("/api/v1/dossiers", headers=bearer).get_json()["total"] == 1

    from pengesahan.records.people import ApiToken

    with db.connection_context():
        record = ApiToken.get(ApiToken.company == p3mi.company_id)
    assert _audited("token.issue", f"token:{record.id}").actor == p3mi.username
    assert client.post(f"/portal/perusahaan/token/{record.id}/cabut").status_code == 303
    assert client.get("/api/v1/dossiers", headers=bearer).status_code == 401
    assert _audited("token.revoke", f"token:{record.id}") is not None


def test_another_companys_token_and_user_are_not_found(client, p3mi, make_user):
    from pengesahan.records.people import ApiToken, Company, User

    outsider, _ = make_user("p3mi", username="p3mi_lain")
    with db.connection_context():
        other_token, _ = ApiToken.issue(Company.get_by_id(outsider.company_id), "milik lain")
    assert client.post(f"/portal/perusahaan/pengguna/{outsider.id}/nonaktifkan").status_code == 404
    assert client.post(f"/portal/perusahaan/token/{other_token.id}/cabut").status_code == 404
    with db.connection_context():
        assert User.get_by_id(outsider.id).active
        assert ApiToken.get_by_id(other_token.id).revoked_at is None


def test_deactivating_a_colleague_ends_their_sessions(app, client, p3mi, make_user):
    from pengesahan.records.people import User

    colleague, password = _colleague(make_user, p3mi)
    theirs = app.test_client()
    theirs.post("/masuk", data={"username": colleague.username, "password": password})
    assert theirs.get("/portal/").status_code == 200

    assert client.post(f"/portal/perusahaan/pengguna/{p3mi.id}/nonaktifkan").status_code == 409
    response = client.post(f"/portal/perusahaan/pengguna/{colleague.id}/nonaktifkan")
    assert response.status_code == 303
    with db.connection_context():
        assert not User.get_by_id(colleague.id).active
    assert theirs.get("/portal/").status_code == 302
    assert _audited("user.deactivate", f"user:{colleague.id}").actor == p3mi.username
    assert 'badge-secondary">Nonaktif' in client.get("/portal/perusahaan").get_data(as_text=True)


def test_the_webhook_is_registered_replaced_and_deleted(app, client, p3mi):
    from pengesahan.records.webhooks import Webhook

    refused = client.post("/portal/perusahaan/webhook", data={"url": "https://10.0.0.5/hook"})
    assert refused.status_code == 422 and 'data-error-for="url"' in refused.get_data(as_text=True)

    app.config["SETTINGS"] = app.config["SETTINGS"].replace(webhook_allow_loopback=True)
    response = client.post("/portal/perusahaan/webhook", data={"url": "http://127.0.0.1:8765/hook"})
    assert response.status_code == 201 and "no-store" in response.headers["Cache-Control"]
    secret = re.search(r'value="(whsec_[^"]+)"', response.get_data(as_text=True)).group(1)
    with db.connection_context():
        webhook = Webhook.get(Webhook.company == p3mi.company_id)
        assert webhook.secret == secret and webhook.url == "http://127.0.0.1:8765/hook"
    page = client.get("/portal/perusahaan").get_data(as_text=True)
    assert secret not in page and 'data-webhook-url="http://127.0.0.1:8765/hook"' in page
    assert _audited("webhook.register", f"webhook:{webhook.id}").actor == p3mi.username

    replaced = client.post("/portal/perusahaan/webhook", data={"url": "http://localhost:8765/baru"})
    assert replaced.status_code == 200
    new_secret = re.search(r'value="(whsec_[^"]+)"', replaced.get_data(as_text=True)).group(1)
    assert new_secret != secret
    assert _audited("webhook.replace", f"webhook:{webhook.id}") is not None

    assert client.post("/portal/perusahaan/webhook/hapus").status_code == 303
    with db.connection_context():
        assert not Webhook.select().where(Webhook.company == p3mi.company_id).exists()
    assert _audited("webhook.delete", f"webhook:{webhook.id}") is not None
    assert client.post("/portal/perusahaan/webhook/hapus").status_code == 404


def test_an_officer_may_accept_a_mismatched_draft_only_with_a_reason(app, client, p3mi, settings, make_user):
    """The P3MI cannot get past the comparison; an officer can, with a reason kept in the audit log."""
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.audit import AuditEntry

    dossier_id = _create(client)
    _verified_with_draft(settings, dossier_id, draft_pdf(name="SITI RAHAYU"))
    refused = client.post(f"/portal/berkas/{dossier_id}/pp", data={
        "employer_name": "Chen Family", "destination_country": "Taiwan", "job_title": "Pengasuh lansia",
        "contract_months": "24", "override_reason": "saya P3MI"})
    assert refused.status_code == 409
    _, password = make_user("pelaksana")
    officer = app.test_client()
    officer.post("/masuk", data={"username": "pelaksana", "password": password})
    form = {"employer_name": "Chen Family", "destination_country": "Taiwan", "job_title": "Pengasuh lansia",
            "contract_months": "24"}
    officer.post(f"/admin/pemeriksaan/berkas/{dossier_id}/pp", data=form)
    with db.connection_context():
        assert Agreement.select().count() == 0  # no reason: still refused
    officer.post(f"/admin/pemeriksaan/berkas/{dossier_id}/pp",
                 data={**form, "override_reason": "Nama di draf memakai nama panggilan; NIK sama."})
    with db.connection_context():
        agreement = Agreement.get()
        entry = AuditEntry.get(AuditEntry.action == "agreement.draft_mismatch_overridden")
    assert entry.subject == f"agreement:{agreement.id}" and "panggilan" in str(entry.details)


def _with_link(pdf: bytes) -> bytes:
    """``pdf`` with a link annotation on its first page: active content signing removes."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[72, 700, 300, 720],
                                  A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://contoh.invalid")))
        document.pages[0].Annots = document.make_indirect(pikepdf.Array([link]))
        out = io.BytesIO()
        document.save(out)
        return out.getvalue()


def test_what_signing_removes_is_recorded_for_each_submitted_draft_and_a_page_view_writes_nothing(
        app, client, p3mi, settings, make_user, login):
    from pengesahan.records.agreements import Agreement
    from pengesahan.services import ratification

    dossier_id = _create(client)
    _verified_with_draft(settings, dossier_id, _with_link(draft_pdf()))
    response = client.post(f"/portal/berkas/{dossier_id}/pp", data={
        "employer_name": "Chen Family", "destination_country": "Taiwan", "job_title": "Pengasuh lansia",
        "contract_months": "24"})
    assert response.status_code == 303, response.get_data(as_text=True)
    officer, password = make_user("pelaksana")
    with db.connection_context():
        agreement = Agreement.get(Agreement.dossier == dossier_id)
        assert any("tautan" in item for item in agreement.removed_content)
        ratification.return_agreement(agreement, reason="Tautan tidak boleh ada.", actor=officer)

    # The corrected draft has no link: what the officer is told signing removes follows it.
    response = client.post(f"/portal/pp/{agreement.id}/perbaiki",
                           data={"file": (io.BytesIO(draft_pdf(country="Taiwan (R.O.C.)")), "pp-baru.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    with db.connection_context():
        assert Agreement.get_by_id(agreement.id).removed_content == []
        # An agreement submitted before removals were recorded: the officer's page shows them
        # without storing anything.
        Agreement.update(removed_content=None).where(Agreement.id == agreement.id).execute()

    officer_client = app.test_client()
    officer_client.post("/masuk", data={"username": officer.username, "password": password})
    assert officer_client.get(f"/admin/pemeriksaan/berkas/{dossier_id}").status_code == 200
    with db.connection_context():
        assert Agreement.get_by_id(agreement.id).removed_content is None
