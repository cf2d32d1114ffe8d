"""Stored files shown to officers (derived images, originals), behind the access rules."""

from __future__ import annotations

import hashlib
import hmac
import io

from flask import Blueprint, abort, current_app, send_file, url_for
from flask_login import current_user

from pengesahan.records.agreements import Agreement
from pengesahan.records.dossiers import Upload
from pengesahan.services.ratification import signed_pdf
from pengesahan.storage import FileStore, file_store
from pengesahan.web.auth import OFFICE_ROLES, roles_required

bp = Blueprint("files", __name__, url_prefix="/berkas")

_VARIANTS = {"asli": "sha256", "normal": "normalised_key", "thumbnail": "thumbnail_key"}


def _store() -> FileStore:
    return file_store(current_app.config["SETTINGS"])


def send_signed_pdf(agreement: Agreement):
    """The signed PDF of ``agreement`` as a download: the one way every door hands it out."""
    return send_file(io.BytesIO(signed_pdf(current_app.config["SETTINGS"], agreement)), mimetype="application/pdf",
                     download_name=f"{agreement.number.replace('/', '-')}.pdf", as_attachment=True)


def may_see_upload(upload: Upload) -> bool:
    """Officers see every upload; a P3MI only those of its own dossiers."""
    if current_user.role in OFFICE_ROLES:
        return True
    return current_user.role == "p3mi" and upload.slot.dossier.company_id == current_user.company_id


@bp.route("/unggahan/<int:upload_id>/<variant>")
@roles_required(*OFFICE_ROLES, "p3mi")
def upload_file(upload_id: int, variant: str):
    upload = Upload.get_or_none(Upload.id == upload_id)
    if upload is None or variant not in _VARIANTS or not may_see_upload(upload):
        abort(404)
    key = getattr(upload, _VARIANTS[variant])
    if not key:
        abort(404)
    media_type = upload.media_type if variant == "asli" else "image/png"
    return send_file(io.BytesIO(_store().read(key)), mimetype=media_type,
                     download_name=f"unggahan-{upload.id}-{variant}")


@bp.route("/pp/<int:agreement_id>.pdf")
@roles_required(*OFFICE_ROLES, "p3mi")
def agreement_pdf(agreement_id: int):
    """The signed agreement, for the office and for the P3MI that submitted it."""
    agreement = Agreement.get_or_none(Agreement.id == agreement_id)
    if agreement is None or not agreement.signed_sha256:
        abort(404)
    if current_user.role == "p3mi" and agreement.dossier.company_id != current_user.company_id:
        abort(404)
    return send_signed_pdf(agreement)


def cpmi_download_token(agreement) -> str:
    """The secret part of the CPMI's download link of a signed agreement.

    Derived, not stored: an HMAC of the agreement and its unguessable public id under the app's
    secret key. It stays the same when the PP is renewed (a new archive timestamp makes a new
    file), so a link handed to the CPMI keeps working and always serves the newest version.
    """
    message = f"pp-cpmi:{agreement.id}:{agreement.public_id}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()[:32]


def cpmi_download_url(agreement) -> str | None:
    """Absolute link the office or the P3MI hands to the CPMI (no account needed)."""
    if not agreement.signed_sha256:
        return None
    base = current_app.config["SETTINGS"].public_base_url
    return base + url_for("files.cpmi_download", agreement_id=agreement.id, token=cpmi_download_token(agreement))


@bp.route("/unduh/pp/<int:agreement_id>/<token>")
def cpmi_download(agreement_id: int, token: str):
    """The signed agreement for the CPMI, through the link only (no login)."""
    agreement = Agreement.get_or_none(Agreement.id == agreement_id)
    if agreement is None or not agreement.signed_sha256 or not hmac.compare_digest(
            token.encode(), cpmi_download_token(agreement).encode()):
        abort(404)
    return send_signed_pdf(agreement)


@bp.app_context_processor
def _template_helpers():
    return {"cpmi_download_url": cpmi_download_url}
