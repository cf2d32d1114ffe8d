"""The attacks of the trust-boundary review, replayed against the real application. Each one
ended in an officially signed letter or a live session before; each must fail now."""

from __future__ import annotations

import datetime as dt
import io
import os
import stat
import time

import pikepdf
import pytest

from pengesahan.records.base import db
from tests.support.api import NIK, PROFILE, company_client
from tests.support.app import csrf_token_from
from tests.support.hostile_pdfs import (
    active_parts,
    draft_with_hidden_script,
    draft_with_link_and_actions,
)
from tests.support.signing import make_agreement_pdf

# --- 1. one company rewrites another company's CPMI -----------------------------------------------


def test_another_company_cannot_rewrite_a_cpmi_it_does_not_own(app, client):
    from pengesahan.records.dossiers import Dossier
    from pengesahan.records.people import Candidate

    company_a, company_b = company_client(client, "PT A"), company_client(client, "PT B")
    mine = company_a.post("/dossiers", json={"candidate": PROFILE, "destination_country": "Taiwan"}).get_json()
    forged = {**PROFILE, "name": "DIUBAH OLEH P3MI LAIN", "sex": "L", "birth_date": "1990-01-01"}
    response = company_b.post("/dossiers", json={"candidate": forged, "destination_country": "Malaysia"})
    # No hint of company A's dossier in the answer (no 409, no A's data).
    assert response.status_code == 201
    body = response.get_json()
    assert body["candidate"]["name"] == "DIUBAH OLEH P3MI LAIN" and "SITI" not in str(body)
    with db.connection_context():
        candidate = Candidate.get(Candidate.nik == NIK)
        assert (candidate.name, candidate.sex, candidate.birth_date) == ("SITI AMINAH", "P", dt.date(1998, 8, 17))
        findings = Dossier.get_by_id(body["id"]).findings
    assert {f["code"] for f in findings} == {"profil_berbeda", "berkas_lain_terbuka"}
    assert company_a.get(f"/dossiers/{mine['id']}").get_json()["candidate"]["name"] == "SITI AMINAH"


def test_a_company_cannot_read_the_offices_name_of_a_cpmi_through_its_portal_search(app, client):
    # Its dossier shows the company the name it declared, not the office's (Dossier.profile);
    # a search that matched the office's name would spell that name out, a letter at a time.
    from pengesahan.records.people import Company
    from pengesahan.services.dossiers import company_dossiers

    company_a, company_b = company_client(client, "PT A"), company_client(client, "PT B")
    assert company_a.post("/dossiers", json={"candidate": PROFILE, "destination_country": "Taiwan"}).status_code == 201
    forged = {**PROFILE, "name": "DIUBAH OLEH P3MI LAIN"}
    theirs = company_b.post("/dossiers", json={"candidate": forged, "destination_country": "Malaysia"}).get_json()
    with db.connection_context():
        company = Company.get_by_id(company_b.company_id)

        def found(search: str) -> tuple[list[int], int]:
            rows, total = company_dossiers(company, search=search)
            return [row["dossier"].id for row in rows], total

        assert found("aminah") == ([], 0)
        assert found("oleh p3mi") == ([theirs["id"]], 1)
        assert found(NIK[:10]) == ([theirs["id"]], 1)


def test_a_company_cannot_read_another_companys_kk_number_in_its_own_checks(app, client):
    # The checks of a scan speak to the company that uploaded it: a KK compared with a number
    # another company declared must say that it differs, never what that number is.
    from pengesahan.records.dossiers import Dossier
    from pengesahan.services.scans import scan_context
    from processing.fields import check_family_card
    from processing.spec import FormData

    theirs_kk, card_kk = "6309051234567890", "6309050000000001"
    company_a, company_b = company_client(client, "PT A"), company_client(client, "PT B")
    assert company_a.post("/dossiers", json={"candidate": {**PROFILE, "kk_number": theirs_kk},
                                             "destination_country": "Taiwan"}).status_code == 201
    mine = company_b.post("/dossiers", json={"candidate": PROFILE, "destination_country": "Malaysia"}).get_json()
    # A company that declared the CPMI otherwise has its scans compared with its own form.
    company_c = company_client(client, "PT C")
    declared = company_c.post("/dossiers", json={"candidate": {**PROFILE, "birth_date": "1990-01-01"},
                                                 "destination_country": "Malaysia"}).get_json()
    with db.connection_context():
        form = scan_context(Dossier.get_by_id(mine["id"])).form
        assert form.kk_number != theirs_kk  # its own form, which gave no KK number
        assert theirs_kk not in check_family_card({"kk_number": card_kk, "member_niks": NIK}, form).message
        assert scan_context(Dossier.get_by_id(declared["id"])).form.birth_date == dt.date(1990, 1, 1)
    # Nor does a message repeat the number on record where the form holds one.
    on_record = check_family_card({"kk_number": card_kk, "member_niks": NIK}, FormData(nik=NIK, kk_number=theirs_kk))
    assert on_record.ok is False and card_kk in on_record.message and theirs_kk not in on_record.message


