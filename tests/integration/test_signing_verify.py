"""Verification of signed agreements: genuine ones pass, every kind of tampering is caught."""

from __future__ import annotations

import datetime as dt
import json
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import load_cert_from_pemder, load_private_key_from_pemder_data
from pyhanko.sign.validation.dss import DocumentSecurityStore

from pengesahan.errors import VerificationError
from signing.delegation import authorise
from signing.sign import SigningServices, StampSpec, sign_document
from signing.verify import RegisteredAgreement, Verifier, verify_main, verify_pdf
from tests.support.signing import KADIS, PP, SEKDIS, delegation

FIELD = "ttd_pengesahan"
STAMP = StampSpec("http://127.0.0.1/verifikasi/1", ("No. 562/PP/001/Disnaker/2026",), "AB12CD")
SK = delegation()
VALID = "Dokumen asli dan tidak berubah sejak ditandatangani."


def _sign(pdf, key, official, sks, signing_services):
    authority = authorise(official, sks, datetime.now(UTC), PP)
    return sign_document(
        pdf, key, authority, field_name=FIELD, stamp=STAMP, services=signing_services
    )


@pytest.fixture(scope="module")
def lta_signed(unsigned_pdf, keys, services):
    """A B-LTA agreement signed by the Sekretaris Dinas under SK (the delegation case)."""
    signed = _sign(unsigned_pdf, keys("sekretaris-dinas"), SEKDIS, [SK], services)
    assert signed.level == "B-LTA"
    return signed


@pytest.fixture(scope="module")
def bt_signed(unsigned_pdf, keys, demo_pki, pki_service, trust_roots):
    """A B-T agreement signed by the Kepala Dinas (no revocation data can be embedded)."""
    offline = SigningServices(demo_pki.tsa_url, trust_roots, allow_fetching=False)
    signed = _sign(unsigned_pdf, keys("kepala-dinas"), KADIS, [], offline)
    assert signed.level == "B-T"
    return signed


def _sk_lookup(sk):
    return lambda number: sk if number == sk.number else None


def _verify(data, roots, **kwargs):
    kwargs.setdefault("delegation_lookup", _sk_lookup(SK))
    return verify_pdf(data, trust_roots=roots, **kwargs)


# --- genuine documents -------------------------------------------------------------------------


def test_lta_delegated_signature_verifies_with_everything_reported(lta_signed, trust_roots):
    registered = RegisteredAgreement(
        number="562/PP/001/Disnaker/2026",
        sha256=lta_signed.sha256,
        status="ditandatangani",
        status_label="PP Telah Diverifikasi",
        agreement_id=7,
    )
    asked = []

    def registry(key):
        asked.append(key)
        return registered if key == lta_signed.sha256 else None

    report = _verify(lta_signed.data, trust_roots, registry_lookup=registry)

    assert report.ok and report.exit_code == 0
    assert report.verdict == VALID
    assert asked == [lta_signed.sha256]
    assert report.registry.registered and report.registry.agreement_number == registered.number
    (sig,) = report.signatures
    assert sig.intact and sig.valid and sig.trusted and sig.covers_document
    assert sig.level == "B-LTA"
    assert sig.revocation == "embedded"
    assert sig.modification_level == "LTA_UPDATES"
    assert (sig.ades.indication, sig.ades.sub_indication) == ("TOTAL_PASSED", None)
    assert str(report.indication) == "TOTAL_PASSED"
    assert sig.signing_time_source == "timestamp"
    assert sig.signing_time == lta_signed.timestamp_time
    assert sig.signer.name == SEKDIS.name
    assert sig.signer.nip == SEKDIS.nip
    assert sig.signer.capacity == "a.n. Kepala Dinas Sekretaris Dinas"
    assert sig.signer.sk_number == SK.number
    assert sig.signer.sk_date == "5 Januari 2026"
    assert SK.number in sig.signer.reason
    assert sig.delegation.status == "berlaku" and sig.delegation.in_force
    (ts,) = report.timestamps
    assert ts.ok and ts.time >= sig.signing_time
    data = json.loads(report.to_json())
    assert data["status"] == "valid" and data["signatures"][0]["ok"] is True
    assert "xml_reports" not in data


