"""Declarative admin screens over the records, grouped as officers think of them."""

from __future__ import annotations

from flask import flash, url_for
from flask_admin.actions import action
from flask_admin.contrib.peewee.filters import BooleanEqualFilter, FilterEqual, FilterLike
from flask_login import current_user
from markupsafe import Markup, escape
from wtforms import PasswordField, SelectField
from wtforms.validators import Length, Optional

from admin import formats
from admin.base import ADMIN, OFFICE, REVIEWERS, CompanyScopedModelView, SecureModelView
from pengesahan import workflow
from pengesahan.records import audit
from pengesahan.records.agreements import Agreement, Delegation
from pengesahan.records.audit import AuditEntry
from pengesahan.records.base import now
from pengesahan.records.dossiers import Dossier, Upload
from pengesahan.records.people import ROLES, ApiToken, Company, User
from pengesahan.services import accounts, delegations
from pengesahan.services.dashboard import CHECK_LABELS
from processing.spec import DEFECT_LABELS
from signing.delegation import SCOPES


def _choice_filter(field, label: str, options=None) -> FilterEqual:
    """An "equals" filter offering the field's labelled choices instead of a free text box."""
    return FilterEqual(field, label, options=list(options.items()) if options else list(field.choices))


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
    column_details_list = ["code", "name", "keywords", "layout", "allowed_formats"]
    column_labels = {"code": "Kode", "name": "Nama", "keywords": "Kata kunci",
                     "layout": "Tata letak", "allowed_formats": "Format diizinkan"}
    column_searchable_list = ["code", "name"]
    form_widget_args = {"keywords": {"rows": 8}}


class RequirementView(ConfigView):
    column_list = ["position", "slot_label", "doc_type", "owner", "condition"]
    list_related = ("doc_type",)
    column_default_sort = "position"
    column_labels = {"position": "No.", "slot_label": "Slot", "doc_type": "Jenis dokumen",
                     "owner": "Pengunggah", "condition": "Syarat"}
    column_formatters = {"doc_type": lambda v, c, m, n: m.doc_type.name}


class ThresholdView(ConfigView):
    column_list = ["check", "doc_type", "value"]
    column_labels = {"check": "Pemeriksaan", "doc_type": "Jenis dokumen", "value": "Ambang"}
    column_formatters = {
        "check": formats.labelled(CHECK_LABELS),
        # An empty type is the threshold for every type.
        "doc_type": lambda v, c, m, n: formats.doc_type_name(v, c, m, n) if m.doc_type else "Semua jenis",
    }


class RejectionTemplateView(ConfigView):
    column_labels = {"code": "Kode", "text": "Teks alasan", "defect": "Jenis cacat"}
    column_searchable_list = ["code", "text"]
    column_formatters = {"defect": formats.labelled(DEFECT_LABELS)}
    form_overrides = {"defect": SelectField}
    form_args = {"defect": {"choices": [("", "— tidak menyebut cacat —"), *DEFECT_LABELS.items()],
                            "description": "Cacat yang disebut alasan ini: dokumen yang dikembalikan dengannya "
                                           "dihitung terhadap pemeriksaan otomatis yang seharusnya melihatnya."}}

    def on_model_change(self, form, model, is_created):
        model.defect = model.defect or None


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
    column_searchable_list = ["key", "description"]


# --- people ---------------------------------------------------------------------------


class UserView(SecureModelView):
    column_list = ["username", "full_name", "role", "company", "official", "active", "locked_until"]
    list_related = ("company", "official")
    column_labels = {"username": "Nama pengguna", "full_name": "Nama lengkap", "nip": "NIP", "role": "Peran",
                     "company": "P3MI", "official": "Pejabat", "active": "Aktif",
                     "failed_logins": "Gagal masuk berturut-turut", "locked_until": "Dikunci sampai",
                     "created_at": "Dibuat"}
    column_searchable_list = ["username", "full_name"]
    column_filters = [_choice_filter(User.role, "Peran", ROLES),
                      BooleanEqualFilter(User.active, "Aktif")]
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
    list_related = ("company",)
    column_labels = {"company": "P3MI", "name": "Nama", "prefix": "Awalan", "created_at": "Dibuat",
                     "last_used_at": "Terakhir dipakai", "revoked_at": "Dicabut"}
    column_details_exclude_list = ["token_hash"]
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
                     "mother_name": "Nama ibu", "guardian_name": "Nama wali",
                     "emergency_name": "Kontak darurat", "emergency_relation": "Hubungan kontak darurat",
                     "emergency_phone": "Telepon kontak darurat", "emergency_address": "Alamat kontak darurat",
                     "permit_village_number": "No. surat izin desa", "permit_date": "Tanggal surat izin",
                     "permit_village_head": "Kepala desa", "permit_giver_nik": "NIK pemberi izin",
                     "permit_giver_name": "Nama pemberi izin", "health_cert_number": "No. surat sehat",
                     "health_clinic": "Sarana kesehatan", "health_doctor": "Dokter pemeriksa",
                     "health_date": "Tanggal pemeriksaan kesehatan", "bnsp_number": "No. sertifikat BNSP",
                     "bpjs_number": "No. BPJS Ketenagakerjaan", "created_at": "Dibuat"}
    column_searchable_list = ["nik", "name"]
    form_excluded_columns = ["created_at"]


