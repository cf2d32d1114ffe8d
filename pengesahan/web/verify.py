"""Public verification of a downloaded placement agreement: upload page, QR landing, JSON API.

No login: anyone holding the PDF (the CPMI, an embassy, BP2MI, an employer) may check it. The
work is done by :mod:`signing.verify`; this module supplies what only the office knows (trust
roots, the register of issued agreements, the SKs pendelegasian) and renders the result.

Reports are kept in memory for a short while under a random token, so that the JSON and XML
downloads offered on the report page do not need the file again. The token is unguessable; the
agreement id in the QR link is not, so the QR landing page shows only what the PP itself shows
about the office's act (number, status, hash, signing officials), never the CPMI's data.
"""

from __future__ import annotations

import importlib.util
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
)

from pengesahan.errors import ServiceError, VerificationError
from pengesahan.extensions import csrf
from pengesahan.records.agreements import Agreement, Signature
from pengesahan.services.verification import verify_document
from signing.verify import VerificationReport

__all__ = ["bp"]

bp = Blueprint("verify", __name__)

#: Form and API field carrying the PDF.
FILE_FIELD = "file"
#: How long a report stays downloadable after the page was shown.
REPORT_TTL_SECONDS = 30 * 60
#: Reports kept at most (each holds the file for the XML download; uploads are ≤ 5 MB).
MAX_KEPT_REPORTS = 32


#: pyHanko builds the ETSI XML report with xsdata (its "etsi" extra); offered only if present.
XML_AVAILABLE = importlib.util.find_spec("xsdata") is not None


class FileMissing(ServiceError):
    """The request carries no file to verify."""

    status = 400
    code = "file_missing"


# ---------------------------------------------------------------------------------------------
# Reports kept for download


@dataclass(frozen=True)
class _Kept:
    expires: float
    data: bytes
    report: VerificationReport


class _ReportStore:
    """A small in-process store of recent reports, oldest dropped first."""

    def __init__(self, limit: int, ttl: float):
        self.limit = limit
        self.ttl = ttl
        self._items: OrderedDict[str, _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, data: bytes, report: VerificationReport) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._purge()
            self._items[token] = _Kept(time.monotonic() + self.ttl, data, report)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return token

    def get(self, token: str) -> _Kept | None:
        with self._lock:
            self._purge()
            return self._items.get(token)

    def _purge(self) -> None:
        moment = time.monotonic()
        for token in [t for t, kept in self._items.items() if kept.expires < moment]:
            del self._items[token]


_reports = _ReportStore(MAX_KEPT_REPORTS, REPORT_TTL_SECONDS)


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


def _agreement_or_404(agreement_id: int):
    agreement = Agreement.get_or_none(Agreement.id == agreement_id)
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
    if request.form.get("agreement_id", "").isdigit():
        expected = _agreement_or_404(int(request.form["agreement_id"]))
    try:
        data = _uploaded_pdf()
        report = _verify(data)
    except (FileMissing, VerificationError) as exc:
        return render_template(
            "verify/upload.html", error=exc.message, agreement=expected
        ), exc.status
    token = _reports.put(data, report)
    return render_template(
        "verify/report.html",
        report=report,
        token=token,
        expected=expected,
        xml_available=XML_AVAILABLE,
    )


@bp.route("/verifikasi/<int:agreement_id>")
def agreement_page(agreement_id: int):
    """Landing page of the QR code on the stamp: the registered agreement and a compare form."""
    agreement = _agreement_or_404(agreement_id)
    return render_template(
        "verify/agreement.html",
        agreement=agreement,
        signatures=_public_signatures(agreement),
    )


@bp.route("/verifikasi/laporan/<token>.json")
def report_json(token: str):
    """The JSON report of a verification shown a moment ago."""
    kept = _reports.get(token)
    if kept is None:
        abort(404)
    response = jsonify(kept.report.to_dict())
    response.headers["Content-Disposition"] = (
        f'attachment; filename="verifikasi-{kept.report.sha256[:12]}.json"'
    )
    return response


@bp.route("/verifikasi/laporan/<token>-<int:number>.xml")
def report_xml(token: str, number: int):
    """The ETSI TS 119 102-2 report of one signature of a verification shown a moment ago."""
    kept = _reports.get(token)
    if kept is None:
        abort(404)
    # Built on demand: the XML is for experts, and most visitors only read the verdict.
    reports = _verify(kept.data, xml=True).xml_reports
    if not 1 <= number <= len(reports):
        abort(404)
    return Response(
        reports[number - 1],
        mimetype="application/xml",
        headers={
            "Content-Disposition": (
                f'attachment; filename="verifikasi-{kept.report.sha256[:12]}-{number}.xml"'
            )
        },
    )


@bp.route("/api/v1/verify", methods=["POST"])
@csrf.exempt  # called by programs with no session, so no CSRF token; the upload form keeps its own
def api_verify():
    """Verify the multipart ``berkas`` and answer with the report as JSON."""
    report = _verify(_uploaded_pdf())
    return jsonify(report.to_dict())