def test_lta_file_still_verifies_offline_long_after_signing(lta_signed, trust_roots):
    # The OCSP responses in the DSS are long stale by then; the document timestamp is the
    # proof that they and the signature existed when they were fresh.
    later = datetime.now(UTC) + timedelta(days=400)
    verifier = Verifier(trust_roots)
    report = verifier.verify(lta_signed.data, delegation_lookup=_sk_lookup(SK), now=later)
    assert report.ok, report.reasons
    assert report.signatures[0].validated_at < later - timedelta(days=399)


def test_b_t_signature_verifies_but_says_revocation_was_not_checked(bt_signed, trust_roots):
    report = _verify(bt_signed.data, trust_roots)
    assert report.ok
    (sig,) = report.signatures
    assert sig.level == "B-T" and sig.revocation == "not_checked"
    assert sig.signer.capacity == "Kepala Dinas" and sig.delegation is None
    assert any("pencabutan" in note for note in sig.notes)
    assert report.registry is None


def test_xml_validation_report_per_signature(lta_signed, trust_roots):
    pytest.importorskip("xsdata", reason="pyHanko's etsi extra (xsdata) is not installed")
    report = _verify(lta_signed.data, trust_roots, xml=True)
    (xml,) = report.xml_reports
    assert "ValidationReport" in xml and "total-passed" in xml
    assert SK.number in xml  # the claimed role travels into SignerRole


# --- tampering -----------------------------------------------------------------------------


def test_flipped_byte_inside_the_signed_range_is_a_hash_failure(bt_signed, trust_roots):
    data = bytearray(bt_signed.data)
    position = data.index(b"ReportLab")  # the producer string, inside the first byte range
    data[position] ^= 0x01
    report = _verify(bytes(data), trust_roots)
    assert not report.ok and report.exit_code == 1
    assert report.reasons[0] == "hash_failure"
    assert report.signatures[0].ades.sub_indication == "HASH_FAILURE"
    assert report.verdict.startswith("Tanda tangan TIDAK SAH: isi dokumen tidak cocok")


def _append_update(data: bytes, change) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    change(writer)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def test_text_changed_by_an_incremental_update_is_caught(lta_signed, trust_roots):
    def overwrite_text(writer):
        stream = generic.StreamObject(stream_data=b"BT /F1 14 Tf 72 700 Td (GAJI USD 9999) Tj ET")
        writer.add_stream_to_page(0, writer.add_object(stream))

    report = _verify(_append_update(lta_signed.data, overwrite_text), trust_roots)
    assert not report.ok
    (sig,) = report.signatures
    assert sig.intact and sig.trusted  # the signed bytes themselves are untouched
    assert "modified" in report.reasons and not sig.covers_document
    assert sig.modification_level == "OTHER" and sig.modification_detail
    assert "diubah setelah ditandatangani" in report.verdict


def test_page_added_after_signing_is_caught(bt_signed, trust_roots):
    def add_page(writer):
        page = generic.DictionaryObject(
            {
                generic.pdf_name("/Type"): generic.pdf_name("/Page"),
                generic.pdf_name("/MediaBox"): generic.ArrayObject(
                    [generic.NumberObject(n) for n in (0, 0, 595, 842)]
                ),
                generic.pdf_name("/Resources"): generic.DictionaryObject(),
            }
        )
        writer.insert_page(page)

    report = _verify(_append_update(bt_signed.data, add_page), trust_roots)
    assert not report.ok and "modified" in report.reasons
    assert report.signatures[0].modification_level == "OTHER"


def test_pdf_without_signature_is_not_valid(unsigned_pdf, trust_roots):
    report = _verify(unsigned_pdf, trust_roots)
    assert not report.ok and report.reasons == ("no_signature",)
    assert report.verdict == (
        "Tanda tangan TIDAK SAH: dokumen ini tidak memuat tanda tangan elektronik."
    )


