"""The admin lists read a page's related records in one query each, not one per row: a page of
50 rows costs the same few statements as a page of 5 (issue #17: 104 statements per page)."""

from __future__ import annotations

import datetime as dt

import pytest

from pengesahan.records.base import db
from tests.support.queries import StatementCounter


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
        counter = StatementCounter(monkeypatch)
        page = client.get(path)
        assert page.status_code == 200
        statements.append(counter.count)
    assert statements[1] == statements[0], (path, statements)
