"""Login, CSRF, throttling and what each role may open in the admin."""

from __future__ import annotations

import pytest

from tests.support.app import csrf_token_from

# endpoint path -> roles that may open it (others: 403, anonymous: redirect to login)
PAGES = {
    "/admin/": {"admin", "pelaksana", "kabid", "sekdis", "kadin", "p3mi"},
    "/admin/pemeriksaan/": {"admin", "pelaksana", "kabid", "sekdis", "kadin"},
    "/admin/dossier/": {"admin", "pelaksana", "kabid", "sekdis", "kadin", "p3mi"},
    "/admin/candidate/": {"admin", "pelaksana", "kabid", "sekdis", "kadin"},
    "/admin/delegation/": {"admin", "pelaksana", "kabid", "sekdis", "kadin"},
    "/admin/delegation/new/": {"admin", "kadin"},
    "/admin/doctype/": {"admin", "pelaksana", "kabid", "sekdis", "kadin"},
    "/admin/doctype/new/": {"admin"},
    "/admin/user/": {"admin"},
    "/admin/apitoken/": {"admin"},
    "/admin/audit/": {"admin"},
}
ROLES = ["admin", "pelaksana", "kabid", "sekdis", "kadin", "p3mi"]


def test_anonymous_is_sent_to_login(client):
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/masuk" in response.headers["Location"]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_only_its_pages(client, make_user, login, role):
    _, password = make_user(role)
    assert login(role, password).status_code == 302
    for path, allowed in PAGES.items():
        status = client.get(path).status_code
        if role in allowed:
            assert status == 200, (role, path, status)
        else:
            assert status == 403, (role, path, status)


def test_forbidden_writes_are_refused_at_the_endpoint(client, make_user, login):
    _, password = make_user("pelaksana")
    login("pelaksana", password)
    response = client.post("/admin/doctype/new/", data={"code": "baru", "name": "Baru"})
    assert response.status_code == 403


def test_p3mi_sees_only_its_own_dossiers(app, client, make_user, login):
    import datetime as dt

    from pengesahan.records.base import db
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    user, password = make_user("p3mi")
    with db.connection_context():
        other = Company.create(name="PT Lain")
        mine = open_dossier(Candidate.create(nik="6309055708980002", name="MILIK SAYA", sex="P",
                                             birth_date=dt.date(1998, 8, 17)), user.company, actor=None)
        theirs = open_dossier(Candidate.create(nik="6309021203950001", name="MILIK LAIN", sex="L",
                                               birth_date=dt.date(1995, 3, 12)), other, actor=None)
    login("p3mi", password)
    listing = client.get("/admin/dossier/").get_data(as_text=True)
    assert "MILIK SAYA" in listing and "MILIK LAIN" not in listing
    assert client.get(f"/admin/dossier/details/?id={mine.id}").status_code == 200
    assert client.get(f"/admin/dossier/details/?id={theirs.id}").status_code in (302, 404)


def test_wrong_password_then_a_growing_wait_from_that_address(app, client, make_user, login):
    _, password = make_user("pelaksana")
    for _ in range(5):
        assert login("pelaksana", "salah").status_code == 401
    # That address now waits, even with the right password, and is told for how long.
    response = login("pelaksana", password)
    assert response.status_code == 429
    assert "Coba lagi dalam 15 detik" in response.get_data(as_text=True)
    # The account itself is not locked: the officer at another desk still gets in.
    other_desk = app.test_client()
    response = other_desk.post("/masuk", data={"username": "pelaksana", "password": password},
                               environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 302


def test_passwords_are_hashed_with_argon2(app, make_user):
    from pengesahan.records.base import db
    from pengesahan.records.people import User

    make_user("admin")
    with db.connection_context():
        stored = User.get(User.username == "admin").password_hash
    assert stored.startswith("$argon2id$")


def test_login_requires_csrf_token(settings, make_user):
    from app import create_app

    app = create_app({"TESTING": True}, settings=settings)
    client = app.test_client()
    _, password = make_user("admin")
    assert client.post("/masuk", data={"username": "admin", "password": password}).status_code == 400
    token = csrf_token_from(client.get("/masuk").get_data(as_text=True))
    response = client.post("/masuk", data={"username": "admin", "password": password, "csrf_token": token})
    assert response.status_code == 302


def test_open_redirect_after_login_is_refused(client, make_user):
    _, password = make_user("admin")
    response = client.post("/masuk?next=https://jahat.example/", data={"username": "admin", "password": password})
    assert response.headers["Location"].startswith("/admin")


def test_security_headers(client):
    response = client.get("/masuk")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_times_are_shown_in_the_office_zone(app, client, make_user, login):
    import datetime as dt

    from pengesahan.records.base import db
    from pengesahan.records.dossiers import Dossier
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    _, password = make_user("pelaksana")
    with db.connection_context():
        dossier = open_dossier(Candidate.create(nik="6309055708980002", name="SITI", sex="P",
                                                birth_date=dt.date(1998, 8, 17)), Company.create(name="PT Z"), actor=None)
        due = dt.datetime(2026, 11, 24, 2, 30, tzinfo=dt.UTC)
        Dossier.update(check_due_at=due).where(Dossier.id == dossier.id).execute()
    login("pelaksana", password)
    page = client.get(f"/admin/pemeriksaan/berkas/{dossier.id}").get_data(as_text=True)
    # 02:30 UTC is 10:30 in Tabalong (WITA, UTC+8).
    assert "24 Nov 2026 10.30 WITA" in page
