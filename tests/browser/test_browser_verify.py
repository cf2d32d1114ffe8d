"""A real browser uploads a signed agreement on /verifikasi and reads the verdict.

Debian's Chromium driven by Playwright (its own browser download cannot work here). Skipped,
saying why, only when Chromium or Playwright is absent.
"""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from signing.delegation import authorise
from signing.sign import StampSpec, sign_document
from tests.support.app import ARTIFACTS
from tests.support.signing import KADIS, PP, free_port

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = pytest.mark.slow


@pytest.fixture
def browser():
    """Headless Debian Chromium through Playwright."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium tidak terpasang (/usr/bin/chromium); jalankan make system-deps")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright tidak terpasang (pip install playwright==1.65.0)"
    )
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield instance
        finally:
            instance.close()


@pytest.fixture
def live_server(app, settings, demo_pki):
    """The application (CSRF on, as in production) served on a free loopback port."""
    from werkzeug.serving import make_server

    from app import create_app

    trust = settings.data_dir / "trust"
    trust.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo_pki.trust_root_path, trust / "demo-root.pem")
    # ``app`` prepared the database of these settings; this one keeps CSRF protection on.
    served = create_app({"TESTING": True, "WTF_CSRF_ENABLED": True}, settings=settings)
    port = free_port()
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def signed(unsigned_pdf, keys, services):
    """Signed before the browser starts: Playwright's sync API runs an event loop in this
    thread, and pyHanko's synchronous calls start one of their own."""
    authority = authorise(KADIS, [], datetime.now(UTC), PP)
    stamp = StampSpec("http://127.0.0.1/verifikasi/1", ("No. 562/PP/001/Disnaker/2026",), "AB12CD")
    return sign_document(
        unsigned_pdf,
        keys("kepala-dinas"),
        authority,
        field_name="ttd_pengesahan",
        stamp=stamp,
        services=services,
    )


def test_upload_in_a_real_browser_shows_the_verdict(signed, live_server, browser):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    try:
        page.goto(f"{live_server}/verifikasi")
        page.set_input_files(
            "#berkas",
            files=[{"name": "pp.pdf", "mimeType": "application/pdf", "buffer": signed.data}],
        )
        page.click("button[type=submit]")
        verdict = page.locator("#putusan")
        verdict.wait_for(timeout=15_000)
        assert "Dokumen asli dan tidak berubah sejak ditandatangani." in verdict.inner_text()
        assert verdict.get_attribute("data-status") == "valid"
        assert KADIS.name in page.content()
        page.click("#rincian summary")  # the expert details open on demand
        assert page.locator("#rincian").get_attribute("open") is not None
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "verifikasi.png"), full_page=True)
    finally:
        page.close()
