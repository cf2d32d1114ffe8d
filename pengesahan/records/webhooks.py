"""A P3MI's webhook (where its events are posted) and the log of every delivery."""

from __future__ import annotations

import secrets

import peewee

from pengesahan.records.base import BaseModel, JSONField, UTCDateTimeField, now
from pengesahan.records.people import Company

__all__ = ["DELIVERY_STATES", "EVENTS", "Webhook", "WebhookDelivery"]

#: event name -> what it tells the company.
EVENTS = {
    "slot.rejected": "Petugas mengembalikan dokumen (berkas, slot, nama dokumen, alasan)",
    "agreement.ratified": "Perjanjian Penempatan disahkan (id, nomor, unduhan PDF)",
}

#: state of a delivery -> label shown to people.
DELIVERY_STATES = {
    "pending": "Menunggu antrean",
    "retrying": "Gagal, akan dicoba lagi",
    "delivered": "Terkirim",
    "failed": "Gagal (semua percobaan habis)",
    "cancelled": "Dibatalkan (webhook dihapus atau alamat ditolak)",
}


class Webhook(BaseModel):
    """The one URL a company's events are posted to, with the secret their HMAC is keyed on.

    The secret is kept as it is (signing needs it) and is shown to the company only once,
    when the webhook is registered; registering again rotates it.
    """

    company = peewee.ForeignKeyField(Company, unique=True, backref="webhooks", on_delete="CASCADE")
    url = peewee.CharField(max_length=500)
    secret = peewee.CharField(max_length=100)
    created_at = UTCDateTimeField(default=now)

    @staticmethod
    def new_secret() -> str:
        """A fresh signing secret (256 bits, URL-safe)."""
        return "whsec_" + secrets.token_urlsafe(32)

    def __str__(self):
        return f"{self.company} → {self.url}"


class WebhookDelivery(BaseModel):
    """One event for one company and what became of posting it (kept after the webhook goes)."""

    company = peewee.ForeignKeyField(Company, backref="webhook_deliveries", on_delete="CASCADE")
    #: The X-Pengesahan-Delivery header: the same on every attempt, so receivers can de-duplicate.
    uuid = peewee.CharField(max_length=36, unique=True)
    event = peewee.CharField(max_length=40, choices=list(EVENTS.items()))
    data = JSONField()
    state = peewee.CharField(max_length=20, default="pending", choices=list(DELIVERY_STATES.items()))
    #: Where the last attempt went (the webhook's URL may change between attempts).
    url = peewee.CharField(max_length=500, default="")
    attempts = peewee.IntegerField(default=0)
    status_code = peewee.IntegerField(null=True)
    last_error = peewee.TextField(default="")
    job_id = peewee.CharField(max_length=100, null=True)
    created_at = UTCDateTimeField(default=now)
    last_attempt_at = UTCDateTimeField(null=True)
    delivered_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("company", "id"), False),)

    @property
    def state_label(self) -> str:
        return DELIVERY_STATES.get(self.state, self.state)

    def __str__(self):
        return f"{self.event} #{self.id} ({self.state_label})"
