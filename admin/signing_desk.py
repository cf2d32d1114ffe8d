"""The signer's desk: agreements waiting for signature, the capacity in which the user signs
(or why not), single and batch signing with progress."""

from __future__ import annotations

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
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
from records.agreements import KINDS, Agreement


class SignForm(FlaskForm):
    """The key's passphrase, asked once per signing request."""

    passphrase = PasswordField("Frasa sandi kunci", validators=[DataRequired(), Length(max=200)])


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
        waiting = list(Agreement.select().where(Agreement.status == "terverifikasi").order_by(Agreement.verified_at))
        signed = list(Agreement.select().where(Agreement.status == "ditandatangani")
                      .order_by(Agreement.signed_at.desc()).limit(20))
        return self.render("signing/desk.html", authority=authority, refusal=refusal, waiting=waiting,
                           signed=signed, form=SignForm(), kinds=KINDS)

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

    def _job(self, job_id: str) -> Job:
        """The batch job if this user started it; 404 otherwise (jobs name other people's work)."""
        try:
            job = Job.fetch(job_id, connection=tasks.redis_connection())
        except NoSuchJobError:
            abort(404)
        if job.func_name != "tasks.sign_batch" or len(job.args) < 2 or job.args[1] != current_user.id:
            abort(404)
        return job

    @staticmethod
    def job_state(job: Job) -> dict:
        """What the progress page shows, from the job's meta as the worker updates it."""
        status = job.get_status(refresh=True)
        meta = job.meta or {}
        total = len(job.args[0]) if job.args else 0
        outcomes = meta.get("outcomes", [])
        finished = status in ("finished", "failed", "stopped", "canceled")
        signed = sum(1 for o in outcomes if o.get("ok"))
        failed_count = len(outcomes) - signed
        summary = ""
        if finished:
            summary = f"{signed} dari {total} dokumen ditandatangani"
            summary += f"; {failed_count} gagal (lihat alasannya)." if failed_count else "."
            if status == "failed":
                summary = "Tugas penandatanganan berhenti karena kesalahan. " + summary
        return {"status": str(status.value if hasattr(status, "value") else status), "done": meta.get("done", 0),
                "total": total, "outcomes": outcomes, "finished": finished, "failed_count": failed_count,
                "summary": summary}

    @expose("/tugas/<job_id>")
    def progress(self, job_id: str):
        state = self.job_state(self._job(job_id))
        return self.render("signing/progress.html", job_id=job_id, **state)

    @expose("/tugas/<job_id>.json")
    def progress_json(self, job_id: str):
        """The batch's progress, polled by the progress page."""
        response = jsonify(self.job_state(self._job(job_id)))
        response.headers["Cache-Control"] = "no-store"
        return response
