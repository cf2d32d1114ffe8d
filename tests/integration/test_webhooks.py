"""P3MI webhooks: registration through the API (secret shown once, SSRF refusals), events
emitted by the officer's actions, delivery by a real RQ SimpleWorker on the real Redis to a
real HTTP receiver on 127.0.0.1 that checks the HMAC, retries and the delivery log."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from pengesahan.records.base import db
from tests.support.api import company_client, error_of

NIK = "6309055708980002"


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps what it is sent and answers ``status``."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.status = 204
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"headers": dict(self.headers), "body": body, "path": self.path})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def verified(self, item: dict) -> dict:
        """The event of ``item`` once its signature and timestamp check out (as a receiver should)."""
        body, headers = item["body"], item["headers"]
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Pengesahan-Signature"], expected)
        event = json.loads(body)
        assert str(event["timestamp"]) == headers["X-Pengesahan-Timestamp"]
        assert abs(time.time() - event["timestamp"]) < 300
        assert event["id"] == headers["X-Pengesahan-Delivery"]
        assert event["event"] == headers["X-Pengesahan-Event"]
        return event

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def loopback(app):
    """Webhooks to http://127.0.0.1 allowed, for the web process and the jobs alike."""
    from pengesahan.jobs import queue

    settings = app.config["SETTINGS"].replace(webhook_allow_loopback=True)
    app.config["SETTINGS"] = settings
    queue.configure(settings)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def api(app, client):
    from pengesahan.jobs import queue

    yield company_client(client, "PT Maju")
    queue.queue("notifications").empty()
    queue.queue("processing").empty()


def _register(api, url) -> tuple[int, dict]:
    response = api.client.put("/api/v1/webhook", json={"url": url},
                              headers={"Authorization": f"Bearer {api.token}"})
    return response.status_code, response.get_json()


def _dossier(company_id: int):
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    with db.connection_context():
        candidate = Candidate.get_or_none(Candidate.nik == NIK) or Candidate.create(
            nik=NIK, name="SITI AMINAH", sex="P", birth_date=dt.date(1998, 8, 17))
        return open_dossier(candidate, Company.get_by_id(company_id), actor=None)


def _reject(dossier, reason="Foto KTP buram; unggah ulang."):
    from pengesahan.records.dossiers import DocumentSlot
    from pengesahan.records.people import User
    from pengesahan.services.dossiers import add_upload, review_slot

    with db.connection_context():
        officer, _ = User.get_or_create(username="petugas", defaults={"password_hash": "!", "role": "pelaksana"})
        slot = DocumentSlot.select().where(DocumentSlot.dossier == dossier.id).order_by(DocumentSlot.id).first()
        add_upload(slot, sha256="a" * 64, media_type="image/png", size=10, original_name="ktp.png", actor=None)
        review_slot(DocumentSlot.get_by_id(slot.id), accept=False, reason=reason, actor=officer)
        return DocumentSlot.get_by_id(slot.id)


def _work() -> None:
    from pengesahan.jobs import queue

    SimpleWorker([queue.queue("notifications")], connection=queue.redis_connection()).work(burst=True)


def _due_retries_now() -> int:
    """Put the retries RQ scheduled for later back on the queue (what the scheduler does when due)."""
    from pengesahan.jobs import queue

    notifications = queue.queue("notifications")
    registry = ScheduledJobRegistry(queue=notifications)
    ids = registry.get_job_ids()
    for job_id in ids:
        registry.remove(job_id)
        notifications._enqueue_job(Job.fetch(job_id, connection=notifications.connection))
    return len(ids)


def _deliveries():
    from pengesahan.records.webhooks import WebhookDelivery

    with db.connection_context():
        return list(WebhookDelivery.select().order_by(WebhookDelivery.id))


# --- registration ------------------------------------------------------------------------------


