"""The office's keys, trust anchors and signing services: where each official's key is, which
roots the office trusts, and the one SigningServices per configuration that signing uses."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from pengesahan.config import Settings
from pengesahan.errors import SigningError
from pengesahan.records.people import Official
from signing.demo_pki import DemoPKI
from signing.sign import SigningKey, SigningServices, load_signing_key, load_trust_roots
from signing.token import token_signing_key

__all__ = ["key_path", "signing_key", "signing_services", "trust_root_paths", "tsa_url"]


@contextlib.contextmanager
def signing_key(settings: Settings, official: Official, secret: str) -> Iterator[SigningKey]:
    """The official's key: on the configured PKCS#11 token when its alias says ``pkcs11:<label>``
    (``secret`` is the PIN), else the PKCS#12 file (``secret`` is its passphrase)."""
    if official.key_alias.startswith("pkcs11:"):
        if not (settings.pkcs11_lib and settings.pkcs11_token):
            raise SigningError("Token PKCS#11 belum dikonfigurasi (PKCS11_LIB, PKCS11_TOKEN).")
        with token_signing_key(settings.pkcs11_lib, token_label=settings.pkcs11_token,
                               key_label=official.key_alias.removeprefix("pkcs11:"), pin=secret) as key:
            yield key
    else:
        yield load_signing_key(key_path(settings, official), secret)


def key_path(settings: Settings, official: Official) -> Path:
    """The official's PKCS#12 file: under DATA_DIR/keys, or the demo PKI's."""
    own = settings.keys_dir / f"{official.key_alias}.p12"
    if own.exists():
        return own
    demo = settings.demo_pki_dir / f"{official.key_alias}.p12"
    if official.key_alias and demo.exists():
        return demo
    raise SigningError(f"Kunci penandatanganan {official.name} tidak ditemukan. Hubungi administrator.")


def trust_root_paths(settings: Settings) -> list[Path]:
    """The office's trust anchors: PEM files in DATA_DIR/trust, and the demo root when present."""
    paths = sorted(settings.trust_dir.glob("*.pem")) if settings.trust_dir.is_dir() else []
    demo_root = settings.demo_pki_dir / "root-ca.pem"
    if demo_root.is_file():
        paths.append(demo_root)
    return paths


def tsa_url(settings: Settings) -> str | None:
    """The time-stamping authority: TSA_URL, else the demo PKI's when it exists."""
    if settings.tsa_url:
        return settings.tsa_url
    if (settings.demo_pki_dir / "pki.json").exists():
        return DemoPKI.open(settings.demo_pki_dir).tsa_url
    return None


@lru_cache(maxsize=4)
def _services(tsa: str | None, roots: tuple[Path, ...]) -> SigningServices:
    return SigningServices(tsa, load_trust_roots(roots), allow_fetching=True)


def signing_services(settings: Settings) -> SigningServices:
    """One SigningServices per process and configuration: its caches are what make it fast."""
    return _services(tsa_url(settings), tuple(trust_root_paths(settings)))
