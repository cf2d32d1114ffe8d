"""Webhooks of P3MI companies: events emitted after an officer's action, posted by a job.

Emission (``slot_rejected``, ``agreement_ratified``) runs after the officer's transaction has
committed and never raises: it records a ``WebhookDelivery`` for a company that registered a
webhook and puts the delivery job on the "notifications" queue; a queue outage is only logged.

``attempt_delivery`` posts the JSON body signed with the company's secret::

    X-Pengesahan-Event: slot.rejected
    X-Pengesahan-Delivery: <uuid, the same on every attempt>
    X-Pengesahan-Timestamp: <unix seconds of this attempt, also "timestamp" in the body>
    X-Pengesahan-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed on the secret>

The timestamp is inside the signed body, so a receiver that checks the signature and refuses
old timestamps (and delivery ids already seen) cannot be replayed to. Addresses are checked
against SSRF when registered and again before every attempt; redirects are not followed.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
from rq import Retry

from pengesahan.config import Settings
from pengesahan.errors import ValidationFailed
from pengesahan.events import Event, subscribe
from pengesahan.jobs.queue import DELIVER_WEBHOOK, enqueue
from pengesahan.records import audit
from pengesahan.records.agreements import Agreement
from pengesahan.records.base import now, write_transaction
from pengesahan.records.dossiers import DocumentSlot
from pengesahan.records.people import Company, User
from pengesahan.records.webhooks import Webhook, WebhookDelivery

__all__ = [
    "RETRY",
    "TIMEOUT",
    "agreement_ratified",
    "attempt_delivery",
    "check_url",
    "reconcile",
    "resolve_target",
    "register",
    "sign",
    "slot_rejected",
    "unregister",
]

log = logging.getLogger(__name__)

#: Seconds to connect and to read the answer: a slow receiver must not hold a worker.
TIMEOUT = 10
#: Attempts after the first, spread over about three quarters of an hour.
RETRY = Retry(max=4, interval=[10, 60, 300, 2400])
#: Kept in the delivery log from an error answer or exception text.
_ERROR_CHARS = 300

_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

Resolver = Callable[[str, int], Iterable[str]]


# --- addresses ------------------------------------------------------------------------------------


def _resolve(host: str, port: int) -> list[str]:
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"json": {"url": [message]}})


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: the URL, and the one address that passed the check (pinned)."""

    url: str
    host: str
    port: int
    address: str


def check_url(url: str, *, allow_loopback: bool = False, resolve: Resolver = _resolve) -> str:
    """The URL, stripped, if events may be posted to it; raise ValidationFailed otherwise."""
    return resolve_target(url, allow_loopback=allow_loopback, resolve=resolve).url


def resolve_target(url: str, *, allow_loopback: bool = False, resolve: Resolver = _resolve) -> Target:
    """Check ``url`` and pin the address it resolves to; raise ValidationFailed if refused.

    https only; http only to 127.0.0.1/localhost when loopback is allowed. The host is resolved
    once and every address must be public: private, loopback (unless allowed), link-local,
    shared, reserved and multicast ranges are refused, including when they hide inside an IPv6
    address (IPv4-mapped or -compatible, NAT64, 6to4, Teredo). The connection then goes to the
    address checked here, so a DNS answer that changes in between (rebinding) gains nothing.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise _refused("Alamat URL tidak sah.") from exc
    host = (parts.hostname or "").lower()
    if not host:
        raise _refused("Alamat URL harus lengkap, mis. https://contoh.co.id/webhook.")
    if parts.username is not None or parts.password is not None:
        raise _refused("Alamat URL tidak boleh memuat nama pengguna atau kata sandi.")
    if parts.scheme != "https" and not (parts.scheme == "http" and allow_loopback and host in _LOOPBACK_HOSTS):
        raise _refused("Alamat webhook harus memakai https://.")
    try:
        addresses = list(resolve(host, port))
    except (OSError, UnicodeError) as exc:
        raise _refused(f"Nama host {host} tidak dapat ditemukan.") from exc
    if not addresses:
        raise _refused(f"Nama host {host} tidak dapat ditemukan.")
    for address in addresses:
        if not _address_allowed(address, allow_loopback):
            raise _refused("Alamat webhook menuju jaringan internal atau lokal; gunakan alamat publik.")
    return Target(url=url, host=host, port=port, address=addresses[0].split("%", 1)[0])


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, if it is one of the transition forms."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _address_allowed(address: str, allow_loopback: bool) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            if ip.teredo and not _address_allowed(str(ip.teredo[0]), False):
                return False
            ip = embedded
    if ip.is_loopback:
        return allow_loopback
    return not (ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
                or ip.is_unspecified or not ip.is_global)


# --- registration ---------------------------------------------------------------------------------


def register(settings: Settings, company: Company, url: str, *, actor: User | None = None) -> tuple[Webhook, str, bool]:
    """Register or replace ``company``'s webhook; returns it, its new secret (shown once) and
    whether it is new. The URL must pass :func:`check_url`, resolved before the transaction
    so that a slow DNS answer never holds the database's write lock."""
    url = check_url(url, allow_loopback=settings.webhook_allow_loopback)
    secret = Webhook.new_secret()
    with write_transaction():
        webhook = Webhook.get_or_none(Webhook.company == company)
        created = webhook is None
        if created:
            webhook = Webhook.create(company=company, url=url, secret=secret)
        else:
            Webhook.update(url=url, secret=secret).where(Webhook.id == webhook.id).execute()
            webhook = Webhook.get_by_id(webhook.id)
        audit.record(actor.username if actor else "sistem", "webhook.register" if created else "webhook.replace",
                     f"webhook:{webhook.id}", company=company.id, url=url)
    return webhook, secret, created


