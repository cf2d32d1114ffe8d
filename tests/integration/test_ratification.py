"""Submission, verification and signing of placement agreements through the records, with the
demo PKI's real keys, OCSP, CRL and time-stamping."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from pengesahan.records.base import db
from tests.support.agreements import submitted_agreement, user
from tests.support.signing import PASSPHRASE


def _validate(data: bytes, demo_pki):
    from signing.sign import load_trust_roots

    reader = PdfFileReader(io.BytesIO(data))
    context = ValidationContext(trust_roots=list(load_trust_roots([demo_pki.trust_root_path])), allow_fetching=True)
    return validate_pdf_signature(reader.embedded_signatures[0], context)


def test_kepala_dinas_signs_a_verified_agreement(pki_app, demo_pki):
    from pengesahan.records.agreements import Agreement, Signature
    from pengesahan.records.audit import AuditEntry, verify_chain
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement, draft = submitted_agreement(settings)
        ratification.verify_agreement(agreement, actor=user("pelaksana"))
        outcome = ratification.sign_agreement(settings, agreement.id, user("kadin"), PASSPHRASE)
        assert outcome.ok, outcome.message
        assert outcome.level == "B-LTA"
        agreement = Agreement.get_by_id(agreement.id)
        assert agreement.status == "ditandatangani" and agreement.dossier.cpmi_id.startswith("CPMI-6309-")
        signed = ratification.signed_pdf(settings, agreement)
        signature = Signature.get(Signature.agreement == agreement)
        assert signature.delegation is None and signature.capacity == "Kepala Dinas"
        entry = AuditEntry.get((AuditEntry.action == "agreement.sign") & (AuditEntry.subject == f"agreement:{agreement.id}"))
        assert entry.details["sha256"] == agreement.signed_sha256
        assert verify_chain().ok
    status = _validate(signed, demo_pki)
    assert status.intact and status.valid and status.trusted
    reader = PdfFileReader(io.BytesIO(signed))
    # The ratification page comes first, the P3MI's two pages follow.
    assert len(reader.root["/Pages"]["/Kids"]) == 3 or reader.root["/Pages"]["/Count"] == 3


def test_sekretaris_signs_under_the_sk_and_says_so(pki_app, demo_pki):
    from pengesahan.records.agreements import Signature
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement, _ = submitted_agreement(settings)
        ratification.verify_agreement(agreement, actor=user("pelaksana"))
        outcome = ratification.sign_agreement(settings, agreement.id, user("sekdis"), PASSPHRASE)
        assert outcome.ok, outcome.message
        signature = Signature.get(Signature.agreement == agreement.id)
        assert signature.delegation.number == "800/017/DISNAKER/2026"
        assert signature.capacity.startswith("a.n. Kepala Dinas")
        signed = ratification.signed_pdf(settings, signature.agreement)
    status = _validate(signed, demo_pki)
    assert status.valid and status.trusted
    sig_dict = PdfFileReader(io.BytesIO(signed)).embedded_signatures[0].sig_object
    assert "800/017/DISNAKER/2026" in str(sig_dict["/Reason"])


def test_refusals_are_clear_and_audited(pki_app):
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.audit import AuditEntry
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement, _ = submitted_agreement(settings)
        # Not yet verified by an officer.
        outcome = ratification.sign_agreement(settings, agreement.id, user("kadin"), PASSPHRASE)
        assert not outcome.ok and "belum diverifikasi" in outcome.message
        ratification.verify_agreement(agreement, actor=user("pelaksana"))
        # The Kepala Bidang holds no SK.
        outcome = ratification.sign_agreement(settings, agreement.id, user("kabid"), PASSPHRASE)
        assert not outcome.ok and "SK" in outcome.message
        # A wrong passphrase.
        outcome = ratification.sign_agreement(settings, agreement.id, user("kadin"), "bukan-frasa-ini")
        assert not outcome.ok and "bukan-frasa-ini" not in outcome.message
        assert Agreement.get_by_id(agreement.id).status == "terverifikasi"
        refusals = [e.details["reason"] for e in AuditEntry.select().where(
            AuditEntry.action.in_(["agreement.sign_refused", "agreement.sign_failed"])
            & (AuditEntry.subject == f"agreement:{agreement.id}"))]
        assert len(refusals) == 3, refusals
        assert all("bukan-frasa-ini" not in r for r in refusals)


def test_revoked_sk_stops_the_delegate(pki_app):
    from pengesahan.records.agreements import Delegation
    from pengesahan.records.base import now
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        Delegation.update(revoked_at=now()).execute()
        try:
            agreement, _ = submitted_agreement(settings)
            ratification.verify_agreement(agreement, actor=user("pelaksana"))
            outcome = ratification.sign_agreement(settings, agreement.id, user("sekdis"), PASSPHRASE)
            assert not outcome.ok and "dicabut" in outcome.message
        finally:
            Delegation.update(revoked_at=None).execute()


def test_demo_writes_signed_sample_agreements(pki_app, demo_pki):
    out = pki_app.config["DEMO_OUT"]
    credentials = json.loads((out / "credentials.json").read_text())
    assert {u["role"] for u in credentials["users"]} == {"admin", "pelaksana", "kabid", "sekdis", "kadin", "p3mi"}
    assert (out / "trust-root.pem").read_bytes() == demo_pki.trust_root_path.read_bytes()
    from pengesahan.demo import SIGNED_SAMPLES
    from pengesahan.services import drafts

    for name, _role, person in SIGNED_SAMPLES:
        signed = (out / name).read_bytes()
        status = _validate(signed, demo_pki)
        assert status.intact and status.valid and status.trusted, name
        # The agreement behind the ratification page is this CPMI's, with the demo's P3MI.
        facts = drafts.draft_facts(drafts.read_draft_text(signed))
        assert set(facts.niks) == {person["nik"]}, name
        assert facts.terms["p3mi_name"] == "PT Maju Sejahtera Mandiri"
    delegated = PdfFileReader(io.BytesIO((out / "pp-delegasi.pdf").read_bytes())).embedded_signatures[0]
    assert "a.n. Kepala Dinas" in str(delegated.sig_object["/Reason"])


def test_batch_signing_on_a_worker_goes_on_after_a_bad_item(pki_app):
    from rq import SimpleWorker

    from pengesahan.jobs import queue
    from pengesahan.records.agreements import Agreement
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        good = []
        for _ in range(2):
            agreement, _ = submitted_agreement(settings)
            ratification.verify_agreement(agreement, actor=user("pelaksana"))
            good.append(agreement.id)
        unverified, _ = submitted_agreement(settings)
        ids = [good[0], unverified.id, good[1]]
        kadin = user("kadin")
    from rq.job import Job

    job = Job.fetch(ratification.start_batch_signing(settings, ids, kadin, PASSPHRASE),
                    connection=queue.redis_connection())
    assert PASSPHRASE not in repr(job.args)  # the job holds a reference, not even the seal
    # SimpleWorker runs the job in this process, where the session's PKI service thread lives.
    SimpleWorker(["signing"], connection=queue.redis_connection()).work(burst=True)
    job.refresh()
    # The sealed passphrase was taken out of Redis when the batch started.
    assert not queue.redis_connection().exists(f"pengesahan:sealed:{job.args[2]}")
    outcomes = job.return_value()
    assert [o["ok"] for o in outcomes] == [True, False, True]
    assert job.meta["done"] == 3
    with db.connection_context():
        assert {a.status for a in Agreement.select().where(Agreement.id.in_(good))} == {"ditandatangani"}
        assert Agreement.get_by_id(unverified.id).status == "menunggu_verifikasi"


def test_passport_recommendation_is_prepared_and_signed_the_same_way(pki_app, demo_pki):
    from pengesahan.records.agreements import Agreement
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement, _ = submitted_agreement(settings)
        ratification.verify_agreement(agreement, actor=user("pelaksana"))
        letter = Agreement.get((Agreement.dossier == agreement.dossier) & (Agreement.kind == "rekomendasi_paspor"))
        assert letter.status == "terverifikasi" and "REK-PASPOR" in letter.number
        outcome = ratification.sign_agreement(settings, letter.id, user("sekdis"), PASSPHRASE)
        assert outcome.ok, outcome.message
        signed = ratification.signed_pdf(settings, Agreement.get_by_id(letter.id))
        cpmi_id = Agreement.get_by_id(agreement.id).dossier.cpmi_id
    status = _validate(signed, demo_pki)
    assert status.intact and status.valid and status.trusted
    import pdfplumber

    with pdfplumber.open(io.BytesIO(signed)) as pdf:
        text = pdf.pages[0].extract_text()
    assert "Rekomendasi" in text or "REKOMENDASI" in text
    assert cpmi_id in text


def _verify_environment(settings) -> dict[str, str]:
    """What `flask verify` reads: it starts without the app, from the environment alone."""
    return {"DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url}


def test_verify_command_on_the_demo_agreements(pki_app, tmp_path):
    from pengesahan.cli.verify import verify_command

    out = pki_app.config["DEMO_OUT"]
    runner = CliRunner()
    environment = _verify_environment(pki_app.config["SETTINGS"])

    def verify(*args: str):
        return runner.invoke(verify_command, list(args), env=environment)

    result = verify("--json", str(out / "pp-delegasi.pdf"))
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["registry"]["registered"] and report["registry"]["agreement_number"].startswith("PP/")
    assert "Sekretaris" in json.dumps(report, ensure_ascii=False)
    tampered = bytearray((out / "pp-kepala-dinas.pdf").read_bytes())
    tampered[2000] ^= 0x01
    (tmp_path / "ubah.pdf").write_bytes(bytes(tampered))
    assert verify(str(tmp_path / "ubah.pdf")).exit_code == 1
    (tmp_path / "bukan.pdf").write_text("bukan PDF")
    assert verify(str(tmp_path / "bukan.pdf")).exit_code == 2


def test_flask_verify_runs_without_building_the_app(pki_app):
    """The command as scripts run it: `flask --app app verify`, found as a plugin command."""
    out = pki_app.config["DEMO_OUT"]
    environment = {**os.environ, **_verify_environment(pki_app.config["SETTINGS"])}
    environment.pop("PYTEST_CURRENT_TEST", None)
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "verify", str(out / "pp-delegasi.pdf")],
                          capture_output=True, text=True, env=environment, cwd=Path(__file__).resolve().parents[2],
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Dokumen asli dan tidak berubah sejak ditandatangani.")
    assert "PP/" in done.stdout


def test_cpmi_downloads_the_signed_pp_through_its_link_only(pki_app):
    from pengesahan.records.agreements import Agreement
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement, _ = submitted_agreement(settings)
        ratification.verify_agreement(agreement, actor=user("pelaksana"))
        assert ratification.sign_agreement(settings, agreement.id, user("kadin"), PASSPHRASE).ok
        agreement = Agreement.get_by_id(agreement.id)
        signed = ratification.signed_pdf(settings, agreement)
    with pki_app.test_request_context():
        from pengesahan.web.files import cpmi_download_url

        url = cpmi_download_url(agreement)
    path = url.removeprefix(settings.public_base_url)
    client = pki_app.test_client()
    response = client.get(path)  # no login
    assert response.status_code == 200 and response.data == signed
    assert client.get(path[:-1] + ("0" if path[-1] != "0" else "1")).status_code == 404
    assert client.get(path.replace(f"/pp/{agreement.id}/", f"/pp/{agreement.id + 1}/")).status_code == 404


def test_the_stamp_shows_the_signing_time_in_the_office_zone(pki_app):
    """The stamp and the ratification page tell the same day: the time is printed in WITA."""
    from pypdf import PdfReader

    from pengesahan.records.agreements import Agreement
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement, _ = submitted_agreement(settings)
        ratification.verify_agreement(agreement, actor=user("pelaksana"))
        assert ratification.sign_agreement(settings, agreement.id, user("kadin"), PASSPHRASE).ok
        signed = ratification.signed_pdf(settings, Agreement.get_by_id(agreement.id))
    widget = next(a.get_object() for a in PdfReader(io.BytesIO(signed)).pages[0]["/Annots"]
                  if a.get_object().get("/FT") == "/Sig")
    appearance = widget["/AP"]["/N"].get_object()
    text = appearance.get_data() + b"".join(
        x.get_object().get_data() for x in appearance["/Resources"]["/XObject"].values()
        if hasattr(x.get_object(), "get_data"))
    assert b"WITA" in text and b"UTC" not in text
