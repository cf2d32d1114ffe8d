"""Every officer screen in Bahasa Indonesia, and data entry that cannot be silently wrong (#15)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from admin import formats
from pengesahan.translations import DIRECTORY, compiled

#: Flask-Admin's own English, as it would appear untranslated.
ENGLISH = ("List (", "Create", "Add Filter", "With selected", "Save and Add Another", "Delete", "Edit")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
#: Signature engineering an officer or a P3MI need not know: only the public verification
#: report's technical details may name it.
JARGON = re.compile(r"\b(?:B-LTA|B-LT|B-T|B-B|PKCS ?#?\d*|LTV|LTA|OCSP|CMS|CRL|TSA|PAdES|DSS|X\.509|root CA|revoked|"
                    r"worker|passphrase)\b", re.IGNORECASE)
WITA = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def admin_client(client, make_user, login):
    user, password = make_user("admin")
    login(user.username, password)
    return client


@pytest.fixture
def officials(app):
    """The Kepala Dinas and the Sekretaris Dinas, as records."""
    from pengesahan.records.base import db
    from pengesahan.records.people import Official

    with db.connection_context():
        kadin = Official.create(name="Drs. H. Kepala, M.Si.", nip="197001011990031001",
                                rank="Pembina Utama Muda (IV/c)", position="kepala_dinas")
        sekdis = Official.create(name="Sekretaris, S.H.", nip="197502022000031002",
                                 rank="Pembina (IV/a)", position="sekretaris_dinas")
    return kadin, sekdis


@pytest.fixture
def some_rows(app, officials):
    """A row in the tables whose lists show times, so the time format is exercised."""
    from pengesahan.records import audit
    from pengesahan.records.agreements import Delegation
    from pengesahan.records.base import db
    from pengesahan.records.people import ApiToken, Company

    kadin, sekdis = officials
    with db.connection_context():
        Delegation.create(number="800/1/DISNAKER/2025", date=dt.date(2025, 1, 2), delegating=kadin,
                          delegated=sekdis, valid_from=dt.datetime(2025, 1, 2, 0, 0, tzinfo=dt.UTC))
        ApiToken.issue(Company.create(name="PT Uji Waktu"), "sistem P3MI")
        audit.record("admin", "config.update", "Setting:1")


def _visible_text(html: str) -> str:
    """What a person reads on the page: text, and the words of titles, placeholders and labels."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S | re.I)
    said = re.findall(r'(?:title|placeholder|aria-label|alt|value)="([^"]*)"', html)
    return re.sub(r"<[^>]+>", " ", html) + " " + " ".join(said)


def _jargon(html: str) -> list[str]:
    return sorted({m.group() for m in JARGON.finditer(_visible_text(html))})


def _model_endpoints(app) -> list[str]:
    admin = app.extensions["admin"][0]
    return [view.endpoint for view in admin._views if hasattr(view, "model")]


def test_every_model_screen_is_indonesian(app, admin_client, some_rows):
    endpoints = _model_endpoints(app)
    assert {"dossier", "delegation", "user", "audit", "upload"} <= set(endpoints)
    for endpoint in endpoints:
        view = next(v for v in app.extensions["admin"][0]._views if getattr(v, "endpoint", None) == endpoint)
        urls = [f"/admin/{endpoint}/"]
        if view.allow_create:
            urls.append(f"/admin/{endpoint}/new/")
        for url in urls:
            response = admin_client.get(url)
            assert response.status_code == 200, url
            html = response.get_data(as_text=True)
            for english in ENGLISH:
                assert english not in html, f"{url}: {english!r}"
            assert not ISO_TIME.search(html), f"{url}: {ISO_TIME.search(html).group()}"
            assert 'placeholder="None"' not in html, url
            assert not _jargon(html), f"{url}: {_jargon(html)}"


def test_lists_show_names_and_office_time(admin_client, some_rows):
    html = admin_client.get("/admin/delegation/").get_data(as_text=True)
    assert "Perjanjian Penempatan" in html  # the scope by name, not perjanjian_penempatan
    assert "2 Jan 2025 08.00 WITA" in html  # 00.00 UTC is 08.00 in the office
    assert "Daftar (1)" in html
    users = admin_client.get("/admin/user/").get_data(as_text=True)
    assert "Administrator" in users and "Tambah Saringan" in users
    assert "Ya" in users


def _sk_form(officials, **changes) -> dict:
    kadin, sekdis = officials
    data = {"number": "800/2/DISNAKER/2025", "date": "02-01-2025", "delegating": str(kadin.id),
            "delegated": str(sekdis.id), "scope": ["perjanjian_penempatan"], "valid_from": "02-01-2025",
            "valid_until": "", "revoked_reason": ""}
    data.update(changes)
    return data


def _stored_sk(number: str):
    from pengesahan.records.agreements import Delegation
    from pengesahan.records.base import db

    with db.connection_context():
        return Delegation.get_or_none(Delegation.number == number)


def test_sk_date_typed_dd_mm_yyyy_is_stored_as_that_day(admin_client, officials):
    response = admin_client.post("/admin/delegation/new/", data=_sk_form(officials, valid_from="02-01-2025 08.30"))
    assert response.status_code == 302, response.get_data(as_text=True)
    sk = _stored_sk("800/2/DISNAKER/2025")
    assert sk.date == dt.date(2025, 1, 2)
    assert sk.valid_from == dt.datetime(2025, 1, 2, 8, 30, tzinfo=WITA)
    assert sk.scope == "perjanjian_penempatan"
    assert sk.confirmed_at is None  # a draft until the Kepala Dinas confirms it


