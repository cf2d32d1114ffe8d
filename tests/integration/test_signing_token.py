"""Signing with a key on a PKCS#11 token (Debian's SoftHSM2), the path to a real smart card."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.validation import validate_pdf_signature

from pengesahan.errors import WrongPassphrase
from signing.delegation import authorise
from signing.sign import StampSpec, sign_document
from tests.support.signing import KADIS, PP, reader_of

SOFTHSM_LIB = Path("/usr/lib/softhsm/libsofthsm2.so")
TOKEN, PIN, SO_PIN = "disnaker-uji", "246810", "13579111"

pytestmark = pytest.mark.skipif(
    not SOFTHSM_LIB.exists() or shutil.which("softhsm2-util") is None,
    reason="SoftHSM2 tidak terpasang (paket Debian softhsm2; scripts/system-deps.sh memasangnya)",
)


@pytest.fixture(scope="module")
def token(tmp_path_factory, demo_pki):
    """A SoftHSM2 token holding the Kepala Dinas's key, certificate and issuing CA."""
    pkcs11 = pytest.importorskip("pkcs11", reason="python-pkcs11 tidak terpasang")
    from pkcs11 import Attribute
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    directory = tmp_path_factory.mktemp("softhsm")
    (directory / "tokens").mkdir()
    conf = directory / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {directory / 'tokens'}\nobjectstore.backend = file\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOFTHSM2_CONF", str(conf))
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", TOKEN, "--pin", PIN,
                        "--so-pin", SO_PIN], check=True, capture_output=True)
        key_pem = (demo_pki.directory / "keys" / "kepala-dinas.key.pem").read_bytes()
        key_der = serialization.load_pem_private_key(key_pem, None).private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption())
        lib = pkcs11.lib(str(SOFTHSM_LIB))
        with lib.get_token(token_label=TOKEN).open(rw=True, user_pin=PIN) as session:
            attrs = decode_rsa_private_key(key_der)
            attrs.update({Attribute.LABEL: "kepala-dinas", Attribute.ID: b"\x01", Attribute.TOKEN: True,
                          Attribute.SIGN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True})
            session.create_object(attrs)
            for label, alias, ident in (("kepala-dinas", "kepala-dinas", b"\x01"), ("ca", "issuing-ca", b"\x02")):
                cert = decode_x509_certificate(demo_pki.certificate(alias).dump())
                cert.update({Attribute.LABEL: label, Attribute.ID: ident, Attribute.TOKEN: True})
                session.create_object(cert)
        yield str(SOFTHSM_LIB)


def test_signature_made_on_the_token_validates(token, unsigned_pdf, services, online_context):
    from signing.token import token_signing_key

    with token_signing_key(token, token_label=TOKEN, key_label="kepala-dinas", pin=PIN) as key:
        assert key.subject_name == KADIS.name
        signed = sign_document(unsigned_pdf, key, authorise(KADIS, [], datetime.now(UTC), PP),
                               field_name="ttd_pengesahan", certify=True, services=services,
                               stamp=StampSpec("https://disnaker.example/verifikasi/1", (), "TOKEN1"))
    assert signed.level == "B-LTA"
    status = validate_pdf_signature(reader_of(signed.data).embedded_signatures[0], online_context())
    assert status.intact and status.valid and status.trusted


def test_wrong_pin_is_refused_without_echoing_it(token):
    from signing.token import token_signing_key

    with pytest.raises(WrongPassphrase) as caught:
        with token_signing_key(token, token_label=TOKEN, key_label="kepala-dinas", pin="000000"):
            pass
    assert "000000" not in caught.value.message


def test_product_picks_the_token_for_a_pkcs11_alias(token, tmp_path):
    from types import SimpleNamespace

    from pengesahan.config import load_settings
    from pengesahan.errors import SigningError
    from pengesahan.services.pki import signing_key

    settings = load_settings({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x", "PKCS11_LIB": token,
                              "PKCS11_TOKEN": TOKEN})
    official = SimpleNamespace(key_alias="pkcs11:kepala-dinas", name=KADIS.name)
    with signing_key(settings, official, PIN) as key:
        assert key.subject_name == KADIS.name
    unconfigured = load_settings({"DATA_DIR": str(tmp_path), "SECRET_KEY": "x"})
    with pytest.raises(SigningError, match="PKCS11_LIB"):
        with signing_key(unconfigured, official, PIN):
            pass
