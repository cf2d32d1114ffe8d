"""Declarative admin screens over the records, grouped as officers think of them."""

from __future__ import annotations

from flask import flash, url_for
from flask_admin.actions import action
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import PasswordField
from wtforms.validators import Length, Optional

from admin.base import ADMIN, OFFICE, REVIEWERS, CompanyScopedModelView, SecureModelView
from pengesahan.records import audit
from pengesahan.records.agreements import Delegation
from pengesahan.records.base import now
from pengesahan.records.dossiers import Dossier
from pengesahan.records.people import ApiToken, Company, User
from pengesahan.services import accounts, delegations

# --- configuration (low-code) -------------------------------------------------------------


class ConfigView(SecureModelView):
    """Configuration tables: the administrator edits them, officers may read them."""

    read_roles = OFFICE
    write_roles = ADMIN

    def after_model_change(self, form, model, is_created):
        audit.record(current_user.username, "config.create" if is_created else "config.update",
                     f"{type(model).__name__}:{model.id}")


class DocumentTypeView(ConfigView):
    column_list = ["code", "name", "layout", "allowed_formats"]
    column_labels = {"code": "Kode", "name": "Nama", "keywords": "Kata kunci",
                     "layout": "Tata letak", "allowed_formats": "Format diizinkan"}
    column_searchable_list = ["code", "name"]
    form_widget_args = {"keywords": {"rows": 8}}


class RequirementView(ConfigView):
    column_list = ["position", "slot_label", "doc_type", "owner", "condition"]
    column_default_sort = "position"
    column_labels = {"position": "No.", "slot_label": "Slot", "doc_type": "Jenis dokumen",
                     "owner": "Pengunggah", "condition": "Syarat"}


class ThresholdView(ConfigView):
    column_list = ["check", "doc_type", "value"]
    column_labels = {"check": "Pemeriksaan", "doc_type": "Jenis dokumen", "value": "Ambang"}


class RejectionTemplateView(ConfigView):
    column_labels = {"code": "Kode", "text": "Teks alasan"}


class SlaView(ConfigView):
    column_labels = {"code": "Kode", "name": "Nama", "working_days": "Hari kerja"}


class LetterTemplateView(ConfigView):
    column_list = ["code", "name", "updated_at"]
    column_labels = {"code": "Kode", "name": "Nama", "body": "Isi templat", "updated_at": "Diubah"}
    form_excluded_columns = ["updated_at"]
    form_widget_args = {"body": {"rows": 30, "style": "font-family: monospace"}}

    def on_model_change(self, form, model, is_created):
        model.updated_at = now()


class SettingView(ConfigView):
    column_labels = {"key": "Kunci", "value": "Nilai", "description": "Keterangan"}


# --- people ---------------------------------------------------------------------------


class UserView(SecureModelView):
    column_list = ["username", "full_name", "role", "company", "official", "active", "locked_until"]
    column_labels = {"username": "Nama pengguna", "full_name": "Nama lengkap", "nip": "NIP", "role": "Peran",
                     "company": "P3MI", "official": "Pejabat", "active": "Aktif",
                     "locked_until": "Dikunci sampai"}
    column_searchable_list = ["username", "full_name"]
    column_filters = ["role", "active"]
    form_columns = ["username", "full_name", "nip", "role", "company", "official", "active", "password"]
    form_extra_fields = {
        "password": PasswordField("Kata sandi baru", validators=[Optional(), Length(min=10, max=200)],
                                  description="Kosongkan bila tidak diubah. Minimal 10 karakter dan tidak "
                                              "mudah ditebak. Mengganti kata sandi mengakhiri semua sesi pengguna.")
    }
    column_details_exclude_list = ["password_hash", "session_generation"]
    column_exclude_list = ["password_hash", "session_generation"]
    form_excluded_columns = ["session_generation"]

    def on_model_change(self, form, model, is_created):
        if form.password.data:
            problem = accounts.password_problem(form.password.data, user_inputs=(model.username, model.full_name))
            if problem:
                raise ValueError(problem)
            model.set_password(form.password.data)
        elif is_created:
            raise ValueError("Kata sandi wajib diisi untuk pengguna baru.")
        if not is_created and not model.active:
            model.session_generation = (model.session_generation or 0) + 1  # deactivated: out at once

    @action("end_sessions", "Akhiri semua sesi",
            "Akhiri semua sesi pengguna yang dipilih? Mereka harus masuk lagi di setiap perangkat.")
    def action_end_sessions(self, ids):
        if not self.may_write():
            flash("Anda tidak berhak mengakhiri sesi.", "error")
            return
        for user in User.select().where(User.id.in_([int(i) for i in ids])):
            accounts.end_sessions(user, actor=current_user._get_current_object())
        flash("Semua sesi pengguna yang dipilih telah diakhiri.", "success")

    def after_model_change(self, form, model, is_created):
        audit.record(current_user.username, "user.create" if is_created else "user.update",
                     f"user:{model.id}", role=model.role)


