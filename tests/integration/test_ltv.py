"""Long-term upkeep of signed PPs (PAdES-LTA renewal) with the demo PKI's real TSA, OCSP and
CRLs: new versions, the register, downloads, the command, the daily job, and validation years
ahead. The tests share one installation and run in order (the first checks the migration
before any renewal exists)."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import url_for
from pyhanko.pdf_utils.reader import PdfFileReader

from pengesahan.records.base import db
from tests.support.agreements import signed_agreement


def _document_timestamps(data: bytes) -> int:
    return len(PdfFileReader(io.BytesIO(data)).embedded_timestamp_signatures)


def _verify_at(settings, data: bytes, moment=None):
    from pengesahan.services.verification import registered_agreement, sk_pendelegasian, verifier

    return verifier(settings).verify(data, registry_lookup=registered_agreement,
                                     delegation_lookup=sk_pendelegasian, now=moment)


def test_upgrade_to_v6_records_one_version_per_signed_agreement(pki_app):
    from pengesahan.records.agreements import Agreement, SignedVersion
    from pengesahan.records.schema import LATEST, SchemaVersion, current_version, upgrade

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        signed = signed_agreement(settings)
        db.drop_tables([SignedVersion])
        SchemaVersion.delete().where(SchemaVersion.version >= 6).execute()
        assert upgrade() == list(range(6, LATEST + 1)) and current_version() == LATEST
        agreements = Agreement.select().where(Agreement.signed_sha256.is_null(False))
        assert agreements.count() >= 1
        for agreement in agreements:
            (version,) = agreement.versions
            assert (version.sha256, version.reason) == (agreement.signed_sha256, "signed")
            assert version.level == "B-LTA" and version.made_at == agreement.signed_at
            assert version.lapses_at is None  # filled in by the next renewal run, which reads the file
        assert SignedVersion.get(SignedVersion.agreement == signed.id).sha256 == signed.signed_sha256
        assert upgrade() == []


def test_command_lists_then_renews_every_signed_pp(pki_app):
    from pengesahan.records.agreements import Agreement

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement = signed_agreement(settings)
        before = agreement.signed_sha256
    runner = pki_app.test_cli_runner()
    listed = runner.invoke(args=["ltv", "renew", "--before", "36500", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert f"{agreement.number} (id {agreement.id}): akan diperbarui" in listed.output
    with db.connection_context():
        assert Agreement.get_by_id(agreement.id).signed_sha256 == before
    result = runner.invoke(args=["ltv", "renew", "--before", "36500"])
    assert result.exit_code == 0, result.output
    assert f"{agreement.number} (id {agreement.id}): diperbarui" in result.output
    with db.connection_context():
        assert Agreement.get_by_id(agreement.id).signed_sha256 != before
    # Renewing again with the same TSA certificate adds nothing: refused, and the command says so.
    again = runner.invoke(args=["ltv", "renew", "--before", "36500", "--agreement", str(agreement.id)])
    assert again.exit_code == 1 and "TSA perlu sertifikat baru" in again.output, again.output


def test_renewal_makes_a_new_version_that_verifies_and_is_served(pki_app):
    from pengesahan.records.agreements import Agreement, SignedVersion
    from pengesahan.records.audit import AuditEntry, verify_chain
    from pengesahan.services import ltv
    from pengesahan.services.verification import registered_agreement, verify_document
    from pengesahan.storage import file_store
    from pengesahan.web.files import cpmi_download_token

    settings = pki_app.config["SETTINGS"]
    store = file_store(settings)
    with db.connection_context():
        agreement = signed_agreement(settings)
        old_sha = agreement.signed_sha256
        old = store.read(old_sha)
        (outcome,) = ltv.renew(settings, before_days=36500, agreement_ids=[agreement.id])
        assert outcome.state == ltv.RENEWED, outcome.message
        agreement = Agreement.get_by_id(agreement.id)
        new_sha = agreement.signed_sha256
        assert new_sha == outcome.sha256 != old_sha
        new = store.read(new_sha)
        assert new.startswith(old) and _document_timestamps(new) == _document_timestamps(old) + 1
        versions = list(agreement.versions.order_by(SignedVersion.id))
        assert [(v.sha256, v.reason) for v in versions] == [(old_sha, "signed"), (new_sha, "ltv-renewal")]
        assert versions[1].level == "B-LTA" and versions[1].made_at >= versions[0].made_at

        # Both files are the office's; the older one says that a newer one exists.
        older, newest = registered_agreement(old_sha), registered_agreement(new_sha)
        assert (older.sha256, older.agreement_id) == (old_sha, agreement.id) and "versi lama" in older.status_label
        assert (newest.sha256, newest.agreement_id) == (new_sha, agreement.id)
        assert "versi lama" not in newest.status_label
        report = verify_document(settings, new)
        assert report.ok and report.indication.indication == "TOTAL_PASSED", report.verdict
        assert report.registry.registered and len(report.timestamps) == 2
        old_report = verify_document(settings, old)
        assert old_report.ok and old_report.registry.registered
        assert "versi lama" in old_report.registry.message

        entry = AuditEntry.get((AuditEntry.action == "agreement.ltv_renew")
                               & (AuditEntry.subject == f"agreement:{agreement.id}"))
        assert entry.actor == "sistem"
        assert (entry.details["previous_sha256"], entry.details["sha256"]) == (old_sha, new_sha)
        assert verify_chain().ok
    with pki_app.test_request_context():
        link = url_for("files.cpmi_download", agreement_id=agreement.id, token=cpmi_download_token(agreement))
    response = pki_app.test_client().get(link)
    assert response.status_code == 200 and response.data == new

    # One renewal with the same TSA certificate cannot carry the file further: refused, unchanged.
    with db.connection_context():
        (refused,) = ltv.renew(settings, before_days=36500, agreement_ids=[agreement.id])
        assert refused.state == ltv.FAILED and "TSA perlu sertifikat baru" in refused.message
        assert Agreement.get_by_id(agreement.id).signed_sha256 == new_sha
        assert agreement.versions.count() == 2


def test_a_pp_not_due_is_left_alone(pki_app):
    from pengesahan.records.agreements import Agreement, SignedVersion
    from pengesahan.records.audit import AuditEntry
    from pengesahan.services import ltv

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement = signed_agreement(settings)
        outcomes = ltv.renew(settings, before_days=0)
        mine = next(o for o in outcomes if o.agreement_id == agreement.id)
        assert mine.state == ltv.NOT_DUE and mine.lapses_at is not None
        assert all(o.state == ltv.NOT_DUE for o in outcomes)
        assert Agreement.get_by_id(agreement.id).signed_sha256 == agreement.signed_sha256
        (version,) = SignedVersion.select().where(SignedVersion.agreement == agreement.id)
        assert (version.sha256, version.reason, version.lapses_at) == (agreement.signed_sha256, "signed",
                                                                       mine.lapses_at)
        assert not AuditEntry.select().where((AuditEntry.action == "agreement.ltv_renew")
                                             & (AuditEntry.subject == f"agreement:{agreement.id}")).exists()
        assert ltv.due_count(settings, 0) == 0
        assert ltv.due_count(settings, 36500) >= 1
        # The dashboard reads the figure the daily renewal recorded, never the files themselves.
        assert ltv.record_due_count(settings) == ltv.due_count(settings) == ltv.recorded_due_count()


def test_validation_years_ahead(pki_app, demo_pki):
    """The renewed file still validates a few years ahead (before the TSA certificate expires);
    a PP never renewed, validated after its signing CA expired, is left open (INDETERMINATE:
    nothing proves when it was signed any more), never declared forged (TOTAL_FAILED)."""
    from pengesahan.services import ltv
    from pengesahan.storage import file_store

    settings = pki_app.config["SETTINGS"]
    tsa_expiry = demo_pki.certificate("tsa")["tbs_certificate"]["validity"]["not_after"].native
    ca_expiry = demo_pki.certificate("issuing-ca")["tbs_certificate"]["validity"]["not_after"].native
    with db.connection_context():
        renewed_one, kept_one = signed_agreement(settings), signed_agreement(settings)
        (outcome,) = ltv.renew(settings, before_days=36500, agreement_ids=[renewed_one.id])
        assert outcome.state == ltv.RENEWED and outcome.lapses_at == tsa_expiry, outcome.message
        renewed = file_store(settings).read(outcome.sha256)
        unrenewed = file_store(settings).read(kept_one.signed_sha256)
        ahead = tsa_expiry - timedelta(days=30)
        assert ahead - demo_pki.created_at > timedelta(days=3 * 365)
        report = _verify_at(settings, renewed, ahead)
        assert report.ok and report.indication.indication == "TOTAL_PASSED", report.verdict
        late = _verify_at(settings, unrenewed, ca_expiry + timedelta(days=30))
        assert late.indication.indication == "INDETERMINATE", late.verdict
        assert late.status == "indeterminate"


def test_the_daily_renewal_is_queued_once_and_runs(pki_app):
    from rq import SimpleWorker

    from pengesahan.jobs import queue
    from pengesahan.jobs.worker import _LTV_RENEWAL_KEY, schedule_ltv_renewal

    connection = queue.redis_connection()
    connection.delete(_LTV_RENEWAL_KEY)
    maintenance = queue.queue("maintenance", connection)
    maintenance.empty()
    try:
        assert schedule_ltv_renewal(connection) is True
        assert schedule_ltv_renewal(connection) is False  # a second worker, the same day
        assert 0 < connection.ttl(_LTV_RENEWAL_KEY) <= 24 * 3600
        (job,) = maintenance.jobs
        assert job.func_name == queue.RENEW_LTV
        SimpleWorker([maintenance], connection=connection).work(burst=True)
        job.refresh()
        assert job.get_status() == "finished", job.latest_result()
        outcomes = job.return_value()
        assert outcomes and all(o["state"] == "not_due" for o in outcomes)  # 180 days: none due
    finally:
        connection.delete(_LTV_RENEWAL_KEY)
        maintenance.empty()
