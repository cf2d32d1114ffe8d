"""SKs pendelegasian: what makes a delegate's signature lawful, kept with its history."""

from __future__ import annotations

from pengesahan.records import audit
from pengesahan.records.agreements import Delegation
from pengesahan.records.base import now, write_transaction
from pengesahan.records.people import User

__all__ = ["revoke"]


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