# --- 2. active content from the draft carried into the signed PP ----------------------------------


def test_escaped_script_after_a_huge_array_is_refused_at_intake():
    from pengesahan.errors import IntakeError
    from processing.intake import inspect_upload

    with pytest.raises(IntakeError, match="JavaScript"):
        inspect_upload(draft_with_hidden_script(), declared_name="pp.pdf")


def test_attachments_and_embedded_files_are_refused_at_intake():
    from pengesahan.errors import IntakeError
    from processing.intake import inspect_upload

    with pikepdf.open(io.BytesIO(make_agreement_pdf(pages=1))) as pdf:
        pdf.attachments["lampiran.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", filename="lampiran.exe")
        out = io.BytesIO()
        pdf.save(out)
    with pytest.raises(IntakeError):
        inspect_upload(out.getvalue(), declared_name="pp.pdf")


def test_the_assembled_pp_has_nothing_active_and_prints_the_same():
    import pypdfium2 as pdfium

    from signing.assemble import active_content, sanitise

    draft = draft_with_link_and_actions()
    assert active_parts(draft)  # the attack is really in the draft
    clean = sanitise(draft)
    assert active_parts(clean.pdf) == [] and active_content(clean.pdf) == ()
    assert any("tautan" in item for item in clean.removed) and any("OpenAction" in item for item in clean.removed)

    def pixels(data: bytes, index: int) -> bytes:
        document = pdfium.PdfDocument(data)
        try:
            return document[index].render(scale=1).to_pil().tobytes()
        finally:
            document.close()

    for index in (0, 1):
        assert pixels(draft, index) == pixels(clean.pdf, index), f"page {index + 1} prints differently"


# --- 3. sessions outlive logout and password change -----------------------------------------------


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_copied_session_cookie_dies_with_logout(app, make_user):
    _, password = make_user("pelaksana")
    client = app.test_client()
    assert client.post("/masuk", data={"username": "pelaksana", "password": password}).status_code == 302
    stolen = _session_cookie(client)
    assert client.get("/admin/pemeriksaan/").status_code == 200
    client.post("/keluar")
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    response = replay.get("/admin/pemeriksaan/")
    assert response.status_code == 302 and "/masuk" in response.headers["Location"]


def test_a_password_change_ends_every_session(app, make_user):
    from pengesahan.records.people import User
    from pengesahan.services import accounts

    _, password = make_user("pelaksana")
    client = app.test_client()
    client.post("/masuk", data={"username": "pelaksana", "password": password})
    assert client.get("/admin/pemeriksaan/").status_code == 200
    with db.connection_context():
        accounts.change_password(User.get(User.username == "pelaksana"), "kuda-merah-melompati-pagar-biru",
                                 actor=None)
    assert client.get("/admin/pemeriksaan/").status_code == 302


# --- 4. the administrator alone grants signing authority ------------------------------------------


# --- 5. webhooks: DNS rebinding and IPv6 forms of internal addresses ------------------------------


@pytest.mark.parametrize("address", [
    "::127.0.0.1",                 # IPv4-compatible loopback
    "::ffff:10.0.0.1",             # IPv4-mapped private
    "64:ff9b::7f00:1",             # NAT64 of 127.0.0.1
    "64:ff9b::a00:1",              # NAT64 of 10.0.0.1
    "64:ff9b:1::a00:1",            # local-use NAT64
    "2002:7f00:1::1",              # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",            # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo, client 127.0.0.1
    "fd00::1", "fe80::1", "::1", "::",
])
def test_ipv6_forms_of_internal_addresses_are_refused(address):
    from pengesahan.errors import ValidationFailed
    from pengesahan.services.webhooks import resolve_target

    with pytest.raises(ValidationFailed):
        resolve_target("https://hook.contoh.co.id/x", resolve=lambda host, port: [address])


