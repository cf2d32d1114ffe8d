"""The scale benchmark's bulk seeding (COPY on PostgreSQL, multi-row inserts on SQLite) leaves a
database the product accepts as its own: one valid audit chain, the weekly check tallies the
worker would have kept, sequences past the seeded ids, and dossiers the upload clients can use."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

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


def test_upload_clients_scans_are_accepted(app, seeded):
    """What each of the benchmark's upload clients sends is accepted (202), not refused: a
    refusal is cheaper than the work and would flatter the figure."""
    from bench import scale

    assert len(seeded["upload_dossiers"]) >= 2
    client = app.test_client()
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    sent = set()
    for n, dossier in enumerate(seeded["upload_dossiers"][:2]):
        for k in range(2):
            data = scale._scan_png(n, k)
            sent.add(data)
            response = client.post(f"/api/v1/dossiers/{dossier}/company-documents/pkwt", headers=headers,
                                   data={"file": (io.BytesIO(data), f"s{n}-{k}.png", "image/png")},
                                   content_type="multipart/form-data")
            assert response.status_code == 202, response.get_json()
    assert len(sent) == 4  # four different files, not one stored four times
    assert Image.open(io.BytesIO(scale._scan_png(1, 1))).size == (64, 40)
