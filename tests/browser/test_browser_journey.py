"""The P3MI's whole journey in a real browser, with the officer and the Kepala Dinas in their own
browser contexts and the uploads judged by a real RQ worker process on the session's Redis:

a P3MI creates a CPMI's dossier from the form and uploads every slot (a photo of the KTP that is
too small is refused with its fix and replaced; the PP draft of another CPMI is refused at its
slot and replaced) and submits it once complete; an officer returns the Kartu Keluarga with a reason; the P3MI reads it,
replaces the document, and the officer accepts everything and verifies the dossier; the P3MI
submits the PP, the officer verifies it, the Kepala Dinas signs it at the signing desk, and the
P3MI downloads a signed PDF naming the CPMI.

On an office PC (1366x768) the whole journey, every step in a browser; on a phone (390x844) the
P3MI's steps a phone changes (the form, the camera uploads and their fixes, a returned document
replaced, the PP draft refused at its slot, the PP submitted and the signed PP downloaded), with
the officers' part done by the service calls their desks make. Screenshots under
tests/artifacts/browser-journey/ (gitignored).
"""

from __future__ import annotations

import io
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from bench import corpus
from pengesahan.records.base import db
from tests.support.app import ARTIFACTS
from tests.support.browser import logged_in_page
from tests.support.signing import PASSPHRASE

SHOTS = ARTIFACTS / "browser-journey"
PC = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
#: The CPMI is the person on a generated KTP (one per test: a NIK holds one placement).
KTP_SEEDS = {"pc": 7, "hp": 8}
#: What the dossier says of the placement, and the PP draft with it.
PLACEMENT = {"destination_country": "Taiwan", "employer_name": "Chen Family", "job_title": "Pengasuh lansia"}
RETURN_REASON = "NIK pada dokumen tidak sama dengan NIK pada formulir."
#: The demo's placement company (pengesahan.demo), the p3mi login's.
DEMO_COMPANY = "PT Maju Sejahtera Mandiri"


@pytest.fixture(scope="module", autouse=True)
def _shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)


# --- the worker ------------------------------------------------------------------------------------


#: A plain RQ worker on the processing queue, in its own process as `make run` runs it (pdfium, which
#: reads the PDFs, must not run in two threads of one process at once; the web server's threads
#: read PP drafts). Without the reconciler of `flask worker`, which would first analyse the demo's
#: queued scans.
_WORKER = """
from pengesahan.jobs import queue
from rq import Worker
Worker(["processing"], connection=queue.redis_connection()).work(logging_level="WARNING")
"""


@pytest.fixture
def processing_worker(pki_app):
    """A real worker for the whole test: it takes each upload as it is queued."""
    import os
    import subprocess
    import sys

    from pengesahan.jobs import queue

    settings = pki_app.config["SETTINGS"]
    queue.queue("processing").empty()  # other modules' jobs share the session's Redis
    environ = {**os.environ, "DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
               "REDIS_URL": settings.redis_url, "SECRET_KEY": settings.secret_key}
    worker = subprocess.Popen([sys.executable, "-c", _WORKER], cwd=Path(__file__).resolve().parents[2], env=environ)
    yield worker
    worker.terminate()
    worker.wait(timeout=30)


# --- the documents -----------------------------------------------------------------------------


def _retarget(doc: corpus.Document, swaps: dict[str, str]) -> corpus.Document:
    """``doc`` with every printed ``old`` replaced by ``new`` (the generated person by the CPMI)."""
    for index, op in enumerate(doc.ops):
        if op[0] == "text":
            text = op[3]
            for old, new in swaps.items():
                text = text.replace(old, new)
            doc.ops[index] = (*op[:3], text, *op[4:])
    return doc