def test_the_connection_goes_to_the_address_that_was_checked():
    """A resolver answering public first, loopback after (DNS rebinding): the host is resolved
    once, and the delivery connects to that pinned address, never resolving again."""
    from pengesahan.services.webhooks import _PinnedHTTPSConnection, resolve_target

    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    calls = []

    def rebinding(host, port):
        calls.append(host)
        return next(answers)

    target = resolve_target("https://hook.contoh.co.id/x", resolve=rebinding)
    assert target.address == "93.184.216.34" and calls == ["hook.contoh.co.id"]
    connection = _PinnedHTTPSConnection(target, timeout=1)
    assert connection._address == "93.184.216.34" and connection.host == "hook.contoh.co.id"


# --- 6. the smaller ones ---------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["aaaaaaaaaa", "1234567890", "password123", "qwertyuiop", "disnaker2026"])
def test_common_and_patterned_passwords_are_refused(password):
    from pengesahan.services.accounts import password_problem

    assert password_problem(password) is not None
    assert password_problem("kuda-merah-melompati-pagar-biru") is None


def test_login_takes_as_long_for_an_unknown_user(app, make_user):
    make_user("pelaksana")
    client = app.test_client()

    def timed(username: str) -> float:
        start = time.perf_counter()
        client.post("/masuk", data={"username": username, "password": "salah-sekali"},
                    environ_base={"REMOTE_ADDR": f"10.9.{len(username)}.{int(start * 1000) % 250}"})
        return time.perf_counter() - start

    # Taken in turns, so that a busy moment of the machine slows both kinds alike.
    known, unknown = [], []
    for _ in range(5):
        known.append(timed("pelaksana"))
        unknown.append(timed("tidak-ada-orangnya"))
    # Both pay for one Argon2 verification: an unknown name is not answered in a few ms.
    assert min(unknown) > 0.5 * min(known)


def test_nobody_can_lock_the_kepala_dinas_out(app, make_user):
    _, password = make_user("kadin")
    attacker = app.test_client()
    for _ in range(12):
        attacker.post("/masuk", data={"username": "kadin", "password": "tebakan"},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    office = app.test_client()
    response = office.post("/masuk", data={"username": "kadin", "password": password},
                           environ_base={"REMOTE_ADDR": "10.20.30.40"})
    assert response.status_code == 302


def test_personal_files_and_pages_are_never_cached(app, client, make_user, login):
    _, password = make_user("pelaksana")
    login("pelaksana", password)
    for url in ("/admin/pemeriksaan/", "/verifikasi", "/masuk"):
        assert client.get(url).headers["Cache-Control"] == "private, no-store", url


def test_a_backup_is_private_and_holds_no_personal_data_in_clear(app, tmp_path):
    from pengesahan.records.people import Candidate
    from pengesahan.services.backup import backup

    with db.connection_context():
        Candidate.create(nik=NIK, name="SITI AMINAH", sex="P", birth_date=dt.date(1998, 8, 17))
    report = backup(app.config["SETTINGS"], tmp_path / "cadangan", "frasa-sandi-cadangan-panjang")
    assert stat.S_IMODE(os.stat(report.archive).st_mode) == 0o600
    data = report.archive.read_bytes()
    assert NIK.encode() not in data and b"SITI AMINAH" not in data


def test_the_embedded_redis_dump_is_private(tmp_path):
    from pengesahan.cli.run import _start_embedded_redis

    server, _ = _start_embedded_redis(tmp_path)
    try:
        server.set("k", "v")
        server.save()
    finally:
        server.shutdown(save=True)
    dump = tmp_path / "redis.rdb"
    assert dump.exists() and stat.S_IMODE(dump.stat().st_mode) & 0o077 == 0


def test_a_csrf_token_is_still_required_after_the_changes(app, settings):
    from tests.support.app import prepared_app

    with prepared_app(settings, WTF_CSRF_ENABLED=True) as protected:
        client = protected.test_client()
        assert client.post("/masuk", data={"username": "x", "password": "y"}).status_code == 400
        token = csrf_token_from(client.get("/masuk").get_data(as_text=True))
        assert client.post("/masuk", data={"username": "x", "password": "y", "csrf_token": token}).status_code == 401
