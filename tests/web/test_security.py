"""Security properties checked end to end: no private key or passphrase in logs, the database,
Redis, error pages or the audit trail after a signing run; stored names never from the user;
cookie flags; CSRF on every form; the audit chain check names the first broken entry."""

from __future__ import annotations

import base64
import io
import json
import logging
import re

import pytest
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)

from pengesahan.records.base import db
from tests.support.agreements import submitted_agreement, user
from tests.support.app import csrf_token_from
from tests.support.reliability import dossier_with_slots, login_pelaksana, scan_png
from tests.support.signing import PASSPHRASE

WRONG_PASSPHRASE = "frasa-salah-Rahasia-77"


def _secret_needles(settings) -> dict[str, bytes]:
    """Byte strings that must appear nowhere: passphrases and every demo private key's forms."""

    needles = {"passphrase": PASSPHRASE.encode(), "wrong_passphrase": WRONG_PASSPHRASE.encode()}
    for p12 in sorted(settings.demo_pki_dir.glob("*.p12")):
        key, _, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), PASSPHRASE.encode())
        der = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        numbers = key.private_numbers()
        secret = getattr(numbers, "d", None) or getattr(numbers, "private_value", None)
        needles[f"{p12.stem}:der"] = der[-48:]
        needles[f"{p12.stem}:b64"] = base64.b64encode(der)[20:80]
        needles[f"{p12.stem}:hex"] = der[-48:].hex().encode()
        needles[f"{p12.stem}:int"] = str(secret).encode()
        needles[f"{p12.stem}:inthex"] = format(secret, "x").encode()
    return needles


def _database_text() -> bytes:
    chunks = []
    for table in db.get_tables():
        for row in db.execute_sql(f'SELECT * FROM "{table}"').fetchall():
            chunks.append(json.dumps([table, *row], default=str, ensure_ascii=False))
    return "\n".join(chunks).encode()


def _redis_dump(connection) -> bytes:
    chunks = []
    for key in connection.scan_iter(count=500):
        kind = connection.type(key)
        if kind == b"hash":
            chunks.append(repr(connection.hgetall(key)))
        elif kind == b"string":
            chunks.append(repr(connection.get(key)))
        elif kind == b"list":
            chunks.append(repr(connection.lrange(key, 0, -1)))
        chunks.append(repr(key))
    return "\n".join(chunks).encode()


@pytest.mark.slow
def test_no_key_or_passphrase_leaks_after_a_signing_run(pki_app, caplog, capfd):
    from pengesahan.jobs import queue
    from pengesahan.records.audit import AuditEntry
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    pki_app.config["PROPAGATE_EXCEPTIONS"] = False
    caplog.set_level(logging.DEBUG)
    credentials = json.loads((pki_app.config["DEMO_OUT"] / "credentials.json").read_text())
    kadin_password = next(u["password"] for u in credentials["users"] if u["username"] == "kadin")
    with db.connection_context():
        ids = []
        for _ in range(3):
            agreement, _ = submitted_agreement(settings)
            ratification.verify_agreement(agreement, actor=user("pelaksana"))
            ids.append(agreement.id)
    client = pki_app.test_client()
    assert client.post("/masuk", data={"username": "kadin", "password": kadin_password}).status_code == 302
    pages = []
    wrong = client.post("/admin/tanda-tangan/tandatangani", data={"passphrase": WRONG_PASSPHRASE,
                                                                   "agreement": str(ids[0])},
                        follow_redirects=True)
    pages.append(wrong.get_data())
    assert wrong.status_code == 200
    right = client.post("/admin/tanda-tangan/tandatangani", data={"passphrase": PASSPHRASE, "agreement": str(ids[0])},
                        follow_redirects=True)
    pages.append(right.get_data())
    with db.connection_context():
        from pengesahan.records.agreements import Agreement

        assert Agreement.get_by_id(ids[0]).status == "ditandatangani"
    # A batch hands the passphrase to a queued job: Redis must only see it sealed.
    batch = client.post("/admin/tanda-tangan/tandatangani",
                        data={"passphrase": PASSPHRASE, "agreement": [str(i) for i in ids[1:]]})
    assert batch.status_code == 302
    redis_text = _redis_dump(queue.redis_connection())
    for path in ("/admin/tanda-tangan/tugas/tidak-ada", "/berkas/pp/999999.pdf", "/admin/tanda-tangan/"):
        pages.append(client.get(path).get_data())
    from rq import Queue

    Queue("signing", connection=queue.redis_connection()).empty()

    with db.connection_context():
        database_text = _database_text()
        audit_text = "\n".join(json.dumps([e.action, e.details], ensure_ascii=False)
                               for e in AuditEntry.select()).encode()
    out, err = capfd.readouterr()
    places = {
        "logs": caplog.text.encode() + out.encode() + err.encode(),
        "database rows": database_text,
        "database files": b"".join(p.read_bytes() for p in settings.data_dir.glob("*.db*")),
        "audit trail": audit_text,
        "pages": b"\n".join(pages),
        "redis": redis_text,
    }
    for place, haystack in places.items():
        for name, needle in _secret_needles(settings).items():
            assert needle not in haystack, f"{name} found in {place}"
    assert b"agreement.sign" in audit_text and b"agreement.sign_" in audit_text  # the run did happen


