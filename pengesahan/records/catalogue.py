"""Low-code configuration kept as data and edited in the admin: document types, the
requirement matrix, check thresholds, rejection-reason templates, SLA durations, letter
templates and plain settings."""

from __future__ import annotations

import peewee

from pengesahan.records.base import BaseModel, UTCDateTimeField, now
from processing.spec import DocTypeSpec, Thresholds

OWNERS = [("cpmi", "CPMI"), ("p3mi", "P3MI")]
CONDITIONS = [("", "Selalu"), ("menikah", "Hanya jika menikah")]


class DocumentType(BaseModel):
    """A document type: its code (shared vocabulary), name and what the classifier looks for."""

    code = peewee.CharField(max_length=40, unique=True)
    name = peewee.CharField(max_length=200)
    keywords = peewee.TextField(default="", help_text="Satu kata kunci per baris")
    layout = peewee.CharField(
        max_length=10, default="any", choices=[("card", "Kartu"), ("page", "Lembar"), ("any", "Bebas")]
    )
    allowed_formats = peewee.CharField(
        max_length=100, default="image/jpeg,image/png,application/pdf"
    )

    def to_spec(self) -> DocTypeSpec:
        return DocTypeSpec(
            code=self.code,
            name=self.name,
            keywords=tuple(k.strip().lower() for k in self.keywords.splitlines() if k.strip()),
            layout=self.layout,
            allowed_media_types=tuple(f.strip() for f in self.allowed_formats.split(",") if f.strip()),
        )

    def __str__(self):
        return f"{self.name} ({self.code})"


class Requirement(BaseModel):
    """One line of the requirement matrix: a dossier needs this type (under a condition)."""

    doc_type = peewee.ForeignKeyField(DocumentType, backref="requirements", on_delete="CASCADE")
    slot_label = peewee.CharField(max_length=120, help_text="Nama slot, mis. 'KTP CPMI'")
    owner = peewee.CharField(max_length=10, choices=OWNERS, default="cpmi")
    condition = peewee.CharField(max_length=20, choices=CONDITIONS, default="")
    position = peewee.IntegerField(default=0, help_text="Urutan tampil (nomor SOP)")

    def applies_to(self, candidate) -> bool:
        """Whether a dossier of ``candidate`` needs this slot."""
        if self.condition == "menikah":
            return candidate.is_married
        return True

    def __str__(self):
        return self.slot_label


class CheckThreshold(BaseModel):
    """A threshold of a scan check, for all types or one type."""

    check = peewee.CharField(max_length=20)
    doc_type = peewee.CharField(max_length=40, default="", help_text="Kosong = semua jenis")
    value = peewee.FloatField()

    class Meta:
        indexes = ((("check", "doc_type"), True),)

    def __str__(self):
        return f"{self.check}{'/' + self.doc_type if self.doc_type else ''} = {self.value}"


def load_thresholds() -> Thresholds:
    """The thresholds as configured, for the processing package."""
    values: dict[str, float] = {}
    per_type: dict[tuple[str, str], float] = {}
    for row in CheckThreshold.select():
        if row.doc_type:
            per_type[(row.doc_type, row.check)] = row.value
        else:
            values[row.check] = row.value
    return Thresholds(values=values, per_type=per_type)


class RejectionTemplate(BaseModel):
    """A ready-made rejection reason officers pick instead of typing."""

    code = peewee.CharField(max_length=40, unique=True)
    text = peewee.TextField()
    #: The defect this reason names (a key of processing.spec.DEFECT_CHECKS), if it names one:
    #: a slot returned with it is counted against the checks meant to see that defect.
    defect = peewee.CharField(max_length=20, null=True)

    def __str__(self):
        return self.text


class SlaSetting(BaseModel):
    """A service-level duration in working days (SOP: check 1 day, service 3 days)."""

    code = peewee.CharField(max_length=20, unique=True)
    name = peewee.CharField(max_length=120)
    working_days = peewee.IntegerField()

    def __str__(self):
        return f"{self.name}: {self.working_days} hari kerja"


class LetterTemplate(BaseModel):
    """The editable text of a generated letter (lembar pengesahan, rekomendasi paspor)."""

    code = peewee.CharField(max_length=40, unique=True)
    name = peewee.CharField(max_length=120)
    body = peewee.TextField()
    updated_at = UTCDateTimeField(default=now)

    def __str__(self):
        return self.name


class Setting(BaseModel):
    """A plain key/value setting (office name, region code, CPMI ID pattern...)."""

    key = peewee.CharField(max_length=60, unique=True)
    value = peewee.TextField()
    description = peewee.TextField(default="")

    @classmethod
    def get_value(cls, key: str, default: str = "") -> str:
        row = cls.get_or_none(cls.key == key)
        return row.value if row else default

    def __str__(self):
        return self.key


def sla_days(code: str, default: int) -> int:
    row = SlaSetting.get_or_none(SlaSetting.code == code)
    return row.working_days if row else default
