"""The admin lists read a page's related records in one query each, not one per row: a page of
50 rows costs the same few statements as a page of 5 (issue #17: 104 statements per page)."""

from __future__ import annotations

import datetime as dt

import pytest

from pengesahan.records.base import db
from tests.support.queries import StatementCounter


def _statements(client, monkeypatch, path: str, **kwargs) -> int:
    """The statements one GET of ``path`` costs; it must answer 200."""
    counter = StatementCounter(monkeypatch)
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return counter.count


def _seed(rows: int) -> None:
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.dossiers import ReviewEvent, Upload
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    company = Company.get_or_create(name="PT Banyak")[0]
    start = Candidate.select().count()
    for n in range(start, start + rows):
        candidate = Candidate.create(nik=f"630905570898{n:04d}", name=f"CPMI {n}", sex="P",
                                     birth_date=dt.date(1998, 8, 17))
        dossier = open_dossier(candidate, company, actor=None)
        slot = dossier.slots.first()
        Upload.create(slot=slot, sha256=f"{n:064x}", media_type="image/png", size=1)
        ReviewEvent.create(dossier=dossier, slot=slot, from_status="kosong", to_status="diajukan")
        Agreement.create(dossier=dossier, number=f"PP/{n:05d}/2026", submitted_at=dossier.submitted_at)


@pytest.mark.parametrize("path", ["/admin/dossier/", "/admin/upload/", "/admin/reviewevent/",
                                  "/admin/agreement/", "/admin/user/"])
def test_a_list_page_costs_the_same_statements_whatever_its_rows(client, make_user, login, monkeypatch, path):
    _, password = make_user("admin")
    login("admin", password)
    statements = []
    for rows in (3, 30):
        with db.connection_context():
            _seed(rows if not statements else rows - 3)
        for _ in range(2):
            make_user("pelaksana", username=f"petugas{len(statements)}{_}")
        statements.append(_statements(client, monkeypatch, path))
    assert statements[1] == statements[0], (path, statements)


def _dossier_with_slots(company, per_owner: int | None) -> int:
    """A new dossier of ``company`` keeping ``per_owner`` slots of the CPMI's and of the
    company's (None: all), each holding two uploads."""
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.records.people import Candidate
    from pengesahan.services.dossiers import open_dossier
    from pengesahan.services.drafts import DRAFT_TYPE

    n = Candidate.select().count()
    candidate = Candidate.create(nik=f"630905570898{n:04d}", name=f"CPMI {n}", sex="P", birth_date=dt.date(1998, 8, 17))
    dossier = open_dossier(candidate, company, actor=None)
    for owner in ("cpmi", "p3mi"):
        slots = list(dossier.slots.where(DocumentSlot.owner == owner).order_by(DocumentSlot.position))
        # The PP's slot stays: the portal looks it up on its own, once, when there is one.
        kept = slots if per_owner is None else slots[:per_owner] + [s for s in slots[per_owner:]
                                                                     if s.doc_type == DRAFT_TYPE]
        for slot in set(slots) - set(kept):
            slot.delete_instance(recursive=True)
        for slot in kept:
            for attempt in range(2):
                Upload.create(slot=slot, sha256=f"{slot.id:060x}{attempt:04x}", media_type="image/png", size=1)
    return dossier.id


@pytest.mark.parametrize("who, path", [
    ("pelaksana", "/admin/pemeriksaan/berkas/{id}"),
    ("pelaksana", "/admin/pemeriksaan/berkas/{id}/status.json"),
    ("p3mi", "/portal/berkas/{id}"),
    ("p3mi", "/portal/berkas/{id}/status"),
    ("api", "/api/v1/dossiers/{id}"),
    ("api", "/api/v1/dossiers/{id}/company-documents"),
])
def test_a_dossier_costs_the_same_statements_however_many_slots_it_has(client, make_user, login, monkeypatch,
                                                                     who, path):
    """Every slot is shown with its current upload: read for all slots at once, not slot by slot
    (a dossier page of 15 uploaded slots cost 41 statements, 2 for each slot)."""
    from pengesahan.records.people import ApiToken, Company

    with db.connection_context():
        company = Company.create(name="PT Berkas")
        _, token = ApiToken.issue(company, "uji")
        few, many = _dossier_with_slots(company, 2), _dossier_with_slots(company, None)
    headers = {"Authorization": f"Bearer {token}"} if who == "api" else {}
    if who != "api":
        _, password = make_user(who, company=company if who == "p3mi" else None)
        login(who, password)
    statements = []
    for dossier_id in (few, many):
        client.get(path.format(id=dossier_id), headers=headers)  # the session's first reads
        statements.append(_statements(client, monkeypatch, path.format(id=dossier_id), headers=headers))
    assert statements[1] == statements[0], (path, statements)


def test_the_signers_desk_costs_the_same_statements_however_many_agreements_wait(client, make_user, login,
                                                                                 monkeypatch):
    """Every row names its CPMI and company: read with the agreements, not three queries a row."""
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.base import now

    _, password = make_user("kadin")
    login("kadin", password)
    statements = []
    for rows in (2, 12):
        with db.connection_context():
            _seed(rows if not statements else rows - 2)
            waiting = Agreement.select(Agreement.id).where(Agreement.status != "ditandatangani")
            half = [a.id for a in waiting][::2]
            Agreement.update(status="terverifikasi", verified_at=now()).where(Agreement.id.in_(half)).execute()
            Agreement.update(status="ditandatangani", signed_at=now()).where(
                Agreement.id.not_in(half) & (Agreement.status != "terverifikasi")).execute()
        statements.append(_statements(client, monkeypatch, "/admin/tanda-tangan/"))
        assert client.get("/admin/tanda-tangan/").get_data(as_text=True).count("CPMI ") >= rows  # each row names it
    assert statements[1] == statements[0], statements
