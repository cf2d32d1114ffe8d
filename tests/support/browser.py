"""A real browser (Debian's Chromium driven by Playwright) and the demo installation served on
loopback, for the browser tests."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1366, "height": 768}


def require_browser():
    """Playwright's sync API; skips the test, saying why, when Playwright or Chromium is absent."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright tidak terpasang (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip("Chromium tidak ada di /usr/bin/chromium (apt-get install chromium)")
    return sync_api


@pytest.fixture(scope="module")
def browser():
    sync_api = require_browser()
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

#: axe-core impacts that fail a screen; "moderate" and "minor" are reported by axe but not here.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@pytest.fixture(scope="module")
def axe():
    """axe-core (shipped by axe-playwright-python) ready to run in a page."""
    module = pytest.importorskip(
        "axe_playwright_python.sync_playwright",
        reason="axe-playwright-python tidak terpasang (pip install -e '.[test]')")
    return module.Axe()


def accessibility_problems(axe, page, name: str, report_dir: Path | None = None) -> list[str]:
    """axe-core's serious and critical violations on the page, one readable line each, with
    ``name`` (the screen) in front; every violation (minor ones too) is written to
    ``report_dir/name.axe.json`` when given."""
    results = axe.run(page, options={"resultTypes": ["violations"]}).response
    if report_dir is not None:
        (report_dir / f"{name}.axe.json").write_text(json.dumps(results["violations"], indent=1, ensure_ascii=False))
    problems = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING_IMPACTS:
            continue
        targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:5])
        problems.append(f"{name}: {violation['id']} ({violation['impact']}) {violation['help']} → {targets}")
    return problems


def logged_in_page(browser, base: str, username: str, password: str, *, viewport: dict = VIEWPORT,
                   timeout_ms: int = 15_000):
    """A page of a fresh browser context, logged in through the form; officers land in the admin,
    P3MI staff in their portal."""
    page = browser.new_context(viewport=viewport, accept_downloads=True, locale="id-ID").new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(f"{base}/masuk")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/portal/**" if username == "p3mi" else f"{base}/admin/**")
    return page
