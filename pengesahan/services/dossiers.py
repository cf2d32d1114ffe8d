"""Dossier use cases: opening a CPMI's dossier, recording uploads into its slots, the officers'
decisions. Every status change writes its ReviewEvent and audit entry here, in one transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import peewee

from pengesahan import workflow
from pengesahan.errors import Conflict, ServiceError
from pengesahan.events import Event, fire
from pengesahan.records import audit
from pengesahan.records.agreements import Agreement
from pengesahan.records.base import PreparedInsert, now, write_transaction
from pengesahan.records.catalogue import Requirement, sla_days
from pengesahan.records.dossiers import DocumentSlot, Dossier, ReviewEvent, Upload, tally_verdict
from pengesahan.records.people import Candidate, Company, User
from pengesahan.services import drafts
from pengesahan.workflow import AgreementStatus, DossierStatus, SlotStatus, UploadState
from processing.spec import DEFECT_CHECKS

__all__ = [
    "accept_clean_slots",
    "actor_name",
    "add_upload",
    "assign_dossier",
    "company_dossiers",
    "display_name",
    "draft_expectations",
    "draft_awaits_submission",
    "missing_slots",
    "open_dossier",
    "open_dossier_of",
    "open_for_candidate",
    "placement_agreements",
    "profile_differences",
    "returned_agreement_of",
    "signed_placements",
    "review_slot",
    "submit_dossier",
    "verify_dossier",
]

# Prepared once (records/base.py): an upload writes its row and its slot's event.
_NEW_UPLOAD = PreparedInsert(Upload)
_NEW_EVENT = PreparedInsert(ReviewEvent)


#: Dossiers on one page of a company's list (the P3MI portal's home).
COMPANY_PAGE_SIZE = 50


def company_dossiers(company: Company, *, page: int = 1, search: str = "") -> tuple[list[dict], int]:
    """One page of the company's dossiers, newest first, each with what its list shows (slots
    returned, the newest PP, whether a PP is signed), and how many match in all.

    ``search`` is a NIK's beginning or part of the CPMI's name. A large P3MI has thousands of
    dossiers: a page of them is read with a query per kind of record, not per dossier. A page
    past the last one is empty.
    """
    query = Dossier.select(Dossier, Candidate).join(Candidate).where(Dossier.company == company)
    search = search.strip()
    if search:
        # The name the company sees (Dossier.profile): its own declaration where it made one, so
        # that a search never spells out the office's name for a CPMI the company named otherwise.
        name = Dossier.declared_profile.is_null(True) & Candidate.name.contains(search)
        declared = _declared_name_matches(company, search)
        if declared:
            name = name | Dossier.id.in_(declared)
        query = query.where(Candidate.nik.startswith(search) | name)
    total = query.count()
    if (page - 1) * COMPANY_PAGE_SIZE >= total:
        return [], total  # past the end: not asked of the database (a huge page overflows its integers)
    dossiers = list(query.order_by(Dossier.id.desc()).paginate(page, COMPANY_PAGE_SIZE))
    ids = [d.id for d in dossiers]
    returned = dict(DocumentSlot.select(DocumentSlot.dossier, peewee.fn.COUNT(DocumentSlot.id))
                    .where(DocumentSlot.dossier.in_(ids) & (DocumentSlot.status == SlotStatus.DITOLAK))
                    .group_by(DocumentSlot.dossier).tuples())
    agreements = placement_agreements(ids)
    signed = signed_placements(ids)
    return [{"dossier": d, "returned": returned.get(d.id, 0), "agreement": agreements.get(d.id),
             "signed": d.id in signed} for d in dossiers], total


def _declared_name_matches(company: Company, search: str) -> list[int]:
    """Ids of the company's dossiers whose declared CPMI name holds ``search``, case aside. A
    company declares a profile of its own only where it differs from the office's: a few rows."""
    needle = search.casefold()
    declared = (Dossier.select(Dossier.id, Dossier.declared_profile)
                .where((Dossier.company == company) & Dossier.declared_profile.is_null(False)).tuples())
    return [dossier_id for dossier_id, profile in declared if needle in str(profile.get("name", "")).casefold()]


