"""The officers' main flows in a real browser (headless Chromium driven by Playwright).

An officer logs in, opens the queue and a dossier whose uploads are still queued, watches the
page pick up the processing results without a reload, returns one document with a reason from
the templates and accepts another, and verifies a placement agreement; the P3MI reads the
reason; the Kepala Dinas batch-signs two agreements and follows the progress bar; the signed
PDF is downloaded and checked on the public verification page. A screenshot of each screen is
kept under tests/artifacts/browser/ (gitignored); the screens only a flow reaches (the dossier
after decisions, the batch progress) are checked with axe-core as well.

The server is the installation of tests/test_ratification.py (demo data, demo PKI) served by
werkzeug in a thread; jobs run in this process (processing directly, signing on an RQ
SimpleWorker), where the session's PKI service lives.
"""

from __future__ import annotations

import shutil
import threading

import pytest

from pengesahan.records.base import db
from tests.support.agreements import submitted_agreement, user
from tests.support.app import ARTIFACTS
from tests.support.browser import VIEWPORT, accessibility_problems, logged_in_page
from tests.support.signing import PASSPHRASE

SHOTS = ARTIFACTS / "browser"

def _thread_worker_class():
    from rq import SimpleWorker
    from rq.timeouts import TimerDeathPenalty

    class ThreadWorker(SimpleWorker):
        """A SimpleWorker that may run outside the main thread: no signal handlers, and job
        timeouts by a timer instead of SIGALRM."""

        death_penalty_class = TimerDeathPenalty

        def _install_signal_handlers(self):
            pass

    return ThreadWorker


def _ThreadWorker(*args, **kwargs):  # noqa: N802 - reads as the class it builds
    return _thread_worker_class()(*args, **kwargs)


def _credentials(pki_app) -> dict[str, str]:
    import json

    data = json.loads((pki_app.config["DEMO_OUT"] / "credentials.json").read_text())
    return {u["username"]: u["password"] for u in data["users"]}