def test_stored_names_never_come_from_the_user(app, client, make_user):
    from pengesahan.records.dossiers import Upload

    app.config["PROPAGATE_EXCEPTIONS"] = False
    login_pelaksana(client, make_user)
    dossier = dossier_with_slots()
    with db.connection_context():
        slot = dossier.slots.first()
    name = "../../../../tmp/../keys/kepala_dinas.p12"
    response = client.post(f"/admin/pemeriksaan/slot/{slot.id}/unggah",
                           data={"file": (io.BytesIO(scan_png(77)), name)}, content_type="multipart/form-data")
    assert response.status_code == 302
    settings = app.config["SETTINGS"]
    with db.connection_context():
        upload = Upload.get()
    names = [p.name for p in settings.data_dir.rglob("*") if p.is_file()]
    assert upload.sha256 in names
    assert "kepala_dinas.p12" not in names
    for path in settings.files_dir.rglob("*"):
        assert re.fullmatch(r"[0-9a-f]{2}|[0-9a-f]{64}", path.name), path
    from rq import Queue

    from pengesahan.jobs import queue

    Queue("processing", connection=queue.redis_connection()).empty()


def _session_cookie(response) -> str:
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite(client, make_user):
    _, password = make_user("pelaksana")
    response = client.post("/masuk", data={"username": "pelaksana", "password": password})
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie or "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http on loopback: a Secure cookie would never come back


def test_session_cookie_is_secure_behind_https(settings, redis_url):
    from app import create_app
    from pengesahan.cli.database import prepare_database
    from pengesahan.config import load_settings
    from pengesahan.jobs import queue

    https_settings = load_settings({"DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
                                    "REDIS_URL": redis_url, "SECRET_KEY": "test-secret",
                                    "PUBLIC_BASE_URL": "https://disnaker.example.go.id"})
    assert https_settings.session_cookie_secure
    queue.reset_connection()
    application = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=https_settings)
    with application.app_context():
        prepare_database()
        from pengesahan.records.people import User

        user = User(username="pelaksana", role="pelaksana", full_name="Pengguna")
        user.set_password("kata-sandi-uji-123")
        user.save()
    db.close()
    response = application.test_client().post("/masuk", data={"username": "pelaksana",
                                                               "password": "kata-sandi-uji-123"},
                                              base_url="https://disnaker.example.go.id")
    cookie = _session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie


def _post_urls(application) -> list[str]:
    urls = []
    for rule in application.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/") or rule.endpoint == "static":
            continue
        url = re.sub(r"<int:[^>]+>", "1", rule.rule)
        url = re.sub(r"<[^>]+>", "1", url)
        urls.append(url)
    return sorted(set(urls))


