"""Deliberate acceptance on the review desk: overriding a failed check or a field that differs
from the form needs a reason, "Terima semua yang lolos" takes only clean slots, and messages
land in the slot they are about. Also: error pages in the layout, the API docs without a CDN."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from pengesahan.records.base import db

OVERRIDE_MESSAGE = "Tulis alasan Anda menerimanya"
PASSED = [{"name": "blur", "ok": True, "message": "Gambar tajam."}]


@pytest.fixture
def dossier(app, make_user):
    """A dossier with a KTP that failed a check, a KK whose number differs from the form, a
    clean birth certificate and an AK.1 still waiting to be processed."""
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.records.people import Candidate
    from pengesahan.services.dossiers import add_upload, open_dossier

    p3mi, _ = make_user("p3mi", "p3mi-a")
    with db.connection_context():
        candidate = Candidate.create(nik="6309055708980002", name="SITI AMINAH", sex="P", kk_number="6309050101010001",
                                     birth_date=dt.date(1998, 8, 17), birth_place="Tanjung")
        record = open_dossier(candidate, p3mi.company, actor=None)
        slots = {}
        for doc_type, state, checks, fields in [
            ("ktp", "done", [*PASSED, {"name": "nik", "ok": False, "message": "NIK berbeda dengan formulir."}],
             {"nik": "6309055708980002"}),
            ("kartu_keluarga", "done", PASSED, {"kk_number": "6309059999999999"}),
            ("akta_kelahiran", "done", PASSED, {}),
            ("ak1", "queued", None, None),
        ]:
            slot = record.slots.where(DocumentSlot.doc_type == doc_type, DocumentSlot.owner == "cpmi").get()
            upload = add_upload(slot, sha256=doc_type[0] * 64, media_type="image/png", size=1000,
                                original_name=f"{doc_type}.png", actor=None)
            Upload.update(state=state, checks=checks, fields=fields).where(Upload.id == upload.id).execute()
            slots[doc_type] = slot.id
    return {"id": record.id, "slots": slots}


@pytest.fixture
def officer(make_user, login):
    user, password = make_user("pelaksana")
    login(user.username, password)
    return user


def _card(page: str, slot_id: int) -> str:
    """The HTML of one slot's card on the dossier page."""
    start = page.index(f'id="slot-{slot_id}"')
    end = page.find('<div class="card slot', start)
    return page[start:end if end != -1 else len(page)]


def _slot(slot_id: int):
    from pengesahan.records.dossiers import DocumentSlot

    with db.connection_context():
        return DocumentSlot.get_by_id(slot_id)


def _accept(client, slot_id: int, reason: str = ""):
    return client.post(f"/admin/pemeriksaan/slot/{slot_id}/tinjau",
                       data={"decision": "terima", "template": "", "reason": reason})


@pytest.mark.parametrize("doc_type", ["ktp", "kartu_keluarga"])
def test_accepting_a_flagged_slot_without_a_reason_is_refused_in_the_slot(client, officer, dossier, doc_type):
    slot_id = dossier["slots"][doc_type]
    page = client.get(f"/admin/pemeriksaan/berkas/{dossier['id']}").get_data(as_text=True)
    assert "data-override-note" in _card(page, slot_id) and "Terima dengan alasan" in _card(page, slot_id)

    response = _accept(client, slot_id, reason="   ")
    assert response.status_code == 302 and response.location.endswith(f"#slot-{slot_id}")
    page = client.get(response.location).get_data(as_text=True)
    card = _card(page, slot_id)
    assert OVERRIDE_MESSAGE in card and 'data-slot-notice="error"' in card
    assert page.count(OVERRIDE_MESSAGE) == 1  # in the slot, not repeated at the top
    assert _slot(slot_id).status == "diajukan"


