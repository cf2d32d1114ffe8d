"""The first pass over one upload: intake, decode, outline, checks, OCR, classification, fields.

:func:`analyse` is what an RQ worker calls for each upload. It is pure (bytes and records'
data in, a frozen :class:`Analysis` out) and never raises because of what a file contains: a
refused or unreadable file yields an ``error`` and a failing ``format`` check, so the officer
and the CPMI see why.

Speed: OCR is the slow part, so it runs once per document on the straightened, downscaled crop
(twice when the first engine reads too little, as Tesseract does through a KTP's printed
background), on at most :data:`MAX_OCR_PAGES` scanned pages, and never on pages whose PDF text
layer already says what they are.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from pengesahan.errors import FileTooLarge, IntakeError, ProcessingError
from processing import checks as ck
from processing.classify import classify, vetoed_types
from processing.fields import (
    MIN_NIK_CONFIDENCE,
    check_family_card,
    check_nik,
    extract_fields,
    parse_nik,
    printed_birth,
    region_codes,
)
from processing.image_features import quality_features
from processing.imaging import decode_image, fit_long_side, phash, png_bytes, thumbnail_png
from processing.intake import inspect_upload
from processing.learning import TypeModel, blend
from processing.outline import (
    Outline,
    draw_outline,
    estimate_text_skew,
    find_outline,
    is_sideways,
    normalise,
    scan_outline,
)
from processing.pdf import render_pdf
from processing.quality import DefectModels
from processing.spec import (
    ALLOWED_MEDIA_TYPES,
    CHECK_CODES,
    DEFECT_CHECKS,
    IMAGE_CHECKS,
    MAX_UPLOAD_BYTES,
    UNKNOWN_TYPE,
    CheckResult,
    Classification,
    DocTypeSpec,
    FormData,
    KnownDocument,
    Layout,
    TextReading,
    TextWord,
    Thresholds,
    capture_correction,
)
from processing.text import (
    available_engines,
    detect_orientation,
    lift_print,
    pdf_text_reading,
    read_digits,
    read_text,
)

__all__ = ["EARLY_CHECKS", "MAX_OCR_PAGES", "Analysis", "PageMeasures", "analyse", "measure_page"]

#: Scanned pages read by OCR per document: the first pages decide the type; more is slow.
MAX_OCR_PAGES = 2
#: Long side of the stored normalised image.
NORMALISED_LONG_SIDE = 1600
#: Long/short ratio range of an ID-1 card (85.6 × 53.98 mm = 1.586) seen through a camera.
_CARD_RATIO = (1.45, 1.75)

ProgressCallback = Callable[[float, str], None]
ChecksCallback = Callable[[tuple[CheckResult, ...]], None]

#: Checks whose verdict the reading of the text never changes: with the slot's type known they
#: are final once the pages are measured, and ``on_checks`` reports them before OCR starts
#: (resolution and crop wait: what reads can overturn them; exposure too: glare over a KTP's
#: photo or print is found from where its parts were read).
EARLY_CHECKS = ("format", "size", "blur", "skew", "blank")


@dataclass(frozen=True)
class Analysis:
    """Everything the first pass found about one upload."""

    media_type: str | None
    sha256: str
    size: int
    pages: int
    #: Classified type code (``unknown`` when none fits, None when the text was not read).
    doc_type: str | None
    confidence: float
    #: One result per code of :data:`~processing.spec.CHECK_CODES`, in that order.
    checks: tuple[CheckResult, ...]
    fields: dict[str, str] = field(default_factory=dict)
    #: Perceptual hash of the first page's document, hex.
    phash: str | None = None
    #: First page straightened and cropped to the document, PNG.
    normalised_png: bytes | None = None
    #: Small PNG of the first page as captured, with the outline drawn.
    thumbnail_png: bytes | None = None
    #: Why the file was refused or could not be analysed, in Bahasa Indonesia.
    error: str | None = None
    #: Main number read from the document (for :class:`~processing.spec.KnownDocument`).
    number: str | None = None
    #: The classifier's reasons, in words.
    reasons: tuple[str, ...] = ()
    #: Degrees (0, 90, 180, 270) the capture's content was turned clockwise; it was turned
    #: back before the checks.
    rotation: int = 0
    #: Whether the capture was a mirror image (content flipped left to right before any turn
    #: by ``rotation``); it was flipped back before the checks.
    mirrored: bool = False
    #: The text the classification read (text layer or OCR), None when none was read.
    text: str | None = None
    #: The first page's numbers for the office's defect models (processing.quality); None for
    #: a born-digital page or a refused file.
    quality_features: dict[str, float] | None = None

    @property
    def capture_note(self) -> str | None:
        """How the capture was set right before the checks, in words; None when it needed not."""
        return capture_correction(self.rotation, self.mirrored)

    @property
    def ok(self) -> bool:
        """True when there is no error and every check passed."""
        return self.error is None and all(check.ok for check in self.checks)

    def check(self, name: str) -> CheckResult:
        """The result of check ``name``."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_json(self, path: str) -> dict[str, Any]:
        """The report of one file, as stored and shown: path, type, confidence, checks, fields."""
        return {
            "path": path,
            "type": self.doc_type,
            "confidence": round(self.confidence, 3),
            "checks": [
                {"name": c.name, "ok": c.ok, "value": c.value, "message": c.message}
                for c in self.checks
            ],
            "fields": dict(self.fields),
            "error": self.error,
        }


@dataclass(frozen=True)
class PageMeasures:
    """What the image checks measured on one page."""

    index: int
    #: False for a born-digital PDF page (its text layer is read; image checks do not apply).
    scanned: bool
    outline: Outline
    #: The page straightened and cropped to the document, BGR at analysis size.
    document: np.ndarray
    #: Short side of the document in original pixels; None for a born-digital page.
    short_side_px: int | None
    sharpness: float
    exposure: ck.ExposureMeasure
    blank_detail: float
    #: Softness of the text strokes (:func:`processing.checks.measure_stroke_softness`); None
    #: when no text was found or the page is born digital.
    stroke_softness: float | None = None
    #: Median height of the document's letters in original pixels
    #: (:func:`processing.checks.measure_letter_height`); None without enough letter shapes.
    letter_px: float | None = None
    #: How far the document is tilted in the frame, in degrees (see :func:`_tilt`).
    tilt: float = 0.0


