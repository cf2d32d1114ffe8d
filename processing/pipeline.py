"""The first pass over one upload: intake, decode, outline, checks, OCR, classification, fields.

:func:`analyse` is what an RQ worker calls for each upload. It is pure (bytes and records'
data in, a frozen :class:`Analysis` out) and never raises because of what a file contains: a
refused or unreadable file yields an ``error`` and a failing ``format`` check, so the officer
and the CPMI see why.

Speed: OCR is the slow part, so it runs once per document on the straightened, downscaled crop,
on at most :data:`MAX_OCR_PAGES` scanned pages, and never on pages whose PDF text layer already
says what they are.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from pengesahan.errors import FileTooLarge, IntakeError, ProcessingError
from processing import checks as ck
from processing.classify import classify
from processing.fields import check_family_card, check_nik, extract_fields
from processing.imaging import decode_image, fit_long_side, phash, png_bytes, thumbnail_png
from processing.intake import inspect_upload
from processing.outline import Outline, draw_outline, find_outline, is_sideways, normalise
from processing.pdf import render_pdf
from processing.spec import (
    ALLOWED_MEDIA_TYPES,
    CHECK_CODES,
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
)
from processing.text import (
    available_engines,
    detect_orientation,
    pdf_text_reading,
    read_digits,
    read_text,
)

__all__ = ["MAX_OCR_PAGES", "Analysis", "PageMeasures", "analyse", "measure_page"]

#: Scanned pages read by OCR per document: the first pages decide the type; more is slow.
MAX_OCR_PAGES = 2
#: Long side of the stored normalised image.
NORMALISED_LONG_SIDE = 1600
#: Long/short ratio range of an ID-1 card (85.6 × 53.98 mm = 1.586) seen through a camera.
_CARD_RATIO = (1.45, 1.75)

ProgressCallback = Callable[[float, str], None]


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


def measure_page(bgr: np.ndarray, *, index: int = 0, scanned: bool = True,
                 scale: float = 1.0, image_px: tuple[int, int] | None = None) -> PageMeasures:
    """Outline, straighten and measure one page (``scale``: analysis px per original px)."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    if not scanned:
        # Born digital: nothing was photographed; only emptiness is worth measuring.
        frame = np.array([[0, 0], [gray.shape[1] - 1, 0], [gray.shape[1] - 1, gray.shape[0] - 1],
                          [0, gray.shape[0] - 1]], dtype=np.float32)
        outline = Outline(frame, False, 0.0, 0.0, (gray.shape[1], gray.shape[0]))
        return PageMeasures(index, False, outline, bgr, None, 0.0,
                            ck.ExposureMeasure(255.0, 0.0, 0.0), ck.measure_blank(gray))
    outline = find_outline(bgr)
    document = normalise(bgr, outline)
    doc_gray = cv2.cvtColor(document, cv2.COLOR_BGR2GRAY)
    short = min(document.shape[:2]) / scale
    if image_px is not None:
        # A scanned PDF page: the embedded image's pixels are the real resolution.
        short = min(short, min(image_px))
    return PageMeasures(
        index=index,
        scanned=True,
        outline=outline,
        document=document,
        short_side_px=int(round(short)),
        sharpness=ck.measure_sharpness(doc_gray),
        exposure=ck.measure_exposure(doc_gray),
        blank_detail=ck.measure_blank(doc_gray),
    )


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
) -> Analysis:
    """Analyse one upload for the slot ``slot_type`` of a dossier.

    ``known`` are the documents already stored (duplicate check), ``candidate_id`` the applicant
    this upload belongs to. ``on_progress(fraction, stage)`` reports progress (0-1).
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

    reading = _read(pages, measures, ocr, progress, ocr_engine)
    progress(0.9, "classify")
    layout = _layout(first, len(pages))
    classification: Classification | None = None
    if reading is not None:
        classification = classify(reading, layout, doc_types)
    doc_type = classification.doc_type if classification else None
    # The slot says what the office expects; its limits apply even when the scan is unreadable.
    limits_type = slot_type or doc_type
    fields: dict[str, str] = {}
    if reading is not None and doc_type and doc_type != UNKNOWN_TYPE:
        fields = dict(extract_fields(reading.text, doc_type))
    number = ck.main_number(doc_type, fields)
    doc_gray = cv2.cvtColor(first.document, cv2.COLOR_BGR2GRAY)
    page_hash = phash(doc_gray)

    results = {
        "format": ck.check_format(intake.media_type, None, allowed),
        "size": ck.check_size(size, max_bytes),
        **_image_checks(measures, thresholds, limits_type),
        "duplicate": ck.check_duplicate(
            sha256=sha, known=known, thresholds=thresholds, doc_type=doc_type, number=number,
            candidate_id=candidate_id, phash=page_hash,
        ),
        "text_layer": ck.check_text_layer(
            intake.media_type, sum(page.text is not None for page in pages), len(pages)
        ),
        "type_match": ck.check_type_match(classification, slot_type, thresholds, doc_types),
        "nik": _nik_check(reading, doc_type, fields, form, first, ocr_engine),
        "legible": ck.check_legible(reading, thresholds, limits_type,
                                    min((m.sharpness for m in measures if m.scanned),
                                        default=None)),
    }
    if doc_type == "ktp" and len(measures) == 1 and first.scanned:
        # A card is judged by its content: its parts read inside the frame, its NIK read for sure.
        height, width = first.document.shape[:2]
        by_parts = ck.check_crop_parts(reading, (width, height), thresholds, limits_type)
        if by_parts is not None:
            results["crop"] = by_parts
        if results["nik"].ok and results["nik"].value:
            results["resolution"] = ck.check_resolution(first.short_side_px, thresholds,
                                                        limits_type, key_line_read=True)
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
    )
    progress(1.0, "done")
    return analysis


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


#: Tesseract OSD confidence needed to call an upright-looking capture upside down.
MIN_OSD_UPSIDE_DOWN = 6.0

_TURN_BACK = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180,
              270: cv2.ROTATE_90_CLOCKWISE}


def _turn_back(bgr: np.ndarray, rotation: int) -> np.ndarray:
    return cv2.rotate(bgr, _TURN_BACK[rotation]) if rotation in _TURN_BACK else bgr


def _orientation(bgr: np.ndarray, engine: str) -> int:
    """Degrees the content is turned clockwise (0, 90, 180, 270), judged before the checks.

    Tesseract's OSD when installed; a sideways capture (text lines running down the frame) is
    then turned both ways and the way OSD, or else OCR, reads upright wins.
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
    # No OSD verdict: the way round that OCR reads better.
    scores = {}
    for candidate in (90, 270):
        reading = read_text(_turn_back(gray, candidate), engine)
        scores[candidate] = reading.mean_confidence * reading.word_count
    return max(scores, key=scores.get)


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
        readings.append(read_text(cv2.cvtColor(measure.document, cv2.COLOR_BGR2GRAY), engine))
    if not readings:
        return None
    if len(readings) == 1:
        return readings[0]
    words = sum(r.word_count for r in readings)
    confidence = (sum(r.mean_confidence * r.word_count for r in readings) / words) if words else 0.0
    return TextReading(text="\n".join(r.text for r in readings), mean_confidence=confidence,
                       word_count=words, engine=readings[0].engine)


