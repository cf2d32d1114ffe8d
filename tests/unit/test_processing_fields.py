"""NIK parsing and checking, and field extraction from real OCR text."""

from __future__ import annotations

import datetime as dt

import pytest

from processing.fields import (
    check_family_card,
    check_nik,
    extract_fields,
    find_numbers,
    parse_nik,
    printed_birth,
    region_codes,
)
from processing.spec import FormData
from tests.support.text import document, needs_ocr, ocr

TODAY = dt.date(2026, 3, 1)


def test_parse_nik_man():
    info = parse_nik("3301011708900003", TODAY)
    assert info.province == "Jawa Tengah"
    assert info.regency_code == "3301"
    assert info.district_code == "330101"
    assert info.birth_date == dt.date(1990, 8, 17)
    assert info.sex == "L"
    assert info.serial == "0003"


def test_parse_nik_woman_adds_forty_to_the_day():
    info = parse_nik("6309025703050012", TODAY)
    assert info.sex == "P"
    assert info.birth_date == dt.date(2005, 3, 17)


@pytest.mark.parametrize(
    ("nik", "message"),
    [
        ("", "kosong"),
        ("33010117089000", "16 digit"),
        ("330101170890000A", "angka"),
        ("0001011708900003", "provinsi"),
        ("9901011708900003", "provinsi"),
        ("3300011708900003", "kabupaten"),
        ("3301003208900003", "kecamatan"),
        ("3301013208900003", "Tanggal lahir"),
        ("3301017213900003", "Tanggal lahir"),
        ("3301013102900003", "Tanggal lahir"),
        ("3301011708900000", "0000"),
    ],
)
def test_parse_nik_refuses(nik, message):
    with pytest.raises(ValueError, match=message):
        parse_nik(nik, TODAY)


def test_check_nik_ok_against_form():
    form = FormData(nik="3301014708900003", birth_date=dt.date(1990, 8, 7), sex="P")
    result = check_nik("3301014708900003", form, TODAY)
    assert result.name == "nik"
    assert result.ok
    assert result.value == "3301014708900003"
    assert "sama" in result.message


def test_check_nik_woman_recorded_as_man():
    form = FormData(nik="3301014708900003", birth_date=dt.date(1990, 8, 7), sex="L")
    result = check_nik("3301014708900003", form, TODAY)
    assert not result.ok
    assert "Jenis kelamin" in result.message


def test_check_nik_birth_date_differs_from_form():
    form = FormData(birth_date=dt.date(1990, 8, 8), sex="L")
    result = check_nik("3301011708900003", form, TODAY)
    assert not result.ok
    assert "Tanggal lahir pada NIK (17-08-1990)" in result.message


def test_check_nik_mismatch_with_form():
    form = FormData(nik="3301011708900004")
    result = check_nik("3301011708900003", form, TODAY)
    assert not result.ok
    assert result.threshold == "3301011708900004"
    assert "berbeda" in result.message


@pytest.mark.parametrize("nik", [None, "", "33O1011708900003", "3301011708900000", "1234"])
def test_check_nik_malformed_or_missing(nik):
    result = check_nik(nik, FormData(nik="3301011708900003"), TODAY)
    assert not result.ok
    assert result.message


def test_check_nik_without_form_nik_is_ok_when_well_formed():
    result = check_nik("3301011708900003", FormData(), TODAY)
    assert result.ok
    assert "belum berisi NIK" in result.message


def test_find_numbers_mends_ocr_lookalikes_only_in_digit_runs():
    text = "NIK : 33O10l1708900003\nNama : BUDI SANTOSO"
    assert find_numbers(text, 16) == ["3301011708900003"]
    assert find_numbers("KABUPATENINDRAMAYU", 16) == []


def test_extract_fields_from_noisy_ktp_text():
    text = (
        "PROVINSI JAWA TENGAH\nKABUPATEN CILACAP\nNIK :33010l57O8900003\n"
        "Nama : SITI RAHMAWATI\nTempat/Tg! Lahir : CILACAP, 17-08-1990\n"
        "Jenis Kelamin : PEREMPUAN Gol. Darah : O\n"
    )
    fields = extract_fields(text, "ktp")
    assert fields == {
        "nik": "3301015708900003",
        "name": "SITI RAHMAWATI",
        "birth_place": "CILACAP",
        "birth_date": "1990-08-17",
        "sex": "P",
    }


MAIN_TYPES = [
    ("ktp", ("nik", "name", "birth_place", "birth_date", "sex")),
    ("kartu_keluarga", ("kk_number", "head_nik", "member_niks")),
    ("bpjs_tk", ("bpjs_number", "nik", "name")),
    ("sertifikat_kompetensi", ("certificate_number", "name")),
    ("surat_izin", ("nik", "name", "giver_nik")),
    ("akta_kelahiran", ("name", "birth_date", "birth_place", "sex")),
]