def measure_page(bgr: np.ndarray, *, index: int = 0, scanned: bool = True,
                 scale: float = 1.0, image_px: tuple[int, int] | None = None,
                 outline: Outline | None = None) -> PageMeasures:
    """Outline, straighten and measure one page (``scale``: analysis px per original px).

    ``outline``: the document's outline when already decided (default: :func:`find_outline`).
    """
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if not scanned:
        # Born digital: nothing was photographed; only emptiness is worth measuring.
        frame = np.array([[0, 0], [gray.shape[1] - 1, 0], [gray.shape[1] - 1, gray.shape[0] - 1],
                          [0, gray.shape[0] - 1]], dtype=np.float32)
        outline = Outline(frame, False, 0.0, 0.0, (gray.shape[1], gray.shape[0]))
        return PageMeasures(index, False, outline, bgr, None, 0.0,
                            ck.ExposureMeasure(255.0, 0.0, 0.0), ck.measure_blank(gray))
    outline = outline if outline is not None else find_outline(bgr)
    document = normalise(bgr, outline)
    doc_gray = cv2.cvtColor(document, cv2.COLOR_BGR2GRAY)
    short = min(document.shape[:2]) / scale
    if image_px is not None:
        # A scanned PDF page: the embedded image's pixels are the real resolution.
        short = min(short, min(image_px))
    letter = ck.measure_letter_height(doc_gray)
    return PageMeasures(
        index=index,
        scanned=True,
        outline=outline,
        document=document,
        short_side_px=int(round(short)),
        sharpness=ck.measure_sharpness(doc_gray),
        exposure=ck.measure_exposure(doc_gray),
        blank_detail=ck.measure_blank(doc_gray),
        stroke_softness=ck.measure_stroke_softness(doc_gray, letter),
        letter_px=_original_px(letter, short, document),
        tilt=_tilt(outline, gray),
    )


#: A found outline tilted more than this is checked against the text lines ...
_TILT_TO_CONFIRM = 2.0
#: ... and when they disagree by more than this, the text lines give the tilt.
_TILT_DISAGREEMENT = 2.5


def _tilt(outline: Outline, gray: np.ndarray) -> float:
    """The document's tilt: its outline's edges, unless its text lines disagree.

    On real phone photos the region found is not always the card's: a plastic sleeve, a shadow
    or a bright table edge joins it, and its quadrilateral leans 6-14° while the card's lines
    lean 1-3° (issue #11, session 16). A tilt the text lines confirm (within 2.5°) stands.
    """
    if not outline.found or abs(outline.angle) <= _TILT_TO_CONFIRM:
        return outline.angle
    text = estimate_text_skew(gray)
    return text if abs(text - outline.angle) > _TILT_DISAGREEMENT else outline.angle


def _original_px(length: float | None, short_side_px: float, document: np.ndarray) -> float | None:
    """A length measured on the analysis-size ``document``, in the original's pixels."""
    if length is None:
        return None
    return round(length * short_side_px / max(1, min(document.shape[:2])), 1)


@dataclass(frozen=True)
class _Page:
    bgr: np.ndarray
    text: str | None
    scale: float
    image_px: tuple[int, int] | None


