"""The P3MI's portal: its dossiers, a new dossier from the SIAPkerja data, the document
checklist with uploads and their live checks, the placement agreement (PP), and the company's
own administration (its logins, API tokens and webhook; services.companies says who may).

Thin like every door: each view scopes the record to the user's company (another company's id
answers 404, never 403), calls a service and renders what it returns. Errors are shown beside
the field or slot that caused them, with the service error's HTTP status.
"""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from pengesahan import workflow
from pengesahan.errors import ServiceError
from pengesahan.records.agreements import Agreement
from pengesahan.records.base import now
from pengesahan.records.catalogue import DocumentType, sla_days
from pengesahan.records.dossiers import DocumentSlot, Dossier, Upload, with_current_uploads
from pengesahan.records.people import Company
from pengesahan.services import companies, dashboard, dossiers, drafts, ratification
from pengesahan.services.uploads import accept_upload
from pengesahan.timefmt import format_moment, parse_day
from pengesahan.web.auth import roles_required
from pengesahan.web.files import send_signed_pdf
from pengesahan.workflow import DossierStatus, SlotStatus, UploadState
from processing.fields import parse_nik

__all__ = ["bp", "fix_hint"]

bp = Blueprint("portal", __name__, url_prefix="/portal")

#: Slot statuses in which the P3MI may put a (new) file into the slot.
_OPEN_SLOT_STATUSES = (SlotStatus.KOSONG, SlotStatus.DIAJUKAN, SlotStatus.DITOLAK)


def _may_upload(slot: DocumentSlot) -> bool:
    """Open slots, and the PP draft until the agreement is submitted (returned agreements are
    corrected through their own form, which resubmits them in the same step)."""
    return slot.status in _OPEN_SLOT_STATUSES or dossiers.draft_awaits_submission(slot)


#: How each failed check is fixed, in the P3MI's words; ``{expected}``/``{detected}`` are types.
FIX_HINTS = {
    "blur": "Foto ulang dengan kamera diam dan fokus.",
    "exposure": "Foto ulang di tempat terang, tanpa pantulan lampu.",
    "crop": "Seluruh kartu harus terlihat: foto ulang dengan keempat sudut dokumen di dalam bingkai.",
    "type_match": "Unggah {expected}, bukan {detected}.",
    "resolution": "Foto lebih dekat atau pindai minimal 300 dpi, agar tulisan kecil terbaca.",
    "skew": "Letakkan dokumen lurus di meja dan foto tegak dari atas.",
    "nik": "Pastikan NIK pada dokumen terlihat jelas dan sama dengan NIK pada formulir.",
    "legible": "Tulisan belum terbaca: foto ulang lebih dekat, fokus dan di tempat terang.",
    "duplicate": "Berkas ini sama dengan dokumen lain; unggah dokumen yang benar untuk slot ini.",
    "blank": "Halaman yang diunggah kosong; unggah halaman yang berisi dokumen.",
    "text_layer": "Bila ada, unggah PDF asli dari aplikasi (bukan hasil pindai).",
    "format": "Unggah foto JPG/PNG atau PDF.",
    "size": "Perkecil berkas hingga di bawah 5 MB, mis. foto ulang dengan resolusi kamera lebih rendah.",
    "pp_match": "Ganti dengan draf PP untuk CPMI ini: NIK, nama dan negara penempatan seperti pada berkas.",
}
RELIGIONS = ["Islam", "Kristen", "Katolik", "Hindu", "Buddha", "Konghucu", "Kepercayaan"]


# --- forms -------------------------------------------------------------------------------------------


class StrictDateField(StringField):
    """A date typed dd-mm-yyyy, exactly: two-digit day and month, four-digit year, a real day."""

    def process_formdata(self, valuelist):
        self.data = None
        self.raw = (valuelist[0] if valuelist else "").strip()
        if not self.raw:
            return
        self.data = parse_day(self.raw)  # the one strict dd-mm-yyyy rule; its ValueError is the message

    def _value(self):
        if self.data:
            return self.data.strftime("%d-%m-%Y")
        return getattr(self, "raw", "") or ""


