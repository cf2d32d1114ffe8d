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
    assert drafts.draft_mismatches(facts, drafts.Expected(nik=NIK, name="SITI AMINAH", country="Taiwan")) == []
    problems = drafts.draft_mismatches(facts, drafts.Expected(nik=OTHER_NIK, name="RATNA SANTOSO",
                                                              country="Hong Kong"))
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


TERMS = """PERJANJIAN PENEMPATAN PEKERJA MIGRAN INDONESIA
Nama P3MI : PT. Maju Jaya
Nomor SIP2MI : B.123/KA/IX/2025
Nama : Budi Santoso
Jabatan : Direktur
Nama Lengkap : SITI AMINAH
NIK : 6309055708980002
Negara Penempatan : TAIWAN (R.O.C.)
Nama Pemberi Kerja : Mr. Chen Wei
Jabatan PMI : Pengasuh lansia
Jangka Waktu : 2 (dua) tahun
Gaji : NT$ 27.470 per bulan"""
AS_THE_DOSSIER = drafts.Expected(nik=NIK, name="Siti Aminah", country="Taiwan", company_name="PT MAJU JAYA",
                                 sip2mi_number="B.123/KA/IX/2025", employer_name="CHEN WEI",
                                 job_title="Pengasuh Lansia", contract_months=24)


def test_the_terms_of_a_draft_are_read_where_it_labels_them():
    facts = drafts.draft_facts(TERMS)
    # The signatory's "Jabatan : Direktur" is not the CPMI's position.
    assert facts.terms["job_title"] == "Pengasuh lansia" and facts.contract_months == 24
    assert drafts.draft_fields(facts, NIK) == {
        "nik": NIK, "name": "SITI AMINAH", "destination_country": "TAIWAN (R.O.C.)", "p3mi_name": "PT. Maju Jaya",
        "sip2mi_number": "B.123/KA/IX/2025", "employer_name": "Mr. Chen Wei", "job_title": "Pengasuh lansia",
        "contract_months": "24", "salary": "NT$ 27.470 per bulan"}
    assert drafts.draft_mismatches(facts, AS_THE_DOSSIER) == []


@pytest.mark.parametrize(("term", "value", "words"), [
    ("company_name", "PT Maju Jaya Abadi", "Nama P3MI"),  # another firm, one word longer
    ("sip2mi_number", "B.124/KA/IX/2025", "Nomor SIP2MI"),
    ("employer_name", "Wang Family", "Pemberi kerja"),
    ("job_title", "Operator pabrik", "Jabatan"),
    ("contract_months", 36, "Masa kontrak"),
])
def test_a_draft_whose_term_differs_from_the_dossier_is_named(term, value, words):
    import dataclasses

    problems = drafts.draft_mismatches(drafts.draft_facts(TERMS), dataclasses.replace(AS_THE_DOSSIER, **{term: value}))
    assert len(problems) == 1 and problems[0].startswith(words) and str(value) in problems[0]


def test_a_term_the_draft_does_not_state_is_left_to_the_officer():
    bare = "\n".join(line for line in TERMS.splitlines() if not line.startswith(("Nama Pemberi", "Jangka")))
    expected = drafts.Expected(nik=NIK, name="SITI AMINAH", employer_name="Wang Family", contract_months=36)
    assert drafts.draft_mismatches(drafts.draft_facts(bare), expected) == []
