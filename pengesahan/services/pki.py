"""The office's keys, trust anchors and signing services: where each official's key is, which
roots the office trusts, the one SigningServices per configuration that signing uses, and the
rollover of the demo PKI's TSA certificate."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pengesahan.config import Settings
from pengesahan.errors import SigningError
from pengesahan.records import audit
from pengesahan.records.base import now, write_transaction
from pengesahan.records.people import Official

if TYPE_CHECKING:
    from signing.demo_pki import DemoPKI
    from signing.sign import SigningKey, SigningServices

__all__ = [
    "TsaRollover",
    "ensure_current_tsa",
    "key_path",
    "rollover_tsa",
    "signing_key",
    "signing_services",
    "trust_root_paths",
    "tsa_url",
]


@contextlib.contextmanager
def signing_key(settings: Settings, official: Official, secret: str) -> Iterator[SigningKey]:
    # pyHanko's signing stack loads when a key is opened, not when a process starts.
    from signing.sign import load_signing_key
    from signing.token import token_signing_key

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


def _demo_pki(settings: Settings) -> DemoPKI | None:
    """The installation's demo PKI when it exists and no other TSA is configured."""
    if settings.tsa_url or not (settings.demo_pki_dir / "pki.json").exists():
        return None
    # certomancer loads only where the demo PKI exists and is used.
    from signing.demo_pki import DemoPKI

    return DemoPKI.open(settings.demo_pki_dir)


def tsa_url(settings: Settings) -> str | None:
    """The time-stamping authority: TSA_URL, else the demo PKI's when it exists."""
    if settings.tsa_url:
        return settings.tsa_url
    pki = _demo_pki(settings)
    return pki.tsa_url if pki is not None else None


@lru_cache(maxsize=4)
def _services(tsa: str | None, roots: tuple[Path, ...], _version: tuple) -> SigningServices:
    # pyHanko's signing stack loads with the first signature, not when a process starts.
    from signing.sign import SigningServices, load_trust_roots

    return SigningServices(tsa, load_trust_roots(roots), allow_fetching=True)


def signing_services(settings: Settings) -> SigningServices:
    """One SigningServices per process and configuration: its caches are what make it fast.

    Made anew when a trust-root file or the demo PKI changes (a rollover): the time-stamper
    caches a token of the TSA's old certificate, and the roots are parsed once.
    """
    roots = tuple(trust_root_paths(settings))
    state = settings.demo_pki_dir / "pki.json"
    version = tuple(path.stat().st_mtime_ns for path in (*roots, state) if path.exists())
    return _services(tsa_url(settings), roots, version)


@dataclass(frozen=True)
class TsaRollover:
    """A new certificate of the demo TSA."""

    #: Label of the new certificate in the demo PKI ("tsa-2"...).
    label: str
    #: Its validity.
    valid_from: datetime
    valid_until: datetime
    #: Common name of the root that issued it.
    root: str
    #: Whether that root is a generation made by this rollover (added to the trust roots).
    new_root: bool

    @property
    def message(self) -> str:
        """One sentence in Bahasa Indonesia for the operator."""
        text = (f"Sertifikat TSA baru ({self.label}) berlaku {self.valid_from:%Y-%m-%d} sampai "
                f"{self.valid_until:%Y-%m-%d}, diterbitkan oleh {self.root}.")
        if self.new_root:
            text += " Root CA generasi baru ditambahkan ke akar kepercayaan; root lama tetap dipercaya."
        return text


def rollover_tsa(settings: Settings, actor: str, *, at: datetime | None = None,
                 if_due: bool = False) -> TsaRollover | None:
    """Give the demo TSA a new certificate now (and a new root when the current one would not
    outlive it), audited; with ``if_due`` only when it is due (None when not). Refused when the
    TSA is another's (TSA_URL)."""
    if settings.tsa_url:
        raise SigningError("TSA_URL dikonfigurasi: sertifikat TSA dikelola oleh penyedia TSA tersebut, "
                           "bukan oleh aplikasi ini.")
    pki = _demo_pki(settings)
    if pki is None:
        raise SigningError("PKI demo belum dibuat; tidak ada TSA yang dapat diperbarui sertifikatnya.")
    before = pki.root_labels
    rolled = pki.rollover_tsa(at or now(), if_due=if_due)
    if rolled.tsa_label == pki.tsa_label:
        return None
    cert = rolled.tsa_certificate()
    outcome = TsaRollover(label=rolled.tsa_label, valid_from=cert.not_valid_before,
                          valid_until=cert.not_valid_after,
                          root=cert.issuer.native.get("common_name", ""),
                          new_root=rolled.root_labels != before)
    with write_transaction():
        audit.record(actor, "pki.tsa_rollover", f"tsa:{outcome.label}", valid_from=outcome.valid_from,
                     valid_until=outcome.valid_until, root=outcome.root, new_root=outcome.new_root)
    return outcome


def ensure_current_tsa(settings: Settings, *, at: datetime | None = None) -> TsaRollover | None:
    """Roll the demo TSA over when it has signed with its certificate for a year (or the
    certificate lapsed), so that timestamps added from now on last four years at least; None
    when nothing was due or the TSA is not the demo PKI's."""
    pki = _demo_pki(settings)
    if pki is None or not pki.tsa_rollover_due(at or now()):
        return None  # the usual case, decided without the lock
    return rollover_tsa(settings, "sistem", at=at, if_due=True)
