"""The public verification pages and API, on a real signed agreement and real records."""

from __future__ import annotations

import datetime as dt
import shutil
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest

from signing.delegation import authorise
from signing.sign import StampSpec, sign_document
from tests.support.signing import KADIS, PP, SEKDIS, delegation

NUMBER = "562/PP/007/Disnaker/2026"
SK = delegation()
VALID = "Dokumen asli dan tidak berubah sejak ditandatangani."


@pytest.fixture(scope="module")
def signed(unsigned_pdf, keys, services):
    """A B-LTA agreement signed by the Sekretaris Dinas under the SK registered below."""
    authority = authorise(SEKDIS, [SK], datetime.now(UTC), PP)
    stamp = StampSpec("http://127.0.0.1/verifikasi/1", (f"No. {NUMBER}",), "AB12CD")
    return sign_document(
        unsigned_pdf,
        keys("sekretaris-dinas"),
        authority,
        field_name="ttd_pengesahan",
        stamp=stamp,
        services=services,
    )


@pytest.fixture
def records(app, settings, signed, demo_pki):
    """The office's records: officials, the SK, one signed agreement; the demo root trusted."""
    from pengesahan.records.agreements import Agreement, Delegation
    from pengesahan.records.base import db
    from pengesahan.records.people import Candidate, Company, Official
    from pengesahan.services.dossiers import open_dossier

    trust = settings.data_dir / "trust"
    trust.mkdir(parents=True, exist_ok=True)
    shutil.copy(demo_pki.trust_root_path, trust / "demo-root.pem")
    with db.connection_context():
        kadis = Official.create(
            name=KADIS.name, nip=KADIS.nip, rank=KADIS.rank, position=KADIS.position
        )
        sekdis = Official.create(
            name=SEKDIS.name, nip=SEKDIS.nip, rank=SEKDIS.rank, position=SEKDIS.position
        )
        Delegation.create(
            number=SK.number,
            date=SK.date,
            delegating=kadis,
            delegated=sekdis,
            scope="perjanjian_penempatan",
            valid_from=SK.valid_from,
            # Confirmed by the Kepala Dinas (an unconfirmed SK authorises nothing).
            confirmed_at=SK.confirmed_at,
        )
        company = Company.create(name="PT Contoh Penempatan")
        candidate = Candidate.create(
            nik="6309055708980002", name="SITI AMINAH", sex="P", birth_date=dt.date(1998, 8, 17)
        )
        dossier = open_dossier(candidate, company, actor=None, destination_country="Taiwan")
        agreement = Agreement.create(
            dossier=dossier,
            number=NUMBER,
            status="ditandatangani",
            signed_sha256=signed.sha256,
            signed_at=signed.timestamp_time,
        )
        unsigned = Agreement.create(dossier=dossier, number="562/PP/008/Disnaker/2026")
    return {"agreement_id": agreement.id, "unsigned_id": unsigned.id, "public_id": agreement.public_id,
            "unsigned_public_id": unsigned.public_id}


def _upload(client, url, data: bytes, **form):
    form["file"] = (BytesIO(data), "pp.pdf")
    return client.post(url, data=form, content_type="multipart/form-data")


def test_upload_form_is_public(client, records):
    page = client.get("/verifikasi")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="file"' in html and "Periksa dokumen" in html