class OfficialView(SecureModelView):
    read_roles = OFFICE
    column_list = ["name", "nip", "rank", "position", "acting", "active"]
    column_labels = {"name": "Nama", "nip": "NIP", "rank": "Pangkat/golongan", "position": "Jabatan",
                     "acting": "Plt./Plh.", "key_alias": "Alias kunci", "active": "Aktif"}
    column_searchable_list = ["name", "nip"]


def delegation_form_problems(sk_date, valid_from, valid_until, zone: str) -> list[tuple[str, str]]:
    """What is inconsistent between an SK's dates, as (field name, message) pairs."""
    problems = []
    if valid_from and valid_until and valid_until < valid_from:
        problems.append(("valid_until", "Berlaku sampai tidak boleh sebelum Berlaku mulai."))
    if sk_date and valid_from and formats.office_day(valid_from, zone) < sk_date:
        problems.append(("valid_from", "Berlaku mulai tidak boleh sebelum Tanggal SK."))
    return problems


def overlapping_delegations(sk: Delegation) -> list[Delegation]:
    """Other SKs in force (not revoked) for the same delegate and a shared scope whose validity
    overlaps ``sk``'s."""
    end = sk.valid_until
    others = Delegation.select().where((Delegation.delegated == sk.delegated_id) & (Delegation.id != sk.id)
                                       & Delegation.revoked_at.is_null())
    return [other for other in others.order_by(Delegation.valid_from)
            if other.scopes & sk.scopes
            and (end is None or other.valid_from < end)
            and (other.valid_until is None or sk.valid_from < other.valid_until)]


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
    column_details_exclude_list = ["confirmation_sha256"]
    column_searchable_list = ["number"]
    list_related = ("delegating", "delegated")
    column_formatters = {"scope": lambda v, c, m, n: ", ".join(SCOPES.get(code, code) for code in sorted(m.scopes))}
    # Dates and times are typed dd-mm-yyyy (HH.MM) through the base converter; the scope is
    # ticked, never typed.
    form_overrides = {"scope": formats.ScopeField}
    form_args = {"number": {"description": "Seperti tertulis pada SK, mis. 800/12/DISNAKER/2025."},
                 "scope": {"choices": list(SCOPES.items()),
                           "description": "Centang dokumen yang boleh ditandatangani penerima delegasi."}}

    def validate_form(self, form) -> bool:
        valid = super().validate_form(form)
        if not valid or not hasattr(form, "valid_from"):
            return valid  # a delete form, or errors already shown on the fields
        problems = delegation_form_problems(form.date.data, form.valid_from.data, form.valid_until.data,
                                            formats.office_zone())
        for field_name, message in problems:
            getattr(form, field_name).errors.append(message)
        return not problems

    def on_model_change(self, form, model, is_created):
        # Whatever an administrator enters or changes is a draft: the delegating official must
        # confirm the SK (again) with their own key before it authorises anything.
        model.confirmed_at = None
        model.confirmation_sha256 = None

    def after_model_change(self, form, model, is_created):
        audit.record(current_user.username, "delegation.create" if is_created else "delegation.update",
                     f"delegation:{model.id}", number=model.number)
        for other in overlapping_delegations(model):
            flash(f"Perhatian: masa berlaku SK {model.number} tumpang tindih dengan SK {other.number} untuk "
                  f"penerima delegasi yang sama ({other.delegated.name}). Periksa apakah salah satunya "
                  f"perlu dicabut.", "warning")

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
    list_related = ("candidate", "company")
    column_labels = {"id": "No.", "candidate": "CPMI", "company": "P3MI", "destination_country": "Negara tujuan",
                     "employer_name": "Pemberi kerja", "job_title": "Jabatan", "status": "Status",
                     "check_due_at": "Batas pemeriksaan", "service_due_at": "Batas layanan",
                     "cpmi_id": "ID CPMI", "submitted_at": "Diajukan", "verified_at": "Terverifikasi",
                     "assigned_to": "Petugas", "created_at": "Dibuat"}
    column_details_exclude_list = ["declared_profile", "findings"]
    column_filters = [_choice_filter(Dossier.status, "Status"),
                      FilterLike(Dossier.destination_country, "Negara tujuan"),
                      FilterLike(Company.name, "P3MI")]
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
    list_related = ("slot",)
    column_details_list = ["id", "slot", "original_name", "media_type", "size", "pages", "uploaded_by", "uploaded_at",
                           "state", "state_reason", "progress", "attempts", "interrupted_runs", "processed_at", "classified_type",
                           "confidence", "doc_number", "sha256"]
    column_labels = {"id": "No.", "slot": "Slot", "media_type": "Jenis berkas", "size": "Ukuran",
                     "uploaded_at": "Diunggah", "state": "Pemrosesan", "progress": "Kemajuan (%)",
                     "classified_type": "Terdeteksi sebagai", "confidence": "Keyakinan",
                     "state_reason": "Keterangan", "original_name": "Nama berkas asli", "pages": "Halaman",
                     "uploaded_by": "Diunggah oleh", "attempts": "Percobaan",
                     "interrupted_runs": "Terhenti berturut-turut", "processed_at": "Selesai diproses",
                     "doc_number": "Nomor dokumen", "sha256": "SHA-256"}
    column_filters = [_choice_filter(Upload.state, "Pemrosesan", workflow.UPLOAD_STATES),
                      FilterEqual(Upload.classified_type, "Terdeteksi sebagai (kode)"),
                      FilterEqual(Upload.media_type, "Jenis berkas")]
    column_formatters = {"size": formats.size, "confidence": formats.percent,
                         "classified_type": formats.doc_type_name}
    column_default_sort = ("id", True)


