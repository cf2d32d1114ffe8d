"""A CPMI's placement application (dossier), its document slots, the uploads into them and
every review decision."""

from __future__ import annotations

import peewee

import notifications
import workflow
from errors import Conflict, ServiceError
from records import audit
from records.base import BaseModel, JSONField, UTCDateTimeField, now, write_transaction
from records.catalogue import Requirement, sla_days
from records.people import Candidate, Company, User

PROCESSING_STATES = {
    "queued": "Dalam antrean",
    "running": "Sedang diproses",
    "done": "Selesai",
    "failed": "Gagal",
}


class Dossier(BaseModel):
    """One CPMI placement application with its P3MI."""

    candidate = peewee.ForeignKeyField(Candidate, backref="dossiers", on_delete="RESTRICT")
    company = peewee.ForeignKeyField(Company, backref="dossiers", on_delete="RESTRICT")
    destination_country = peewee.CharField(max_length=80, default="")
    employer_name = peewee.CharField(max_length=200, default="")
    job_title = peewee.CharField(max_length=120, default="")
    status = peewee.CharField(max_length=20, default="diajukan", choices=list(workflow.DOSSIER_STATUSES.items()))
    cpmi_id = peewee.CharField(max_length=60, null=True, unique=True)
    assigned_to = peewee.ForeignKeyField(User, null=True, backref="assigned_dossiers", on_delete="SET NULL")
    submitted_at = UTCDateTimeField(default=now)
    check_due_at = UTCDateTimeField(null=True)
    service_due_at = UTCDateTimeField(null=True)
    verified_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=now)

    @property
    def status_label(self) -> str:
        return workflow.DOSSIER_STATUSES.get(self.status, self.status)

    def __str__(self):
        return f"Berkas #{self.id} — {self.candidate.name}"


class DocumentSlot(BaseModel):
    """A place in the dossier for one required document (from the requirement matrix)."""

    dossier = peewee.ForeignKeyField(Dossier, backref="slots", on_delete="CASCADE")
    doc_type = peewee.CharField(max_length=40)
    label = peewee.CharField(max_length=120)
    owner = peewee.CharField(max_length=10, default="cpmi")
    position = peewee.IntegerField(default=0)
    status = peewee.CharField(max_length=20, default="kosong", choices=list(workflow.SLOT_STATUSES.items()))
    reason = peewee.TextField(default="", help_text="Alasan penolakan yang dilihat CPMI/P3MI")

    class Meta:
        indexes = ((("dossier", "doc_type", "label"), True),)

    @property
    def status_label(self) -> str:
        return workflow.SLOT_STATUSES.get(self.status, self.status)

    @property
    def current_upload(self) -> Upload | None:
        return self.uploads.order_by(Upload.id.desc()).first()

    def __str__(self):
        return f"{self.label} (berkas #{self.dossier_id})"


class Upload(BaseModel):
    """One stored file put into a slot; re-uploads add rows, so history stays."""

    slot = peewee.ForeignKeyField(DocumentSlot, backref="uploads", on_delete="CASCADE")
    sha256 = peewee.CharField(max_length=64, index=True)
    media_type = peewee.CharField(max_length=40)
    size = peewee.IntegerField()
    #: Display only; never used to build a path.
    original_name = peewee.CharField(max_length=255, default="")
    uploaded_by = peewee.ForeignKeyField(User, null=True, backref="uploads", on_delete="SET NULL")
    uploaded_at = UTCDateTimeField(default=now)
    state = peewee.CharField(max_length=10, default="queued", choices=list(PROCESSING_STATES.items()))
    state_reason = peewee.TextField(default="")
    progress = peewee.IntegerField(default=0)
    job_id = peewee.CharField(max_length=60, null=True)
    attempts = peewee.IntegerField(default=0)
    processed_at = UTCDateTimeField(null=True)
    pages = peewee.IntegerField(null=True)
    classified_type = peewee.CharField(max_length=40, null=True)
    confidence = peewee.FloatField(null=True)
    checks = JSONField(null=True)
    fields = JSONField(null=True)
    phash = peewee.CharField(max_length=32, null=True)
    #: Main number read from the document (NIK, KK, certificate...), for duplicate checks.
    doc_number = peewee.CharField(max_length=60, null=True)
    #: Store keys of the derived images (normalised document, thumbnail with outline).
    normalised_key = peewee.CharField(max_length=64, null=True)
    thumbnail_key = peewee.CharField(max_length=64, null=True)

    @property
    def state_label(self) -> str:
        return PROCESSING_STATES.get(self.state, self.state)

    @property
    def failed_checks(self) -> list[dict]:
        return [c for c in (self.checks or []) if not c.get("ok")]

    def __str__(self):
        return f"Unggahan #{self.id} ({self.media_type}, {self.size} B)"


class ReviewEvent(BaseModel):
    """A status change of a dossier or slot: who, when, from what to what, and why."""

    dossier = peewee.ForeignKeyField(Dossier, backref="events", on_delete="CASCADE")
    slot = peewee.ForeignKeyField(DocumentSlot, null=True, backref="events", on_delete="CASCADE")
    actor = peewee.ForeignKeyField(User, null=True, backref="review_events", on_delete="SET NULL")
    at = UTCDateTimeField(default=now)
    from_status = peewee.CharField(max_length=20)
    to_status = peewee.CharField(max_length=20)
    reason = peewee.TextField(default="")

    def __str__(self):
        return f"{self.from_status} → {self.to_status}"


