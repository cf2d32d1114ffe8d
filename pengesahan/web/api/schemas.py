"""The API's request and response bodies (marshmallow): the OpenAPI document is generated
from these, and requests are validated against them."""

from __future__ import annotations

from flask import url_for
from flask_smorest.fields import Upload as UploadField
from marshmallow import Schema, ValidationError, fields, validate

from pengesahan import workflow
from pengesahan.records.dossiers import DocumentSlot, with_current_uploads
from pengesahan.workflow import UPLOAD_STATES
from processing.fields import parse_nik

__all__ = [
    "AgreementCreateSchema",
    "AgreementListArgs",
    "AgreementPageSchema",
    "AgreementSchema",
    "DossierCreateSchema",
    "DossierDetailSchema",
    "DossierListArgs",
    "DossierPageSchema",
    "DossierSummarySchema",
    "ErrorSchema",
    "FileSchema",
    "SlotSchema",
    "UploadSchema",
]

_DIGITS_16 = r"^[0-9]{16}$"


def _valid_nik(value: str) -> None:
    try:
        parse_nik(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def _text(max_length: int, *, required: bool = False, description: str = "") -> fields.String:
    if required:
        return fields.String(required=True, validate=validate.Length(
            min=1, max=max_length, error=f"Wajib diisi, paling panjang {max_length} karakter."),
            metadata={"description": description})
    return fields.String(load_default="", validate=validate.Length(
        max=max_length, error=f"Paling panjang {max_length} karakter."), metadata={"description": description})


def _optional_digits(description: str) -> fields.String:
    return fields.String(load_default="", validate=validate.Regexp(
        r"^([0-9]{16})?$", error="Harus 16 digit angka."), metadata={"description": description})


# --- errors ----------------------------------------------------------------------------------------


class _ErrorBody(Schema):
    code = fields.String(required=True, metadata={"description": "Kode galat yang stabil"})
    message = fields.String(required=True, metadata={"description": "Pesan dalam Bahasa Indonesia"})
    details = fields.Dict(required=True, metadata={"description": "Rincian, mis. galat per kolom"})


class ErrorSchema(Schema):
    """Every error: ``{"error": {"code", "message", "details"}}``."""

    error = fields.Nested(_ErrorBody, required=True)


# --- candidates and dossiers ------------------------------------------------------------------------


class CandidateSchema(Schema):
    """The CPMI's SIAPkerja profile."""

    nik = fields.String(required=True, validate=[validate.Regexp(_DIGITS_16, error="NIK harus 16 digit angka."),
                                                 _valid_nik], metadata={"description": "NIK (16 digit)"})
    name = _text(200, required=True, description="Nama lengkap sesuai KTP")
    sex = fields.String(required=True, validate=validate.OneOf(["L", "P"], error="Isi L atau P."),
                        metadata={"description": "L (laki-laki) atau P (perempuan)"})
    birth_place = _text(100)
    birth_date = fields.Date(required=True)
    religion = _text(40)
    marital_status = fields.String(load_default="belum_kawin", validate=validate.OneOf(
        ["belum_kawin", "kawin", "cerai"], error="Isi belum_kawin, kawin atau cerai."))
    address = _text(1000)
    phone = _text(40)
    kk_number = _optional_digits("Nomor Kartu Keluarga")
    kk_head_nik = _optional_digits("NIK kepala keluarga")
    father_name = _text(200)
    mother_name = _text(200)
    guardian_name = _text(200)
    emergency_name = _text(200)
    emergency_relation = _text(60)
    emergency_phone = _text(40)
    emergency_address = _text(1000)
    permit_village_number = _text(80, description="Nomor register kelurahan/desa pada surat izin")
    permit_date = fields.Date(load_default=None, allow_none=True)
    permit_village_head = _text(200)
    permit_giver_nik = _optional_digits("NIK pemberi izin")
    permit_giver_name = _text(200)
    health_cert_number = _text(80)
    health_clinic = _text(200)
    health_doctor = _text(200)
    health_date = fields.Date(load_default=None, allow_none=True)
    bnsp_number = _text(80)
    bpjs_number = _text(40)


class CandidateBriefSchema(Schema):
    nik = fields.String()
    name = fields.String()
    sex = fields.String()
    birth_date = fields.Date()


class DossierCreateSchema(Schema):
    """A new dossier: the CPMI's profile and the placement it is for."""

    candidate = fields.Nested(CandidateSchema, required=True)
    destination_country = _text(80, description="Negara penempatan")
    employer_name = _text(200, description="Pemberi kerja")
    job_title = _text(120, description="Jabatan")
    draft = fields.Boolean(load_default=False, metadata={
        "description": "true: berkas dibuat sebagai draf (status `draf`), tidak terlihat petugas dan tanpa batas "
                       "waktu, sampai diajukan dengan POST /dossiers/{id}/submit setelah semua slot berisi berkas"})


class _Timestamps(Schema):
    submitted_at = fields.DateTime()


class AgreementBriefSchema(Schema):
    id = fields.Integer()
    number = fields.String()
    status = fields.String()


class DossierSummarySchema(_Timestamps):
    """A dossier in a list."""

    id = fields.Integer()
    status = fields.String(metadata={"enum": list(workflow.DOSSIER_STATUSES)})
    status_label = fields.String()
    # What this company declared; another company's data for the same NIK is never shown.
    candidate = fields.Nested(CandidateBriefSchema, attribute="profile")
    destination_country = fields.String()
    employer_name = fields.String()
    job_title = fields.String()
    cpmi_id = fields.String(allow_none=True)
    check_due_at = fields.DateTime(allow_none=True)
    service_due_at = fields.DateTime(allow_none=True)
    verified_at = fields.DateTime(allow_none=True)


class CheckSchema(Schema):
    name = fields.String()
    ok = fields.Boolean(allow_none=True)
    value = fields.Raw(allow_none=True)
    message = fields.String(allow_none=True)
    by_model = fields.Boolean(dump_default=False, metadata={
        "description": "Gagal menurut model kantor yang belajar dari keputusan petugas, bukan menurut aturan."})


class UploadSchema(Schema):
    """A stored file and its processing state."""

    id = fields.Integer()
    slot_id = fields.Integer()
    state = fields.String(metadata={"enum": [str(s) for s in UPLOAD_STATES]})
    state_label = fields.String()
    state_reason = fields.String()
    progress = fields.Integer(metadata={"description": "0–100"})
    media_type = fields.String()
    size = fields.Integer()
    original_name = fields.String()
    sha256 = fields.String()
    uploaded_at = fields.DateTime()
    processed_at = fields.DateTime(allow_none=True)
    pages = fields.Integer(allow_none=True)
    classified_type = fields.String(allow_none=True)
    confidence = fields.Float(allow_none=True)
    checks = fields.List(fields.Nested(CheckSchema, unknown="include"), allow_none=True)
    capture_rotation = fields.Integer(allow_none=True, metadata={
        "description": "Derajat isi gambar terputar searah jarum jam (0, 90, 180, 270); ditegakkan sebelum "
                       "diperiksa. Kosong sebelum diproses."})
    capture_mirrored = fields.Boolean(allow_none=True, metadata={
        "description": "Gambar tercermin (foto kamera depan); dibalik sebelum diperiksa."})
    capture_note = fields.String(allow_none=True, metadata={
        "description": "Keterangan penegakan gambar dalam kata-kata; kosong bila tidak perlu."})


class SlotSchema(Schema):
    """A document slot of the dossier, with its current upload and the officer's decision."""

    id = fields.Integer()
    doc_type = fields.String()
    label = fields.String()
    owner = fields.String(metadata={"enum": ["cpmi", "p3mi"]})
    status = fields.String(metadata={"enum": list(workflow.SLOT_STATUSES)})
    status_label = fields.String()
    reason = fields.String(metadata={"description": "Alasan penolakan petugas (jika Ditolak)"})
    upload = fields.Nested(UploadSchema, attribute="current_upload", allow_none=True)


class DossierDetailSchema(DossierSummarySchema):
    """A dossier with every slot and its agreements."""

    slots = fields.Method("_slots", metadata={"type": "array", "items": {"$ref": "#/components/schemas/Slot"}})

    def _slots(self, dossier) -> list[dict]:
        return SlotSchema(many=True).dump(with_current_uploads(dossier.slots.order_by(DocumentSlot.position,
                                                                                     DocumentSlot.id)))
    agreements = fields.List(fields.Nested(AgreementBriefSchema))


class _PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000,
                                                                  error="Halaman mulai dari 1."))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100,
                                                                        error="Antara 1 dan 100."))


