"""The signer's desk: agreements waiting for signature, the capacity in which the user signs
(or why not), single and batch signing with progress."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from flask_wtf import FlaskForm
from rq.exceptions import NoSuchJobError
from rq.job import Job
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

import ratification
import tasks
from admin.base import SIGNERS, SecureView
from errors import SigningRefused
from records.agreements import Agreement


class SignForm(FlaskForm):
    passphrase = PasswordField("Frasa sandi kunci", validators=[DataRequired(), Length(max=200)])


class SignerDesk(SecureView):
    read_roles = SIGNERS

    @expose("/")
    def index(self):
        try:
            authority = ratification.signer_authority(current_user._get_current_object())
            refusal = None
        except SigningRefused as exc:
            authority, refusal = None, exc.message
        waiting = list(Agreement.select().where(Agreement.status == "terverifikasi").order_by(Agreement.verified_at))
        signed = list(Agreement.select().where(Agreement.status == "ditandatangani")
                      .order_by(Agreement.signed_at.desc()).limit(20))
        return self.render("signing/desk.html", authority=authority, refusal=refusal, waiting=waiting,
                           signed=signed, form=SignForm())

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
        sealed = ratification.seal_passphrase(settings, form.passphrase.data)
        job = tasks.enqueue("signing", tasks.sign_batch, ids, user.id, sealed)
        return redirect(url_for(".progress", job_id=job.id))

    @expose("/tugas/<job_id>")
    def progress(self, job_id: str):
        try:
            job = Job.fetch(job_id, connection=tasks.redis_connection())
        except NoSuchJobError:
            return self.render("error.html", message="Tugas tidak ditemukan.", status=404), 404
        status = job.get_status(refresh=True)
        meta = job.meta or {}
        total = len(job.args[0]) if job.args else 0
        return self.render("signing/progress.html", job=job, status=status, done=meta.get("done", 0),
                           total=total, outcomes=meta.get("outcomes", []),
                           finished=status in ("finished", "failed", "stopped", "canceled"))