def _actor_name(user: User | None) -> str:
    return user.username if user else "sistem"


def open_dossier(candidate: Candidate, company: Company, *, actor: User | None, **fields) -> Dossier:
    """Create a dossier with one slot per applicable requirement, SLA clocks started."""
    with write_transaction():
        start = now()
        dossier = Dossier.create(
            candidate=candidate,
            company=company,
            submitted_at=start,
            check_due_at=workflow.add_working_days(start, sla_days("pemeriksaan", 1)),
            service_due_at=workflow.add_working_days(start, sla_days("layanan", 3)),
            **fields,
        )
        for req in Requirement.select().order_by(Requirement.position):
            if req.applies_to(candidate):
                DocumentSlot.create(
                    dossier=dossier, doc_type=req.doc_type.code, label=req.slot_label,
                    owner=req.owner, position=req.position,
                )
        audit.record(_actor_name(actor), "dossier.open", f"dossier:{dossier.id}", candidate=candidate.nik)
    return dossier


def display_name(name: str) -> str:
    """A user's file name made safe to show and store: no control characters, 255 at most.

    Only ever displayed; stored files are named by their hash.
    """
    cleaned = "".join(ch for ch in name if ch.isprintable()).strip()
    return cleaned[:255]


def add_upload(slot: DocumentSlot, *, sha256: str, media_type: str, size: int,
               original_name: str, actor: User | None) -> Upload:
    """Record a stored file in ``slot``; the slot (and a rejected dossier) become Diajukan."""
    with write_transaction():
        workflow.check_transition("slot", slot.status, "diajukan")
        upload = Upload.create(
            slot=slot, sha256=sha256, media_type=media_type, size=size,
            original_name=display_name(original_name), uploaded_by=actor,
        )
        _set_slot_status(slot, "diajukan", actor, reason="")
        dossier = slot.dossier
        if dossier.status == "ditolak":
            _set_dossier_status(dossier, "diajukan", actor, "Dokumen diperbaiki dan diajukan kembali.")
            # The officer's one-day check starts again from the resubmission; the service clock
            # (3 days) keeps running from the first submission.
            dossier.check_due_at = workflow.add_working_days(now(), sla_days("pemeriksaan", 1))
            dossier.save(only=[Dossier.check_due_at])
        audit.record(_actor_name(actor), "upload.add", f"slot:{slot.id}", upload=upload.id, sha256=sha256)
    return upload


def _set_slot_status(slot: DocumentSlot, target: str, actor: User | None, reason: str) -> None:
    previous = slot.status
    workflow.check_transition("slot", previous, target)
    slot.status = target
    slot.reason = reason
    slot.save()
    ReviewEvent.create(dossier=slot.dossier_id, slot=slot, actor=actor,
                       from_status=previous, to_status=target, reason=reason)


def _set_dossier_status(dossier: Dossier, target: str, actor: User | None, reason: str) -> None:
    previous = dossier.status
    workflow.check_transition("dossier", previous, target)
    dossier.status = target
    if target == "terverifikasi":
        dossier.verified_at = now()
    dossier.save()
    ReviewEvent.create(dossier=dossier, actor=actor, from_status=previous, to_status=target, reason=reason)


def review_slot(slot: DocumentSlot, *, accept: bool, reason: str, actor: User) -> None:
    """An officer accepts a slot's document or rejects it with a reason the CPMI/P3MI sees."""
    reason = reason.strip()
    if not accept and not reason:
        raise ServiceError("Alasan penolakan wajib diisi.")
    with write_transaction():
        slot = DocumentSlot.get_by_id(slot.id)
        _set_slot_status(slot, "terverifikasi" if accept else "ditolak", actor, reason)
        if not accept and slot.dossier.status == "diajukan":
            _set_dossier_status(slot.dossier, "ditolak", actor, f"{slot.label}: {reason}")
        audit.record(actor.username, "slot.accept" if accept else "slot.reject",
                     f"slot:{slot.id}", reason=reason)
    if not accept:
        notifications.slot_rejected(slot.id)


def verify_dossier(dossier: Dossier, *, actor: User) -> None:
    """Mark a dossier Terverifikasi once every slot is verified."""
    with write_transaction():
        dossier = Dossier.get_by_id(dossier.id)
        pending = [s.label for s in dossier.slots if s.status != "terverifikasi"]
        if pending:
            raise Conflict("Belum semua dokumen terverifikasi: " + ", ".join(pending) + ".")
        _set_dossier_status(dossier, "terverifikasi", actor, "")
        audit.record(actor.username, "dossier.verify", f"dossier:{dossier.id}")


def assign_dossier(dossier: Dossier, officer: User | None, *, actor: User) -> None:
    """Give ``dossier`` to ``officer`` (or to nobody); the queue filters by it."""
    if officer is not None and officer.role not in ("admin", "pelaksana", "kabid"):
        raise ServiceError("Berkas hanya dapat ditugaskan kepada petugas pemeriksa.")
    with write_transaction():
        Dossier.update(assigned_to=officer).where(Dossier.id == dossier.id).execute()
        audit.record(actor.username, "dossier.assign", f"dossier:{dossier.id}",
                     officer=officer.username if officer else None)
