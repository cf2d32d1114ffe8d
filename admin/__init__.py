"""The officers' admin (Flask-Admin): one Admin, its screens, grouped by menu category."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.theme import Bootstrap4Theme
from flask_login import current_user

from admin.base import OFFICE, AccessRules
from admin.review import ReviewDesk
from admin.signing_desk import SignerDesk
from admin.views import (
    AgreementView,
    ApiTokenView,
    AuditView,
    CandidateView,
    CompanyView,
    DelegationView,
    DocumentTypeView,
    DossierView,
    LetterTemplateView,
    OfficialView,
    RejectionTemplateView,
    RequirementView,
    ReviewEventView,
    SettingView,
    SlaView,
    ThresholdView,
    UploadView,
    UserView,
)
from pengesahan import translations, workflow
from pengesahan.records.agreements import Agreement, Delegation
from pengesahan.records.audit import AuditEntry
from pengesahan.records.base import now
from pengesahan.records.catalogue import (
    CheckThreshold,
    DocumentType,
    LetterTemplate,
    RejectionTemplate,
    Requirement,
    Setting,
    SlaSetting,
)
from pengesahan.records.dossiers import DocumentSlot, Dossier, ReviewEvent, Upload
from pengesahan.records.people import ApiToken, Candidate, Company, Official, User
from pengesahan.services import dashboard, learning, ltv
from pengesahan.timefmt import format_moment
from pengesahan.workflow import SlotStatus
from processing.spec import DEFECT_LABELS


class HomeView(AccessRules, AdminIndexView):
    """The landing page after login: counts for the user's role and, for the office, the charts."""

    read_roles = OFFICE | {"p3mi"}

    @expose("/")
    def index(self):
        moment = now()
        if current_user.role == "p3mi":
            returned = (Dossier.select().join(DocumentSlot)
                        .where((Dossier.company == current_user.company_id) & (DocumentSlot.status == SlotStatus.DITOLAK))
                        .distinct().order_by(Dossier.id))
            return self.render("admin/home.html", counts=dashboard.counts(moment, current_user.company_id),
                               returned=list(returned))
        settings = current_app.config["SETTINGS"]
        type_model = learning.model_quality(settings)
        return self.render("admin/home.html", counts=dashboard.counts(moment),
                           ltv_due=ltv.recorded_due_count(),
                           type_model=type_model, type_model_untrained=learning.NOT_YET_TRAINED,
                           type_model_trained_at=format_moment(dt.datetime.fromisoformat(type_model.trained_at),
                                                               settings.office_timezone) if type_model else "",
                           times=dashboard.verification_times(moment),
                           failures=dashboard.check_failures(moment), check_labels=dashboard.CHECK_LABELS,
                           verdicts=dashboard.officers_verdicts(moment), defect_labels=DEFECT_LABELS,
                           defect_models=_defect_models(settings),
                           dossier_statuses=workflow.DOSSIER_STATUSES,
                           agreement_statuses=workflow.AGREEMENT_STATUSES)


def _defect_models(settings) -> dict:
    """The office's defect models as the dashboard states them."""
    quality = learning.defect_models_quality(settings)
    if quality is None:
        return {"lines": [], "untrained": learning.DEFECTS_NOT_YET_TRAINED, "trained_at": ""}
    return {"lines": learning.describe_defect_models(quality), "untrained": "",
            "trained_at": format_moment(dt.datetime.fromisoformat(quality.trained_at), settings.office_timezone)}


def init_app(app) -> Admin:
    """The officers' screens on ``app``."""
    admin = Admin(
        app,
        name="Pengesahan PP",
        theme=Bootstrap4Theme(swatch="flatly", fluid=True),
        index_view=HomeView(name="Beranda", url="/admin"),
        # Flask-Admin has no Indonesian of its own: our catalogue (domain "admin") supplies it.
        translations_path=str(translations.DIRECTORY),
    )
    admin.add_view(ReviewDesk(name="Pemeriksaan", endpoint="review", url="/admin/pemeriksaan"))
    admin.add_view(SignerDesk(name="Tanda Tangan", endpoint="signing", url="/admin/tanda-tangan"))
    berkas = "Berkas"
    admin.add_view(DossierView(Dossier, name="Berkas CPMI", category=berkas, endpoint="dossier"))
    admin.add_view(CandidateView(Candidate, name="CPMI", category=berkas, endpoint="candidate"))
    admin.add_view(CompanyView(Company, name="P3MI", category=berkas, endpoint="company"))
    admin.add_view(UploadView(Upload, name="Unggahan", category=berkas, endpoint="upload"))
    admin.add_view(ReviewEventView(ReviewEvent, name="Riwayat Pemeriksaan", category=berkas, endpoint="reviewevent"))
    pp = "Perjanjian"
    admin.add_view(AgreementView(Agreement, name="Perjanjian Penempatan", category=pp, endpoint="agreement"))
    admin.add_view(OfficialView(Official, name="Pejabat", category=pp, endpoint="official"))
    admin.add_view(DelegationView(Delegation, name="SK Pendelegasian", category=pp, endpoint="delegation"))
    config = "Konfigurasi"
    admin.add_view(DocumentTypeView(DocumentType, name="Jenis Dokumen", category=config, endpoint="doctype"))
    admin.add_view(RequirementView(Requirement, name="Persyaratan", category=config, endpoint="requirement"))
    admin.add_view(ThresholdView(CheckThreshold, name="Ambang Pemeriksaan", category=config, endpoint="threshold"))
    admin.add_view(RejectionTemplateView(RejectionTemplate, name="Templat Alasan", category=config,
                                         endpoint="rejectiontemplate"))
    admin.add_view(SlaView(SlaSetting, name="SLA", category=config, endpoint="sla"))
    admin.add_view(LetterTemplateView(LetterTemplate, name="Templat Surat", category=config, endpoint="lettertemplate"))
    admin.add_view(SettingView(Setting, name="Pengaturan", category=config, endpoint="setting"))
    system = "Sistem"
    admin.add_view(UserView(User, name="Pengguna", category=system, endpoint="user"))
    admin.add_view(ApiTokenView(ApiToken, name="Token API", category=system, endpoint="apitoken"))
    admin.add_view(AuditView(AuditEntry, name="Log Audit", category=system, endpoint="audit"))
    return admin
