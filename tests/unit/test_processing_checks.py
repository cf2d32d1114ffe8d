"""Each image check passes a clean scan and catches its own defect (real images, default limits)."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from bench import defects
from processing import checks as ck
from processing.outline import Outline, find_outline, normalise
from processing.spec import (
    DEFAULT_THRESHOLDS,
    Classification,
    KnownDocument,
    TextReading,
    TextWord,
    Thresholds,
)
from tests.support.images import make_card, make_page, scan

LIMITS = Thresholds()


def _measure(bgr):
    outline = find_outline(bgr)
    document = cv2.cvtColor(normalise(bgr, outline), cv2.COLOR_BGR2GRAY)
    return outline, document


def _verdicts(bgr) -> dict[str, bool]:
    outline, document = _measure(bgr)
    return {
        "resolution": ck.check_resolution(min(document.shape), LIMITS).ok,
        "blur": ck.check_blur(ck.measure_sharpness(document), LIMITS,
                              softness=ck.measure_stroke_softness(document, ck.measure_letter_height(document))).ok,
        "exposure": ck.check_exposure(ck.measure_exposure(document), LIMITS).ok,
        "skew": ck.check_skew(outline.angle, LIMITS).ok,
        "crop": ck.check_crop(outline.cut_share, LIMITS).ok,
        "blank": ck.check_blank(ck.measure_blank(document), LIMITS).ok,
    }


@pytest.fixture(scope="module")
def clean_page():
    return scan(make_page(), seed=1)


@pytest.fixture(scope="module")
def clean_card():
    return scan(make_card(), seed=2)


def test_clean_scans_pass_every_image_check(clean_page, clean_card):
    assert all(_verdicts(clean_page).values()), _verdicts(clean_page)
    assert all(_verdicts(clean_card).values()), _verdicts(clean_card)


def test_clean_photo_on_a_table_passes_and_is_outlined(clean_page):
    photo = defects.photo_of(clean_page, random.Random(3))
    outline, _ = _measure(photo)
    assert outline.found and 1.3 < outline.aspect_ratio < 1.5
    assert all(_verdicts(photo).values()), _verdicts(photo)


@pytest.mark.parametrize(
    ("defect", "check"),
    [
        ("gaussian_blur", "blur"),
        ("motion_blur", "blur"),
        ("overexpose", "exposure"),
        ("underexpose", "exposure"),
        ("glare", "exposure"),
        ("skew", "skew"),
        ("crop_edge", "crop"),
        ("crop_between_lines", "crop"),
        ("photo_cut", "crop"),
        ("low_resolution", "resolution"),
        ("blank_page", "blank"),
    ],
)
def test_each_check_catches_its_defect(clean_page, clean_card, defect, check):
    for clean, seed in ((clean_page, 5), (clean_card, 6)):
        damaged = defects.DEFECTS[defect].apply(clean, random.Random(seed))
        assert not _verdicts(damaged)[check], (defect, check, "card" if clean is clean_card else "page")


def test_thin_margin_on_one_side_is_a_cut_but_a_narrow_border_all_round_is_not(clean_page):
    # A cut between two lines leaves the text 1-2 % of the width from the edge, with the page's
    # own margin on the opposite side; a certificate's frame is as close on every side.
    height, width = clean_page.shape[:2]
    gray = cv2.cvtColor(clean_page, cv2.COLOR_BGR2GRAY)
    rows = (gray < 150).any(axis=1).nonzero()[0]
    cut = clean_page[max(0, int(rows[0]) - round(0.015 * width)):]
    assert not ck.check_crop(find_outline(cut).cut_share, LIMITS).ok
    framed = clean_page.copy()
    inset = round(0.02 * width)
    cv2.rectangle(framed, (inset, inset), (width - 1 - inset, height - 1 - inset), (20, 20, 20), 3)
    assert ck.check_crop(find_outline(framed).cut_share, LIMITS).ok


def test_motion_blur_is_caught_where_the_plain_laplacian_is_fooled(clean_page):
    damaged = defects.motion_blur(clean_page, random.Random(0))
    gray = cv2.cvtColor(damaged, cv2.COLOR_BGR2GRAY)
    assert ck.measure_sharpness(gray) < DEFAULT_THRESHOLDS["blur"]


def test_soft_strokes_are_blur_even_when_grain_keeps_the_energy_high(clean_card):
    # A soft phone capture keeps its sensor grain: plenty of second-derivative energy, and
    # letters whose strokes are smeared for their size all the same.
    soft = cv2.GaussianBlur(clean_card, (0, 0), 3.0).astype(np.float32)
    grain = np.random.default_rng(0).normal(0, 8, soft.shape[:2])[..., None]
    grainy = np.clip(soft + grain, 0, 255).astype(np.uint8)
    _, document = _measure(grainy)
    sharpness = ck.measure_sharpness(document)
    assert sharpness > DEFAULT_THRESHOLDS["blur"]
    softness = ck.measure_stroke_softness(document, ck.measure_letter_height(document))
    assert softness is not None and softness > DEFAULT_THRESHOLDS["blur_soft"]
    result = ck.check_blur(sharpness, LIMITS, softness=softness)
    assert not result.ok and "goresan huruf" in result.message


def test_faint_crisp_print_is_not_blur(clean_card):
    # Print at a third of the contrast on a tinted card: little second-derivative energy, but
    # the strokes are as crisp as ever. Blur is judged by the strokes, not by the contrast.
    faint = np.clip(clean_card.astype(np.float32) * 0.3 + 0.7 * 200, 0, 255).astype(np.uint8)
    _, document = _measure(faint)
    sharpness = ck.measure_sharpness(document)
    softness = ck.measure_stroke_softness(document, ck.measure_letter_height(document))
    assert sharpness < DEFAULT_THRESHOLDS["blur"]
    assert softness is not None and softness < DEFAULT_THRESHOLDS["blur_soft"]
    assert ck.check_blur(sharpness, LIMITS, softness=softness).ok
    # A smear (energy under half the limit) is blur whatever the strokes' profile; without
    # text the energy alone decides, as before.
    assert not ck.check_blur(0.4 * DEFAULT_THRESHOLDS["blur"], LIMITS, softness=softness).ok
    assert not ck.check_blur(sharpness, LIMITS).ok


def test_stroke_softness_needs_text():
    flat = np.full((600, 900), 200, dtype=np.uint8)
    assert ck.measure_stroke_softness(flat, ck.measure_letter_height(flat)) is None
    photo = cv2.GaussianBlur(np.random.default_rng(1).integers(0, 255, (600, 900), dtype=np.uint8),
                             (0, 0), 6)
    assert ck.measure_stroke_softness(photo, ck.measure_letter_height(photo)) is None


def test_glare_is_not_confused_with_clipped_white_paper():
    # A scanner that clips the paper to 255 under black print: no glare, good exposure.
    page = make_page()
    result = ck.check_exposure(ck.measure_exposure(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)), LIMITS)
    assert result.ok and result.value == 0


def test_per_type_threshold_override():
    limits = Thresholds(per_type={("ktp", "skew"): 2.0})
    assert not ck.check_skew(3.0, limits, "ktp").ok
    assert ck.check_skew(3.0, limits, "surat_tugas").ok


def test_duplicate_exact_and_by_number_but_not_by_template():
    known = [
        KnownDocument(1, "a" * 64, "ktp", "6309022909003581", candidate_id=7, phash="f0f0f0f0f0f0f0f0"),
    ]
    exact = ck.check_duplicate(sha256="a" * 64, known=known, thresholds=LIMITS)
    assert not exact.ok and "sama persis" in exact.message
    same_number = ck.check_duplicate(sha256="b" * 64, known=known, thresholds=LIMITS,
                                     doc_type="ktp", number="6309022909003581", candidate_id=7)
    assert not same_number.ok
    other_applicant = ck.check_duplicate(sha256="b" * 64, known=known, thresholds=LIMITS,
                                         doc_type="ktp", number="6309022909003581", candidate_id=8)
    assert not other_applicant.ok and "pemohon lain" in other_applicant.message
    # Another KTP on the same template: identical pHash, different NIK. Not a duplicate.
    template = ck.check_duplicate(sha256="c" * 64, known=known, thresholds=LIMITS, doc_type="ktp",
                                  number="6309025501950002", candidate_id=7, phash="f0f0f0f0f0f0f0f0")
    assert template.ok and template.value == 0 and "mirip" in template.message


def test_type_match_legible_text_layer_format_size():
    spec_reading = Classification("ktp", 0.9)
    assert ck.check_type_match(spec_reading, "ktp", LIMITS).ok
    wrong = ck.check_type_match(spec_reading, "kartu_keluarga", LIMITS)
    assert not wrong.ok and "bukan" in wrong.message
    assert not ck.check_type_match(Classification("ktp", 0.2), "ktp", LIMITS).ok
    assert ck.check_legible(TextReading("a b c d", 91.0, 4, "tesseract"), LIMITS).ok
    assert not ck.check_legible(TextReading("a b c d", 30.0, 4, "tesseract"), LIMITS).ok
    assert ck.check_text_layer("application/pdf", 0, 2).ok  # informative only
    assert "gambar" in ck.check_text_layer("application/pdf", 0, 2).message
    assert not ck.check_format("image/png", allowed=("application/pdf",)).ok
    assert not ck.check_size(6 * 1024 * 1024).ok and ck.check_size(1000).ok


# --- real uploads (issue #11) ---------------------------------------------------------------


def test_white_margin_around_a_card_is_not_glare():
    card = cv2.cvtColor(make_card(600), cv2.COLOR_BGR2GRAY)
    framed = cv2.copyMakeBorder(card, 60, 60, 80, 80, cv2.BORDER_CONSTANT, value=255)
    assert ck.measure_exposure(framed).glare == 0.0
    # A real glare lies on the card and fades out into it (a soft halo, not a printed edge).
    yy, xx = np.mgrid[0:framed.shape[0], 0:framed.shape[1]].astype(np.float32)
    weight = np.clip(1.8 * np.exp(-((xx - 265) ** 2 + (yy - 205) ** 2) / (2 * 45.0 ** 2)), 0, 1)
    spot = np.clip(framed * (1 - weight) + 255 * weight, 0, 255).astype(np.uint8)
    assert ck.measure_exposure(spot).glare > DEFAULT_THRESHOLDS["exposure"]


def test_legible_needs_sharp_strokes_whatever_the_engine():
    reading = TextReading("NIK Nama Alamat Agama", 94.0, 4, "rapidocr")
    assert ck.check_legible(reading, LIMITS, sharpness=2000.0).ok
    # rapidocr stays confident on motion-blurred text; the strokes' sharpness tells.
    assert not ck.check_legible(reading, LIMITS, sharpness=120.0).ok


def test_legible_not_scaled_down_on_faint_but_crisp_print():
    reading = TextReading("NIK Nama Alamat Agama", 80.0, 4, "tesseract")
    # Low energy from faint print on a tinted card: the strokes are crisp, the confidence stands.
    assert ck.check_legible(reading, LIMITS, sharpness=280.0, softness=0.30).ok
    # Soft strokes, or no strokes measured: the low energy still weighs on the confidence.
    assert not ck.check_legible(reading, LIMITS, sharpness=280.0, softness=0.50).ok
    assert not ck.check_legible(reading, LIMITS, sharpness=280.0).ok
    # A smear is a smear however its strokes measured.
    assert not ck.check_legible(reading, LIMITS, sharpness=120.0, softness=0.30).ok


def _ktp_lines(top: int = 20) -> tuple:

    rows = (["PROVINSI", "JAWA", "TENGAH"], ["NIK", "3301011708900003"], ["Nama", "BUDI"],
            ["Kewarganegaraan", "WNI"])
    lines = []
    for i, words in enumerate(rows):
        y = top + 60 * i
        lines.append(tuple(TextWord(w, 90.0, (40 + 150 * j, y, 40 + 150 * j + 120, y + 30))
                           for j, w in enumerate(words)))
    return tuple(lines)


def _nama_cut_at_the_left(top: int = 20) -> TextReading:
    """:func:`_ktp_lines` with "Nama" read "ama" against the document's left edge."""
    rows = tuple(tuple(TextWord("ama", w.confidence, (0, *w.box[1:])) if w.text == "Nama" else w
                       for w in line) for line in _ktp_lines(top))
    return TextReading("...", 90.0, 9, "tesseract", rows)