class DossierListArgs(_PageArgs):
    status = fields.String(validate=validate.OneOf(list(workflow.DOSSIER_STATUSES),
                                                   error="Status tidak dikenal."))
    submitted_from = fields.Date(metadata={"description": "Diajukan pada/sesudah tanggal ini (UTC)"})
    submitted_to = fields.Date(metadata={"description": "Diajukan pada/sebelum tanggal ini (UTC)"})


class _Page(Schema):
    page = fields.Integer()
    page_size = fields.Integer()
    total = fields.Integer()


class DossierPageSchema(_Page):
    items = fields.List(fields.Nested(DossierSummarySchema))


class FileSchema(Schema):
    """A multipart upload: one JPG, PNG or PDF of at most 5 MB in the field ``file``."""

    file = UploadField(required=True, metadata={"description": "JPG, PNG atau PDF, maksimum 5 MB"})


# --- agreements -------------------------------------------------------------------------------------


class AgreementCreateSchema(Schema):
    """The placement agreement's data; empty fields take the dossier's values."""

    employer_name = _text(200, description="Pemberi kerja (bawaan: dari berkas)")
    destination_country = _text(80, description="Negara penempatan (bawaan: dari berkas)")
    job_title = _text(120, description="Jabatan (bawaan: dari berkas)")
    contract_months = fields.Integer(load_default=24, validate=validate.Range(
        min=1, max=120, error="Masa kontrak harus antara 1 dan 120 bulan."))


class AgreementSchema(Schema):
    """A placement agreement and where it stands."""

    id = fields.Integer()
    dossier_id = fields.Integer()
    kind = fields.String()
    number = fields.String()
    status = fields.String(metadata={"enum": list(workflow.AGREEMENT_STATUSES)})
    status_label = fields.String()
    employer_name = fields.String()
    destination_country = fields.String()
    job_title = fields.String()
    contract_months = fields.Integer()
    submitted_at = fields.DateTime()
    verified_at = fields.DateTime(allow_none=True)
    return_reason = fields.String()
    signed_at = fields.DateTime(allow_none=True)
    pdf_url = fields.Function(
        lambda a: url_for("api.agreement_pdf", agreement_id=a.id) if a.signed_sha256 else None,
        allow_none=True, metadata={"type": "string", "description": "Unduhan PDF bila sudah disahkan"})


class AgreementListArgs(_PageArgs):
    status = fields.String(validate=validate.OneOf(list(workflow.AGREEMENT_STATUSES),
                                                   error="Status tidak dikenal."))


class AgreementPageSchema(_Page):
    items = fields.List(fields.Nested(AgreementSchema))
