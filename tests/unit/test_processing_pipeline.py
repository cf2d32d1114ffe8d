"""The whole first pass on real files: PDFs with and without text, photos, bad files, JSON."""

from __future__ import annotations

import io
import random

import cv2
import numpy as np
import pytest

from bench import defects
from processing import pipeline
from processing.classify import DEFAULT_DOC_TYPES
from processing.imaging import fit_long_side
from processing.outline import is_sideways
from processing.pipeline import analyse, measure_page
from processing.spec import (
    CHECK_CODES,
    FormData,
    KnownDocument,
    TextReading,
    TextWord,
    Thresholds,
    capture_correction,
)
from processing.text import available_engines
from tests.support.images import (
    image_pdf,
    jpeg,
    make_card,
    make_page,
    make_patterned_card,
    png,
    scan,
    sideways,
    soft_capture,
    text_pdf,
)
from tests.support.text import needs_tesseract

NIK = "6309022909003581"


def _analyse(data: bytes, **kwargs):
    options = {"slot_type": None, "form": None, "known": (), "thresholds": Thresholds(),
               "doc_types": DEFAULT_DOC_TYPES, "ocr": False}
    options.update(kwargs)
    return analyse(data, **options)


def _png_shape(data: bytes) -> tuple[int, ...]:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape


def test_multi_page_pdf_with_text_layer_needs_no_ocr():
    seen: list[tuple[float, str]] = []
    result = _analyse(text_pdf(3), slot_type="surat_permohonan", ocr=True,
                      on_progress=lambda f, stage: seen.append((f, stage)))
    assert result.error is None and result.pages == 3
    assert result.doc_type == "surat_permohonan" and result.confidence >= 0.5
    assert [c.name for c in result.checks] == list(CHECK_CODES)
    assert result.check("text_layer").value == "3/3"
    assert result.check("legible").ok and result.check("type_match").ok
    assert all(c.ok for c in result.checks), [c for c in result.checks if not c.ok]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sum(stage == "render" for _, stage in seen) == 3


def test_json_report_has_exactly_the_agreed_shape():
    report = _analyse(text_pdf(1)).to_json("uploads/x.pdf")
    assert set(report) == {"path", "type", "confidence", "checks", "fields", "error"}
    assert report["path"] == "uploads/x.pdf"
    assert [c["name"] for c in report["checks"]] == list(CHECK_CODES)
    assert all(set(c) == {"name", "ok", "value", "message"} for c in report["checks"])


def test_bad_files_never_raise_they_fail_format():
    junk = _analyse(b"this is not a scan at all", slot_type="ktp")
    assert junk.error == "Berkas bukan JPG, PNG atau PDF yang sah."
    assert not junk.check("format").ok and junk.check("size").ok
    assert junk.to_json("a")["error"] == junk.error
    big = _analyse(b"\xff\xd8\xff" + b"\x00" * 3000, max_bytes=1000)
    assert big.error and not big.check("size").ok


def test_photo_of_a_card_is_outlined_straightened_and_checked():
    card = make_card(1000)
    photo = defects.photo_of(scan(card, 3), random.Random(4))
    result = _analyse(jpeg(photo), slot_type="ktp")
    assert result.error is None and result.media_type == "image/jpeg"
    image_checks = ("format", "size", "resolution", "blur", "exposure", "skew", "crop", "blank")
    assert all(result.check(name).ok for name in image_checks), result.checks
    height, width = _png_shape(result.normalised_png)[:2]
    assert 1.45 < width / height < 1.75  # the card, cropped and straightened
    assert max(_png_shape(result.thumbnail_png)[:2]) <= 320
    assert result.check("type_match").value is None  # OCR off: not checked
    assert len(result.phash) == 16


def test_letter_height_is_reported_in_the_originals_pixels():
    # The page is measured at analysis size; its letters are reported at the upload's size,
    # which is what the resolution check weighs.
    page = scan(make_page(), 2)
    full = measure_page(page)
    half = measure_page(cv2.resize(page, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA),
                        scale=0.5)
    assert full.letter_px is not None and half.letter_px is not None
    assert abs(half.letter_px - full.letter_px) <= 0.2 * full.letter_px


def test_scanned_pdf_runs_the_image_checks_per_page():
    blurred = cv2.GaussianBlur(scan(make_page(), 1), (0, 0), 4)
    result = _analyse(image_pdf([scan(make_page(), 2), blurred]))
    assert result.pages == 2 and result.check("text_layer").value == "0/2"
    blur = result.check("blur")
    assert not blur.ok and blur.message.startswith("Halaman 2:")


