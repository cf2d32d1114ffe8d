"""The trust-boundary attacks that end in a signature, replayed with the demo PKI's real keys,
OCSP, CRL and time-stamping (one installation shared by the module)."""

from __future__ import annotations

import datetime as dt
import io

import pdfplumber
import pytest
from pypdf import PdfReader

from pengesahan.records.base import db
from tests.support.agreements import submitted_agreement, user
from tests.support.hostile_pdfs import draft_with_link_and_actions
from tests.support.signing import PASSPHRASE


@pytest.mark.slow
def test_a_signed_letter_uses_the_data_frozen_at_verification(pki_app):
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.people import Candidate
    from pengesahan.services import ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement, _ = submitted_agreement(settings)
        agreement = ratification.verify_agreement(agreement, actor=user("pelaksana"))
        frozen_name = agreement.verified_snapshot["cpmi"]["name"]
        # Whatever changes the profile afterwards (another door, a bug, an administrator)...
        Candidate.update(name="NAMA SESUDAH VERIFIKASI").where(
            Candidate.id == agreement.dossier.candidate_id).execute()
        outcome = ratification.sign_agreement(settings, agreement.id, user("kadin"), PASSPHRASE)
        assert outcome.ok, outcome.message
        signed = ratification.signed_pdf(settings, Agreement.get_by_id(agreement.id))
    with pdfplumber.open(io.BytesIO(signed)) as pdf:
        page = pdf.pages[0].extract_text()
    assert frozen_name in page and "NAMA SESUDAH VERIFIKASI" not in page

@pytest.mark.slow
def test_the_signed_pp_carries_no_active_content_from_the_draft(pki_app):
    from pengesahan.records.agreements import Agreement
    from pengesahan.records.dossiers import DocumentSlot, Upload
    from pengesahan.services import ratification
    from pengesahan.storage import file_store

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        agreement, _ = submitted_agreement(settings)
        # The stored draft replaced by one carrying a link, scripts and an attachment (as if
        # intake had let it through): signing must still clean it.
        draft = draft_with_link_and_actions()
        key = file_store(settings).put(draft)
        slot = agreement.dossier.slots.where(DocumentSlot.doc_type == "perjanjian_penempatan").get()
        Upload.update(sha256=key).where(Upload.slot == slot).execute()
        ratification.verify_agreement(agreement, actor=user("pelaksana"))
        outcome = ratification.sign_agreement(settings, agreement.id, user("kadin"), PASSPHRASE)
        assert outcome.ok, outcome.message
        record = Agreement.get_by_id(agreement.id)
        signed = ratification.signed_pdf(settings, record)
    reader = PdfReader(io.BytesIO(signed))
    for page in reader.pages[1:]:
        assert "/Annots" not in page and "/AA" not in page
    assert "/OpenAction" not in reader.trailer["/Root"] and "/Names" not in reader.trailer["/Root"]
    assert b"app.alert" not in signed and b"lampiran.exe" not in signed
    assert record.removed_content and any("tautan" in item for item in record.removed_content)

@pytest.mark.slow
def test_an_sk_entered_by_the_admin_authorises_nothing_until_the_kepala_dinas_confirms_it(pki_app):
    from pengesahan.errors import SigningRefused
    from pengesahan.records.agreements import Delegation
    from pengesahan.records.people import Official
    from pengesahan.services import delegations, ratification

    settings = pki_app.config["SETTINGS"]
    with db.connection_context():
        kabid_official = Official.get(Official.position == "kepala_bidang_ptk")
        start = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        sk = Delegation.create(number="800/099/ADMIN/2026", date=start.date(),
                               delegating=Official.get(Official.position == "kepala_dinas"),
                               delegated=kabid_official, scope="perjanjian_penempatan", valid_from=start)
        with pytest.raises(SigningRefused, match="belum dikonfirmasi"):
            ratification.signer_authority(user("kabid"))
        # Neither the administrator nor the delegate can confirm it for the Kepala Dinas.
        for impostor in ("admin", "kabid"):
            with pytest.raises(SigningRefused, match="Hanya"):
                delegations.confirm(settings, sk, user(impostor), PASSPHRASE)
        confirmed = delegations.confirm(settings, sk, user("kadin"), PASSPHRASE)
        assert confirmed.confirmed_at is not None and confirmed.confirmation_sha256
        assert ratification.signer_authority(user("kabid")).delegation.number == sk.number
