"""Every screen checked by axe-core in a real browser, with a screenshot of each (#15).

The officers' screens (every Flask-Admin list, create, edit and details view, the review desk,
the signer's desk, the dashboard, the SK form) and the P3MI's portal at an office PC's
1366x768; the public pages (/verifikasi, the login, a verification result, an error page) at a
phone's 390x844. No screen may have a serious or critical axe violation. Screenshots under
tests/artifacts/browser-a11y/ (gitignored). Also: the SK date typed "02-01-2025" in the form is
stored as 2 January 2025.

Skipped, saying why, when Chromium, Playwright or axe-playwright-python is absent.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from datetime import UTC, datetime

import pytest

from pengesahan.records.base import db
from signing.delegation import authorise
from signing.sign import StampSpec, sign_document
from tests.support.app import ARTIFACTS
from tests.support.browser import accessibility_problems, logged_in_page, require_browser
from tests.support.signing import KADIS, PP

pytestmark = pytest.mark.slow

SHOTS = ARTIFACTS / "browser-a11y"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module", autouse=True)
def _shots():
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)


@pytest.fixture(scope="module", autouse=True)
def signed_pdf(unsigned_pdf, keys, services) -> bytes:
    """Signed before the browser starts: Playwright's sync API runs an event loop in this
    thread, and pyHanko's synchronous calls start one of their own."""
    require_browser()  # no signature to make for tests that will skip
    authority = authorise(KADIS, [], datetime.now(UTC), PP)
    stamp = StampSpec("http://127.0.0.1/verifikasi/1", ("No. 562/PP/001/Disnaker/2026",), "AB12CD")
    return sign_document(unsigned_pdf, keys("kepala-dinas"), authority, field_name="ttd_pengesahan",
                         stamp=stamp, services=services).data


def _passwords(pki_app) -> dict[str, str]:
    users = json.loads((pki_app.config["DEMO_OUT"] / "credentials.json").read_text())["users"]
    return {u["username"]: u["password"] for u in users}




def _check(axe, page, url: str, name: str, problems: list[str]) -> None:
    """Open ``url``, keep a screenshot named ``name`` and collect axe's blocking violations."""
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{name}: {url} → {response and response.status}"
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    problems.extend(accessibility_problems(axe, page, name, SHOTS))


def _model_screens(pki_app) -> list[tuple[str, str]]:
    """(name, path) of every Flask-Admin model screen the administrator opens: list, create,
    edit and details of the first record."""
    screens = []
    admin = pki_app.extensions["admin"][0]
    with pki_app.app_context(), db.connection_context():
        for view in admin._views:
            if not hasattr(view, "model"):
                continue
            base = f"/admin/{view.endpoint}"
            screens.append((f"{view.endpoint}-daftar", f"{base}/"))
            if view.allow_create and "admin" in view.write_roles:
                screens.append((f"{view.endpoint}-baru", f"{base}/new/"))
            first = view.model.select().order_by(view.model._meta.primary_key).first()
            if first is None:
                continue
            if view.allow_edit and "admin" in view.write_roles:
                screens.append((f"{view.endpoint}-ubah", f"{base}/edit/?id={first.get_id()}"))
            if view.can_view_details:
                screens.append((f"{view.endpoint}-rincian", f"{base}/details/?id={first.get_id()}"))
    return screens


def test_every_officer_and_portal_screen_passes_axe(pki_app, server, browser, axe):
    from pengesahan.records.dossiers import Dossier

    passwords = _passwords(pki_app)
    with db.connection_context():
        dossier = Dossier.select().order_by(Dossier.id).first()
    problems: list[str] = []

    admin = logged_in_page(browser, server, "admin", passwords["admin"])
    screens = [("admin-beranda", "/admin/"), ("pemeriksaan-antrean", "/admin/pemeriksaan/"),
               ("pemeriksaan-berkas", f"/admin/pemeriksaan/berkas/{dossier.id}"), *_model_screens(pki_app)]
    for name, path in screens:
        _check(axe, admin, f"{server}{path}", name, problems)
    admin.context.close()

    kadin = logged_in_page(browser, server, "kadin", passwords["kadin"])
    for name, path in [("kadin-beranda", "/admin/"), ("tanda-tangan-meja", "/admin/tanda-tangan/"),
                       ("kadin-sk-baru", "/admin/delegation/new/")]:
        _check(axe, kadin, f"{server}{path}", name, problems)
    kadin.context.close()

    p3mi = logged_in_page(browser, server, "p3mi", passwords["p3mi"])
    with db.connection_context():
        own = Dossier.select().where(Dossier.company == _company_of("p3mi")).order_by(Dossier.id).first()
    portal = [("p3mi-portal", "/portal/"), ("p3mi-berkas-baru", "/portal/berkas/baru"),
              ("p3mi-perusahaan", "/portal/perusahaan"), ("p3mi-beranda-admin", "/admin/"),
              ("p3mi-daftar-berkas", "/admin/dossier/")]
    if own is not None:
        portal += [("p3mi-berkas", f"/portal/berkas/{own.id}"),
                   ("p3mi-berkas-kantor", f"/admin/pemeriksaan/berkas/{own.id}")]
    portal.append(("p3mi-berkas-draf", f"/portal/berkas/{_draft_dossier('p3mi')}"))
    for name, path in portal:
        _check(axe, p3mi, f"{server}{path}", name, problems)
    p3mi.context.close()

    assert not problems, "axe-core:\n" + "\n".join(problems)