def test_secret_is_shown_once_and_registering_again_rotates_it(api, loopback, receiver):
    status, created = _register(api, receiver.url())
    assert status == 201, created
    assert created["secret"].startswith("whsec_") and created["url"] == receiver.url()
    assert set(created["events"]) == {"slot.rejected", "agreement.ratified"}

    shown = api.get("/webhook")
    assert shown.status_code == 200
    body = shown.get_json()
    assert "secret" not in body and created["secret"] not in shown.get_data(as_text=True)
    assert body["url"] == receiver.url() and body["last_delivery"] is None and body["deliveries"] == []

    status, replaced = _register(api, receiver.url("/baru"))
    assert status == 200 and replaced["secret"] != created["secret"]
    assert api.get("/webhook").get_json()["url"] == receiver.url("/baru")

    assert api.client.delete("/api/v1/webhook", headers={"Authorization": f"Bearer {api.token}"}).status_code == 204
    error_of(api.get("/webhook"), 404, "not_found")
    error_of(api.client.delete("/api/v1/webhook", headers={"Authorization": f"Bearer {api.token}"}), 404)


def test_webhook_needs_a_token(api, client):
    error_of(client.get("/api/v1/webhook"), 401, "unauthorized")
    error_of(client.put("/api/v1/webhook", json={"url": "https://contoh.co.id/"}), 401)


@pytest.mark.parametrize("url", [
    "http://contoh.co.id/hook",            # not https
    "ftp://contoh.co.id/hook",
    "https://10.0.0.5/hook",               # private
    "https://192.168.1.10/hook",
    "https://172.16.0.1/hook",
    "https://169.254.169.254/latest/meta-data/",  # link-local (cloud metadata)
    "https://127.0.0.1/hook",              # loopback without the flag
    "https://localhost/hook",
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",      # IPv4-mapped private
    "https://100.64.0.1/hook",             # shared address space
    "https://0.0.0.0/hook",
    "http://127.0.0.1:8080/hook",          # http loopback without the flag
    "https://user:sandi@contoh.co.id/",    # credentials in the URL
    "https:///tanpa-host",
    "bukan url",
])
def test_internal_and_plain_http_addresses_are_refused(api, url):
    status, body = _register(api, url)
    assert status == 422, body
    assert body["error"]["code"] == "validation_failed" and body["error"]["details"]["json"]["url"]
    error_of(api.get("/webhook"), 404)


