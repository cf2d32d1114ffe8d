"""The P3MI's journey in a real browser, on an office PC (1366x768) and on a phone (390x844):
log in to the portal, create a CPMI's dossier from the form, upload a photo of the KTP that is
too small, read the fix the page gives once the worker has judged it, upload a better one and
see it pass to the officers. Screenshots under tests/artifacts/browser-portal/ (gitignored)."""

from __future__ import annotations

import json
import shutil

import pytest

from pengesahan.records.base import db
from tests.support.app import ARTIFACTS
from tests.support.images import make_card, png

SHOTS = ARTIFACTS / "browser-portal"
VIEWPORTS = {"pc": {"width": 1366, "height": 768}, "hp": {"width": 390, "height": 844}}
#: A woman born 17-08-1998 in Kabupaten Tabalong, one per viewport (a NIK holds one placement).
NIKS = {"pc": "6309055708980031", "hp": "6309055708980032"}


@pytest.fixture(scope="module", autouse=True)
def _shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)


def _p3mi_password(pki_app) -> str:
    users = json.loads((pki_app.config["DEMO_OUT"] / "credentials.json").read_text())["users"]
    return next(u["password"] for u in users if u["username"] == "p3mi")


def _process_newest_upload(dossier_id: int) -> None:
    """What the worker does, in this process (the session's PKI and Redis live here)."""
    from pengesahan.jobs import tasks
    from pengesahan.records.dossiers import DocumentSlot, Upload

    with db.connection_context():
        upload = (Upload.select().join(DocumentSlot).where(DocumentSlot.dossier == dossier_id)
                  .order_by(Upload.id.desc()).first())
    assert tasks.process_upload(upload.id) in ("done", "failed")


@pytest.mark.slow
@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_a_p3mi_opens_a_dossier_and_fixes_a_bad_photo_in_the_browser(pki_app, server, browser, device, tmp_path):
    page = browser.new_context(viewport=VIEWPORTS[device], locale="id-ID").new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server}/masuk")
    page.fill("input[name=username]", "p3mi")
    page.fill("input[name=password]", _p3mi_password(pki_app))
    page.click("form button[type=submit]")
    page.wait_for_url(f"{server}/portal/**")
    page.screenshot(path=str(SHOTS / f"{device}-01-portal.png"), full_page=True)

    # A new dossier from the SIAPkerja form; a date typed the other way round is refused first.
    page.goto(f"{server}/portal/berkas/baru")
    values = {"nik": NIKS[device], "name": "SITI AMINAH", "birth_place": "Tanjung", "birth_date": "1998-08-17",
              "address": "Jl. Mawar 1, Tanjung", "phone": "081234567890", "mother_name": "Aminah",
              "destination_country": "Taiwan", "employer_name": "Chen Family", "job_title": "Pengasuh lansia"}
    for name, value in values.items():
        page.fill(f"[name={name}]", value)
    page.select_option("[name=sex]", "P")
    page.select_option("[name=religion]", "Islam")
    page.click("form.portal-form button[type=submit]")
    assert "hh-bb-tttt" in page.content() or "dd-mm-yyyy" in page.content().lower()
    page.fill("[name=birth_date]", "17-08-1998")
    page.click("form.portal-form button[type=submit]")
    page.wait_for_url(f"{server}/portal/berkas/*")
    dossier_id = int(page.url.rsplit("/", 1)[1])
    page.screenshot(path=str(SHOTS / f"{device}-02-berkas.png"), full_page=True)

    # A thumbnail-sized photo of the KTP: the page says what to do about it.
    ktp = page.locator("li[data-slot]", has_text="KTP CPMI").first
    photo = tmp_path / "ktp-kecil.png"
    photo.write_bytes(png(make_card(width=150, seed=5)))
    ktp.locator("input[type=file]").set_input_files(str(photo))
    ktp.locator("button[type=submit]").click()
    ktp = page.locator("li[data-slot]", has_text="KTP CPMI").first
    ktp.locator("[data-state]").first.wait_for()
    _process_newest_upload(dossier_id)
    ktp.locator("[data-check=resolution] .fix").wait_for()
    assert ktp.locator("[data-check=resolution] .fix").inner_text().strip().startswith("→")
    page.screenshot(path=str(SHOTS / f"{device}-03-foto-ditolak.png"), full_page=True)
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # A proper photo replaces it in place.
    better = tmp_path / "ktp.png"
    better.write_bytes(png(make_card(width=1000, seed=5)))
    ktp.locator("input[type=file]").set_input_files(str(better))
    ktp.locator("button[type=submit]").click()
    ktp = page.locator("li[data-slot]", has_text="KTP CPMI").first
    _process_newest_upload(dossier_id)
    page.wait_for_function(
        "() => !document.querySelector('li[data-slot] [data-state=queued], li[data-slot] [data-state=running]')")
    assert ktp.locator("[data-check=resolution]").count() == 0
    page.screenshot(path=str(SHOTS / f"{device}-04-foto-diganti.png"), full_page=True)
    if device == "pc":
        _drag_and_drop_into_a_slot(page, tmp_path)
    page.context.close()


_DROP = """([selector, files]) => {
  const transfer = new DataTransfer();
  for (const [name, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    transfer.items.add(new File([bytes], name, {type: "image/png"}));
  }
  document.querySelector(selector).dispatchEvent(
    new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


def _drag_and_drop_into_a_slot(page, tmp_path) -> None:
    """On a PC a file dragged onto a slot is uploaded into it; two files at once are refused in words."""
    import base64

    selector = "#" + page.locator("li[data-slot]", has_text="Kartu Keluarga").first.get_attribute("id")
    photo = base64.b64encode(png(make_card(width=1000, seed=6))).decode()
    page.evaluate(_DROP, [selector, [["kk-1.png", photo], ["kk-2.png", photo]]])
    note = page.locator(f"{selector} [data-drop-note]")
    assert note.is_visible() and "satu berkas" in note.inner_text()
    assert page.locator(f"{selector} [data-upload]").count() == 0
    with page.expect_navigation():
        page.evaluate(_DROP, [selector, [["kk.png", photo]]])
    slot = page.locator(selector).first
    assert slot.get_attribute("data-status") == "diajukan"
    assert "kk.png" in slot.locator("[data-upload]").inner_text()
