"""The job plumbing after the move into the application package: jobs queued by the first
version (top-level ``tasks``/``notifications`` modules) still run once a worker has started."""

from __future__ import annotations

import datetime as dt

from rq import SimpleWorker
from rq.job import Job

from pengesahan.records.base import db
from tests.support.images import make_card, png


def _queued_upload(settings):
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import add_upload, open_dossier
    from pengesahan.storage import file_store

    data = png(make_card(seed=3))
    with db.connection_context():
        candidate = Candidate.create(nik="6309055708980002", name="SITI AMINAH", sex="P",
                                     birth_date=dt.date(1998, 8, 17))
        dossier = open_dossier(candidate, Company.create(name="PT Uji"), actor=None)
        slot = dossier.slots.where(DocumentSlot.doc_type == "ktp").first()
        key = file_store(settings).put(data)
        upload = add_upload(slot, sha256=key, media_type="image/png", size=len(data), original_name="ktp.png",
                            actor=None)
        return Upload.get_by_id(upload.id)


def test_a_job_queued_under_the_old_name_runs_after_the_worker_renames_it(app):
    from pengesahan.jobs import queue
    from pengesahan.jobs.worker import migrate_legacy_jobs
    from pengesahan.records.dossiers import Upload

    queue.queue("processing").empty()
    upload = _queued_upload(app.config["SETTINGS"])
    connection = queue.redis_connection()
    # What the first version put in Redis: the job named by its old module path.
    legacy = queue.queue("processing").enqueue_call("tasks.process_upload", args=(upload.id,),
                                                    job_id=f"upload-{upload.id}-0")
    assert Job.fetch(legacy.id, connection=connection).func_name == "tasks.process_upload"

    assert migrate_legacy_jobs(connection) == 1
    assert Job.fetch(legacy.id, connection=connection).func_name == queue.PROCESS_UPLOAD
    assert migrate_legacy_jobs(connection) == 0  # idempotent

    assert SimpleWorker(["processing"], connection=connection).work(burst=True)
    with db.connection_context():
        assert Upload.get_by_id(upload.id).state == "done"


def test_events_fire_only_after_the_transaction_commits(app):
    from pengesahan.events import Event, subscribe, unsubscribe

    seen: list[int] = []

    def handler(slot_id: int) -> None:
        seen.append(slot_id)

    subscribe(Event.SLOT_REJECTED, handler)
    try:
        _commit_and_roll_back(seen)
    finally:
        unsubscribe(Event.SLOT_REJECTED, handler)


def _commit_and_roll_back(seen: list[int]) -> None:
    from pengesahan.events import Event, fire
    from pengesahan.records.base import write_transaction

    with db.connection_context():
        try:
            with write_transaction():
                fire(Event.SLOT_REJECTED, slot_id=1)
                assert seen == []  # not inside the transaction
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        assert seen == []  # a rolled-back change notifies no one
        with write_transaction():
            with write_transaction():
                fire(Event.SLOT_REJECTED, slot_id=2)
            assert seen == []  # the inner block is not the commit
        assert seen == [2]