def _outline_inside_the_frame() -> Outline:
    """A found outline of a 1000 x 630 document lying 100 px and 80 px inside its frame."""
    return Outline(np.array([[100, 80], [1100, 80], [1100, 710], [100, 710]], np.float32),
                   True, 0.0, 0.0, (1400, 1000))


def test_crop_judged_by_the_cards_parts_inside_the_frame():
    whole = TextReading("...", 90.0, 9, "tesseract", _ktp_lines())
    assert ck.check_crop_content(whole, (1000, 630), LIMITS, doc_type="ktp").ok
    # Touching the frame is normal (a card cropped to its edge); a label cut short is not.
    tight = TextReading("...", 90.0, 9, "tesseract", _ktp_lines(top=0))
    assert ck.check_crop_content(tight, (1000, 630), LIMITS, doc_type="ktp").ok
    result = ck.check_crop_content(_nama_cut_at_the_left(), (1000, 630), LIMITS, doc_type="ktp")
    assert not result.ok and "'ama'" in result.message
    header_only = TextReading("...", 90.0, 3, "tesseract", _ktp_lines()[:1])
    assert ck.check_crop_content(header_only, (1000, 630), LIMITS, doc_type="ktp") is None
    # The NIK's number read counts for its part even when its label was not.
    assert ck.check_crop_content(header_only, (1000, 630), LIMITS, doc_type="ktp",
                                 number_read=True).ok