def _p12(key, cert, cas=()) -> bytes:
    return pkcs12.serialize_key_and_certificates(
        b"x", key, cert, list(cas), serialization.BestAvailableEncryption(b"sandi")
    )


def _cert(subject_cn, key, issuer_cn, issuer_key, *, ca: bool):
    now = dt.datetime.now(dt.UTC)
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    issuer = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, issuer_cn)])
    return (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(cx509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            cx509.KeyUsage(
                digital_signature=True,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def _forge(pdf: bytes, p12: bytes) -> bytes:
    signer = signers.SimpleSigner.load_pkcs12_data(p12, other_certs=(), passphrase=b"sandi")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        reason="Disahkan oleh Kepala Dinas",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    return signers.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf)), meta, signer=signer).getvalue()


def test_copy_resigned_with_a_self_made_certificate_is_not_trusted(unsigned_pdf, trust_roots):
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert(KADIS.name, key, KADIS.name, key, ca=False)
    forged = _forge(unsigned_pdf, _p12(key, cert))
    report = _verify(forged, trust_roots, registry_lookup=lambda key: None)
    assert not report.ok
    (sig,) = report.signatures
    assert sig.intact and sig.valid and not sig.trusted
    assert report.reasons == ("untrusted",)
    assert sig.ades.indication == "INDETERMINATE"
    assert "tidak diterbitkan oleh otoritas yang dipercaya" in report.verdict
    assert not report.registry.registered