def analyse(
    data: bytes,
    *,
    slot_type: str | None,
    form: FormData | None,
    known: Sequence[KnownDocument],
    thresholds: Thresholds,
    doc_types: Sequence[DocTypeSpec],
    on_progress: ProgressCallback | None = None,
    ocr: bool = True,
    candidate_id: int | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    ocr_engine: str = "auto",
    type_model: TypeModel | None = None,
    on_checks: ChecksCallback | None = None,
    defect_models: DefectModels | None = None,
) -> Analysis:
    """Analyse one upload for the slot ``slot_type`` of a dossier.

    ``known`` are the documents already stored (duplicate check), ``candidate_id`` the applicant
    this upload belongs to. ``on_progress(fraction, stage)`` reports progress (0-1).
    ``on_checks(results)`` receives the :data:`EARLY_CHECKS` as soon as they are final (when
    ``slot_type`` is given), seconds before the whole analysis ends.
    ``defect_models``, the office's models of image defects (processing.quality), may fail a
    check the rules passed, saying so.
    ``ocr=False`` skips the text engine on scans (fast tests, bulk re-checks): type, fields,
    NIK and legibility are then reported as not checked unless a PDF text layer answers them.
    Raises only for faults of the machine (e.g. no OCR engine), never for a bad file.
    """

    def progress(fraction: float, stage: str) -> None:
        if on_progress is not None:
            on_progress(fraction, stage)

    size = len(data)
    sha = hashlib.sha256(data).hexdigest()
    progress(0.0, "intake")
    try:
        intake = inspect_upload(data, max_bytes=max_bytes)
    except FileTooLarge as exc:
        return _refused(size, sha, exc.message, ck.check_size(size, max_bytes),
                        ck.not_checked("format", "berkas terlalu besar"))
    except IntakeError as exc:
        return _refused(size, sha, exc.message, ck.check_size(size, max_bytes),
                        ck.check_format(None, exc.message))

    allowed = _allowed_media_types(slot_type, doc_types)
    try:
        pages = _load_pages(data, intake.media_type, progress)
    except ProcessingError as exc:
        return _refused(size, sha, exc.message, ck.check_size(size, max_bytes),
                        ck.check_format(intake.media_type, exc.message), intake.media_type)
    rotation = 0
    if intake.media_type != "application/pdf" and ocr:
        rotation = _orientation(pages[0].bgr, ocr_engine)
        if rotation:
            pages[0] = _Page(_turn_back(pages[0].bgr, rotation), None, pages[0].scale, None)
    progress(0.5, "checks")

    measures = [
        measure_page(page.bgr, index=i, scanned=page.text is None, scale=page.scale,
                     image_px=page.image_px)
        for i, page in enumerate(pages)
    ]
    first = measures[0]
    format_check = ck.check_format(intake.media_type, None, allowed)
    image_checks = _image_checks(measures, thresholds, slot_type)
    # Strokes a little soft are judged with the reading (a KTP's labels read whole excuse them),
    # so that verdict is not reported early.
    blur_awaits = _blur_awaits_reading(measures, thresholds, slot_type, ocr)
    if on_checks is not None and slot_type is not None:
        early = {"format": format_check, "size": ck.check_size(size, max_bytes), **image_checks}
        on_checks(tuple(early[code] for code in EARLY_CHECKS
                        if not (code == "blur" and blur_awaits)))

    reading = _read(pages, measures, ocr, progress, ocr_engine)
    if (rotation == 0 and intake.media_type != "application/pdf" and reading is not None
            and len(measures) == 1 and _read_across_lines(reading)):
        # The reading runs down the frame: a sideways capture the ink profile took for upright.
        # The OCR vote turns it, and the turned page is measured and read again (first: whether
        # our crop cut print is then judged on the upright reading).
        gray = cv2.cvtColor(fit_long_side(pages[0].bgr, 1200), cv2.COLOR_BGR2GRAY)
        rotation = _turn_by_reading(gray, ocr_engine)
        if rotation:
            pages[0] = _Page(_turn_back(pages[0].bgr, rotation), None, pages[0].scale, None)
            measures[0] = first = measure_page(pages[0].bgr, scale=pages[0].scale)
            reading = _read_document(first.document, ocr_engine)
            image_checks = _checks_keeping_early(measures, thresholds, slot_type, image_checks)
    if (reading is not None and len(measures) == 1 and first.scanned
            and ck.words_cut_by_outline(reading, first.outline)):
        # Our crop cut through print: the outline followed an edge inside the document (a
        # sleeve's, a shadow's; real captures: a NIK's first digits, a label column cut off).
        # The frame, taken as a scan, is read too, first by the engine that read the crop
        # (like with like); the better reading wins.
        frame = measure_page(pages[0].bgr, scale=pages[0].scale,
                             outline=scan_outline(pages[0].bgr))
        second = _read_document(frame.document, ocr_engine, first_engine=reading.engine)
        if _reading_worth(second) > _reading_worth(reading):
            measures[0] = first = frame
            reading = second
            image_checks = _checks_keeping_early(measures, thresholds, slot_type, image_checks)
    progress(0.9, "classify")
    classification = _classified(reading, first, len(pages), doc_types, type_model)
    fields = _fields_read(reading, classification)
    mirrored = False
    if (classification is not None and intake.media_type != "application/pdf"
            and len(measures) == 1 and first.scanned and reading is not None
            and _maybe_wrong_way_round(reading, classification.doc_type, fields)):
        # Garbage read with little confidence, of no known type or without its number: a
        # card held upside down (no OSD without Tesseract) or a mirror image (a front camera's
        # selfie view). The way round that reads best as a known document is taken.
        found = _set_right_by_reading(pages[0], reading, doc_types)
        if found is not None:
            mirrored, turn, pages[0], measures[0], reading = found
            first = measures[0]
            rotation = (rotation + turn) % 360
            image_checks = _checks_keeping_early(measures, thresholds, slot_type, image_checks)
            classification = _classified(reading, first, len(pages), doc_types, type_model)
            fields = _fields_read(reading, classification)
    doc_type = classification.doc_type if classification else None
    # The slot says what the office expects; its limits apply even when the scan is unreadable.
    limits_type = slot_type or doc_type
    number = ck.main_number(doc_type, fields)
    doc_gray = cv2.cvtColor(first.document, cv2.COLOR_BGR2GRAY)
    page_hash = phash(doc_gray)
    # Legibility is weighed against the least sharp scanned page's strokes.
    softest = min((m for m in measures if m.scanned), key=lambda m: m.sharpness, default=None)

    if limits_type != slot_type:
        # No slot, so nothing was reported early: the type read sets every image limit.
        image_checks = _image_checks(measures, thresholds, limits_type)
        blur_awaits = _blur_awaits_reading(measures, thresholds, limits_type, ocr)
    nik_result, nik_unresolved, nik_doubtful = _nik_check(reading, doc_type, fields, form, first,
                                                          ocr_engine)
    results = {
        "format": format_check,
        "size": ck.check_size(size, max_bytes),
        **image_checks,
        "duplicate": ck.check_duplicate(
            sha256=sha, known=known, thresholds=thresholds, doc_type=doc_type, number=number,
            candidate_id=candidate_id, phash=page_hash,
        ),
        "text_layer": ck.check_text_layer(
            intake.media_type, sum(page.text is not None for page in pages), len(pages)
        ),
        "type_match": ck.check_type_match(classification, slot_type, thresholds, doc_types),
        "nik": nik_result,
        "legible": ck.check_legible(reading, thresholds, limits_type,
                                    softest.sharpness if softest else None,
                                    softest.stroke_softness if softest else None),
    }
    # The NIK's digits place a KTP's other parts (its photo, its signature's room).
    nik_words = _nik_words(reading) if reading is not None else []
    if len(measures) == 1 and first.scanned:
        # Judged by the content: a card's parts read inside the frame, a page's text clear of
        # its edges (the outline's verdict stands when the content cannot tell).
        height, width = first.document.shape[:2]
        number_read = bool(fields.get("nik"))
        # Only a KTP whose NIK was read measures its rooms from the NIK's digits.
        room_words = (_nik_words_to_ink(nik_words, reading, first.document)
                      if doc_type == "ktp" and number_read else ())
        by_content = ck.check_crop_content(reading, (width, height), thresholds, limits_type,
                                           doc_type=doc_type, number_read=number_read,
                                           nik_words=room_words, outline=first.outline,
                                           header_read_elsewhere=lambda: _header_read_elsewhere(
                                               reading, doc_type, number_read, first,
                                               ocr_engine))
        if by_content is not None:
            results["crop"] = by_content
        elif reading is not None and ck.useful_words(reading) < MIN_CROP_WITNESS:
            # No text at all: nothing shows a document to be cut (a photo, a blank or
            # unreadable capture), and the legibility check already refuses it.
            results["crop"] = ck.not_checked("crop", "tidak ada tulisan dokumen yang terbaca "
                                                     "untuk menilai tepinya")
    if (len(measures) == 1 and first.scanned and reading is not None and doc_type == "ktp"
            and results["exposure"].ok):
        # Glare judged by what it hides: a KTP's photo washed out, or a reflection on its print
        # (the parts placed from the NIK line and the words read).
        hidden = ck.check_ktp_glare(doc_gray, reading, nik_words, first.exposure.glare)
        if hidden is not None:
            results["exposure"] = hidden
    if blur_awaits:
        # On the page as finally measured (not reported early), with a KTP's labels as read.
        labels = ck.ktp_labels_read(reading) if reading is not None and doc_type == "ktp" else None
        results["blur"] = ck.check_blur(first.sharpness, thresholds, limits_type,
                                        first.stroke_softness, ktp_labels=labels)
    if len(measures) == 1 and first.scanned and reading is not None:
        # Resolution is there to make the text readable: when what matters reads, it was; when
        # it does not and the letters are tiny, a large frame (a card small in a photo) is not
        # the document's size.
        key_line_read = _key_line_read(doc_type, fields, reading, thresholds, limits_type,
                                       nik_unresolved=nik_unresolved)
        results["resolution"] = ck.check_resolution(first.short_side_px, thresholds,
                                                    limits_type, key_line_read=key_line_read,
                                                    letter_px=first.letter_px)
    features = quality_features(first, reading) if first.scanned else None
    if defect_models is not None and features is not None:
        # The office's models add what the rules missed, never overrule a failed check.
        for alarm in defect_models.alarms(features):
            meant = DEFECT_CHECKS[alarm.defect]
            if meant[0] in results and all(results[code].ok for code in meant if code in results):
                results[meant[0]] = alarm.failed_check()
    results = _with_capture_hint(results, first, nik_doubtful)
    thumbnail = draw_outline(pages[0].bgr, first.outline)
    analysis = Analysis(
        media_type=intake.media_type,
        sha256=sha,
        size=size,
        pages=len(pages),
        doc_type=doc_type,
        confidence=classification.confidence if classification else 0.0,
        checks=tuple(results[code] for code in CHECK_CODES),
        fields=fields,
        phash=page_hash,
        normalised_png=png_bytes(fit_long_side(first.document, NORMALISED_LONG_SIDE)),
        thumbnail_png=thumbnail_png(thumbnail),
        error=None,
        number=number,
        reasons=classification.reasons if classification else (),
        rotation=rotation,
        mirrored=mirrored,
        text=reading.text if reading is not None else None,
        quality_features=features,
    )
    progress(1.0, "done")
    return analysis


