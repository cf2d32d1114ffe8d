"""A CPMI's placement application (dossier), its document slots, the uploads into them and
every review decision."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import peewee

from pengesahan import workflow
from pengesahan.records.base import BaseModel, JSONField, UTCDateTimeField, now
from pengesahan.records.people import Candidate, Company, User


class Dossier(BaseModel):
    """One CPMI placement application with its P3MI."""

    candidate = peewee.ForeignKeyField(Candidate, backref="dossiers", on_delete="RESTRICT")
    company = peewee.ForeignKeyField(Company, backref="dossiers", on_delete="RESTRICT")
    destination_country = peewee.CharField(max_length=80, default="")
    employer_name = peewee.CharField(max_length=200, default="")
    job_title = peewee.CharField(max_length=120, default="")
    status = peewee.CharField(max_length=20, default=workflow.DossierStatus.DIAJUKAN, choices=list(workflow.DOSSIER_STATUSES.items()))
    cpmi_id = peewee.CharField(max_length=60, null=True, unique=True)
    assigned_to = peewee.ForeignKeyField(User, null=True, backref="assigned_dossiers", on_delete="SET NULL")
    submitted_at = UTCDateTimeField(default=now)
    check_due_at = UTCDateTimeField(null=True)
    service_due_at = UTCDateTimeField(null=True)
    verified_at = UTCDateTimeField(null=True)
    #: The CPMI profile as this dossier's P3MI declared it, when it differs from the profile
    #: the office holds (which another company's dossier or a signed letter uses).
    declared_profile = JSONField(null=True)
    #: Findings for the officers, e.g. a declaration that contradicts the verified identity.
    findings = JSONField(null=True)
    created_at = UTCDateTimeField(default=now)

    class Meta:
        # The review queue: by status, nearest check deadline first.
        indexes = ((("status", "check_due_at"), False), (("check_due_at",), False))

    @property
    def status_label(self) -> str:
        return workflow.DOSSIER_STATUSES.get(self.status, self.status)

    @property
    def profile(self):
        """The CPMI as this dossier's P3MI declared it: the office's profile, unless the company
        declared something else (then its own declaration, never another company's data)."""
        if not self.declared_profile:
            return self.candidate
        values = dict(self.declared_profile)
        for name in ("birth_date", "permit_date", "health_date"):
            if values.get(name):
                values[name] = dt.date.fromisoformat(values[name])
        return SimpleNamespace(**values)

    def __str__(self):
        return f"Berkas #{self.id} — {self.candidate.name}"


class DocumentSlot(BaseModel):
    """A place in the dossier for one required document (from the requirement matrix)."""

    dossier = peewee.ForeignKeyField(Dossier, backref="slots", on_delete="CASCADE")
    doc_type = peewee.CharField(max_length=40)
    label = peewee.CharField(max_length=120)
    owner = peewee.CharField(max_length=10, default="cpmi")
    position = peewee.IntegerField(default=0)
    status = peewee.CharField(max_length=20, default=workflow.SlotStatus.KOSONG, choices=list(workflow.SLOT_STATUSES.items()))
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
    state = peewee.CharField(max_length=10, default=workflow.UploadState.QUEUED,
                             choices=list(workflow.UPLOAD_STATES.items()))
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

    class Meta:
        # The dashboard and the reconciler read uploads by state and time.
        indexes = ((("state", "uploaded_at"), False), (("uploaded_at",), False))

    @property
    def state_label(self) -> str:
        return workflow.UPLOAD_STATES.get(self.state, self.state)

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
