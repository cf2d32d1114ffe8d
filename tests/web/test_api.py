"""The P3MI API: token auth, company scoping, dossiers, uploads, agreements, errors,
and idempotency, through the real app on a real Redis (the rate limit: test_api_rate_limit)."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib

import pytest

from pengesahan.records.base import db
from tests.support.api import NIK, PROFILE, company_client, error_of
from tests.support.images import make_card, png, text_pdf


@pytest.fixture
def api(app, client):
    """The API as PT Maju (one company)."""
    from pengesahan.jobs import queue

    yield company_client(client, "PT Maju")
    # Uploads queue processing jobs on the session's Redis; leave none behind for later tests.
    queue.queue("processing").empty()


@pytest.fixture
def other(client, api):
    """The API as another company."""
    return company_client(client, "PT Lain")


@pytest.fixture(scope="module")
def card_png():
    return png(make_card(seed=3))


def _create(api, **extra):
    return api.post("/dossiers", json={"candidate": {**PROFILE, **extra.pop("candidate", {})},
                                       "destination_country": "Taiwan", **extra})


# --- authentication ----------------------------------------------------------------------------


def test_requests_without_a_valid_token_are_refused(api, client):
    error = error_of(client.get("/api/v1/dossiers"), 401, "unauthorized")
    assert "Bearer" in error["message"]
    response = client.get("/api/v1/dossiers", headers={"Authorization": "Bearer pp_bukan-token"})
    error_of(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    error_of(client.get("/api/v1/dossiers", headers={"Authorization": "Basic abc"}), 401)


def test_revoked_token_is_refused_and_use_is_recorded(api):
    from pengesahan.records.base import now
    from pengesahan.records.people import ApiToken

    assert api.get("/dossiers").status_code == 200
    with db.connection_context():
        token = ApiToken.get(ApiToken.company == api.company_id)
        assert token.last_used_at is not None
        ApiToken.update(revoked_at=now()).where(ApiToken.id == token.id).execute()
    error_of(api.get("/dossiers"), 401, "unauthorized")


def test_openapi_document_and_docs_page_are_public(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/dossiers" in spec["paths"] and "/api/v1/agreements/{agreement_id}/pdf" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "/api/v1/verify" not in spec["paths"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and b"swagger-ui" in page.data


def test_api_is_exempt_from_csrf(settings, redis_url):
    """With CSRF on (as in production), token-authenticated POSTs still work."""
    from app import create_app
    from pengesahan.cli.database import prepare_database
    from pengesahan.jobs import queue

    queue.reset_connection()
    app = create_app({"TESTING": True}, settings=settings)
    with app.app_context():
        prepare_database()
    db.close()
    api = company_client(app.test_client(), "PT CSRF")
    assert _create(api).status_code == 201
    # The rest of the site keeps its protection.
    assert app.test_client().post("/masuk", data={"username": "x", "password": "y"}).status_code == 400


# --- dossiers ----------------------------------------------------------------------------------


def test_create_dossier_with_profile_and_slots(api):
    from pengesahan.records.people import Candidate

    response = _create(api, job_title="Pengasuh lansia")
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/dossiers/{body['id']}")
    assert body["status"] == "diajukan" and body["candidate"]["nik"] == NIK
    assert body["job_title"] == "Pengasuh lansia" and body["destination_country"] == "Taiwan"
    owners = {s["owner"] for s in body["slots"]}
    assert owners == {"cpmi", "p3mi"} and all(s["status"] == "kosong" and s["upload"] is None
                                               for s in body["slots"])
    assert "surat_nikah" not in {s["doc_type"] for s in body["slots"]}  # not married
    with db.connection_context():
        candidate = Candidate.get(Candidate.nik == NIK)
        assert candidate.mother_name == "MASRIAH" and candidate.birth_date == dt.date(1998, 8, 17)


def test_a_draft_dossier_is_submitted_once_every_slot_holds_a_file(api, other, card_png):
    draft = _create(api, draft=True)
    assert draft.status_code == 201
    body = draft.get_json()
    assert body["status"] == "draf" and body["check_due_at"] is None
    error_of(other.post(f"/dossiers/{body['id']}/submit"), 404)
    early = error_of(api.post(f"/dossiers/{body['id']}/submit"), 409)
    assert len(early["details"]["missing"]) == len(body["slots"])
    for slot in body["slots"]:
        data, name = (card_png, "ktp.png") if slot["doc_type"] == "ktp" else (text_pdf(1), "dokumen.pdf")
        assert api.upload(f"/dossiers/{body['id']}/slots/{slot['id']}/uploads", data, name=name).status_code == 202
    submitted = api.post(f"/dossiers/{body['id']}/submit")
    assert submitted.status_code == 200, submitted.get_data(as_text=True)
    assert submitted.get_json()["status"] == "diajukan" and submitted.get_json()["check_due_at"]
    error_of(api.post(f"/dossiers/{body['id']}/submit"), 409)
    # Without "draft" a dossier is submitted at once, as before.
    assert _create(other).get_json()["status"] == "diajukan"


def test_the_dossier_list_costs_the_same_statements_whatever_its_length(api, monkeypatch):
    from tests.support.queries import StatementCounter

    statements = []
    for n in range(12):
        _create(api, candidate={"nik": f"63090557089800{n + 10:02d}"})
        if n in (1, 11):
            counter = StatementCounter(monkeypatch)
            assert len(api.get("/dossiers").get_json()["items"]) == n + 1
            statements.append(counter.count)
    assert statements[0] == statements[1], statements


def test_create_is_idempotent_on_nik_per_company(api, other):
    first = _create(api).get_json()
    again = _create(api, candidate={"name": "SITI AMINAH BINTI ALI"})
    assert again.status_code == 200 and again.get_json()["id"] == first["id"]
    # Another company gets no hint of this company's dossier; the officers get a finding.
    theirs = _create(other, candidate={"name": "NAMA LAIN"})
    assert theirs.status_code == 201 and theirs.get_json()["candidate"]["name"] == "NAMA LAIN"
    with db.connection_context():
        from pengesahan.records.dossiers import Dossier

        findings = Dossier.get_by_id(theirs.get_json()["id"]).findings
    assert {f["code"] for f in findings} == {"profil_berbeda", "berkas_lain_terbuka"}


def test_candidate_is_reused_once_the_placement_is_ratified(api, other):
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.dossiers import Dossier
    from pengesahan.records.people import Candidate

    first = _create(api).get_json()
    with db.connection_context():
        Agreement.create(dossier=first["id"], number="PP/00001/2026", status="ditandatangani")
    second = _create(other, candidate={"address": "Jl. Baru 2"})
    assert second.status_code == 201 and second.get_json()["id"] != first["id"]
    with db.connection_context():
        assert Candidate.select().count() == 1
        # The profile a signed letter used stays; the new company's declaration is kept apart.
        assert Candidate.get().address == "Jl. Mawar 1, Tanjung"
        dossier = Dossier.get_by_id(second.get_json()["id"])
        assert dossier.company_id == other.company_id
        assert dossier.declared_profile["address"] == "Jl. Baru 2"


@pytest.mark.parametrize("payload, field", [
    ({"candidate": {**PROFILE, "nik": "123"}}, "nik"),
    ({"candidate": {**PROFILE, "nik": "9909055708980002"}}, "nik"),  # unknown province
    ({"candidate": {**PROFILE, "sex": "X"}}, "sex"),
    ({"candidate": {**PROFILE, "birth_date": "17-08-1998"}}, "birth_date"),
    ({"candidate": {k: v for k, v in PROFILE.items() if k != "name"}}, "name"),
    ({"candidate": {**PROFILE, "hobi": "x"}}, "hobi"),
    ({"candidate": PROFILE, "job_title": "x" * 121}, "job_title"),
])
def test_bad_payloads_answer_422_with_field_details(api, payload, field):
    error = error_of(api.post("/dossiers", json=payload), 422, "validation_failed")
    flat = str(error["details"])
    assert field in flat
    assert "Missing data" not in flat and "Unknown field" not in flat  # messages in Indonesian


def test_malformed_json_and_wrong_method(api):
    response = api.post("/dossiers", data="{bukan json", content_type="application/json")
    assert response.status_code in (400, 422) and "error" in response.get_json()
    error = error_of(api.client.delete("/api/v1/dossiers", headers=api._headers(None)), 405, "method_not_allowed")
    assert error["message"].startswith("Metode")


def test_list_dossiers_paginated_and_filtered(api, other):
    from pengesahan.records.dossiers import Dossier

    ids = []
    for i in range(3):
        ids.append(_create(api, candidate={"nik": f"63090557089800{10 + i}"}).get_json()["id"])
    _create(other, candidate={"nik": "6309055708980099"})
    with db.connection_context():
        Dossier.update(status="terverifikasi", submitted_at=dt.datetime(2026, 1, 5, 3, tzinfo=dt.UTC)).where(
            Dossier.id == ids[0]).execute()
    page = api.get("/dossiers?page=1&page_size=2").get_json()
    assert page["total"] == 3 and page["page_size"] == 2 and [d["id"] for d in page["items"]] == ids[:0:-1]
    assert [d["id"] for d in api.get("/dossiers?page=2&page_size=2").get_json()["items"]] == [ids[0]]
    assert [d["id"] for d in api.get("/dossiers?status=terverifikasi").get_json()["items"]] == [ids[0]]
    dated = api.get("/dossiers?submitted_from=2026-01-05&submitted_to=2026-01-05").get_json()
    assert [d["id"] for d in dated["items"]] == [ids[0]]
    assert api.get("/dossiers?submitted_to=2026-01-04").get_json()["total"] == 0
    error_of(api.get("/dossiers?status=entah"), 422, "validation_failed")
    error_of(api.get("/dossiers?page_size=1000"), 422)
    error_of(api.get("/dossiers?submitted_from=kemarin"), 422)


def test_other_companies_ids_answer_404(api, other, card_png):
    dossier = _create(api).get_json()
    slot = dossier["slots"][0]
    upload = api.upload(f"/dossiers/{dossier['id']}/slots/{slot['id']}/uploads", card_png).get_json()
    from pengesahan.records.agreements import Agreement

    with db.connection_context():
        agreement = Agreement.create(dossier=dossier["id"], number="PP/00009/2026")
    for path in (f"/dossiers/{dossier['id']}", f"/dossiers/{dossier['id']}/company-documents",
                 f"/uploads/{upload['id']}", f"/agreements/{agreement.id}", f"/agreements/{agreement.id}/pdf"):
        error_of(other.get(path), 404, "not_found")
    error_of(other.upload(f"/dossiers/{dossier['id']}/slots/{slot['id']}/uploads", card_png), 404)
    error_of(other.upload(f"/dossiers/{dossier['id']}/company-documents/pkwt", card_png), 404)
    error_of(other.post(f"/dossiers/{dossier['id']}/agreements", json={}), 404)
    assert other.get("/dossiers").get_json()["total"] == 0
    assert other.get("/agreements").get_json()["total"] == 0
    error_of(api.get("/dossiers/999999"), 404)


# --- uploads -------------------------------------------------------------------------------------


def test_upload_into_a_slot_is_accepted_and_queued(api, app, card_png):
    from rq.job import Job, JobStatus

    from pengesahan.jobs import queue
    from pengesahan.records.dossiers import Upload
    from pengesahan.storage import file_store

    dossier = _create(api).get_json()
    slot = next(s for s in dossier["slots"] if s["doc_type"] == "ktp" and s["owner"] == "cpmi")
    response = api.upload(f"/dossiers/{dossier['id']}/slots/{slot['id']}/uploads", card_png, name="ktp.png")
    assert response.status_code == 202
    body = response.get_json()
    assert body["state"] == "queued" and body["media_type"] == "image/png" and body["slot_id"] == slot["id"]
    assert response.headers["Location"].endswith(f"/api/v1/uploads/{body['id']}")
    with db.connection_context():
        upload = Upload.get_by_id(body["id"])
        assert upload.uploaded_by.username.startswith("api-token-")
        assert not upload.uploaded_by.active
    # Hashed once, at intake, and stored under that digest: the record names the very bytes sent.
    stored = file_store(app.config["SETTINGS"]).path(upload.sha256)
    assert stored.read_bytes() == card_png and upload.sha256 == hashlib.sha256(card_png).hexdigest()
    assert upload.size == len(card_png) and upload.original_name == "ktp.png"
    # Queued in one round trip: the job, its place in the queue and the queue's registration.
    # Its first job is named after the row: the name is not written back to it.
    connection = queue.redis_connection()
    assert upload.job_id is None
    job = Job.fetch(f"upload-{upload.id}-0", connection=connection)
    assert (job.func_name, job.args, job.get_status()) == (queue.PROCESS_UPLOAD, (upload.id,), JobStatus.QUEUED)
    assert job.id in queue.queue("processing").job_ids
    assert connection.sismember("rq:queues", queue.queue("processing").key)
    detail = api.get(f"/dossiers/{dossier['id']}").get_json()
    shown = next(s for s in detail["slots"] if s["id"] == slot["id"])
    assert shown["status"] == "diajukan" and shown["upload"]["id"] == body["id"]
    state = api.get(f"/uploads/{body['id']}").get_json()
    assert state["state"] == "queued" and state["progress"] == 0


def test_detail_shows_checks_and_rejection_reasons(api, card_png):
    from pengesahan.records.dossiers import DocumentSlot, Upload

    dossier = _create(api).get_json()
    slot = dossier["slots"][0]
    upload = api.upload(f"/dossiers/{dossier['id']}/slots/{slot['id']}/uploads", card_png).get_json()
    with db.connection_context():
        Upload.update(state="done", progress=100, classified_type="ktp", confidence=0.9, checks=[
            {"name": "blur", "ok": False, "value": 12.5, "message": "Gambar buram."}],
            capture_rotation=180, capture_mirrored=True).where(Upload.id == upload["id"]).execute()
        DocumentSlot.update(status="ditolak", reason="Foto buram, unggah ulang.").where(
            DocumentSlot.id == slot["id"]).execute()
    shown = api.get(f"/dossiers/{dossier['id']}").get_json()["slots"][0]
    assert shown["status"] == "ditolak" and shown["reason"] == "Foto buram, unggah ulang."
    assert shown["upload"]["state"] == "done" and shown["upload"]["progress"] == 100
    assert shown["upload"]["checks"][0] == {"name": "blur", "ok": False, "value": 12.5, "message": "Gambar buram.",
                                               "by_model": False}
    # The P3MI learns that its photo was a mirror image held upside down (and was set right).
    assert shown["upload"]["capture_rotation"] == 180 and shown["upload"]["capture_mirrored"] is True
    assert "tercermin" in shown["upload"]["capture_note"]
    queued = api.upload(f"/dossiers/{dossier['id']}/slots/{dossier['slots'][1]['id']}/uploads",
                        card_png).get_json()
    fresh = api.get(f"/uploads/{queued['id']}").get_json()
    assert fresh["capture_rotation"] is None and fresh["capture_note"] is None  # not yet analysed


def test_bad_and_oversized_files_are_refused(api, app):
    from pengesahan.records.dossiers import Upload

    dossier = _create(api).get_json()
    path = f"/dossiers/{dossier['id']}/slots/{dossier['slots'][0]['id']}/uploads"
    error_of(api.upload(path, b"MZ\x90\x00 bukan gambar", name="ktp.png"), 422, "intake_rejected")
    big = b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024 + 10)
    error_of(api.upload(path, big, name="besar.pdf"), 413, "file_too_large")
    huge = b"0" * (7 * 1024 * 1024)
    error_of(api.upload(path, huge, name="sangat-besar.pdf"), 413, "file_too_large")
    gc.collect()  # a body left unclosed would warn here, and the warning fails the test
    error = error_of(api.post(path, data={}, content_type="multipart/form-data"), 422, "validation_failed")
    assert "file" in str(error["details"])
    with db.connection_context():
        assert Upload.select().count() == 0


def test_company_documents_list_and_upload_by_type(api):
    dossier = _create(api).get_json()
    docs = api.get(f"/dossiers/{dossier['id']}/company-documents").get_json()
    types = {d["doc_type"] for d in docs}
    assert {"siup_oss", "sip2mi", "surat_tugas", "surat_pengangkatan", "pkwt", "ktp",
            "perjanjian_penempatan"} <= types
    assert all(d["owner"] == "p3mi" for d in docs)
    response = api.upload(f"/dossiers/{dossier['id']}/company-documents/siup_oss", text_pdf(1), name="siup.pdf")
    assert response.status_code == 202 and response.get_json()["media_type"] == "application/pdf"
    siup = next(d for d in api.get(f"/dossiers/{dossier['id']}/company-documents").get_json()
                if d["doc_type"] == "siup_oss")
    assert siup["status"] == "diajukan"
    # A CPMI document type is not the company's.
    error_of(api.upload(f"/dossiers/{dossier['id']}/company-documents/kartu_keluarga", text_pdf(1)), 404)


def test_verified_slot_cannot_be_replaced(api, card_png):
    from pengesahan.records.dossiers import DocumentSlot

    dossier = _create(api).get_json()
    slot = dossier["slots"][0]
    with db.connection_context():
        DocumentSlot.update(status="terverifikasi").where(DocumentSlot.id == slot["id"]).execute()
    error_of(api.upload(f"/dossiers/{dossier['id']}/slots/{slot['id']}/uploads", card_png), 409, "conflict")


def test_an_upload_costs_a_few_statements_and_leaves_the_audit_chain_alone(api, card_png, monkeypatch):
    """Issue #17: an upload cost 16 statements, and appending its entry to the audit chain held
    every other upload off until its commit. Its entry is now written pending, for the worker
    to link: neither the chain's lock nor its head is touched."""
    from pengesahan.records import audit

    dossier = _create(api).get_json()
    path = f"/dossiers/{dossier['id']}/company-documents/pkwt"
    assert api.upload(path, card_png).status_code == 202  # the token's technical user now exists
    statements = []
    real = db.obj.execute_sql

    def recorded(sql, params=None, *args, **kwargs):
        statements.append(sql)
        return real(sql, params, *args, **kwargs)

    monkeypatch.setattr(db.obj, "execute_sql", recorded)
    assert api.upload(path, png(make_card(seed=4))).status_code == 202
    monkeypatch.undo()
    assert len(statements) <= 5, statements
    assert not [s for s in statements if "audit_entry" in s or "advisory" in s], statements
    # Its processing job is named after the row: nothing written back once the job is queued.
    assert not [s for s in statements if s.startswith('UPDATE "upload"')], statements
    # The slot already awaits review: the new file is an event in its history, not a write to it.
    assert not [s for s in statements if s.startswith('UPDATE "document_slot"')], statements
    assert statements[-1].startswith('INSERT INTO "audit_pending"'), statements
    with db.connection_context():
        assert audit.link_pending() == 2
        entry = audit.AuditEntry.select().order_by(audit.AuditEntry.id.desc()).get()
        assert entry.action == "upload.add" and entry.actor.startswith("api-token-")
        assert audit.verify_chain().ok