def _classified(reading: TextReading | None, first: PageMeasures, page_count: int,
                doc_types: Sequence[DocTypeSpec], type_model: TypeModel | None
                ) -> Classification | None:
    """The document's type by the rules, then the office's model; None when nothing was read."""
    if reading is None:
        return None
    classification = classify(reading, _layout(first, page_count), doc_types)
    if type_model is not None:
        classification = _with_office_model(classification, reading.text, type_model)
    return classification


#: Mean OCR confidence, per engine, under which a reading may be garbage read the wrong way
#: round: a synthetic card turned 180° or mirrored reads at 43-53 (Tesseract) and 60-64
#: (rapidocr), upright at 92 and 97; a real KTP turned 180° at 72.6 (rapidocr, which reads
#: some words of it through the turn), upright at 98.6; real captures the right way round
#: whose type or number was not found at 63-75 (Tesseract; bench/real, session 20).
SET_RIGHT_CONFIDENCE = {"tesseract": 58.0, "rapidocr": 75.0}
#: The ways a frame is set right, tried in turn: (mirrored, clockwise turn to undo).
_WAYS_ROUND = ((False, 180), (True, 0), (True, 180))


def _fields_read(reading: TextReading | None, classification: Classification | None
                 ) -> dict[str, str]:
    """The fields of the classified type read from ``reading``; none for an unknown type."""
    if reading is None or classification is None or classification.doc_type == UNKNOWN_TYPE:
        return {}
    return dict(extract_fields(reading.text, classification.doc_type))


def _maybe_wrong_way_round(reading: TextReading, doc_type: str, fields: dict[str, str]) -> bool:
    """Whether a reading looks like text read the wrong way round: some words, little trust,
    and no known type or not its number (``fields``, read as ``doc_type``: a mirror image
    turned 180° reads as a KTP from a few of its digits)."""
    if (ck.useful_words(reading) < MIN_CROP_WITNESS
            or reading.mean_confidence >= SET_RIGHT_CONFIDENCE.get(reading.engine, 0.0)):
        return False
    return doc_type == UNKNOWN_TYPE or ck.main_number(doc_type, fields) is None


def _set_right_by_reading(page: _Page, reading: TextReading, doc_types: Sequence[DocTypeSpec]
                          ) -> tuple[bool, int, _Page, PageMeasures, TextReading] | None:
    """(mirrored, turn, page, measures, reading) of the way round ``page`` reads best as a
    known document, and better than ``reading`` did; None when no way does.

    Each way is measured and read by the engine that read ``reading``, one reading per way;
    a way read with confidence ends the search (a mirror image turned 180° still reads as
    a KTP from its digits, with little confidence).
    """
    best = None
    worth = _reading_worth(reading)
    for mirror, turn in _WAYS_ROUND:
        bgr = _turn_back(cv2.flip(page.bgr, 1) if mirror else page.bgr, turn)
        measure = measure_page(bgr, scale=page.scale)
        second = read_text(cv2.cvtColor(measure.document, cv2.COLOR_BGR2GRAY), reading.engine)
        if (_reading_worth(second) <= worth
                or classify(second, _layout(measure, 1), doc_types).doc_type == UNKNOWN_TYPE):
            continue
        best = mirror, turn, _Page(bgr, None, page.scale, None), measure, second
        if second.mean_confidence >= SET_RIGHT_CONFIDENCE[second.engine]:
            break
        worth = _reading_worth(second)
    return best


def _with_office_model(classification: Classification, text: str, model: TypeModel) -> Classification:
    """The rules' classification after the office's model has had its say (processing.learning)."""
    blended = blend(classification.doc_type, classification.confidence, model.probabilities(text),
                    model.quality, unknown=UNKNOWN_TYPE, vetoed=vetoed_types(text))
    if blended.reason is None:
        return classification
    return Classification(blended.doc_type, blended.confidence, (*classification.reasons, blended.reason))


def _refused(size: int, sha: str, message: str, size_check: CheckResult,
             format_check: CheckResult, media_type: str | None = None) -> Analysis:
    reason = "berkas ditolak"
    results = {code: ck.not_checked(code, reason) for code in CHECK_CODES}
    results["format"] = format_check
    results["size"] = size_check
    return Analysis(media_type=media_type, sha256=sha, size=size, pages=0, doc_type=None,
                    confidence=0.0, checks=tuple(results[c] for c in CHECK_CODES), error=message)


def _allowed_media_types(slot_type: str | None, doc_types: Sequence[DocTypeSpec]) -> tuple[str, ...]:
    for spec in doc_types:
        if spec.code == slot_type:
            return spec.allowed_media_types
    return ALLOWED_MEDIA_TYPES


def _load_pages(data: bytes, media_type: str, progress: Callable[[float, str], None]) -> list[_Page]:
    if media_type == "application/pdf":
        rendered = render_pdf(data, on_page=lambda i, n: progress(0.05 + 0.4 * i / n, "render"))
        return [
            _Page(page.bgr, page.text if page.has_text else None,
                  # Rendered pixels per PDF pixel is not meaningful; the embedded image is.
                  1.0, page.image_px)
            for page in rendered
        ]
    image = decode_image(data)
    progress(0.4, "decode")
    return [_Page(image.bgr, None, image.scale, None)]