def _layout(first: PageMeasures, page_count: int) -> Layout:
    height, width = first.document.shape[:2]
    ratio = max(width, height) / max(1, min(width, height))
    hsv = cv2.cvtColor(fit_long_side(first.document, 400), cv2.COLOR_BGR2HSV)
    # Pages are portrait, cards landscape: the ratio alone confuses F4 (1.535) with ID-1.
    is_card = first.scanned and width > height and _CARD_RATIO[0] <= ratio <= _CARD_RATIO[1]
    return Layout(aspect_ratio=round(ratio, 3), is_card=bool(is_card),
                  colourfulness=round(float(hsv[:, :, 1].mean()) / 255.0, 3),
                  page_count=page_count)


def _image_checks(measures: Sequence[PageMeasures], thresholds: Thresholds,
                  doc_type: str | None) -> dict[str, CheckResult]:
    """Image checks per page, reported for the worst page (the first failing one)."""
    per_check: dict[str, list[tuple[int, CheckResult]]] = {
        name: [] for name in ("resolution", "blur", "exposure", "skew", "crop", "blank")
    }
    for m in measures:
        per_check["blank"].append((m.index, ck.check_blank(m.blank_detail, thresholds, doc_type)))
        if not m.scanned:
            continue
        per_check["resolution"].append(
            (m.index, ck.check_resolution(m.short_side_px, thresholds, doc_type)))
        per_check["blur"].append((m.index, ck.check_blur(m.sharpness, thresholds, doc_type)))
        per_check["exposure"].append((m.index, ck.check_exposure(m.exposure, thresholds, doc_type)))
        per_check["skew"].append((m.index, ck.check_skew(m.outline.angle, thresholds, doc_type)))
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
               form: FormData | None, first: PageMeasures, engine: str) -> CheckResult:
    if reading is None:
        return ck.not_checked("nik", "teks dokumen tidak dibaca")
    if doc_type == "kartu_keluarga":
        # A KK lists every member's NIK: the applicant's must be among them.
        return check_family_card(fields, form or FormData())
    if doc_type != "ktp":
        return ck.not_checked("nik", "dokumen ini tidak memuat NIK pemohon")
    confidence, disagreement = _reread_nik(reading, fields, first)
    return check_nik(fields.get("nik"), form or FormData(), card=fields, confidence=confidence,
                     disagreement=disagreement)


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


def _reread_nik(reading: TextReading, fields: dict[str, str],
                first: PageMeasures) -> tuple[float | None, str | None]:
    """Read the NIK's line again on its own, digits only; (confidence, why the reads differ).

    Updates ``fields["nik"]`` with the digits-only reading when the whole-card reading had
    none. A NIK that no reading backs up is reported as doubtful, never as read.
    """
    if reading.engine in ("pdf", "none") or not reading.lines:
        return None, None
    words = _nik_words(reading)
    if not words:
        return None, None
    whole = fields.get("nik")
    confidence = min(w.confidence for w in words)
    gray = cv2.cvtColor(first.document, cv2.COLOR_BGR2GRAY)
    left = min(w.box[0] for w in words)
    top = min(w.box[1] for w in words)
    right = max(w.box[2] for w in words)
    bottom = max(w.box[3] for w in words)
    pad = max(2, (bottom - top) // 3)
    crop = gray[max(0, top - pad): bottom + pad, max(0, left - pad): right + pad]
    if crop.size == 0:
        return confidence, None
    try:
        digits, line_confidence = read_digits(crop, reading.engine)
    except ProcessingError:
        return confidence, None
    if whole is not None and whole in digits:
        # Two independent readings agree (the line's may carry a stray digit from the colon):
        # that is the evidence, whatever either engine's own score.
        return max(confidence, line_confidence), None
    if whole is None:
        if len(digits) == 16:
            fields["nik"] = digits
            return line_confidence, None
        return None, None
    if len(digits) == 16:
        return confidence, f"pembacaan ulang baris NIK memberi {digits}, bukan {whole}."
    # The line alone gave no NIK: the whole-card reading stands on its own confidence.
    return confidence, None
