"""The demo PKI: created once, reopened unchanged, serving revocation data and time-stamps."""

import stat
import urllib.request
from datetime import UTC, datetime

import pytest
from asn1crypto import crl

from pengesahan.errors import SigningError
from signing.demo_pki import EXPIRED_ALIAS, OFFICIAL_ALIASES, REVOKED_ALIAS, ROOT_NAME, DemoPKI
from tests.support.signing import PASSPHRASE


def test_files_and_modes(demo_pki):
    assert demo_pki.trust_root_path.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    for alias in (*OFFICIAL_ALIASES, REVOKED_ALIAS, EXPIRED_ALIAS):
        mode = stat.S_IMODE(demo_pki.p12_path(alias).stat().st_mode)
        assert mode == 0o600, alias


def test_certificates(demo_pki):
    now = datetime.now(UTC)
    root = demo_pki.certificate("root")
    assert root.subject.native["common_name"] == ROOT_NAME
    official = demo_pki.certificate("kepala-dinas")
    assert official.ocsp_urls == [demo_pki.ocsp_url]
    assert official.crl_distribution_points[0].url == demo_pki.crl_url()
    assert official.not_valid_before <= now < official.not_valid_after
    assert 700 <= (official.not_valid_after - now).days <= 731
    assert (root.not_valid_after - now).days > 3600
    assert demo_pki.certificate(EXPIRED_ALIAS).not_valid_after < now


def test_reopen_does_not_regenerate(demo_pki):
    before = {p.name: p.read_bytes() for p in demo_pki.directory.rglob("*") if p.is_file()}
    again = DemoPKI.create(demo_pki.directory, demo_pki.service_url, "another passphrase")
    after = {p.name: p.read_bytes() for p in demo_pki.directory.rglob("*") if p.is_file()}
    assert again == demo_pki and before == after
    # Certificates issued from the stored config are byte-identical to the exported ones.
    assert again.certificate("root").dump() == demo_pki.certificate("root").dump()


def test_service_url_is_fixed(demo_pki):
    with pytest.raises(SigningError, match="tidak dapat diubah"):
        DemoPKI.create(demo_pki.directory, "http://127.0.0.1:1", PASSPHRASE)


def test_crl_lists_the_revoked_official(demo_pki, pki_service):
    with urllib.request.urlopen(demo_pki.crl_url(), timeout=5) as response:
        revoked = crl.CertificateList.load(response.read())
    serials = {
        entry["user_certificate"].native
        for entry in revoked["tbs_cert_list"]["revoked_certificates"]
    }
    assert demo_pki.certificate(REVOKED_ALIAS).serial_number in serials
    assert demo_pki.certificate("kepala-dinas").serial_number not in serials
