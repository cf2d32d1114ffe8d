"""What only the office knows when anyone verifies a PP: its trust anchors, the register of
issued agreements and the SKs pendelegasian. The checks themselves are ``signing.verify``'s."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pengesahan.config import Settings
from pengesahan.errors import ServiceError
from pengesahan.records.agreements import Agreement, Delegation, SignedVersion
from pengesahan.storage import file_store
from signing.delegation import Delegation as DelegationRule
from signing.verify import RegisteredAgreement, VerificationReport

if TYPE_CHECKING:
    from signing.verify import Verifier

__all__ = ["confirmed_sk_record", "registered_agreement", "sk_pendelegasian", "verifier", "verify_document"]

_lock = threading.Lock()
_cached: tuple[tuple, Verifier] | None = None


def verifier(settings: Settings) -> Verifier:
    """The office's verifier, rebuilt only when the trust-root files change."""
    # pyHanko's validation stack loads on the first verification, not when a process starts.
    from pengesahan.services.pki import trust_root_paths
    from signing.sign import load_trust_roots
    from signing.verify import Verifier

    global _cached
    files = trust_root_paths(settings)
    # A stat per call is cheap; parsing the roots and building the trust manager is done once
    # per change of the files.
    key = tuple((str(f), f.stat().st_mtime_ns) for f in files)
    with _lock:
        if _cached is not None and _cached[0] == key:
            return _cached[1]
        roots = load_trust_roots(files)
        if not roots:
            raise ServiceError("Layanan verifikasi belum dikonfigurasi: tidak ada sertifikat akar (root CA).")
        built = Verifier(roots, allow_fetching=False)
        _cached = (key, built)
        return built


def registered_agreement(key: str) -> RegisteredAgreement | None:
    """The issued agreement with this SHA-256 of its signed PDF (the newest version or an older
    one, which the status then says), or with this number."""
    agreement = Agreement.get_or_none(Agreement.signed_sha256 == key)
    older = None
    if agreement is None:
        older = SignedVersion.get_or_none(SignedVersion.sha256 == key)
        agreement = older.agreement if older is not None else None
    if agreement is None:
        agreement = Agreement.get_or_none(Agreement.number == key)
    if agreement is None:
        return None
    label = agreement.status_label
    if older is not None:
        # Still the office's file and still valid; the public should know a newer one exists.
        label += ("; berkas ini versi lama, versi yang lebih baru (pembaruan cap waktu arsip) "
                  "sudah diterbitkan")
    return RegisteredAgreement(number=agreement.number, sha256=older.sha256 if older else agreement.signed_sha256,
                               status=agreement.status, status_label=label, kind=agreement.kind,
                               signed_at=agreement.signed_at, agreement_id=agreement.id,
                               public_id=agreement.public_id)


def sk_pendelegasian(number: str) -> DelegationRule | None:
    """The SK pendelegasian with this number as the signing rules see it, if registered."""
    record = Delegation.get_or_none(Delegation.number == number)
    return record.to_rule() if record is not None else None


def confirmed_sk_record(settings: Settings, number: str) -> bytes | None:
    """The SK record its maker signed to confirm the SK, for anyone checking a delegated PP."""
    record = Delegation.get_or_none(Delegation.number == number)
    if record is None or record.confirmed_at is None or not record.confirmation_sha256:
        return None
    return file_store(settings).read(record.confirmation_sha256)


def verify_document(settings: Settings, data: bytes, *, xml: bool = False) -> VerificationReport:
    """Verify a PP with the office's trust anchors, register and SKs."""
    return verifier(settings).verify(data, registry_lookup=registered_agreement,
                                     delegation_lookup=sk_pendelegasian, xml=xml)