def unregister(webhook: Webhook, *, actor: User | None = None) -> None:
    """Delete a company's webhook; deliveries still pending are cancelled on their next attempt."""
    with write_transaction():
        Webhook.delete().where(Webhook.id == webhook.id).execute()
        audit.record(actor.username if actor else "sistem", "webhook.delete", f"webhook:{webhook.id}",
                     company=webhook.company_id)


# --- signing --------------------------------------------------------------------------------------


def sign(secret: str, body: bytes) -> str:
    """The X-Pengesahan-Signature value of ``body``: ``sha256=<hex HMAC-SHA256>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _body(delivery: WebhookDelivery, timestamp: int) -> bytes:
    payload = {"id": delivery.uuid, "event": delivery.event, "created_at": delivery.created_at.isoformat(),
               "timestamp": timestamp, "data": delivery.data}
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


# --- emission -------------------------------------------------------------------------------------


def _emit(company_id: int, event: str, data: dict) -> WebhookDelivery | None:
    if not Webhook.select().where(Webhook.company == company_id).exists():
        return None
    delivery = WebhookDelivery.create(company=company_id, uuid=str(uuid.uuid4()), event=event, data=data)
    try:
        job = enqueue("notifications", DELIVER_WEBHOOK, delivery.id, job_id=f"webhook-{delivery.id}", retry=RETRY)
    except redis.exceptions.RedisError:
        log.warning("queue unreachable; webhook delivery %s stays pending", delivery.id, exc_info=True)
        return delivery
    WebhookDelivery.update(job_id=job.id).where(WebhookDelivery.id == delivery.id).execute()
    return delivery


def reconcile(connection=None) -> int:
    """Queue the deliveries a queue outage left pending with no job; returns how many."""
    count = 0
    for delivery in WebhookDelivery.select().where(
            (WebhookDelivery.state == "pending") & WebhookDelivery.job_id.is_null()):
        job = enqueue("notifications", DELIVER_WEBHOOK, delivery.id, job_id=f"webhook-{delivery.id}",
                      retry=RETRY, connection=connection)
        WebhookDelivery.update(job_id=job.id).where(WebhookDelivery.id == delivery.id).execute()
        count += 1
    return count


def slot_rejected(slot_id: int) -> WebhookDelivery | None:
    """Emit ``slot.rejected`` for a slot an officer returned; never raises (logs instead)."""
    try:
        slot = DocumentSlot.get_by_id(slot_id)
        dossier = slot.dossier
        return _emit(dossier.company_id, "slot.rejected", {
            "dossier_id": dossier.id, "slot_id": slot.id, "doc_type": slot.doc_type,
            "label": slot.label, "reason": slot.reason})
    except Exception:  # noqa: BLE001 - the officer's decision is saved; a lost event is only logged
        log.exception("webhook event slot.rejected for slot %s not emitted", slot_id)
        return None


def agreement_ratified(agreement_id: int, public_base_url: str) -> WebhookDelivery | None:
    """Emit ``agreement.ratified`` for a signed agreement; never raises (logs instead)."""
    try:
        agreement = Agreement.get_by_id(agreement_id)
        return _emit(agreement.dossier.company_id, "agreement.ratified", {
            "agreement_id": agreement.id, "dossier_id": agreement.dossier_id, "number": agreement.number,
            "kind": agreement.kind,
            "pdf_url": f"{public_base_url}/api/v1/agreements/{agreement.id}/pdf"})
    except Exception:  # noqa: BLE001 - the signature is saved; a lost event is only logged
        log.exception("webhook event agreement.ratified for agreement %s not emitted", agreement_id)
        return None


# --- delivery -------------------------------------------------------------------------------------


class DeliveryFailed(Exception):
    """An attempt failed (network error, non-2xx answer); RQ retries the job per RETRY."""


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with SNI and certificate checks for the URL's host name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _post(target: Target, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to the pinned address; the answer's status. Redirects are not followed
    (they could lead to an address the check never saw) and no proxy is used."""
    parts = urlsplit(target.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":
        connection: http.client.HTTPConnection = _PinnedHTTPSConnection(target, TIMEOUT)
    else:
        connection = http.client.HTTPConnection(target.address, target.port, timeout=TIMEOUT)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        connection.request("POST", path, body=body, headers={**headers, "Host": host_header})
        response = connection.getresponse()
        response.read(1024)
        return response.status
    finally:
        connection.close()


def attempt_delivery(settings: Settings, delivery_id: int, *, retries_left: bool, job_id: str = "-") -> str:
    """Post one delivery to its company's current webhook; raise DeliveryFailed to be retried.

    ``retries_left`` says whether a failure now will be tried again (else it is final).
    """
    delivery = WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id)
    if delivery is None:
        log.warning("job %s: webhook delivery %s gone", job_id, delivery_id)
        return "missing"
    if delivery.state in ("delivered", "cancelled"):
        return delivery.state  # idempotent: a job run again after the end does nothing
    return _attempt(settings, delivery, retries_left=retries_left, job_id=job_id)