def test_same_bytes_already_in_the_dossier_is_a_duplicate():
    data = jpeg(scan(make_card(800), 5))
    first = _analyse(data)
    known = [KnownDocument(upload_id=3, sha256=first.sha256, phash=first.phash)]
    again = _analyse(data, known=known)
    assert not again.check("duplicate").ok and "#3" in again.check("duplicate").message


needs_ocr = pytest.mark.skipif(not available_engines(), reason="tidak ada mesin OCR")


@pytest.mark.slow
@needs_ocr
def test_ocr_reads_a_ktp_photo_and_checks_the_nik():
    photo = defects.photo_of(scan(make_card(1000), 7), random.Random(8))
    form = FormData(nik=NIK, sex="L")
    result = _analyse(jpeg(photo), slot_type="ktp", form=form, ocr=True)
    assert result.doc_type == "ktp", result.reasons
    assert result.fields.get("nik") == NIK and result.number == NIK
    assert result.check("legible").ok and result.check("type_match").ok


@pytest.mark.slow
@needs_ocr
def test_ocr_confidence_catches_motion_blur():
    shaken = defects.motion_blur(scan(make_page(), 9), random.Random(1))
    result = _analyse(jpeg(shaken), slot_type="surat_permohonan", ocr=True)
    assert not result.check("blur").ok
    assert not result.check("legible").ok


def test_thumbnail_sized_scan_is_judged_without_ocr():
    """A scan far below any readable size fails resolution and legibility without an OCR run."""
    from PIL import Image

    from processing.classify import DEFAULT_DOC_TYPES
    from processing.pipeline import analyse
    from processing.spec import Thresholds

    buffer = io.BytesIO()
    Image.new("RGB", (150, 95), (240, 240, 235)).save(buffer, "PNG")
    result = analyse(buffer.getvalue(), slot_type="ktp", form=None, known=[], thresholds=Thresholds(),
                     doc_types=DEFAULT_DOC_TYPES)
    assert result.error is None
    assert not result.check("resolution").ok and not result.check("legible").ok
    assert result.doc_type == "unknown"


# --- real uploads (issue #11) ---------------------------------------------------------------


@pytest.mark.slow
@needs_ocr
def test_patterned_card_cropped_to_its_edge_is_whole():
    """A card cropped to its own edge, its header near the top, is not "cut": all its parts read."""
    card = scan(make_patterned_card(), 2)
    result = _analyse(png(card), slot_type="ktp", ocr=True)
    assert result.doc_type == "ktp", result.reasons
    assert result.check("crop").ok, result.check("crop").message


