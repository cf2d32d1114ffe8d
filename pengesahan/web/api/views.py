"""The P3MI API's endpoints: dossiers, uploads, company documents and placement agreements.

Thin: each view scopes the query to the token's company (another company's id answers 404,
never 403), then calls a service and dumps the result.
"""

from __future__ import annotations

import datetime as dt

import peewee
from flask import current_app, url_for
from flask_smorest import Blueprint
from marshmallow import RAISE

from pengesahan.errors import NotFound
from pengesahan.records.agreements import Agreement
from pengesahan.records.base import PreparedSelect
from pengesahan.records.dossiers import DocumentSlot, Dossier, Upload, with_current_uploads
from pengesahan.records.people import Candidate
from pengesahan.services import dossiers, ratification
from pengesahan.services.uploads import accept_upload
from pengesahan.web.api import schemas
from pengesahan.web.api.auth import authenticate, current_actor, current_company
from pengesahan.web.api.idempotency import HEADER, idempotent
from pengesahan.web.files import send_signed_pdf

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api/v1",
               description="API P3MI: berkas CPMI, unggahan dokumen dan Perjanjian Penempatan.")

_IDEMPOTENCY_PARAMETER = {
    "in": "header", "name": HEADER, "required": False, "schema": {"type": "string", "maxLength": 200},
    "description": "Kunci unik per permintaan; POST yang diulang dengan kunci yang sama tidak membuat dua kali.",
}
_ERROR_TEXT = {
    400: "Permintaan tidak sah", 401: "Token tidak ada, tidak dikenal atau dicabut",
    404: "Tidak ditemukan (atau milik perusahaan lain)", 409: "Bertentangan dengan keadaan saat ini",
    413: "Berkas lebih dari 5 MB", 422: "Data tidak sah (rincian per kolom)",
    429: "Terlalu banyak permintaan",
}


def _errors(*codes: int):
    """Document the error responses of a view (401, 422 and 429 are possible everywhere)."""

    def decorator(view):
        for code in sorted({400, 401, 422, 429, *codes}):
            view = bp.alt_response(code, schema=schemas.ErrorSchema, description=_ERROR_TEXT[code])(view)
        return view

    return decorator


@bp.before_request
def _authenticate():
    authenticate()


@bp.after_request
def _challenge(response):
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


# --- lookups scoped to the company ---------------------------------------------------------------


def _dossier(dossier_id: int) -> Dossier:
    dossier = Dossier.get_or_none((Dossier.id == dossier_id) & (Dossier.company == current_company()))
    if dossier is None:
        raise NotFound("Berkas tidak ditemukan.")
    return dossier


def _slots_of(dossier_id, company_id) -> peewee.ModelSelect:
    """The slots of the company's dossier, each read with its dossier (an upload's records need
    both), in the dossier's order."""
    return (DocumentSlot.select(DocumentSlot, Dossier).join(Dossier)
            .where((Dossier.id == dossier_id) & (Dossier.company == company_id))
            .order_by(DocumentSlot.position, DocumentSlot.id))


#: Every upload reads its slot by one of these: prepared, their SQL built once.
_SLOT_BY_ID = PreparedSelect(lambda dossier_id, company_id, slot_id:
                             _slots_of(dossier_id, company_id).where(DocumentSlot.id == slot_id))
_COMPANY_SLOT_BY_TYPE = PreparedSelect(lambda dossier_id, company_id, doc_type: _slots_of(dossier_id, company_id)
                                       .where((DocumentSlot.owner == "p3mi") & (DocumentSlot.doc_type == doc_type)))


def _slot(dossier_id: int, slot_id: int) -> DocumentSlot:
    return _found_slot(_SLOT_BY_ID.first(dossier_id, current_company().id, slot_id), dossier_id,
                       "Slot dokumen tidak ditemukan.")


def _found_slot(slot: DocumentSlot | None, dossier_id: int, missing: str) -> DocumentSlot:
    """``slot``, or the 404 naming whichever is missing: the dossier or the slot."""
    if slot is None:
        _dossier(dossier_id)  # no such dossier for this company: that 404 first
        raise NotFound(missing)
    return slot


def _agreement(agreement_id: int) -> Agreement:
    agreement = (Agreement.select().join(Dossier)
                 .where((Agreement.id == agreement_id) & (Dossier.company == current_company())).first())
    if agreement is None:
        raise NotFound("Perjanjian tidak ditemukan.")
    return agreement


def _page(query, args) -> dict:
    page, size = args["page"], args["page_size"]
    return {"items": list(query.paginate(page, size)), "page": page, "page_size": size,
            "total": query.count()}


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


# --- dossiers ------------------------------------------------------------------------------------