_PLACEMENT = Agreement.kind == "perjanjian_penempatan"


def placement_agreements(dossier_ids: Collection[int]) -> dict[int, Agreement]:
    """The newest Perjanjian Penempatan of each of the dossiers that has one, by dossier id."""
    newest = (Agreement.select(peewee.fn.MAX(Agreement.id))
              .where(Agreement.dossier.in_(list(dossier_ids)) & _PLACEMENT).group_by(Agreement.dossier))
    return {a.dossier_id: a for a in Agreement.select().where(Agreement.id.in_(newest))}


def signed_placements(dossier_ids: Collection[int]) -> set[int]:
    """Those of the dossiers with a signed Perjanjian Penempatan (their service is done)."""
    return {dossier_id for (dossier_id,) in Agreement.select(Agreement.dossier).distinct().where(
        Agreement.dossier.in_(list(dossier_ids)) & _PLACEMENT
        & (Agreement.status == AgreementStatus.DITANDATANGANI)).tuples()}


def actor_name(user: User | None) -> str:
    return user.username if user else "sistem"


def open_dossier(candidate: Candidate, company: Company, *, actor: User | None, draft: bool = False,
                 **fields) -> Dossier:
    """Create a dossier with one slot per applicable requirement, SLA clocks started; or, with
    ``draft``, a draft its P3MI fills in and submits later (:func:`submit_dossier`), no clock
    running until then."""
    with write_transaction():
        start = now()
        clocks = {} if draft else {
            "check_due_at": workflow.add_working_days(start, sla_days("pemeriksaan", 1)),
            "service_due_at": workflow.add_working_days(start, sla_days("layanan", 3)),
        }
        dossier = Dossier.create(
            candidate=candidate,
            company=company,
            # A draft's submitted_at is replaced when it is submitted.
            submitted_at=start,
            status=DossierStatus.DRAF if draft else DossierStatus.DIAJUKAN,
            **clocks,
            **fields,
        )
        for req in Requirement.select().order_by(Requirement.position):
            if req.applies_to(candidate):
                DocumentSlot.create(
                    dossier=dossier, doc_type=req.doc_type.code, label=req.slot_label,
                    owner=req.owner, position=req.position,
                )
        audit.record(actor_name(actor), "dossier.open", f"dossier:{dossier.id}", candidate=candidate.nik,
                     **({"draft": True} if draft else {}))
    return dossier


def missing_slots(dossier: Dossier, slots: Sequence[DocumentSlot] | None = None) -> list[str]:
    """Labels of the slots of ``dossier`` that hold no file yet, in the checklist's order.
    ``slots``: the dossier's slots when the caller has already read them, in that order."""
    if slots is None:
        slots = dossier.slots.order_by(DocumentSlot.position, DocumentSlot.id)
    return [slot.label for slot in slots if slot.status == SlotStatus.KOSONG]


def submit_dossier(dossier: Dossier, *, actor: User | None) -> Dossier:
    """Hand a P3MI's draft to the office once every slot holds a file: it becomes Diajukan, joins
    the review queue, and its SLA clocks start now."""
    with write_transaction():
        dossier = Dossier.get_by_id(dossier.id)
        if dossier.status != DossierStatus.DRAF:
            raise Conflict("Berkas ini sudah diajukan.")
        missing = missing_slots(dossier)
        if missing:
            raise Conflict("Berkas belum dapat diajukan; dokumen berikut belum diunggah: "
                           + ", ".join(missing) + ".", details={"missing": missing})
        start = now()
        dossier.submitted_at = start
        dossier.check_due_at = workflow.add_working_days(start, sla_days("pemeriksaan", 1))
        dossier.service_due_at = workflow.add_working_days(start, sla_days("layanan", 3))
        _set_dossier_status(dossier, DossierStatus.DIAJUKAN, actor, "Berkas diajukan oleh P3MI.")
        audit.record(actor_name(actor), "dossier.submit", f"dossier:{dossier.id}")
    return dossier


