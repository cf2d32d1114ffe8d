"""Demo data for ``make run`` and ``flask --app app demo``: users of every role, the office's
officials with keys from a local demo PKI, an SK pendelegasian, a P3MI with an API token and
dossiers with sample scans. Idempotent: running it again changes nothing already there."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import tempfile
from pathlib import Path

from bench import corpus
from pengesahan.config import Settings
from pengesahan.errors import SigningError
from pengesahan.records.agreements import Agreement, Delegation
from pengesahan.records.base import now
from pengesahan.records.dossiers import DocumentSlot, Dossier
from pengesahan.records.people import ApiToken, Candidate, Company, Official, User
from pengesahan.services import delegations, ratification
from pengesahan.services.dossiers import add_upload, open_dossier, review_slot, verify_dossier
from pengesahan.storage import file_store
from pengesahan.workflow import AgreementStatus, DossierStatus, SlotStatus
from signing.demo_pki import OFFICIAL_ALIASES, DemoPKI

# username, role, full name; passwords are generated once and kept in credentials.json.
DEMO_USERS = [
    ("admin", "admin", "Administrator Sistem"),
    ("pelaksana", "pelaksana", "Rina Pelaksana"),
    ("kabid", "kabid", OFFICIAL_ALIASES["kabid-ptk"]),
    ("sekdis", "sekdis", OFFICIAL_ALIASES["sekretaris-dinas"]),
    ("kadin", "kadin", OFFICIAL_ALIASES["kepala-dinas"]),
    ("p3mi", "p3mi", "Staf PT Maju Sejahtera Mandiri"),
]

# alias in the demo PKI, position, NIP, rank
DEMO_OFFICIALS = [
    ("kepala-dinas", "kepala_dinas", "197607171995111001", "Pembina Tk. I / IV b"),
    ("sekretaris-dinas", "sekretaris_dinas", "198003122005012004", "Pembina / IV a"),
    ("kabid-ptk", "kepala_bidang_ptk", "198209152008011003", "Penata Tk. I / III d"),
]

ROLE_OFFICIAL = {"kadin": "kepala-dinas", "sekdis": "sekretaris-dinas", "kabid": "kabid-ptk"}

DEMO_SK_NUMBER = "800/017/DISNAKER/2026"


def _passphrase(settings: Settings) -> str:
    """The demo keys' passphrase, generated once into a file only the service account reads."""
    path = settings.keys_dir / "demo-passphrase"
    if path.exists():
        return path.read_text().strip()
    settings.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(18)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def ensure_demo_pki(settings: Settings) -> DemoPKI:
    """The demo PKI of this installation (created on first use)."""
    return DemoPKI.create(settings.demo_pki_dir, f"http://127.0.0.1:{settings.demo_pki_port}",
                          _passphrase(settings))


def start_pki_service(settings: Settings):
    """Serve the demo PKI's OCSP, CRL and TSA on loopback; None when a real TSA is configured."""
    if settings.tsa_url:
        return None
    return ensure_demo_pki(settings).serve()