class ReviewEventView(SecureModelView):
    read_roles = OFFICE
    allow_create = False
    allow_edit = False
    column_list = ["at", "dossier", "slot", "actor", "from_status", "to_status", "reason"]
    list_related = ("dossier.candidate", "slot", "actor")
    column_labels = {"at": "Waktu", "dossier": "Berkas", "slot": "Slot", "actor": "Oleh",
                     "from_status": "Dari", "to_status": "Menjadi", "reason": "Alasan"}
    column_default_sort = ("id", True)
    # Events of the dossier and of its slots share the column: slot labels cover both.
    column_formatters = {"dossier": _dossier_link, "from_status": formats.labelled(workflow.SLOT_STATUSES),
                         "to_status": formats.labelled(workflow.SLOT_STATUSES)}


class AgreementView(CompanyScopedModelView):
    read_roles = OFFICE | {"p3mi"}
    write_roles = frozenset()
    allow_create = False
    column_list = ["number", "kind", "dossier", "status", "submitted_at", "verified_at", "signed_at"]
    list_related = ("dossier.candidate",)
    column_labels = {"number": "Nomor", "kind": "Jenis", "dossier": "Berkas", "status": "Status",
                     "submitted_at": "Diajukan", "verified_at": "Diverifikasi", "signed_at": "Ditandatangani",
                     "draft": "Draf P3MI", "employer_name": "Pemberi kerja", "destination_country": "Negara tujuan",
                     "job_title": "Jabatan", "contract_months": "Lama kontrak (bulan)",
                     "assembled_sha256": "SHA-256 dokumen tersusun", "signed_sha256": "SHA-256 dokumen bertanda tangan",
                     "short_code": "Kode singkat", "verified_by": "Diverifikasi oleh",
                     "return_reason": "Alasan pengembalian", "public_id": "ID tautan publik"}
    column_details_exclude_list = ["verified_snapshot", "removed_content"]
    column_filters = [_choice_filter(Agreement.kind, "Jenis"), _choice_filter(Agreement.status, "Status")]
    column_searchable_list = ["number"]
    column_formatters = {"status": lambda v, c, m, n: m.status_label, "dossier": _dossier_link}

    def restrict_to_company(self, query, company_id):
        return query.join(Dossier).where(Dossier.company == company_id)


class AuditView(SecureModelView):
    allow_create = False
    allow_edit = False
    can_export = True
    column_list = ["id", "at", "actor", "action", "subject", "hash"]
    column_labels = {"id": "No.", "at": "Waktu", "actor": "Pelaku", "action": "Tindakan", "subject": "Objek",
                     "details": "Rincian", "prev_hash": "Hash sebelumnya", "hash": "Hash"}
    column_filters = [FilterEqual(AuditEntry.actor, "Pelaku"), FilterEqual(AuditEntry.action, "Tindakan"),
                      FilterLike(AuditEntry.subject, "Objek")]
    column_default_sort = ("id", True)
    column_formatters = {"hash": lambda v, c, m, n: m.hash[:12] + "…"}

    @action("verify_chain", "Periksa rantai hash", None)
    def action_verify_chain(self, ids):
        audit.link_pending()  # what the uploads of the last seconds wrote is checked too
        report = audit.verify_chain()
        if report.ok:
            flash(f"Rantai audit utuh ({report.entries} entri).", "success")
        else:
            flash(f"Rantai audit rusak pada entri #{report.first_broken_id}: {report.reason}", "error")