@pytest.mark.slow
@needs_ocr
def test_a_card_our_outline_cuts_through_is_read_on_the_whole_frame():
    """Real captures (issue #11, session 18): a card in a sleeve, the sleeve's shadow as dark as
    the table over its left part, so the outline found follows the shadow's edge and our crop
    cuts the NIK's first digits off. The frame holds the card whole and is read instead."""
    from processing.outline import find_outline
    from processing.pipeline import EARLY_CHECKS

    card = scan(make_card(1000), 3)
    height, width = card.shape[:2]
    frame = np.full((height + 120, width + 120, 3), 70, np.uint8)
    frame[60:60 + height, 60:60 + width] = card
    shadow = frame[60:60 + height, 60:60 + width // 4]
    shadow[cv2.cvtColor(shadow, cv2.COLOR_BGR2GRAY) > 110] = 70
    outline = find_outline(frame)
    assert outline.found and outline.corners[:, 0].min() > 60 + width // 5
    early: list[tuple] = []
    result = _analyse(png(frame), slot_type="ktp", form=FormData(nik=NIK, sex="L"), ocr=True,
                      on_checks=early.append)
    assert result.fields.get("nik") == NIK, result.fields
    assert result.doc_type == "ktp" and result.check("crop").ok
    # What was reported before the reading stands.
    assert {c.name: c for c in early[0]} == {c.name: c for c in result.checks
                                             if c.name in EARLY_CHECKS}


@pytest.mark.slow
@needs_ocr
@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_sideways_capture_is_turned_upright_before_the_checks(degrees):
    card = scan(make_patterned_card(), 2)
    result = _analyse(png(sideways(card, degrees)), slot_type="ktp", ocr=True)
    assert result.rotation == degrees
    assert result.doc_type == "ktp", result.reasons
    assert result.fields.get("nik") == NIK


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["rapidocr", pytest.param("auto", marks=needs_tesseract)])
def test_a_sideways_photo_held_askew_is_turned_by_its_reading(engine):
    """A KTP photographed sideways on a table, the phone 3° off: the tilt smooths the ink
    profile the turn is first judged by, so the page is read as it lies; its words run down
    the frame and the OCR vote turns it (real stretched squares f03aa91c, b81981e0; issue #11).
    rapidocr boxes a whole line: its 11 lines read upright are a card's worth of words."""
    if engine not in available_engines() + ["auto"]:
        pytest.skip(f"{engine} tidak terpasang")
    table = cv2.copyMakeBorder(sideways(scan(make_patterned_card(), 2), 270), 80, 80, 80, 80,
                               cv2.BORDER_CONSTANT, value=(90, 110, 130))
    height, width = table.shape[:2]
    photo = cv2.warpAffine(table, cv2.getRotationMatrix2D((width / 2, height / 2), 3, 1.0),
                           (width, height), borderMode=cv2.BORDER_REPLICATE)
    assert not is_sideways(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY))
    result = _analyse(jpeg(photo), slot_type="ktp", ocr=True, ocr_engine=engine)
    assert result.rotation == 270
    assert result.doc_type == "ktp", result.reasons
    assert result.fields.get("nik") == NIK


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["rapidocr", pytest.param("auto", marks=needs_tesseract)])
@pytest.mark.parametrize(("flip", "mirrored", "rotation"), [
    ("turned", False, 180),   # held upside down; without Tesseract no OSD says so
    ("mirror", True, 0),      # a front camera's selfie view: letters reversed left to right
    ("upside", True, 180),    # flipped top to bottom: mirrored, then turned
])
def test_an_upside_down_or_mirrored_capture_is_set_right_by_its_reading(engine, flip, mirrored,
                                                                        rotation):
    """The reading of such a frame is garbage whose type is unknown: the frame is read set
    right the ways that can be, and the way that reads as a known document wins."""
    if engine not in available_engines() + ["auto"]:
        pytest.skip(f"{engine} tidak terpasang")
    card = scan(make_patterned_card(), 2)
    captured = {"turned": sideways(card, 180), "mirror": cv2.flip(card, 1),
                "upside": cv2.flip(card, 0)}[flip]
    result = _analyse(jpeg(captured), slot_type="ktp", ocr=True, ocr_engine=engine)
    assert (result.mirrored, result.rotation) == (mirrored, rotation)
    assert result.doc_type == "ktp", result.reasons
    assert result.fields.get("nik") == NIK
    assert ("tercermin" in (result.capture_note or "")) == mirrored
    assert ("180°" in (result.capture_note or "")) == (rotation == 180)


@pytest.mark.slow
@needs_ocr
def test_an_upright_document_of_no_known_type_is_left_as_it_lies():
    """Reading the unknown the other ways round never adopts a garbage reading: asked of an
    upright page (its confident reading alone does not ask it), it finds no better way."""
    page = np.full((700, 1100, 3), 250, np.uint8)
    for i, line in enumerate(("DAFTAR BELANJA MINGGUAN", "Beras lima kilogram", "Minyak goreng dua liter",
                              "Telur ayam satu kilogram", "Gula pasir dan kopi bubuk")):
        cv2.putText(page, line, (60, 110 + 110 * i), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (20, 20, 20), 3)
    captured = scan(page, 1)
    result = _analyse(png(captured), slot_type="ktp", ocr=True)
    assert result.doc_type == "unknown"
    assert (result.mirrored, result.rotation) == (False, 0)
    assert "BELANJA" in (result.text or "")
    measured = measure_page(captured)
    reading = pipeline.read_text(cv2.cvtColor(measured.document, cv2.COLOR_BGR2GRAY), "auto")
    assert pipeline._set_right_by_reading(pipeline._Page(captured, None, 1.0, None), reading,
                                          DEFAULT_DOC_TYPES) is None


@pytest.mark.parametrize(("rotation", "mirrored", "said"), [
    (0, False, None),
    (90, False, "Gambar terputar 90° searah jarum jam; ditegakkan sebelum diperiksa."),
    (270, False, "Gambar terputar 90° berlawanan arah jarum jam; ditegakkan sebelum diperiksa."),
    (180, False, "Gambar terbalik (terputar 180°); ditegakkan sebelum diperiksa."),
    (0, True, "Gambar tercermin (kiri-kanan terbalik, seperti foto kamera depan); dibalik sebelum "
              "diperiksa."),
    (180, True, "Gambar tercermin (kiri-kanan terbalik, seperti foto kamera depan) dan terbalik "
                "(terputar 180°); dibalik dan ditegakkan sebelum diperiksa."),
])
def test_how_a_capture_was_set_right_is_said_in_words(rotation, mirrored, said):
    assert capture_correction(rotation, mirrored) == said


