"""Reading real cards (issue #11): background lifted, a second engine, the NIK read twice."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from processing import pipeline
from processing.checks import nik_digits_box
from processing.pipeline import _nik_candidates, _read_document, _reread_nik
from processing.spec import TextReading, TextWord
from processing.text import lift_print, read_text
from tests.support.images import _font, make_patterned_card, scan
from tests.support.text import HAS_TESSERACT, needs_ocr, needs_rapidocr

NIK = "6309022909003581"  # the generated card's: 29-09-2000, male, Tabalong (6309)


def _reading(engine: str, words: list[tuple[str, float]]) -> TextReading:
    line = tuple(TextWord(text, conf, (10 * i, 0, 10 * i + 8, 10)) for i, (text, conf)
                 in enumerate(words))
    return TextReading(" ".join(t for t, _ in words), float(np.mean([c for _, c in words])),
                       len(words), engine, (line,))


def test_lift_print_turns_a_coloured_pattern_light_and_keeps_black_text():
    card = np.full((40, 80, 3), (225, 200, 170), np.uint8)  # BGR light blue
    card[::4] = (200, 160, 125)  # the darker blue lines of a guilloche
    card[15:25, 10:70] = (20, 20, 20)  # a black stroke
    plain = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)
    lifted = lift_print(card)
    assert lifted[0].min() >= 200 > plain[0].min()
    assert lifted[20, 40] <= 30
    assert lift_print(plain) is plain


def test_nik_candidates_skip_a_stray_digit_and_refuse_malformed_numbers():
    assert _nik_candidates("1" + NIK) == [NIK]
    assert _nik_candidates(NIK[:15]) == []
    assert _nik_candidates("9909022909003581") == []  # no province 99


def test_a_poor_first_reading_is_read_again_by_the_other_engine():
    calls = []
    poor = _reading("tesseract", [("PROV", 30.0), ("x", 20.0)])
    rich = _reading("rapidocr", [(f"KATA{i}", 90.0) for i in range(20)])

    def read(gray, engine):
        calls.append(engine)
        return poor if engine in ("auto", "tesseract") else rich

    document = np.full((60, 100, 3), 255, np.uint8)
    assert _read_document(document, "auto", read, ["tesseract", "rapidocr"]) is rich
    assert calls == ["auto", "rapidocr"]
    calls.clear()
    # An engine chosen by the office is respected; a good first reading costs one reading.
    assert _read_document(document, "tesseract", read, ["tesseract", "rapidocr"]) is poor
    good = _reading("tesseract", [(f"KATA{i}", 90.0) for i in range(20)])
    assert _read_document(document, "auto", lambda g, e: good, ["tesseract", "rapidocr"]) is good
    # Told which engine to try first (the one that read the same card before), auto starts there.
    calls.clear()
    assert _read_document(document, "auto", read, ["tesseract", "rapidocr"],
                          first_engine="rapidocr") is rich
    assert calls == ["rapidocr"]
    calls.clear()
    assert _read_document(document, "tesseract", read, ["tesseract", "rapidocr"],
                          first_engine="rapidocr") is poor
    assert calls == ["tesseract"]


def test_a_ktp_header_one_engine_missed_is_asked_of_the_other():
    from processing.pipeline import _header_read_elsewhere, measure_page

    page = measure_page(np.full((200, 320, 3), 255, np.uint8))
    headless = _reading("tesseract", [("NIK", 90.0), ("3201010101010001", 90.0),
                                      ("Kewarganegaraan", 90.0)])
    calls = []

    def read(gray, engine):
        calls.append(engine)
        return _reading(engine, [("PROVINSI", 95.0), ("JAWA", 95.0), ("BARAT", 95.0)])

    both = ["tesseract", "rapidocr"]
    assert _header_read_elsewhere(headless, "ktp", True, page, "auto", read, both)
    assert calls == ["rapidocr"]
    calls.clear()
    # An engine chosen by the office, another type, a header already read, or a reading
    # without the NIK and last lines (the crop check makes no claim of absence on it): no
    # reading more.
    assert not _header_read_elsewhere(headless, "ktp", True, page, "tesseract", read, both)
    assert not _header_read_elsewhere(headless, "kartu_keluarga", True, page, "auto", read, both)
    with_header = _reading("tesseract", [("PROVINSI", 95.0), ("NIK", 90.0), ("WNI", 90.0)])
    assert not _header_read_elsewhere(with_header, "ktp", True, page, "auto", read, both)
    fragment = _reading("tesseract", [("Nama", 90.0), ("Alamat", 90.0)])
    assert not _header_read_elsewhere(fragment, "ktp", False, page, "auto", read, both)
    assert calls == []
    # Nothing else installed: nothing to ask.
    assert not _header_read_elsewhere(headless, "ktp", True, page, "auto", read, ["tesseract"])
    assert calls == []


def test_a_nik_read_once_is_doubtful_even_when_its_date_is_the_printed_birth_date():
    document = np.full((60, 100, 3), 255, np.uint8)
    first = pipeline.measure_page(document)
    reading = _reading("tesseract", [("Nama", 90.0), ("HENDRA", 90.0)])  # no NIK line to re-read
    for fields in ({"nik": NIK}, {"nik": NIK, "birth_date": "2000-09-29"}):
        _confidence, doubt, _unresolved = _reread_nik(reading, fields, first)
        assert doubt and "satu mesin" in doubt


@pytest.mark.slow
@needs_ocr
def test_a_misread_nik_is_read_again_on_its_line_and_never_passed_on_one_reading():
    card = scan(make_patterned_card(), 3)
    reading = read_text(cv2.cvtColor(card, cv2.COLOR_BGR2GRAY), "rapidocr")
    first = pipeline.measure_page(card)
    misread = NIK[:10] + "8" + NIK[11:]  # a 3 read as 8 on the whole card
    fields = {"nik": misread}
    measured = pipeline.PageMeasures(0, True, first.outline, card, 630, 1000.0, first.exposure, 50.0)
    _confidence, doubt, _unresolved = _reread_nik(reading, fields, measured)
    # The line read on its own gives the printed NIK; with two engines they agree and the
    # whole-card misread is outvoted, with one the disagreement leaves the NIK doubtful.
    assert fields["nik"] == NIK
    assert (doubt is None) == HAS_TESSERACT


def test_resolution_is_judged_by_whether_the_key_line_reads():
    from processing.pipeline import _key_line_read
    from processing.spec import Thresholds

    limits = Thresholds()
    words = _reading("rapidocr", [(f"KATA{i}", 90.0) for i in range(20)])
    few = _reading("tesseract", [("KATA", 90.0), ("LAIN", 90.0)])
    assert _key_line_read("ktp", {"nik": NIK}, few, limits, "ktp")
    assert not _key_line_read("ktp", {"nik": NIK[:15]}, few, limits, "ktp")
    assert _key_line_read("ktp", {"nik": NIK[:15]}, words, limits, "ktp")
    assert _key_line_read("unknown", {}, words, limits, "ktp")
    assert not _key_line_read("unknown", {}, few, limits, "ktp")
    assert not _key_line_read("ktp", {"nik": NIK}, None, limits, "ktp")
    # A NIK read unresolved (its readings far apart) is not its key line read, and the rest
    # of the card's text does not stand in for it.
    assert not _key_line_read("ktp", {"nik": NIK}, words, limits, "ktp", nik_unresolved=True)
    assert _key_line_read("unknown", {}, words, limits, "ktp", nik_unresolved=True)


def _nik_line_reading() -> TextReading:
    return _reading("tesseract", [("NIK", 90.0), (":", 90.0), (NIK, 60.0)])


def _no_text(gray, engine):
    return TextReading("", 0.0, 0, "rapidocr", ())


def test_a_nik_only_one_of_two_engines_reads_is_doubtful_but_not_unresolved(monkeypatch):
    # Tesseract loses the NIK line of patterned cards at any size: rapidocr alone reading it
    # says nothing about the capture's resolution.
    document = np.full((60, 200, 3), 255, np.uint8)
    first = pipeline.measure_page(document)
    monkeypatch.setattr(pipeline, "read_text", _no_text)
    monkeypatch.setattr(pipeline, "read_digits", lambda gray, engine: (
        NIK if engine == "tesseract" else "", 90.0))
    monkeypatch.setattr(pipeline, "available_engines", lambda: ["tesseract", "rapidocr"])
    _confidence, doubt, unresolved = _reread_nik(_nik_line_reading(), {"nik": NIK}, first)
    assert doubt and "satu mesin" in doubt
    assert not unresolved


@pytest.mark.parametrize(("other", "apart"), [
    ("6309022909017240", True),   # the serial's five digits read otherwise
    ("6309022909003531", False),  # an 8 read as 3: a close doubt, as on clean small cards
    ("6309022909035811", False),  # a 0 lost mid-serial, a 1 added at the end: 2 edits, not 5
])
def test_two_engines_nik_readings_far_apart_are_unresolved(monkeypatch, other, apart):
    document = np.full((60, 200, 3), 255, np.uint8)
    first = pipeline.measure_page(document)
    monkeypatch.setattr(pipeline, "read_text", _no_text)
    monkeypatch.setattr(pipeline, "read_digits", lambda gray, engine: (
        NIK if engine == "tesseract" else other, 90.0))
    monkeypatch.setattr(pipeline, "available_engines", lambda: ["tesseract", "rapidocr"])
    _confidence, doubt, unresolved = _reread_nik(_nik_line_reading(), {"nik": NIK}, first)
    assert doubt and "tidak sama" in doubt
    assert unresolved == apart


def test_a_table_of_members_niks_is_a_family_card_not_a_ktp():
    from processing.classify import classify
    from processing.spec import Layout

    rows = ["No Nama Lengkap NIK Jenis Kelamin Tempat Lahir Tanggal Lahir Agama Pendidikan "
            "Jenis Pekerjaan",
            f"1 HENDRA SUSANTO {NIK} LAKI-LAKI TABALONG 29-09-2000 ISLAM SLTA WIRASWASTA",
            "2 SITI AMINAH 6309024606020002 PEREMPUAN TABALONG 06-06-2002 ISLAM SLTA "
            "MENGURUS RUMAH TANGGA",
            "3 BUDI SANTOSO 6309020101100003 LAKI-LAKI TABALONG 01-01-2010 ISLAM SD PELAJAR"]
    reading = TextReading("\n".join(rows), 95.0, 60, "rapidocr")
    result = classify(reading, Layout(aspect_ratio=2.0, is_card=False, colourfulness=0.05))
    assert result.doc_type == "kartu_keluarga", result.reasons


@needs_rapidocr
def test_reading_a_line_alone_leaves_rapidocr_able_to_read_a_page():
    from processing.text import read_digits

    card = scan(make_patterned_card(), 4)
    gray = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)
    read_digits(gray[100:140, 30:500], "rapidocr")  # recognition only, detection off
    assert read_text(gray, "rapidocr").word_count > 10


def test_glare_is_a_soft_edged_white_spot_not_a_white_printed_panel():
    import random

    from bench.defects import glare
    from processing.checks import measure_exposure

    card = np.full((400, 640, 3), (200, 190, 180), np.uint8)
    card[40:60, 40:600] = 40  # some print
    flash = glare(card, random.Random(3))
    assert measure_exposure(cv2.cvtColor(flash, cv2.COLOR_BGR2GRAY)).glare > 0.015
    panel = card.copy()
    panel[120:300, 200:440] = 255  # a white field printed on the card (or a screenshot's panel)
    assert measure_exposure(cv2.cvtColor(panel, cv2.COLOR_BGR2GRAY)).glare == 0.0


@pytest.mark.slow
@needs_ocr
def test_a_capture_without_any_text_is_refused_as_illegible_not_as_cut():
    from processing.classify import DEFAULT_DOC_TYPES
    from processing.pipeline import analyse
    from processing.spec import Thresholds
    from tests.support.images import png

    yy, xx = np.mgrid[0:600, 0:900]
    scene = np.dstack([(xx / 4) % 255, (yy / 3) % 255, np.full_like(xx, 120)]).astype(np.uint8)
    result = analyse(png(scene), slot_type="ktp", form=None, known=(), thresholds=Thresholds(),
                     doc_types=DEFAULT_DOC_TYPES, ocr=True)
    assert not result.check("legible").ok
    crop = result.check("crop")
    assert crop.ok and crop.message.startswith("Tidak diperiksa"), crop.message


def test_of_two_disagreeing_nik_readings_the_one_the_card_bears_out_is_kept():
    from processing.pipeline import _nik_plausibility

    no_region = "6399022909003581"  # 3 read as 9: no such kabupaten
    other_date = "6309022809003581"  # 9 read as 8: a day before the printed birth date
    assert _nik_plausibility(NIK, "2000-09-29") > _nik_plausibility(other_date, "2000-09-29")
    assert _nik_plausibility(NIK, None) > _nik_plausibility(no_region, None)
    assert _nik_candidates("63990" + NIK) == [NIK]
    assert _nik_plausibility("6309029909003581", None) == -1  # no 99th day: malformed


def test_light_print_on_a_dark_ground_is_not_under_exposure():
    from processing.checks import check_exposure, measure_exposure
    from processing.spec import Thresholds

    page = np.full((400, 600), 235, np.uint8)
    page[50:350:20, 60:540] = 20  # lines of black text
    dim = (page * 0.25).astype(np.uint8)  # too little light: all of it dark
    assert not check_exposure(measure_exposure(dim), Thresholds()).ok
    inverted = 255 - page  # light text on a dark ground, e.g. a dark-mode screenshot
    assert check_exposure(measure_exposure(inverted), Thresholds()).ok


@pytest.mark.slow
@needs_rapidocr
def test_a_nik_line_tesseract_lost_is_found_by_rapidocr_but_not_certified():
    card = scan(make_patterned_card(), 5)
    first = pipeline.measure_page(card)
    measured = pipeline.PageMeasures(0, True, first.outline, card, 630, 1000.0, first.exposure, 50.0)
    # What Tesseract made of the card: a header and no NIK line.
    lost = _reading("tesseract", [("PROVINSI", 80.0), ("KALIMANTAN", 70.0)])
    fields: dict[str, str] = {}
    _confidence, doubt, _unresolved = _reread_nik(lost, fields, measured)
    assert fields.get("nik") == NIK
    assert doubt  # named for the officer, never passed on a retry


def test_a_nik_box_reaching_over_the_colon_is_trimmed_to_the_first_digit():
    # rapidocr boxes ": 3301..." (or its digits alone) from the colon or the gap before it
    # (real cards, issue #11 session 17), which lengthens the NIK, the card's scale for its
    # rooms; the first digit is where the first digit-tall mark is.
    image = Image.new("RGB", (900, 80), (215, 185, 150))
    draw = ImageDraw.Draw(image)
    draw.text((20, 20), "NIK", font=_font(30), fill=(0, 0, 0))
    draw.text((200, 20), ":", font=_font(30), fill=(0, 0, 0))
    draw.text((260, 20), NIK, font=_font(30), fill=(0, 0, 0))
    document = cv2.cvtColor(np.array(image), cv2.COLOR_RGB2BGR)
    dark = np.nonzero((cv2.cvtColor(document, cv2.COLOR_BGR2GRAY) < 100)[:, 255:].any(axis=0))[0]
    first_digit = 255 + int(dark.min())
    label = TextWord("NIK", 95.0, (18, 18, 80, 58))
    padded = TextWord(NIK, 95.0, (190, 18, 540, 58))  # from the colon on
    reading = TextReading("NIK " + NIK, 95.0, 2, "rapidocr", ((label, padded),))
    trimmed = pipeline._nik_words_to_ink([padded], reading, document)
    assert abs(trimmed[0].box[0] - first_digit) <= 2 and trimmed[0].box[1:] == padded.box[1:]
    # With the colon inside the word, the digits start after its share, at the ink too.
    labelled = TextWord(":" + NIK, 95.0, (190, 18, 540, 58))
    reading = TextReading("NIK :" + NIK, 95.0, 2, "rapidocr", ((label, labelled),))
    placed = nik_digits_box(pipeline._nik_words_to_ink([labelled], reading, document))[0]
    assert abs(placed - first_digit) <= 2
    # A box that starts at or right of the ink is left where it is (never moved left).
    tight = TextWord("?" + NIK[1:], 95.0, (first_digit + 6, 18, 540, 58))
    reading = TextReading("NIK " + NIK, 95.0, 2, "tesseract", ((label, tight),))
    assert pipeline._nik_words_to_ink([tight], reading, document) == [tight]


def _one_engine_reads(monkeypatch, tesseract: str, rapidocr: str = "") -> pipeline.PageMeasures:
    monkeypatch.setattr(pipeline, "read_text", _no_text)
    monkeypatch.setattr(pipeline, "read_digits", lambda gray, engine: (
        tesseract if engine == "tesseract" else rapidocr, 90.0))
    monkeypatch.setattr(pipeline, "available_engines", lambda: ["tesseract", "rapidocr"])
    return pipeline.measure_page(np.full((60, 200, 3), 255, np.uint8))


def test_the_form_confirms_a_nik_one_engine_read(monkeypatch):
    # The dossier's NIK, declared apart from the pixels, is a second witness: one engine's
    # reading equal to it is as sure as two engines agreeing.
    first = _one_engine_reads(monkeypatch, NIK)
    fields = {"nik": NIK}
    confidence, doubt, unresolved = _reread_nik(_nik_line_reading(), fields, first, expected=NIK)
    assert (confidence, doubt, unresolved) == (100.0, None, False)
    assert fields["nik"] == NIK
    # A form one digit off what was read confirms nothing: the reading stays, and doubtful.
    typo = NIK[:-1] + "2"
    fields = {"nik": NIK}
    _confidence, doubt, _unresolved = _reread_nik(_nik_line_reading(), fields, first,
                                                  expected=typo)
    assert doubt and "satu mesin" in doubt
    assert fields["nik"] == NIK


def test_the_form_settles_two_readings_only_when_one_of_them_is_its_nik(monkeypatch):
    close = NIK[:-2] + "31"  # an 8 read as 3 by the line's second reading
    first = _one_engine_reads(monkeypatch, NIK, close)
    fields = {"nik": NIK}
    _confidence, doubt, _unresolved = _reread_nik(_nik_line_reading(), fields, first,
                                                  expected=close)
    assert doubt is None and fields["nik"] == close
    # Neither reading is the form's: still two readings apart, the form's NIK never chosen.
    elsewhere = "3201010101010001"
    fields = {"nik": NIK}
    _confidence, doubt, _unresolved = _reread_nik(_nik_line_reading(), fields, first,
                                                  expected=elsewhere)
    assert doubt and "tidak sama" in doubt
    assert fields["nik"] in (NIK, close)


def test_a_ktp_whose_form_declares_the_nik_read_passes_and_another_persons_card_fails(monkeypatch):
    from processing.pipeline import _nik_check
    from processing.spec import FormData

    first = _one_engine_reads(monkeypatch, NIK)
    reading = _nik_line_reading()
    passed, _, _ = _nik_check(reading, "ktp", {"nik": NIK}, FormData(nik=NIK), first, "auto")
    assert passed.ok and passed.value == NIK and "sama dengan NIK pada formulir" in passed.message
    # Another person's card uploaded for this CPMI: its NIK, read by one engine, is not the
    # form's, and nothing the form says makes it pass.
    other, _, _ = _nik_check(reading, "ktp", {"nik": NIK}, FormData(nik="3201010101010001"), first,
                          "auto")
    assert not other.ok and "berbeda dengan NIK pada formulir" in other.message
    # Without a form the same reading stays doubtful, as before.
    alone, _, _ = _nik_check(reading, "ktp", {"nik": NIK}, None, first, "auto")
    assert not alone.ok and "satu mesin" in alone.message


def test_witnesses_confirming_different_niks_leave_it_doubtful(monkeypatch):
    # The whole card read as the form's NIK, its line read otherwise by both engines: each
    # value has two witnesses, so neither is sure.
    line = NIK[:-4] + "7240"
    first = _one_engine_reads(monkeypatch, line, line)
    fields = {"nik": NIK}
    _confidence, doubt, _unresolved = _reread_nik(_nik_line_reading(), fields, first, expected=NIK)
    assert doubt and "tidak sama" in doubt


def test_a_nik_read_in_doubt_says_what_in_the_capture_to_mend():
    from processing.checks import nik_capture_hint

    # Small letters: the card is far from the camera.
    small = nik_capture_hint(letter_px=7.0, softness=0.2, glare=0.0, failed=set())
    assert "tulisannya kecil" in small and "7 piksel" in small and "lebih dekat" in small
    # Soft strokes and a reflection are named together.
    soft_glare = nik_capture_hint(letter_px=15.0, softness=0.42, glare=0.004, failed=set())
    assert "agak lembut" in soft_glare and "pantulan cahaya" in soft_glare
    assert "kecil" not in soft_glare
    # Nothing stands out: the instruction alone.
    plain = nik_capture_hint(letter_px=15.0, softness=0.2, glare=0.0, failed=set())
    assert plain.startswith("Foto ulang kartu") and "baris NIK" in plain
    # A failed image check already says what to mend: nothing added beside it.
    assert nik_capture_hint(letter_px=7.0, softness=0.6, glare=0.0, failed={"blur", "nik"}) == ""


def test_only_a_nik_read_in_doubt_carries_the_capture_hint(monkeypatch):
    from processing.pipeline import _nik_check, _with_capture_hint
    from processing.spec import CheckResult, FormData

    first = _one_engine_reads(monkeypatch, NIK)
    reading = _nik_line_reading()
    alone, _, doubtful = _nik_check(reading, "ktp", {"nik": NIK}, None, first, "auto")
    assert not alone.ok and doubtful
    results = {"nik": alone, "blur": CheckResult("blur", True)}
    hinted = _with_capture_hint(results, first, doubtful)
    assert hinted["nik"].message.startswith(alone.message) and "Foto ulang kartu" in hinted["nik"].message
    assert not hinted["nik"].ok
    # Another person's card read for certain (both engines agree): the capture is not the
    # problem.
    first = _one_engine_reads(monkeypatch, NIK, NIK)
    other, _, doubtful = _nik_check(reading, "ktp", {"nik": NIK}, FormData(nik="3201010101010001"),
                                    first, "auto")
    assert not other.ok and not doubtful
    assert _with_capture_hint({"nik": other}, first, doubtful)["nik"] == other
    # A passed NIK is never touched.
    passed, _, doubtful = _nik_check(reading, "ktp", {"nik": NIK}, FormData(nik=NIK), first, "auto")
    assert passed.ok and not doubtful


def test_a_nik_read_with_low_confidence_asks_for_one_new_photo_not_two(monkeypatch):
    from processing.fields import MIN_NIK_CONFIDENCE, check_nik
    from processing.pipeline import _with_capture_hint
    from processing.spec import FormData

    first = _one_engine_reads(monkeypatch, NIK)
    unsure = check_nik(NIK, FormData(), confidence=MIN_NIK_CONFIDENCE - 10)
    assert not unsure.ok and "keyakinan OCR" in unsure.message
    message = _with_capture_hint({"nik": unsure}, first, True)["nik"].message
    assert message.count("Foto ulang") == 1