def test_labels_read_cut_short_down_the_left_side_are_a_cut_even_clear_of_the_edge():
    # Real phone photos (issue #11, session 18): the frame cut the first letters off the label
    # column ("IK", "ama", "gama", "tatus"), and OCR boxed each from its first whole letter,
    # a few pixels in from the frame's edge.
    def column(texts, left):
        return tuple((TextWord(text, 95.0, (left, 100 + 30 * i, left + 40, 120 + 30 * i)),
                      TextWord("VALUE", 95.0, (150, 100 + 30 * i, 260, 120 + 30 * i)))
                     for i, text in enumerate(texts))

    header = ((TextWord("PROVINSI", 95.0, (230, 40, 330, 70)), TextWord("RIAU", 95.0,
                                                                        (340, 40, 400, 70))),)
    labels = ["NIK", "Nama", "Agama", "Status", "Kewarganegaraan"]
    whole = TextReading("...", 95.0, 12, "rapidocr", header + column(labels, 11))
    assert ck.check_crop_content(whole, (640, 640), LIMITS, doc_type="ktp").ok
    clipped = ["IK", "ama", "gama", "tatus", "Kewarganegaraan"]
    cut = ck.check_crop_content(TextReading("...", 95.0, 12, "rapidocr",
                                            header + column(clipped, 11)),
                                (640, 640), LIMITS, doc_type="ktp")
    assert not cut.ok and "'IK'" in cut.message
    # One label missing a letter is OCR dropping one now and then, not the frame's edge.
    one = ["NIK", "ama", "Agama", "Status", "Kewarganegaraan"]
    assert ck.check_crop_content(TextReading("...", 95.0, 12, "rapidocr", header + column(one, 11)),
                                 (640, 640), LIMITS, doc_type="ktp").ok
    # Labels cut short further in are not the frame's doing.
    assert ck.check_crop_content(TextReading("...", 95.0, 12, "rapidocr",
                                             header + column(clipped, 60)),
                                 (640, 640), LIMITS, doc_type="ktp").ok