@pytest.mark.parametrize(("changes", "message"), [
    ({"date": "2025-01-02"}, "hh-bb-tttt"),
    ({"date": "2-1-25"}, "hh-bb-tttt"),
    ({"date": "31-02-2025"}, "tidak ada di kalender"),
    ({"valid_from": "30-02-2025 08.00"}, "tidak ada di kalender"),
    ({"valid_from": "02-01-2025 25.00"}, "tidak ada di kalender"),
    ({"valid_from": "2025-01-02 08:00:00"}, "hh-bb-tttt"),
    ({"valid_from": "05-01-2025", "valid_until": "04-01-2025"}, "Berlaku sampai tidak boleh sebelum Berlaku mulai"),
    ({"date": "03-01-2025", "valid_from": "02-01-2025"}, "Berlaku mulai tidak boleh sebelum Tanggal SK"),
    ({"scope": []}, "Isian ini wajib diisi."),
])
def test_sk_form_refuses_what_could_be_misread(admin_client, officials, changes, message):
    response = admin_client.post("/admin/delegation/new/", data=_sk_form(officials, **changes))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _stored_sk("800/2/DISNAKER/2025") is None


def test_overlapping_sk_for_the_same_delegate_is_flagged(admin_client, officials):
    first = admin_client.post("/admin/delegation/new/", data=_sk_form(officials), follow_redirects=True)
    assert "tumpang tindih" not in first.get_data(as_text=True)
    second = admin_client.post("/admin/delegation/new/", data=_sk_form(officials, number="800/3/DISNAKER/2025",
                                                                       valid_from="01-06-2025"),
                               follow_redirects=True)
    assert "tumpang tindih dengan SK 800/2/DISNAKER/2025" in second.get_data(as_text=True)


def test_sk_edit_form_shows_the_dates_as_typed(admin_client, officials):
    admin_client.post("/admin/delegation/new/", data=_sk_form(officials, valid_from="02-01-2025 08.30"))
    sk = _stored_sk("800/2/DISNAKER/2025")
    html = admin_client.get(f"/admin/delegation/edit/?id={sk.id}").get_data(as_text=True)
    assert 'value="02-01-2025"' in html and 'value="02-01-2025 08.30"' in html
    assert 'type="checkbox"' in html and "Rekomendasi Paspor" in html
    # One ticked box is enough: "required" on each would make the browser demand them all.
    assert not re.search(r'<input[^>]*required[^>]*type="checkbox"', html)


def test_formats():
    moment = dt.datetime(2026, 11, 29, 18, 41, tzinfo=dt.UTC)
    assert formats.format_moment(moment, "Asia/Makassar") == "30 Nov 2026 02.41 WITA"
    assert formats.format_size(820) == "820 B"
    assert formats.format_size(12_700) == "12,4 KB"
    assert formats.format_size(1_300_000) == "1,2 MB"
    assert formats.format_percent(0.873) == "87%"
    assert formats.format_yes_no(False) == "Tidak"
    assert formats.parse_day("02-01-2025") == dt.date(2025, 1, 2)
    with pytest.raises(ValueError, match="hh-bb-tttt"):
        formats.parse_day("01/02/2025")


def test_compiled_catalogue_matches_its_source():
    po = DIRECTORY / "id" / "LC_MESSAGES" / "admin.po"
    assert po.with_suffix(".mo").read_bytes() == compiled(po), "run: python -m pengesahan.translations"


@pytest.mark.parametrize("role", ["admin", "pelaksana", "kadin", "p3mi"])
def test_officer_and_p3mi_screens_speak_plain_words(app, client, make_user, login, some_rows, role):
    """No "B-LTA", "PKCS#12", "OCSP"... on the desks, the dashboard and the portal."""
    from pengesahan.records.base import db
    from pengesahan.records.people import Official

    user, password = make_user(role)
    if role == "kadin":
        with db.connection_context():
            user.official = Official.get(Official.position == "kepala_dinas")
            user.save()
    assert login(user.username, password).status_code == 302
    urls = {"admin": ["/admin/", "/admin/pemeriksaan/"],
            "pelaksana": ["/admin/", "/admin/pemeriksaan/"],
            "kadin": ["/admin/", "/admin/tanda-tangan/"],
            "p3mi": ["/admin/", "/portal/", "/portal/berkas/baru", "/portal/perusahaan"]}[role]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert not _jargon(html), f"{role} {url}: {_jargon(html)}"


def test_a_bad_key_file_is_named_plainly(app):
    """The signer's desk shows this message: the signing key file, not "PKCS#12"."""
    from pengesahan.errors import WrongPassphrase
    from signing.sign import load_signing_key

    with pytest.raises(WrongPassphrase) as refused:
        load_signing_key(_not_a_key_file(app), "salah")
    assert "berkas kunci tanda tangan (.p12)" in refused.value.message
    assert not JARGON.search(refused.value.message)


def _not_a_key_file(app):
    path = app.config["SETTINGS"].data_dir / "rusak.p12"
    path.write_bytes(b"bukan kunci")
    return path


def test_a_throttled_login_says_how_long_to_wait(app, client, make_user, login):
    _, password = make_user("pelaksana")
    for _ in range(5):
        login("pelaksana", "salah-lagi")
    response = login("pelaksana", password)
    assert response.status_code == 429
    assert re.search(r"Coba lagi dalam \d+ detik", response.get_data(as_text=True))
    assert int(response.headers["Retry-After"]) > 0
