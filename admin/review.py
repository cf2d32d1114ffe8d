"""The officers' review desk: the queue by deadline and the dossier page with its slots.

A P3MI opens the same dossier page read-only, for its own company's dossiers: it sees every
slot's status and the reason a document was returned.
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    request,
    url_for,
)
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from admin.base import OFFICE, REVIEWERS, SecureView
from pengesahan import workflow
from pengesahan.errors import ServiceError
from pengesahan.records.agreements import Agreement
from pengesahan.records.base import now
from pengesahan.records.catalogue import DocumentType, RejectionTemplate, sla_days
from pengesahan.records.dossiers import (
    DocumentSlot,
    Dossier,
    ReviewEvent,
    Upload,
    with_current_uploads,
)
from pengesahan.records.people import Company, User
from pengesahan.services import dashboard, drafts, ratification
from pengesahan.services.dossiers import (
    accept_clean_slots,
    assign_dossier,
    review_slot,
    verify_dossier,
)
from pengesahan.services.uploads import accept_upload, reprocess_upload
from pengesahan.workflow import DossierStatus


class ReviewForm(FlaskForm):
    template = SelectField("Alasan siap pakai", choices=[], validate_choice=False)
    reason = TextAreaField("Alasan", validators=[Length(max=2000)])


class ActionForm(FlaskForm):
    """A form with nothing but the CSRF token, for buttons."""


class AgreementForm(FlaskForm):
    employer_name = StringField("Pemberi kerja", validators=[DataRequired(), Length(max=200)])
    destination_country = StringField("Negara penempatan", validators=[DataRequired(), Length(max=80)])
    job_title = StringField("Jabatan", validators=[DataRequired(), Length(max=120)])
    contract_months = IntegerField("Masa kontrak (bulan)", default=24, validators=[DataRequired()])
    override_reason = StringField("Alasan bila draf tidak sesuai dengan berkas", validators=[Length(max=500)],
                                  description="Diisi hanya bila petugas menerima draf yang datanya berbeda "
                                              "dengan berkas; tercatat di log audit.")


class AssignForm(FlaskForm):
    officer = SelectField("Petugas", choices=[], validate_choice=False)


#: Extracted field codes (processing.fields) in the officer's words.
FIELD_LABELS = {
    "nik": "NIK", "name": "Nama", "birth_place": "Tempat lahir", "birth_date": "Tanggal lahir",
    "sex": "Jenis kelamin", "kk_number": "No. KK", "head_nik": "NIK kepala keluarga",
    "head_name": "Nama kepala keluarga", "member_niks": "NIK anggota keluarga",
    "giver_nik": "NIK pemberi izin", "bpjs_number": "No. BPJS Ketenagakerjaan",
    "certificate_number": "No. sertifikat", "registration_number": "No. registrasi",
    "letter_number": "No. surat", "nib": "NIB", "sip2mi_number": "No. SIP2MI",
    "husband_nik": "NIK suami", "wife_nik": "NIK istri",
    # What a PP draft states (services.drafts.draft_fields).
    "p3mi_name": "Nama P3MI", "destination_country": "Negara penempatan", "employer_name": "Pemberi kerja",
    "job_title": "Jabatan", "contract_months": "Masa kontrak (bulan)", "salary": "Gaji",
}


def _form_value(key: str, slot: DocumentSlot, dossier: Dossier) -> str | None:
    """What the form (the CPMI's profile, or the P3MI's record) says for an extracted field."""
    if slot.doc_type == drafts.DRAFT_TYPE:
        # The agreement's parties and terms: the CPMI's and the placement's, the company's record.
        return {"nik": dossier.candidate.nik, "name": dossier.profile.name, "p3mi_name": dossier.company.name,
                "sip2mi_number": dossier.company.sip2mi_number, "employer_name": dossier.employer_name,
                "destination_country": dossier.destination_country, "job_title": dossier.job_title}.get(key)
    if slot.owner == "p3mi":
        # The company officer's KTP is not the CPMI's: only the company's own numbers compare.
        return {"nib": dossier.company.nib, "sip2mi_number": dossier.company.sip2mi_number}.get(key)
    c = dossier.candidate
    per_type = {
        ("certificate_number", "sertifikat_kompetensi"): c.bnsp_number,
        ("certificate_number", "surat_sehat"): c.health_cert_number,
        ("registration_number", "surat_izin"): c.permit_village_number,
    }
    if (key, slot.doc_type) in per_type:
        return per_type[(key, slot.doc_type)]
    return {
        "nik": c.nik, "name": c.name, "birth_place": c.birth_place,
        "birth_date": c.birth_date.isoformat() if c.birth_date else None, "sex": c.sex,
        "kk_number": c.kk_number, "head_nik": c.kk_head_nik, "giver_nik": c.permit_giver_nik,
        "bpjs_number": c.bpjs_number,
    }.get(key)


def _normalise(value: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in str(value).upper()).split())


def _display(key: str, value) -> str:
    if value in (None, ""):
        return ""
    if key == "sex":
        return {"P": "Perempuan", "L": "Laki-laki"}.get(str(value), str(value))
    if key == "birth_date" and len(str(value)) == 10:
        year, month, day = str(value).split("-")
        return f"{day}-{month}-{year}"
    return str(value)


def field_rows(slot: DocumentSlot, dossier: Dossier, fields: dict | None) -> list[dict]:
    """Each extracted field beside the form's value, with whether they agree.

    ``state`` is ``sama`` (agree), ``beda`` (differ: the officer's eye goes there) or ``-``
    when the form holds nothing to compare with.
    """
    rows = []
    nik = dossier.candidate.nik
    for key, read in (fields or {}).items():
        if key == "member_niks":
            listed = nik in str(read).split(",")
            rows.append({"label": FIELD_LABELS[key], "read": str(read).replace(",", ", "),
                         "form": f"memuat NIK CPMI {nik}", "state": "sama" if listed else "beda"})
            continue
        expected = _form_value(key, slot, dossier)
        if slot.doc_type == drafts.DRAFT_TYPE:
            same = drafts.same_term(key, read, expected) if expected else False
        else:
            same = bool(expected) and _normalise(read) == _normalise(expected)
        state = "-" if not expected else ("sama" if same else "beda")
        rows.append({"label": FIELD_LABELS.get(key, key), "read": _display(key, read),
                     "form": _display(key, expected), "state": state})
    return sorted(rows, key=lambda r: r["state"] != "beda")


def mismatched_fields(slot: DocumentSlot, dossier: Dossier) -> list[str]:
    """Labels of the fields read from the slot's current upload that differ from the form."""
    upload = slot.current_upload
    rows = field_rows(slot, dossier, upload.fields) if upload else []
    return [r["label"] for r in rows if r["state"] == "beda"]


def sorted_checks(upload: Upload | None) -> list[dict]:
    """The upload's check results, failed first, with the officer's label for each."""
    checks = [dict(c, label=dashboard.CHECK_LABELS.get(c["name"], c["name"])) for c in (upload.checks or [])] \
        if upload else []
    return sorted(checks, key=lambda c: bool(c.get("ok")))


def slot_state(slot: DocumentSlot) -> dict:
    """A slot and its current upload as the status endpoint reports them."""
    up = slot.current_upload
    return {
        "id": slot.id, "status": slot.status, "status_label": slot.status_label, "reason": slot.reason,
        "upload": None if up is None else {
            "id": up.id, "state": up.state, "state_label": up.state_label, "progress": up.progress,
            "state_reason": up.state_reason,
        },
    }


#: Flash category of a message about one slot: ``slot:<id>:<kind>``; the dossier page shows it
#: inside that slot's card rather than at the top.
SLOT_FLASH = "slot:"


def _flash_slot(slot: DocumentSlot, message: str, kind: str) -> None:
    flash(message, f"{SLOT_FLASH}{slot.id}:{kind}")


def _split_flashes() -> tuple[list[tuple[str, str]], dict[int, list[tuple[str, str]]]]:
    """This request's flashes: the page's own, and per slot id those meant for one slot."""
    general: list[tuple[str, str]] = []
    per_slot: dict[int, list[tuple[str, str]]] = {}
    for category, message in get_flashed_messages(with_categories=True):
        slot_id, _, kind = category.removeprefix(SLOT_FLASH).partition(":")
        if category.startswith(SLOT_FLASH) and slot_id.isdigit():
            per_slot.setdefault(int(slot_id), []).append((kind, message))
        else:
            general.append((category, message))
    return general, per_slot


def _reviewers() -> list[User]:
    return list(User.select().where(User.role.in_(REVIEWERS) & User.active).order_by(User.full_name))


class ReviewDesk(SecureView):
    """Queue and dossier pages for reviewers; other office roles may look, a P3MI may read its own."""

    read_roles = OFFICE | {"p3mi"}

    def is_visible(self) -> bool:
        # A P3MI reaches its dossiers from the Berkas list, not from an officers' desk menu.
        return current_user.is_authenticated and current_user.role in OFFICE

    def _dossier(self, dossier_id: int) -> Dossier:
        """The dossier if this user may see it; 404 otherwise (no hint that it exists)."""
        dossier = Dossier.get_or_none(Dossier.id == dossier_id)
        if dossier is None or (current_user.role == "p3mi" and dossier.company_id != current_user.company_id):
            abort(404)
        return dossier

    def _reviewer_or_403(self) -> None:
        if current_user.role not in REVIEWERS:
            abort(403)

    @expose("/")
    def index(self):
        if current_user.role not in OFFICE:
            abort(403)  # the queue is the office's; a P3MI lists its dossiers under Berkas
        args = request.args
        status = args.get("status", DossierStatus.DIAJUKAN)
        officer = args.get("petugas", "")
        filters = dashboard.QueueFilter(
            status=status if status in workflow.DOSSIER_STATUSES else None,
            company_id=int(args["p3mi"]) if args.get("p3mi", "").isdigit() else None,
            officer=(current_user.id if officer == "saya" else dashboard.UNASSIGNED if officer == "belum"
                     else int(officer) if officer.isdigit() else None),
        )
        rows = dashboard.review_queue(filters, now())
        return self.render("review/queue.html", rows=rows, status=status, officer=officer,
                           company_id=filters.company_id, statuses=workflow.DOSSIER_STATUSES,
                           companies=list(Company.select().order_by(Company.name)), reviewers=_reviewers(),
                           sla={"pemeriksaan": sla_days("pemeriksaan", 1),
                                "layanan": sla_days("layanan", 3)})

    def _slot_context(self, dossier: Dossier) -> dict:
        """What the slot cards need besides the slots: forms, names of types, rights."""
        form = ReviewForm()
        form.template.choices = [("", "— alasan siap pakai —")] + [
            (t.code, t.text) for t in RejectionTemplate.select().order_by(RejectionTemplate.code)]
        # A P3MI's draft is not the office's to decide on until the company submits it.
        may_review = current_user.role in REVIEWERS and dossier.status != DossierStatus.DRAF
        return {"form": form, "action_form": ActionForm(), "may_review": may_review,
                "type_names": {t.code: t.name for t in DocumentType.select()},
                "field_rows": field_rows, "sorted_checks": sorted_checks, "dossier": dossier,
                "mismatched_fields": mismatched_fields, "slot_notices": {}}

    @expose("/berkas/<int:dossier_id>")
    def dossier(self, dossier_id: int):
        dossier = self._dossier(dossier_id)
        slots = with_current_uploads(dossier.slots.order_by(DocumentSlot.position))
        agreement_form = AgreementForm(employer_name=dossier.employer_name,
                                       destination_country=dossier.destination_country,
                                       job_title=dossier.job_title)
        assign_form = AssignForm(officer=str(dossier.assigned_to_id or ""))
        assign_form.officer.choices = [("", "— belum ditugaskan —")] + [
            (str(u.id), u.full_name or u.username) for u in _reviewers()]
        moment = now()
        done = dossier.status == DossierStatus.TERVERIFIKASI
        page_messages, slot_notices = _split_flashes()
        context = self._slot_context(dossier)
        context["slot_notices"] = slot_notices
        agreements = list(dossier.agreements)
        return self.render(
            "review/dossier.html", slots=slots, agreement_form=agreement_form, assign_form=assign_form,
            agreements=agreements,
            removals={a.id: ratification.draft_removals(current_app.config["SETTINGS"], a)
                      for a in agreements if a.kind == "perjanjian_penempatan"},
            slot_counts={s: sum(1 for x in slots if x.status == s)
                                                              for s in workflow.SLOT_STATUSES},
            check_label=workflow.sla_label(dossier.check_due_at, moment, done),
            check_overdue=dashboard.is_overdue(dossier.check_due_at, moment, done or dossier.status == DossierStatus.DITOLAK),
            events=list(dossier.events.order_by(ReviewEvent.id.desc()).limit(50)),
            page_messages=page_messages, **context)

    @expose("/berkas/<int:dossier_id>/status.json")
    def status(self, dossier_id: int):
        """Processing and review state of every slot, polled by the dossier page."""
        dossier = self._dossier(dossier_id)
        slots = [slot_state(s) for s in with_current_uploads(dossier.slots.order_by(DocumentSlot.position))]
        pending = sum(1 for s in slots if s["upload"] and s["upload"]["state"] in ("queued", "running"))
        response = jsonify({"dossier": {"id": dossier.id, "status": dossier.status,
                                        "status_label": dossier.status_label},
                            "slots": slots, "pending": pending})
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/slot/<int:slot_id>/kartu")
    def slot_card(self, slot_id: int):
        """One slot's card as HTML, swapped in by the page when its processing ends."""
        slot = DocumentSlot.get_or_none(DocumentSlot.id == slot_id)
        if slot is None:
            abort(404)
        dossier = self._dossier(slot.dossier_id)
        return self.render("review/_slot.html", slot=slot, **self._slot_context(dossier))

    def _back(self, slot: DocumentSlot):
        return redirect(url_for(".dossier", dossier_id=slot.dossier_id, _anchor=f"slot-{slot.id}"))

    @expose("/berkas/<int:dossier_id>/petugas", methods=["POST"])
    def assign(self, dossier_id: int):
        self._reviewer_or_403()
        dossier = self._dossier(dossier_id)
        form = AssignForm()
        if form.validate_on_submit():
            choice = request.form.get("officer", "")
            officer = User.get_or_none(User.id == int(choice)) if choice.isdigit() else None
            try:
                assign_dossier(dossier, officer, actor=current_user._get_current_object())
                flash(f"Berkas ditugaskan kepada {officer.full_name or officer.username}." if officer
                      else "Penugasan berkas dilepas.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        return redirect(url_for(".dossier", dossier_id=dossier.id))

    @expose("/slot/<int:slot_id>/unggah", methods=["POST"])
    def upload(self, slot_id: int):
        self._reviewer_or_403()
        slot = DocumentSlot.get_or_none(DocumentSlot.id == slot_id) or abort(404)
        file = request.files.get("file")
        if file is None or not file.filename:
            _flash_slot(slot, "Pilih berkas untuk diunggah.", "error")
        else:
            try:
                accept_upload(current_app.config["SETTINGS"], slot, file.stream, file.filename,
                              current_user._get_current_object())
                _flash_slot(slot, "Berkas diterima dan masuk antrean pemrosesan.", "success")
            except ServiceError as exc:
                _flash_slot(slot, exc.message, "error")
        return self._back(slot)

    @expose("/slot/<int:slot_id>/tinjau", methods=["POST"])
    def review(self, slot_id: int):
        self._reviewer_or_403()
        slot = DocumentSlot.get_or_none(DocumentSlot.id == slot_id) or abort(404)
        form = ReviewForm()
        form.template.choices = []
        if form.validate_on_submit():
            accept = request.form.get("decision") == "terima"
            # A typed reason wins; the picked template is the reason when nothing was typed. On
            # acceptance only a typed reason counts: a template is a reason to return. A return
            # with a template picked names its defect, even when the officer reworded the text.
            template = None if accept or not form.template.data else (
                RejectionTemplate.get_or_none(RejectionTemplate.code == form.template.data))
            reason = (form.reason.data or "").strip() or (template.text if template else "")
            try:
                review_slot(slot, accept=accept, reason=reason, actor=current_user._get_current_object(),
                            mismatched_fields=mismatched_fields(slot, slot.dossier) if accept else (),
                            defect=template.defect if template else None)
                _flash_slot(slot, ("Diterima dengan alasan." if reason else "Diterima.") if accept
                            else "Dikembalikan dengan alasan.", "success")
            except ServiceError as exc:
                _flash_slot(slot, exc.message, "error")
        else:
            _flash_slot(slot, "Formulir tidak sah; muat ulang halaman.", "error")
        return self._back(slot)

    @expose("/berkas/<int:dossier_id>/terima-lolos", methods=["POST"])
    def accept_clean(self, dossier_id: int):
        """Accept at once every slot whose upload passed every check and agrees with the form."""
        self._reviewer_or_403()
        dossier = self._dossier(dossier_id)
        if ActionForm().validate_on_submit():
            differing = {s.id for s in dossier.slots if mismatched_fields(s, dossier)}
            try:
                count = accept_clean_slots(dossier, current_user._get_current_object(), skip=differing)
                flash(f"{count} dokumen yang lolos semua pemeriksaan diterima." if count
                      else "Tidak ada dokumen yang lolos semua pemeriksaan untuk diterima.",
                      "success" if count else "info")
            except ServiceError as exc:
                flash(exc.message, "error")
        else:
            flash("Formulir tidak sah; muat ulang halaman.", "error")
        return redirect(url_for(".dossier", dossier_id=dossier.id))

    @expose("/berkas/<int:dossier_id>/verifikasi", methods=["POST"])
    def verify(self, dossier_id: int):
        self._reviewer_or_403()
        dossier = self._dossier(dossier_id)
        if ActionForm().validate_on_submit():
            try:
                verify_dossier(dossier, actor=current_user._get_current_object())
                flash("Berkas terverifikasi.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        return redirect(url_for(".dossier", dossier_id=dossier_id))

    @expose("/unggahan/<int:upload_id>/proses-ulang", methods=["POST"])
    def reprocess(self, upload_id: int):
        self._reviewer_or_403()
        upload = Upload.get_or_none(Upload.id == upload_id) or abort(404)
        if ActionForm().validate_on_submit():
            reprocess_upload(upload, actor=current_user._get_current_object())
            _flash_slot(upload.slot, "Berkas dimasukkan kembali ke antrean.", "success")
        return self._back(upload.slot)

    @expose("/berkas/<int:dossier_id>/pp", methods=["POST"])
    def submit_agreement(self, dossier_id: int):
        self._reviewer_or_403()
        dossier = self._dossier(dossier_id)
        form = AgreementForm()
        if form.validate_on_submit():
            try:
                ratification.submit_agreement(
                    dossier, employer_name=form.employer_name.data, destination_country=form.destination_country.data,
                    job_title=form.job_title.data, contract_months=form.contract_months.data,
                    actor=current_user._get_current_object(), settings=current_app.config["SETTINGS"],
                    override_reason=form.override_reason.data or "")
                flash("Perjanjian Penempatan diajukan dan menunggu verifikasi.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        else:
            flash("Lengkapi data perjanjian.", "error")
        return redirect(url_for(".dossier", dossier_id=dossier_id))

    @expose("/pp/<int:agreement_id>/tinjau", methods=["POST"])
    def review_agreement(self, agreement_id: int):
        self._reviewer_or_403()
        agreement = Agreement.get_or_none(Agreement.id == agreement_id) or abort(404)
        if ActionForm().validate_on_submit():
            actor = current_user._get_current_object()
            try:
                if request.form.get("decision") == "terima":
                    ratification.verify_agreement(agreement, actor=actor)
                    flash("Perjanjian terverifikasi dan siap ditandatangani.", "success")
                else:
                    ratification.return_agreement(agreement, reason=request.form.get("reason", ""), actor=actor)
                    flash("Perjanjian dikembalikan kepada P3MI.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        return redirect(url_for(".dossier", dossier_id=agreement.dossier_id))