@needs_ocr
@pytest.mark.parametrize(("doc_type", "keys"), MAIN_TYPES)
def test_extract_fields_from_real_ocr(doc_type, keys):
    _rgb, truth, _text = document(doc_type, 0)
    fields = extract_fields(ocr(doc_type, 0).text, doc_type)
    assert {k: fields.get(k) for k in keys} == {k: truth[k] for k in keys}


def test_check_family_card():
    fields = {"kk_number": "3301010101200001", "member_niks": "3301011708900003,3301015708920004"}
    ok = check_family_card(fields, FormData(nik="3301015708920004", kk_number="3301010101200001"))
    assert ok.ok and ok.name == "nik"
    absent = check_family_card(fields, FormData(nik="3301011708900009"))
    assert not absent.ok and "tidak tercantum" in absent.message
    other_kk = check_family_card(fields, FormData(kk_number="3301010101200002"))
    assert not other_kk.ok and "Nomor KK" in other_kk.message


# --- a misread NIK never passes (issue #11) -----------------------------------------------


def test_region_codes_hold_kabupaten_and_kecamatan():
    codes = region_codes()
    assert {"6309", "630902", "3301", "330101"} <= codes
    assert "6399" not in codes and len(codes) > 7000


def test_check_nik_refuses_an_unknown_kabupaten():
    # 63 (Kalimantan Selatan) is a province, 6399 is no kabupaten of it: a 0/9 misread.
    result = check_nik("6399022909003581", FormData(), TODAY)
    assert not result.ok and "kabupaten" in result.message


def test_check_nik_asks_an_officer_about_an_unknown_kecamatan():
    result = check_nik("6309992909003581", FormData(), TODAY)
    assert not result.ok and "kecamatan" in result.message and "petugas" in result.message


def test_check_nik_date_part_against_the_printed_birth_date_and_sex():
    card = {"birth_date": "2000-09-29", "sex": "L"}
    assert check_nik("6309022909003581", FormData(), TODAY, card=card).ok
    # 29 read as 28: the date part no longer matches the date printed on the same card.
    misread = check_nik("6309022809003581", FormData(), TODAY, card=card)
    assert not misread.ok and "salah terbaca" in misread.message
    woman = check_nik("6309026909003581", FormData(), TODAY, card=card)
    assert not woman.ok and "Jenis kelamin" in woman.message


def test_printed_birth_is_read_even_when_its_label_is_garbled_or_it_is_no_date():
    labelled = "NIK : 3171042106860001\nNama : ANDI WIBOWO\nTempat/Tgl Lahir : JAKARTA, 21-06-1986\n"
    assert printed_birth(labelled) == (21, 6, 1986)
    # An AI-generated card: labels garbled, the date impossible; the line's shape still says
    # it is the birth line (place, comma, date), just below the NIK and the name.
    fake = ("KARTU TANDA PENDUDUK\n3171042106860001\nNIK: ANDI WID BWO\n"
            "Tanvao Tot Lenu: JAKARTA, 21-99-1896\nJonb Kaisnin: LAK I-LAKI\n")
    assert printed_birth(fake) == (21, 99, 1896)
    assert printed_birth("NIK : 3171042106860001\nNama : ANDI\n") is None


def test_check_nik_refuses_a_card_printing_an_impossible_birth_date():
    # The NIK is well formed and its region real, but the card's own birth date is no date:
    # nothing on the card confirms the NIK (a fake card, or a misread date line).
    fake = check_nik("3171042106860001", FormData(), TODAY, card={}, printed_birth=(21, 99, 1896))
    assert not fake.ok and "bukan tanggal yang sah" in fake.message
    # A printed date found without its label is held against the NIK like a labelled one.
    other = check_nik("3171042106860001", FormData(), TODAY, card={}, printed_birth=(21, 6, 1996))
    assert not other.ok and "salah terbaca" in other.message
    assert check_nik("3171042106860001", FormData(), TODAY, card={},
                     printed_birth=(21, 6, 1986)).ok


def test_check_nik_low_ocr_confidence_or_disagreeing_reads_are_not_a_pass():
    low = check_nik("6309022909003581", FormData(), TODAY, confidence=55.0)
    assert not low.ok and "tidak terbaca pasti" in low.message
    assert check_nik("6309022909003581", FormData(), TODAY, confidence=93.0).ok
    differ = check_nik("6309022909003581", FormData(), TODAY, confidence=95.0,
                       disagreement="pembacaan ulang berbeda.")
    assert not differ.ok and "tidak terbaca pasti" in differ.message