def test_csrf_is_enforced_on_every_form(settings, make_user):
    from app import create_app
    from pengesahan.jobs import queue

    queue.reset_connection()
    application = create_app({"TESTING": True, "PROPAGATE_EXCEPTIONS": False}, settings=settings)
    assert application.config.get("WTF_CSRF_ENABLED", True)
    make_user("admin")
    client = application.test_client()
    # Without the token even the login is refused.
    assert client.post("/masuk", data={"username": "admin", "password": "kata-sandi-uji-123"}).status_code == 400
    token = csrf_token_from(client.get("/masuk").get_data(as_text=True))
    response = client.post("/masuk", data={"username": "admin", "password": "kata-sandi-uji-123", "csrf_token": token})
    assert response.status_code == 302
    urls = _post_urls(application)
    assert len(urls) >= 10, urls
    assert any("/admin/pemeriksaan/slot/" in u for u in urls)
    refused = {}
    for url in urls:
        status = client.post(url, data={"x": "1"}).status_code
        refused[url] = status
    assert {u: s for u, s in refused.items() if s != 400} == {}
    # With the token, the same form gets past CSRF (the view decides the rest).
    response = client.post("/admin/pemeriksaan/slot/1/unggah", data={"csrf_token": token})
    assert response.status_code != 400


def _break_audit_entry(entry_id: int) -> None:
    """What someone with database access would do: drop the guard, then edit an entry."""
    from pengesahan.records.base import is_sqlite

    if is_sqlite():
        db.execute_sql("DROP TRIGGER audit_entry_no_update")
    else:
        db.execute_sql("DROP TRIGGER audit_entry_append_only ON audit_entry")
    db.execute_sql("UPDATE audit_entry SET details = ? WHERE id = ?".replace("?", "%s" if not is_sqlite() else "?"),
                   ('{"alasan": "diubah"}', entry_id))


def test_audit_log_refuses_update_and_delete_in_the_database(app):
    import peewee

    from pengesahan.records import audit

    with db.connection_context():
        entry = audit.record("uji", "uji.satu", "subjek:1")
        for statement in ("UPDATE audit_entry SET actor = 'lain' WHERE id = {}",
                          "DELETE FROM audit_entry WHERE id = {}"):
            with pytest.raises(peewee.DatabaseError, match="append-only"), db.atomic():
                db.execute_sql(statement.format(entry.id))


def test_audit_verify_reports_the_first_broken_link(app):
    from pengesahan.records import audit

    with db.connection_context():
        entries = [audit.record("uji", f"uji.{i}", f"subjek:{i}", nomor=i) for i in range(5)]
        audit.record_pending("p3mi", "upload.add", "slot:1")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit", "verify"])
    # The entry an upload left pending is linked first, then checked with the rest.
    assert result.exit_code == 0 and "utuh: 6 entri (1 entri tertunda baru ditautkan)" in result.output
    with db.connection_context():
        _break_audit_entry(entries[2].id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"#{entries[2].id}" in result.output and "diubah" in result.output
    assert f"#{entries[3].id}" not in result.output


def test_the_audit_lists_check_links_the_pending_entries_first(app, client, make_user, login):
    from pengesahan.records import audit

    make_user("admin")
    login("admin", "kata-sandi-uji-123")
    with db.connection_context():
        first = audit.record("uji", "uji.satu", "subjek:1")
        audit.record_pending("p3mi", "upload.add", "slot:1")
        chained = audit.AuditEntry.select().count()
    page = client.post("/admin/audit/action/", data={"action": "verify_chain", "rowid": [str(first.id)]},
                       follow_redirects=True)
    assert page.status_code == 200
    assert f"Rantai audit utuh ({chained + 1} entri)." in page.get_data(as_text=True)
    with db.connection_context():
        assert audit.pending_count() == 0
