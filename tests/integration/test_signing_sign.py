"""Real PAdES signatures on the demo PKI, validated by pyHanko and poppler's pdfsig."""

import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import SignatureValidationError

from pengesahan.errors import SigningRefused, WrongPassphrase
from signing.delegation import authorise
from signing.demo_pki import EXPIRED_ALIAS, REVOKED_ALIAS
from signing.sign import (
    LEVEL_B_B,
    LEVEL_B_LTA,
    LEVEL_B_T,
    SigningServices,
    StampSpec,
    load_signing_key,
    sign_document,
    stamp_lines,
    trusted_time,
)
from tests.support.signing import KADIS, PASSPHRASE, PP, SEKDIS, delegation, reader_of

STAMP = StampSpec("https://disnaker.example/verifikasi/AB12CD", ("No. 562/PP/001/2026",), "AB12CD")
FIELD = "ttd_pengesahan"


@pytest.fixture(scope="module")
def kadis_signed(unsigned_pdf, keys, services):
    authority = authorise(KADIS, [], datetime.now(UTC), PP)
    return sign_document(
        unsigned_pdf,
        keys("kepala-dinas"),
        authority,
        field_name=FIELD,
        stamp=STAMP,
        certify=True,
        services=services,
    )


@pytest.fixture(scope="module")
def sekdis_signed(unsigned_pdf, keys, services):
    authority = authorise(SEKDIS, [delegation(SEKDIS)], datetime.now(UTC), PP)
    signed = sign_document(
        unsigned_pdf,
        keys("sekretaris-dinas"),
        authority,
        field_name=FIELD,
        stamp=STAMP,
        services=services,
    )
    return authority, signed


def _signature(data, field=FIELD):
    reader = reader_of(data)
    return next(s for s in reader.embedded_regular_signatures if s.field_name == field)


def test_kepala_dinas_b_lta_validates(kadis_signed, online_context):
    assert kadis_signed.level == LEVEL_B_LTA
    status = validate_pdf_signature(_signature(kadis_signed.data), online_context())
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.docmdp_ok
    # Everything after the signature is DSS and the document timestamp.
    assert status.modification_level == ModificationLevel.LTA_UPDATES
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert trusted_time(kadis_signed.data) == kadis_signed.timestamp_time
    assert abs(kadis_signed.timestamp_time - datetime.now(UTC)) < timedelta(minutes=2)


def test_document_timestamp_and_offline_revalidation(kadis_signed, trust_roots):
    reader = reader_of(kadis_signed.data)
    doc_ts = reader.embedded_timestamp_signatures[0]
    offline = DocumentSecurityStore.read_dss(reader).as_validation_context(
        {"trust_roots": list(trust_roots), "allow_fetching": False, "revocation_mode": "require"}
    )
    ts_status = validate_pdf_timestamp(doc_ts, offline)
    assert ts_status.valid and ts_status.trusted
    offline = DocumentSecurityStore.read_dss(reader).as_validation_context(
        {"trust_roots": list(trust_roots), "allow_fetching": False, "revocation_mode": "require"}
    )
    status = validate_pdf_signature(_signature(kadis_signed.data), offline)
    assert status.bottom_line, status.pretty_print_details()


def test_sekretaris_with_sk(sekdis_signed, online_context):
    authority, signed = sekdis_signed
    sk = authority.delegation
    sig = _signature(signed.data)
    assert sk.number in str(sig.sig_object["/Reason"])
    status = validate_pdf_signature(sig, online_context())
    assert status.bottom_line, status.pretty_print_details()
    role = next(iter(status.cades_signer_attrs.claimed_attrs["role"].attr_values))
    assert role["role_name"].chosen.native["title"] == "a.n. Kepala Dinas Sekretaris Dinas"
    assert sk.number in role["role_authority"][0].chosen.native["common_name"]
    lines = stamp_lines(authority, STAMP)
    assert lines[:3] == ["a.n. Kepala Dinas", "Sekretaris Dinas", SEKDIS.name]
    assert f"NIP {SEKDIS.nip}" in lines and any(sk.number in line for line in lines)


def test_second_signature_after_certification(kadis_signed, keys, services, online_context):
    # The certification allows form filling and further signatures in existing fields.
    authority = authorise(SEKDIS, [delegation(SEKDIS)], datetime.now(UTC), PP)
    signed = sign_document(
        kadis_signed.data,
        keys("sekretaris-dinas"),
        authority,
        field_name="ttd_kedua",
        stamp=STAMP,
        services=services,
    )
    first = validate_pdf_signature(_signature(signed.data), online_context())
    assert first.bottom_line and first.docmdp_ok, first.pretty_print_details()
    second = validate_pdf_signature(_signature(signed.data, "ttd_kedua"), online_context())
    assert second.bottom_line, second.pretty_print_details()