@bp.route("/dossiers", methods=["POST"])
@idempotent
@bp.doc(parameters=[_IDEMPOTENCY_PARAMETER])
@bp.arguments(schemas.DossierCreateSchema)
@bp.response(201, schemas.DossierDetailSchema, description="Berkas dibuat")
@bp.alt_response(200, schema=schemas.DossierDetailSchema,
                 description="Berkas terbuka perusahaan ini untuk NIK tersebut sudah ada; tidak dibuat lagi")
@_errors(409)
def create_dossier(body: dict):
    """Buat berkas CPMI beserta profilnya (idempoten menurut NIK)."""
    profile = body.pop("candidate")
    draft = body.pop("draft")
    dossier, created = dossiers.open_for_candidate(current_company(), profile, body, actor=current_actor(),
                                                   draft=draft)
    return dossier, (201 if created else 200), {"Location": url_for("api.get_dossier", dossier_id=dossier.id)}


@bp.route("/dossiers/<int(max=2147483647):dossier_id>/submit", methods=["POST"])
@bp.response(200, schemas.DossierDetailSchema, description="Berkas diajukan; batas waktu petugas mulai berjalan")
@_errors(404, 409)
def submit_dossier(dossier_id: int):
    """Ajukan berkas draf ke Dinas setelah setiap slot berisi berkas (409 menyebut slot yang masih kosong)."""
    return dossiers.submit_dossier(_dossier(dossier_id), actor=current_actor())


@bp.route("/dossiers", methods=["GET"])
@bp.arguments(schemas.DossierListArgs, location="query", unknown=RAISE)
@bp.response(200, schemas.DossierPageSchema)
@_errors()
def list_dossiers(args: dict):
    """Daftar berkas perusahaan, terbaru dahulu; saring menurut status dan tanggal pengajuan."""
    # Each item names its CPMI: the candidates come in the same query, not one per item.
    query = Dossier.select(Dossier, Candidate).join(Candidate).where(Dossier.company == current_company())
    if args.get("status"):
        query = query.where(Dossier.status == args["status"])
    if args.get("submitted_from"):
        query = query.where(Dossier.submitted_at >= _day_start(args["submitted_from"]))
    if args.get("submitted_to"):
        query = query.where(Dossier.submitted_at < _day_start(args["submitted_to"] + dt.timedelta(days=1)))
    return _page(query.order_by(Dossier.id.desc()), args)


@bp.route("/dossiers/<int(max=2147483647):dossier_id>", methods=["GET"])
@bp.response(200, schemas.DossierDetailSchema)
@_errors(404)
def get_dossier(dossier_id: int):
    """Satu berkas: status setiap slot, hasil pemeriksaan, alasan penolakan, keadaan proses."""
    return _dossier(dossier_id)


def _upload_into(slot: DocumentSlot, file_storage) -> tuple[Upload, int, dict]:
    upload = accept_upload(current_app.config["SETTINGS"], slot, file_storage.stream, file_storage.filename,
                           current_actor())
    return upload, 202, {"Location": url_for("api.get_upload", upload_id=upload.id)}


@bp.route("/dossiers/<int(max=2147483647):dossier_id>/slots/<int(max=2147483647):slot_id>/uploads", methods=["POST"])
@idempotent
@bp.doc(parameters=[_IDEMPOTENCY_PARAMETER])
@bp.arguments(schemas.FileSchema, location="files")
@bp.response(202, schemas.UploadSchema, description="Diterima; pemeriksaan berjalan di antrean")
@_errors(404, 409, 413)
def upload_document(files: dict, dossier_id: int, slot_id: int):
    """Unggah dokumen ke slot berkas (JPG, PNG atau PDF, maksimum 5 MB, dinilai dari isinya)."""
    return _upload_into(_slot(dossier_id, slot_id), files["file"])


@bp.route("/uploads/<int(max=2147483647):upload_id>", methods=["GET"])
@bp.response(200, schemas.UploadSchema)
@_errors(404)
def get_upload(upload_id: int):
    """Keadaan pemrosesan satu unggahan (antrean, proses, selesai, gagal) dan hasil pemeriksaannya."""
    upload = (Upload.select().join(DocumentSlot).join(Dossier)
              .where((Upload.id == upload_id) & (Dossier.company == current_company())).first())
    if upload is None:
        raise NotFound("Unggahan tidak ditemukan.")
    return upload


# --- the company's own documents -------------------------------------------------------------------


def _company_slots(dossier: Dossier):
    return dossier.slots.where(DocumentSlot.owner == "p3mi").order_by(DocumentSlot.position, DocumentSlot.id)