def test_a_name_resolving_to_an_internal_address_is_refused():
    from pengesahan.errors import ValidationFailed
    from pengesahan.services.webhooks import check_url

    with pytest.raises(ValidationFailed, match="internal"):
        check_url("https://hook.contoh.co.id/", resolve=lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(ValidationFailed, match="tidak dapat ditemukan"):
        check_url("https://hook.contoh.co.id/", resolve=lambda host, port: [])
    assert check_url(" https://hook.contoh.co.id/x ", resolve=lambda host, port: ["93.184.216.34"]) == \
        "https://hook.contoh.co.id/x"
    # The flag opens loopback only, over http only to loopback names; private ranges stay closed.
    assert check_url("http://localhost:8080/", allow_loopback=True).startswith("http://localhost")
    with pytest.raises(ValidationFailed):
        check_url("http://contoh.co.id/", allow_loopback=True, resolve=lambda host, port: ["127.0.0.1"])
    with pytest.raises(ValidationFailed):
        check_url("https://10.0.0.1/", allow_loopback=True)


# --- delivery ----------------------------------------------------------------------------------


def test_rejected_slot_is_delivered_signed_through_the_queue(api, loopback, receiver):
    _, created = _register(api, receiver.url())
    receiver.secret = created["secret"]
    dossier = _dossier(api.company_id)
    slot = _reject(dossier)
    [delivery] = _deliveries()
    assert delivery.state == "pending" and delivery.job_id
    assert receiver.received == []  # nothing is posted during the officer's request

    _work()
    [item] = receiver.received
    assert item["path"] == "/hook"
    assert item["headers"]["Content-Type"].startswith("application/json")
    event = receiver.verified(item)
    assert event["event"] == "slot.rejected"
    assert event["data"] == {"dossier_id": dossier.id, "slot_id": slot.id, "doc_type": slot.doc_type,
                             "label": slot.label, "reason": "Foto KTP buram; unggah ulang."}
    [delivery] = _deliveries()
    assert (delivery.state, delivery.status_code, delivery.attempts) == ("delivered", 204, 1)
    last = api.get("/webhook").get_json()["last_delivery"]
    assert last["state"] == "delivered" and last["status_code"] == 204 and last["id"] == event["id"]

    # A tampered body no longer matches the signature a receiver computes.
    forged = {**item, "body": item["body"].replace(b"buram", b"jelas")}
    with pytest.raises(AssertionError):
        receiver.verified(forged)


def test_accepting_a_slot_emits_nothing(api, loopback, receiver):
    from pengesahan.records.dossiers import DocumentSlot
    from pengesahan.records.people import User
    from pengesahan.services.dossiers import add_upload, review_slot

    _register(api, receiver.url())
    dossier = _dossier(api.company_id)
    with db.connection_context():
        officer = User.create(username="petugas", password_hash="!", role="pelaksana")
        slot = DocumentSlot.select().where(DocumentSlot.dossier == dossier.id).first()
        add_upload(slot, sha256="a" * 64, media_type="image/png", size=10, original_name="ktp.png", actor=None)
        review_slot(DocumentSlot.get_by_id(slot.id), accept=True, reason="", actor=officer)
    assert _deliveries() == []


def test_ratified_agreement_event_carries_number_and_pdf_url(api, loopback, receiver, settings):
    from pengesahan.records.agreements import Agreement
    from pengesahan.services import webhooks as notifications

    _, created = _register(api, receiver.url())
    receiver.secret = created["secret"]
    dossier = _dossier(api.company_id)
    with db.connection_context():
        agreement = Agreement.create(dossier=dossier.id, number="560/001/PP/2025", status="ditandatangani")
        notifications.agreement_ratified(agreement.id, settings.public_base_url)
    _work()
    event = receiver.verified(receiver.received[0])
    assert event["event"] == "agreement.ratified"
    assert event["data"]["agreement_id"] == agreement.id and event["data"]["number"] == "560/001/PP/2025"
    assert event["data"]["pdf_url"] == f"{settings.public_base_url}/api/v1/agreements/{agreement.id}/pdf"


def test_failing_receiver_is_retried_and_each_attempt_recorded(api, loopback, receiver):
    from pengesahan.services import webhooks as notifications

    _, created = _register(api, receiver.url())
    receiver.secret = created["secret"]
    receiver.status = 500
    _reject(_dossier(api.company_id))

    _work()
    [delivery] = _deliveries()
    assert (delivery.state, delivery.attempts, delivery.status_code) == ("retrying", 1, 500)
    assert "HTTP 500" in delivery.last_error
    # RQ scheduled the retry for later (RETRY's first interval), not at once.
    assert _due_retries_now() == 1
    _work()
    assert _deliveries()[0].attempts == 2

    for _ in range(notifications.RETRY.max - 1):  # the remaining retries all fail too
        assert _due_retries_now() == 1
        _work()
    [delivery] = _deliveries()
    assert delivery.state == "failed" and delivery.attempts == notifications.RETRY.max + 1
    assert _due_retries_now() == 0
    assert len(receiver.received) == delivery.attempts
    # Every attempt carries the same delivery id (receivers de-duplicate on it).
    assert {item["headers"]["X-Pengesahan-Delivery"] for item in receiver.received} == {delivery.uuid}
    assert api.get("/webhook").get_json()["last_delivery"]["state"] == "failed"


def test_receiver_recovering_between_attempts_gets_the_event(api, loopback, receiver):
    _, created = _register(api, receiver.url())
    receiver.secret = created["secret"]
    receiver.server.server_close()  # nothing listens: connection refused
    _reject(_dossier(api.company_id))
    _work()
    [delivery] = _deliveries()
    assert delivery.state == "retrying" and delivery.status_code is None and delivery.last_error
    receiver.server.shutdown()
    receiver.thread.join(timeout=5)

    again = Receiver(created["secret"])
    try:
        with db.connection_context():
            from pengesahan.records.webhooks import Webhook

            Webhook.update(url=again.url()).where(Webhook.company == api.company_id).execute()
        _due_retries_now()
        _work()
        [delivery] = _deliveries()
        assert delivery.state == "delivered" and delivery.attempts == 2
        again.verified(again.received[0])
    finally:
        again.close()


def test_another_companys_events_never_reach_this_url(api, client, loopback, receiver):
    ours, theirs = api, company_client(client, "PT Lain")
    _, created = _register(ours, receiver.url())
    receiver.secret = created["secret"]
    _reject(_dossier(theirs.company_id))  # the other company has no webhook
    assert _deliveries() == []
    _work()
    assert receiver.received == []

    other_receiver = Receiver()
    try:
        _, other_created = _register(theirs, other_receiver.url())
        other_receiver.secret = other_created["secret"]
        from pengesahan.records.dossiers import Dossier

        with db.connection_context():
            dossier = Dossier.get(Dossier.company == theirs.company_id)
        _reject(dossier, reason="Tanda tangan tidak ada.")
        _work()
        assert receiver.received == []
        [item] = other_receiver.received
        assert other_receiver.verified(item)["data"]["reason"] == "Tanda tangan tidak ada."
        # Each company sees only its own deliveries.
        assert ours.get("/webhook").get_json()["deliveries"] == []
        assert len(theirs.get("/webhook").get_json()["deliveries"]) == 1
    finally:
        other_receiver.close()


def test_removed_webhook_cancels_pending_deliveries(api, loopback, receiver):
    _register(api, receiver.url())
    _reject(_dossier(api.company_id))
    api.client.delete("/api/v1/webhook", headers={"Authorization": f"Bearer {api.token}"})
    _work()
    assert receiver.received == []
    assert _deliveries()[0].state == "cancelled"


def test_queue_outage_does_not_fail_the_officers_decision(app, api, loopback, receiver, tmp_path):
    from pengesahan.jobs import queue
    from pengesahan.jobs.worker import reconcile
    from pengesahan.records.dossiers import DocumentSlot

    _register(api, receiver.url())
    settings = app.config["SETTINGS"]
    queue.configure(settings.replace(redis_url=f"unix://{tmp_path}/tidak-ada.sock"))  # a Redis that is down
    queue.reset_connection()
    try:
        slot = _reject(_dossier(api.company_id))
    finally:
        queue.configure(settings)
        queue.reset_connection()
    with db.connection_context():
        assert DocumentSlot.get_by_id(slot.id).status == "ditolak"
    [delivery] = _deliveries()
    assert delivery.state == "pending" and delivery.job_id is None
    # Once Redis is back, the workers' reconciler queues it and it is delivered.
    from rq import SimpleWorker

    assert reconcile() >= 1
    SimpleWorker(["notifications"], connection=queue.redis_connection()).work(burst=True)
    [delivery] = _deliveries()
    assert delivery.state == "delivered", delivery.last_error


def test_webhook_operations_are_in_the_openapi_document(client, app):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert set(spec["paths"]["/api/v1/webhook"]) >= {"put", "get", "delete"}


def test_upgrade_v4_creates_the_webhook_tables_of_an_older_installation(app):
    from pengesahan.records.schema import LATEST, SchemaVersion, current_version, upgrade
    from pengesahan.records.webhooks import Webhook, WebhookDelivery

    with db.connection_context():
        db.drop_tables([WebhookDelivery, Webhook])
        SchemaVersion.delete().where(SchemaVersion.version >= 4).execute()
        assert upgrade() == list(range(4, LATEST + 1)) and current_version() == LATEST
        assert Webhook.table_exists() and WebhookDelivery.table_exists()
        assert upgrade() == []
