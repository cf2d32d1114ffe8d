"""Placement agreements (PP), the SKs pendelegasian that let officials sign them, and the
signatures made."""

from __future__ import annotations

import secrets

import peewee

from pengesahan import workflow
from pengesahan.records.base import BaseModel, JSONField, UTCDateTimeField, now
from pengesahan.records.dossiers import Dossier, Upload
from pengesahan.records.people import Official, User
from signing.delegation import SCOPES
from signing.delegation import Delegation as DelegationRule


def new_public_id() -> str:
    """A random, unguessable id for public links (128 bits)."""
    return secrets.token_urlsafe(16)


#: Kinds of letter the office signs: the same codes an SK's scope names.
KINDS = SCOPES


class Delegation(BaseModel):
    """An SK pendelegasian: the Kepala Dinas delegates signing to another official."""

    number = peewee.CharField(max_length=120, unique=True, help_text="Nomor SK")
    date = peewee.DateField(help_text="Tanggal SK")
    delegating = peewee.ForeignKeyField(Official, backref="delegations_given", on_delete="RESTRICT")
    delegated = peewee.ForeignKeyField(Official, backref="delegations_received", on_delete="RESTRICT")
    scope = peewee.CharField(
        max_length=200, default="perjanjian_penempatan",
        help_text="Dokumen yang boleh ditandatangani, dipisah koma: " + ", ".join(SCOPES),
    )
    valid_from = UTCDateTimeField()
    valid_until = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)
    revoked_reason = peewee.TextField(default="")
    #: Store key of the scanned SK.
    scan_key = peewee.CharField(max_length=64, null=True)
    parent = peewee.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    #: When the delegating official confirmed the SK with their own key; a draft until then.
    confirmed_at = UTCDateTimeField(null=True)
    #: Store key of the SK record the delegating official signed (PAdES) to confirm it.
    confirmation_sha256 = peewee.CharField(max_length=64, null=True)
    created_at = UTCDateTimeField(default=now)

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(s.strip() for s in self.scope.split(",") if s.strip())

    def to_rule(self):
        """This SK as the signing rules see it: the one translation signing and verifying share."""
        return DelegationRule(number=self.number, date=self.date, delegating=self.delegating.to_signer(),
                    delegated=self.delegated.to_signer(), scope=self.scopes, valid_from=self.valid_from,
                    valid_until=self.valid_until, revoked_at=self.revoked_at,
                    parent=self.parent.to_rule() if self.parent_id else None,
                    confirmed_at=self.confirmed_at)

    def __str__(self):
        return f"SK {self.number}"


class Agreement(BaseModel):
    """A document the office ratifies and signs: the PP, or the passport recommendation."""

    dossier = peewee.ForeignKeyField(Dossier, backref="agreements", on_delete="RESTRICT")
    kind = peewee.CharField(max_length=30, default="perjanjian_penempatan", choices=list(KINDS.items()))
    number = peewee.CharField(max_length=80, unique=True)
    status = peewee.CharField(
        max_length=25, default=workflow.AgreementStatus.MENUNGGU_VERIFIKASI, choices=list(workflow.AGREEMENT_STATUSES.items())
    )
    #: The P3MI's draft as uploaded (went through intake like every upload).
    draft = peewee.ForeignKeyField(Upload, null=True, backref="agreements", on_delete="RESTRICT")
    employer_name = peewee.CharField(max_length=200, default="")
    destination_country = peewee.CharField(max_length=80, default="")
    job_title = peewee.CharField(max_length=120, default="")
    contract_months = peewee.IntegerField(default=24)
    assembled_sha256 = peewee.CharField(max_length=64, null=True)
    signed_sha256 = peewee.CharField(max_length=64, null=True, index=True)
    #: Short code printed on the stamp: the start of the assembled (unsigned) document's hash.
    short_code = peewee.CharField(max_length=16, null=True)
    submitted_at = UTCDateTimeField(default=now)
    verified_by = peewee.ForeignKeyField(User, null=True, backref="verified_agreements", on_delete="SET NULL")
    verified_at = UTCDateTimeField(null=True)
    return_reason = peewee.TextField(default="")
    signed_at = UTCDateTimeField(null=True)
    #: The verified data the letter is generated from, frozen when the officer verified it:
    #: nothing declared later, by anyone, changes what the office signs.
    verified_snapshot = JSONField(null=True)
    #: What was removed from the P3MI's draft before signing (links, scripts, attachments...).
    removed_content = JSONField(null=True)
    #: Unguessable id of the public QR landing page (/verifikasi/p/<public_id>).
    public_id = peewee.CharField(max_length=32, unique=True, default=new_public_id)

    @property
    def status_label(self) -> str:
        return workflow.AGREEMENT_STATUSES.get(self.status, self.status)

    def __str__(self):
        return f"{KINDS.get(self.kind, self.kind)} {self.number}"


class Signature(BaseModel):
    """A signature applied to an agreement: by whom, in which capacity, under which SK."""

    agreement = peewee.ForeignKeyField(Agreement, backref="signatures", on_delete="RESTRICT")
    official = peewee.ForeignKeyField(Official, backref="signatures", on_delete="RESTRICT")
    delegation = peewee.ForeignKeyField(Delegation, null=True, backref="signatures", on_delete="RESTRICT")
    signed_by = peewee.ForeignKeyField(User, null=True, backref="signatures", on_delete="SET NULL")
    field_name = peewee.CharField(max_length=60)
    capacity = peewee.CharField(max_length=120, default="")
    level = peewee.CharField(max_length=10)
    #: Trusted time (signature timestamp) when there is one.
    signed_at = UTCDateTimeField()
    result_sha256 = peewee.CharField(max_length=64)

    def __str__(self):
        return f"{self.official.name} ({self.level})"


#: Why a signed file of an agreement exists: the signature itself, or a long-term renewal of it.
VERSION_REASONS = {"signed": "Ditandatangani", "ltv-renewal": "Pembaruan cap waktu arsip"}


class SignedVersion(BaseModel):
    """One signed file of an agreement: the file as signed, then each long-term (PAdES-LTA)
    renewal of it. Every version stays stored and verifiable; ``Agreement.signed_sha256`` names
    the newest, which downloads serve."""

    agreement = peewee.ForeignKeyField(Agreement, backref="versions", on_delete="RESTRICT")
    #: Store key (SHA-256) of the file; a file belongs to one agreement only.
    sha256 = peewee.CharField(max_length=64, unique=True)
    made_at = UTCDateTimeField(default=now)
    reason = peewee.CharField(max_length=20, choices=list(VERSION_REASONS.items()))
    #: PAdES level of the file ("B-LTA", "B-T", "B-B").
    level = peewee.CharField(max_length=10, default="")
    #: When the newest timestamp in the file stops proving anything (its TSA certificate, or one
    #: above it, expires): renew before then. Set on signing and on each renewal, so what is due
    #: is one query; None while unknown (files recorded before v8 until the next renewal run).
    lapses_at = UTCDateTimeField(null=True, index=True)

    def __str__(self):
        return f"{self.agreement.number} {VERSION_REASONS.get(self.reason, self.reason)} {self.made_at:%Y-%m-%d}"