def _record(delivery: WebhookDelivery, **values) -> None:
    WebhookDelivery.update(**values).where(WebhookDelivery.id == delivery.id).execute()


def _attempt(settings: Settings, delivery: WebhookDelivery, *, retries_left: bool, job_id: str) -> str:
    webhook = Webhook.get_or_none(Webhook.company == delivery.company_id)
    if webhook is None:
        _record(delivery, state="cancelled", last_error="Webhook sudah dihapus perusahaan.")
        return "cancelled"
    attempts = delivery.attempts + 1
    try:
        target = resolve_target(webhook.url, allow_loopback=settings.webhook_allow_loopback)
    except ValidationFailed as exc:  # e.g. the host now resolves to an internal address
        _record(delivery, state="cancelled", url=webhook.url, attempts=attempts, last_attempt_at=now(),
                last_error=exc.message)
        log.warning("job %s: webhook delivery %s refused: %s", job_id, delivery.id, exc.message)
        return "cancelled"
    timestamp = int(time.time())
    body = _body(delivery, timestamp)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Pengesahan-PP-Webhook/1",
        "X-Pengesahan-Event": delivery.event,
        "X-Pengesahan-Delivery": delivery.uuid,
        "X-Pengesahan-Timestamp": str(timestamp),
        "X-Pengesahan-Signature": sign(webhook.secret, body),
    }
    started = time.monotonic()
    try:
        status, error = _post(target, body, headers), ""
    except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError, timeouts, refusals
        status, error = None, f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"[:_ERROR_CHARS]
    if status is not None and 200 <= status < 300:
        _record(delivery, state="delivered", url=target.url, attempts=attempts, status_code=status, last_error="",
                last_attempt_at=now(), delivered_at=now())
        log.info("job %s: webhook delivery %s (%s) answered %s in %.2fs", job_id, delivery.id, delivery.event,
                 status, time.monotonic() - started)
        return "delivered"
    error = error or f"Penerima menjawab HTTP {status}."
    last = not retries_left
    _record(delivery, state="failed" if last else "retrying", url=target.url, attempts=attempts, status_code=status,
            last_error=error, last_attempt_at=now())
    log.warning("job %s: webhook delivery %s attempt %s failed: %s", job_id, delivery.id, attempts, error)
    raise DeliveryFailed(f"webhook delivery {delivery.id}: {error}")


subscribe(Event.SLOT_REJECTED, slot_rejected)
subscribe(Event.AGREEMENT_RATIFIED, agreement_ratified)