#: Words of three characters or more read across the lines for a reading to show its frame
#: sideways (the ink profile of a stretched square can look upright; real uploads: 21 and 25
#: such words and none along the lines, upright cards 5 at most against 13 or more along).
MIN_WORDS_ACROSS = 6
#: Tesseract OSD confidence needed to call an upright-looking capture upside down.
MIN_OSD_UPSIDE_DOWN = 6.0

_TURN_BACK = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180,
              270: cv2.ROTATE_90_CLOCKWISE}


def _turn_back(bgr: np.ndarray, rotation: int) -> np.ndarray:
    return cv2.rotate(bgr, _TURN_BACK[rotation]) if rotation in _TURN_BACK else bgr


def _orientation(bgr: np.ndarray, engine: str) -> int:
    """Degrees the content is turned clockwise (0, 90, 180, 270), judged before the checks.

    Tesseract's OSD when installed; a sideways capture (text lines running down the frame) is
    then turned both ways and the way OSD, or else OCR, reads upright wins (the first engine
    that reads at least ``MIN_USEFUL_WORDS`` words along the lines one way or the other; none:
    no turn).
    """
    gray = cv2.cvtColor(fit_long_side(bgr, 1200), cv2.COLOR_BGR2GRAY)
    if min(gray.shape) < MIN_OCR_SHORT_SIDE:
        return 0
    tesseract = "tesseract" in available_engines() and engine in ("auto", "tesseract")
    # A sideways card or page leaves a frame at least as tall as wide; a landscape frame whose
    # ink profile looks sideways is a patterned card or a photo of a desk (seen on real uploads).
    if not is_sideways(gray) or gray.shape[0] < 0.9 * gray.shape[1]:
        # Upright or upside down: OSD alone decides, and only when sure (on patterned cards
        # and photos it guesses).
        found = detect_orientation(gray, MIN_OSD_UPSIDE_DOWN) if tesseract else None
        return 180 if found == 180 else 0
    if tesseract:
        for candidate in (90, 270):
            found = detect_orientation(_turn_back(gray, candidate))
            if found in (0, 180):
                return (candidate + found) % 360
    # No OSD verdict: the way round that OCR reads better, counting only the words read along
    # the turned frame's lines. Both engines also read text running down the frame (Tesseract
    # finds vertical blocks, rapidocr turns tall boxes), so an upright card a square frame makes
    # look sideways was read as well turned 270° as upright, and turned. An engine that reads
    # next to nothing either way is no verdict either: Tesseract finds "too few characters" on a
    # patterned card turned either way, and the tie turned it by 90° whichever way it lay (upside
    # down, on a real KTP turned 270°). The next engine installed is asked; when none reads a
    # card's worth of words along the lines either way, the frame is left as it is.
    return _turn_by_reading(gray, engine)


def _turn_by_reading(gray: np.ndarray, engine: str) -> int:
    """90 or 270: the way round a sideways frame reads better along its lines; 0 when no
    engine reads a card's worth of words along the lines either way.

    Words are counted inside each box, as :func:`processing.checks.useful_words` does: rapidocr
    boxes a whole line, and a KTP's eleven lines read upright are a card's worth of words, not
    eleven (the count of boxes left such a card unturned on machines without Tesseract).
    """
    engines = available_engines() if engine == "auto" else [engine]
    for reader in engines:
        along = {candidate: _words_along_lines(read_text(_turn_back(gray, candidate), reader))
                 for candidate in (90, 270)}
        useful = {candidate: ck.useful_words_in(words) for candidate, words in along.items()}
        if max(useful.values()) >= MIN_USEFUL_WORDS:
            return max(along, key=lambda c: useful[c] * _mean_confidence(along[c]))
    return 0


def _mean_confidence(words: Sequence[TextWord]) -> float:
    return sum(w.confidence for w in words) / len(words) if words else 0.0


def _read_across_lines(reading: TextReading) -> bool:
    """Whether the words of a reading run down the frame: boxed taller than wide, nearly none
    along the lines (rapidocr reads text turned by 90° in tall boxes)."""
    words = sum(1 for line in reading.lines for w in line if len(w.text.strip()) >= 3)
    along = len(_words_along_lines(reading))
    across = words - along
    return across >= MIN_WORDS_ACROSS and across > 2 * along


def _words_along_lines(reading: TextReading) -> list[TextWord]:
    """Words of three characters or more whose box is wider than tall: read along the lines."""
    return [w for line in reading.lines for w in line
            if len(w.text.strip()) >= 3 and w.box[2] - w.box[0] > w.box[3] - w.box[1]]


#: Below this many pixels on the short side a scan cannot hold legible text (a KTP photo that
#: small is a thumbnail); the resolution check reports it and OCR is not attempted.
MIN_OCR_SHORT_SIDE = 200


def _read(pages: Sequence[_Page], measures: Sequence[PageMeasures], ocr: bool,
          progress: Callable[[float, str], None], engine: str = "auto") -> TextReading | None:
    """Text of the document: the PDF text layer when it has one, else OCR of the first scans."""
    layer = "\n".join(page.text for page in pages if page.text)
    if layer.strip():
        return pdf_text_reading(layer)
    if not ocr:
        return None
    readings = []
    scanned = [m for m in measures if m.scanned][:MAX_OCR_PAGES]
    if scanned and all(m.short_side_px < MIN_OCR_SHORT_SIDE for m in scanned):
        # Far too small to hold readable text: OCR would only spend a second to find nothing.
        return TextReading(text="", mean_confidence=0.0, word_count=0, engine="none")
    for n, measure in enumerate(scanned):
        progress(0.5 + 0.4 * n / len(scanned), "ocr")
        readings.append(_read_document(measure.document, engine))
    if not readings:
        return None
    if len(readings) == 1:
        return readings[0]
    words = sum(r.word_count for r in readings)
    confidence = (sum(r.mean_confidence * r.word_count for r in readings) / words) if words else 0.0
    return TextReading(text="\n".join(r.text for r in readings), mean_confidence=confidence,
                       word_count=words, engine=readings[0].engine)


#: Fewer useful words than this: the capture shows no document text whose edges could be cut.
MIN_CROP_WITNESS = 3
#: A reading with fewer useful words than this (or too low a confidence) is tried again with
#: the other engine: Tesseract reads next to nothing through a KTP's printed (guilloche)
#: background on many real photos, where rapidocr's text detector still finds every line.
MIN_USEFUL_WORDS = 12
MIN_FIRST_CONFIDENCE = 60.0


