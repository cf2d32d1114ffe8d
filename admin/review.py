"""The officers' review desk: the queue by deadline and the dossier page with its slots."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

import ratification
import storage
import tasks
import workflow
from admin.base import OFFICE, REVIEWERS, SecureView
from errors import ServiceError
from processing.intake import inspect_upload, read_limited
from records import audit
from records.agreements import Agreement
from records.base import now
from records.catalogue import RejectionTemplate
from records.dossiers import (
    DocumentSlot,
    Dossier,
    ReviewEvent,
    Upload,
    add_upload,
    review_slot,
    verify_dossier,
)


class ReviewForm(FlaskForm):
    template = SelectField("Alasan siap pakai", choices=[], validate_choice=False)
    reason = TextAreaField("Alasan", validators=[Length(max=2000)])


class ActionForm(FlaskForm):
    """A form with nothing but the CSRF token, for buttons."""


def enqueue_processing(upload: Upload) -> None:
    """Queue the processing job of ``upload`` and remember its job id."""
    job = tasks.enqueue("processing", tasks.process_upload, upload.id, job_id=f"upload-{upload.id}-{upload.attempts}")
    Upload.update(job_id=job.id).where(Upload.id == upload.id).execute()


def store_upload(slot: DocumentSlot, file_storage, actor) -> Upload:
    """Intake a file from a form: check content, store it once, record it, queue processing."""
    data = read_limited(file_storage.stream)
    result = inspect_upload(data, declared_name=file_storage.filename)
    store = storage.LocalFileStore(current_app.config["SETTINGS"].files_dir)
    store.put(data)
    upload = add_upload(slot, sha256=result.sha256, media_type=result.media_type, size=result.size,
                        original_name=file_storage.filename or "", actor=actor)
    enqueue_processing(upload)
    return upload


class AgreementForm(FlaskForm):
    employer_name = StringField("Pemberi kerja", validators=[DataRequired(), Length(max=200)])
    destination_country = StringField("Negara penempatan", validators=[DataRequired(), Length(max=80)])
    job_title = StringField("Jabatan", validators=[DataRequired(), Length(max=120)])
    contract_months = IntegerField("Masa kontrak (bulan)", default=24, validators=[DataRequired()])


class ReviewDesk(SecureView):
    """Queue and dossier pages for reviewers; other office roles may look."""

    read_roles = OFFICE

    @expose("/")
    def index(self):
        status = request.args.get("status", "diajukan")
        query = Dossier.select().order_by(Dossier.check_due_at)
        if status in workflow.DOSSIER_STATUSES:
            query = query.where(Dossier.status == status)
        moment = now()
        rows = [(d, workflow.sla_label(d.check_due_at, moment, d.status == "terverifikasi"),
                 d.check_due_at is not None and d.check_due_at < moment and d.status != "terverifikasi")
                for d in query.limit(200)]
        return self.render("review/queue.html", rows=rows, status=status, statuses=workflow.DOSSIER_STATUSES)

    @expose("/berkas/<int:dossier_id>")
    def dossier(self, dossier_id: int):
        dossier = Dossier.get_or_none(Dossier.id == dossier_id)
        if dossier is None:
            return self.render("error.html", message="Berkas tidak ditemukan.", status=404), 404
        form = ReviewForm()
        form.template.choices = [("", "— pilih —")] + [(t.text, t.text) for t in RejectionTemplate.select()]
        slots = list(dossier.slots.order_by(DocumentSlot.position))
        agreement_form = AgreementForm(employer_name=dossier.employer_name,
                                       destination_country=dossier.destination_country,
                                       job_title=dossier.job_title)
        return self.render("review/dossier.html", dossier=dossier, slots=slots, form=form,
                           agreement_form=agreement_form, agreements=list(dossier.agreements),
                           action_form=ActionForm(), may_review=current_user.role in REVIEWERS,
                           events=list(dossier.events.order_by(ReviewEvent.id.desc())))

    @expose("/slot/<int:slot_id>/unggah", methods=["POST"])
    def upload(self, slot_id: int):
        slot = DocumentSlot.get_or_none(DocumentSlot.id == slot_id)
        if slot is None or current_user.role not in REVIEWERS:
            return self.render("error.html", message="Tidak diizinkan.", status=403), 403
        file = request.files.get("file")
        if file is None or not file.filename:
            flash("Pilih berkas untuk diunggah.", "error")
        else:
            try:
                store_upload(slot, file, current_user._get_current_object())
                flash("Berkas diterima dan sedang diproses.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        return redirect(url_for(".dossier", dossier_id=slot.dossier_id))

    @expose("/slot/<int:slot_id>/tinjau", methods=["POST"])
    def review(self, slot_id: int):
        slot = DocumentSlot.get_or_none(DocumentSlot.id == slot_id)
        if slot is None or current_user.role not in REVIEWERS:
            return self.render("error.html", message="Tidak diizinkan.", status=403), 403
        form = ReviewForm()
        form.template.choices = []
        if form.validate_on_submit():
            accept = request.form.get("decision") == "terima"
            reason = (form.reason.data or "").strip() or (form.template.data or "")
            try:
                review_slot(slot, accept=accept, reason=reason, actor=current_user._get_current_object())
                flash("Dokumen diterima." if accept else "Dokumen dikembalikan dengan alasan.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        else:
            flash("Formulir tidak sah; muat ulang halaman.", "error")
        return redirect(url_for(".dossier", dossier_id=slot.dossier_id))

    @expose("/berkas/<int:dossier_id>/verifikasi", methods=["POST"])
    def verify(self, dossier_id: int):
        dossier = Dossier.get_or_none(Dossier.id == dossier_id)
        if dossier is None or current_user.role not in REVIEWERS:
            return self.render("error.html", message="Tidak diizinkan.", status=403), 403
        if ActionForm().validate_on_submit():
            try:
                verify_dossier(dossier, actor=current_user._get_current_object())
                flash("Berkas terverifikasi.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        return redirect(url_for(".dossier", dossier_id=dossier_id))

    @expose("/unggahan/<int:upload_id>/proses-ulang", methods=["POST"])
    def reprocess(self, upload_id: int):
        upload = Upload.get_or_none(Upload.id == upload_id)
        if upload is None or current_user.role not in REVIEWERS:
            return self.render("error.html", message="Tidak diizinkan.", status=403), 403
        if ActionForm().validate_on_submit():
            Upload.update(state="queued", state_reason="", progress=0).where(Upload.id == upload.id).execute()
            enqueue_processing(Upload.get_by_id(upload.id))
            audit.record(current_user.username, "upload.reprocess", f"upload:{upload.id}")
            flash("Berkas dimasukkan kembali ke antrean.", "success")
        return redirect(url_for(".dossier", dossier_id=upload.slot.dossier_id))

    @expose("/berkas/<int:dossier_id>/pp", methods=["POST"])
    def submit_agreement(self, dossier_id: int):
        dossier = Dossier.get_or_none(Dossier.id == dossier_id)
        if dossier is None or current_user.role not in REVIEWERS:
            return self.render("error.html", message="Tidak diizinkan.", status=403), 403
        form = AgreementForm()
        if form.validate_on_submit():
            try:
                ratification.submit_agreement(
                    dossier, employer_name=form.employer_name.data, destination_country=form.destination_country.data,
                    job_title=form.job_title.data, contract_months=form.contract_months.data,
                    actor=current_user._get_current_object())
                flash("Perjanjian Penempatan diajukan dan menunggu verifikasi.", "success")
            except ServiceError as exc:
                flash(exc.message, "error")
        else:
            flash("Lengkapi data perjanjian.", "error")
        return redirect(url_for(".dossier", dossier_id=dossier_id))

    @expose("/pp/<int:agreement_id>/tinjau", methods=["POST"])
    def review_agreement(self, agreement_id: int):
        agreement = Agreement.get_or_none(Agreement.id == agreement_id)
        if agreement is None or current_user.role not in REVIEWERS:
            return self.render("error.html", message="Tidak diizinkan.", status=403), 403
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
