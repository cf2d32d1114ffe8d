"""Ratifying a placement agreement: submission by the P3MI, the officer's verification, and the
signature by the Kepala Dinas or an SK-backed delegate.

This module joins the records with the pure signing package: it loads what the rules need,
calls ``signing.*``, stores the result once and writes the records and the audit trail. The web
views and the queue jobs call it; nothing here knows about HTTP.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from rq.exceptions import NoSuchJobError
from rq.job import Job

from pengesahan import workflow
from pengesahan.config import Settings, zone_label
from pengesahan.errors import Conflict, ServiceError, SigningError, SigningRefused, ValidationFailed
from pengesahan.events import Event, fire
from pengesahan.jobs.queue import SIGN_BATCH, enqueue, redis_connection
from pengesahan.records import audit
from pengesahan.records.agreements import Agreement, Delegation, Signature, SignedVersion
from pengesahan.records.base import now, write_transaction
from pengesahan.records.catalogue import LetterTemplate, Setting
from pengesahan.records.dossiers import DocumentSlot, Dossier
from pengesahan.records.people import User
from pengesahan.services import dossiers, drafts
from pengesahan.services.cpmi_id import format_cpmi_id
from pengesahan.services.ltv import lapse_of
from pengesahan.services.uploads import enqueue_processing, store_upload, take_in
from pengesahan.storage import file_store
from pengesahan.workflow import AgreementStatus, DossierStatus
from signing.delegation import SigningAuthority, authorise

if TYPE_CHECKING:
    from signing.assemble import AgreementData

log = logging.getLogger(__name__)

#: How long a passphrase handed to the worker for a batch stays usable.
SEALED_PASSPHRASE_TTL = 15 * 60


# --- submission and verification -------------------------------------------------------------


def _next_number(pattern: str, year: int, kind: str = "perjanjian_penempatan") -> str:
    seq = Agreement.select().where((Agreement.kind == kind) & (
        Agreement.submitted_at >= dt.datetime(year, 1, 1, tzinfo=dt.UTC))).count() + 1
    while True:
        number = pattern.format(seq=seq, year=year)
        if not Agreement.select().where(Agreement.number == number).exists():
            return number
        seq += 1


def submit_agreement(dossier: Dossier, *, employer_name: str | None, destination_country: str | None,
                     job_title: str | None, contract_months: int, actor: User,
                     settings: Settings | None = None, override_reason: str = "") -> Agreement:
    """The P3MI submits the placement agreement uploaded in the dossier's PP slot.

    Terms left empty are taken from the dossier; one known to neither is a validation error.
    Given ``settings`` (to read the stored draft), a draft naming another CPMI or country than
    the dossier is refused with a Conflict listing the differences, and nothing is recorded,
    unless an officer overrides it with a reason (kept with the differences in the audit log).
    """
    given = {"employer_name": employer_name, "destination_country": destination_country, "job_title": job_title}
    terms = {name: (value or "").strip() or getattr(dossier, name) for name, value in given.items()}
    missing = {name: ["Wajib diisi (berkas juga tidak memuatnya)."] for name, value in terms.items() if not value}
    if missing:
        raise ValidationFailed("Data perjanjian belum lengkap.", details={"json": missing})
    employer_name, destination_country, job_title = (terms["employer_name"], terms["destination_country"],
                                                     terms["job_title"])
    with write_transaction():
        dossier = Dossier.get_by_id(dossier.id)
        if dossier.status != DossierStatus.TERVERIFIKASI:
            raise Conflict("Berkas CPMI harus terverifikasi sebelum Perjanjian Penempatan diajukan.")
        slot = dossier.slots.where(DocumentSlot.doc_type == "perjanjian_penempatan").first()
        draft = slot.current_upload if slot else None
        if draft is None or draft.media_type != "application/pdf":
            raise Conflict("Unggah draf Perjanjian Penempatan (PDF) pada slot Perjanjian Penempatan terlebih dahulu.")
        open_ones = dossier.agreements.where(Agreement.kind == "perjanjian_penempatan",
                                             Agreement.status != AgreementStatus.DIKEMBALIKAN)
        if open_ones.exists():
            raise Conflict("Perjanjian Penempatan untuk berkas ini sudah diajukan.")
        if not 1 <= contract_months <= 120:
            raise ServiceError("Masa kontrak harus antara 1 dan 120 bulan.")
        overridden: list[str] = []
        if settings is not None:
            try:
                refuse_mismatched_draft(settings, dossier, draft, country=destination_country,
                                        employer_name=employer_name, job_title=job_title,
                                        contract_months=contract_months)
            except Conflict as exc:
                if not override_reason.strip() or actor.role == "p3mi":
                    raise
                overridden = list(exc.details.get("draft", []))
        moment = now()
        agreement = Agreement.create(
            dossier=dossier, kind="perjanjian_penempatan", draft=draft,
            number=_next_number(Setting.get_value("agreement_number_pattern", "PP/{seq:05d}/{year}"), moment.year),
            employer_name=employer_name.strip(), destination_country=destination_country.strip(),
            job_title=job_title.strip(), contract_months=contract_months, submitted_at=moment,
            removed_content=_removals_of(settings, draft) if settings is not None else None,
        )
        audit.record(actor.username, "agreement.submit", f"agreement:{agreement.id}", number=agreement.number)
        if overridden:
            audit.record(actor.username, "agreement.draft_mismatch_overridden", f"agreement:{agreement.id}",
                         reason=override_reason.strip(), differences=overridden)
    return agreement


def refuse_mismatched_draft(settings: Settings, dossier: Dossier, draft, **terms) -> None:
    """Raise Conflict when the draft upload contradicts the dossier, its company's record or the
    agreement's ``terms`` (:func:`~pengesahan.services.dossiers.draft_expectations`): another
    CPMI, country, P3MI, employer, position or duration."""
    text = drafts.read_draft_text(file_store(settings).read(draft.sha256), ocr_engine=settings.ocr_engine,
                                  scanned_text=draft.ocr_text)
    problems = drafts.draft_mismatches(drafts.draft_facts(text), dossiers.draft_expectations(dossier, **terms))
    if problems:
        raise Conflict("Draf Perjanjian Penempatan tidak sesuai dengan berkas: " + " ".join(problems)
                       + " Perbaiki draf lalu unggah kembali.", details={"draft": problems})


def resubmit_agreement(agreement: Agreement, actor: User, *, settings: Settings) -> Agreement:
    """The P3MI submits the corrected draft of a returned agreement: same agreement and number,
    the PP slot's newest upload as its draft, back to Menunggu Verifikasi.

    The draft is checked against the dossier like a first submission (``settings`` reads the
    stored file); the earlier draft stays recorded in the slot and in the audit entry.
    """
    with write_transaction():
        agreement = Agreement.get_by_id(agreement.id)
        if agreement.status != AgreementStatus.DIKEMBALIKAN:
            raise Conflict(f"{agreement.number} tidak sedang dikembalikan; tidak ada yang perlu diperbaiki.")
        dossier = agreement.dossier
        slot = dossier.slots.where(DocumentSlot.doc_type == "perjanjian_penempatan").first()
        draft = slot.current_upload if slot else None
        if draft is None or draft.id == agreement.draft_id:
            raise Conflict("Unggah draf Perjanjian Penempatan yang sudah diperbaiki terlebih dahulu.")
        if draft.media_type != "application/pdf":
            raise Conflict("Draf Perjanjian Penempatan harus berupa PDF.")
        refuse_mismatched_draft(settings, dossier, draft, country=agreement.destination_country,
                                employer_name=agreement.employer_name, job_title=agreement.job_title,
                                contract_months=agreement.contract_months)
        previous_draft, previous_reason = agreement.draft_id, agreement.return_reason
        _set_status(agreement, AgreementStatus.MENUNGGU_VERIFIKASI)
        agreement.draft = draft
        agreement.removed_content = _removals_of(settings, draft)
        agreement.return_reason = ""
        agreement.save()
        audit.record(actor.username, "agreement.resubmit", f"agreement:{agreement.id}", number=agreement.number,
                     draft=draft.id, previous_draft=previous_draft, previous_reason=previous_reason)
    return agreement


def correct_agreement(settings: Settings, agreement: Agreement, stream, filename: str | None,
                      actor: User) -> Agreement:
    """Upload the corrected draft of a returned agreement and resubmit it, all or nothing.

    A draft refused by intake or by the comparison with the dossier leaves no record (the
    refusal is audited); an accepted one is queued for processing like every upload.
    """
    agreement = Agreement.get_by_id(agreement.id)
    if agreement.status != AgreementStatus.DIKEMBALIKAN:
        raise Conflict(f"{agreement.number} tidak sedang dikembalikan; tidak ada yang perlu diperbaiki.")
    slot = agreement.dossier.slots.where(DocumentSlot.doc_type == "perjanjian_penempatan").first()
    if slot is None:
        raise Conflict("Berkas ini tidak memiliki slot Perjanjian Penempatan.")
    data, result = take_in(slot, stream, filename, actor)
    if result.media_type != "application/pdf":
        raise Conflict("Draf Perjanjian Penempatan harus berupa PDF.")
    try:
        with write_transaction():
            upload = store_upload(settings, slot, data, result, filename, actor)
            agreement = resubmit_agreement(agreement, actor, settings=settings)
    except Conflict as exc:
        audit.record(actor.username, "agreement.resubmit_refused", f"agreement:{agreement.id}",
                     reason=exc.message, sha256=result.sha256)
        raise
    enqueue_processing(upload)
    return agreement


def _set_status(agreement: Agreement, target: str) -> None:
    workflow.check_transition("agreement", agreement.status, target)
    agreement.status = target


def verify_agreement(agreement: Agreement, *, actor: User) -> Agreement:
    """The officer confirms the agreement; only a verified agreement can be signed."""
    with write_transaction():
        agreement = Agreement.get_by_id(agreement.id)
        _set_status(agreement, AgreementStatus.TERVERIFIKASI)
        agreement.verified_by = actor
        agreement.verified_at = now()
        agreement.return_reason = ""
        _issue_cpmi_id(agreement.dossier)
        agreement.verified_snapshot = verified_snapshot(Dossier.get_by_id(agreement.dossier_id))
        agreement.save()
        audit.record(actor.username, "agreement.verify", f"agreement:{agreement.id}", number=agreement.number,
                     snapshot=hashlib.sha256(json.dumps(agreement.verified_snapshot, sort_keys=True)
                                             .encode()).hexdigest())
        if agreement.kind == "perjanjian_penempatan":
            _prepare_passport_recommendation(agreement, actor)
    return agreement


def _prepare_passport_recommendation(agreement: Agreement, actor: User) -> Agreement:
    """The SOP's second letter: once the PP is verified, the passport recommendation is ready
    for signature too (generated from its template, no P3MI draft)."""
    existing = agreement.dossier.agreements.where(Agreement.kind == "rekomendasi_paspor").first()
    if existing is not None:
        return existing
    moment = now()
    letter = Agreement.create(
        dossier=agreement.dossier, kind="rekomendasi_paspor", status=AgreementStatus.TERVERIFIKASI,
        number=_next_number(Setting.get_value("recommendation_number_pattern", "{seq:05d}/REK-PASPOR/{year}"),
                            moment.year, kind="rekomendasi_paspor"),
        employer_name=agreement.employer_name, destination_country=agreement.destination_country,
        job_title=agreement.job_title, contract_months=agreement.contract_months,
        submitted_at=moment, verified_by=actor, verified_at=moment,
        verified_snapshot=agreement.verified_snapshot,
    )
    audit.record(actor.username, "recommendation.prepare", f"agreement:{letter.id}", number=letter.number,
                 agreement=agreement.number)
    return letter


def return_agreement(agreement: Agreement, *, reason: str, actor: User) -> Agreement:
    """The officer returns the agreement to the P3MI with a reason."""
    reason = reason.strip()
    if not reason:
        raise ServiceError("Alasan pengembalian wajib diisi.")
    with write_transaction():
        agreement = Agreement.get_by_id(agreement.id)
        _set_status(agreement, AgreementStatus.DIKEMBALIKAN)
        agreement.return_reason = reason
        agreement.save()
        audit.record(actor.username, "agreement.return", f"agreement:{agreement.id}", reason=reason)
    return agreement


def _issue_cpmi_id(dossier: Dossier) -> str:
    """Give a verified dossier its CPMI ID, once, in the configured format."""
    dossier = Dossier.get_by_id(dossier.id)
    if dossier.cpmi_id:
        return dossier.cpmi_id
    issued = now().date()
    pattern = Setting.get_value("cpmi_id_pattern", "CPMI-{region}-{year}-{seq:06d}")
    region = Setting.get_value("region_code", "0000")
    seq = Dossier.select().where(Dossier.cpmi_id.is_null(False)).count() + 1
    while True:
        candidate = format_cpmi_id(pattern, region=region, issued=issued, seq=seq)
        if not Dossier.select().where(Dossier.cpmi_id == candidate).exists():
            break
        seq += 1
    dossier.cpmi_id = candidate
    dossier.save(only=[Dossier.cpmi_id])
    return candidate


# --- who may sign ---------------------------------------------------------------------------------


def signer_authority(user: User, *, kind: str = "perjanjian_penempatan",
                     at: dt.datetime | None = None) -> SigningAuthority:
    """The capacity in which ``user`` may sign, or SigningRefused with the reason."""
    if user.official_id is None:
        raise SigningRefused("Akun ini tidak terhubung dengan pejabat penandatangan.")
    official = user.official
    if not official.active:
        raise SigningRefused(f"{official.name} tidak lagi aktif sebagai pejabat penandatangan.")
    delegations = [d.to_rule() for d in Delegation.select().where(Delegation.delegated == official)]
    return authorise(official.to_signer(), delegations, at or now(), kind)


# --- sealing the passphrase for the worker ------------------------------------------------------


def _fernet(settings: Settings) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"pengesahan-pp passphrase seal").derive(settings.secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal_passphrase(settings: Settings, passphrase: str) -> str:
    """Encrypt a passphrase for a queued job: Redis only ever holds this, and only briefly."""
    return _fernet(settings).encrypt(passphrase.encode()).decode()


def unseal_passphrase(settings: Settings, sealed: str) -> str:
    try:
        return _fernet(settings).decrypt(sealed.encode(), ttl=SEALED_PASSPHRASE_TTL).decode()
    except InvalidToken as exc:
        raise SigningError("Permintaan tanda tangan kedaluwarsa; ulangi dan masukkan frasa sandi lagi.") from exc


# --- signing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningOutcome:
    """What happened to one agreement of a signing request."""

    agreement_id: int
    ok: bool
    message: str
    level: str | None = None


def verified_snapshot(dossier: Dossier) -> dict:
    """The data a letter is generated from, frozen when the officer verifies the agreement: the
    office's verified CPMI profile and the company's record at that moment."""
    candidate, company = dossier.candidate, dossier.company
    return {
        "cpmi": {"name": candidate.name, "nik": candidate.nik, "sex": candidate.sex,
                 "birth_place": candidate.birth_place, "birth_date": candidate.birth_date.isoformat(),
                 "address": candidate.address},
        "p3mi": {"name": company.name, "sip2mi_number": company.sip2mi_number or "-", "address": company.address},
        "cpmi_id": dossier.cpmi_id or "-",
    }


def _agreement_data(agreement: Agreement, authority: SigningAuthority) -> AgreementData:
    # The assembly and signing stack (reportlab, pyHanko) loads when a PP is signed, not when a
    # web or CLI process starts.
    from signing.assemble import AgreementData

    dossier = agreement.dossier
    # Frozen at verification; agreements verified before snapshots existed read the records.
    frozen = agreement.verified_snapshot or verified_snapshot(dossier)
    candidate = SimpleNamespace(**{**frozen["cpmi"], "birth_date": dt.date.fromisoformat(frozen["cpmi"]["birth_date"])})
    company = SimpleNamespace(**frozen["p3mi"])
    official = authority.signer
    verifier = agreement.verified_by
    if agreement.kind == "rekomendasi_paspor":
        placement = agreement.dossier.agreements.where(Agreement.kind == "perjanjian_penempatan").first()
        agreement_number = placement.number if placement else "-"
        recommendation_number = agreement.number
    else:
        agreement_number, recommendation_number = agreement.number, ""
    return AgreementData(
        agreement_number=agreement_number,
        recommendation_number=recommendation_number,
        dossier_id=str(dossier.id),
        cpmi_name=candidate.name,
        cpmi_nik=candidate.nik,
        cpmi_sex=candidate.sex,
        cpmi_birth_place=candidate.birth_place,
        cpmi_birth_date=candidate.birth_date,
        cpmi_address=candidate.address,
        cpmi_id=frozen["cpmi_id"],
        p3mi_name=company.name,
        p3mi_licence=company.sip2mi_number,
        p3mi_address=company.address,
        employer_name=agreement.employer_name,
        employer_country=agreement.destination_country,
        job_title=agreement.job_title,
        contract_months=agreement.contract_months,
        verifier_name=(verifier.full_name or verifier.username) if verifier else "-",
        verifier_nip=(verifier.nip or (verifier.official.nip if verifier.official_id else "-")) if verifier else "-",
        verified_on=(agreement.verified_at or now()).date(),
        issue_date=now().date(),
        regency=Setting.get_value("government_name", "").replace("PEMERINTAH KABUPATEN ", "").title(),
        signer_title_lines=tuple(line.upper() if i == 0 else line
                                 for i, line in enumerate(authority.capacity_lines)),
        signer_name_lines=(official.name, official.rank, f"NIP {official.nip}"),
        office_address=Setting.get_value("office_address", ""),
        issue_place=Setting.get_value("office_city", ""),
    )


def sign_agreement(settings: Settings, agreement_id: int, user: User, passphrase: str) -> SigningOutcome:
    """Assemble and sign one verified agreement as ``user``; refusals are audited, not raised."""
    # Loaded on first signature, not at start-up (see _agreement_data).
    from pengesahan.services.pki import signing_key, signing_services
    from signing.assemble import (
        SIGNATURE_BOX,
        SIGNATURE_FIELD,
        SIGNATURE_PAGE,
        assemble_agreement,
        render_passport_recommendation,
    )
    from signing.sign import SignatureFieldSpec, StampSpec, add_signature_fields, sign_document

    agreement = Agreement.get_or_none(Agreement.id == agreement_id)
    if agreement is None:
        return SigningOutcome(agreement_id, False, "Perjanjian tidak ditemukan.")
    removed: tuple[str, ...] = ()
    try:
        if agreement.status != AgreementStatus.TERVERIFIKASI:
            raise SigningRefused(f"{agreement.number} belum diverifikasi petugas; hanya PP terverifikasi "
                                 "yang dapat ditandatangani.")
        authority = signer_authority(user, kind=agreement.kind)
        store = file_store(settings)
        data = _agreement_data(agreement, authority)
        if agreement.kind == "rekomendasi_paspor":
            template = LetterTemplate.get(LetterTemplate.code == "rekomendasi_paspor").body
            assembled = render_passport_recommendation(template, data)
        else:
            template = LetterTemplate.get(LetterTemplate.code == "lembar_pengesahan").body
            removed = draft_removals(settings, agreement)
            assembled = assemble_agreement(store.read(agreement.draft.sha256), data, template)
        prepared = add_signature_fields(assembled, [SignatureFieldSpec(SIGNATURE_FIELD, SIGNATURE_PAGE, SIGNATURE_BOX)])
        short_code = hashlib.sha256(prepared).hexdigest()[:12].upper()
        with signing_key(settings, user.official, passphrase) as key:
            signed = sign_document(
                prepared, key, authority, field_name=SIGNATURE_FIELD, certify=True,
                stamp=StampSpec(qr_url=f"{settings.public_base_url}/verifikasi/p/{agreement.public_id}",
                                lines=(f"No. {agreement.number}",), short_hash=short_code,
                                zone=(settings.office_timezone, zone_label(settings.office_timezone))),
                services=signing_services(settings),
            )
    except (SigningRefused, ServiceError) as exc:
        # SigningError and other ServiceErrors carry a message fit for the signer.
        audit.record(user.username, "agreement.sign_refused" if isinstance(exc, SigningRefused) else "agreement.sign_failed",
                     f"agreement:{agreement_id}", reason=exc.message)
        return SigningOutcome(agreement_id, False, exc.message)
    key_ref = store.put(signed.data)
    signed_at = signed.timestamp_time or now()
    lapses_at = lapse_of(settings, signed.data)
    with write_transaction():
        current = Agreement.get_by_id(agreement_id)
        _set_status(current, AgreementStatus.DITANDATANGANI)
        current.signed_sha256 = key_ref
        current.assembled_sha256 = hashlib.sha256(prepared).hexdigest()
        current.short_code = short_code
        current.signed_at = signed_at
        if current.kind == "perjanjian_penempatan":
            current.removed_content = list(removed)
        current.save()
        Signature.create(
            agreement=current, official=user.official,
            delegation=(Delegation.get(Delegation.number == authority.delegation.number)
                        if authority.delegation else None),
            signed_by=user, field_name=SIGNATURE_FIELD, capacity=authority.capacity,
            level=signed.level, signed_at=signed_at, result_sha256=key_ref,
        )
        # The file as signed is the first version; its lapse makes the renewal's due list a query.
        SignedVersion.create(agreement=current, sha256=key_ref, reason="signed", made_at=signed_at,
                             level=signed.level, lapses_at=lapses_at)
        fire(Event.AGREEMENT_RATIFIED, agreement_id=agreement_id, public_base_url=settings.public_base_url)
        audit.record(user.username, "agreement.sign", f"agreement:{agreement_id}", number=current.number,
                     removed=list(removed),
                     level=signed.level, sha256=key_ref, capacity=authority.capacity,
                     sk=authority.sk_reference)
    return SigningOutcome(agreement_id, True, f"{agreement.number} ditandatangani.", signed.level)


def draft_removals(settings: Settings, agreement: Agreement) -> tuple[str, ...]:
    """What signing will remove from the P3MI's draft (active content).

    Recorded when the draft is submitted; for an agreement submitted before that, worked out
    here without writing (a page view changes nothing).
    """
    if agreement.removed_content is not None:
        return tuple(agreement.removed_content)
    if agreement.draft_id is None:
        return ()
    return tuple(_removals_of(settings, agreement.draft))


def _removals_of(settings: Settings, draft) -> list[str]:
    # pikepdf loads when a draft is first examined, not at start-up.
    from signing.assemble import sanitise

    try:
        return list(sanitise(file_store(settings).read(draft.sha256)).removed)
    except ServiceError as exc:
        return [exc.message]


def signed_pdf(settings: Settings, agreement: Agreement) -> bytes:
    """The stored signed PDF of an agreement."""
    if not agreement.signed_sha256:
        raise Conflict("Perjanjian ini belum ditandatangani.")
    return file_store(settings).read(agreement.signed_sha256)


# --- batches on the worker ------------------------------------------------------------------------


_SEALED_KEY = "pengesahan:sealed:"


def start_batch_signing(settings: Settings, agreement_ids: list[int], user: User, passphrase: str) -> str:
    """Queue the signing of several agreements with one passphrase entry; returns the job id.

    The job carries only a reference: the sealed passphrase waits in its own Redis key, which
    expires with the seal and which the job deletes as it takes it, so neither the job's data
    (kept for days when a job fails) nor Redis holds it once the batch has started.
    """
    reference = secrets.token_urlsafe(16)
    redis_connection().set(_SEALED_KEY + reference, seal_passphrase(settings, passphrase),
                           ex=SEALED_PASSPHRASE_TTL)
    return enqueue("signing", SIGN_BATCH, agreement_ids, user.id, reference).id


def claim_passphrase(settings: Settings, reference: str) -> str:
    """The passphrase a batch was started with, taken out of Redis (once)."""
    sealed = redis_connection().getdel(_SEALED_KEY + reference)
    if sealed is None:
        raise SigningError("Permintaan tanda tangan kedaluwarsa; ulangi dan masukkan frasa sandi lagi.")
    return unseal_passphrase(settings, sealed.decode())


def batch_progress(job_id: str, user_id: int) -> dict | None:
    """What the progress page shows of a batch, from the job's meta as the worker updates it;
    None unless ``user_id`` started that batch."""
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None
    if job.func_name != SIGN_BATCH or len(job.args) < 2 or job.args[1] != user_id:
        return None
    status = job.get_status(refresh=True)
    meta = job.meta or {}
    total = len(job.args[0]) if job.args else 0
    outcomes = meta.get("outcomes", [])
    finished = status in ("finished", "failed", "stopped", "canceled")
    signed = sum(1 for o in outcomes if o.get("ok"))
    failed_count = len(outcomes) - signed
    summary = ""
    if finished:
        summary = f"{signed} dari {total} dokumen ditandatangani"
        summary += f"; {failed_count} gagal (lihat alasannya)." if failed_count else "."
        if status == "failed":
            summary = "Tugas penandatanganan berhenti karena kesalahan. " + summary
    return {"status": str(status.value if hasattr(status, "value") else status), "done": meta.get("done", 0),
            "total": total, "outcomes": outcomes, "finished": finished, "failed_count": failed_count,
            "summary": summary}


__all__ = [
    "SigningOutcome",
    "batch_progress",
    "claim_passphrase",
    "correct_agreement",
    "draft_removals",
    "refuse_mismatched_draft",
    "resubmit_agreement",
    "return_agreement",
    "seal_passphrase",
    "sign_agreement",
    "signed_pdf",
    "signer_authority",
    "start_batch_signing",
    "submit_agreement",
    "unseal_passphrase",
    "verify_agreement",
]
