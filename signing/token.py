"""Signing keys on a PKCS#11 token (a smart card, an HSM; SoftHSM2 in tests).

The key never leaves the token: pyHanko asks the token to sign. The PIN plays the part the
PKCS#12 passphrase plays for a key file, and is handled the same way (never logged, never
stored).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from asn1crypto import x509
from pyhanko.config.pkcs11 import TokenCriteria
from pyhanko.sign import pkcs11 as hanko_pkcs11

from pengesahan.errors import SigningError, WrongPassphrase
from signing.sign import SigningKey

__all__ = ["token_signing_key"]


@contextmanager
def token_signing_key(lib_path: str, *, token_label: str, key_label: str, pin: str) -> Iterator[SigningKey]:
    """Open the token, log in with ``pin`` and yield the key labelled ``key_label``.

    The certificate is the one with the same label on the token; the other certificates on
    the token (the issuing CA) are taken as its chain. The session closes when the block ends.
    """
    import pkcs11  # python-pkcs11, imported here: only installations with a token need it

    try:
        session = hanko_pkcs11.open_pkcs11_session(
            lib_path, token_criteria=TokenCriteria(label=token_label), user_pin=pin
        )
    except pkcs11.exceptions.PinIncorrect as exc:
        raise WrongPassphrase("PIN token salah.") from exc
    except (pkcs11.exceptions.PKCS11Error, OSError, RuntimeError) as exc:
        raise SigningError(
            f"Token '{token_label}' tidak dapat dibuka. Periksa bahwa kartu/token terpasang dan "
            "pustakanya (PKCS11_LIB) benar."
        ) from exc
    try:
        try:
            signer = hanko_pkcs11.PKCS11Signer(
                session, cert_label=key_label, key_label=key_label, other_certs_to_pull=None
            )
            certificate: x509.Certificate = signer.signing_cert
        except (pkcs11.exceptions.PKCS11Error, hanko_pkcs11.SigningError) as exc:
            raise SigningError(f"Kunci '{key_label}' tidak ditemukan pada token '{token_label}'.") from exc
        chain = tuple(
            cert for cert in signer.cert_registry if cert.dump() != certificate.dump()
        )
        yield SigningKey(signer=signer, certificate=certificate, chain=chain)
    finally:
        session.close()
