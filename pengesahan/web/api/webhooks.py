"""The company's webhook: register (the secret is shown once), read its state, remove it.

Routes on the API blueprint (``/api/v1/webhook``); the events, headers and signature are
described in pengesahan/services/webhooks.py and docs/api.md.
"""

from __future__ import annotations

from flask import current_app
from marshmallow import RAISE, Schema, fields, validate

from pengesahan.errors import NotFound
from pengesahan.records.webhooks import DELIVERY_STATES, EVENTS, Webhook, WebhookDelivery
from pengesahan.services import webhooks
from pengesahan.web.api.auth import current_actor, current_company
from pengesahan.web.api.views import _errors, bp

__all__ = ["WebhookCreatedSchema", "WebhookRegisterSchema", "WebhookSchema"]

#: Deliveries listed by GET /webhook, newest first.
RECENT_DELIVERIES = 10


class WebhookRegisterSchema(Schema):
    """Where the company's events are posted."""

    class Meta:
        unknown = RAISE

    url = fields.String(required=True, validate=validate.Length(min=1, max=500, error="Panjang 1–500 karakter."),
                        metadata={"description": "Alamat https:// yang menerima POST JSON"})


class WebhookDeliverySchema(Schema):
    """One event sent (or being sent) to the webhook."""

    id = fields.String(attribute="uuid", metadata={"description": "Nilai header X-Pengesahan-Delivery"})
    event = fields.String(metadata={"enum": list(EVENTS)})
    state = fields.String(metadata={"enum": list(DELIVERY_STATES)})
    state_label = fields.String()
    attempts = fields.Integer()
    status_code = fields.Integer(allow_none=True, metadata={"description": "Kode HTTP jawaban terakhir"})
    last_error = fields.String()
    created_at = fields.DateTime()
    last_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


class WebhookSchema(Schema):
    """The registered webhook (without its secret) and its recent deliveries."""

    url = fields.String()
    events = fields.List(fields.String(), dump_default=list(EVENTS))
    created_at = fields.DateTime()
    last_delivery = fields.Nested(WebhookDeliverySchema, allow_none=True)
    deliveries = fields.List(fields.Nested(WebhookDeliverySchema),
                             metadata={"description": f"{RECENT_DELIVERIES} pengiriman terakhir"})


class WebhookCreatedSchema(Schema):
    """The webhook just registered, with the signing secret: shown this one time only."""

    url = fields.String()
    events = fields.List(fields.String())
    created_at = fields.DateTime()
    secret = fields.String(metadata={"description": "Kunci HMAC untuk X-Pengesahan-Signature; hanya "
                                                    "ditampilkan sekali, simpan baik-baik"})


def _webhook() -> Webhook:
    webhook = Webhook.get_or_none(Webhook.company == current_company())
    if webhook is None:
        raise NotFound("Perusahaan ini belum mendaftarkan webhook.")
    return webhook


@bp.route("/webhook", methods=["PUT"])
@bp.arguments(WebhookRegisterSchema)
@bp.response(201, WebhookCreatedSchema, description="Webhook didaftarkan; kunci rahasia ditampilkan sekali")
@bp.alt_response(200, schema=WebhookCreatedSchema,
                 description="Webhook diganti; kunci rahasia baru (yang lama tidak berlaku lagi)")
@_errors()
def register_webhook(body: dict):
    """Daftarkan (atau ganti) alamat webhook perusahaan; jawaban memuat kunci rahasia baru, sekali saja."""
    webhook, secret, created = webhooks.register(current_app.config["SETTINGS"], current_company(), body["url"],
                                                 actor=current_actor())
    return {"url": webhook.url, "events": list(EVENTS), "created_at": webhook.created_at, "secret": secret}, \
        (201 if created else 200)


@bp.route("/webhook", methods=["GET"])
@bp.response(200, WebhookSchema)
@_errors(404)
def get_webhook():
    """Alamat webhook perusahaan (tanpa kunci rahasia) dan keadaan pengiriman terakhir."""
    webhook = _webhook()
    recent = list(WebhookDelivery.select().where(WebhookDelivery.company == webhook.company_id)
                  .order_by(WebhookDelivery.id.desc()).limit(RECENT_DELIVERIES))
    return {"url": webhook.url, "events": list(EVENTS), "created_at": webhook.created_at,
            "last_delivery": recent[0] if recent else None, "deliveries": recent}


@bp.route("/webhook", methods=["DELETE"])
@bp.response(204, description="Webhook dihapus; pengiriman yang masih menunggu dibatalkan")
@_errors(404)
def delete_webhook():
    """Hapus webhook perusahaan; peristiwa berikutnya tidak dikirim lagi."""
    webhooks.unregister(_webhook(), actor=current_actor())
