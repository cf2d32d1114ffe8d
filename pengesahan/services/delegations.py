"""SKs pendelegasian: what makes a delegate's signature lawful, kept with its history.

An SK entered by an administrator is a draft: it authorises nothing until the delegating
official confirms it on their own desk by signing the SK's record with their own key
(:func:`confirm`). Revocation (:func:`revoke`) ends it from that moment on.
"""

from __future__ import annotations

from pengesahan.config import Settings
from pengesahan.errors import SigningRefused
from pengesahan.records import audit
from pengesahan.records.agreements import Delegation
from pengesahan.records.base import now, write_transaction
from pengesahan.records.catalogue import Setting
from pengesahan.records.people import User
from pengesahan.storage import file_store
from signing.delegation import SigningAuthority

__all__ = ["awaiting_confirmation", "confirm", "revoke"]


def awaiting_confirmation(user: User) -> list[Delegation]:
    """Draft SKs this user's official must confirm (those they delegate from)."""
    if user.official_id is None:
        return []
    return list(Delegation.select().where((Delegation.delegating == user.official_id)
                                          & Delegation.confirmed_at.is_null()
                                          & Delegation.revoked_at.is_null())
                .order_by(Delegation.created_at))


def confirm(settings: Settings, sk: Delegation, user: User, passphrase: str) -> Delegation:
    """The delegating official confirms ``sk`` by signing its record with their own key.

    Only that official may (an administrator who entered the SK cannot); the signed record is
    stored and the SK is in force from the signature's trusted time.
    """
    # The assembly and signing stack (reportlab, pyHanko) loads when an SK is confirmed, not
    # when a web or CLI process starts.
    from pengesahan.services.pki import signing_key, signing_services
    from signing.assemble import SIGNATURE_BOX, SIGNATURE_FIELD, SIGNATURE_PAGE, render_sk_record
    from signing.sign import SignatureFieldSpec, StampSpec, add_signature_fields, sign_document

    sk = Delegation.get_by_id(sk.id)
    if user.official_id is None or user.official_id != sk.delegating_id:
        raise SigningRefused(f"Hanya {sk.delegating.name} (pemberi delegasi) yang dapat mengonfirmasi "
                             f"SK {sk.number}.")
    if sk.revoked_at is not None:
        raise SigningRefused(f"SK {sk.number} sudah dicabut.")
    if sk.confirmed_at is not None:
        return sk
    moment = now()
    signer = sk.delegating.to_signer()
    authority = SigningAuthority(signer=signer, delegation=None, capacity_lines=(signer.title,),
                                 reason=f"Menetapkan SK pendelegasian Nomor {sk.number}",
                                 scope="sk_pendelegasian", at=moment)
    office = Setting.get_value("office_name", "Dinas Tenaga Kerja")
    record = render_sk_record(sk.to_rule(), office=office, issued=moment.date())
    prepared = add_signature_fields(record, [SignatureFieldSpec(SIGNATURE_FIELD, SIGNATURE_PAGE, SIGNATURE_BOX)])
    with signing_key(settings, sk.delegating, passphrase) as key:
        signed = sign_document(prepared, key, authority, field_name=SIGNATURE_FIELD,
                               stamp=StampSpec(qr_url=f"{settings.public_base_url}/verifikasi",
                                               lines=(f"SK {sk.number}",), short_hash=""),
                               services=signing_services(settings))
    stored = file_store(settings).put(signed.data)
    confirmed_at = signed.timestamp_time or moment
    with write_transaction():
        Delegation.update(confirmed_at=confirmed_at, confirmation_sha256=stored).where(
            Delegation.id == sk.id).execute()
        audit.record(user.username, "delegation.confirm", f"delegation:{sk.id}", number=sk.number,
                     sha256=stored, level=signed.level)
    return Delegation.get_by_id(sk.id)


def revoke(sk: Delegation, *, actor: User, reason: str = "") -> bool:
    """Revoke ``sk`` from now on; False when it was revoked already."""
    with write_transaction():
        current = Delegation.get_by_id(sk.id)
        if current.revoked_at is not None:
            return False
        current.revoked_at = now()
        current.revoked_reason = reason
        current.save()
        audit.record(actor.username, "delegation.revoke", f"delegation:{current.id}", number=current.number)
    return True