class Documents:
    """One generated file for every slot, the CPMI's naming the person on the KTP; plus a KTP
    photo too small to read, a Kartu Keluarga without the CPMI and a PP draft for another CPMI."""

    def __init__(self, directory: Path, seed: int):
        self.directory = directory
        ktp, self.person = corpus.build("ktp", seed)
        self._write_png("ktp-cpmi.png", ktp, corpus.CARD_SCALE)
        self._write_png("ktp-cpmi-kecil.png", ktp, 0.5)
        self.files: dict[tuple[str, str], Path] = {("ktp", "cpmi"): directory / "ktp-cpmi.png"}
        for doc_type in corpus.BUILDERS:
            for owner in ("p3mi", "cpmi"):
                if (doc_type, owner) not in self.files:
                    self.files[(doc_type, owner)] = self._pdf(doc_type, owner, seed)
        kk, fields = corpus.build("kartu_keluarga", seed)
        member_nik = fields["member_niks"].split(",")[-1]
        self.kk_without_cpmi = self._write_pdf("kk-tanpa-cpmi.pdf", kk)
        self.files[("kartu_keluarga", "cpmi")] = self._write_pdf(
            "kk.pdf", _retarget(corpus.build("kartu_keluarga", seed)[0], {member_nik: self.person["nik"]}))
        draft, fields = corpus.build("perjanjian_penempatan", seed)
        self.draft_of_another = self._write_pdf("pp-cpmi-lain.pdf", draft)
        self.other_nik = fields["nik"]

    def _pdf(self, doc_type: str, owner: str, seed: int) -> Path:
        doc, fields = corpus.build(doc_type, seed + (0 if owner == "cpmi" else 100))
        if owner == "cpmi" or doc_type == "perjanjian_penempatan":
            doc = _retarget(doc, {fields[k]: self.person[k] for k in ("nik", "name") if fields.get(k)})
        if doc_type == "perjanjian_penempatan":
            # This CPMI's agreement with the demo's P3MI, for the dossier's placement.
            year, month, day = self.person["birth_date"].split("-")
            doc = corpus.placement_agreement(corpus.Placement(
                name=self.person["name"], nik=self.person["nik"], born=f"{self.person['birth_place']}, {day}-{month}-{year}",
                company=DEMO_COMPANY, country=PLACEMENT["destination_country"], employer=PLACEMENT["employer_name"],
                job_title=PLACEMENT["job_title"]), seed)
        return self._write_pdf(f"{doc_type}-{owner}.pdf", doc)

    def _write_pdf(self, name: str, doc: corpus.Document) -> Path:
        corpus.render_pdf(doc, self.directory / name)
        return self.directory / name

    def _write_png(self, name: str, doc: corpus.Document, scale: float) -> Path:
        corpus.render_image(doc, scale).save(self.directory / name)
        return self.directory / name

    def form(self) -> dict[str, str]:
        """The SIAPkerja form as the P3MI types it (dates dd-mm-yyyy)."""
        year, month, day = self.person["birth_date"].split("-")
        return {"nik": self.person["nik"], "name": self.person["name"], "birth_place": self.person["birth_place"],
                "birth_date": f"{day}-{month}-{year}", "address": "Jl. Mawar 1, Tanjung", "phone": "081234567890",
                "mother_name": "Aminah", **PLACEMENT}


# --- pages -----------------------------------------------------------------------------------------


def _credentials(pki_app) -> dict[str, str]:
    users = json.loads((pki_app.config["DEMO_OUT"] / "credentials.json").read_text())["users"]
    return {u["username"]: u["password"] for u in users}