class ApiTokenView(SecureModelView):
    column_list = ["company", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    column_labels = {"company": "P3MI", "name": "Nama", "prefix": "Awalan", "created_at": "Dibuat",
                     "last_used_at": "Terakhir dipakai", "revoked_at": "Dicabut"}
    form_columns = ["company", "name"]
    allow_edit = False

    def create_model(self, form):
        record, token = ApiToken.issue(form.company.data, form.name.data)
        audit.record(current_user.username, "token.issue", f"token:{record.id}", company=record.company_id)
        flash(Markup("Token API (hanya ditampilkan sekali, simpan sekarang): <code>")
              + escape(token) + Markup("</code>"), "success")
        return record

    @action("revoke", "Cabut", "Cabut token yang dipilih? Sistem P3MI yang memakainya akan ditolak.")
    def action_revoke(self, ids):
        if not self.may_write():
            flash("Anda tidak berhak mencabut token.", "error")
            return
        count = ApiToken.update(revoked_at=now()).where(
            ApiToken.id.in_([int(i) for i in ids]) & ApiToken.revoked_at.is_null()).execute()
        for token_id in ids:
            audit.record(current_user.username, "token.revoke", f"token:{token_id}")
        flash(f"{count} token dicabut.", "success")


class CompanyView(SecureModelView):
    read_roles = OFFICE
    column_list = ["name", "nib", "sip2mi_number", "phone"]
    column_labels = {"name": "Nama P3MI", "nib": "NIB/OSS", "sip2mi_number": "No. SIP2MI",
                     "address": "Alamat", "email": "Surel", "phone": "Telepon", "created_at": "Dibuat"}
    column_searchable_list = ["name", "nib"]
    form_excluded_columns = ["created_at"]


class CandidateView(SecureModelView):
    read_roles = OFFICE
    write_roles = frozenset({"admin", "pelaksana"})
    column_list = ["nik", "name", "sex", "birth_date", "marital_status", "phone"]
    column_labels = {"nik": "NIK", "name": "Nama", "sex": "Jenis kelamin", "birth_place": "Tempat lahir",
                     "birth_date": "Tanggal lahir", "religion": "Agama", "marital_status": "Status kawin",
                     "address": "Alamat", "phone": "Telepon", "kk_number": "No. KK",
                     "kk_head_nik": "NIK kepala keluarga", "father_name": "Nama ayah",
                     "mother_name": "Nama ibu", "guardian_name": "Nama wali"}
    column_searchable_list = ["nik", "name"]
    form_excluded_columns = ["created_at"]


class OfficialView(SecureModelView):
    read_roles = OFFICE
    column_list = ["name", "nip", "rank", "position", "acting", "active"]
    column_labels = {"name": "Nama", "nip": "NIP", "rank": "Pangkat/golongan", "position": "Jabatan",
                     "acting": "Plt./Plh.", "key_alias": "Alias kunci", "active": "Aktif"}


class DelegationView(SecureModelView):
    read_roles = OFFICE
    write_roles = frozenset({"admin", "kadin"})
    column_list = ["number", "date", "delegating", "delegated", "scope", "valid_from", "valid_until", "confirmed_at",
                   "revoked_at"]
    column_labels = {"confirmed_at": "Dikonfirmasi pemberi delegasi",
                     "number": "Nomor SK", "date": "Tanggal SK", "delegating": "Pemberi delegasi",
                     "delegated": "Penerima delegasi", "scope": "Lingkup", "valid_from": "Berlaku mulai",
                     "valid_until": "Berlaku sampai", "revoked_at": "Dicabut", "revoked_reason": "Alasan pencabutan",
                     "parent": "SK induk (u.b.)", "scan_key": "Pindaian SK"}
    form_excluded_columns = ["created_at", "revoked_at", "revoked_reason", "scan_key", "signatures", "children",
                             "confirmed_at", "confirmation_sha256"]
    column_searchable_list = ["number"]

    def on_model_change(self, form, model, is_created):
        # Whatever an administrator enters or changes is a draft: the delegating official must
        # confirm the SK (again) with their own key before it authorises anything.
        model.confirmed_at = None
        model.confirmation_sha256 = None

    def after_model_change(self, form, model, is_created):
        audit.record(current_user.username, "delegation.create" if is_created else "delegation.update",
                     f"delegation:{model.id}", number=model.number)

    @action("revoke", "Cabut SK", "Cabut SK yang dipilih? Penerima delegasi tidak dapat menandatangani lagi.")
    def action_revoke(self, ids):
        if not self.may_write():
            flash("Anda tidak berhak mencabut SK.", "error")
            return
        for sk in Delegation.select().where(Delegation.id.in_([int(i) for i in ids])):
            delegations.revoke(sk, actor=current_user._get_current_object())
        flash("SK dicabut.", "success")


# --- dossiers -------------------------------------------------------------------------


def _dossier_link(view, context, model, name):
    dossier = getattr(model, name)
    if dossier is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(url_for("review.dossier", dossier_id=dossier.id), str(dossier))


class DossierView(CompanyScopedModelView):
    read_roles = OFFICE | {"p3mi"}
    write_roles = REVIEWERS
    allow_create = False
    column_list = ["id", "candidate", "company", "destination_country", "status", "check_due_at",
                   "service_due_at", "cpmi_id"]
    column_labels = {"id": "No.", "candidate": "CPMI", "company": "P3MI", "destination_country": "Negara tujuan",
                     "employer_name": "Pemberi kerja", "job_title": "Jabatan", "status": "Status",
                     "check_due_at": "Batas pemeriksaan", "service_due_at": "Batas layanan",
                     "cpmi_id": "ID CPMI", "submitted_at": "Diajukan", "verified_at": "Terverifikasi",
                     "assigned_to": "Petugas"}
    column_filters = ["status", "destination_country", Company.name]
    column_default_sort = "check_due_at"
    # Assignment goes through the review desk (assign_dossier checks the officer and audits it).
    form_columns = ["destination_country", "employer_name", "job_title"]
    column_formatters = {
        "id": lambda v, c, m, n: Markup('<a href="{}">#{}</a>').format(url_for("review.dossier", dossier_id=m.id), m.id),
        "status": lambda v, c, m, n: m.status_label,
        # As declared in this dossier: a P3MI never sees another company's data for the same NIK.
        "candidate": lambda v, c, m, n: m.profile.name,
    }

    def restrict_to_company(self, query, company_id):
        return query.where(Dossier.company == company_id)

    def after_model_change(self, form, model, is_created):
        audit.record(current_user.username, "dossier.update", f"dossier:{model.id}",
                     destination_country=model.destination_country, employer_name=model.employer_name,
                     job_title=model.job_title)


class UploadView(SecureModelView):
    read_roles = OFFICE
    allow_create = False
    allow_edit = False
    column_list = ["id", "slot", "media_type", "size", "uploaded_at", "state", "progress", "classified_type", "confidence"]
    column_labels = {"slot": "Slot", "media_type": "Jenis berkas", "size": "Ukuran (B)", "uploaded_at": "Diunggah",
                     "state": "Pemrosesan", "progress": "Kemajuan (%)", "classified_type": "Terdeteksi sebagai",
                     "confidence": "Keyakinan", "state_reason": "Keterangan"}
    column_filters = ["state", "classified_type", "media_type"]
    column_default_sort = ("id", True)


class ReviewEventView(SecureModelView):
    read_roles = OFFICE
    allow_create = False
    allow_edit = False
    column_list = ["at", "dossier", "slot", "actor", "from_status", "to_status", "reason"]
    column_labels = {"at": "Waktu", "dossier": "Berkas", "slot": "Slot", "actor": "Oleh",
                     "from_status": "Dari", "to_status": "Menjadi", "reason": "Alasan"}
    column_default_sort = ("id", True)
    column_formatters = {"dossier": _dossier_link}


class AgreementView(CompanyScopedModelView):
    read_roles = OFFICE | {"p3mi"}
    write_roles = frozenset()
    allow_create = False
    column_list = ["number", "kind", "dossier", "status", "submitted_at", "verified_at", "signed_at"]
    column_labels = {"number": "Nomor", "kind": "Jenis", "dossier": "Berkas", "status": "Status",
                     "submitted_at": "Diajukan", "verified_at": "Diverifikasi", "signed_at": "Ditandatangani"}
    column_formatters = {"status": lambda v, c, m, n: m.status_label, "dossier": _dossier_link}

    def restrict_to_company(self, query, company_id):
        return query.join(Dossier).where(Dossier.company == company_id)


class AuditView(SecureModelView):
    allow_create = False
    allow_edit = False
    can_export = True
    column_list = ["id", "at", "actor", "action", "subject", "hash"]
    column_labels = {"at": "Waktu", "actor": "Pelaku", "action": "Tindakan", "subject": "Objek",
                     "details": "Rincian", "prev_hash": "Hash sebelumnya"}
    column_filters = ["actor", "action"]
    column_default_sort = ("id", True)
    column_formatters = {"hash": lambda v, c, m, n: m.hash[:12] + "…"}

    @action("verify_chain", "Periksa rantai hash", None)
    def action_verify_chain(self, ids):
        report = audit.verify_chain()
        if report.ok:
            flash(f"Rantai audit utuh ({report.entries} entri).", "success")
        else:
            flash(f"Rantai audit rusak pada entri #{report.first_broken_id}: {report.reason}", "error")

