"""An installation with the demo data and the session's demo PKI, and agreements ready to sign."""

from __future__ import annotations

import shutil

import pytest

from pengesahan.records.base import db
from tests.support.signing import PASSPHRASE, make_agreement_pdf


@pytest.fixture(scope="session")
def seeded_installation(tmp_path_factory, redis_url, demo_pki, pki_service):
    """The demo installation on the session's PKI, seeded once (seeding signs the sample PPs:
    most of what an installation costs); closed, so that modules can copy it."""
    root = tmp_path_factory.mktemp("seeded")
    installation = _pki_app(root, redis_url, demo_pki)
    next(installation)
    next(installation, None)
    return root


@pytest.fixture(scope="module")
def pki_app(tmp_path_factory, redis_url, demo_pki, seeded_installation):
    """An installation with the demo data, whose demo PKI is the session's (copied, same
    service port): the module's own copy of the seeded installation. Shared by the module: each
    test makes its own dossiers."""
    root = tmp_path_factory.mktemp("pki-app")
    shutil.copytree(seeded_installation, root, dirs_exist_ok=True)
    # The one path the copy holds: the trust root the demo's credentials point to.
    credentials = root / "demo" / "credentials.json"
    credentials.write_text(credentials.read_text().replace(str(seeded_installation), str(root)))
    yield from _installation(root, redis_url, demo_pki, seed=False)


def _pki_app(tmp_path, redis_url, demo_pki):
    """A new installation in ``tmp_path`` on a copy of ``demo_pki``, seeded with the demo data."""
    yield from _installation(tmp_path, redis_url, demo_pki, seed=True)


def _installation(tmp_path, redis_url, demo_pki, *, seed: bool):
    from app import create_app
    from pengesahan.cli.database import prepare_database
    from pengesahan.config import load_settings
    from pengesahan.jobs import queue

    port = demo_pki.service_url.rsplit(":", 1)[1]
    settings = load_settings({"DATA_DIR": str(tmp_path / "data"), "REDIS_URL": redis_url,
                              "SECRET_KEY": "test-secret", "DEMO_PKI_PORT": port})
    if seed:
        shutil.copytree(demo_pki.directory, settings.demo_pki_dir)
        (settings.keys_dir / "demo-passphrase").write_text(PASSPHRASE)
    queue.reset_connection()
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=settings)
    with app.app_context():
        prepare_database()
        if seed:
            from pengesahan import demo

            demo.seed_demo(settings, tmp_path / "demo")
    app.config["DEMO_OUT"] = tmp_path / "demo"
    db.close()
    yield app
    queue.reset_connection()


def user(username):
    from pengesahan.records.people import User

    return User.get(User.username == username)


def submitted_agreement(settings, company_name="PT Maju Sejahtera Mandiri"):
    """A verified dossier with the P3MI's draft PDF in its PP slot, submitted."""
    import datetime as dt

    from pengesahan import storage
    from pengesahan.records.dossiers import DocumentSlot, Dossier
    from pengesahan.records.people import Candidate, Company
    from pengesahan.services import ratification
    from pengesahan.services.dossiers import add_upload, open_dossier

    company = Company.get(Company.name == company_name)
    count = Candidate.select().count()
    candidate = Candidate.create(nik=f"63090557089800{count + 10:02d}", name=f"CPMI UJI {count}", sex="P",
                                 birth_place="Tanjung", birth_date=dt.date(1998, 8, 17), address="Tanjung")
    dossier = open_dossier(candidate, company, actor=None, destination_country="Taiwan")
    Dossier.update(status="terverifikasi").where(Dossier.id == dossier.id).execute()
    draft = make_agreement_pdf(pages=2)
    storage.file_store(settings).put(draft)
    import hashlib

    slot = dossier.slots.where(DocumentSlot.doc_type == "perjanjian_penempatan").get()
    add_upload(slot, sha256=hashlib.sha256(draft).hexdigest(), media_type="application/pdf", size=len(draft),
               original_name="pp.pdf", actor=None)
    return ratification.submit_agreement(dossier, employer_name="Chen Family", destination_country="Taiwan",
                                         job_title="Pengasuh lansia", contract_months=24,
                                         actor=user("p3mi")), draft


def signed_agreement(settings):
    """A PP submitted, verified by the pelaksana and signed B-LTA by the Kepala Dinas."""
    from pengesahan.records.agreements import Agreement
    from pengesahan.services import ratification
    from tests.support.signing import PASSPHRASE

    agreement, _ = submitted_agreement(settings)
    ratification.verify_agreement(agreement, actor=user("pelaksana"))
    outcome = ratification.sign_agreement(settings, agreement.id, user("kadin"), PASSPHRASE)
    assert outcome.ok and outcome.level == "B-LTA", outcome.message
    return Agreement.get_by_id(agreement.id)
