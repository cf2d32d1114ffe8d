"""Classification of generated documents from their printed text and from real OCR text."""

from __future__ import annotations

import pytest

from bench.corpus import BUILDERS
from processing.classify import DEFAULT_DOC_TYPES, classify
from processing.spec import UNKNOWN_TYPE, DocTypeSpec, Layout, TextReading
from processing.text import pdf_text_reading
from tests.support.text import document, layout_of, needs_ocr, ocr

PAGE = Layout(aspect_ratio=1.414, is_card=False, colourfulness=0.01)
CARD = Layout(aspect_ratio=1.586, is_card=True, colourfulness=0.3)


def test_default_types_cover_the_shared_vocabulary():
    codes = [t.code for t in DEFAULT_DOC_TYPES]
    assert sorted(codes) == sorted(BUILDERS)
    assert len(set(codes)) == 16
    assert all(t.keywords and t.name for t in DEFAULT_DOC_TYPES)


@pytest.mark.parametrize("doc_type", sorted(BUILDERS))
def test_every_type_from_its_printed_text(doc_type):
    rgb, _fields, truth = document(doc_type, 3)
    result = classify(pdf_text_reading(truth), layout_of(rgb), DEFAULT_DOC_TYPES)
    assert result.doc_type == doc_type, result.reasons
    assert result.confidence >= 0.5
    assert result.reasons


def test_empty_text_is_unknown():
    result = classify(TextReading("", 0.0, 0, "tesseract"), PAGE, DEFAULT_DOC_TYPES)
    assert result.doc_type == UNKNOWN_TYPE
    assert "teks" in result.reasons[0]


def test_unrelated_text_is_unknown():
    text = "Resep nasi goreng: bawang merah, bawang putih, kecap manis, telur, garam."
    result = classify(pdf_text_reading(text), PAGE, DEFAULT_DOC_TYPES)
    assert result.doc_type == UNKNOWN_TYPE


def test_noisy_ktp_text_still_ktp():
    text = (
        "PROV1NSI JAWA TENGAH\nKABUPATEN CILACAP\nNlK : 3301015708900003\n"
        "Nama : SITI\nTempat/Tgi Lahr : CILACAP, 17-08-1990\nJenis Kelamn : PEREMPUAN\n"
        "Gol, Darah : O\nKecamatan : KROYA\nAgama : ISLAM\nBerlaku Hingqa : SEUMUR HIDUP"
    )
    result = classify(TextReading(text, 70.0, 30, "tesseract"), CARD, DEFAULT_DOC_TYPES)
    assert result.doc_type == "ktp"


def test_office_configured_keywords_are_used():
    custom = (*DEFAULT_DOC_TYPES, DocTypeSpec("paspor", "Paspor", ("paspor", "passport", "republic of indonesia")))
    text = "REPUBLIK INDONESIA PASPOR / PASSPORT REPUBLIC OF INDONESIA Nama / Name"
    result = classify(pdf_text_reading(text), PAGE, custom)
    assert result.doc_type == "paspor"


MAIN_TYPES = [
    "ktp",
    "kartu_keluarga",
    "akta_kelahiran",
    "ak1",
    "bpjs_tk",
    "sertifikat_kompetensi",
    "surat_permohonan",
    "perjanjian_penempatan",
    "surat_sehat",
    "surat_izin",
]


@needs_ocr
@pytest.mark.parametrize("doc_type", MAIN_TYPES)
def test_main_types_from_real_ocr(doc_type):
    rgb, _fields, _truth = document(doc_type, 0)
    result = classify(ocr(doc_type, 0), layout_of(rgb), DEFAULT_DOC_TYPES)
    assert result.doc_type == doc_type, result.reasons
    assert result.confidence >= 0.5


@needs_ocr
def test_ktp_in_the_kartu_keluarga_slot_is_recognised():
    # The case: the classifier must tell a KTP from a KK, whatever the slot says.
    rgb, _fields, _truth = document("ktp", 0)
    result = classify(ocr("ktp", 0), layout_of(rgb), DEFAULT_DOC_TYPES)
    assert result.doc_type == "ktp" and result.doc_type != "kartu_keluarga"


# --- look-alikes of a KTP (issue #11) -------------------------------------------------------

_KTP_TEXT = (
    "PROVINSI JAWA TENGAH\nKABUPATEN CILACAP\nNIK : 3301015708900003\nNama : SITI\n"
    "Tempat/Tgl Lahir : CILACAP, 17-08-1990\nJenis Kelamin : PEREMPUAN\nAgama : ISLAM\n"
    "Pekerjaan : PELAJAR/MAHASISWA\nKewarganegaraan : WNI\nBerlaku Hingga : SEUMUR HIDUP"
)


def test_a_ktp_of_a_student_is_still_a_ktp():
    assert classify(TextReading(_KTP_TEXT, 85.0, 40, "tesseract"), CARD).doc_type == "ktp"


@pytest.mark.parametrize("text", [
    # NPWP card: NIK, address and region labels, but an NPWP.
    "NPWP : 71.686.372.5-307.000\nADI SAPUTRA\nNIK : 3301015708900003\n"
    "JL. SEDAPAT NO. 1 RT.41 RW.008\nKEL. SUKAJAYA KEC. SUKARAMI\nKPP PRATAMA PALEMBANG",
    # A fill-in template.
    "PROVINSI TEMPAT ANDA\nKOTA ANDA\nNIK : 3301015708900003\nNama : Nama Asli Anda\n"
    "Tempat/Tgl Lahir : Kota Lahir, 07-07-1997\nJenis Kelamin : Laki-laki\nAgama : Agama Anda",
    # A student card: shared labels only.
    "KARTU PELAJAR\nNISN : 0012345678\nNama : ADI\nJenis Kelamin : L\n"
    "Alamat : Jln. Mentok\nAgama : Islam\nTTL : Bantul, 15 Agustus 1994",
    # A specimen.
    _KTP_TEXT + "\nSPECIMEN",
])
def test_look_alikes_are_not_a_ktp(text):
    result = classify(TextReading(text, 85.0, 30, "tesseract"), CARD)
    assert result.doc_type != "ktp", result.reasons


def test_shared_labels_without_a_title_claim_no_ktp():
    text = "Nama : ADI\nAlamat : JL. MAWAR 3\nAgama : ISLAM\nJenis Kelamin : LAKI-LAKI"
    assert classify(TextReading(text, 85.0, 12, "tesseract"), CARD).doc_type != "ktp"