def draft_expectations(dossier: Dossier, **terms) -> drafts.Expected:
    """What a PP draft of ``dossier`` must agree with: its CPMI and placement, its company's
    record, and the submitted agreement's ``terms`` where the dossier has none (a term typed
    at submission never lets a draft for another country or employer through)."""
    company = dossier.company
    values = {"country": dossier.destination_country or "", "employer_name": dossier.employer_name or "",
              "job_title": dossier.job_title or ""}
    values.update({name: value for name, value in terms.items() if value and not values.get(name)})
    return drafts.Expected(nik=dossier.candidate.nik, name=dossier.profile.name, company_name=company.name,
                           sip2mi_number=company.sip2mi_number or "", **values)


def _refuse_draft(dossier: Dossier) -> None:
    """Officers decide on what a P3MI has submitted, never on its draft."""
    if dossier.status == DossierStatus.DRAF:
        raise Conflict("Berkas masih berupa draf P3MI dan belum diajukan; belum dapat diperiksa.")


def open_dossier_of(candidate: Candidate, company: Company | None = None) -> Dossier | None:
    """A dossier of ``candidate`` (of ``company`` if given) whose PP is not yet ratified."""
    ratified = Agreement.select(Agreement.dossier).where(Agreement.status == AgreementStatus.DITANDATANGANI)
    query = Dossier.select().where((Dossier.candidate == candidate) & Dossier.id.not_in(ratified))
    if company is not None:
        query = query.where(Dossier.company == company)
    return query.order_by(Dossier.id.desc()).first()


def open_for_candidate(company: Company, profile: dict, placement: dict, *,
                       actor: User | None, draft: bool = False) -> tuple[Dossier, bool]:
    """Open a dossier (a draft, with ``draft``) for the CPMI of ``profile``; idempotent on the NIK.

    The company's own open dossier for that NIK is returned as it is. A company's declaration
    never changes a profile that another company's dossier, a verified dossier or a signed
    letter uses: the office's profile stays, the declaration is kept on the new dossier and any
    difference (or another company's dossier still in progress) becomes a finding for the
    officers. Nothing in the answer tells the company about another company's dossier.
    """
    with write_transaction():
        candidate = Candidate.get_or_none(Candidate.nik == profile["nik"])
        if candidate is None:
            try:
                candidate = Candidate.create(**profile)
            except peewee.IntegrityError as exc:
                raise Conflict("CPMI dengan NIK ini baru saja didaftarkan; ulangi permintaan.") from exc
            return open_dossier(candidate, company, actor=actor, draft=draft, **placement), True
        own = open_dossier_of(candidate, company)
        if own is not None:
            return own, False
        differences = profile_differences(candidate, profile)
        findings = []
        declared = None
        if _profile_is_relied_on(candidate, company):
            if differences:
                declared = _jsonable(profile)
                findings.append({"code": "profil_berbeda", "fields": differences,
                                 "message": "Data CPMI yang diajukan P3MI berbeda dengan data yang sudah "
                                            "diverifikasi atau dipakai berkas lain: " + ", ".join(differences) + "."})
        else:
            for name, value in profile.items():
                setattr(candidate, name, value)
            candidate.save()
        other = open_dossier_of(candidate)
        if other is not None:
            findings.append({"code": "berkas_lain_terbuka", "dossier_id": other.id,
                             "message": f"CPMI ini juga dalam berkas #{other.id} ({other.company.name}) yang "
                                        "belum selesai; satu CPMI hanya boleh dalam satu penempatan."})
        dossier = open_dossier(candidate, company, actor=actor, draft=draft, declared_profile=declared,
                               findings=findings or None, **placement)
        if findings:
            audit.record(actor_name(actor), "dossier.findings", f"dossier:{dossier.id}",
                         codes=[f["code"] for f in findings])
    return dossier, True