def test_a_scan_read_without_ocr_reports_no_rotation():
    assert _analyse(jpeg(scan(make_page(), 1))).rotation == 0


def _sideways_card_and_its_upright_gray(degrees: int) -> tuple[np.ndarray, np.ndarray]:
    turned = sideways(scan(make_patterned_card(), 2), degrees)
    gray = cv2.cvtColor(fit_long_side(turned, 1200), cv2.COLOR_BGR2GRAY)
    return turned, pipeline._turn_back(gray, degrees)


def _orientation_with(monkeypatch, upright: np.ndarray, words_by_engine: dict[str, tuple[int, int]],
                      across_the_lines: bool = False):
    """``_orientation`` with no OSD verdict and engines that read (upright, turned) words.

    ``across_the_lines``: every word's box is taller than wide, as when an engine reads text
    running down the frame it was given.
    """
    def read(gray, engine):
        engine = next(iter(words_by_engine)) if engine == "auto" else engine  # as read_text
        upright_words, turned_words = words_by_engine[engine]
        count = upright_words if np.array_equal(gray, upright) else turned_words
        box = (10, 10, 30, 90) if across_the_lines else (10, 10, 90, 30)
        words = tuple(TextWord("KATA", 90.0, box) for _ in range(count))
        return TextReading(text=" ".join(w.text for w in words),
                           mean_confidence=90.0 if count else 0.0, word_count=count,
                           engine=engine, lines=(words,) if words else ())

    monkeypatch.setattr(pipeline, "detect_orientation", lambda *args: None)
    monkeypatch.setattr(pipeline, "available_engines", lambda: list(words_by_engine))
    monkeypatch.setattr(pipeline, "read_text", read)


def test_a_reading_whose_words_run_down_the_frame_shows_it_sideways():
    """Real stretched squares turned 270° whose ink profile looks upright (issue #11, session
    18): rapidocr boxed 21 and 25 words tall and none wide; upright cards 5 tall at most."""
    def reading(tall: int, wide: int) -> TextReading:
        words = tuple(TextWord("KATA", 90.0, (10, 10, 30, 90)) for _ in range(tall)) + tuple(
            TextWord("KATA", 90.0, (10, 10, 90, 30)) for _ in range(wide))
        return TextReading("...", 90.0, len(words), "rapidocr", (words,))

    assert pipeline._read_across_lines(reading(tall=21, wide=0))
    assert not pipeline._read_across_lines(reading(tall=5, wide=37))
    assert not pipeline._read_across_lines(reading(tall=4, wide=0))  # too few to tell
    assert not pipeline._read_across_lines(reading(tall=12, wide=8))


def test_an_engine_that_reads_nothing_either_way_leaves_the_turn_to_the_next(monkeypatch):
    """Tesseract reads nothing on a patterned card turned either way (real KTPs): no tie at 90°."""
    turned, upright = _sideways_card_and_its_upright_gray(270)
    _orientation_with(monkeypatch, upright, {"tesseract": (0, 0), "rapidocr": (40, 30)})
    assert pipeline._orientation(turned, "auto") == 270


def test_words_read_across_the_turned_frame_are_no_evidence_of_a_turn(monkeypatch):
    """Engines read text running down a frame too: an upright card read both ways stays put."""
    turned, upright = _sideways_card_and_its_upright_gray(270)
    _orientation_with(monkeypatch, upright, {"tesseract": (50, 45), "rapidocr": (40, 30)},
                      across_the_lines=True)
    assert pipeline._orientation(turned, "auto") == 0


def test_a_sideways_looking_frame_no_engine_reads_is_not_turned(monkeypatch):
    turned, upright = _sideways_card_and_its_upright_gray(90)
    _orientation_with(monkeypatch, upright, {"tesseract": (0, 0), "rapidocr": (3, 2)})
    assert pipeline._orientation(turned, "auto") == 0


