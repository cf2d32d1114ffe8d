"""The demo TSA's rollover (by hand and in the yearly course of ``ltv renew``) and the lapse each
signed version records, which makes what is due one query.

The module has an installation and a demo PKI of its own: rolling the TSA over must not touch
the session's PKI. Tests run in order: the yearly rollover travels a year ahead and comes last
(a TSA certificate issued then is not valid yet when the clock comes back).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pengesahan.records.base import db
from signing.demo_pki import DemoPKI
from signing.sign import load_trust_roots
from tests.support.agreements import _pki_app, signed_agreement
from tests.support.signing import PASSPHRASE, free_port

time_machine = pytest.importorskip("time_machine", reason="time-machine tidak terpasang (pip install -e '.[test]')")


def _not_after(cert) -> datetime:
    return cert["tbs_certificate"]["validity"]["not_after"].native


@pytest.fixture(scope="module")
def own_pki_app(tmp_path_factory, redis_url):
    """An installation with a fresh demo PKI of its own, served from the installation's copy."""
    source = DemoPKI.create(tmp_path_factory.mktemp("pki-src") / "pki", f"http://127.0.0.1:{free_port()}", PASSPHRASE)
    apps = _pki_app(tmp_path_factory.mktemp("ltv-rollover"), redis_url, source)
    app = next(apps)
    with DemoPKI.open(app.config["SETTINGS"].demo_pki_dir).serve():
        yield app
    next(apps, None)




def test_rollover_keeps_every_earlier_certificate_and_adds_a_root_only_when_needed(tmp_path):
    pki = DemoPKI.create(tmp_path / "pki", "http://127.0.0.1:9", PASSPHRASE)
    labels = ("root", "issuing-ca", "tsa", "kepala-dinas")
    before = {label: pki.certificate(label).dump() for label in labels}
    assert not pki.tsa_rollover_due() and pki.tsa_rollover_due(pki.created_at + timedelta(days=366))

    # Four years on, the first root still outlives a new five-year TSA certificate.
    second = pki.rollover_tsa(pki.created_at + timedelta(days=1460))
    assert second.tsa_label == "tsa-2" and second.root_labels == ("root",)
    assert second.tsa_certificate().issuer == second.certificate("root").subject
    assert _not_after(second.tsa_certificate()) == pki.created_at + timedelta(days=1460 + 1826)
    assert second == DemoPKI.open(pki.directory)

    # Nine years on it would not: a new root generation issues it, and both roots are trusted.
    third = second.rollover_tsa(pki.created_at + timedelta(days=3270))
    assert (third.tsa_label, third.root_labels) == ("tsa-3", ("root", "root-2"))
    root2 = third.certificate("root-2")
    assert root2.subject != third.certificate("root").subject and root2.self_signed == "maybe"
    assert third.tsa_certificate().issuer == root2.subject
    assert _not_after(root2) > _not_after(third.tsa_certificate())
    assert [r.dump() for r in load_trust_roots([third.trust_root_path])] == [
        third.certificate("root").dump(), root2.dump()]
    assert {label: third.certificate(label).dump() for label in labels} == before
    assert third.certificate("tsa-2").dump() == second.tsa_certificate().dump()


def test_rollover_by_hand_then_signing_uses_the_new_certificate(own_pki_app):
    from pengesahan.records.audit import AuditEntry
    from pengesahan.services.verification import verify_document
    from pengesahan.storage import file_store

    settings = own_pki_app.config["SETTINGS"]
    with db.connection_context():
        first = signed_agreement(settings)
    result = own_pki_app.test_cli_runner().invoke(args=["pki", "rollover-tsa"])
    assert result.exit_code == 0 and "Sertifikat TSA baru (tsa-2)" in result.output, result.output
    assert "Root CA generasi baru" not in result.output
    pki = DemoPKI.open(settings.demo_pki_dir)
    assert pki.tsa_label == "tsa-2"
    with db.connection_context():
        entry = AuditEntry.get(AuditEntry.action == "pki.tsa_rollover")
        assert (entry.actor, entry.subject) == ("cli", "tsa:tsa-2")
        # The process's signing services follow the rollover (the old TSA token is not reused),
        # and the server answers with the new certificate.
        second = signed_agreement(settings)
        from pengesahan.records.agreements import SignedVersion

        (version,) = SignedVersion.select().where(SignedVersion.agreement == second.id)
        assert version.lapses_at == _not_after(pki.tsa_certificate())
        assert version.lapses_at > SignedVersion.get(SignedVersion.agreement == first.id).lapses_at
        report = verify_document(settings, file_store(settings).read(second.signed_sha256))
        assert report.indication.indication == "TOTAL_PASSED", report.verdict
        assert verify_document(settings, file_store(settings).read(first.signed_sha256)).ok