def profile_differences(candidate: Candidate, profile: dict) -> list[str]:
    """Names of the profile fields whose declared value differs from the office's."""
    differences = []
    for name, value in profile.items():
        current = getattr(candidate, name, None)
        if isinstance(value, str) and isinstance(current, str):
            if " ".join(value.split()).casefold() != " ".join(current.split()).casefold():
                differences.append(name)
        elif value not in (None, "") and value != current:
            differences.append(name)
    return differences


def _profile_is_relied_on(candidate: Candidate, company: Company) -> bool:
    """Whether another company's dossier, a verified dossier or a signed letter uses the profile."""
    dossiers = Dossier.select().where(Dossier.candidate == candidate)
    if dossiers.where(Dossier.company != company).exists():
        return True
    if dossiers.where(Dossier.status == DossierStatus.TERVERIFIKASI).exists():
        return True
    return (Agreement.select().join(Dossier)
            .where((Dossier.candidate == candidate) & Agreement.verified_snapshot.is_null(False)).exists())


def _jsonable(profile: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in profile.items()}


def display_name(name: str) -> str:
    """A user's file name made safe to show and store: no control characters, 255 at most.

    Only ever displayed; stored files are named by their hash.
    """
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()
    return cleaned[:255]


def returned_agreement_of(slot: DocumentSlot) -> Agreement | None:
    """The returned placement agreement whose new draft ``slot`` may receive, if any.

    A verified PP slot is closed to uploads, except while its dossier's agreement is
    Dikembalikan: the P3MI then corrects the draft of that same agreement (same number).
    """
    if slot.doc_type != "perjanjian_penempatan" or slot.status != SlotStatus.TERVERIFIKASI:
        return None
    return (slot.dossier.agreements
            .where((Agreement.kind == "perjanjian_penempatan")
                   & (Agreement.status == AgreementStatus.DIKEMBALIKAN))
            .order_by(Agreement.id.desc()).first())


def draft_awaits_submission(slot: DocumentSlot) -> bool:
    """Whether ``slot`` is a verified PP slot whose dossier has no placement agreement yet.

    Its draft has gone nowhere: it is compared with the dossier when the agreement is submitted
    and checked by an officer when the agreement is verified. Until then the P3MI may replace it
    (a submission refused because the draft names another CPMI is fixed this way), and the slot
    stays verified: the dossier's documents are not in question.
    """
    if slot.doc_type != "perjanjian_penempatan" or slot.status != SlotStatus.TERVERIFIKASI:
        return False
    return not slot.dossier.agreements.where(Agreement.kind == "perjanjian_penempatan").exists()


def add_upload(slot: DocumentSlot, *, sha256: str, media_type: str, size: int,
               original_name: str, actor: User | None) -> Upload:
    """Record a stored file in ``slot``; the slot (and a rejected dossier) become Diajukan.

    A new draft for a returned agreement, or one replacing a draft not yet submitted
    (:func:`draft_awaits_submission`), goes into its verified PP slot without reopening the
    dossier: the slot keeps its status, the earlier drafts stay as rows, and the event and the
    audit entry say what the draft is for.

    The audit entry is pending (linked into the chain by the worker): uploads come from many
    clients at once, and linking each entry as it came held the chain's lock through every
    upload's commit.
    """
    with write_transaction():
        returned = returned_agreement_of(slot)
        if returned is not None or draft_awaits_submission(slot):
            upload = _create_upload(slot, sha256=sha256, media_type=media_type, size=size,
                                    original_name=original_name, actor=actor)
            reason = (f"Draf perbaikan untuk {returned.number} diunggah." if returned is not None
                      else "Draf Perjanjian Penempatan diganti sebelum diajukan.")
            _NEW_EVENT.create(dossier=slot.dossier_id, slot=slot, actor=actor, from_status=slot.status,
                              to_status=slot.status, reason=reason)
            corrects = {"corrects": f"agreement:{returned.id}"} if returned is not None else {}
            audit.record_pending(actor_name(actor), "upload.add", f"slot:{slot.id}", upload=upload.id,
                                 sha256=sha256, **corrects)
            return upload
        workflow.check_transition("slot", slot.status, SlotStatus.DIAJUKAN)
        upload = _create_upload(slot, sha256=sha256, media_type=media_type, size=size,
                                original_name=original_name, actor=actor)
        _set_slot_status(slot, SlotStatus.DIAJUKAN, actor, reason="")
        dossier = slot.dossier
        if dossier.status == DossierStatus.DITOLAK:
            _set_dossier_status(dossier, DossierStatus.DIAJUKAN, actor, "Dokumen diperbaiki dan diajukan kembali.")
            # The officer's one-day check starts again from the resubmission; the service clock
            # (3 days) keeps running from the first submission.
            dossier.check_due_at = workflow.add_working_days(now(), sla_days("pemeriksaan", 1))
            dossier.save(only=[Dossier.check_due_at])
        audit.record_pending(actor_name(actor), "upload.add", f"slot:{slot.id}", upload=upload.id, sha256=sha256)
    return upload


