"""Public verification of a downloaded placement agreement: upload page, QR landing, JSON API.

No login: anyone holding the PDF (the CPMI, an embassy, BP2MI, an employer) may check it. The
work is done by :mod:`signing.verify`; this module supplies what only the office knows (trust
roots, the register of issued agreements, the SKs pendelegasian) and renders the result.

Reports are kept in Redis for a short while under a random token, so that the JSON and XML
downloads offered on the report page do not need the file again, whichever web process serves
the download. The token is unguessable; the
agreement id in the QR link is not, so the QR landing page shows only what the PP itself shows
about the office's act (number, status, hash, signing officials), never the CPMI's data.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import secrets

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)
from redis.exceptions import RedisError

from pengesahan.errors import ServiceError, VerificationError
from pengesahan.extensions import csrf
from pengesahan.jobs.queue import redis_connection
from pengesahan.records.agreements import Agreement, Signature
from pengesahan.services.verification import confirmed_sk_record, verify_document
from signing.verify import VerificationReport

__all__ = ["bp"]

logger = logging.getLogger(__name__)

bp = Blueprint("verify", __name__)

#: Form and API field carrying the PDF.
FILE_FIELD = "file"
#: How long a report stays downloadable after the page was shown.
REPORT_TTL_SECONDS = 30 * 60
#: Redis key prefix of kept reports: ``<prefix><token>`` (JSON) and ``<prefix><token>:file``.
REPORT_KEY_PREFIX = "pengesahan:verify:report:"


#: pyHanko builds the ETSI XML report with xsdata (its "etsi" extra); offered only if present.
XML_AVAILABLE = importlib.util.find_spec("xsdata") is not None


class FileMissing(ServiceError):
    """The request carries no file to verify."""

    status = 400
    code = "file_missing"


# ---------------------------------------------------------------------------------------------
# Reports kept for download


def _keep_report(data: bytes, report: VerificationReport) -> str | None:
    """Keep the report (JSON) and the file (for the XML download) in Redis; the token, or None.

    Redis and not this process's memory: the page and its downloads may be served by different
    web processes. Without Redis the report is still shown, only without download links.
    """
    token = secrets.token_urlsafe(16)
    key = REPORT_KEY_PREFIX + token
    try:
        with redis_connection().pipeline() as pipe:
            pipe.set(key, report.to_json(indent=None), ex=REPORT_TTL_SECONDS)
            pipe.set(f"{key}:file", data, ex=REPORT_TTL_SECONDS)
            pipe.execute()
    except (RedisError, RuntimeError) as exc:
        logger.warning("laporan verifikasi tidak dapat disimpan di Redis: %s", exc)
        return None
    return token


def _kept_report(token: str, *, with_file: bool = False) -> tuple[dict, bytes | None] | None:
    """The kept report as a dict (and the file, if asked), or None when gone or unknown."""
    key = REPORT_KEY_PREFIX + token
    try:
        connection = redis_connection()
        raw = connection.get(key)
        data = connection.get(f"{key}:file") if with_file and raw is not None else None
    except (RedisError, RuntimeError) as exc:
        logger.warning("laporan verifikasi tidak dapat dibaca dari Redis: %s", exc)
        return None
    if raw is None or (with_file and data is None):
        return None
    return json.loads(raw), data


# ---------------------------------------------------------------------------------------------
# Views


def _uploaded_pdf() -> bytes:
    upload = request.files.get(FILE_FIELD)
    if upload is None or not upload.filename:
        raise FileMissing(
            "Pilih berkas PDF Perjanjian Penempatan yang akan diverifikasi.",
            details={"field": FILE_FIELD},
        )
    return upload.read()


def _verify(data: bytes, *, xml: bool = False) -> VerificationReport:
    return verify_document(current_app.config["SETTINGS"], data, xml=xml)


def _agreement_or_404(public_id: str):
    # Looked up by its unguessable public id only: sequential ids would let anyone walk the register.
    agreement = Agreement.get_or_none(Agreement.public_id == public_id) if len(public_id) <= 64 else None
    if agreement is None:
        abort(404)
    return agreement


def _public_signatures(agreement) -> list[dict]:
    """Signing officials as the stamp on the PP shows them: name, capacity, time."""
    rows = agreement.signatures.order_by(Signature.signed_at)
    return [
        {"name": row.official.name, "capacity": row.capacity, "signed_at": row.signed_at}
        for row in rows
    ]


@bp.route("/verifikasi", methods=["GET", "POST"])
def upload():
    """The upload form, and on POST the report of the uploaded PDF."""
    if request.method == "GET":
        return render_template("verify/upload.html")
    expected = None
    if request.form.get("agreement"):
        expected = _agreement_or_404(request.form["agreement"])
    try:
        data = _uploaded_pdf()
        report = _verify(data)
    except (FileMissing, VerificationError) as exc:
        return render_template(
            "verify/upload.html", error=exc.message, agreement=expected
        ), exc.status
    token = _keep_report(data, report)
    return render_template(
        "verify/report.html",
        report=report,
        token=token,
        expected=expected,
        xml_available=XML_AVAILABLE,
    )


@bp.route("/verifikasi/<int:agreement_id>")
def legacy_qr_page(agreement_id: int):
    """QR codes printed before public ids: the verification form, with nothing from the register."""
    return render_template("verify/upload.html", legacy_qr=True)


@bp.route("/verifikasi/p/<public_id>")
def agreement_page(public_id: str):
    """Landing page of the QR code on the stamp: the registered agreement and a compare form."""
    agreement = _agreement_or_404(public_id)
    return render_template(
        "verify/agreement.html",
        agreement=agreement,
        signatures=_public_signatures(agreement),
    )


@bp.route("/verifikasi/sk/<path:number>")
def sk_record(number: str):
    """The SK record its maker signed to confirm the SK a delegated PP rests on (public, as the
    SK itself is): anyone can check that the Kepala Dinas, not an administrator, granted it."""
    data = confirmed_sk_record(current_app.config["SETTINGS"], number) if len(number) <= 120 else None
    if data is None:
        abort(404)
    safe = "".join(ch if ch.isalnum() else "-" for ch in number)
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="sk-{safe}.pdf"'})


@bp.route("/verifikasi/laporan/<token>.json")
def report_json(token: str):
    """The JSON report of a verification shown a moment ago."""
    kept = _kept_report(token)
    if kept is None:
        abort(404)
    report, _ = kept
    response = jsonify(report)
    response.headers["Content-Disposition"] = (
        f'attachment; filename="verifikasi-{report["sha256"][:12]}.json"'
    )
    return response


@bp.route("/verifikasi/laporan/<token>-<int:number>.xml")
def report_xml(token: str, number: int):
    """The ETSI TS 119 102-2 report of one signature of a verification shown a moment ago."""
    kept = _kept_report(token, with_file=True)
    if kept is None:
        abort(404)
    report, data = kept
    # Built on demand: the XML is for experts, and most visitors only read the verdict.
    reports = _verify(data, xml=True).xml_reports
    if not 1 <= number <= len(reports):
        abort(404)
    return Response(
        reports[number - 1],
        mimetype="application/xml",
        headers={
            "Content-Disposition": (
                f'attachment; filename="verifikasi-{report["sha256"][:12]}-{number}.xml"'
            )
        },
    )


@bp.route("/api/v1/verify", methods=["POST"])
@csrf.exempt  # called by programs with no session, so no CSRF token; the upload form keeps its own
def api_verify():
    """Verify the multipart ``berkas`` and answer with the report as JSON."""
    report = _verify(_uploaded_pdf())
    return jsonify(report.to_dict())
