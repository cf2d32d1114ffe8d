"""The scale benchmark's bulk seeding (COPY on PostgreSQL, multi-row inserts on SQLite) leaves a
database the product accepts as its own: one valid audit chain, the weekly check tallies the
worker would have kept, sequences past the seeded ids, and dossiers the upload clients can use."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from tests.support.app import served

VOLUME = {"companies": 3, "dossiers": 40, "uploads_per_dossier": 15, "agreements": 10,
          "events_per_dossier": 3, "audit": 25}


@pytest.fixture
def seeded(app):
    from bench import scale
    from pengesahan.records import audit
    from pengesahan.records.base import db, write_transaction

    with app.app_context(), db.connection_context():
        # An entry of the installation's own before the volume: the seeded chain continues it.
        with write_transaction():
            audit.record("admin", "test.before", "x:1")
        ids = scale.seed(VOLUME, random.Random(5))
    return ids


def test_seeded_volume_is_a_consistent_database(app, seeded):
    from pengesahan.records import audit
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.base import db, write_transaction
    from pengesahan.records.dossiers import (
        CheckTally,
        DocumentSlot,
        Dossier,
        ReviewEvent,
        Upload,
        rebuild_check_tallies,
    )

    with app.app_context(), db.connection_context():
        assert Dossier.select().count() == 40
        assert DocumentSlot.select().count() == Upload.select().count() == 600
        assert ReviewEvent.select().count() == 120
        assert Agreement.select().count() == 10
        report = audit.verify_chain()
        assert report.ok, report
        assert report.entries == 26
        # Stored JSON was written once, as text: it reads back as the checks the field holds.
        upload = Upload.get_by_id(Upload.select(Upload.id).where(Upload.state == "done").first().id)
        assert {c["name"] for c in upload.checks} >= {"blur", "nik"}
        tallies = {(t.week, t.check_name): (t.uploads, t.failed) for t in CheckTally.select()}
        assert tallies
        with write_transaction():
            rebuild_check_tallies()
        assert tallies == {(t.week, t.check_name): (t.uploads, t.failed) for t in CheckTally.select()}
        # The ids were taken from the sequences: what the product creates next does not collide.
        with write_transaction():
            audit.record("admin", "test.after", "x:2")
            fresh = Upload.create(slot=seeded["slot"], sha256="f" * 64, media_type="image/png", size=1)
        assert audit.verify_chain().ok
        assert Upload.select().where(Upload.id == fresh.id).count() == 1


def test_upload_clients_send_what_the_api_accepts(app, seeded):
    """The benchmark's upload clients, with their bodies encoded beforehand, are answered 202
    and each of their files is recorded once: a refusal is cheaper than the work and would
    flatter the figure, and the same bytes twice would be one stored file."""
    from bench import scale
    from pengesahan.records.base import db
    from pengesahan.records.dossiers import Upload

    assert len(seeded["upload_dossiers"]) >= 2
    with app.app_context(), db.connection_context():
        before = Upload.select().count()
    with served(app) as base:
        times, rate = scale._uploads(base, seeded, clients=2)
    assert len(times) == 2 * scale.UPLOADS_PER_CLIENT and rate > 0
    with app.app_context(), db.connection_context():
        recorded = Upload.select().where(Upload.id > 0).order_by(Upload.id.desc()).limit(len(times))
        assert Upload.select().count() == before + len(times)
        assert len({upload.sha256 for upload in recorded}) == len(times)
    assert Image.open(io.BytesIO(scale._scan_png(1, 1))).size == (64, 40)


def test_page_clients_are_answered_as_the_logged_in_officer(app, seeded, monkeypatch):
    """The page-throughput clients reuse the login's session on their own connection; a page
    answered with the login form (a lost session) would count a redirect as a page."""
    from bench import scale

    monkeypatch.setattr(scale, "THROUGHPUT_SECONDS", 1)
    monkeypatch.setattr(scale, "THROUGHPUT_CLIENTS", 2)
    with served(app) as base:
        assert scale._page_throughput(base, seeded) > 0


def test_the_cpu_of_a_process_kind_counts_the_children_it_waited_for():
    """A worker forks a work horse for each job, and the horse runs Tesseract: both are gone by
    the next sample, so their CPU is found in what the worker's children spent, or nowhere."""
    import subprocess
    import sys

    from bench import scale

    before = scale._cpu_seconds_by_kind()
    if not before:
        pytest.skip("no /proc on this system")
    burn = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)
    after = scale._cpu_seconds_by_kind()
    assert after["clients"] - before["clients"] >= 0.35


def test_the_deployed_run_waits_for_the_uploads_queued_before_it_times_anything(app, seeded):
    """Pages timed while the workers analyse the demo's scans measured the workers too."""
    import threading

    from bench import scale
    from pengesahan.records.base import db
    from pengesahan.records.dossiers import Upload

    with app.app_context(), db.connection_context():
        queued = Upload.select().first()
        Upload.update(state="queued").where(Upload.id == queued.id).execute()

    def finish() -> None:
        with app.app_context(), db.connection_context():
            Upload.update(state="done").where(Upload.id == queued.id).execute()

    timer = threading.Timer(0.5, finish)
    timer.start()
    try:
        scale._wait_until_processed(app, 0.05)
        with app.app_context(), db.connection_context():
            assert Upload.get_by_id(queued.id).state == "done"  # not before the worker is done
    finally:
        timer.join()