@bp.route("/dossiers/<int(max=2147483647):dossier_id>/company-documents", methods=["GET"])
@bp.response(200, schemas.SlotSchema(many=True))
@_errors(404)
def list_company_documents(dossier_id: int):
    """Dokumen milik P3MI dalam berkas (SIUP/OSS, SIP2MI, surat tugas, surat pengangkatan, PKWT,
    KTP petugas, surat permohonan, Perjanjian Penempatan)."""
    return with_current_uploads(_company_slots(_dossier(dossier_id)))


@bp.route("/dossiers/<int(max=2147483647):dossier_id>/company-documents/<doc_type>", methods=["POST"])
@idempotent
@bp.doc(parameters=[_IDEMPOTENCY_PARAMETER])
@bp.arguments(schemas.FileSchema, location="files")
@bp.response(202, schemas.UploadSchema, description="Diterima; pemeriksaan berjalan di antrean")
@_errors(404, 409, 413)
def upload_company_document(files: dict, dossier_id: int, doc_type: str):
    """Unggah dokumen milik P3MI menurut jenisnya (mis. siup_oss, pkwt, perjanjian_penempatan)."""
    slot = _found_slot(_COMPANY_SLOT_BY_TYPE.first(dossier_id, current_company().id, doc_type), dossier_id,
                       "Berkas ini tidak memiliki slot dokumen P3MI dengan jenis tersebut.")
    return _upload_into(slot, files["file"])


# --- placement agreements ------------------------------------------------------------------------


@bp.route("/dossiers/<int(max=2147483647):dossier_id>/agreements", methods=["POST"])
@idempotent
@bp.doc(parameters=[_IDEMPOTENCY_PARAMETER])
@bp.arguments(schemas.AgreementCreateSchema)
@bp.response(201, schemas.AgreementSchema, description="Diajukan; menunggu verifikasi petugas")
@_errors(404, 409)
def submit_agreement(body: dict, dossier_id: int):
    """Ajukan Perjanjian Penempatan berkas (draf PDF diunggah di slot perjanjian_penempatan)."""
    agreement = ratification.submit_agreement(
        _dossier(dossier_id), employer_name=body.get("employer_name"),
        destination_country=body.get("destination_country"), job_title=body.get("job_title"),
        contract_months=body["contract_months"], actor=current_actor(), settings=current_app.config["SETTINGS"])
    return agreement, 201, {"Location": url_for("api.get_agreement", agreement_id=agreement.id)}


@bp.route("/agreements", methods=["GET"])
@bp.arguments(schemas.AgreementListArgs, location="query", unknown=RAISE)
@bp.response(200, schemas.AgreementPageSchema)
@_errors()
def list_agreements(args: dict):
    """Daftar Perjanjian Penempatan perusahaan, terbaru dahulu; saring menurut status."""
    query = Agreement.select().join(Dossier).where(Dossier.company == current_company())
    if args.get("status"):
        query = query.where(Agreement.status == args["status"])
    return _page(query.order_by(Agreement.id.desc()), args)


@bp.route("/agreements/<int(max=2147483647):agreement_id>", methods=["GET"])
@bp.response(200, schemas.AgreementSchema)
@_errors(404)
def get_agreement(agreement_id: int):
    """Status satu Perjanjian Penempatan."""
    return _agreement(agreement_id)


@bp.route("/agreements/<int(max=2147483647):agreement_id>/draft", methods=["POST"])
@idempotent
@bp.doc(parameters=[_IDEMPOTENCY_PARAMETER])
@bp.arguments(schemas.FileSchema, location="files")
@bp.response(200, schemas.AgreementSchema, description="Draf perbaikan diterima; PP diajukan kembali dengan "
                                                       "nomor yang sama dan menunggu verifikasi petugas")
@_errors(404, 409, 413)
def correct_agreement(files: dict, agreement_id: int):
    """Perbaiki PP yang dikembalikan: unggah draf PDF yang sudah diperbaiki dan ajukan kembali (409 bila PP
    tidak sedang dikembalikan atau draf menyebut CPMI, NIK atau negara lain daripada berkas)."""
    file = files["file"]
    return ratification.correct_agreement(current_app.config["SETTINGS"], _agreement(agreement_id), file.stream,
                                          file.filename, current_actor())


@bp.route("/agreements/<int(max=2147483647):agreement_id>/pdf", methods=["GET"])
@bp.response(200, description="PDF Perjanjian Penempatan yang sudah disahkan dan ditandatangani",
              content_type="application/pdf")
@_errors(404)
def agreement_pdf(agreement_id: int):
    """Unduh PDF yang telah disahkan (404 sampai ditandatangani)."""
    agreement = _agreement(agreement_id)
    if not agreement.signed_sha256:
        raise NotFound("Perjanjian ini belum disahkan dan ditandatangani.", details={"status": agreement.status})
    return send_signed_pdf(agreement)
