"""The numbers of the review queue and the dashboard, computed over real records."""

from __future__ import annotations

import datetime as dt

import pytest

from pengesahan.records.base import db


@pytest.fixture
def company(app):
    from pengesahan.records.people import Company

    with db.connection_context():
        yield Company.create(name="PT Dasbor")


def _dossier(company, nik_tail: int, **fields):
    from pengesahan.records.dossiers import Dossier
    from pengesahan.records.people import Candidate
    from pengesahan.services.dossiers import open_dossier

    candidate = Candidate.create(nik=f"630905570898{nik_tail:04d}", name=f"CPMI {nik_tail}", sex="P",
                                 birth_date=dt.date(1998, 8, 17))
    dossier = open_dossier(candidate, company, actor=None)
    if fields:
        Dossier.update(**fields).where(Dossier.id == dossier.id).execute()
    return Dossier.get_by_id(dossier.id)


def test_percentile_is_nearest_rank():
    from pengesahan.services.dashboard import percentile

    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 11)], 0.9) == 9.0


def test_queue_is_ordered_by_deadline_and_filtered(company, make_user):
    from pengesahan.records.people import Company
    from pengesahan.services.dashboard import UNASSIGNED, QueueFilter, review_queue

    officer, _ = make_user("pelaksana", "petugas-a")
    moment = dt.datetime(2026, 3, 4, 12, tzinfo=dt.UTC)  # a Wednesday
    with db.connection_context():
        late = _dossier(company, 1, check_due_at=moment - dt.timedelta(hours=5), assigned_to=officer.id)
        soon = _dossier(company, 2, check_due_at=moment + dt.timedelta(hours=2))
        other = _dossier(Company.create(name="PT Lain"), 3, check_due_at=moment - dt.timedelta(hours=1))
        _dossier(company, 4, status="terverifikasi")

        rows = review_queue(QueueFilter(), moment)
        assert [r.dossier.id for r in rows] == [late.id, other.id, soon.id]
        assert rows[0].check_overdue and rows[0].check_label == "Terlambat 5 jam"
        assert not rows[2].check_overdue and rows[2].check_label == "Sisa 2 jam"
        assert rows[0].slot_counts["kosong"] > 0

        assert [r.dossier.id for r in review_queue(QueueFilter(company_id=company.id), moment)] == [late.id, soon.id]
        assert [r.dossier.id for r in review_queue(QueueFilter(officer=officer.id), moment)] == [late.id]
        assert late.id not in [r.dossier.id for r in review_queue(QueueFilter(officer=UNASSIGNED), moment)]
        assert len(review_queue(QueueFilter(status=None), moment)) == 4


def test_counts_and_verification_times_against_the_sla(company):
    from pengesahan.services.dashboard import counts, verification_times, week_start

    moment = dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC)  # Friday
    monday = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)
    with db.connection_context():
        for n, hours in enumerate([2, 10, 30, 50]):
            _dossier(company, 10 + n, status="terverifikasi", submitted_at=monday,
                     check_due_at=monday + dt.timedelta(days=1), verified_at=monday + dt.timedelta(hours=hours))
        _dossier(company, 20, check_due_at=moment - dt.timedelta(hours=1))

        numbers = counts(moment)
        assert numbers.dossiers == {"draf": 0, "diajukan": 1, "ditolak": 0, "terverifikasi": 4}
        assert numbers.overdue == 1
        times = verification_times(moment, weeks=4)
    this_week = times.weeks[-1]
    assert this_week.week == week_start(moment) == dt.date(2026, 3, 2)
    assert (this_week.count, this_week.median_hours, this_week.p90_hours) == (4, 10.0, 50.0)
    assert this_week.on_time == 2  # 2 h and 10 h are inside the one-working-day check
    assert times.sla_days == 1 and times.sla_hours == 24.0
    assert [w.count for w in times.weeks[:-1]] == [0, 0, 0]


def test_share_of_uploads_failing_each_check(company):
    from pengesahan.records.base import write_transaction
    from pengesahan.records.dossiers import Upload, rebuild_check_tallies
    from pengesahan.services.dashboard import check_failures

    moment = dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC)
    with db.connection_context():
        slot = _dossier(company, 30).slots.first()
        for n, blur_ok in enumerate([False, True, True, True]):
            Upload.create(slot=slot, sha256=f"{n:064d}", media_type="image/png", size=1, state="done",
                          uploaded_at=moment - dt.timedelta(hours=n),
                          checks=[{"name": "blur", "ok": blur_ok}, {"name": "nik", "ok": True}])
        Upload.create(slot=slot, sha256="f" * 64, media_type="image/png", size=1, state="failed",
                      uploaded_at=moment, checks=[])
        with write_transaction():
            rebuild_check_tallies()  # rows written directly are counted as the upgrade counts them
        failures = check_failures(moment, weeks=2)
    week = failures.weeks[-1]
    assert failures.totals[week] == 4
    assert failures.share("blur", week) == 0.25 and failures.share("nik", week) == 0.0
    assert failures.share("blur", failures.weeks[0]) is None
    assert failures.checks == ["blur", "nik"]
    assert failures.overall("blur") == 0.25
