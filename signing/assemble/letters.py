"""The office's one-page letters: the ratification page and the passport recommendation."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader, PdfWriter

from signing.assemble.layout import _render_letter
from signing.assemble.pdfa import _finish
from signing.assemble.template import AgreementData

__all__ = ["render_passport_recommendation", "render_ratification_page"]


def _meta(data: AgreementData, title: str, subject: str) -> dict[str, str]:
    return {
        "title": title,
        "author": f"Dinas Tenaga Kerja Kabupaten {data.regency}",
        "subject": subject,
        "keywords": "; ".join(
            [
                "Perjanjian Penempatan",
                data.agreement_number,
                f"Berkas {data.dossier_id}",
                f"ID CPMI {data.cpmi_id}",
            ]
        ),
        "agreement": data.agreement_number,
        "dossier": data.dossier_id,
    }


def _single_page_pdf(page_pdf: bytes, meta: dict[str, str], day: dt.date) -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(page_pdf)))
    return _finish(writer, meta, day, claim_pdfa=True)


def render_ratification_page(
    template: str, data: AgreementData, *, qr_reserved: bool = True
) -> bytes:
    """The "Lembar Pengesahan Perjanjian Penempatan": a one-page A4 PDF.

    ``qr_reserved=True`` (for signing) leaves :data:`SIGNATURE_BOX` empty for the visible
    stamp; ``False`` draws a dashed outline marked "KONSEP" there, for officers' previews that
    are never signed. Template problems raise :class:`errors.TemplateError`.
    """
    page = _render_letter(template, data, qr_reserved=qr_reserved)
    meta = _meta(
        data,
        f"Lembar Pengesahan Perjanjian Penempatan {data.agreement_number}",
        f"Pengesahan Perjanjian Penempatan CPMI {data.cpmi_name}",
    )
    return _single_page_pdf(page, meta, data.issue_date)


def render_passport_recommendation(template: str, data: AgreementData) -> bytes:
    """The "Surat Rekomendasi Paspor": a one-page A4 letter, stamp box at :data:`SIGNATURE_BOX`."""
    page = _render_letter(template, data, qr_reserved=True)
    meta = _meta(
        data,
        f"Surat Rekomendasi Paspor {data.recommendation_number or data.agreement_number}",
        f"Rekomendasi penerbitan paspor CPMI {data.cpmi_name}",
    )
    return _single_page_pdf(page, meta, data.issue_date)