def _read_document(document: np.ndarray, engine: str,
                   read: Callable[[np.ndarray, str], TextReading] = read_text,
                   engines: Sequence[str] | None = None, *,
                   first_engine: str | None = None) -> TextReading:
    """OCR of one straightened document; a poor first reading is tried with the other engine.

    Only when the engine was left to choose (``auto``): the better of the two readings (more
    useful words) is kept, so a clean scan costs one reading and a patterned card two.
    ``first_engine``: the engine ``auto`` tries first (default: its own choice).
    ``read`` and ``engines`` (default: the engines installed) are seams for tests.
    """
    gray = cv2.cvtColor(document, cv2.COLOR_BGR2GRAY)
    reading = read(gray, first_engine if engine == "auto" and first_engine else engine)
    installed = available_engines() if engines is None else engines
    others = [e for e in installed if e != reading.engine]
    if engine != "auto" or not others:
        return reading
    if (ck.useful_words(reading) >= MIN_USEFUL_WORDS
            and reading.mean_confidence >= MIN_FIRST_CONFIDENCE):
        return reading
    second = read(gray, others[0])
    return second if _reading_worth(second) > _reading_worth(reading) else reading


def _header_read_elsewhere(reading: TextReading, doc_type: str | None, number_read: bool,
                           page: PageMeasures, engine: str,
                           read: Callable[[np.ndarray, str], TextReading] = read_text,
                           engines: Sequence[str] | None = None) -> bool:
    """Whether the other OCR engine reads the header of a KTP read without it.

    Asked only of a KTP whose NIK and last lines read and header did not
    (:func:`processing.checks.ktp_headless`: the crop check would call its top cut away on
    one engine's word), when the engine was left to choose (``auto``) and the other is
    installed: one reading more, for a few cards. ``read`` and ``engines`` (default: the
    engines installed) are seams for tests, as for :func:`_read_document`.
    """
    if doc_type != "ktp" or engine != "auto" or not ck.ktp_headless(reading, number_read):
        return False
    installed = available_engines() if engines is None else engines
    other = next((e for e in installed if e != reading.engine), None)
    return other is not None and ck.ktp_header_read(
        _read_document(page.document, other, read, installed))


def _reading_worth(reading: TextReading) -> float:
    """Useful words weighed by the reading's confidence: more, and surer, is better."""
    return ck.useful_words(reading) * reading.mean_confidence


def _key_line_read(doc_type: str | None, fields: dict[str, str], reading: TextReading | None,
                   thresholds: Thresholds, limits_type: str | None,
                   nik_unresolved: bool = False) -> bool:
    """Whether what matters was read: a KTP's NIK well formed, or the text legibly.

    (A KTP's NIK may still be doubtful; its digits being read at all shows the pixels hold
    them, which is what resolution is about.) Not when the NIK's reading is unresolved
    (``nik_unresolved``, see :func:`_reread_nik`): readings a quarter of the digits apart show
    the pixels do not hold them clearly, and the rest of the card read does not make up for
    its key line.
    """
    if reading is None or reading.engine in ("pdf", "none"):
        return False
    if doc_type == "ktp":
        if nik_unresolved:
            return False
        try:
            parse_nik(fields.get("nik"))
            return True
        except ValueError:
            pass
    return (ck.useful_words(reading) >= MIN_USEFUL_WORDS
            and reading.mean_confidence >= thresholds.get("legible", limits_type))


def _layout(first: PageMeasures, page_count: int) -> Layout:
    height, width = first.document.shape[:2]
    ratio = max(width, height) / max(1, min(width, height))
    hsv = cv2.cvtColor(fit_long_side(first.document, 400), cv2.COLOR_BGR2HSV)
    # Pages are portrait, cards landscape: the ratio alone confuses F4 (1.535) with ID-1.
    is_card = first.scanned and width > height and _CARD_RATIO[0] <= ratio <= _CARD_RATIO[1]
    return Layout(aspect_ratio=round(ratio, 3), is_card=bool(is_card),
                  colourfulness=round(float(hsv[:, :, 1].mean()) / 255.0, 3),
                  page_count=page_count)


def _blur_awaits_reading(measures: Sequence[PageMeasures], thresholds: Thresholds,
                         limits_type: str | None, ocr: bool) -> bool:
    """Whether a one-page capture's blur verdict waits for its reading (``ocr``: there is one;
    :func:`processing.checks.blur_awaits_reading`)."""
    first = measures[0]
    return (ocr and len(measures) == 1 and first.scanned
            and ck.blur_awaits_reading(first.sharpness, first.stroke_softness, thresholds, limits_type))


def _checks_keeping_early(measures: Sequence[PageMeasures], thresholds: Thresholds,
                          slot_type: str | None,
                          reported: dict[str, CheckResult]) -> dict[str, CheckResult]:
    """The image checks judged again on re-measured pages; those already reported (the
    :data:`EARLY_CHECKS`) stand, since the officer's screen has shown them."""
    return {**_image_checks(measures, thresholds, slot_type),
            **{code: reported[code] for code in EARLY_CHECKS if code in reported}}


def _image_checks(measures: Sequence[PageMeasures], thresholds: Thresholds,
                  doc_type: str | None) -> dict[str, CheckResult]:
    """Image checks per page, reported for the worst page (the first failing one)."""
    per_check: dict[str, list[tuple[int, CheckResult]]] = {
        name: [] for name in IMAGE_CHECKS
    }
    for m in measures:
        per_check["blank"].append((m.index, ck.check_blank(m.blank_detail, thresholds, doc_type)))
        if not m.scanned:
            continue
        per_check["resolution"].append(
            (m.index, ck.check_resolution(m.short_side_px, thresholds, doc_type)))
        per_check["blur"].append((m.index, ck.check_blur(m.sharpness, thresholds, doc_type,
                                                           m.stroke_softness)))
        per_check["exposure"].append((m.index, ck.check_exposure(m.exposure, thresholds, doc_type)))
        per_check["skew"].append((m.index, ck.check_skew(m.tilt, thresholds, doc_type)))
        per_check["crop"].append((m.index, ck.check_crop(m.outline.cut_share, thresholds, doc_type)))
    multi = len(measures) > 1
    out = {}
    for name, results in per_check.items():
        if not results:
            out[name] = CheckResult(name, True, None, thresholds.get(name, doc_type),
                                    "Halaman PDF digital; pemeriksaan gambar tidak berlaku.")
            continue
        failing = [(i, r) for i, r in results if not r.ok]
        index, result = failing[0] if failing else results[0]
        if multi and failing:
            result = CheckResult(result.name, False, result.value, result.threshold,
                                 f"Halaman {index + 1}: {result.message}")
        out[name] = result
    return out


