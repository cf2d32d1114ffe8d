"""The review desk over HTTP: queue filters, the dossier page, the status endpoint and who may
see what; the signer's job progress endpoint."""

from __future__ import annotations

import datetime as dt

import pytest

from pengesahan.records.base import db


@pytest.fixture
def dossier(app, make_user):
    """A dossier of a P3MI with a processed KTP whose NIK differs from the form."""
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.records.people import Candidate
    from pengesahan.services.dossiers import add_upload, open_dossier

    p3mi, _ = make_user("p3mi", "p3mi-a")
    with db.connection_context():
        candidate = Candidate.create(nik="6309055708980002", name="SITI AMINAH", sex="P",
                                     birth_date=dt.date(1998, 8, 17), birth_place="Tanjung")
        record = open_dossier(candidate, p3mi.company, actor=None)
        slot = record.slots.where(DocumentSlot.doc_type == "ktp", DocumentSlot.owner == "cpmi").get()
        upload = add_upload(slot, sha256="a" * 64, media_type="image/png", size=1000, original_name="ktp.png",
                            actor=None)
        Upload.update(state="done", classified_type="ktp", confidence=0.9,
                      checks=[{"name": "blur", "ok": True, "message": "Gambar tajam."},
                              {"name": "nik", "ok": False, "message": "NIK berbeda dengan formulir."}],
                      fields={"nik": "5203022710053479", "name": "Siti  aminah"}).where(Upload.id == upload.id).execute()
    return {"id": record.id, "slot": slot.id, "company": p3mi.company_id}


def _template():
    """The code and text of the first reason template."""
    from pengesahan.records.catalogue import RejectionTemplate

    with db.connection_context():
        template = RejectionTemplate.select().order_by(RejectionTemplate.code).first()
        return template.code, template.text


def test_page_shows_failed_checks_first_and_fields_beside_the_form(client, make_user, login, dossier):
    user, password = make_user("pelaksana")
    login(user.username, password)
    page = client.get(f"/admin/pemeriksaan/berkas/{dossier['id']}").get_data(as_text=True)
    assert page.index('data-check="nik"') < page.index('data-check="blur"')
    assert "NIK berbeda dengan formulir." in page
    # NIK differs (highlighted), the name agrees once case and spaces are set aside.
    assert page.count('data-field-state="beda"') == 1 and page.count('data-field-state="sama"') == 1
    assert "/static/desk.js" in page and "status.json" in page
    assert "data-capture-note" not in page  # a capture taken as it should be says nothing


def test_the_slot_says_how_the_capture_was_set_right_and_why_its_type(client, make_user, login, dossier):
    """The normalised image is the capture set right: the officer is told it was a mirror image
    or upside down (a front camera's selfie view, a phone held the wrong way), and may read why
    the document was taken for its type."""
    from pengesahan.records.dossiers import Upload

    with db.connection_context():
        Upload.update(capture_rotation=180, capture_mirrored=True,
                      type_reasons=["kata kunci: 'provinsi', 'nik'", "skor 0.82, berikutnya 0.10 (sim)"]).execute()
    user, password = make_user("pelaksana")
    login(user.username, password)
    page = client.get(f"/admin/pemeriksaan/berkas/{dossier['id']}").get_data(as_text=True)
    assert "data-capture-note" in page and "Gambar tercermin" in page and "terputar 180°" in page
    assert "kata kunci: &#39;provinsi&#39;, &#39;nik&#39;" in page and "skor 0.82" in page