def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_officer_review_and_signer_batch(pki_app, server, browser, axe, tmp_path):
    from pengesahan.jobs import queue, tasks
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.dossiers import DocumentSlot, Dossier, Upload

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    settings = pki_app.config["SETTINGS"]
    passwords = _credentials(pki_app)
    for name in ("processing", "signing"):
        queue.queue(name).empty()  # other modules' jobs share the session's Redis
    with db.connection_context():
        dossier = Dossier.select().where(Dossier.status == "diajukan").order_by(Dossier.id).first()
        uploads = [u.id for u in Upload.select().join(DocumentSlot).where(
            (DocumentSlot.dossier == dossier) & (Upload.state == "queued"))]
        ktp = dossier.slots.where(DocumentSlot.doc_type == "ktp", DocumentSlot.owner == "cpmi").get()
        kk = dossier.slots.where(DocumentSlot.doc_type == "kartu_keluarga").get()
        first, _ = submitted_agreement(settings)
        second, _ = submitted_agreement(settings)
        from pengesahan.services import ratification

        ratification.verify_agreement(first, actor=user("pelaksana"))
    assert uploads, "the demo dossier should have queued uploads"

    # --- the officer --------------------------------------------------------------------------
    page = logged_in_page(browser, server, "pelaksana", passwords["pelaksana"])
    assert page.locator("[data-count=diajukan]").inner_text().strip() != ""
    assert page.locator("svg.chart").count() == 2
    _shot(page, "01-beranda-dasbor")

    page.goto(f"{server}/admin/pemeriksaan/")
    row = page.locator(f"tr[data-dossier='{dossier.id}']")
    assert row.count() == 1
    _shot(page, "02-antrean")
    row.locator("a").first.click()
    page.wait_for_url(f"**/berkas/{dossier.id}")
    assert page.locator(f"#slot-{ktp.id}[data-state=queued]").count() == 1
    _shot(page, "03-berkas-dalam-antrean")

    # Processing happens while the page is open; the page polls status.json and swaps the cards.
    for upload_id in uploads:
        assert tasks.process_upload(upload_id) in ("done", "failed")
    page.wait_for_selector(f"#slot-{ktp.id}[data-state=done] img.slot-thumb")
    page.wait_for_selector(f"#slot-{kk.id}[data-state=done]")
    assert page.locator(f"#slot-{ktp.id} [data-check=nik]").count() == 1
    _shot(page, "04-berkas-hasil-pemeriksaan")

    # Enlarge the normalised image in the viewer.
    page.locator(f"#slot-{ktp.id} a[data-enlarge]").click()
    page.wait_for_selector("#image-viewer[open]")
    page.screenshot(path=str(SHOTS / "05-gambar-diperbesar.png"))
    page.locator("#image-viewer button").click()

    # Return the KTP with a reason picked from the templates (it fills the text box).
    card = page.locator(f"#slot-{ktp.id}")
    option = card.locator("select.reason-template option").nth(1)
    template = option.inner_text().strip()
    card.locator("select.reason-template").select_option(value=option.get_attribute("value"))
    assert card.locator("textarea.reason-text").input_value() == template
    card.locator("button[value=tolak]").click()
    page.wait_for_selector(f"#slot-{ktp.id}[data-status=ditolak] [data-reason]")
    assert template in page.locator(f"#slot-{ktp.id} [data-reason]").inner_text()
    # Accept the family card. When its checks flagged it, the desk first asks why (shown in the
    # card, focus in the reason box), and accepts with the officer's reason.
    if page.locator(f"#slot-{kk.id} form[data-needs-reason]").count():
        page.locator(f"#slot-{kk.id} button[value=terima]").click()
        page.wait_for_selector(f"#slot-{kk.id} >> text=Tulis alasan Anda menerimanya")
        page.locator(f"#slot-{kk.id} textarea.reason-text").fill("Nomor KK dicocokkan dengan dokumen asli.")
    page.locator(f"#slot-{kk.id} button[value=terima]").click()
    page.wait_for_selector(f"#slot-{kk.id}[data-status=terverifikasi]")
    _shot(page, "06-berkas-setelah-keputusan")
    problems = accessibility_problems(axe, page, "06-berkas-setelah-keputusan", SHOTS)

    # Verify the second agreement from its dossier page.
    page.goto(f"{server}/admin/pemeriksaan/berkas/{second.dossier_id}")
    page.locator("button[value=terima]", has_text="Verifikasi PP").click()
    page.wait_for_selector("text=Perjanjian terverifikasi dan siap ditandatangani.")

    # --- the P3MI reads the reason, in its portal and on the read-only office page ------------
    p3mi = logged_in_page(browser, server, "p3mi", passwords["p3mi"])
    p3mi.goto(f"{server}/portal/berkas/{dossier.id}")
    assert template in p3mi.content()
    _shot(p3mi, "07-p3mi-portal-alasan")
    p3mi.goto(f"{server}/admin/pemeriksaan/berkas/{dossier.id}")
    assert template in p3mi.locator(f"#slot-{ktp.id} [data-reason]").inner_text()
    assert p3mi.locator("button[value=terima], button[value=tolak], input[type=file]").count() == 0
    _shot(p3mi, "07b-p3mi-membaca-alasan")

    # --- the Kepala Dinas batch-signs both ---------------------------------------------------
    kadin = logged_in_page(browser, server, "kadin", passwords["kadin"])
    kadin.goto(f"{server}/admin/tanda-tangan/")
    assert "Kepala Dinas" in kadin.locator("[data-authority]").inner_text()
    for agreement in (first, second):
        kadin.check(f"#pp-{agreement.id}")
    assert kadin.locator("button[data-sign]").inner_text() == "Tandatangani 2 dokumen"
    kadin.fill("input[name=passphrase]", PASSPHRASE)
    _shot(kadin, "08-meja-tanda-tangan")
    kadin.locator("button[data-sign]").click()
    kadin.wait_for_url("**/tanda-tangan/tugas/**")
    # The worker runs in a thread: Playwright's sync API keeps an event loop in this one, and
    # signing runs asyncio code of its own.
    worker = threading.Thread(target=_ThreadWorker(["signing"], connection=queue.redis_connection()).work,
                              kwargs={"burst": True})
    worker.start()
    worker.join(timeout=60)
    kadin.wait_for_selector("[data-job-status=finished]")
    kadin.wait_for_selector("[data-summary]:not([hidden])")
    assert "2 dari 2 dokumen ditandatangani" in kadin.locator("[data-summary]").inner_text()
    _shot(kadin, "09-kemajuan-tanda-tangan")
    problems += accessibility_problems(axe, kadin, "09-kemajuan-tanda-tangan", SHOTS)
    assert not problems, "axe-core:\n" + "\n".join(problems)

    # --- the signed PDF, downloaded and checked on the public page ----------------------------
    with db.connection_context():
        number = Agreement.get_by_id(first.id).number
        assert {a.status for a in Agreement.select().where(Agreement.id.in_([first.id, second.id]))} == {
            "ditandatangani"}
    kadin.goto(f"{server}/admin/tanda-tangan/")
    with kadin.expect_download() as download:
        kadin.locator("tr", has_text=number).locator("a", has_text="Unduh PDF").click()
    pdf = tmp_path / "pp.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    if "verify.upload" not in {rule.endpoint for rule in pki_app.url_map.iter_rules()}:
        pytest.skip("Halaman /verifikasi belum terdaftar; alur diuji sampai unduhan PDF bertanda tangan")
    public = browser.new_context(viewport=VIEWPORT).new_page()
    public.goto(f"{server}/verifikasi")
    public.set_input_files("input[name=file]", str(pdf))
    public.locator("button[type=submit]").click()
    public.wait_for_selector("#putusan")
    assert public.locator("#putusan").get_attribute("data-status") == "valid"
    _shot(public, "10-verifikasi-publik")
