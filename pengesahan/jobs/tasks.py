"""The job bodies. Each takes record ids, binds the database in the work horse and calls a
service; they are idempotent, so a job run twice ends in the same state as one run."""

from __future__ import annotations

import dataclasses
import logging
from contextlib import contextmanager

from rq import get_current_job

from pengesahan import records
from pengesahan.errors import ServiceError
from pengesahan.jobs.queue import settings
from pengesahan.records.base import db
from pengesahan.records.people import User
from pengesahan.services import ltv, ratification, scans, webhooks

log = logging.getLogger(__name__)

__all__ = ["deliver_webhook", "job_database", "process_upload", "renew_ltv", "sign_batch", "train_type_model"]


@contextmanager
def job_database():
    """Bind and open the database inside a job (workers fork; connections are per process)."""
    records.bind(settings())
    db.connect(reuse_if_open=True)
    try:
        yield
    finally:
        if not db.is_closed():
            db.close()


def process_upload(upload_id: int) -> str:
    """Classify and check one upload and store the results on its record."""
    with job_database():
        return scans.process_upload(settings(), upload_id)


def sign_batch(agreement_ids: list[int], user_id: int, passphrase_reference: str) -> list[dict]:
    """Sign many agreements with one passphrase entry; one failure does not stop the rest.

    Progress is kept in the job's meta (``done``/``total``/``outcomes``) for the signer's page.
    """
    job = get_current_job()
    outcomes: list[dict] = []
    with job_database():
        user = User.get_by_id(user_id)
        passphrase = ratification.claim_passphrase(settings(), passphrase_reference)
        for index, agreement_id in enumerate(agreement_ids):
            outcome = ratification.sign_agreement(settings(), agreement_id, user, passphrase)
            outcomes.append(outcome.__dict__)
            if job is not None:
                job.meta.update(done=index + 1, total=len(agreement_ids), outcomes=outcomes)
                job.save_meta()
    return outcomes


def deliver_webhook(delivery_id: int) -> str:
    """Post one webhook delivery; a failure raises so that RQ retries it."""
    job = get_current_job()
    with job_database():
        return webhooks.attempt_delivery(settings(), delivery_id, retries_left=bool(job and job.retries_left),
                                         job_id=job.id if job else "-")


def renew_ltv(before_days: int = ltv.DEFAULT_BEFORE_DAYS) -> list[dict]:
    """Renew every signed PP whose newest timestamp lapses within ``before_days`` (the daily
    upkeep); raises after the whole run when any failed, so that RQ retries and keeps it."""
    job = get_current_job()
    job_id = job.id if job else "-"
    with job_database():
        outcomes = ltv.renew(settings(), before_days=before_days)
        ltv.record_due_count(settings())
    failed = [o for o in outcomes if not o.ok]
    renewed = sum(o.state == ltv.RENEWED for o in outcomes)
    log.info("job %s: ltv renewal: %s renewed, %s failed, %s checked", job_id, renewed, len(failed), len(outcomes))
    for outcome in failed:
        log.warning("job %s: ltv renewal of %s failed: %s", job_id, outcome.number, outcome.message)
    if failed:
        raise ServiceError(f"Pembaruan cap waktu arsip gagal untuk {len(failed)} PP: "
                           + "; ".join(f"{o.number}: {o.message}" for o in failed[:10]))
    return [o.__dict__ for o in outcomes]


def train_type_model() -> dict | None:
    """Train the office's models on the officers' verdicts so far (daily): the document-type
    model, whose held-back quality is returned (None while there are too few examples), and the
    image-defect models (services/learning.py)."""
    # scikit-learn loads in the job that trains, not in every job of the worker.
    from pengesahan.services import learning

    job = get_current_job()
    with job_database():
        quality = learning.retrain(settings())
        defects = learning.retrain_defects(settings())
    log.info("job %s: type model %s; defect models %s", job.id if job else "-",
             f"trained, accuracy {quality.accuracy:.3f}" if quality else "not trained (too few examples)",
             ", ".join(defects.defects) if defects else "not trained (too few verdicts)")
    return dataclasses.asdict(quality) if quality else None
