"""The signer's desk: agreements waiting for signature, the capacity in which the user signs
(or why not), single and batch signing with progress."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from admin.base import SIGNERS, SecureView
from pengesahan.errors import ServiceError, SigningRefused
from pengesahan.records.agreements import KINDS, Agreement, Delegation
from pengesahan.records.dossiers import Dossier
from pengesahan.records.people import Candidate, Company
from pengesahan.services import delegations, ratification
from pengesahan.workflow import AgreementStatus


class SignForm(FlaskForm):
    """The key's passphrase, asked once per signing request."""

    passphrase = PasswordField("Frasa sandi kunci", validators=[DataRequired(), Length(max=200)])


def _with_parties(condition):
    """Agreements meeting ``condition``, each read with its dossier, CPMI and company (the desk
    names them on every row: read row by row, three queries an agreement)."""
    return (Agreement.select(Agreement, Dossier, Candidate, Company).join(Dossier).join(Candidate)
            .switch(Dossier).join(Company).where(condition))


class SignerDesk(SecureView):
    """Agreements waiting for signature and the batch progress, for the officials who sign."""

    read_roles = SIGNERS

    @expose("/")
    def index(self):
        try:
            authority = ratification.signer_authority(current_user._get_current_object())
            refusal = None
        except SigningRefused as exc:
            authority, refusal = None, exc.message
        waiting = list(_with_parties(Agreement.status == AgreementStatus.TERVERIFIKASI).order_by(Agreement.verified_at))
        signed = list(_with_parties(Agreement.status == AgreementStatus.DITANDATANGANI)
                      .order_by(Agreement.signed_at.desc()).limit(20))
        return self.render("signing/desk.html", authority=authority, refusal=refusal, waiting=waiting,
                           signed=signed, form=SignForm(), kinds=KINDS,
                           drafts=delegations.awaiting_confirmation(current_user._get_current_object()))

    @expose("/sk/<int:delegation_id>/konfirmasi", methods=["POST"])
    def confirm_sk(self, delegation_id: int):
        """The delegating official confirms an SK by signing its record with their own key."""
        form = SignForm()
        sk = Delegation.get_or_none(Delegation.id == delegation_id) or abort(404)
        if not form.validate_on_submit():
            flash("Masukkan frasa sandi kunci penandatanganan untuk mengonfirmasi SK.", "error")
            return redirect(url_for(".index"))
        try:
            delegations.confirm(current_app.config["SETTINGS"], sk, current_user._get_current_object(),
                                form.passphrase.data)
        except ServiceError as exc:
            flash(exc.message, "error")
        else:
            flash(f"SK {sk.number} dikonfirmasi dan berlaku sebagai dasar pendelegasian.", "success")
        return redirect(url_for(".index"))

    @expose("/tandatangani", methods=["POST"])
    def sign(self):
        form = SignForm()
        ids = [int(i) for i in request.form.getlist("agreement") if i.isdigit()]
        if not form.validate_on_submit():
            flash("Masukkan frasa sandi kunci penandatanganan.", "error")
            return redirect(url_for(".index"))
        if not ids:
            flash("Pilih minimal satu perjanjian.", "error")
            return redirect(url_for(".index"))
        settings = current_app.config["SETTINGS"]
        user = current_user._get_current_object()
        if len(ids) == 1:
            outcome = ratification.sign_agreement(settings, ids[0], user, form.passphrase.data)
            flash(outcome.message, "success" if outcome.ok else "error")
            return redirect(url_for(".index"))
        job_id = ratification.start_batch_signing(settings, ids, user, form.passphrase.data)
        return redirect(url_for(".progress", job_id=job_id))

    @staticmethod
    def _state(job_id: str) -> dict:
        """The batch's progress if this user started it; 404 otherwise (jobs name other people's work)."""
        state = ratification.batch_progress(job_id, current_user.id)
        if state is None:
            abort(404)
        return state

    @expose("/tugas/<job_id>")
    def progress(self, job_id: str):
        return self.render("signing/progress.html", job_id=job_id, **self._state(job_id))

    @expose("/tugas/<job_id>.json")
    def progress_json(self, job_id: str):
        """The batch's progress, polled by the progress page."""
        response = jsonify(self._state(job_id))
        response.headers["Cache-Control"] = "no-store"
        return response