def test_the_checks_the_text_cannot_change_are_reported_before_the_reading_and_stand():
    """A blurred KTP photo: blur fails at once (before OCR), and the final result says the same."""
    from processing.pipeline import EARLY_CHECKS

    blurred = cv2.GaussianBlur(scan(make_card(1000), 5), (0, 0), 5)
    early: list[tuple] = []
    stages: list[str] = []

    def on_checks(results):
        early.append(results)
        stages.append(seen[-1] if seen else "")

    seen: list[str] = []
    result = _analyse(png(blurred), slot_type="ktp", ocr=True, on_checks=on_checks,
                      on_progress=lambda f, stage: seen.append(stage))
    assert len(early) == 1 and [c.name for c in early[0]] == list(EARLY_CHECKS)
    # Reported before the text was read, and never contradicted by the final results.
    assert stages == ["checks"]
    assert {c.name: c for c in early[0]} == {c.name: c for c in result.checks if c.name in EARLY_CHECKS}
    assert not result.check("blur").ok


def test_no_early_checks_without_the_slot_type():
    """Without a slot, the limits depend on the type the reading finds: nothing is final early."""
    early: list = []
    _analyse(png(scan(make_card(1000), 6)), slot_type=None, on_checks=early.append)
    assert early == []


def _card_in_sleeve(sleeve_tilt: float, card_tilt: float) -> np.ndarray:
    """A card on a dark table inside a paler plastic sleeve, each tilted by its own angle."""
    card = scan(make_card(width=700, seed=4), seed=4)
    h, w = card.shape[:2]
    canvas = np.full((900, 1200, 3), 55, np.uint8)
    sleeve = cv2.boxPoints(((600, 450), (w + 60, h + 40), sleeve_tilt)).astype(np.int32)
    cv2.fillConvexPoly(canvas, sleeve, (120, 120, 120))
    canvas = cv2.GaussianBlur(canvas, (0, 0), 3)
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), card_tilt, 1.0)
    card = cv2.warpAffine(card, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    canvas[450 - h // 2:450 - h // 2 + h, 600 - w // 2:600 - w // 2 + w] = card
    return canvas


def test_the_tilt_is_the_text_lines_when_the_outline_found_leans_otherwise():
    """Real phone photos (issue #11, session 16): a sleeve or a shadow joins the card's region
    and its quadrilateral leans 6-14° while the card's lines lean 1-3°. The text lines decide;
    a tilt they confirm stands."""
    straight = measure_page(_card_in_sleeve(sleeve_tilt=10.0, card_tilt=0.0))
    assert straight.outline.found and abs(straight.outline.angle) > 5  # the sleeve's lean
    assert abs(straight.tilt) < 1.0
    assert _analyse(png(_card_in_sleeve(10.0, 0.0))).check("skew").ok

    tilted = measure_page(_card_in_sleeve(sleeve_tilt=9.0, card_tilt=9.0))
    assert abs(tilted.tilt) > 7.0
    assert not _analyse(png(_card_in_sleeve(9.0, 9.0))).check("skew").ok


@pytest.mark.slow
@pytest.mark.parametrize(("sigma", "sharp_enough"), [
    (2.0, True),    # a little soft: every label reads letter for letter, the NIK whole
    (3.0, False),   # blurred: rapidocr still reads most labels, but a NIK digit goes wrong
])
def test_a_ktp_a_little_soft_passes_blur_when_its_labels_read_whole(sigma, sharp_enough):
    early: list[tuple] = []
    result = _analyse(png(soft_capture(sigma)), slot_type="ktp", ocr=True, ocr_engine="rapidocr",
                      on_checks=early.append)
    assert result.doc_type == "ktp"
    assert result.check("blur").ok is sharp_enough, result.check("blur").message
    reported = {c.name: c for c in early[0]}
    assert {"format", "size", "skew", "blank"} <= set(reported)
    if sharp_enough:
        # Strokes a little soft wait for the reading: no blur verdict is reported before it.
        assert "blur" not in reported
    else:
        # Too soft for any reading to excuse: said at once, and it stands.
        assert reported["blur"] == result.check("blur")


@pytest.mark.slow
def test_without_a_slot_a_soft_ktp_is_judged_by_the_ktp_limits_and_its_labels():
    """With no slot (the command without --slot) nothing is reported early and every image
    check takes the limits of the type read: whether blur waits for the labels too. Here only
    the KTP's own blur limit makes the capture 'a little soft' rather than smeared."""
    thresholds = Thresholds(values={"blur": 100_000.0}, per_type={("ktp", "blur"): 400.0})
    result = _analyse(png(soft_capture(2.0)), thresholds=thresholds, ocr=True, ocr_engine="rapidocr")
    assert result.doc_type == "ktp"
    assert result.check("blur").ok, result.check("blur").message
    assert "label kartu terbaca utuh" in result.check("blur").message