def _create_upload(slot: DocumentSlot, *, sha256: str, media_type: str, size: int, original_name: str,
                   actor: User | None) -> Upload:
    return _NEW_UPLOAD.create(slot=slot, sha256=sha256, media_type=media_type, size=size,
                              original_name=display_name(original_name), uploaded_by=actor)


def _set_slot_status(slot: DocumentSlot, target: str, actor: User | None, reason: str, *,
                     upload: Upload | None = None, defect: str | None = None) -> None:
    previous = slot.status
    workflow.check_transition("slot", previous, target)
    # A new file for a slot already awaiting review changes nothing in the slot (the event
    # still tells its history): no write, one statement less in an upload.
    if (previous, slot.reason) != (target, reason):
        slot.status = target
        slot.reason = reason
        slot.save(only=[DocumentSlot.status, DocumentSlot.reason])
    _NEW_EVENT.create(dossier=slot.dossier_id, slot=slot, actor=actor,
                      from_status=previous, to_status=target, reason=reason, upload=upload, defect=defect)


def _verdict(slot: DocumentSlot, upload: Upload | None, actor: User, *, accept: bool, reason: str,
             defect: str | None = None) -> None:
    """An officer's verdict on ``upload``, ``slot``'s newest: the slot's new status, its event
    naming the upload judged, and the count of how the verdict agreed with the upload's checks."""
    _set_slot_status(slot, SlotStatus.TERVERIFIKASI if accept else SlotStatus.DITOLAK, actor, reason,
                     upload=upload, defect=defect)
    if upload is not None and upload.state == UploadState.DONE and upload.checks:
        tally_verdict(upload.checks, accepted=accept, defect=defect, moment=now())


def _set_dossier_status(dossier: Dossier, target: str, actor: User | None, reason: str) -> None:
    previous = dossier.status
    workflow.check_transition("dossier", previous, target)
    dossier.status = target
    if target == DossierStatus.TERVERIFIKASI:
        dossier.verified_at = now()
    dossier.save()
    _NEW_EVENT.create(dossier=dossier, actor=actor, from_status=previous, to_status=target, reason=reason)


def _failed_checks(upload: Upload | None) -> list[str]:
    """Names of the automatic checks ``upload`` did not pass (empty when none ran or all passed)."""
    return [c.get("name", "") for c in ((upload.checks or []) if upload else []) if not c.get("ok")]