def test_officer_returns_with_a_template_reason_and_the_p3mi_reads_it(client, make_user, login, dossier):
    from pengesahan.records.dossiers import DocumentSlot, Dossier

    user, password = make_user("pelaksana")
    login(user.username, password)
    code, reason = _template()
    response = client.post(f"/admin/pemeriksaan/slot/{dossier['slot']}/tinjau",
                           data={"decision": "tolak", "template": code, "reason": ""})
    assert response.status_code == 302 and response.location.endswith(f"#slot-{dossier['slot']}")
    with db.connection_context():
        slot = DocumentSlot.get_by_id(dossier["slot"])
        assert (slot.status, slot.reason) == ("ditolak", reason)
        assert Dossier.get_by_id(dossier["id"]).status == "ditolak"
    state = client.get(f"/admin/pemeriksaan/berkas/{dossier['id']}/status.json").get_json()
    ktp = next(s for s in state["slots"] if s["id"] == dossier["slot"])
    assert ktp["status"] == "ditolak" and ktp["reason"] == reason and ktp["upload"]["state"] == "done"
    assert state["dossier"]["status"] == "ditolak" and state["pending"] == 0

    client.post("/keluar")
    login("p3mi-a", "kata-sandi-uji-123")
    page = client.get(f"/admin/pemeriksaan/berkas/{dossier['id']}").get_data(as_text=True)
    assert reason in page and "Ditolak" in page
    assert 'value="terima"' not in page and 'type="file"' not in page
    assert client.get(f"/admin/pemeriksaan/berkas/{dossier['id']}/status.json").status_code == 200
    assert client.post(f"/admin/pemeriksaan/slot/{dossier['slot']}/tinjau",
                       data={"decision": "terima"}).status_code == 403
    assert client.get("/admin/pemeriksaan/").status_code == 403


def test_other_company_and_anonymous_see_nothing(client, make_user, login, dossier):
    url = f"/admin/pemeriksaan/berkas/{dossier['id']}/status.json"
    assert client.get(url).status_code == 302  # to the login page
    user, password = make_user("p3mi", "p3mi-b")
    login(user.username, password)
    assert client.get(url).status_code == 404
    assert client.get(f"/admin/pemeriksaan/berkas/{dossier['id']}").status_code == 404
    assert client.get(f"/admin/pemeriksaan/slot/{dossier['slot']}/kartu").status_code == 404


def test_rejection_needs_a_reason(client, make_user, login, dossier):
    from pengesahan.records.dossiers import DocumentSlot

    user, password = make_user("pelaksana")
    login(user.username, password)
    page = client.post(f"/admin/pemeriksaan/slot/{dossier['slot']}/tinjau",
                       data={"decision": "tolak", "template": "", "reason": "  "}, follow_redirects=True)
    assert "Alasan penolakan wajib diisi." in page.get_data(as_text=True)
    with db.connection_context():
        assert DocumentSlot.get_by_id(dossier["slot"]).status == "diajukan"


def test_assignment_drives_the_officer_filter(client, make_user, login, dossier):
    user, password = make_user("pelaksana")
    login(user.username, password)
    mine = f'data-dossier="{dossier["id"]}"'
    assert mine not in client.get("/admin/pemeriksaan/?petugas=saya").get_data(as_text=True)
    assert mine in client.get("/admin/pemeriksaan/?petugas=belum").get_data(as_text=True)
    client.post(f"/admin/pemeriksaan/berkas/{dossier['id']}/petugas", data={"officer": str(user.id)})
    assert mine in client.get("/admin/pemeriksaan/?petugas=saya").get_data(as_text=True)
    assert mine not in client.get(f"/admin/pemeriksaan/?petugas=belum&p3mi={dossier['company']}").get_data(as_text=True)


def test_home_has_counts_and_charts(client, make_user, login, dossier):
    user, password = make_user("kabid")
    login(user.username, password)
    page = client.get("/admin/").get_data(as_text=True)
    assert 'data-count="diajukan">1<' in page and page.count('<svg class="chart"') == 2


def test_batch_progress_is_only_for_its_signer(client, make_user, login, app):
    from pengesahan.jobs import queue

    signer, password = make_user("kadin")
    other, _ = make_user("sekdis")
    mine = queue.enqueue("signing", queue.SIGN_BATCH, [1, 2], signer.id, "tersegel")
    theirs = queue.enqueue("signing", queue.SIGN_BATCH, [3], other.id, "tersegel")
    try:
        login(signer.username, password)
        state = client.get(f"/admin/tanda-tangan/tugas/{mine.id}.json").get_json()
        assert (state["total"], state["done"], state["finished"]) == (2, 0, False)
        assert 'data-job-url=' in client.get(f"/admin/tanda-tangan/tugas/{mine.id}").get_data(as_text=True)
        assert client.get(f"/admin/tanda-tangan/tugas/{theirs.id}.json").status_code == 404
        assert client.get("/admin/tanda-tangan/tugas/tidak-ada.json").status_code == 404
    finally:
        for job in (mine, theirs):
            job.delete()
