"""Reading a PP draft: its text layer, or OCR of a scanned draft, and the identities it labels."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest

from pengesahan.services import drafts
from tests.support.images import image_pdf

NIK = "6309055708980002"
OTHER_NIK = "6309055708980003"
LINES = ["PERJANJIAN PENEMPATAN PEKERJA MIGRAN INDONESIA", "Pihak Pertama", "Nama : Budi Santoso",
         "Jabatan : Direktur PT Uji", "Pihak Kedua", "Nama Lengkap : SITI AMINAH", f"NIK : {NIK}",
         "Tempat/Tanggal Lahir : Tanjung, 17-08-1998", "Negara Penempatan : Taiwan"]


def _text_draft() -> bytes:
    """A born-digital draft: the identity block in its text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setFont("Helvetica", 12)
    y = 780
    for line in LINES:
        pdf.drawString(72, y, line)
        y -= 22
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _scanned_draft() -> bytes:
    """The same draft printed and scanned at 200 dpi: one image per page, no text layer."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(_text_draft())
    try:
        rgb = np.ascontiguousarray(document[0].render(scale=200 / 72, rev_byteorder=True).to_numpy()[:, :, :3])
    finally:
        document.close()
    return image_pdf([cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)])


def _ocr_available() -> bool:
    from processing.text import available_engines

    return bool(available_engines())


def test_a_born_digital_draft_is_read_from_its_text_layer():
    facts = drafts.draft_facts(drafts.read_draft_text(_text_draft()))
    assert facts.has_text and facts.niks == (NIK,) and facts.countries == ("Taiwan",)


def test_a_scanned_draft_is_read_by_ocr_and_compared_with_the_dossier():
    if not _ocr_available():
        pytest.skip("Tidak ada mesin OCR (apt-get install tesseract-ocr tesseract-ocr-ind)")
    scanned = _scanned_draft()
    assert drafts._text_layer(scanned).strip() == ""  # really a scan
    facts = drafts.draft_facts(drafts.read_draft_text(scanned))
    assert facts.has_text and NIK in facts.niks
    assert any(p.nik == NIK and drafts.same_name(p.name, "SITI AMINAH") for p in facts.people)
    assert drafts.draft_mismatches(facts, nik=NIK, name="SITI AMINAH", country="Taiwan") == []
    problems = drafts.draft_mismatches(facts, nik=OTHER_NIK, name="RATNA SANTOSO", country="Hong Kong")
    assert any(OTHER_NIK in p for p in problems) and any("Hong Kong" in p for p in problems)


def test_a_scanned_draft_is_read_once_per_content(monkeypatch):
    if not _ocr_available():
        pytest.skip("Tidak ada mesin OCR (apt-get install tesseract-ocr tesseract-ocr-ind)")
    scanned = _scanned_draft()
    first = drafts.read_draft_text(scanned)
    # A second reading of the same bytes (the dossier page, then the submission) is not OCR'd again.
    monkeypatch.setattr(drafts, "_ocr_pages", lambda data, engine: pytest.fail("OCR ran twice"))
    assert drafts.read_draft_text(scanned) == first


def test_a_scanned_draft_the_worker_already_read_is_not_read_again():
    scanned = _scanned_draft()
    worker_text = f"PERJANJIAN PENEMPATAN\nNama Lengkap : SITI AMINAH\nNIK : {NIK}\nNegara Penempatan : Taiwan"
    assert drafts.read_draft_text(scanned, scanned_text=worker_text) == worker_text
    # A text layer, when there is one, is still what counts.
    assert NIK in drafts.read_draft_text(_text_draft(), scanned_text="teks lain")


def test_an_unreadable_file_yields_no_text():
    assert drafts.read_draft_text(b"%PDF-1.4 rusak") == ""
    assert not drafts.draft_facts("").has_text
