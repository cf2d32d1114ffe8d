"""The dashboard's weekly figures, read from what processing keeps, equal the figures computed
from every upload's checks (the first version's way): after the v9 upgrade counts the uploads
already processed, after new uploads are processed, after one is processed again, and for
verification times."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter, defaultdict

import pytest

from pengesahan.records.base import db

MOMENT = dt.datetime(2026, 3, 6, 12, tzinfo=dt.UTC)  # a Friday
NAMES = ("format", "resolution", "blur", "exposure", "nik", "text_layer", "a_check_of_the_office")


def _parsed_check_failures(moment: dt.datetime, weeks: int):
    """The dashboard's figures as the first version computed them: every upload's checks parsed."""
    from pengesahan.records.dossiers import Upload
    from pengesahan.services.dashboard import recent_weeks, week_start

    starts = recent_weeks(moment, weeks)
    since = dt.datetime.combine(starts[0], dt.time(), tzinfo=dt.UTC)
    totals: Counter = Counter()
    failed: dict[str, Counter] = defaultdict(Counter)
    for upload in (Upload.select(Upload.uploaded_at, Upload.checks)
                   .where((Upload.state == "done") & (Upload.uploaded_at >= since))):
        week = week_start(upload.uploaded_at)
        totals[week] += 1
        for check in upload.checks or []:
            failed[check["name"]][week] += 0 if check.get("ok") else 1
    return starts, {w: totals[w] for w in starts}, {name: dict(per_week) for name, per_week in failed.items()}


def _assert_same_figures(moment: dt.datetime, weeks: int) -> None:
    from pengesahan.services.dashboard import check_failures

    starts, totals, failed = _parsed_check_failures(moment, weeks)
    figures = check_failures(moment, weeks)
    assert figures.weeks == starts
    assert figures.totals == totals
    assert figures.failed == failed
    assert sum(totals.values()) > 0, "the seeded set must have processed uploads in the window"
    for check in figures.checks:
        for week in starts:
            expected = failed.get(check, {}).get(week, 0) / totals[week] if totals[week] else None
            assert figures.share(check, week) == expected
        assert math.isclose(figures.overall(check), sum(failed[check].values()) / sum(totals.values()))


@pytest.fixture
def dossier(app):
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import open_dossier

    with db.connection_context():
        candidate = Candidate.create(nik="6309055708980001", name="CPMI Dasbor", sex="P",
                                     birth_date=dt.date(1998, 8, 17))
        yield open_dossier(candidate, Company.create(name="PT Agregat"), actor=None)


def _seed_history(dossier, rng: random.Random, moment: dt.datetime, count: int = 240) -> list:
    """Uploads of the eleven weeks before ``moment`` (and a few after) in every state, some
    without checks."""
    from pengesahan.records.dossiers import Upload

    slots = list(dossier.slots)
    uploads = []
    for n in range(count):
        checks = None if n % 17 == 0 else [
            {"name": name, "ok": rng.random() > 0.2, "value": rng.random(), "message": "."}
            for name in rng.sample(NAMES, rng.randint(1, len(NAMES)))]
        state = rng.choice(("done", "done", "done", "failed", "queued", "running"))
        at = moment - dt.timedelta(minutes=rng.randint(-20_000, 11 * 7 * 24 * 60))
        uploads.append(Upload.create(slot=slots[n % len(slots)], sha256=f"{n:064x}", media_type="image/png",
                                     size=1, state=state, uploaded_at=at, checks=checks))
    return uploads


def _back_to_version_8() -> None:
    """The installation as the first scale release left it: no tallies, uploads never counted."""
    from playhouse.migrate import SchemaMigrator, migrate

    from pengesahan.records.dossiers import CheckTally
    from pengesahan.records.schema import SchemaVersion

    CheckTally.drop_table()
    migrate(SchemaMigrator.from_database(db.obj).drop_column("upload", "checks_tallied"))
    SchemaVersion.delete().where(SchemaVersion.version >= 9).execute()


def test_upgrade_counts_the_uploads_already_processed(dossier):
    from pengesahan.records.schema import upgrade

    with db.connection_context():
        _seed_history(dossier, random.Random(9), MOMENT)
        _back_to_version_8()
        assert 9 in upgrade()
        for weeks in (8, 4, 1):
            _assert_same_figures(MOMENT, weeks)
        _assert_same_figures(MOMENT + dt.timedelta(weeks=3), 8)


def test_processing_keeps_the_figures_equal(app, settings, dossier, make_user):
    from pengesahan.records.base import write_transaction
    from pengesahan.records.dossiers import Upload, rebuild_check_tallies
    from pengesahan.services.scans import process_upload
    from pengesahan.services.uploads import reprocess_upload
    from pengesahan.storage import file_store
    from tests.support.images import make_card, png, scan

    store = file_store(settings)
    card = png(scan(make_card(seed=3), seed=3))
    moment = dt.datetime.now(dt.UTC)
    with db.connection_context():
        history = _seed_history(dossier, random.Random(17), moment - dt.timedelta(hours=1), count=80)
        with write_transaction():
            rebuild_check_tallies()
        _assert_same_figures(moment, 8)
        slot = dossier.slots.first()
        fresh = Upload.create(slot=slot, sha256=store.put(card), media_type="image/png", size=len(card))
        broken = Upload.create(slot=slot, sha256=store.put(b"not an image at all"), media_type="image/png", size=19)
        assert process_upload(settings, fresh.id) == "done"
        assert process_upload(settings, broken.id) == "failed"
        assert process_upload(settings, fresh.id) == "done"  # a retried job counts nothing twice
        _assert_same_figures(moment, 8)

        # An upload of these weeks, processed before, analysed again (other results), and one
        # that was done and fails on its second analysis.
        since = moment - dt.timedelta(weeks=6)
        again, lost = [u for u in history if u.state == "done" and u.checks and u.uploaded_at > since][:2]
        Upload.update(sha256=store.put(card)).where(Upload.id == again.id).execute()
        Upload.update(sha256=store.put(b"gone bad")).where(Upload.id == lost.id).execute()
        officer, _ = make_user("pelaksana", "pelaksana-agregat")
        for upload, state in ((again, "done"), (lost, "failed")):
            reprocess_upload(Upload.get_by_id(upload.id), actor=officer)
            assert process_upload(settings, upload.id) == state
            _assert_same_figures(moment, 8)


def test_a_processed_upload_is_counted_in_one_statement(app, settings, dossier, monkeypatch):
    """A worker adds an upload's fourteen checks to its week's tallies in one statement, not one
    round trip each: on a busy installation those statements were most of what the database
    did for a processed upload. Counted right (the figures above) and with no count lost."""
    from pengesahan.records.dossiers import CheckTally, Upload
    from pengesahan.services.scans import process_upload
    from pengesahan.storage import file_store
    from tests.support.images import make_card, png, scan
    from tests.support.queries import StatementCounter

    card = png(scan(make_card(seed=5), seed=5))
    with db.connection_context():
        upload = Upload.create(slot=dossier.slots.first(), sha256=file_store(settings).put(card),
                               media_type="image/png", size=len(card))
        counter = StatementCounter(monkeypatch)
        assert process_upload(settings, upload.id) == "done"
        tally_writes = [sql for sql in counter.statements if "check_tally" in sql]
        checks = Upload.get_by_id(upload.id).checks
        assert len(checks) > 5
        assert len(tally_writes) == 1, tally_writes
        rows = {row.check_name: (row.uploads, row.failed) for row in CheckTally.select()}
        assert rows[""] == (1, 0)
        for check in checks:
            assert rows[check["name"]] == (1, 0 if check["ok"] else 1)


def test_verification_times_equal_every_dossier_read(dossier):
    from pengesahan.records.dossiers import Dossier
    from pengesahan.records.people import Candidate
    from pengesahan.services.dashboard import percentile, verification_times, week_start
    from pengesahan.services.dossiers import open_dossier

    rng = random.Random(5)
    with db.connection_context():
        for n in range(60):
            submitted = MOMENT - dt.timedelta(hours=rng.randint(1, 24 * 70))
            candidate = Candidate.create(nik=f"63090557089{n + 10:05d}", name=f"CPMI {n}", sex="L",
                                         birth_date=dt.date(1995, 1, 1))
            other = open_dossier(candidate, dossier.company, actor=None)
            verified = submitted + dt.timedelta(hours=rng.randint(1, 90)) if n % 4 else None
            Dossier.update(submitted_at=submitted, check_due_at=submitted + dt.timedelta(days=1),
                           verified_at=verified, status="terverifikasi" if verified else "diajukan").where(
                Dossier.id == other.id).execute()
        times = verification_times(MOMENT, weeks=8)
        hours: dict[dt.date, list[float]] = defaultdict(list)
        on_time: Counter = Counter()
        for d in Dossier.select().where(Dossier.verified_at.is_null(False)):
            week = week_start(d.verified_at)
            hours[week].append((d.verified_at - d.submitted_at).total_seconds() / 3600)
            on_time[week] += d.check_due_at is None or d.verified_at <= d.check_due_at
    assert [w.week for w in times.weeks] == sorted(w.week for w in times.weeks)
    assert sum(w.count for w in times.weeks) > 20
    for w in times.weeks:
        assert (w.count, w.median_hours, w.p90_hours, w.on_time) == (
            len(hours[w.week]), percentile(hours[w.week], 0.5), percentile(hours[w.week], 0.9), on_time[w.week])