# --- agreements ----------------------------------------------------------------------------------


def _verified_dossier_with_draft(api):
    from pengesahan.records.dossiers import DocumentSlot, Dossier

    dossier = _create(api, employer_name="Chen Family", job_title="Pengasuh lansia").get_json()
    response = api.upload(f"/dossiers/{dossier['id']}/company-documents/perjanjian_penempatan", text_pdf(2),
                          name="pp.pdf")
    assert response.status_code == 202
    with db.connection_context():
        Dossier.update(status="terverifikasi").where(Dossier.id == dossier["id"]).execute()
        DocumentSlot.update(status="terverifikasi").where(DocumentSlot.dossier == dossier["id"]).execute()
    return dossier


def test_agreement_from_submission_to_ratified_pdf(api, app):
    from pengesahan import storage
    from pengesahan.records.agreements import Agreement

    dossier = _verified_dossier_with_draft(api)
    response = api.post(f"/dossiers/{dossier['id']}/agreements", json={"contract_months": 24})
    assert response.status_code == 201, response.get_json()
    agreement = response.get_json()
    assert agreement["status"] == "menunggu_verifikasi" and agreement["employer_name"] == "Chen Family"
    assert agreement["destination_country"] == "Taiwan" and agreement["pdf_url"] is None
    assert response.headers["Location"].endswith(f"/api/v1/agreements/{agreement['id']}")
    assert api.get(f"/agreements/{agreement['id']}").get_json()["number"] == agreement["number"]
    # 404 until signed.
    error = error_of(api.get(f"/agreements/{agreement['id']}/pdf"), 404, "not_found")
    assert error["details"]["status"] == "menunggu_verifikasi"
    # The office verifies and signs (tested for real in test_ratification); here the result.
    signed = text_pdf(3)
    with db.connection_context():
        key = storage.file_store(app.config["SETTINGS"]).put(signed)
        Agreement.update(status="ditandatangani", signed_sha256=key,
                         signed_at=dt.datetime.now(dt.UTC)).where(Agreement.id == agreement["id"]).execute()
    shown = api.get(f"/agreements/{agreement['id']}").get_json()
    assert shown["status"] == "ditandatangani" and shown["pdf_url"].endswith(f"/agreements/{agreement['id']}/pdf")
    pdf = api.get(f"/agreements/{agreement['id']}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data == signed
    assert "attachment" in pdf.headers["Content-Disposition"]


def test_agreement_refusals(api):
    dossier = _create(api, candidate={"nik": "6309055708980010"}).get_json()
    # Dossier not yet verified.
    error_of(api.post(f"/dossiers/{dossier['id']}/agreements", json={"employer_name": "Chen",
                                                                      "job_title": "Pengasuh"}), 409, "conflict")
    verified = _verified_dossier_with_draft(api)
    error_of(api.post(f"/dossiers/{verified['id']}/agreements", json={"contract_months": 0}), 422,
           "validation_failed")
    error_of(api.post(f"/dossiers/{verified['id']}/agreements", json={"contract_months": "dua"}), 422)
    assert api.post(f"/dossiers/{verified['id']}/agreements", json={}).status_code == 201
    # Only one open agreement per dossier.
    error_of(api.post(f"/dossiers/{verified['id']}/agreements", json={}), 409, "conflict")


def test_agreement_needs_employer_when_the_dossier_has_none(api):
    from pengesahan.records.dossiers import Dossier

    dossier = _verified_dossier_with_draft(api)
    with db.connection_context():
        Dossier.update(employer_name="").where(Dossier.id == dossier["id"]).execute()
    error = error_of(api.post(f"/dossiers/{dossier['id']}/agreements", json={}), 422, "validation_failed")
    assert "employer_name" in error["details"]["json"]


def _draft(nik: str = NIK, country: str = "Taiwan") -> bytes:
    """A PP draft whose identity block names the CPMI of PROFILE (or ``nik``) and ``country``."""
    return text_pdf(1, lines=("PERJANJIAN PENEMPATAN PEKERJA MIGRAN INDONESIA", "Pihak Kedua",
                              f"Nama Lengkap : {PROFILE['name']}", f"NIK : {nik}",
                              f"Negara Penempatan : {country}", "Pemberi Kerja : Chen Family"))


def test_a_returned_agreement_is_corrected_with_a_new_draft(api, other, make_user):
    from pengesahan.records.agreements import Agreement
    from pengesahan.services import ratification

    dossier = _verified_dossier_with_draft(api)
    agreement = api.post(f"/dossiers/{dossier['id']}/agreements", json={"contract_months": 24}).get_json()
    path = f"/agreements/{agreement['id']}/draft"
    # Not returned: nothing to correct.
    error_of(api.upload(path, _draft(), name="pp.pdf"), 409, "conflict")
    officer, _ = make_user("pelaksana")
    with db.connection_context():
        ratification.return_agreement(Agreement.get_by_id(agreement["id"]), reason="Gaji belum dicantumkan.",
                                      actor=officer)

    error_of(other.upload(path, _draft(), name="pp.pdf"), 404, "not_found")
    error_of(api.post(path, data={}, content_type="multipart/form-data"), 422, "validation_failed")
    mismatch = error_of(api.upload(path, _draft(nik="6309055708980003", country="Hong Kong"), name="pp.pdf"),
                        409, "conflict")
    assert "6309055708980003" in mismatch["message"] and mismatch["details"]["draft"]
    assert api.get(f"/agreements/{agreement['id']}").get_json()["status"] == "dikembalikan"

    response = api.upload(path, _draft(), name="pp-perbaikan.pdf")
    assert response.status_code == 200, response.get_json()
    corrected = response.get_json()
    assert corrected["id"] == agreement["id"] and corrected["number"] == agreement["number"]
    assert corrected["status"] == "menunggu_verifikasi" and not corrected.get("return_reason")
    # Submitted again: a second correction is refused until the officer returns it again.
    error_of(api.upload(path, _draft(), name="pp.pdf"), 409, "conflict")


def test_list_agreements_paginated_and_filtered(api, other):
    from pengesahan.records.agreements import Agreement

    dossier = _create(api).get_json()
    with db.connection_context():
        for i, status in enumerate(["menunggu_verifikasi", "dikembalikan", "ditandatangani"]):
            Agreement.create(dossier=dossier["id"], number=f"PP/0000{i}/2026", status=status)
    page = api.get("/agreements?page_size=2").get_json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert [a["status"] for a in api.get("/agreements?status=dikembalikan").get_json()["items"]] == ["dikembalikan"]
    error_of(api.get("/agreements?status=entah"), 422)
    error_of(api.get("/agreements?page=0"), 422)


# --- idempotency -----------------------------------------------------------------------------------


def test_idempotency_key_replays_and_conflicts(api, card_png):
    from pengesahan.records.dossiers import Dossier, Upload

    key = {"Idempotency-Key": "buat-berkas-1"}
    body = {"candidate": PROFILE, "destination_country": "Taiwan"}
    first = api.post("/dossiers", json=body, headers=key)
    again = api.post("/dossiers", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    changed = {**body, "destination_country": "Hong Kong"}
    error_of(api.post("/dossiers", json=changed, headers=key), 409, "conflict")
    with db.connection_context():
        assert Dossier.select().count() == 1
    # Multipart: same file, new boundary, same key -> one upload.
    dossier = first.get_json()
    path = f"/dossiers/{dossier['id']}/slots/{dossier['slots'][0]['id']}/uploads"
    ukey = {"Idempotency-Key": "unggah-1"}
    a = api.upload(path, card_png, headers=ukey)
    b = api.upload(path, card_png, headers=ukey)
    assert a.status_code == b.status_code == 202 and a.get_json()["id"] == b.get_json()["id"]
    error_of(api.upload(path, card_png + b"", name="lain.png", headers=ukey), 409)
    with db.connection_context():
        assert Upload.select().count() == 1


def test_idempotency_keys_are_scoped_per_token_and_errors_not_kept(api, other):
    key = {"Idempotency-Key": "sama"}
    bad = api.post("/dossiers", json={"candidate": {**PROFILE, "nik": "1"}}, headers=key)
    assert bad.status_code == 422
    # The failed attempt did not take the key: the corrected request goes through.
    assert api.post("/dossiers", json={"candidate": PROFILE}, headers=key).status_code == 201
    # The same key of another company is another key.
    other_body = {"candidate": {**PROFILE, "nik": "6309055708980077"}}
    assert other.post("/dossiers", json=other_body, headers=key).status_code == 201
    error_of(api.post("/dossiers", json={"candidate": PROFILE}, headers={"Idempotency-Key": "x" * 201}), 400)


def test_non_api_pages_keep_html_errors(client, app):
    response = client.post("/api/v1/openapi.json")
    assert response.status_code == 405 and response.is_json
    response = client.post("/masuk/tidak-ada")
    assert response.status_code == 404 and not response.is_json