def test_words_at_the_edge_of_our_crop_are_judged_against_the_frame():
    # Real phone photos (issue #11, session 17): an outline found inside the card (a sleeve's
    # edge) cropped the first letters of a label away, and the card read "ama" against the
    # crop's edge, while the photo held the card whole.
    reading = _nama_cut_at_the_left(top=0)
    inside = _outline_inside_the_frame()
    assert inside.document_size == (1000, 630)
    assert ck.check_crop_content(reading, (1000, 630), LIMITS, doc_type="ktp", outline=inside).ok
    # The crop's edge on the frame's: the frame did cut the label.
    at_edge = Outline(np.array([[0, 80], [1000, 80], [1000, 710], [0, 710]], np.float32),
                      True, 0.0, 0.0, (1400, 1000))
    cut = ck.check_crop_content(reading, (1000, 630), LIMITS, doc_type="ktp", outline=at_edge)
    assert not cut.ok and "'ama'" in cut.message


def test_words_our_crop_cuts_inside_the_frame_are_counted():
    # "ama" against the crop's left side and the header against its top (_ktp_lines(top=0)).
    reading = _nama_cut_at_the_left(top=0)
    inside = _outline_inside_the_frame()
    assert ck.words_cut_by_outline(reading, inside) == 4
    # Sides on the frame's edge are the frame's doing, not our crop's.
    at_corner = Outline(np.array([[0, 0], [1000, 0], [1000, 630], [0, 630]], np.float32),
                        True, 0.0, 0.0, (1400, 1000))
    assert ck.words_cut_by_outline(reading, at_corner) == 0
    # Without an outline there is no crop of ours.
    scan_frame = Outline(np.array([[0, 0], [999, 0], [999, 629], [0, 629]], np.float32),
                         False, 0.0, 0.0, (1000, 630))
    assert ck.words_cut_by_outline(reading, scan_frame) == 0


def test_a_ktp_read_without_its_header_is_cut_at_the_top():
    # Real close-ups cut the PROVINSI/KABUPATEN lines away and keep the rest: the NIK and the
    # last lines read, the header (printed above them on every KTP) does not.
    headless = TextReading("...", 90.0, 7, "tesseract", _ktp_lines()[1:])
    result = ck.check_crop_content(headless, (1000, 630), LIMITS, doc_type="ktp")
    assert not result.ok and "PROVINSI" in result.message
    whole = TextReading("...", 90.0, 9, "tesseract", _ktp_lines())
    assert ck.ktp_headless(headless) and not ck.ktp_headless(whole)
    assert not ck.ktp_header_read(headless) and ck.ktp_header_read(whole)
    # The other engine read the header this reading lacks (a soft or glary card Tesseract
    # reads poorly): a claim of absence one engine contradicts is no cut.
    assert ck.check_crop_content(headless, (1000, 630), LIMITS, doc_type="ktp",
                                 header_read_elsewhere=lambda: True).ok
    # Asked only when the header's absence would decide: a whole card's reading asks nothing.
    asked = []
    assert ck.check_crop_content(whole, (1000, 630), LIMITS, doc_type="ktp",
                                 header_read_elsewhere=lambda: asked.append(1) or True).ok
    assert asked == []
    # A city's card: its header's second line is KOTA, not KABUPATEN.
    city = (TextWord("KOTA", 90.0, (40, 20, 160, 50)), TextWord("MAKASSAR", 90.0, (190, 20, 400, 50)))
    card = TextReading("...", 90.0, 9, "tesseract", (city, *_ktp_lines()[1:]))
    assert ck.check_crop_content(card, (1000, 630), LIMITS, doc_type="ktp").ok


def _ktp_el_reading(header: str = "PROVINSI") -> tuple[TextReading, tuple[TextWord, ...]]:
    """A KTP-el as read on a 1000 x 630 capture cropped to the card's edges.

    Laid out like the real card: the NIK's 16 digits span 43 % of the card's width and end
    two thirds across, the photo's room right of them; the last label line ends 70 px above
    the card's bottom, the signature's room.
    """
    digits = (TextWord("3301011708900003", 90.0, (260, 110, 690, 150)),)
    lines = (
        (TextWord(header, 90.0, (330, 10, 520, 45)), TextWord("JAWA", 90.0, (540, 10, 640, 45))),
        (TextWord("KABUPATEN", 90.0, (330, 55, 540, 90)), TextWord("KLATEN", 90.0, (560, 55, 700, 90))),
        (TextWord("NIK", 90.0, (30, 110, 100, 150)), *digits),
        (TextWord("Nama", 90.0, (30, 170, 110, 195)), TextWord("BUDI", 90.0, (270, 170, 350, 195))),
        (TextWord("Kewarganegaraan", 90.0, (30, 500, 250, 525)), TextWord("WNI", 90.0, (270, 500, 330, 525))),
        (TextWord("Berlaku", 90.0, (30, 535, 140, 560)), TextWord("Hingga", 90.0, (150, 535, 240, 560)),
         TextWord("SEUMUR", 90.0, (270, 535, 380, 560)), TextWord("HIDUP", 90.0, (390, 535, 480, 560))),
    )
    return TextReading("...", 90.0, 16, "tesseract", lines), digits