def test_genuine_upload_shows_the_verdict_first_and_offers_reports(client, records, signed):
    page = _upload(client, "/verifikasi", signed.data)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.index(VALID) < html.index("Tanda tangan 1")
    assert f"sama persis dengan {NUMBER}" in html
    assert SEKDIS.name in html and "a.n. Kepala Dinas" in html
    assert f"{SK.reference} berlaku pada saat penandatanganan" in html
    assert "<details" in html and "B-LTA" in html

    json_link = html.split('href="/verifikasi/laporan/')[1].split('"')[0]
    report = client.get(f"/verifikasi/laporan/{json_link}")
    assert report.status_code == 200 and "attachment" in report.headers["Content-Disposition"]
    body = report.get_json()
    assert body["ok"] is True and body["registry"]["agreement_number"] == NUMBER
    assert body["signatures"][0]["delegation"]["status"] == "berlaku"

    from pengesahan.web import verify

    if verify.XML_AVAILABLE:
        token = json_link.removesuffix(".json")
        xml = client.get(f"/verifikasi/laporan/{token}-1.xml")
        assert xml.status_code == 200 and xml.mimetype == "application/xml"
        assert b"ValidationReport" in xml.data
        assert client.get(f"/verifikasi/laporan/{token}-2.xml").status_code == 404
    assert client.get("/verifikasi/laporan/tidak-ada.json").status_code == 404


def test_tampered_upload_is_reported_invalid(client, records, signed):
    data = bytearray(signed.data)
    data[data.index(b"ReportLab")] ^= 0x01
    html = _upload(client, "/verifikasi", bytes(data)).get_data(as_text=True)
    assert "Tanda tangan TIDAK SAH" in html
    assert "tidak terdaftar" in html  # the hash is not one the office issued


def test_bad_uploads_are_explained_on_the_form(client, records):
    page = _upload(client, "/verifikasi", b"GIF89a bukan pdf")
    assert page.status_code == 422
    assert "bukan PDF" in page.get_data(as_text=True)
    empty = client.post("/verifikasi", data={}, content_type="multipart/form-data")
    assert empty.status_code == 400 and "Pilih berkas PDF" in empty.get_data(as_text=True)


def test_qr_landing_page_shows_the_registered_agreement_without_personal_data(
    client, records, signed
):
    page = client.get(f"/verifikasi/p/{records['public_id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert NUMBER in html and signed.sha256 in html and 'name="file"' in html
    assert "SITI AMINAH" not in html and "6309055708980002" not in html
    unsigned = client.get(f"/verifikasi/p/{records['unsigned_public_id']}").get_data(as_text=True)
    assert "belum disahkan" in unsigned and 'name="file"' not in unsigned
    assert client.get("/verifikasi/p/tebakan-acak").status_code == 404


def test_sequential_ids_reveal_nothing_from_the_register(client, records):
    """Old QR codes (numeric ids) still reach the verification form, but walking the ids
    shows no agreement number, status or official."""
    for agreement_id in (records["agreement_id"], records["unsigned_id"], 999999):
        page = client.get(f"/verifikasi/{agreement_id}")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert NUMBER not in html and "562/PP/008" not in html and 'name="file"' in html


def test_comparing_with_the_registered_agreement(client, records, signed, unsigned_pdf):
    same = _upload(client, "/verifikasi", signed.data, agreement=records["public_id"])
    assert f"sama persis dengan dokumen terdaftar {NUMBER}" in same.get_data(as_text=True)
    other = _upload(client, "/verifikasi", unsigned_pdf, agreement=records["public_id"])
    assert "BERBEDA dengan dokumen terdaftar" in other.get_data(as_text=True)


def test_api_answers_json_and_structured_errors(client, records, signed):
    response = _upload(client, "/api/v1/verify", signed.data)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "valid" and body["verdict"] == VALID
    assert body["sha256"] == signed.sha256 and body["registry"]["registered"] is True

    bad = _upload(client, "/api/v1/verify", b"bukan pdf sama sekali")
    assert bad.status_code == 422
    assert bad.get_json()["error"]["code"] == "not_a_pdf"
    missing = client.post("/api/v1/verify", data={}, content_type="multipart/form-data")
    assert missing.status_code == 400
    assert set(missing.get_json()["error"]) == {"code", "message", "details"}
    assert missing.get_json()["error"]["code"] == "file_missing"


def test_api_is_csrf_exempt_but_the_form_is_not(app, settings, records, signed):
    from app import create_app

    protected = create_app({"TESTING": True, "WTF_CSRF_ENABLED": True}, settings=settings)
    client = protected.test_client()
    assert _upload(client, "/api/v1/verify", signed.data).status_code == 200
    assert _upload(client, "/verifikasi", signed.data).status_code == 400


def test_sk_revoked_after_signing_is_a_note_not_a_failure(client, records, signed):
    from pengesahan.records.agreements import Delegation
    from pengesahan.records.base import db

    with db.connection_context():
        # Revoked a moment after the signature's trusted time, before this check.
        revoked = signed.timestamp_time + timedelta(milliseconds=1)
        Delegation.update(revoked_at=revoked).execute()
    body = _upload(client, "/api/v1/verify", signed.data).get_json()
    assert body["ok"] is True, (body["reasons"], body["verdict"], body["timestamps"])
    assert body["signatures"][0]["delegation"]["revoked_since"] is True


def test_verifier_is_built_once_and_rebuilt_when_trust_files_change(settings, records):
    from pengesahan.services.verification import verifier

    first = verifier(settings)
    assert verifier(settings) is first
    extra = settings.data_dir / "trust" / "kedua.pem"
    extra.write_bytes((settings.data_dir / "trust" / "demo-root.pem").read_bytes())
    assert verifier(settings) is not first


def test_reports_are_kept_in_redis_for_every_web_process(app, settings, client, records, signed):
    from app import create_app
    from pengesahan.jobs.queue import redis_connection
    from pengesahan.web.verify import REPORT_KEY_PREFIX, REPORT_TTL_SECONDS

    html = _upload(client, "/verifikasi", signed.data).get_data(as_text=True)
    token = html.split('href="/verifikasi/laporan/')[1].split(".json")[0]
    connection = redis_connection()
    key = REPORT_KEY_PREFIX + token
    assert 0 < connection.ttl(key) <= REPORT_TTL_SECONDS
    assert connection.get(f"{key}:file") == signed.data
    # Another web process (another app, nothing shared in memory) serves the download.
    other = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=settings)
    body = other.test_client().get(f"/verifikasi/laporan/{token}.json").get_json()
    assert body["sha256"] == signed.sha256 and body["ok"] is True