def _shot(page, device: str, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{device}-{name}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _slot_ids(dossier_id: int) -> dict[tuple[str, str], int]:
    from pengesahan.records.dossiers import DocumentSlot

    with db.connection_context():
        return {(s.doc_type, s.owner): s.id
                for s in DocumentSlot.select().where(DocumentSlot.dossier == dossier_id)}


def _upload(page, slot_id: int, path: Path):
    """Choose a file in one slot of the checklist and send it; the page comes back at the slot."""
    slot = page.locator(f"#slot-{slot_id}")
    slot.locator("input[type=file]").set_input_files(str(path))
    with page.expect_navigation():
        slot.locator("button[type=submit]").click()
    return page.locator(f"#slot-{slot_id}")


def _wait_until_checked(page, timeout: float = 120) -> None:
    """The page's own poll shows every upload's result (the worker runs meanwhile)."""
    page.wait_for_function(
        "() => !document.querySelector('li[data-slot] [data-state=queued], li[data-slot] [data-state=running]')",
        timeout=timeout * 1000)


def _new_dossier(page, base: str, docs: Documents) -> int:
    page.goto(f"{base}/portal/berkas/baru")
    for name, value in docs.form().items():
        page.fill(f"[name={name}]", value)
    page.select_option("[name=sex]", docs.person["sex"])
    page.select_option("[name=religion]", "Islam")
    page.click("form.portal-form button[type=submit]")
    page.wait_for_url(f"{base}/portal/berkas/*")
    return int(page.url.split("#")[0].rsplit("/", 1)[1])


def _bad_photo_then_fix(page, slots: dict, docs: Documents, device: str) -> None:
    """A KTP photo too small to read: the page says what to do; a proper photo replaces it."""
    ktp = _upload(page, slots[("ktp", "cpmi")], docs.directory / "ktp-cpmi-kecil.png")
    fix = ktp.locator("[data-check=resolution] .fix")
    fix.wait_for(timeout=60_000)
    assert fix.inner_text().strip().startswith("→ Foto lebih dekat")
    # The result says it needs fixing ("Selesai" alone read as "all good"), and so does the summary.
    assert "perlu diperbaiki" in ktp.locator("[data-state-label]").inner_text()
    page.locator("[data-flagged-box]:not([hidden])").wait_for()
    _shot(page, device, "03-foto-ktp-ditolak")
    _no_sideways_scroll(page)
    ktp = _upload(page, slots[("ktp", "cpmi")], docs.files[("ktp", "cpmi")])
    _wait_until_checked(page)
    assert ktp.locator("[data-check=resolution]").count() == 0


def _draft_of_another_then_fix(page, slots: dict, docs: Documents, device: str) -> None:
    """The PP draft of another CPMI is caught at its slot by the worker, in words; the right one
    replaces it."""
    pp = _upload(page, slots[("perjanjian_penempatan", "p3mi")], docs.draft_of_another)
    problem = pp.locator("[data-check=pp_match]")
    problem.wait_for(timeout=60_000)
    assert docs.other_nik in problem.inner_text() and docs.person["nik"] in problem.inner_text()
    assert "Ganti dengan draf PP untuk CPMI ini" in problem.inner_text()
    _shot(page, device, "05-draf-pp-cpmi-lain")
    pp = _upload(page, slots[("perjanjian_penempatan", "p3mi")], docs.files[("perjanjian_penempatan", "p3mi")])
    _wait_until_checked(page)
    assert pp.locator("[data-check=pp_match]").count() == 0


def _submit_dossier(page, device: str) -> None:
    """Every slot holds a file: the draft goes to the office, and its clocks start."""
    assert page.locator("[data-complete]").get_attribute("data-complete") == "1"
    with page.expect_navigation():
        page.locator("[data-submit-dossier] button[type=submit]").click()
    assert page.locator("[data-dossier-status]").inner_text().strip() == "Diajukan"
    assert "diajukan ke Dinas" in page.content()
    _shot(page, device, "06b-berkas-diajukan")


# --- the journeys ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_whole_journey_on_an_office_pc(pki_app, server, browser, processing_worker, tmp_path):
    from pengesahan.records.agreements import Agreement

    device = "pc"
    passwords = _credentials(pki_app)
    docs = Documents(tmp_path, KTP_SEEDS[device])
    started = time.monotonic()

    # --- the P3MI: a new dossier and every slot ------------------------------------------------
    p3mi = logged_in_page(browser, server, "p3mi", passwords["p3mi"], viewport=PC, timeout_ms=20_000)
    _shot(p3mi, device, "01-portal")
    dossier_id = _new_dossier(p3mi, server, docs)
    slots = _slot_ids(dossier_id)
    assert ("surat_nikah", "cpmi") not in slots  # unmarried: no marriage certificate asked for
    _shot(p3mi, device, "02-berkas-baru")
    _bad_photo_then_fix(p3mi, slots, docs, device)
    _upload(p3mi, slots[("kartu_keluarga", "cpmi")], docs.kk_without_cpmi)
    for key, slot_id in slots.items():
        if key not in (("ktp", "cpmi"), ("kartu_keluarga", "cpmi"), ("perjanjian_penempatan", "p3mi")):
            _upload(p3mi, slot_id, docs.files[key])
    assert p3mi.locator("[data-complete]").get_attribute("data-complete") == "0"
    # Not yet complete: the office's button waits, and the page lists what is missing.
    assert p3mi.locator("[data-submit-dossier] button[type=submit]").is_disabled()
    assert "Perjanjian Penempatan" in p3mi.locator("[data-missing]").inner_text()
    _draft_of_another_then_fix(p3mi, slots, docs, device)
    _wait_until_checked(p3mi)
    _shot(p3mi, device, "06-semua-dokumen-diperiksa")
    _submit_dossier(p3mi, device)

    # --- the officer returns the Kartu Keluarga ------------------------------------------------
    officer = logged_in_page(browser, server, "pelaksana", passwords["pelaksana"], viewport=PC, timeout_ms=20_000)
    officer.goto(f"{server}/admin/pemeriksaan/berkas/{dossier_id}")
    kk = officer.locator(f"#slot-{slots[('kartu_keluarga', 'cpmi')]}")
    kk.locator("select.reason-template").select_option(value=RETURN_REASON)
    kk.locator("button[value=tolak]").click()
    officer.wait_for_selector(f"#slot-{slots[('kartu_keluarga', 'cpmi')]}[data-status=ditolak] [data-reason]")
    _shot(officer, device, "07-petugas-mengembalikan-kk")

    # --- the P3MI reads why and replaces it in place -------------------------------------------
    p3mi.goto(f"{server}/portal/")
    assert p3mi.locator(f"tr[data-dossier='{dossier_id}'] [data-returned]").get_attribute("data-returned") == "1"
    p3mi.goto(f"{server}/portal/berkas/{dossier_id}")
    kk = p3mi.locator(f"#slot-{slots[('kartu_keluarga', 'cpmi')]}")
    assert RETURN_REASON in kk.locator("[data-reason]").inner_text()
    _shot(p3mi, device, "08-alasan-dikembalikan")
    kk = _upload(p3mi, slots[("kartu_keluarga", "cpmi")], docs.files[("kartu_keluarga", "cpmi")])
    assert kk.get_attribute("data-status") == "diajukan"
    _wait_until_checked(p3mi)
    assert kk.locator("[data-check=nik]").count() == 0

    # --- the officer accepts everything and verifies the dossier -------------------------------
    officer.goto(f"{server}/admin/pemeriksaan/berkas/{dossier_id}")
    officer.locator("button[data-accept-clean]").click()
    officer.wait_for_load_state()
    flagged = officer.locator(".slot[data-status=diajukan] form[data-needs-reason]")
    for _ in range(flagged.count()):
        form = flagged.first
        form.locator("textarea.reason-text").fill("Dicocokkan dengan dokumen asli.")
        form.locator("button[value=terima]").click()
        officer.wait_for_load_state()
    assert officer.locator(".slot[data-status=terverifikasi]").count() == len(slots)
    officer.locator("button", has_text="Verifikasi berkas").click()
    officer.wait_for_selector("text=Berkas terverifikasi.")
    _shot(officer, device, "09-petugas-berkas-terverifikasi")

    # --- the P3MI submits the PP; the officer verifies it ---------------------------------------
    p3mi.goto(f"{server}/portal/berkas/{dossier_id}")
    p3mi.locator("#pp").scroll_into_view_if_needed()
    p3mi.locator("button", has_text="Ajukan Perjanjian Penempatan").click()
    p3mi.wait_for_selector("[data-agreement-status=menunggu_verifikasi]")
    _shot(p3mi, device, "10-pp-diajukan")
    officer.goto(f"{server}/admin/pemeriksaan/berkas/{dossier_id}")
    officer.locator("button[value=terima]", has_text="Verifikasi PP").click()
    officer.wait_for_selector("text=Perjanjian terverifikasi dan siap ditandatangani.")
    with db.connection_context():
        agreement = Agreement.get((Agreement.dossier == dossier_id) & (Agreement.kind == "perjanjian_penempatan"))

    # --- the Kepala Dinas signs at the signing desk (one document: signed in the request) ---------
    kadin = logged_in_page(browser, server, "kadin", passwords["kadin"], viewport=PC, timeout_ms=20_000)
    kadin.goto(f"{server}/admin/tanda-tangan/")
    kadin.check(f"#pp-{agreement.id}")
    kadin.fill("input[name=passphrase]", PASSPHRASE)
    _shot(kadin, device, "11-meja-tanda-tangan")
    with kadin.expect_navigation(timeout=120_000):
        kadin.locator("button[data-sign]").click()
    kadin.wait_for_selector(f"text={agreement.number} ditandatangani")
    _shot(kadin, device, "12-kadin-menandatangani")

    # --- the P3MI downloads the signed PP --------------------------------------------------------
    p3mi.goto(f"{server}/portal/berkas/{dossier_id}")
    assert p3mi.locator("[data-agreement-status=ditandatangani]").count() == 1
    # Verified documents say so, not "waiting for the officer"; the passport letter waits its turn.
    assert p3mi.locator("[data-accepted]").count() == len(slots)
    assert "menunggu tanda tangan" in p3mi.locator("[data-passport]").inner_text()
    _shot(p3mi, device, "13-pp-disahkan")
    with p3mi.expect_download() as download:
        p3mi.locator("a", has_text="Unduh PP yang telah disahkan").click()
    pdf = tmp_path / "pp-disahkan.pdf"
    download.value.save_as(pdf)
    _assert_signed_pdf_naming(pdf.read_bytes(), docs.person["name"], docs.person["nik"])
    print(f"\nperjalanan lengkap P3MI (1366x768): {time.monotonic() - started:.0f} s")


@pytest.mark.slow
def test_the_phone_steps_of_the_journey(pki_app, server, browser, processing_worker, tmp_path):
    """What a phone changes: the form, the camera uploads and their fixes, a returned document
    replaced, the PP draft refused at its slot, the PP submitted and downloaded once signed;
    nothing wider than the screen. The officers' part is the service calls their desks make
    (the desks themselves are the PC journey's)."""
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.dossiers import DocumentSlot, Dossier
    from pengesahan.records.people import User
    from pengesahan.services import ratification
    from pengesahan.services.dossiers import review_slot, verify_dossier
    from pengesahan.services.uploads import accept_upload

    device = "hp"
    passwords = _credentials(pki_app)
    docs = Documents(tmp_path, KTP_SEEDS[device])
    p3mi = logged_in_page(browser, server, "p3mi", passwords["p3mi"], viewport=PHONE, timeout_ms=20_000)
    _no_sideways_scroll(p3mi)
    _shot(p3mi, device, "01-portal")
    dossier_id = _new_dossier(p3mi, server, docs)
    slots = _slot_ids(dossier_id)
    assert p3mi.locator(f"#slot-{slots[('ktp', 'cpmi')]} input[type=file]").get_attribute("capture") == "environment"
    _no_sideways_scroll(p3mi)
    _shot(p3mi, device, "02-berkas-baru")
    _bad_photo_then_fix(p3mi, slots, docs, device)
    _draft_of_another_then_fix(p3mi, slots, docs, device)
    _no_sideways_scroll(p3mi)

    kk_id = slots[("kartu_keluarga", "cpmi")]
    _upload(p3mi, kk_id, docs.kk_without_cpmi)
    _wait_until_checked(p3mi)

    # The other slots (their uploads are the PC journey's), then the dossier submitted from the phone.
    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        p3mi_user, officer = User.get(User.username == "p3mi"), User.get(User.username == "pelaksana")
        for key, slot_id in slots.items():
            slot = DocumentSlot.get_by_id(slot_id)
            if slot.status == "kosong":
                accept_upload(settings, slot, io.BytesIO(docs.files[key].read_bytes()), docs.files[key].name, p3mi_user)
    p3mi.goto(f"{server}/portal/berkas/{dossier_id}")
    _wait_until_checked(p3mi)
    _submit_dossier(p3mi, device)
    _no_sideways_scroll(p3mi)

    with db.connection_context():
        review_slot(DocumentSlot.get_by_id(kk_id), accept=False, reason=RETURN_REASON, actor=officer)
    p3mi.goto(f"{server}/portal/berkas/{dossier_id}")
    assert RETURN_REASON in p3mi.locator(f"#slot-{kk_id} [data-reason]").inner_text()
    _no_sideways_scroll(p3mi)
    _shot(p3mi, device, "08-alasan-dikembalikan")
    kk = _upload(p3mi, kk_id, docs.files[("kartu_keluarga", "cpmi")])
    assert kk.get_attribute("data-status") == "diajukan"
    _wait_until_checked(p3mi)
    _shot(p3mi, device, "09-kk-diganti")

    # The officer's acceptance and the dossier's verification, as the desk calls them.
    with db.connection_context():
        for slot_id in slots.values():
            review_slot(DocumentSlot.get_by_id(slot_id), accept=True, reason="Dicocokkan dengan dokumen asli.",
                        actor=officer)
        verify_dossier(Dossier.get_by_id(dossier_id), actor=officer)

    # The PP submitted from the phone; verified and signed as the desk does it (one document:
    # the desk calls sign_agreement in the request); the signed PP downloaded on the phone.
    p3mi.goto(f"{server}/portal/berkas/{dossier_id}")  # a reload (the page is open already)
    _no_sideways_scroll(p3mi)
    p3mi.locator("button", has_text="Ajukan Perjanjian Penempatan").click()
    p3mi.wait_for_selector("[data-agreement-status=menunggu_verifikasi]")
    _shot(p3mi, device, "10-pp-diajukan")
    with db.connection_context():
        agreement = Agreement.get((Agreement.dossier == dossier_id) & (Agreement.kind == "perjanjian_penempatan"))
        ratification.verify_agreement(agreement, actor=officer)
        kadin = User.get(User.username == "kadin")
    outcome = _in_thread(lambda: ratification.sign_agreement(settings, agreement.id, kadin, PASSPHRASE))
    assert outcome.ok, outcome.message
    p3mi.goto(f"{server}/portal/berkas/{dossier_id}")
    _no_sideways_scroll(p3mi)
    _shot(p3mi, device, "13-pp-disahkan")
    with p3mi.expect_download() as download:
        p3mi.locator("a", has_text="Unduh PP yang telah disahkan").click()
    pdf = tmp_path / "pp-disahkan.pdf"
    download.value.save_as(pdf)
    _assert_signed_pdf_naming(pdf.read_bytes(), docs.person["name"], docs.person["nik"])


def _in_thread(call):
    """``call()`` in a thread of its own, with its own database connection: Playwright's sync API
    keeps an event loop running in the test's thread, and signing runs asyncio code of its own."""
    result = []

    def run():
        with db.connection_context():
            result.append(call())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=120)
    assert result, "the call did not finish"
    return result[0]


def _assert_signed_pdf_naming(data: bytes, name: str, nik: str) -> None:
    """A PDF with a PAdES signature whose pages name the CPMI (the ratification page and the draft)."""
    import pypdfium2 as pdfium
    from pyhanko.pdf_utils.reader import PdfFileReader

    assert data.startswith(b"%PDF")
    assert PdfFileReader(io.BytesIO(data)).embedded_signatures, "no signature in the downloaded PP"
    document = pdfium.PdfDocument(data)
    try:
        text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()
    assert name.casefold() in " ".join(text.split()).casefold()
    assert nik in text
