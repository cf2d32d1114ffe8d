"""A real browser (Debian's Chromium driven by Playwright) and the demo installation served on
loopback, for the browser tests."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright tidak terpasang (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip("Chromium tidak ada di /usr/bin/chromium (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(pki_app):
    """The installation on a free loopback port, CSRF on as in production."""
    from werkzeug.serving import make_server

    pki_app.config["WTF_CSRF_ENABLED"] = True
    httpd = make_server("127.0.0.1", 0, pki_app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)