@pytest.mark.parametrize(
    "damage", ["truncated", "malformed_cms"], ids=["truncated-pdf", "malformed-cms"]
)
def test_broken_pdfs_get_a_report_never_a_500(client, records, signed, damage):
    if damage == "truncated":
        data = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog"
    else:
        raw = bytearray(signed.data)
        start = raw.index(b"/Contents <") + len(b"/Contents <")
        end = raw.index(b">", start)
        raw[start:end] = b"3082ffff0609" + b"0" * (end - start - 12)
        data = bytes(raw)
    page = _upload(client, "/verifikasi", data)
    assert page.status_code == 200
    assert "TIDAK SAH" in page.get_data(as_text=True) or "BELUM DAPAT DIPASTIKAN" in (
        page.get_data(as_text=True)
    )
    api = _upload(client, "/api/v1/verify", data)
    assert api.status_code == 200 and api.get_json()["status"] != "valid"
    assert api.get_json()["indication"]["indication"] != "TOTAL_PASSED"


def test_the_report_shows_the_sk_confirmation_and_serves_its_signed_record(client, settings, records, signed):
    """Anyone checking a delegated PP sees that the SK's maker confirmed it, and can download the
    record the maker signed."""
    from pengesahan.records.agreements import Delegation
    from pengesahan.records.base import db
    from pengesahan.storage import file_store

    record = b"%PDF-1.7 catatan SK bertanda tangan"
    with db.connection_context():
        Delegation.update(confirmation_sha256=file_store(settings).put(record)).where(
            Delegation.number == SK.number).execute()
    html = _upload(client, "/verifikasi", signed.data).get_data(as_text=True)
    assert "SK dikonfirmasi Kepala Dinas" in html and "/verifikasi/sk/" in html
    download = client.get(f"/verifikasi/sk/{SK.number}")
    assert download.status_code == 200 and download.data == record
    assert client.get("/verifikasi/sk/800-tidak-ada").status_code == 404
