"""The office's defect models from its officers' verdicts, end to end: each processed upload
keeps its image numbers, a return picking a reason that names a defect is an example of it, the
command and the worker's daily round train, the dashboard says what each model catches, and the
next upload the rules pass is failed by the model, saying so."""

from __future__ import annotations

import datetime as dt
import hashlib
import random

import numpy as np
import pytest
from click.testing import CliRunner

from pengesahan.records.base import db
from processing.image_features import quality_features
from processing.pipeline import measure_page
from processing.quality import MIN_NEGATIVES, MIN_POSITIVES
from tests.support.images import make_card, png, scan

ACCEPTED = MIN_NEGATIVES + 4
RETURNED = MIN_POSITIVES + 3


def _capture(seed: int, light: float) -> np.ndarray:
    card = scan(make_card(width=600, seed=seed), seed=seed).astype(np.float32)
    return np.clip(card * light, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def measured() -> dict[str, list[dict]]:
    """Captures an office accepts (normal light) and returns as too dark (68-80 % light, which
    the exposure rule passes), measured as the worker measures them."""
    rng = random.Random(11)
    return {
        "accepted": [quality_features(measure_page(_capture(i, rng.uniform(0.92, 1.08))), None)
                     for i in range(ACCEPTED)],
        "dark": [quality_features(measure_page(_capture(200 + i, rng.uniform(0.68, 0.8))), None)
                 for i in range(RETURNED)],
    }


def _processed_ktp(index: int, features: dict | None, exposure: dict | None = None):
    """The KTP slot of a fresh dossier, holding a processed upload that passed every check (or
    whose exposure check is ``exposure``)."""
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services.dossiers import add_upload, open_dossier

    company = Company.get_or_none(Company.name == "PT Cermat") or Company.create(name="PT Cermat")
    candidate = Candidate.create(nik=f"630905570898{index:04d}", name=f"CPMI {index}", sex="P",
                                 birth_date=dt.date(1998, 8, 17))
    slot = open_dossier(candidate, company, actor=None).slots.where(DocumentSlot.doc_type == "ktp").get()
    upload = add_upload(slot, sha256=hashlib.sha256(f"ktp-{index}".encode()).hexdigest(), media_type="image/png",
                        size=1000, original_name="ktp.png", actor=None)
    Upload.update(state="done", classified_type="ktp", confidence=0.9, quality_features=features,
                  checks=[exposure or {"name": "exposure", "ok": True, "message": "Pencahayaan baik."}]).where(
        Upload.id == upload.id).execute()
    return DocumentSlot.get_by_id(slot.id)


def _judge(measured: dict, officer) -> None:
    """The officer's verdicts: every normally lit capture accepted, every dim one returned with
    the shipped reason for a dark photo (its defect named), and verdicts that teach nothing: a
    return whose reason names no defect, an upload processed before its numbers were kept."""
    from pengesahan.records.catalogue import RejectionTemplate
    from pengesahan.services.dossiers import review_slot

    dark = RejectionTemplate.get(RejectionTemplate.code == "gelap")
    for index, features in enumerate(measured["accepted"]):
        review_slot(_processed_ktp(index, features), accept=True, reason="", actor=officer)
    for index, features in enumerate(measured["dark"]):
        review_slot(_processed_ktp(500 + index, features), accept=False, reason=dark.text, actor=officer,
                    defect=dark.defect)
    review_slot(_processed_ktp(900, measured["dark"][0]), accept=False, reason="Pasfoto lama.", actor=officer)
    review_slot(_processed_ktp(901, None), accept=False, reason=dark.text, actor=officer, defect="dark")


def test_verdicts_on_uploads_with_image_numbers_are_the_examples(app, make_user, measured):
    from pengesahan.services import learning

    officer, _ = make_user("pelaksana")
    with db.connection_context():
        _judge(measured, officer)
        verdicts = learning.defect_verdicts()
        capped = learning.defect_verdicts(per_kind=5)
    assert sum(v.accepted for v in verdicts) == ACCEPTED
    assert [v.defect for v in verdicts if not v.accepted] == ["dark"] * RETURNED
    assert sorted(v.features["paper"] for v in verdicts if not v.accepted) == sorted(f["paper"] for f in measured["dark"])
    assert (sum(v.accepted for v in capped), sum(not v.accepted for v in capped)) == (5, 5)
    assert all(v.passed_by_rules("dark") for v in verdicts)


def test_a_verdict_knows_whether_the_rules_or_a_model_had_failed_its_upload(app, make_user, measured):
    """What the model adds is measured on the uploads the rules passed: an exposure the rules
    failed hides the upload from the dark model's recall, one a model failed does not."""
    from pengesahan.services import learning

    officer, _ = make_user("pelaksana")
    features = measured["dark"][0]
    with db.connection_context():
        for index, by_model in ((0, False), (1, True)):
            failed = {"name": "exposure", "ok": False, "message": "Gambar terlalu gelap.",
                      **({"by_model": True} if by_model else {})}
            _return_as_dark(_processed_ktp(index, features, exposure=failed), officer)
        by_rules, by_model = sorted(learning.defect_verdicts(), key=lambda v: bool(v.rules_failed))[::-1]
    assert by_rules.rules_failed == {"exposure"} and not by_rules.passed_by_rules("dark")
    assert by_model.rules_failed == frozenset() and by_model.passed_by_rules("dark")


def _return_as_dark(slot, officer) -> None:
    from pengesahan.records.catalogue import RejectionTemplate
    from pengesahan.services.dossiers import review_slot

    dark = RejectionTemplate.get(RejectionTemplate.code == "gelap")
    review_slot(slot, accept=False, reason=dark.text, actor=officer, defect=dark.defect)


def test_the_models_are_trained_by_command_audited_shown_and_fail_the_next_dim_upload(
        app, client, make_user, login, measured):
    from pengesahan.cli.scans import model_group
    from pengesahan.records.audit import AuditEntry
    from pengesahan.records.dossiers import Upload
    from pengesahan.services import learning, scans
    from pengesahan.storage import file_store

    settings = app.config["SETTINGS"]
    officer, password = make_user("pelaksana")
    login(officer.username, password)
    runner = CliRunner()
    assert learning.DEFECTS_NOT_YET_TRAINED in client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        too_few = runner.invoke(model_group, ["train"])
    assert too_few.exit_code == 1 and learning.DEFECTS_NOT_YET_TRAINED in too_few.output

    with db.connection_context():
        _judge(measured, officer)
    with app.app_context():
        trained = runner.invoke(model_group, ["train"])
    # The type model has too few accepted documents with text; the defect models are enough.
    assert trained.exit_code == 0, trained.output
    assert learning.NOT_YET_TRAINED in trained.output and "Terlalu gelap: dari" in trained.output
    quality = learning.defect_models_quality(settings)
    dark = quality.defects["dark"]
    assert set(quality.defects) == {"dark"} and (dark.positives, dark.negatives) == (RETURNED, ACCEPTED)
    assert dark.has_say and dark.false_alarms <= 0.02 and dark.missed_by_rules == RETURNED
    with db.connection_context():
        entry = AuditEntry.get((AuditEntry.action == "model.retrain") & (AuditEntry.subject == "model:defects"))
        assert entry.details["defects"]["dark"]["positives"] == RETURNED
    page = client.get("/admin/").get_data(as_text=True)
    assert "data-defect-models" in page and learning.describe_defect_models(quality)[0] in page

    # A new dim card: the exposure rule passes it, the office's model does not.
    data = png(_capture(777, 0.72))
    with db.connection_context():
        slot = _processed_ktp(950, None)
        upload = Upload.get(Upload.slot == slot)
        Upload.update(state="queued", checks=None, sha256=file_store(settings).put(data),
                      quality_features=None).where(Upload.id == upload.id).execute()
        assert scans.process_upload(settings, upload.id) == "done"
        stored = Upload.get_by_id(upload.id)
    exposure = next(c for c in stored.checks if c["name"] == "exposure")
    assert not exposure["ok"] and exposure["message"].startswith("Model kantor menduga dokumen terlalu gelap")
    assert exposure["by_model"] is True  # its verdict will not count as the rules' own
    assert stored.quality_features["paper"] < min(f["paper"] for f in measured["accepted"])


@pytest.mark.slow
def test_the_daily_training_job_trains_the_defect_models_on_the_worker(app, settings, redis_url, make_user, measured):
    from rq import SimpleWorker

    from pengesahan.jobs.queue import TRAIN_TYPE_MODEL, enqueue, queue, redis_connection
    from pengesahan.services import learning

    officer, _ = make_user("pelaksana")
    with db.connection_context():
        _judge(measured, officer)
    job = enqueue("maintenance", TRAIN_TYPE_MODEL)
    SimpleWorker([queue("maintenance")], connection=redis_connection()).work(burst=True)
    job.refresh()
    assert job.is_finished, job.exc_info
    assert learning.defect_models_quality(settings).defects["dark"].positives == RETURNED
    assert learning.current_defect_models(settings) is not None


def test_upgrade_to_v16_keeps_room_for_the_image_numbers(app):
    from playhouse.migrate import SchemaMigrator, migrate

    from pengesahan.records.base import is_sqlite
    from pengesahan.records.schema import LATEST, SchemaVersion, upgrade

    with db.connection_context():
        migrator = SchemaMigrator.from_database(db.obj)
        migrate(migrator.drop_column("upload", "quality_features", **({"legacy": True} if is_sqlite() else {})))
        SchemaVersion.delete().where(SchemaVersion.version >= 16).execute()
        assert upgrade() == list(range(16, LATEST + 1))
        assert "quality_features" in {c.name for c in db.get_columns("upload")}