def _draft_dossier(username: str) -> int:
    """A dossier the P3MI has begun in the portal and not yet submitted (its own page layout)."""
    import datetime as dt

    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    with db.connection_context():
        candidate, _ = Candidate.get_or_create(nik="6309055708980077", defaults={
            "name": "DRAF AKSESIBILITAS", "sex": "P", "birth_date": dt.date(1998, 8, 17)})
        return open_dossier(candidate, Company.get_by_id(_company_of(username)), actor=None, draft=True).id


def _company_of(username: str) -> int:
    from pengesahan.records.people import User

    return User.get(User.username == username).company_id


def test_public_pages_pass_axe_on_a_phone(pki_app, server, browser, axe, signed_pdf):
    page = browser.new_context(viewport=PHONE, locale="id-ID").new_page()
    page.set_default_timeout(15_000)
    problems: list[str] = []
    for name, path in [("publik-verifikasi", "/verifikasi"), ("publik-masuk", "/masuk")]:
        _check(axe, page, f"{server}{path}", name, problems)

    # A verification result: a signed PP uploaded on /verifikasi.
    page.goto(f"{server}/verifikasi")
    page.set_input_files("input[name=file]", files=[
        {"name": "pp.pdf", "mimeType": "application/pdf", "buffer": signed_pdf}])
    page.locator("button[type=submit]").click()
    page.wait_for_selector("#putusan")
    page.click("#rincian summary")  # the technical details are checked open too
    page.screenshot(path=str(SHOTS / "publik-hasil-verifikasi.png"), full_page=True)
    problems.extend(accessibility_problems(axe, page, "publik-hasil-verifikasi", SHOTS))
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # An error page, inside the layout.
    page.goto(f"{server}/tidak-ada")
    page.screenshot(path=str(SHOTS / "publik-404.png"), full_page=True)
    problems.extend(accessibility_problems(axe, page, "publik-404", SHOTS))
    page.context.close()
    assert not problems, "axe-core:\n" + "\n".join(problems)


def test_sk_date_typed_in_the_browser_is_stored_as_that_day(pki_app, server, browser, axe):
    """The bug of #15: "02-01-2025" was stored as 20 January 2002. An ISO date is refused
    first, with its message beside the field (and the page still passes axe)."""
    from pengesahan.records.agreements import Delegation
    from pengesahan.records.people import Official

    passwords = _passwords(pki_app)
    with db.connection_context():
        delegated = Official.select().where(Official.position != "kepala_dinas").order_by(Official.id).first()
    page = logged_in_page(browser, server, "admin", passwords["admin"])
    page.goto(f"{server}/admin/delegation/new/")
    page.fill("[name=number]", "800/99/DISNAKER/2025")
    page.locator("[name=date]").press_sequentially("2025-01-02")
    page.select_option("[name=delegated]", str(delegated.id))
    page.locator("[name=valid_from]").press_sequentially("02-01-2025")
    page.check("input[name=scope][value=perjanjian_penempatan]")
    # Read back in words while typing; the server's strict parser then refuses the ISO date.
    assert "Tulis sebagai hh-bb-tttt" in page.locator("[name=date] ~ output.date-echo").inner_text()
    assert page.locator("[name=valid_from] ~ output.date-echo").inner_text().startswith("Dibaca: 2 Januari 2025")
    page.locator("form.admin-form [type=submit]").first.click()
    page.wait_for_selector("[name=date].is-invalid")
    assert "hh-bb-tttt" in page.locator("[name=date] ~ .invalid-feedback").inner_text()
    page.screenshot(path=str(SHOTS / "sk-form-tanggal-ditolak.png"), full_page=True)
    problems = accessibility_problems(axe, page, "sk-form-tanggal-ditolak", SHOTS)
    assert not problems, "axe-core:\n" + "\n".join(problems)

    page.fill("[name=date]", "")
    page.locator("[name=date]").press_sequentially("02-01-2025")
    assert page.locator("[name=date] ~ output.date-echo").inner_text() == "Dibaca: 2 Januari 2025"
    if not page.locator("input[name=scope][value=perjanjian_penempatan]").is_checked():
        page.check("input[name=scope][value=perjanjian_penempatan]")
    page.screenshot(path=str(SHOTS / "sk-form-diisi.png"), full_page=True)
    page.locator("form.admin-form [type=submit]").first.click()
    page.wait_for_url("**/admin/delegation/")
    with db.connection_context():
        sk = Delegation.get(Delegation.number == "800/99/DISNAKER/2025")
    assert sk.date == dt.date(2025, 1, 2)
    assert sk.valid_from.astimezone(dt.timezone(dt.timedelta(hours=8))).date() == dt.date(2025, 1, 2)
    assert "2 Jan 2025" in page.content()
    page.context.close()