def _nik_structure(form, field) -> None:
    """The NIK rule of the API (processing.fields.parse_nik): region, birth date, serial."""
    if field.data:
        try:
            parse_nik(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def _not_future(form, field) -> None:
    if field.data and field.data > dt.date.today():
        raise ValidationError("Tanggal tidak boleh setelah hari ini.")


def _text(label: str, max_length: int, required: bool = False, **kwargs) -> StringField:
    checks = [DataRequired("Wajib diisi.")] if required else [Optional()]
    return StringField(label, validators=[*checks, Length(max=max_length,
                                                          message=f"Paling panjang {max_length} karakter.")],
                       **kwargs)


def _digits16(label: str) -> StringField:
    return StringField(label, validators=[Optional(), Regexp(r"^[0-9]{16}$", message="Harus 16 digit angka.")])


_PHONE = Regexp(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$", message="Nomor telepon: angka, boleh diawali +.")


class DossierForm(FlaskForm):
    """The CPMI's SIAPkerja data and the placement, as the API's DossierCreateSchema."""

    nik = StringField("NIK", validators=[DataRequired("Wajib diisi."),
                                         Regexp(r"^[0-9]{16}$", message="NIK harus 16 digit angka."),
                                         _nik_structure])
    name = _text("Nama lengkap (sesuai KTP)", 200, required=True)
    sex = SelectField("Jenis kelamin", choices=[("", "— pilih —"), ("L", "Laki-laki"), ("P", "Perempuan")],
                      validators=[DataRequired("Pilih jenis kelamin.")])
    birth_place = _text("Tempat lahir", 100, required=True)
    birth_date = StrictDateField("Tanggal lahir", validators=[InputRequired("Wajib diisi."), _not_future])
    religion = SelectField("Agama", choices=[("", "— pilih —")] + [(r, r) for r in RELIGIONS],
                           validators=[DataRequired("Pilih agama.")])
    marital_status = SelectField("Status perkawinan", choices=[("belum_kawin", "Belum kawin"), ("kawin", "Kawin"),
                                                               ("cerai", "Cerai")])
    address = TextAreaField("Alamat (sesuai KTP)", validators=[DataRequired("Wajib diisi."), Length(max=1000)])
    phone = StringField("Nomor telepon/HP", validators=[DataRequired("Wajib diisi."), _PHONE])
    kk_number = _digits16("Nomor Kartu Keluarga")
    kk_head_nik = _digits16("NIK kepala keluarga")
    father_name = _text("Nama ayah", 200)
    mother_name = _text("Nama ibu", 200)
    guardian_name = _text("Nama wali", 200)
    emergency_name = _text("Nama kontak darurat", 200)
    emergency_relation = _text("Hubungan", 60)
    emergency_phone = StringField("Telepon kontak darurat", validators=[Optional(), _PHONE])
    emergency_address = TextAreaField("Alamat kontak darurat", validators=[Optional(), Length(max=1000)])
    permit_village_number = _text("Nomor register surat izin (kelurahan/desa)", 80)
    permit_date = StrictDateField("Tanggal surat izin", validators=[Optional(), _not_future])
    permit_village_head = _text("Lurah/Kepala Desa yang mengetahui", 200)
    permit_giver_nik = _digits16("NIK pemberi izin")
    permit_giver_name = _text("Nama pemberi izin", 200)
    health_cert_number = _text("Nomor surat keterangan sehat", 80)
    health_clinic = _text("Sarana kesehatan", 200)
    health_doctor = _text("Dokter pemeriksa", 200)
    health_date = StrictDateField("Tanggal pemeriksaan kesehatan", validators=[Optional(), _not_future])
    bnsp_number = _text("Nomor sertifikat kompetensi BNSP", 80)
    bpjs_number = _text("Nomor BPJS Ketenagakerjaan", 40)
    destination_country = _text("Negara penempatan", 80, required=True)
    employer_name = _text("Pemberi kerja", 200, required=True)
    job_title = _text("Jabatan", 120, required=True)

    PLACEMENT = ("destination_country", "employer_name", "job_title")
    SECTIONS = (
        ("Identitas CPMI", ("nik", "name", "sex", "birth_place", "birth_date", "religion", "marital_status",
                            "address", "phone")),
        ("Kartu Keluarga dan orang tua", ("kk_number", "kk_head_nik", "father_name", "mother_name",
                                          "guardian_name")),
        ("Kontak darurat", ("emergency_name", "emergency_relation", "emergency_phone", "emergency_address")),
        ("Surat izin keluarga", ("permit_village_number", "permit_date", "permit_village_head",
                                 "permit_giver_nik", "permit_giver_name")),
        ("Kesehatan, kompetensi, jaminan sosial", ("health_cert_number", "health_clinic", "health_doctor",
                                                   "health_date", "bnsp_number", "bpjs_number")),
        ("Penempatan", PLACEMENT),
    )

    def profile(self) -> dict:
        """The candidate's fields, as ``open_for_candidate`` takes them."""
        names = [n for _, fields in self.SECTIONS for n in fields if n not in self.PLACEMENT]
        return {n: self._value(n) for n in names}

    def placement(self) -> dict:
        return {n: self._value(n) for n in self.PLACEMENT}

    def _value(self, name: str):
        # Dates stay dates (or None); a text field left out of the request is "", like the API.
        field = self[name]
        if isinstance(field, StrictDateField):
            return field.data
        return (field.data or "").strip()


class UploadForm(FlaskForm):
    file = FileField("Berkas", validators=[FileRequired("Pilih berkas untuk diunggah.")])


class AgreementForm(FlaskForm):
    employer_name = _text("Pemberi kerja", 200, required=True)
    destination_country = _text("Negara penempatan", 80, required=True)
    job_title = _text("Jabatan", 120, required=True)
    contract_months = IntegerField("Masa kontrak (bulan)", default=24, validators=[
        InputRequired("Wajib diisi."), NumberRange(1, 120, "Masa kontrak harus antara 1 dan 120 bulan.")])


class UserForm(FlaskForm):
    """A new P3MI login of the company."""

    username = StringField("Nama pengguna", validators=[
        DataRequired("Wajib diisi."),
        Regexp(r"^[A-Za-z0-9._-]{3,80}$", message="3–80 karakter: huruf, angka, titik, garis bawah atau tanda hubung.")])
    full_name = _text("Nama lengkap", 200, required=True)
    password = PasswordField("Kata sandi", validators=[DataRequired("Wajib diisi."), Length(max=200)],
                             description="Minimal 10 karakter dan tidak mudah ditebak.",
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Ulangi kata sandi", validators=[EqualTo("password", "Kata sandi tidak sama.")],
                            render_kw={"autocomplete": "new-password"})


class TokenForm(FlaskForm):
    name = _text("Nama token (mis. sistem yang memakainya)", 100, required=True)


class WebhookForm(FlaskForm):
    url = StringField("Alamat webhook", validators=[DataRequired("Wajib diisi."), Length(max=500)],
                      description="Alamat https:// yang menerima POST JSON.")


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


# --- lookups scoped to the company -----------------------------------------------------------------


def _company() -> Company:
    company = Company.get_or_none(Company.id == current_user.company_id) if current_user.company_id else None
    if company is None:
        abort(403)
    return company


def _dossier(dossier_id: int) -> Dossier:
    dossier = Dossier.get_or_none((Dossier.id == dossier_id) & (Dossier.company == _company()))
    if dossier is None:
        abort(404)
    return dossier


def _agreement(agreement_id: int) -> Agreement:
    agreement = (Agreement.select().join(Dossier)
                 .where((Agreement.id == agreement_id) & (Dossier.company == _company())).first())
    if agreement is None:
        abort(404)
    return agreement


@bp.before_request
@roles_required("p3mi")
def _p3mi_only():
    """Every page here is the P3MI's (roles_required answers before the view runs)."""


# --- what the pages show ----------------------------------------------------------------------------


def _type_names() -> dict[str, str]:
    return {t.code: t.name for t in DocumentType.select(DocumentType.code, DocumentType.name)}


def fix_hint(check: dict, expected: str, detected: str) -> str:
    """What to do about one failed check, in plain words."""
    hint = FIX_HINTS.get(check.get("name", ""), "")
    return hint.format(expected=expected, detected=detected or "dokumen lain")


def upload_state(upload: Upload | None, slot: DocumentSlot, type_names: dict[str, str]) -> dict | None:
    """An upload's processing state with each failed check and its fix, for the page and the poll."""
    if upload is None:
        return None
    failed = []
    for check in upload.checks or []:
        if check.get("ok") is False:
            failed.append({"name": check["name"], "label": dashboard.CHECK_LABELS.get(check["name"], check["name"]),
                           "message": check.get("message") or "",
                           "hint": fix_hint(check, type_names.get(slot.doc_type, slot.label),
                                            type_names.get(upload.classified_type or "", ""))})
    label = upload.state_label
    if upload.state == UploadState.DONE:
        # "Selesai" beside a list of failures reads as "all good"; say what the result means.
        label = f"Diperiksa: {len(failed)} hal perlu diperbaiki" if failed else "Diperiksa"
    return {"id": upload.id, "state": upload.state, "state_label": label, "progress": upload.progress,
            "state_reason": upload.state_reason, "original_name": upload.original_name,
            "media_type": upload.media_type, "failed": failed, "capture_note": upload.capture_note,
            "checked": len(upload.checks or []), "busy": upload.state in (UploadState.QUEUED, UploadState.RUNNING)}


def _slots(dossier: Dossier) -> list[DocumentSlot]:
    return with_current_uploads(dossier.slots.order_by(DocumentSlot.position, DocumentSlot.id))


def dossier_state(dossier: Dossier) -> dict:
    """Slots, uploads and completeness of a dossier: the page's data and the poll's answer."""
    type_names = _type_names()
    slot_rows = _slots(dossier)
    slots = []
    for slot in slot_rows:
        slots.append({"id": slot.id, "doc_type": slot.doc_type, "label": slot.label, "owner": slot.owner,
                      "position": slot.position, "status": slot.status, "status_label": slot.status_label,
                      "reason": slot.reason, "may_upload": _may_upload(slot),
                      "upload": upload_state(slot.current_upload, slot, type_names)})
    filled = sum(1 for s in slots if s["upload"] is not None)
    flagged = sum(1 for s in slots if s["upload"] and s["upload"]["failed"] and s["may_upload"])
    return {"id": dossier.id, "status": dossier.status, "status_label": dossier.status_label, "slots": slots,
            "draft": dossier.status == DossierStatus.DRAF,
            "missing": dossiers.missing_slots(dossier, slot_rows),
            "filled": filled, "total": len(slots), "complete": filled == len(slots), "flagged": flagged,
            "returned": sum(1 for s in slots if s["status"] == SlotStatus.DITOLAK),
            "pending": sum(1 for s in slots if s["upload"] and s["upload"]["busy"])}


def _clocks(dossier: Dossier, signed: bool) -> dict:
    """The two SLA clocks; ``signed``: whether a PP of the dossier is signed (the service done)."""
    moment = now()
    done = dossier.status == DossierStatus.TERVERIFIKASI
    return {"check": workflow.sla_label(dossier.check_due_at, moment, done),
            "check_overdue": not done and dossier.check_due_at is not None and dossier.check_due_at < moment,
            "service": workflow.sla_label(dossier.service_due_at, moment, signed),
            "service_overdue": not signed and dossier.service_due_at is not None and dossier.service_due_at < moment}


def _draft_problem(dossier: Dossier, agreement: Agreement | None) -> tuple[int, str] | None:
    """(slot id, what contradicts the dossier) when the PP slot's draft failed the worker's
    ``pp_match`` check, else None; the page says it apart from the checks once the slot is
    verified and the draft can no longer be replaced from the portal."""
    if agreement is not None:
        return None  # a submitted draft was compared on submission; a correction is compared too
    slot = dossier.slots.where(DocumentSlot.doc_type == drafts.DRAFT_TYPE).first()
    draft = slot.current_upload if slot else None
    for check in (draft.checks or []) if draft else []:
        if check.get("name") == drafts.DRAFT_CHECK and check.get("ok") is False:
            return slot.id, check.get("message") or ""
    return None


def _render_dossier(dossier: Dossier, status: int = 200, *, slot_errors: dict | None = None,
                    agreement_form: AgreementForm | None = None, pp_error: str | None = None,
                    submit_error: str | None = None):
    agreement = dossiers.placement_agreements([dossier.id]).get(dossier.id)
    if agreement_form is None:
        agreement_form = AgreementForm(formdata=None, employer_name=dossier.employer_name,
                                       destination_country=dossier.destination_country,
                                       job_title=dossier.job_title)
    return render_template(
        "portal/dossier.html", dossier=dossier, state=dossier_state(dossier),
        clocks=_clocks(dossier, dossier.id in dossiers.signed_placements([dossier.id])),
        agreement=agreement, passport=dossier.agreements.where(Agreement.kind == "rekomendasi_paspor").first(),
        upload_form=UploadForm(formdata=None), agreement_form=agreement_form, pp_error=pp_error,
        slot_errors=slot_errors or {}, draft_problem=_draft_problem(dossier, agreement),
        submit_form=FlaskForm(formdata=None), submit_error=submit_error,
        sla={"pemeriksaan": sla_days("pemeriksaan", 1), "layanan": sla_days("layanan", 3)}), status


# --- pages --------------------------------------------------------------------------------------------


@bp.route("/")
def index():
    """The company's dossiers, newest first, a page at a time, with status, clocks and returned
    documents; ``cari`` finds a CPMI by NIK or name."""
    company = _company()
    search = request.args.get("cari", "")[:100]
    page = max(1, request.args.get("halaman", 1, type=int))
    rows, total = dossiers.company_dossiers(company, page=page, search=search)
    pages = max(1, -(-total // dossiers.COMPANY_PAGE_SIZE))
    if page > pages:  # a page past the end (the list shrank, or a hand-made link): the last one
        return redirect(url_for("portal.index", halaman=pages, cari=search or None))
    for row in rows:
        row["clocks"] = _clocks(row["dossier"], row["signed"])
    return render_template("portal/index.html", rows=rows, company=company, total=total, page=page,
                           pages=pages, search=search)


@bp.route("/berkas/baru", methods=["GET", "POST"])
def new_dossier():
    """The SIAPkerja form; a valid one opens the dossier (idempotent on the NIK, like the API)."""
    company = _company()
    form = DossierForm()
    if form.validate_on_submit():
        try:
            dossier, created = dossiers.open_for_candidate(company, form.profile(), form.placement(),
                                                           actor=current_user._get_current_object(), draft=True)
        except ServiceError as exc:
            flash(exc.message, "error")
            return render_template("portal/new.html", form=form, sections=form.SECTIONS), exc.status
        if created:
            flash(f"Draf berkas #{dossier.id} dibuat. Unggah dokumen pada setiap slot di bawah, lalu "
                  "ajukan berkas ke Dinas.", "success")
        else:
            flash(f"Perusahaan Anda sudah memiliki berkas terbuka untuk NIK ini (berkas #{dossier.id}); "
                  "data tidak diubah.", "info")
        return redirect(url_for(".dossier", dossier_id=dossier.id), 303)
    status = 200
    if request.method == "POST":
        # A missing or stale CSRF token never reaches here (CSRFProtect answers 400).
        flash("Periksa isian yang ditandai.", "error")
        status = 422
    return render_template("portal/new.html", form=form, sections=form.SECTIONS), status


@bp.route("/berkas/<int:dossier_id>")
def dossier(dossier_id: int):
    """The checklist: every slot with its upload, checks and fixes, and the PP."""
    return _render_dossier(_dossier(dossier_id))


@bp.route("/berkas/<int:dossier_id>/status")
def status(dossier_id: int):
    """The dossier's slots and uploads as JSON, polled while an upload is processed."""
    return jsonify(dossier_state(_dossier(dossier_id)))


@bp.route("/berkas/<int:dossier_id>/ajukan", methods=["POST"])
def submit_dossier(dossier_id: int):
    """Hand the draft to the office once every slot holds a file; the clocks start now."""
    dossier = _dossier(dossier_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        dossier = dossiers.submit_dossier(dossier, actor=current_user._get_current_object())
    except ServiceError as exc:
        return _render_dossier(dossier, exc.status, submit_error=exc.message)
    due = format_moment(dossier.check_due_at, current_app.config["SETTINGS"].office_timezone)
    flash(f"Berkas #{dossier.id} diajukan ke Dinas. Petugas memeriksanya paling lambat {due}.", "success")
    return redirect(url_for(".dossier", dossier_id=dossier.id), 303)


@bp.route("/berkas/<int:dossier_id>/slot/<int:slot_id>/unggah", methods=["POST"])
def upload(dossier_id: int, slot_id: int):
    """One file into one slot (new, replacing a returned one, or replacing before review)."""
    dossier = _dossier(dossier_id)
    slot = DocumentSlot.get_or_none((DocumentSlot.id == slot_id) & (DocumentSlot.dossier == dossier))
    if slot is None:
        abort(404)
    slot.dossier = dossier  # already read: recording the upload needs it, not a second query
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_dossier(dossier, 400, slot_errors={slot.id: "Pilih berkas untuk diunggah."})
    if not _may_upload(slot):
        return _render_dossier(dossier, 409, slot_errors={
            slot.id: "Dokumen ini sudah diverifikasi petugas dan tidak dapat diganti."})
    file = form.file.data
    try:
        accept_upload(current_app.config["SETTINGS"], slot, file.stream, file.filename,
                      current_user._get_current_object())
    except ServiceError as exc:
        return _render_dossier(dossier, exc.status, slot_errors={slot.id: exc.message})
    flash(f"{slot.label}: berkas diterima dan sedang diperiksa.", "success")
    return redirect(url_for(".dossier", dossier_id=dossier.id, _anchor=f"slot-{slot.id}"), 303)


@bp.route("/berkas/<int:dossier_id>/pp", methods=["POST"])
def submit_agreement(dossier_id: int):
    """Submit the PP whose draft is in the dossier's verified PP slot."""
    dossier = _dossier(dossier_id)
    form = AgreementForm()
    if not form.validate_on_submit():
        return _render_dossier(dossier, 422, agreement_form=form, pp_error="Periksa isian perjanjian.")
    try:
        ratification.submit_agreement(
            dossier, employer_name=form.employer_name.data, destination_country=form.destination_country.data,
            job_title=form.job_title.data, contract_months=form.contract_months.data,
            actor=current_user._get_current_object(), settings=current_app.config["SETTINGS"])
    except ServiceError as exc:
        return _render_dossier(dossier, exc.status, agreement_form=form, pp_error=exc.message)
    flash("Perjanjian Penempatan diajukan dan menunggu verifikasi petugas.", "success")
    return redirect(url_for(".dossier", dossier_id=dossier.id, _anchor="pp"), 303)


@bp.route("/pp/<int:agreement_id>/perbaiki", methods=["POST"])
def correct_agreement(agreement_id: int):
    """A returned PP: its corrected draft is uploaded and the same agreement submitted again."""
    agreement = _agreement(agreement_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_dossier(agreement.dossier, 400, pp_error="Pilih draf PDF yang sudah diperbaiki.")
    file = form.file.data
    try:
        ratification.correct_agreement(current_app.config["SETTINGS"], agreement, file.stream, file.filename,
                                       current_user._get_current_object())
    except ServiceError as exc:
        return _render_dossier(agreement.dossier, exc.status, pp_error=exc.message)
    flash(f"{agreement.number}: draf perbaikan diajukan kembali dan menunggu verifikasi petugas.", "success")
    return redirect(url_for(".dossier", dossier_id=agreement.dossier_id, _anchor="pp"), 303)


@bp.route("/pp/<int:agreement_id>.pdf")
def agreement_pdf(agreement_id: int):
    """The ratified, signed PP (404 until it is signed)."""
    agreement = _agreement(agreement_id)
    if not agreement.signed_sha256:
        abort(404)
    return send_signed_pdf(agreement)


# --- the company's own administration ----------------------------------------------------------------


def _render_company(status: int = 200, *, user_form: UserForm | None = None, token_form: TokenForm | None = None,
                    webhook_form: WebhookForm | None = None, revealed: dict | None = None):
    """The company page; ``revealed`` (a new token or webhook secret) is in this answer only
    (every page is ``Cache-Control: private, no-store``, so no cache keeps it either)."""
    company = _company()
    webhook = companies.company_webhook(company)
    return render_template(
        "portal/company.html", company=company, users=companies.company_users(company),
        tokens=companies.company_tokens(company), webhook=webhook,
        user_form=user_form or UserForm(formdata=None), token_form=token_form or TokenForm(formdata=None),
        webhook_form=webhook_form or WebhookForm(formdata=None, url=webhook.url if webhook else ""),
        confirm_form=ConfirmForm(formdata=None), revealed=revealed), status


def _back(anchor: str):
    return redirect(url_for(".company", _anchor=anchor), 303)


@bp.route("/perusahaan")
def company():
    """The company's logins, API tokens and webhook."""
    return _render_company()


@bp.route("/perusahaan/pengguna", methods=["POST"])
def add_user():
    """A new P3MI login of the company."""
    form = UserForm()
    if not form.validate_on_submit():
        flash("Periksa isian pengguna baru.", "error")
        return _render_company(422, user_form=form)
    try:
        user = companies.add_user(_company(), username=form.username.data, full_name=form.full_name.data,
                                  password=form.password.data, actor=current_user._get_current_object())
    except ServiceError as exc:
        field = form.password if "password" in exc.details else form.username
        field.errors = [*field.errors, exc.message]
        return _render_company(exc.status, user_form=form)
    flash(f"Pengguna {user.username} ditambahkan.", "success")
    return _back("pengguna")


@bp.route("/perusahaan/pengguna/<int:user_id>/nonaktifkan", methods=["POST"])
def deactivate_user(user_id: int):
    """Deactivate a login of the company; its sessions end at once."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        user = companies.deactivate_user(_company(), user_id, actor=current_user._get_current_object())
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
        return _render_company(exc.status)
    flash(f"Pengguna {user.username} dinonaktifkan; semua sesinya diakhiri.", "success")
    return _back("pengguna")


@bp.route("/perusahaan/token", methods=["POST"])
def issue_token():
    """A new API token, shown in this answer only."""
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Periksa isian token.", "error")
        return _render_company(422, token_form=form)
    record, token = companies.issue_token(_company(), form.name.data, actor=current_user._get_current_object())
    return _render_company(201, revealed={"kind": "token", "label": f"Token API {record.name}", "value": token})


@bp.route("/perusahaan/token/<int:token_id>/cabut", methods=["POST"])
def revoke_token(token_id: int):
    """Revoke one of the company's API tokens."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        token = companies.revoke_token(_company(), token_id, actor=current_user._get_current_object())
    except ServiceError as exc:
        abort(exc.status)
    flash(f"Token {token.name} ({token.prefix}…) dicabut; sistem yang memakainya akan ditolak.", "success")
    return _back("token")


@bp.route("/perusahaan/webhook", methods=["POST"])
def register_webhook():
    """Register or replace the company's webhook; the new secret is shown in this answer only."""
    form = WebhookForm()
    if not form.validate_on_submit():
        flash("Periksa alamat webhook.", "error")
        return _render_company(422, webhook_form=form)
    try:
        webhook, secret, created = companies.register_webhook(
            current_app.config["SETTINGS"], _company(), form.url.data, actor=current_user._get_current_object())
    except ServiceError as exc:
        form.url.errors = [*form.url.errors, exc.message]
        return _render_company(exc.status, webhook_form=form)
    label = "Webhook didaftarkan" if created else "Webhook diganti; kunci rahasia lama tidak berlaku lagi"
    return _render_company(201 if created else 200,
                           revealed={"kind": "webhook", "label": f"{label}. Kunci rahasia", "value": secret})


@bp.route("/perusahaan/webhook/hapus", methods=["POST"])
def delete_webhook():
    """Delete the company's webhook."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        companies.remove_webhook(_company(), actor=current_user._get_current_object())
    except ServiceError as exc:
        abort(exc.status)
    flash("Webhook dihapus; peristiwa berikutnya tidak dikirim lagi.", "success")
    return _back("webhook")