def _nik_check(reading: TextReading | None, doc_type: str | None, fields: dict[str, str],
               form: FormData | None, first: PageMeasures,
               engine: str) -> tuple[CheckResult, bool, bool]:
    """The ``nik`` check, whether a KTP's NIK was read unresolved (see :func:`_reread_nik`),
    and whether it was read in doubt (not at all, or not for certain: the capture's fault)."""
    if reading is None:
        return ck.not_checked("nik", "teks dokumen tidak dibaca"), False, False
    if doc_type == "kartu_keluarga":
        # A KK lists every member's NIK: the applicant's must be among them.
        return check_family_card(fields, form or FormData()), False, False
    if doc_type != "ktp":
        return ck.not_checked("nik", "dokumen ini tidak memuat NIK pemohon"), False, False
    confidence, disagreement, unresolved = _reread_nik(reading, fields, first,
                                                       form.nik_digits if form else None)
    result = check_nik(fields.get("nik"), form or FormData(), card=fields, confidence=confidence,
                       disagreement=disagreement, printed_birth=printed_birth(reading.text))
    doubtful = not result.ok and (not fields.get("nik") or disagreement is not None or (
        confidence is not None and confidence < MIN_NIK_CONFIDENCE))
    return result, unresolved, doubtful


def _with_capture_hint(results: dict[str, CheckResult], first: PageMeasures,
                       nik_doubtful: bool) -> dict[str, CheckResult]:
    """``results`` with a NIK read in doubt telling the uploader what in the capture to mend
    (:func:`processing.checks.nik_capture_hint`), once every other check has judged it."""
    if not nik_doubtful:
        return results
    nik = results["nik"]
    hint = ck.nik_capture_hint(first.letter_px, first.stroke_softness, first.exposure.glare,
                               {code for code, result in results.items() if not result.ok})
    return {**results, "nik": replace(nik, message=f"{nik.message} {hint}")} if hint else results


_NIK_LABEL = re.compile(r"^\W*N[I1l|!]K\W*$", re.IGNORECASE)


def _nik_words(reading: TextReading) -> list[TextWord]:
    """The words holding the NIK's digits on the line labelled NIK (or holding 16 digits)."""
    for line in reading.lines:
        labelled = any(_NIK_LABEL.match(w.text) or w.text.upper().startswith("NIK")
                       for w in line[:2])
        digits = [w for w in line if sum(c.isdigit() for c in w.text) >= 4]
        if digits and (labelled or sum(sum(c.isdigit() for c in w.text) for w in digits) >= 14):
            return digits
    return []