def test_accepting_a_flagged_slot_with_a_reason_records_the_override(client, login, officer, dossier):
    from pengesahan.records.audit import AuditEntry
    from pengesahan.records.dossiers import ReviewEvent

    slot_id = dossier["slots"]["ktp"]
    reason = "NIK terbaca salah oleh OCR; dicocokkan manual dengan KTP asli."
    response = _accept(client, slot_id, reason=reason)
    page = client.get(response.location).get_data(as_text=True)
    assert "Diterima dengan alasan." in _card(page, slot_id)
    # The override's reason is the office's: kept on the event and in the audit log, while the
    # slot's reason (what the P3MI reads as a return reason) stays empty.
    assert (_slot(slot_id).status, _slot(slot_id).reason) == ("terverifikasi", "")
    with db.connection_context():
        event = ReviewEvent.select().where(ReviewEvent.slot == slot_id).order_by(ReviewEvent.id.desc()).get()
        assert (event.to_status, event.reason) == ("terverifikasi", reason)
        entry = AuditEntry.select().where(AuditEntry.subject == f"slot:{slot_id}").order_by(AuditEntry.id.desc()).get()
    assert entry.action == "slot.accept" and entry.details["reason"] == reason
    assert entry.details["overridden"] == ["nik"]

    client.post("/keluar")
    login("p3mi-a", "kata-sandi-uji-123")
    assert reason not in client.get(f"/admin/pemeriksaan/berkas/{dossier['id']}").get_data(as_text=True)


def test_accept_all_clean_takes_only_processed_slots_that_passed_everything(client, officer, dossier):
    from pengesahan.records.audit import AuditEntry

    response = client.post(f"/admin/pemeriksaan/berkas/{dossier['id']}/terima-lolos")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "1 dokumen yang lolos semua pemeriksaan diterima." in page
    slots = dossier["slots"]
    assert _slot(slots["akta_kelahiran"]).status == "terverifikasi"
    assert _slot(slots["ktp"]).status == "diajukan"  # a failed check
    assert _slot(slots["kartu_keluarga"]).status == "diajukan"  # a number differs from the form
    assert _slot(slots["ak1"]).status == "diajukan"  # not processed yet
    with db.connection_context():
        entry = AuditEntry.get(AuditEntry.subject == f"slot:{slots['akta_kelahiran']}", AuditEntry.action == "slot.accept")
    assert entry.details["bulk"] is True and entry.details["reason"] == ""

    page = client.get(client.post(f"/admin/pemeriksaan/berkas/{dossier['id']}/terima-lolos").location)
    assert "Tidak ada dokumen yang lolos" in page.get_data(as_text=True)


def test_accept_all_clean_is_for_reviewers_only(client, make_user, login, dossier):
    user, password = make_user("p3mi", "p3mi-b")
    login(user.username, password)
    assert client.post(f"/admin/pemeriksaan/berkas/{dossier['id']}/terima-lolos").status_code == 403
    assert _slot(dossier["slots"]["akta_kelahiran"]).status == "diajukan"


def test_a_file_too_large_is_shown_inside_the_layout_with_a_way_back(app, client, officer, dossier):
    # A small limit keeps the test client from spooling a large body to a temporary file.
    app.config["MAX_CONTENT_LENGTH"] = 4096
    page_url = f"http://localhost/admin/pemeriksaan/berkas/{dossier['id']}"
    response = client.post(f"/admin/pemeriksaan/slot/{dossier['slots']['ak1']}/unggah",
                           data={"file": (io.BytesIO(b"x" * 8192), "besar.pdf")},
                           content_type="multipart/form-data", headers={"Referer": page_url})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Berkas terlalu besar" in page and 'class="navbar' in page and "Verifikasi dokumen" in page
    assert re.search(rf'href="{re.escape(page_url)}" data-back', page)


@pytest.mark.parametrize(("method", "url", "status"), [
    ("get", "/tidak-ada", 404),
    ("get", "/admin/pemeriksaan/berkas/1/terima-lolos", 405),
])
def test_other_error_pages_are_in_the_layout_and_link_home(client, method, url, status):
    response = getattr(client, method)(url, headers={"Referer": "https://elsewhere.example/"})
    page = response.get_data(as_text=True)
    assert response.status_code == status and 'class="navbar' in page
    assert 'href="/" data-back' in page  # a foreign referrer is not followed


def test_api_docs_are_served_by_the_app_without_a_cdn(client):
    response = client.get("/api/v1/docs")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "swagger-ui" in page
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", page), "an asset from another host"
    assert '"validatorUrl": null' in page
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", page)
    assert len(assets) == 3
    for asset in assets:
        with client.get(asset) as served:  # closes the file Flask streams
            assert served.status_code == 200 and served.content_length > 1000, asset
    assert "cdn.jsdelivr.net" not in response.headers["Content-Security-Policy"]