def review_slot(slot: DocumentSlot, *, accept: bool, reason: str, actor: User,
                mismatched_fields: Sequence[str] = (), defect: str | None = None) -> None:
    """An officer accepts a slot's document or rejects it with a reason the CPMI/P3MI sees.

    Accepting a document that failed an automatic check, or whose fields differ from the form
    (``mismatched_fields``, as the desk compares them), is an override: it needs a reason, which
    the ReviewEvent and the audit entry keep with what was overridden. A return may name the
    ``defect`` it is for (processing.spec.DEFECT_CHECKS; the reason template picked says it):
    the checks are measured against it.
    """
    reason = reason.strip()
    if not accept and not reason:
        raise ServiceError("Alasan penolakan wajib diisi.")
    if defect is not None and (accept or defect not in DEFECT_CHECKS):
        raise ServiceError("Jenis cacat tidak dikenal, atau dicatat pada dokumen yang diterima "
                           "(jenis cacat hanya untuk dokumen yang dikembalikan).")
    with write_transaction():
        slot = DocumentSlot.get_by_id(slot.id)
        _refuse_draft(slot.dossier)
        upload = slot.current_upload
        overridden = [*_failed_checks(upload), *mismatched_fields] if accept else []
        if overridden and not reason:
            raise ServiceError("Dokumen ini tidak lolos pemeriksaan otomatis atau datanya berbeda dengan "
                               "formulir. Tulis alasan Anda menerimanya, atau kembalikan dokumen.")
        _verdict(slot, upload, actor, accept=accept, reason=reason, defect=defect)
        if accept and slot.reason:
            # An override's reason is the office's own: the ReviewEvent and the audit entry keep
            # it; slot.reason is what the P3MI reads as the reason a document was returned.
            slot.reason = ""
            slot.save()
        if not accept and slot.dossier.status == DossierStatus.DIAJUKAN:
            _set_dossier_status(slot.dossier, DossierStatus.DITOLAK, actor, f"{slot.label}: {reason}")
        details = {"overridden": overridden} if overridden else {"defect": defect} if defect else {}
        audit.record(actor.username, "slot.accept" if accept else "slot.reject",
                     f"slot:{slot.id}", reason=reason, **details)
    if not accept:
        fire(Event.SLOT_REJECTED, slot_id=slot.id)


def accept_clean_slots(dossier: Dossier, actor: User, *, skip: Collection[int] = ()) -> int:
    """Accept every submitted slot whose current upload is processed and passed every check.

    ``skip`` holds slot ids the caller wants an officer to look at anyway (the desk passes the
    slots whose fields differ from the form). Each acceptance gets its ReviewEvent and audit
    entry as a single one would; returns how many slots were accepted.
    """
    accepted = 0
    with write_transaction():
        dossier = Dossier.get_by_id(dossier.id)
        _refuse_draft(dossier)
        for slot in dossier.slots.order_by(DocumentSlot.position):
            upload = slot.current_upload
            clean = (upload is not None and upload.state == UploadState.DONE and bool(upload.checks)
                     and not _failed_checks(upload))
            if slot.status != SlotStatus.DIAJUKAN or slot.id in skip or not clean:
                continue
            _verdict(slot, upload, actor, accept=True, reason="")
            audit.record(actor.username, "slot.accept", f"slot:{slot.id}", reason="", bulk=True)
            accepted += 1
    return accepted


def verify_dossier(dossier: Dossier, *, actor: User) -> None:
    """Mark a dossier Terverifikasi once every slot is verified."""
    with write_transaction():
        dossier = Dossier.get_by_id(dossier.id)
        _refuse_draft(dossier)
        pending = [s.label for s in dossier.slots if s.status != SlotStatus.TERVERIFIKASI]
        if pending:
            raise Conflict("Belum semua dokumen terverifikasi: " + ", ".join(pending) + ".")
        _set_dossier_status(dossier, DossierStatus.TERVERIFIKASI, actor, "")
        audit.record(actor.username, "dossier.verify", f"dossier:{dossier.id}")


def assign_dossier(dossier: Dossier, officer: User | None, *, actor: User) -> None:
    """Give ``dossier`` to ``officer`` (or to nobody); the queue filters by it."""
    if officer is not None and officer.role not in ("admin", "pelaksana", "kabid"):
        raise ServiceError("Berkas hanya dapat ditugaskan kepada petugas pemeriksa.")
    with write_transaction():
        Dossier.update(assigned_to=officer).where(Dossier.id == dossier.id).execute()
        audit.record(actor.username, "dossier.assign", f"dossier:{dossier.id}",
                     officer=officer.username if officer else None)