def _nik_words_to_ink(words: Sequence[TextWord], reading: TextReading | None,
                      document: np.ndarray) -> list[TextWord]:
    """``words`` (a NIK's) with the first one's digits starting no earlier than their ink.

    rapidocr's box of a NIK may reach left over the colon and the gap before the digits (real
    cards: 20-60 px), which lengthens the NIK, the card's scale for a KTP's rooms
    (:func:`processing.checks.check_crop_content`). The first digit is the first mark right of
    the NIK label as tall as the line's print. The box is only ever moved right: a first digit
    misread as another glyph ("?") keeps its place in the box.
    """
    if not words or reading is None:
        return list(words)
    first = words[0]
    line = next((line for line in reading.lines if first in line), ())
    label_right = max((w.box[2] for w in line
                       if w.box[0] < first.box[0] and not any(c.isdigit() for c in w.text)),
                      default=0)
    top, bottom = min(w.box[1] for w in words), max(w.box[3] for w in words)
    start = max(first.box[0], label_right + 1)
    if bottom - top < 4 or first.box[2] - start < 4:
        return list(words)
    strip = lift_print(document[max(0, top):bottom, start:first.box[2]])
    _, ink = cv2.threshold(strip, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    # Digits: marks nearly as tall as the line (a colon's dots and specks are not).
    digits = [int(x) for x, _, w, h, _ in stats[1:count] if h >= 0.45 * (bottom - top) and w <= 3 * h]
    if len(digits) < _MIN_DIGIT_MARKS:
        return list(words)
    ink_left = start + min(digits)
    placed = ck.nik_digits_box([first])[0]
    if ink_left <= placed:
        return list(words)
    # The box's left edge for which the first digit, placed by its share of the characters
    # (:func:`processing.checks.nik_digits_box`), starts at the ink.
    share = (placed - first.box[0]) / (first.box[2] - first.box[0])
    left = (ink_left - first.box[2] * share) / (1 - share)
    return [replace(first, box=(int(round(left)), *first.box[1:])), *words[1:]]


#: Fewest digit-tall marks for a NIK line's ink to place its first digit.
_MIN_DIGIT_MARKS = 4


def _nik_crop(words: Sequence[TextWord], document: np.ndarray) -> np.ndarray:
    """The NIK's digits cut out of the document (BGR).

    A word that carries its label ("NIK:3204...", as rapidocr boxes it) is cut from its first
    digit on, by the share of characters before it.
    """
    left, top, right, bottom = ck.nik_digits_box(words)
    pad = max(2, int(bottom - top) // 3)
    return document[max(0, int(top) - pad): int(bottom) + pad,
                    max(0, int(left) - pad): int(right) + pad]


def _nik_candidates(digits: str) -> list[str]:
    """The well-formed NIKs in a line of digits (a stray digit may come from the colon),
    the most plausible first (see :func:`_nik_plausibility`)."""
    if len(digits) < 16:
        return []
    found = []
    for i in range(len(digits) - 15):
        window = digits[i:i + 16]
        try:
            parse_nik(window)
        except ValueError:
            continue
        found.append(window)
    return sorted(dict.fromkeys(found), key=lambda nik: -_nik_plausibility(nik, None))


def _nik_plausibility(nik: str, printed_birth: str | None) -> int:
    """How much a well-formed NIK agrees with the world: its region codes exist in the
    Kemendagri list (2 for the kecamatan, 1 for the kabupaten alone), its date part is the
    birth date printed on the card (ISO ``printed_birth``, 2 more); -1 for a malformed one."""
    try:
        info = parse_nik(nik)
    except ValueError:
        return -1
    codes = region_codes()
    score = 2 if info.district_code in codes else 1 if info.regency_code in codes else 0
    if printed_birth and printed_birth[2:] == info.birth_date.isoformat()[2:]:
        score += 2
    return score


#: Edits (digits changed, added or dropped) between the chosen reading of a NIK and the nearest
#: other one from which it counts as unresolved rather than doubtful (see :func:`_reread_nik`). On
#: bench.real clean KTPs under the resolution limit differ by at most 3 (a shifted digit and a
#: 3/8 or 1/4 swap); a 480 x 270 frame holding several cards, 5.
NIK_READINGS_APART = 4

#: The dossier's form as a witness of a NIK beside the OCR engines (see :func:`_reread_nik`).
_FORM = "form"

#: Whose reading of the NIK is taken when the readings disagree and none is confirmed, most
#: trusted first (measured on bench.real: a line read on its own beats the whole-card read).
_NIK_SOURCES = ("rapidocr", "tesseract", "card")


def _read_nik_line(reading: TextReading, document: np.ndarray, whole: str | None,
                   reads: dict[str, str], engines_of: dict[str, set[str]],
                   tag: str = "") -> float | None:
    """Read the NIK's line, located in ``reading``, digits only by each engine installed.

    Adds each engine's NIK to ``reads`` (as ``engine + tag``) and ``engines_of`` (engines
    behind each value), the engine that did not read the card first, and stops once two
    engines agree.
    Returns the least confidence of the line's words in ``reading`` (None: no NIK line found).
    """
    words = _nik_words(reading)
    if not words:
        return None
    crop = _nik_crop(words, document)
    if crop.size:
        # The card's colours lifted away first; on a colour-cast or dim photo that can wash
        # the digits out too, so the plain grey line is the second try.
        variants = (lift_print(crop), cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY))
        for engine in sorted(available_engines(), key=lambda e: e == reading.engine):
            candidates: list[str] = []
            for variant in variants:
                try:
                    digits, _ = read_digits(variant, engine)
                except ProcessingError:
                    continue
                candidates = _nik_candidates(digits)
                if candidates:
                    break
            if not candidates:
                continue
            value = whole if whole in candidates else candidates[0]
            reads[engine + tag] = value
            engines_of.setdefault(value, set()).add(engine)
            if len(engines_of[value]) >= 2:
                break  # confirmed: a further reading would only cost time
    return min(w.confidence for w in words)


def _reread_nik(reading: TextReading, fields: dict[str, str], first: PageMeasures,
                expected: str | None = None) -> tuple[float | None, str | None, bool]:
    """Read the NIK's line again on its own with every engine; (confidence, doubt, unresolved).

    The line is cut out and read digits only by each engine installed, the other engine
    first. Two *engines* that agree confirm the NIK (one engine reading the same pixels twice
    repeats its own mistakes), and so does one engine reading the NIK the dossier's form
    declares (``expected``): the form was typed apart from these pixels, so a misreading
    landing on exactly its sixteen digits is no more likely than two engines erring alike,
    while another person's card reads nowhere near it. The form's NIK is never taken
    unless read. One engine's two alike readings are confirmed only by the birth
    date printed on the card. When Tesseract read the card and nothing is confirmed, rapidocr
    reads the whole card too (its detector finds the NIK line where Tesseract lost it on a
    patterned card): that names the likeliest NIK but never certifies it, the capture having
    defeated one engine. ``fields["nik"]`` becomes the best-supported reading; a NIK nothing
    confirms comes back with the reason it is doubtful, so the ``nik`` check never passes it.

    ``unresolved``: the NIK's readings (the whole card's and the line's, by either engine) give
    numbers :data:`NIK_READINGS_APART` digits or more apart. Such a NIK is a guess at digits
    the pixels do not hold clearly (a card too small in the frame), not a doubt between two
    close readings, which clean 400-500 px cards often leave (a 3 read as 8, a digit shifted).
    """
    if reading.engine in ("pdf", "none") or not reading.lines:
        return None, None, False
    whole = fields.get("nik")
    reads: dict[str, str] = {}
    # Which independent witnesses give each value: the engines that read it, and the form.
    engines_of: dict[str, set[str]] = {expected: {_FORM}} if expected else {}
    if whole:
        reads["card"] = whole
        engines_of.setdefault(whole, set()).add(reading.engine)
    confidence = _read_nik_line(reading, first.document, whole, reads, engines_of)

    def confirmed() -> list[str]:
        return [v for v, engines in engines_of.items() if len(engines) >= 2]

    retried = False
    if not confirmed() and reading.engine != "rapidocr" and "rapidocr" in available_engines():
        retried = True
        second = read_text(cv2.cvtColor(first.document, cv2.COLOR_BGR2GRAY), "rapidocr")
        other = extract_fields(second.text, "ktp").get("nik")
        if other:
            reads["card_rapidocr"] = other
            engines_of.setdefault(other, set()).add("rapidocr")
        if not confirmed():
            # The line again, where rapidocr found it.
            line_confidence = _read_nik_line(second, first.document, whole or other, reads,
                                             engines_of, "_again")
            confidence = confidence if confidence is not None else line_confidence
    if not reads:
        return confidence, None, False
    sure = confirmed()
    if len(sure) == 1:
        # (Witnesses confirming different values, the form one and two engines another, are
        # a disagreement like any other, below.)
        value = sure[0]
        fields["nik"] = value
        if retried and _FORM not in engines_of[value]:
            # Agreement only on a second try, on a capture whose NIK line the first engine
            # could not make out: the best reading to show, not a certainty.
            return confidence, ("NIK baru terbaca pada pembacaan ulang seluruh kartu; perlu "
                                "diperiksa petugas."), False
        return 100.0, None, False
    printed = fields.get("birth_date")
    ranked = sorted(reads, key=lambda source: (-_nik_plausibility(reads[source], printed),
                                               _NIK_SOURCES.index(source.split("_")[0])))
    chosen = reads[ranked[0]]
    fields["nik"] = chosen
    try:
        info = parse_nik(chosen)
    except ValueError:
        return confidence, None, False  # check_nik says what is wrong with it
    born = (info.birth_date.day, info.birth_date.month, info.birth_date.year % 100)
    if printed and len(reads) >= 2 and len(set(reads.values())) == 1 and (
            (int(printed[8:10]), int(printed[5:7]), int(printed[2:4])) == born):
        # One engine only, twice alike, and its date part is the birth date printed on the card.
        return confidence, None, False
    if len(set(reads.values())) > 1:
        others = sorted(v for v in set(reads.values()) if v != chosen)
        # Digits changed, added or dropped between the two readings.
        apart = min(Levenshtein.distance(chosen, other) for other in others) >= NIK_READINGS_APART
        return (confidence, f"pembacaan baris NIK tidak sama ({chosen} dan {', '.join(others)}).",
                apart)
    # One engine's reading alone is doubtful but not unresolved: Tesseract loses the NIK line
    # of patterned cards at any size, so the other engine's silence says nothing of the pixels.
    return confidence, "NIK hanya terbaca oleh satu mesin OCR dan tidak dapat dipastikan.", False