def test_a_ktp_whose_photo_or_signature_the_frame_cuts_is_cut():
    # Real close-ups (issue #11, ninth round) keep every word whole and read while the frame
    # cuts the card's photo at the right or its signature at the bottom; the card's extent,
    # predicted from the NIK's width, reaches past the frame.
    reading, digits = _ktp_el_reading()
    assert ck.check_crop_content(reading, (1000, 630), LIMITS, doc_type="ktp", number_read=True,
                                 nik_words=digits).ok
    photo_cut = ck.check_crop_content(reading, (960, 630), LIMITS, doc_type="ktp",
                                      number_read=True, nik_words=digits)
    assert not photo_cut.ok and "kanan" in photo_cut.message
    assert photo_cut.value < ck.KTP_ROOM_RIGHT_OF_NIK
    signature_cut = ck.check_crop_content(reading, (1000, 605), LIMITS, doc_type="ktp",
                                          number_read=True, nik_words=digits)
    assert not signature_cut.ok and "bawah" in signature_cut.message
    # Without the NIK's digits read there is nothing to scale the card by.
    assert ck.check_crop_content(reading, (960, 605), LIMITS, doc_type="ktp", number_read=True).ok


def test_a_point_of_the_straightened_document_maps_back_to_where_it_lies_in_the_frame():
    # A card photographed at an angle on a dark table: the photo box's centre, found on the
    # straightened card, is the photo box's colour in the frame too.
    card = make_card(800)
    height, width = card.shape[:2]
    corners = np.array([[260, 140], [1080, 220], [1040, 760], [220, 700]], np.float32)
    matrix = cv2.getPerspectiveTransform(
        np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32),
        corners)
    frame = cv2.warpPerspective(card, matrix, (1300, 900), borderValue=(35, 40, 45))
    outline = find_outline(frame)
    assert outline.found
    document = normalise(frame, outline)
    doc_h, doc_w = document.shape[:2]
    photo = np.array([[0.84 * doc_w, 0.47 * doc_h]])
    assert tuple(document[int(photo[0, 1]), int(photo[0, 0])]) == pytest.approx((170, 40, 40), abs=25)
    x, y = outline.to_frame(photo)[0]
    assert tuple(frame[int(y), int(x)]) == pytest.approx((170, 40, 40), abs=25)
    assert np.abs(outline.to_frame(np.array([[0, 0], [doc_w - 1, doc_h - 1]]))
                  - outline.corners[[0, 2]]).max() < 1.0


def test_a_ktp_room_is_measured_in_the_frame_not_in_our_crop_of_it():
    # Real phone photos (issue #11, session 17): the outline found was a sleeve's or a
    # shadow's edge inside the card, and the crop straightened from it left the photo's room
    # short while the photo itself kept the whole card in view. The rooms are measured in the
    # frame the outline was found in.
    reading, digits = _ktp_el_reading()
    inside = Outline(np.array([[100, 80], [1060, 80], [1060, 710], [100, 710]], np.float32),
                     True, 0.0, 0.0, (1400, 1000))
    assert inside.document_size == (960, 630)
    assert ck.check_crop_content(reading, (960, 630), LIMITS, doc_type="ktp", number_read=True,
                                 nik_words=digits, outline=inside).ok
    # The same crop against the frame's right edge: the photo did cut the card.
    at_edge = Outline(np.array([[439, 80], [1399, 80], [1399, 710], [439, 710]], np.float32),
                      True, 0.0, 0.0, (1400, 1000))
    cut = ck.check_crop_content(reading, (960, 630), LIMITS, doc_type="ktp", number_read=True,
                                nik_words=digits, outline=at_edge)
    assert not cut.ok and "kanan" in cut.message
    # The signature's room likewise: a crop whose bottom is the frame's bottom is cut there.
    at_bottom = Outline(np.array([[100, 394], [1100, 394], [1100, 999], [100, 999]], np.float32),
                        True, 0.0, 0.0, (1400, 1000))
    assert at_bottom.document_size == (1000, 605)
    bottom = ck.check_crop_content(reading, (1000, 605), LIMITS, doc_type="ktp", number_read=True,
                                   nik_words=digits, outline=at_bottom)
    assert not bottom.ok and "bawah" in bottom.message
    # A tilted crop well inside the frame: the rooms run along the card's own lines.
    turn = np.deg2rad(10.0)
    corners = np.array([[0, 0], [960, 0], [960, 630], [0, 630]], np.float64) @ np.array(
        [[np.cos(turn), np.sin(turn)], [-np.sin(turn), np.cos(turn)]]) + (300.0, 150.0)
    tilted = Outline(corners.astype(np.float32), True, -10.0, 0.0, (1600, 1200))
    assert ck.check_crop_content(reading, tilted.document_size, LIMITS, doc_type="ktp",
                                 number_read=True, nik_words=digits, outline=tilted).ok


def test_the_cards_extent_is_predicted_only_for_a_provinsi_headed_ktp():
    # An older card or a look-alike headed otherwise has another layout: not placed this way.
    reading, digits = _ktp_el_reading(header="KOTA")
    assert ck.check_crop_content(reading, (960, 605), LIMITS, doc_type="ktp", number_read=True,
                                 nik_words=digits).ok


def test_nik_digits_start_after_a_label_boxed_with_them():
    # rapidocr boxes "NIK:" with the digits; the digits start after the label's share.
    box = ck.nik_digits_box([TextWord("NIK:3301011708900003", 99.0, (0, 10, 200, 30))])
    assert box == (40.0, 10, 200, 30)


