"""The ratified agreement: the ratification page followed by the P3MI's pages, unchanged."""

from __future__ import annotations

import io

from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError

from pengesahan.errors import IntakeError
from signing.assemble.layout import _render_letter
from signing.assemble.letters import _meta
from signing.assemble.pdfa import _check_page, _finish
from signing.assemble.sanitise import sanitise
from signing.assemble.template import AgreementData

__all__ = ["assemble_agreement", "pdfa_blockers"]


def pdfa_blockers(pdf: bytes) -> tuple[str, ...]:
    """What in a PDF's pages would contradict a PDF/A-2b claim, in Bahasa Indonesia.

    A heuristic over fonts, colour spaces, images, annotations and actions; not a full
    validator (veraPDF is that). An empty result means nothing known stands in the way.
    """
    reader = _open_p3mi(pdf)
    found: set[str] = set()
    for page in reader.pages:
        _check_page(page, found)
    return tuple(sorted(found))


def _open_p3mi(pdf: bytes) -> PdfReader:
    """Open the P3MI's PDF or refuse it with an IntakeError saying why."""
    if not pdf:
        raise IntakeError("Berkas Perjanjian Penempatan dari P3MI kosong.")
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        if reader.is_encrypted:
            raise IntakeError(
                "Berkas Perjanjian Penempatan dari P3MI terkunci (terenkripsi/berpassword). "
                "Mohon P3MI mengunggah ulang berkas PDF tanpa kata sandi."
            )
        if len(reader.pages) == 0:
            raise IntakeError("Berkas Perjanjian Penempatan dari P3MI tidak memuat halaman.")
        for page in reader.pages:
            page.get_contents()  # reach every page now, so a broken file fails here
    except IntakeError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise IntakeError(
            "Berkas Perjanjian Penempatan dari P3MI tidak dapat dibaca sebagai PDF yang utuh. "
            "Mohon P3MI mengunggah ulang berkas PDF yang benar."
        ) from exc
    return reader


def assemble_agreement(p3mi_pdf: bytes, data: AgreementData, template: str) -> bytes:
    """The ratification page followed by the P3MI's pages, as one PDF with nothing active.

    Refuses an empty, encrypted or unreadable P3MI PDF with :class:`errors.IntakeError`. The
    P3MI's pages are first normalised by :func:`sanitise` (annotations flattened, then every
    action, script, link, attachment and form removed); their content is otherwise copied as
    is. PDF/A-2b is claimed only when :func:`pdfa_blockers` finds nothing in those pages.
    """
    _open_p3mi(p3mi_pdf)  # the clear reasons for an empty, encrypted or broken draft
    reader = _open_p3mi(sanitise(p3mi_pdf).pdf)
    blockers: set[str] = set()
    for page in reader.pages:
        _check_page(page, blockers)
    page = _render_letter(template, data, qr_reserved=True)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(page)))
    try:
        writer.append(reader, import_outline=False)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntakeError(
            "Halaman Perjanjian Penempatan dari P3MI tidak dapat disalin. Mohon P3MI mengunggah "
            "ulang berkas PDF yang benar."
        ) from exc
    meta = _meta(
        data,
        f"Perjanjian Penempatan {data.agreement_number}",
        f"Perjanjian Penempatan CPMI {data.cpmi_name} yang disahkan Dinas Tenaga Kerja "
        f"Kabupaten {data.regency}",
    )
    return _finish(writer, meta, data.issue_date, claim_pdfa=not blockers)
