"""Assembly of the ratification page, the ratified agreement and the passport recommendation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pdfplumber
import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from pengesahan.errors import IntakeError, ServiceError
from signing.assemble import (
    SIGNATURE_BOX,
    SIGNATURE_FIELD,
    SIGNATURE_PAGE,
    AgreementData,
    assemble_agreement,
    pdfa_blockers,
    render_passport_recommendation,
    render_ratification_page,
    template_context,
)
from signing.delegation import format_date
from signing.templates import (
    DEFAULT_PASSPORT_RECOMMENDATION_TEMPLATE,
    DEFAULT_RATIFICATION_TEMPLATE,
    TEMPLATE_FIELDS,
)


def make_data(**changes) -> AgreementData:
    """A complete, realistic agreement; tests change only what they look at."""
    data = AgreementData(
        agreement_number="PP/0123/DISNAKER/III/2026",
        dossier_id="D-2026-000451",
        cpmi_name="SITI NURHALIZA",
        cpmi_nik="6309054902960001",
        cpmi_sex="P",
        cpmi_birth_place="Tanjung",
        cpmi_birth_date=dt.date(1996, 2, 9),
        cpmi_address="Jl. Tanjung Selatan RT 03 RW 01, Kel. Tanjung, Kec. Tanjung, Kab. Tabalong",
        cpmi_id="CPMI-6309-2026-000451",
        p3mi_name="PT Karya Mandiri Sejahtera",
        p3mi_licence="2/1234/PK.02.02/I/2026",
        p3mi_address="Jl. Jend. Sudirman No. 12, Jakarta Pusat",
        employer_name="Chen Wei Ling",
        employer_country="Taiwan",
        job_title="Caregiver (Perawat Lansia)",
        contract_months=36,
        verifier_name="Rahmat Hidayat, S.E.",
        verifier_nip="198503122010011004",
        verified_on=dt.date(2026, 3, 10),
        issue_date=dt.date(2026, 3, 12),
        regency="Tabalong",
        signer_title_lines=("a.n. KEPALA DINAS TENAGA KERJA", "KABUPATEN TABALONG", "Sekretaris,"),
        signer_name_lines=(
            "Drs. AHMAD FAUZI, M.Si",
            "Pembina Tk. I (IV/b)",
            "NIP 197607171995111001",
        ),
        office_address="Jalan Jenderal Basuki Rahmat No. 1, Tanjung 71571",
        issue_place="Tanjung",
        recommendation_number="500.15/123/DISNAKER/III/2026",
        immigration_office="Kepala Kantor Imigrasi Kelas II TPI Tanjung",
    )
    return dataclasses.replace(data, **changes)


def make_p3mi_pdf(pages: int = 3) -> bytes:
    """A draft agreement as a P3MI would upload it (base-14 font: not PDF/A material)."""
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    for number in range(1, pages + 1):
        c.setFont("Helvetica", 11)
        c.drawString(72, 760, f"PERJANJIAN PENEMPATAN - halaman {number}")
        c.rect(72, 600, 200, 100)
        c.showPage()
    c.save()
    return buf.getvalue()


@pytest.fixture(scope="module")
def data() -> AgreementData:
    return make_data()


@pytest.fixture(scope="module")
def p3mi_pdf() -> bytes:
    return make_p3mi_pdf()


@pytest.fixture(scope="module")
def page_pdf(data) -> bytes:
    return render_ratification_page(DEFAULT_RATIFICATION_TEMPLATE, data)


@pytest.fixture(scope="module")
def agreement_pdf(p3mi_pdf, data) -> bytes:
    return assemble_agreement(p3mi_pdf, data, DEFAULT_RATIFICATION_TEMPLATE)


def page_words(pdf: bytes, index: int = 0) -> tuple[str, list[dict]]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[index]
        return page.extract_text(), page.extract_words()


# --------------------------------------------------------------------------- ratification page


def test_ratification_page_is_one_a4_page_with_the_data(page_pdf, data):
    reader = PdfReader(io.BytesIO(page_pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text, _ = page_words(page_pdf)
    for expected in (
        "PEMERINTAH KABUPATEN TABALONG",
        "DINAS TENAGA KERJA",
        "LEMBAR PENGESAHAN",
        "Nomor: PP/0123/DISNAKER/III/2026",
        data.cpmi_name,
        data.cpmi_nik,
        data.cpmi_id,
        "Perempuan",
        "Tanjung, 9 Februari 1996",
        data.p3mi_name,
        "Taiwan",
        "36 bulan",
        "Undang-Undang Nomor 18 Tahun 2017",
        "DISAHKAN",
        "Tanjung, 12 Maret 2026",
        "a.n. KEPALA DINAS TENAGA KERJA",
        "Drs. AHMAD FAUZI, M.Si",
        "NIP 197607171995111001",
    ):
        assert expected in text, expected


def test_same_input_gives_same_bytes(page_pdf, data, agreement_pdf, p3mi_pdf):
    assert render_ratification_page(DEFAULT_RATIFICATION_TEMPLATE, data) == page_pdf
    assert assemble_agreement(p3mi_pdf, data, DEFAULT_RATIFICATION_TEMPLATE) == agreement_pdf
    later = render_ratification_page(
        DEFAULT_RATIFICATION_TEMPLATE, make_data(issue_date=dt.date(2026, 3, 13))
    )
    assert later != page_pdf


def test_signature_box_is_inside_the_page_and_free_of_text(page_pdf):
    assert SIGNATURE_FIELD == "Pengesahan" and SIGNATURE_PAGE == 0
    x1, y1, x2, y2 = SIGNATURE_BOX
    width, height = A4
    assert 0 < x1 < x2 < width and 0 < y1 < y2 < height
    assert x2 - x1 >= 150 and y2 - y1 >= 70  # room for a QR code and a line of text
    with pdfplumber.open(io.BytesIO(page_pdf)) as doc:
        page = doc.pages[0]
        # pdfplumber measures y from the top of the page.
        top, bottom = height - y2, height - y1
        inside = [
            w
            for w in page.extract_words()
            if w["x0"] < x2 and w["x1"] > x1 and w["top"] < bottom and w["bottom"] > top
        ]
        assert inside == []
        assert [
            r
            for r in page.rects
            if r["x0"] < x2 and r["x1"] > x1 and r["top"] < bottom and r["bottom"] > top
        ] == []


def test_signer_lines_frame_the_box(page_pdf):
    _, words = page_words(page_pdf)
    height = A4[1]
    x1, y1, x2, y2 = SIGNATURE_BOX
    name = next(w for w in words if w["text"] == "AHMAD")
    title = next(w for w in words if w["text"] == "Sekretaris,")
    assert height - y1 < name["top"]  # the name is under the box
    assert title["bottom"] < height - y2  # the capacity is above it
    assert x1 <= name["x0"] and name["x1"] <= x2


def test_preview_marks_the_box_as_draft(data):
    preview = render_ratification_page(DEFAULT_RATIFICATION_TEMPLATE, data, qr_reserved=False)
    text, _ = page_words(preview)
    assert "KONSEP" in text


def test_fonts_are_embedded_and_metadata_is_pdfa(page_pdf):
    assert pdfa_blockers(page_pdf) == ()
    reader = PdfReader(io.BytesIO(page_pdf))
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        assert "/FontFile2" in font.get_object()["/FontDescriptor"]
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object()
    assert "/Filter" not in xmp
    assert b"<pdfaid:part>2</pdfaid:part>" in xmp.get_data()
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    profile = intent["/DestOutputProfile"].get_object().get_data()
    assert profile[36:40] == b"acsp" and profile[16:20] == b"RGB "
    first, second = reader.trailer["/ID"]
    assert first == second and len(first) == 16


# --------------------------------------------------------------------------- assembled agreement


def test_p3mi_pages_follow_unchanged(agreement_pdf, p3mi_pdf):
    source = PdfReader(io.BytesIO(p3mi_pdf))
    result = PdfReader(io.BytesIO(agreement_pdf))
    assert len(result.pages) == 1 + len(source.pages)
    for original, copied in zip(source.pages, result.pages[1:], strict=True):
        raw_in = original["/Contents"].get_object()
        raw_out = copied["/Contents"].get_object()
        assert raw_out._data == raw_in._data  # encoded bytes, not just the decoded text
        assert copied.get_contents().get_data() == original.get_contents().get_data()
        assert copied.mediabox == original.mediabox
    with pdfplumber.open(io.BytesIO(agreement_pdf)) as doc:
        assert "LEMBAR PENGESAHAN" in doc.pages[0].extract_text()
        assert doc.pages[2].extract_text() == "PERJANJIAN PENEMPATAN - halaman 2"


def test_agreement_metadata(agreement_pdf, data):
    reader = PdfReader(io.BytesIO(agreement_pdf))
    info = reader.metadata
    assert info["/Title"] == f"Perjanjian Penempatan {data.agreement_number}"
    assert data.agreement_number in info["/Keywords"] and data.dossier_id in info["/Keywords"]
    assert info["/AgreementNumber"] == data.agreement_number
    assert info["/DossierId"] == data.dossier_id
    assert info["/Subject"]
    assert info["/CreationDate"] == "D:20260312000000Z"
    xmp = reader.xmp_metadata
    assert xmp.dc_title["x-default"] == info["/Title"]
    assert xmp.pdf_keywords == info["/Keywords"]
    raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b"<pp:AgreementNumber>PP/0123/DISNAKER/III/2026</pp:AgreementNumber>" in raw


def test_pdfa_claimed_only_when_p3mi_pages_allow(agreement_pdf, p3mi_pdf, page_pdf, data):
    # The P3MI's draft uses a non-embedded Helvetica: no claim, and the pages stay as they are.
    assert pdfa_blockers(p3mi_pdf) == ("huruf tidak tertanam: Helvetica",)
    raw = PdfReader(io.BytesIO(agreement_pdf)).trailer["/Root"]["/Metadata"].get_object()
    assert b"pdfaid:part" not in raw.get_data()
    # A P3MI PDF made of PDF/A-friendly pages (our own page will do) keeps the claim.
    clean = assemble_agreement(page_pdf, data, DEFAULT_RATIFICATION_TEMPLATE)
    raw = PdfReader(io.BytesIO(clean)).trailer["/Root"]["/Metadata"].get_object()
    assert b"<pdfaid:part>2</pdfaid:part>" in raw.get_data()


def encrypted(pdf: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt("rahasia", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: b"", "kosong"),
        (encrypted, "terkunci"),
        (lambda p: b"bukan PDF sama sekali", "tidak dapat dibaca"),
        (lambda p: p[: len(p) // 3], "tidak dapat dibaca"),
    ],
    ids=["empty", "encrypted", "not-a-pdf", "truncated"],
)
def test_bad_p3mi_pdf_refused(make, words, p3mi_pdf, data):
    with pytest.raises(IntakeError) as caught:
        assemble_agreement(make(p3mi_pdf), data, DEFAULT_RATIFICATION_TEMPLATE)
    assert words in caught.value.message
    assert "P3MI" in caught.value.message


# --------------------------------------------------------------------------- templates


def test_passport_recommendation(data):
    pdf = render_passport_recommendation(DEFAULT_PASSPORT_RECOMMENDATION_TEMPLATE, data)
    assert render_passport_recommendation(DEFAULT_PASSPORT_RECOMMENDATION_TEMPLATE, data) == pdf
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert pdfa_blockers(pdf) == ()
    text, _ = page_words(pdf)
    for expected in (
        "Rekomendasi Penerbitan Paspor",
        data.recommendation_number,
        "Kepala Kantor Imigrasi Kelas II TPI Tanjung",
        data.cpmi_nik,
        "Undang-Undang Nomor 18 Tahun 2017",
        "Drs. AHMAD FAUZI, M.Si",
    ):
        assert expected in text, expected


def test_every_documented_field_renders_and_no_other():
    context = template_context(make_data(extra=()))
    documented = {f.name for f in TEMPLATE_FIELDS}
    present = {
        f"{group}.{key}" for group, values in context.items() for key in values if group != "lain"
    }
    assert documented == present


def test_markup_features():
    template = (
        "! PEMERINTAH KABUPATEN {{ kantor.kabupaten|upper }}\n"
        "!! DINAS TENAGA KERJA\n"
        "# JUDUL\n"
        "## Nomor: {{ pp.nomor }}\n"
        "> Yth. {{ rekomendasi.kantor_imigrasi }}\n"
        "> di Tempat\n"
        "\n"
        "- 1. butir pertama\n"
        "- b. butir kedua\n"
        ": Nama | {{ cpmi.nama }}\n"
        "\n"
        "| **Bagian** |\n"
        "| Kolom | {{ lain.catatan }} |\n"
        "Paragraf **tebal** dan\n"
        "baris sambungan.\n"
        "~ catatan kaki\n"
    )
    data = make_data(extra=(("catatan", "a | b ** c\n# bukan judul"),))
    text, _ = page_words(render_ratification_page(template, data))
    assert "di Tempat" in text and "1. butir pertama" in text and "b. butir kedua" in text
    assert "Nama : SITI NURHALIZA" in text
    # A value is text, never markup: its "|", "**", line break and "#" are shown as they are.
    assert "a | b ** c # bukan judul" in text
    assert "Paragraf tebal dan baris sambungan." in text
    assert "catatan kaki" in text


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("{{ cpmi.namaa }}", "isian 'cpmi.namaa' yang tidak dikenal pada baris 1"),
        ("baris satu\n{{ nomor_pp }}", "isian 'nomor_pp' yang tidak dikenal pada baris 2"),
        ("{% if %}", "Templat tidak valid pada baris 1"),
        ("{{ cpmi.nama | tidak_ada }}", "Templat tidak valid pada baris 1"),
    ],
)
def test_template_errors_are_clear(template, words, data):
    with pytest.raises(ServiceError) as caught:
        render_ratification_page(template, data)
    assert words in caught.value.message


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cpmi.__class__.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ format_date_id }}",
    ],
)
def test_template_cannot_reach_python_internals(template, data):
    with pytest.raises(ServiceError) as caught:
        render_ratification_page(template, data)
    message = caught.value.message
    assert "tidak diizinkan" in message or "tidak dikenal" in message


def test_long_names_and_addresses_still_fit_on_one_page():
    data = make_data(
        cpmi_name="MUHAMMAD RIZKY ANANDA PRATAMA SAPUTRA BIN ABDULLAH",
        cpmi_address="Jl. Jenderal Ahmad Yani Km. 5 Gang Keluarga No. 123 RT 012 RW 004, Desa "
        "Mabuun, Kecamatan Murung Pudak, Kabupaten Tabalong, Provinsi Kalimantan Selatan",
        p3mi_name="PT Karya Mandiri Sejahtera Abadi Internasional Indonesia",
        p3mi_address="Gedung Menara Sudirman Lantai 12, Jl. Jenderal Sudirman Kav. 60, Kelurahan "
        "Senayan, Kecamatan Kebayoran Baru, Jakarta Selatan 12190",
        signer_title_lines=(
            "a.n. KEPALA DINAS TENAGA KERJA",
            "KABUPATEN TABALONG",
            "Kepala Bidang Penempatan dan",
            "Perluasan Kesempatan Kerja,",
        ),
    )
    for pdf in (
        render_ratification_page(DEFAULT_RATIFICATION_TEMPLATE, data),
        render_passport_recommendation(DEFAULT_PASSPORT_RECOMMENDATION_TEMPLATE, data),
    ):
        text, _ = page_words(pdf)
        assert "Provinsi Kalimantan Selatan" in text and "Perluasan Kesempatan Kerja," in text


def test_too_long_template_refused_rather_than_overlapping_the_signature(data):
    long = "\n\n".join(["Paragraf yang panjang sekali untuk memenuhi halaman. " * 6] * 12)
    with pytest.raises(ServiceError) as caught:
        render_ratification_page(long, data)
    assert "terlalu panjang" in caught.value.message


def test_indonesian_dates():
    assert format_date(dt.date(2026, 8, 17)) == "17 Agustus 2026"