def test_sk_rechecked_at_timestamp_time(unsigned_pdf, keys, services):
    now = datetime.now(UTC)
    sk = delegation(SEKDIS, revoked_at=now - timedelta(seconds=30))
    # Authorised with a claimed time before the revocation: the TST time is after it.
    authority = authorise(SEKDIS, [sk], now - timedelta(minutes=1), PP)
    with pytest.raises(SigningRefused, match="telah dicabut"):
        sign_document(
            unsigned_pdf,
            keys("sekretaris-dinas"),
            authority,
            field_name=FIELD,
            stamp=STAMP,
            services=services,
        )


def test_fallback_levels(unsigned_pdf, keys, demo_pki, trust_roots, pki_service):
    authority = authorise(KADIS, [], datetime.now(UTC), PP)
    no_fetch = SigningServices(demo_pki.tsa_url, trust_roots, allow_fetching=False)
    signed = sign_document(
        unsigned_pdf,
        keys("kepala-dinas"),
        authority,
        field_name=FIELD,
        stamp=STAMP,
        services=no_fetch,
    )
    assert signed.level == LEVEL_B_T and signed.timestamp_time is not None
    no_tsa = SigningServices(None, trust_roots)
    signed = sign_document(
        unsigned_pdf,
        keys("kepala-dinas"),
        authority,
        field_name=FIELD,
        stamp=STAMP,
        services=no_tsa,
    )
    assert signed.level == LEVEL_B_B and signed.timestamp_time is None


def test_wrong_passphrase(demo_pki):
    secret = "salah-" + PASSPHRASE
    with pytest.raises(WrongPassphrase) as info:
        load_signing_key(demo_pki.p12_path("kepala-dinas"), secret)
    assert secret not in info.value.message and secret not in repr(info.value.__cause__)


@pytest.mark.parametrize("alias", [REVOKED_ALIAS, EXPIRED_ALIAS])
def test_revoked_and_expired_fail(alias, unsigned_pdf, keys, services, trust_roots, online_context):
    authority = authorise(KADIS, [], datetime.now(UTC), PP)
    # The service refuses them at B-LTA (the pre-signing validation sees the problem) ...
    with pytest.raises(SigningRefused):
        sign_document(
            unsigned_pdf,
            keys(alias),
            authority,
            field_name=FIELD,
            stamp=STAMP,
            services=services,
        )
    # ... and a B-B signature made with them anyway does not validate.
    signed = sign_document(
        unsigned_pdf,
        keys(alias),
        authority,
        field_name=FIELD,
        stamp=STAMP,
        services=SigningServices(None, trust_roots),
    )
    try:
        status = validate_pdf_signature(_signature(signed.data), online_context())
    except SignatureValidationError:
        return
    assert status.intact and not status.bottom_line
    assert not status.trusted or status.revoked


@pytest.mark.skipif(shutil.which("pdfsig") is None, reason="pdfsig (poppler-utils) not installed")
def test_pdfsig_calls_every_cms_signature_valid(kadis_signed, sekdis_signed, tmp_path):
    for number, data in enumerate((kadis_signed.data, sekdis_signed[1].data)):
        path = tmp_path / f"signed{number}.pdf"
        path.write_bytes(data)
        result = subprocess.run(
            ["pdfsig", str(path)], capture_output=True, text=True, timeout=30, check=False
        )
        report = result.stdout
        cms_blocks = [b for b in report.split("Signature #")[1:] if "ETSI.CAdES" in b]
        assert cms_blocks, report
        for block in cms_blocks:
            assert "Signature is Valid." in block, report


def test_falls_back_to_b_t_when_revocation_data_unreachable(unsigned_pdf, tmp_path):
    from certomancer.registry import CertLabel, KeyLabel
    from pyhanko.sign.timestamps import DummyTimeStamper

    from signing.demo_pki import DemoPKI
    from signing.sign import load_trust_roots
    from tests.support.signing import free_port

    # A PKI never served: its OCSP/CRL URLs lead nowhere; the TSA is in-process.
    lone = DemoPKI.create(tmp_path / "pki", f"http://127.0.0.1:{free_port()}", PASSPHRASE)
    arch = lone.architecture()
    tsa = DummyTimeStamper(
        tsa_cert=arch.get_cert(CertLabel("tsa")),
        tsa_key=arch.key_set.get_private_key(KeyLabel("tsa")),
    )
    roots = load_trust_roots([lone.trust_root_path])
    offline = SigningServices(None, roots, allow_fetching=True, timestamper=tsa, timeout=2)
    authority = authorise(KADIS, [], datetime.now(UTC), PP)
    signed = sign_document(
        unsigned_pdf,
        load_signing_key(lone.p12_path("kepala-dinas"), PASSPHRASE),
        authority,
        field_name=FIELD,
        stamp=STAMP,
        services=offline,
    )
    assert signed.level == LEVEL_B_T and signed.timestamp_time is not None