def test_due_is_one_query_and_files_not_due_are_not_read(own_pki_app):
    from pengesahan.records.agreements import Agreement, SignedVersion
    from pengesahan.services import ltv

    settings = own_pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement = signed_agreement(settings)
        version = SignedVersion.get(SignedVersion.sha256 == agreement.signed_sha256)
        lapses_at = version.lapses_at
        assert lapses_at is not None and version.reason == "signed"
        days_left = (lapses_at - datetime.now(UTC)).days
        assert ltv.due_count(settings, days_left - 1) == 0
        assert ltv.due_count(settings, days_left + 1) >= 1
        assert ltv.recorded_due_count() == ltv.record_due_count(settings) == ltv.due_count(settings)

        # A file whose recorded lapse is far off is not read: point the agreement at a file
        # the store does not hold; it is still "not due", with the recorded date.
        missing = "0" * 64
        SignedVersion.update(sha256=missing).where(SignedVersion.id == version.id).execute()
        Agreement.update(signed_sha256=missing).where(Agreement.id == agreement.id).execute()
        (outcome,) = ltv.renew(settings, before_days=0, agreement_ids=[agreement.id])
        assert (outcome.state, outcome.lapses_at) == (ltv.NOT_DUE, lapses_at), outcome.message
        # Once its lapse is unknown, it counts as due and the run reads it (and says it cannot).
        SignedVersion.update(lapses_at=None).where(SignedVersion.id == version.id).execute()
        assert ltv.due_count(settings, 0) >= 1
        (outcome,) = ltv.renew(settings, before_days=0, agreement_ids=[agreement.id])
        assert outcome.state == ltv.FAILED
        SignedVersion.update(sha256=agreement.signed_sha256, lapses_at=lapses_at).where(
            SignedVersion.id == version.id).execute()
        Agreement.update(signed_sha256=agreement.signed_sha256).where(Agreement.id == agreement.id).execute()


def test_upgrade_to_v8_records_the_lapse_on_the_next_run(own_pki_app):
    from playhouse.migrate import SchemaMigrator, migrate

    from pengesahan.records.agreements import SignedVersion
    from pengesahan.records.schema import SchemaVersion, upgrade
    from pengesahan.services import ltv

    settings = own_pki_app.config["SETTINGS"]
    table = SignedVersion._meta.table_name
    with db.connection_context():
        agreement = signed_agreement(settings)
        expected = SignedVersion.get(SignedVersion.sha256 == agreement.signed_sha256).lapses_at
        # As before v8: no lapse column, and no version for a PP signed after v6.
        SignedVersion.delete().where(SignedVersion.agreement == agreement.id).execute()
        migrator = SchemaMigrator.from_database(db.obj)
        for index in db.get_indexes(table):
            if "lapses_at" in index.columns:
                migrate(migrator.drop_index(table, index.name))
        migrate(migrator.drop_column(table, "lapses_at"))
        SchemaVersion.delete().where(SchemaVersion.version >= 8).execute()

        assert 8 in upgrade()
        assert "lapses_at" in {column.name for column in db.get_columns(table)}
        assert any("lapses_at" in index.columns for index in db.get_indexes(table))
        version = SignedVersion.get(SignedVersion.sha256 == agreement.signed_sha256)
        assert (version.reason, version.lapses_at) == ("signed", None)
        assert ltv.due_count(settings, 0) >= 1  # unknown counts as due

        (outcome,) = ltv.renew(settings, before_days=0, agreement_ids=[agreement.id])
        assert (outcome.state, outcome.lapses_at) == (ltv.NOT_DUE, expected), outcome.message
        assert SignedVersion.get_by_id(version.id).lapses_at == expected


def test_renewal_rolls_the_tsa_over_once_a_year(own_pki_app):
    settings = own_pki_app.config["SETTINGS"]
    runner = own_pki_app.test_cli_runner()
    issued = DemoPKI.open(settings.demo_pki_dir).tsa_issued_at()
    with time_machine.travel(issued + timedelta(days=200)):
        early = runner.invoke(args=["ltv", "renew", "--before", "0"])
    assert early.exit_code == 0 and "Sertifikat TSA baru" not in early.output, early.output
    with time_machine.travel(issued + timedelta(days=370)):
        dry = runner.invoke(args=["ltv", "renew", "--before", "0", "--dry-run"])
        assert "Sertifikat TSA baru" not in dry.output, dry.output
        late = runner.invoke(args=["ltv", "renew", "--before", "0"])
        again = runner.invoke(args=["ltv", "renew", "--before", "0"])
    assert late.exit_code == 0 and "Sertifikat TSA baru (tsa-3)" in late.output, late.output
    assert "Sertifikat TSA baru" not in again.output, again.output
    assert DemoPKI.open(settings.demo_pki_dir).tsa_label == "tsa-3"


def test_rollover_is_refused_for_another_tsa(own_pki_app):
    from dataclasses import replace

    from pengesahan.errors import SigningError
    from pengesahan.services import pki

    other = replace(own_pki_app.config["SETTINGS"], tsa_url="http://127.0.0.1:9/tsa")
    with pytest.raises(SigningError, match="TSA_URL"):
        pki.rollover_tsa(other, "cli")
    assert pki.ensure_current_tsa(other, at=datetime.now(UTC) + timedelta(days=3000)) is None