def seed_demo(settings: Settings, out_dir: Path) -> dict:
    """Create the demo records that are missing and write ``out_dir/credentials.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cred_path = out_dir / "credentials.json"
    previous = json.loads(cred_path.read_text()) if cred_path.exists() else {}
    passwords = {u["username"]: u["password"] for u in previous.get("users", [])}
    pki = ensure_demo_pki(settings)

    officials = {}
    for alias, position, nip, rank in DEMO_OFFICIALS:
        officials[alias], _ = Official.get_or_create(
            nip=nip, defaults={"name": OFFICIAL_ALIASES[alias], "rank": rank, "position": position,
                               "key_alias": alias})
    if not Delegation.select().where(Delegation.number == DEMO_SK_NUMBER).exists():
        start = now() - dt.timedelta(days=30)
        Delegation.create(
            number=DEMO_SK_NUMBER, date=start.date(), delegating=officials["kepala-dinas"],
            delegated=officials["sekretaris-dinas"], scope="perjanjian_penempatan,rekomendasi_paspor",
            valid_from=start, valid_until=start + dt.timedelta(days=365))

    company, _ = Company.get_or_create(
        name="PT Maju Sejahtera Mandiri",
        defaults={"nib": "9120301234567", "sip2mi_number": "B.123/KA/IX/2025",
                  "address": "Jl. Pangeran Antasari No. 12, Banjarmasin", "phone": "0511-3300123"})
    token = previous.get("p3mi_token")
    if not token:
        _, token = ApiToken.issue(company, "Token demo")

    users = []
    for username, role, full_name in DEMO_USERS:
        password = passwords.get(username) or secrets.token_urlsafe(12)
        user = User.get_or_none(User.username == username)
        if user is None:
            user = User(username=username, role=role, full_name=full_name,
                        nip="199103142019032011" if role == "pelaksana" else "",
                        company=company if role == "p3mi" else None,
                        official=officials[ROLE_OFFICIAL[role]] if role in ROLE_OFFICIAL else None)
            user.set_password(password)
            user.save()
        users.append({"username": username, "password": password, "role": role})

    officer = User.get(User.username == "pelaksana")
    _seed_dossiers(settings, company, officer)
    _confirm_demo_sk(settings)
    _seed_signed_agreements(settings, company, officer, out_dir)
    credentials = {
        "users": users,
        "p3mi_token": token,
        "signing_key_passphrase": _passphrase(settings),
        "trust_root": str(pki.trust_root_path),
        "note": "Data demo. Jangan dipakai di lingkungan produksi.",
    }
    fd = os.open(cred_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(credentials, fh, indent=2, ensure_ascii=False)
    (out_dir / "trust-root.pem").write_bytes(pki.trust_root_path.read_bytes())
    return credentials


DEMO_CANDIDATES = [
    dict(nik="6309055708980002", name="SITI AMINAH", sex="P", birth_place="Tanjung",
         birth_date=dt.date(1998, 8, 17), religion="Islam", marital_status="belum_kawin",
         address="Jl. Tanjung Selatan RT 03, Tanjung", phone="081234567801",
         kk_number="6309050101090007", father_name="Ahmad Yani", mother_name="Fatimah"),
    dict(nik="6309021203950001", name="RUDI HARTONO", sex="L", birth_place="Kelua",
         birth_date=dt.date(1995, 3, 12), religion="Islam", marital_status="kawin",
         address="Desa Pasar Panas RT 01, Kelua", phone="081234567802",
         kk_number="6309020202150003", father_name="Hartono", mother_name="Suriani"),
]


def _seed_dossiers(settings: Settings, company: Company, officer: User) -> None:
    store = file_store(settings)
    for fields in DEMO_CANDIDATES:
        candidate, created = Candidate.get_or_create(nik=fields["nik"], defaults=fields)
        if not created and Dossier.select().where(Dossier.candidate == candidate).exists():
            continue
        dossier = open_dossier(candidate, company, actor=officer, destination_country="Taiwan",
                               employer_name="Chen Family Household", job_title="Pengasuh lansia")
        for slot_type, data, media_type in _sample_scans():
            slot = dossier.slots.where(DocumentSlot.doc_type == slot_type, DocumentSlot.owner == "cpmi").first()
            if slot is None:
                continue
            key = store.put(data)
            add_upload(slot, sha256=key, media_type=media_type, size=len(data),
                       original_name=f"contoh-{slot_type}", actor=officer)


def _sample_scans() -> list[tuple[str, bytes, str]]:
    """A few generated scans (KTP, Kartu Keluarga, AK.1) from the synthetic corpus."""
    with tempfile.TemporaryDirectory() as tmp:
        samples = corpus.generate(Path(tmp), per_type=1, seed=2026, pdf_per_type=0,
                                  types=("ktp", "kartu_keluarga", "ak1"))
        wanted = {"ktp", "kartu_keluarga", "ak1"}
        scans = []
        for sample in samples:
            if sample.doc_type in wanted and sample.path.suffix.lower() in (".png", ".jpg", ".jpeg"):
                media = "image/png" if sample.path.suffix.lower() == ".png" else "image/jpeg"
                scans.append((sample.doc_type, sample.path.read_bytes(), media))
                wanted.discard(sample.doc_type)
        return scans


SIGNED_SAMPLES = [
    ("pp-kepala-dinas.pdf", "kadin", dict(nik="6309014506960003", name="NUR HIDAYAH", sex="P", birth_place="Tanjung",
                                          birth_date=dt.date(1996, 6, 5), address="Jl. Mabuun RT 02, Murung Pudak")),
    ("pp-delegasi.pdf", "sekdis", dict(nik="6309031109930002", name="BAYU SAPUTRA", sex="L", birth_place="Kelua",
                                       birth_date=dt.date(1993, 9, 11), address="Desa Binturu RT 04, Kelua")),
]


def _confirm_demo_sk(settings: Settings) -> None:
    """The Kepala Dinas confirms the demo SK with the demo key, as they would on their desk."""
    sk = Delegation.get(Delegation.number == DEMO_SK_NUMBER)
    if sk.confirmed_at is not None:
        return
    with _pki_service_running(settings):
        delegations.confirm(settings, sk, User.get(User.username == "kadin"), _passphrase(settings))


def _seed_signed_agreements(settings: Settings, company: Company, officer: User, out_dir: Path) -> None:
    """Two dossiers taken through the whole procedure: every document uploaded and accepted,
    the PP submitted, verified and signed (by the Kepala Dinas, and under the demo SK)."""
    missing = [(name, role, fields) for name, role, fields in SIGNED_SAMPLES if not (out_dir / name).exists()]
    if not missing:
        return
    scans = _all_sample_scans()
    with _pki_service_running(settings):
        for name, role, fields in missing:
            candidate, _ = Candidate.get_or_create(nik=fields["nik"], defaults=fields)
            dossier = Dossier.get_or_none(Dossier.candidate == candidate)
            if dossier is None:
                dossier = open_dossier(candidate, company, actor=officer, destination_country="Hong Kong",
                                       employer_name="Wong Household", job_title="Penata laksana rumah tangga")
            for slot in dossier.slots:
                if slot.status == SlotStatus.KOSONG:
                    data, media_type = scans[slot.doc_type]
                    if slot.doc_type == "perjanjian_penempatan":
                        data = _placement_draft(candidate, company, dossier)
                    store_key = file_store(settings).put(data)
                    add_upload(slot, sha256=store_key, media_type=media_type, size=len(data),
                               original_name=f"contoh-{slot.doc_type}", actor=officer)
                if DocumentSlot.get_by_id(slot.id).status == SlotStatus.DIAJUKAN:
                    review_slot(slot, accept=True, reason="", actor=officer)
            if Dossier.get_by_id(dossier.id).status == DossierStatus.DIAJUKAN:
                verify_dossier(dossier, actor=officer)
            agreement = dossier.agreements.first()
            if agreement is None:
                agreement = ratification.submit_agreement(
                    dossier, employer_name="Wong Household", destination_country="Hong Kong",
                    job_title="Penata laksana rumah tangga", contract_months=24,
                    actor=User.get(User.username == "p3mi"), settings=settings)
            if agreement.status == AgreementStatus.MENUNGGU_VERIFIKASI:
                agreement = ratification.verify_agreement(agreement, actor=officer)
            if agreement.status == AgreementStatus.TERVERIFIKASI:
                outcome = ratification.sign_agreement(settings, agreement.id, User.get(User.username == role),
                                                      _passphrase(settings))
                if not outcome.ok:
                    raise RuntimeError(f"Demo: penandatanganan gagal: {outcome.message}")
            (out_dir / name).write_bytes(ratification.signed_pdf(settings, Agreement.get_by_id(agreement.id)))


def _placement_draft(candidate: Candidate, company: Company, dossier: Dossier) -> bytes:
    """The P3MI's PP draft for this CPMI and placement: the signed demo PPs are followed by an
    agreement for the person and company on their ratification page, as every PP must be."""
    placement = corpus.Placement(
        name=candidate.name, nik=candidate.nik, born=f"{candidate.birth_place}, {candidate.birth_date:%d-%m-%Y}",
        company=company.name, country=dossier.destination_country, employer=dossier.employer_name,
        job_title=dossier.job_title)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pp.pdf"
        corpus.render_pdf(corpus.placement_agreement(placement, seed=candidate.id), path)
        return path.read_bytes()


def _all_sample_scans() -> dict[str, tuple[bytes, str]]:
    """One generated sample of every document type; the PP draft as a PDF with a text layer."""
    with tempfile.TemporaryDirectory() as tmp:
        samples = corpus.generate(Path(tmp), per_type=1, seed=2027, pdf_per_type=1)
        scans: dict[str, tuple[bytes, str]] = {}
        for sample in samples:
            if sample.path.suffix == ".pdf" and sample.doc_type == "perjanjian_penempatan":
                scans[sample.doc_type] = (sample.path.read_bytes(), "application/pdf")
            elif sample.path.suffix == ".png":
                scans.setdefault(sample.doc_type, (sample.path.read_bytes(), "image/png"))
        return scans


@contextlib.contextmanager
def _pki_service_running(settings: Settings):
    """The demo PKI's OCSP/CRL/TSA for the time of the block, unless already served (make run)."""
    service = None
    if not settings.tsa_url:
        pki = ensure_demo_pki(settings)
        try:
            service = pki.serve()
        except SigningError:
            service = None  # the port is taken: `make run` is serving it already
    try:
        yield
    finally:
        if service is not None:
            service.stop()