def test_crop_of_a_page_judged_by_its_text_clear_of_the_edges():
    words = [TextWord(f"kata{i}", 90.0, (100 + 60 * (i % 10), 100 + 40 * (i // 10),
                                           150 + 60 * (i % 10), 130 + 40 * (i // 10)))
             for i in range(30)]
    lines = tuple(tuple(words[i:i + 10]) for i in range(0, 30, 10))
    page = TextReading("...", 90.0, 30, "tesseract", lines)
    assert ck.check_crop_content(page, (1000, 1400), LIMITS).ok
    stray = TextReading("...", 90.0, 31, "tesseract",
                        (*lines, (TextWord("hal.2", 90.0, (0, 300, 80, 330)),)))
    assert ck.check_crop_content(stray, (1000, 1400), LIMITS).ok
    cut_line = tuple(TextWord(f"potong{i}", 90.0, (0 if i == 0 else 100 * i, 1370, 100 * i + 80,
                                                    1399)) for i in range(6))
    touching = TextReading("...", 90.0, 36, "tesseract", (*lines, cut_line))
    assert ck.check_crop_content(touching, (1000, 1400), LIMITS) is None
    assert ck.check_crop_content(TextReading("...", 90.0, 10, "tesseract", lines[:1]),
                                 (1000, 1400), LIMITS) is None


def test_a_ktp_whose_header_is_cut_by_the_frames_top_is_cut():
    # Real close-ups (issue #11, sixth round): the frame's top cuts through the header, the
    # PROVINSI line is gone or its letters cut short (read poorly), the KOTA line still reads.
    cut_header = (TextWord("KOTA", 9.0, (426, 4, 517, 31)), TextWord("PALEMBANG", 9.0, (528, 0, 751, 39)))
    card = TextReading("...", 90.0, 9, "tesseract", (cut_header, *_ktp_lines(top=70)[1:]))
    result = ck.check_crop_content(card, (1000, 630), LIMITS, doc_type="ktp")
    assert not result.ok and "'PALEMBANG'" in result.message
    half_letters = (TextWord("PROVING", 40.0, (300, 0, 420, 14)), TextWord("JAYA", 40.0, (430, 0, 500, 14)))
    card = TextReading("...", 90.0, 9, "tesseract", (half_letters, *_ktp_lines(top=40)[1:]))
    assert not ck.check_crop_content(card, (1000, 630), LIMITS, doc_type="ktp").ok
    # A whole header against the frame's top is a card cropped to its edge, as before.
    tight = TextReading("...", 90.0, 9, "tesseract", _ktp_lines(top=0))
    assert ck.check_crop_content(tight, (1000, 630), LIMITS, doc_type="ktp").ok


def test_a_document_of_few_words_all_clear_of_the_frame_is_whole():
    # A sign, a poster, a certificate: a few words on several lines, none at the frame's edge.
    lines = tuple((TextWord(word, 95.0, (200, 150 + 60 * i, 400, 190 + 60 * i)),)
                  for i, word in enumerate(("WAITING", "PLEASE", "ENGINE")))
    sign = TextReading("...", 95.0, 3, "tesseract", lines)
    result = ck.check_crop_content(sign, (600, 450), LIMITS)
    assert result.ok and "tidak menyentuh tepi" in result.message
    # One word against the frame, or a single line: the text cannot tell.
    touching = lines[:2] + ((TextWord("ENGINE", 95.0, (200, 420, 400, 449)),),)
    assert ck.check_crop_content(TextReading("...", 95.0, 3, "tesseract", touching),
                                 (600, 450), LIMITS) is None
    one_line = (tuple(w for line in lines for w in line),)
    assert ck.check_crop_content(TextReading("...", 95.0, 3, "tesseract", one_line),
                                 (600, 450), LIMITS) is None


def _print_of_height(letter_px: int, frame=(700, 1000)) -> np.ndarray:
    """A frame filled with lines of capitals about ``letter_px`` high (grey, BGR)."""
    image = np.full((*frame, 3), 235, np.uint8)
    scale = letter_px / 22.0  # Hershey simplex capitals are about 22 px high at scale 1
    for y in range(60, frame[0] - 40, 3 * letter_px):
        cv2.putText(image, "NAMA ALAMAT PROVINSI KABUPATEN PEKERJAAN AGAMA", (40, y),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (30, 30, 30), max(1, letter_px // 8))
    return image


@pytest.mark.parametrize("letter_px", [6, 12, 24])
def test_letter_height_is_measured_on_the_print(letter_px):
    gray = cv2.cvtColor(_print_of_height(letter_px), cv2.COLOR_BGR2GRAY)
    assert abs(ck.measure_letter_height(gray) - letter_px) <= 0.25 * letter_px + 1
    assert ck.measure_letter_height(np.full((400, 600), 230, np.uint8)) is None


def test_tiny_print_fails_resolution_in_a_large_frame_unless_its_key_line_reads():
    # A card held up in a selfie whose outline was not found: the frame's 500 px are not the
    # card's, its letters measure 6 px.
    result = ck.check_resolution(700, LIMITS, "ktp", letter_px=6.0)
    assert not result.ok and "terlalu kecil" in result.message
    assert ck.check_resolution(700, LIMITS, "ktp", letter_px=6.0, key_line_read=True).ok
    assert ck.check_resolution(700, LIMITS, "ktp", letter_px=9.0).ok
    assert ck.check_resolution(700, LIMITS, "ktp").ok


def test_small_card_passes_resolution_when_its_nik_reads():
    assert not ck.check_resolution(420, LIMITS, "ktp").ok
    assert ck.check_resolution(420, LIMITS, "ktp", key_line_read=True).ok
    assert not ck.check_resolution(180, LIMITS, "ktp", key_line_read=True).ok


# --- false alarms seen on clean real scans (issue #11, second round) -----------------------


def test_washed_out_judged_by_the_darkest_print_not_by_grey_stroke_edges():
    # A clean scan on clipped-white paper whose body text came out dark grey (thin,
    # anti-aliased strokes), under a black heading: most of its print is grey, some is black.
    page = cv2.cvtColor(make_page(), cv2.COLOR_BGR2GRAY)
    rows = (page < 128).any(axis=1).nonzero()[0]
    heading_end = int(rows[0]) + 40
    body = page[heading_end:].astype(np.float32)
    page[heading_end:] = (255 - (255 - body) * 0.62).astype(np.uint8)  # black -> grey 97
    measure = ck.measure_exposure(page)
    assert measure.ink < DEFAULT_THRESHOLDS["exposure_ink"]
    assert ck.check_exposure(measure, LIMITS).ok
    # Over-exposure lifts every stroke, the heading's too: still refused.
    lifted = defects.overexpose(cv2.cvtColor(page, cv2.COLOR_GRAY2BGR), random.Random(4))
    result = ck.check_exposure(ck.measure_exposure(cv2.cvtColor(lifted, cv2.COLOR_BGR2GRAY)),
                               LIMITS)
    assert not result.ok and "terlalu terang" in result.message


def _light_ground(height: int = 600, width: int = 900) -> np.ndarray:
    ground = np.full((height, width), 232, np.uint8)
    # Some print, so the paper is not the whole document.
    for y in range(60, height - 60, 40):
        cv2.line(ground, (60, y), (width // 3, y), 30, 3)
    return ground


def test_white_shapes_of_a_drawing_are_not_glare():
    # A vector drawing: white shapes inside a dark outline, on a light ground.
    drawing = _light_ground(1000, 1400)
    cv2.circle(drawing, (900, 500), 150, 255, -1)
    cv2.circle(drawing, (900, 500), 150, 50, 2)
    assert ck.measure_exposure(drawing).glare == 0.0


def test_white_table_cells_are_not_glare():
    # The white insides of a table's cells on paper just below clipping: many specks, not one
    # solid reflection.
    page = _light_ground()
    page[80:380, 400:860] = 252
    for x in range(400, 861, 12):
        cv2.line(page, (x, 80), (x, 380), 200, 1)
    for y in range(80, 381, 12):
        cv2.line(page, (400, y), (860, y), 200, 1)
    assert ck.measure_exposure(page).glare == 0.0


def test_long_white_band_is_not_glare():
    # A soft-edged white band across the document (a card's stripe, a lit edge) is not the
    # compact spot a lamp or flash makes.
    page = _light_ground().astype(np.float32)
    band = np.zeros_like(page)
    band[470:490, 100:800] = 1.0
    band = np.clip(cv2.GaussianBlur(band, (0, 0), 4) * 1.6, 0, 1)
    page = np.clip(page * (1 - band) + 255 * band, 0, 255).astype(np.uint8)
    assert ck.measure_exposure(page).glare == 0.0


def test_legible_not_judged_on_a_sharp_picture_without_text():
    no_words = TextReading("", 0.0, 0, "rapidocr")
    # A sharp photo or logo holds no text to be legible; a blurred capture reading nothing is
    # still refused.
    sharp = ck.check_legible(no_words, LIMITS, sharpness=3000.0)
    assert sharp.ok and sharp.value is None and "tidak memuat tulisan" in sharp.message
    assert not ck.check_legible(no_words, LIMITS, sharpness=80.0).ok
    assert not ck.check_legible(no_words, LIMITS).ok
    # OCR not tried on a thumbnail: nothing says it holds no text, it stays refused.
    assert not ck.check_legible(TextReading("", 0.0, 0, "none"), LIMITS, sharpness=3000.0).ok


def _ktp_with_photo(photo_level: int = 0) -> tuple[np.ndarray, TextReading, tuple]:
    """A KTP-like card (grey), its reading and its NIK's words: the print drawn where the words
    are boxed, a pass photo right of the NIK (dark hair and clothes, lifted by ``photo_level``
    towards white as glare over it does)."""
    card = np.full((630, 1000), 180, np.uint8)
    rows = [["PROVINSI", "JAWA", "TENGAH"], ["NIK", "3301011708900003"]]
    rows += [[label, "ISI"] for label in ("Nama", "Alamat", "Agama", "Pekerjaan", "Kewarganegaraan",
                                           "Berlaku")]
    lines = []
    for i, words in enumerate(rows):
        y = 20 + 60 * i
        boxes = ([(300 + 160 * j, y, 440 + 160 * j, y + 30) for j in range(len(words))] if i == 0
                 else [(40, y, 160, y + 30), (190, y, 520 if i == 1 else 400, y + 30)])
        line = []
        for word, box in zip(words, boxes, strict=True):
            for x in range(box[0], box[2] - 8, 14):  # letters: dark strokes inside the box
                card[box[1] + 4:box[3] - 4, x:x + 4] = 25
            line.append(TextWord(word, 90.0, box))
        lines.append(tuple(line))
    photo = np.full((290, 240), 170, np.uint8)  # face and background
    photo[:70] = 35  # hair
    photo[200:] = 45  # clothes
    lifted = photo.astype(np.float32)
    photo = (lifted + (255.0 - lifted) * photo_level / 255.0).astype(np.uint8)
    card[110:400, 640:880] = photo
    return card, TextReading("...", 90.0, 14, "tesseract", tuple(lines)), (lines[1][1],)


def _reflection(gray: np.ndarray, centre: tuple[int, int], radius: float) -> np.ndarray:
    """``gray`` with a flash's reflection: a clipped core fading out into a soft halo."""
    yy, xx = np.mgrid[0:gray.shape[0], 0:gray.shape[1]].astype(np.float32)
    weight = np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * (radius / 1.15) ** 2))
    weight = np.clip(weight * 1.8, 0, 1)
    return np.clip(gray * (1 - weight) + 255.0 * weight, 0, 255).astype(np.uint8)


def _ktp_glare(gray, reading, nik):
    """check_ktp_glare as the pipeline calls it, with the card's measured glare."""
    return ck.check_ktp_glare(gray, reading, nik, ck.measure_exposure(gray).glare)


def test_a_ktp_photo_washed_out_by_glare_fails_exposure():
    card, reading, nik = _ktp_with_photo()
    assert ck.ktp_photo_box(nik, reading, (1000, 630)) is not None
    assert _ktp_glare(card, reading, nik) is None
    # The pass photo lost under a veil of light: its darkest parts light grey, the print black.
    washed, reading, nik = _ktp_with_photo(photo_level=200)
    result = _ktp_glare(washed, reading, nik)
    assert not result.ok and result.name == "exposure" and "Foto pada kartu" in result.message
    # The general glare measure sees nothing there: no clipped spot.
    assert ck.check_exposure(ck.measure_exposure(washed), LIMITS).ok
    # Without the NIK line read the photo cannot be placed, and nothing is said.
    assert _ktp_glare(washed, reading, ()) is None


def test_a_reflection_on_a_ktps_print_fails_exposure_below_the_general_limit():
    card, reading, nik = _ktp_with_photo()
    on_print = _reflection(card, (300, 330), 45)
    share = ck.measure_exposure(on_print).glare
    assert ck.KTP_SPOT_ON_PRINT <= share < DEFAULT_THRESHOLDS["exposure"]
    assert ck.check_exposure(ck.measure_exposure(on_print), LIMITS).ok
    result = _ktp_glare(on_print, reading, nik)
    assert not result.ok and "di atas tulisan kartu" in result.message
    # The same reflection clear of the print (below the photo) hides nothing.
    assert _ktp_glare(_reflection(card, (760, 560), 45), reading, nik) is None
    # A small spot on the print stays under the KTP's limit.
    assert _ktp_glare(_reflection(card, (300, 330), 20), reading, nik) is None


_KTP_TEXT = ("PROVINSI JAWA TENGAH\nKABUPATEN KENDAL\nNIK : 3324012505900003\nNama : BUDI\n"
             "Tempat/Tgl Lahir : KENDAL, 25-05-1990\nJenis Kelamin : LAKI-LAKI\nAlamat : JL. X\n"
             "RT/RW : 001/002\nKel/Desa : SIDOMULYO\nKecamatan : CEPIRING\nAgama : ISLAM\n"
             "Status Perkawinan : KAWIN\nPekerjaan : PETANI\nKewarganegaraan : WNI\n"
             "Berlaku Hingga : SEUMUR HIDUP")


def test_a_ktps_labels_are_counted_read_whole_or_misread():
    whole = TextReading(_KTP_TEXT, 95.0, 40, "rapidocr")
    assert ck.ktp_labels_read(whole) == (19, 0)
    smudged = _KTP_TEXT.replace("Kecamatan", "Kecamatam").replace("Pekerjaan", "Pekerjaam") \
        .replace("Agama", "Aqama").replace("Berlaku Hingga", "Berlak Hinga")
    assert ck.ktp_labels_read(TextReading(smudged, 80.0, 40, "rapidocr")) == (14, 5)


@pytest.mark.parametrize(("sharpness", "softness", "labels", "ok"), [
    (500.0, 0.50, (14, 2), True),    # a little soft, the labels read whole: every character certain
    (500.0, 0.50, (9, 2), False),    # too few labels read whole to vouch for the print
    (500.0, 0.50, (12, 7), False),   # a third of the labels found misread: blurred
    (500.0, 0.60, (15, 0), False),   # too soft for any reading to excuse (digits go first)
    (150.0, 0.50, (16, 0), False),   # smeared: energy under half the limit
    (500.0, 0.50, None, False),      # no KTP reading: the strokes decide alone
])
def test_soft_strokes_pass_when_a_ktps_labels_read_whole(sharpness, softness, labels, ok):
    result = ck.check_blur(sharpness, LIMITS, "ktp", softness, ktp_labels=labels)
    assert result.ok is ok
    assert ("label kartu terbaca utuh" in result.message) is ok