def test_signature_chaining_to_another_root_is_not_trusted(unsigned_pdf, trust_roots):
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = _cert("Root CA Lain", root_key, "Root CA Lain", root_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _cert(KADIS.name, leaf_key, "Root CA Lain", root_key, ca=False)
    signed = _forge(unsigned_pdf, _p12(leaf_key, leaf, [root]))
    report = _verify(signed, trust_roots)
    assert not report.ok and report.reasons == ("untrusted",)
    assert report.signatures[0].signer.issuer == "Root CA Lain"


def test_sk_revoked_after_signing_keeps_the_signature_valid_with_a_note(lta_signed, trust_roots):
    revoked = delegation(revoked_at=datetime.now(UTC) + timedelta(seconds=1))
    later = datetime.now(UTC) + timedelta(days=3)
    report = Verifier(trust_roots).verify(
        lta_signed.data, delegation_lookup=_sk_lookup(revoked), now=later
    )
    assert report.ok
    sk = report.signatures[0].delegation
    assert sk.in_force and sk.revoked_since
    assert "kemudian dicabut" in sk.message
    assert sk.message in report.signatures[0].notes


def test_sk_not_in_force_at_signing_time_fails(lta_signed, trust_roots):
    revoked_before = delegation(revoked_at=datetime.now(UTC) - timedelta(days=1))
    report = _verify(lta_signed.data, trust_roots, delegation_lookup=_sk_lookup(revoked_before))
    assert not report.ok and report.reasons == ("sk_not_in_force",)
    assert report.verdict.startswith(f"Tanda tangan TIDAK SAH: SK Nomor {SK.number}")
    assert "telah dicabut" in report.verdict


def test_sk_unknown_to_the_office_fails(lta_signed, trust_roots):
    report = _verify(lta_signed.data, trust_roots, delegation_lookup=lambda number: None)
    assert not report.ok and report.reasons == ("sk_unknown",)


def test_sk_not_checked_without_a_register(lta_signed, trust_roots):
    report = verify_pdf(lta_signed.data, trust_roots=trust_roots)
    assert report.ok
    assert report.signatures[0].delegation.status == "tidak_diperiksa"


# --- unreadable input and the CLI helper ------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64], ids=["empty", "png"])
def test_non_pdf_files_raise_verification_error(data, trust_roots):
    with pytest.raises(VerificationError) as caught:
        verify_pdf(data, trust_roots=trust_roots)
    assert caught.value.status == 422 and caught.value.message


def test_truncated_pdf_gets_a_report_not_an_error(trust_roots):
    # A PDF, if a broken one: it gets a verdict and a reason (exit 1), not "not a PDF" (exit 2).
    report = verify_pdf(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog", trust_roots=trust_roots)
    assert report.status == "indeterminate" and report.reasons == ("unreadable",)
    assert str(report.indication) == "INDETERMINATE/FORMAT_FAILURE"
    assert "rusak atau terpotong" in report.verdict


def test_verify_main_exit_codes(tmp_path, lta_signed, unsigned_pdf, trust_roots):
    good = tmp_path / "pp.pdf"
    good.write_bytes(lta_signed.data)
    unsigned = tmp_path / "tanpa-ttd.pdf"
    unsigned.write_bytes(unsigned_pdf)
    image = tmp_path / "foto.pdf"
    image.write_bytes(b"\xff\xd8\xff\xe0 bukan pdf")
    roots = trust_roots

    code, text = verify_main(good, trust_roots=roots)
    assert code == 0 and text.startswith(VALID)
    code, text = verify_main(good, as_json=True, trust_roots=roots)
    assert code == 0 and json.loads(text)["ok"] is True
    code, text = verify_main(unsigned, trust_roots=roots)
    assert code == 1 and "TIDAK SAH" in text
    code, text = verify_main(image, as_json=True, trust_roots=roots)
    assert code == 2 and json.loads(text)["error"]["code"] == "not_a_pdf"
    code, text = verify_main(tmp_path / "tidak-ada.pdf", trust_roots=roots)
    assert code == 2 and "tidak dapat dibaca" in text


# --- attacks (issue #13): each of these used to verify, or to crash ----------------------------


def _fake_tsa(tmp_path) -> timestamps.DummyTimeStamper:
    """A time-stamping authority anyone can make: self-signed, trusted by no one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's dummy: RSA
    name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "TSA Palsu")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        cx509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(cx509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(cx509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / "tsa-palsu.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return timestamps.DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(str(cert_path)),
        tsa_key=load_private_key_from_pemder_data(key_der, passphrase=None),
    )


def _append_doc_timestamp(data: bytes, timestamper) -> bytes:
    writer = IncrementalPdfFileWriter(BytesIO(data))
    out = signers.PdfTimeStamper(timestamper).timestamp_pdf(writer, "sha256")
    return out.getvalue()


def test_appended_self_signed_document_timestamp_is_not_valid(lta_signed, trust_roots, tmp_path):
    # It used to switch the expiry check off and leave the verdict "valid".
    data = _append_doc_timestamp(lta_signed.data, _fake_tsa(tmp_path))
    report = _verify(data, trust_roots)
    assert not report.ok and report.status != "valid"
    genuine, fake = report.timestamps
    assert genuine.ok and not fake.ok and not fake.proves_existence
    assert fake.ades.indication == "INDETERMINATE"
    assert not report.indication.passed


def test_appended_fake_timestamp_does_not_hide_an_expired_chain(lta_signed, trust_roots, tmp_path):
    data = _append_doc_timestamp(lta_signed.data, _fake_tsa(tmp_path))
    much_later = datetime.now(UTC) + timedelta(days=365 * 12)  # past every demo certificate
    report = Verifier(trust_roots).verify(data, delegation_lookup=_sk_lookup(SK), now=much_later)
    assert not report.ok and report.status == "indeterminate"
    assert str(report.indication) == "INDETERMINATE/OUT_OF_BOUNDS_NO_POE"
    assert "TIDAK SAH" not in report.verdict
    assert "tidak diterbitkan oleh otoritas" not in report.verdict


def test_flipped_byte_inside_a_document_timestamp_container_is_caught(lta_signed, trust_roots):
    data = bytearray(lta_signed.data)
    start = data.rindex(b"/Contents <") + len(b"/Contents <")  # the document timestamp's CMS
    end = data.index(b">", start)
    middle = start + (end - start) // 4  # inside the token, before the zero padding
    data[middle] = ord("0") if data[middle] != ord("0") else ord("1")
    report = _verify(bytes(data), trust_roots)
    assert not report.ok and report.status != "valid"
    assert report.verdict != VALID
    (ts,) = report.timestamps
    assert not ts.ok and not ts.ades.passed


def test_info_title_edited_after_signing_is_a_modification(bt_signed, trust_roots):
    def retitle(writer):
        writer.set_info(
            generic.DictionaryObject(
                {generic.pdf_name("/Title"): generic.TextStringObject("PP PALSU - GAJI USD 9999")}
            )
        )

    report = _verify(_append_update(bt_signed.data, retitle), trust_roots)
    assert not report.ok and report.verdict != VALID
    assert "modified" in report.reasons
    assert str(report.indication) == "TOTAL_FAILED/FORMAT_FAILURE"


def test_malformed_cms_gets_a_report_not_a_crash(bt_signed, trust_roots, capsys):
    data = bytearray(bt_signed.data)
    start = data.index(b"/Contents <") + len(b"/Contents <")
    end = data.index(b">", start)
    # A SEQUENCE that claims a length it does not have: pyHanko asserts or fails to parse.
    garbage = b"3082ffff0609" + b"0" * (end - start - 12)
    data[start:end] = garbage
    report = _verify(bytes(data), trust_roots)
    assert report.status == "invalid" and report.reasons[0] == "format_failure"
    (sig,) = report.signatures
    assert str(sig.ades) == "TOTAL_FAILED/FORMAT_FAILURE"
    assert "Traceback" not in capsys.readouterr().err


def test_signature_timestamp_from_a_fake_tsa_is_not_valid(
    unsigned_pdf, keys, tmp_path, trust_roots
):
    key = keys("kepala-dinas")
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, reason="Disahkan", subfilter=fields.SigSeedSubFilter.PADES
    )
    signed = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(unsigned_pdf)),
        meta,
        signer=key.signer,
        timestamper=_fake_tsa(tmp_path),
    ).getvalue()
    report = _verify(signed, trust_roots)
    assert not report.ok and report.status != "valid"
    assert "timestamp_untrusted" in report.reasons


def test_sha1_subfilter_signature_is_reported_not_dropped(trust_roots):
    corpus = Path(__file__).resolve().parents[1] / "data" / "signed-corpus"
    report = _verify((corpus / "dss-pkcs7_sha1.pdf").read_bytes(), trust_roots)
    assert "no_signature" not in report.reasons
    assert "tidak memuat tanda tangan" not in report.verdict
    sha1 = [s for s in report.signatures if s.modification_detail == "SubFilter /adbe.pkcs7.sha1"]
    assert sha1 and sha1[0].ades.indication == "INDETERMINATE"
    assert "adbe.pkcs7.sha1" in sha1[0].problems[0].message
    assert report.status != "valid"


def test_one_officials_revocation_data_never_lands_in_anothers_agreement(
    unsigned_pdf, keys, services
):
    # The signing services used to reuse one validation context for minutes; pyHanko embeds
    # everything a context gathered, so the second PP carried the first official's OCSP.
    kadis, sekdis = keys("kepala-dinas"), keys("sekretaris-dinas")
    _sign(unsigned_pdf, kadis, KADIS, [], services)
    second = _sign(unsigned_pdf, sekdis, SEKDIS, [SK], services)
    assert second.level == "B-LTA"
    dss = DocumentSecurityStore.read_dss(PdfFileReader(BytesIO(second.data)))
    serials = {
        single["cert_id"]["serial_number"].native
        for ref in dss.ocsps
        for single in asn1_ocsp.OCSPResponse.load(ref.get_object().data)["response_bytes"][
            "response"
        ].parsed["tbs_response_data"]["responses"]
    }
    assert sekdis.certificate.serial_number in serials
    assert kadis.certificate.serial_number not in serials
