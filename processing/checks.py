"""The scan checks: one function per check code, each returning a :class:`CheckResult`.

Measurements (``measure_*``) are separate from the verdicts (``check_*``) so the bench can
calibrate thresholds on the raw numbers. Every verdict reads its limit from
:class:`~processing.spec.Thresholds` for the document's type, and explains itself in Bahasa
Indonesia to the officer and the CPMI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
from rapidfuzz import fuzz

from processing.imaging import hamming
from processing.outline import Outline
from processing.spec import (
    ALLOWED_MEDIA_TYPES,
    IMAGE_CHECKS,
    MAX_UPLOAD_BYTES,
    UNKNOWN_TYPE,
    CheckResult,
    Classification,
    DocTypeSpec,
    KnownDocument,
    TextReading,
    TextWord,
    Thresholds,
)

__all__ = [
    "MAIN_NUMBER_FIELDS",
    "ExposureMeasure",
    "check_blank",
    "check_blur",
    "blur_awaits_reading",
    "ktp_labels_read",
    "KTP_LABELS_LEGIBLE",
    "check_crop",
    "check_crop_content",
    "KTP_LABELS",
    "KTP_PARTS",
    "MIN_KTP_PARTS",
    "MIN_WITNESS_WORDS",
    "useful_words",
    "useful_words_in",
    "ktp_header_read",
    "ktp_headless",
    "words_cut_by_outline",
    "MIN_READABLE_SHORT_SIDE",
    "check_duplicate",
    "check_exposure",
    "check_ktp_glare",
    "glare_spots",
    "ktp_photo_box",
    "KTP_PHOTO_WASHED",
    "KTP_SPOT_ON_PRINT",
    "KTP_ROOM_BELOW_LAST_LINE",
    "KTP_ROOM_RIGHT_OF_NIK",
    "nik_digits_box",
    "check_format",
    "check_legible",
    "MIN_LEGIBLE_WORDS",
    "check_resolution",
    "check_size",
    "check_skew",
    "check_text_layer",
    "check_type_match",
    "main_number",
    "measure_blank",
    "measure_exposure",
    "measure_letter_height",
    "measure_sharpness",
    "measure_stroke_softness",
    "not_checked",
]

#: Field names holding a document's main number, by document type; the first present wins.
#: Names are those of :func:`processing.fields.extract_fields`.
MAIN_NUMBER_FIELDS: dict[str, tuple[str, ...]] = {
    "ktp": ("nik",),
    "kartu_keluarga": ("kk_number",),
    "bpjs_tk": ("bpjs_number",),
    "sertifikat_kompetensi": ("certificate_number",),
    "siup_oss": ("nib",),
    "sip2mi": ("sip2mi_number",),
    "surat_nikah": ("registration_number",),
    "akta_kelahiran": ("registration_number",),
}
_GENERIC_NUMBER_FIELDS = ("letter_number", "certificate_number", "registration_number")

_MEDIA_NAMES = {"image/jpeg": "JPG", "image/png": "PNG", "application/pdf": "PDF"}


def _fmt(value: float, digits: int = 1) -> str:
    """A number written the Indonesian way (decimal comma)."""
    return f"{value:.{digits}f}".replace(".", ",")


def not_checked(name: str, reason: str) -> CheckResult:
    """A check that does not apply or could not run: ok, no value, the reason in words."""
    return CheckResult(name=name, ok=True, value=None, threshold=None,
                       message=f"Tidak diperiksa: {reason}.")


# --- format, size ---------------------------------------------------------------------------


def check_format(
    media_type: str | None,
    error: str | None = None,
    allowed: Sequence[str] = ALLOWED_MEDIA_TYPES,
) -> CheckResult:
    """The content is a JPG, PNG or PDF allowed for this slot (``error``: why intake refused)."""
    if error is not None or media_type is None:
        return CheckResult("format", False, media_type, list(allowed),
                           error or "Berkas bukan JPG, PNG atau PDF yang sah.")
    if media_type not in allowed:
        names = ", ".join(_MEDIA_NAMES.get(m, m) for m in allowed)
        return CheckResult("format", False, media_type, list(allowed),
                           f"Jenis berkas {_MEDIA_NAMES.get(media_type, media_type)} tidak "
                           f"diterima untuk dokumen ini; gunakan {names}.")
    return CheckResult("format", True, media_type, list(allowed),
                       f"Berkas {_MEDIA_NAMES.get(media_type, media_type)} yang sah.")


def check_size(size: int, max_bytes: int = MAX_UPLOAD_BYTES) -> CheckResult:
    """The file is at most ``max_bytes`` (5 MB)."""
    mb = size / (1024 * 1024)
    limit = max_bytes / (1024 * 1024)
    if size > max_bytes:
        return CheckResult("size", False, size, max_bytes,
                           f"Berkas {_fmt(mb)} MB melebihi batas {_fmt(limit, 0)} MB.")
    if size == 0:
        return CheckResult("size", False, size, max_bytes, "Berkas kosong.")
    return CheckResult("size", True, size, max_bytes, f"Ukuran {_fmt(mb)} MB.")


# --- resolution -----------------------------------------------------------------------------


#: Short side below which no capture is accepted, even when its key line was read.
MIN_READABLE_SHORT_SIDE = 250
#: Letter height (median of the letter-shaped marks) in original pixels below which a
#: document whose text does not read is too small in the frame, whatever the frame's size.
#: On bench.real the documents that read measure 6.5 px and more; a card held up in a selfie
#: whose outline was not found (the frame's 500 px taken for the card's) 6 px.
MIN_LETTER_PX = 7.0


def check_resolution(
    short_side_px: int | None, thresholds: Thresholds, doc_type: str | None = None,
    key_line_read: bool = False, letter_px: float | None = None,
) -> CheckResult:
    """The document (not the frame) is at least the threshold's pixels on its short side.

    ``None`` means vector content (a born-digital PDF page): resolution does not apply.
    ``key_line_read``: the line that matters (a KTP's NIK, a page's text) was read; then a
    smaller capture is enough (400-600 px cards read fine), down to
    :data:`MIN_READABLE_SHORT_SIDE`. ``letter_px``: the height of the document's letters in
    original pixels, given once OCR has tried to read it; when its key line did not read,
    letters under :data:`MIN_LETTER_PX` fail even a large frame (a card small in a photo
    whose outline was not found: the frame's size is not the document's).
    """
    limit = thresholds.get("resolution", doc_type)
    if short_side_px is None:
        return CheckResult("resolution", True, None, limit,
                           "Halaman PDF digital; resolusi tidak berlaku.")
    if short_side_px < limit and key_line_read and short_side_px >= MIN_READABLE_SHORT_SIDE:
        return CheckResult("resolution", True, short_side_px, limit,
                           f"Resolusi cukup: sisi pendek {short_side_px} piksel dan baris "
                           "utamanya terbaca.")
    if short_side_px < limit:
        return CheckResult("resolution", False, short_side_px, limit,
                           f"Resolusi terlalu rendah: sisi pendek dokumen {short_side_px} piksel "
                           f"(minimal {limit:.0f}). Pindai atau foto ulang lebih dekat.")
    if letter_px is not None and letter_px < MIN_LETTER_PX and not key_line_read:
        return CheckResult("resolution", False, short_side_px, limit,
                           f"Tulisan dokumen terlalu kecil untuk dibaca: tinggi huruf sekitar "
                           f"{_fmt(letter_px)} piksel (minimal {_fmt(MIN_LETTER_PX)}). Foto "
                           "lebih dekat sehingga dokumen memenuhi gambar.")
    return CheckResult("resolution", True, short_side_px, limit,
                       f"Resolusi cukup: sisi pendek {short_side_px} piksel.")


# --- blur -----------------------------------------------------------------------------------


def measure_sharpness(gray: np.ndarray) -> float:
    """Sharpness of a document image: the weaker direction's second-derivative energy.

    Measured per 64-pixel tile over the tiles that hold content (a page is mostly empty
    paper), taking the upper quartile so dense and sparse documents compare. Using the weaker
    of the horizontal and vertical second derivatives is what lets motion blur, which smears
    one direction only and keeps a high plain Laplacian, show up.
    """
    gray = gray.astype(np.float32)
    dxx = cv2.Sobel(gray, cv2.CV_32F, 2, 0, ksize=3)
    dyy = cv2.Sobel(gray, cv2.CV_32F, 0, 2, ksize=3)
    # The diagonals catch motion along 45°, which halves both axis derivatives only mildly.
    kd1 = np.array([[1, 0, 0], [0, -2, 0], [0, 0, 1]], dtype=np.float32)
    kd2 = np.array([[0, 0, 1], [0, -2, 0], [1, 0, 0]], dtype=np.float32)
    d1 = cv2.filter2D(gray, cv2.CV_32F, kd1)
    d2 = cv2.filter2D(gray, cv2.CV_32F, kd2)
    tile = 64
    height, width = gray.shape
    rows, cols = height // tile, width // tile
    if rows == 0 or cols == 0:
        return float(min(np.var(dxx), np.var(dyy)))

    def tiled(values: np.ndarray, fn) -> np.ndarray:
        cut = values[: rows * tile, : cols * tile].reshape(rows, tile, cols, tile)
        return fn(cut, axis=(1, 3)).ravel()

    std = tiled(gray, np.std)
    content = std > 12.0
    if content.sum() < 2:
        content = std >= np.percentile(std, 75)
    energies = []
    for d in (dxx, dyy, d1 * 2.0, d2 * 2.0):
        energy = tiled(np.square(d), np.mean)[content]
        energies.append(float(np.percentile(energy, 75)))
    return min(energies)


#: Letter height (median of the letter-shaped marks, px) at which stroke softness is measured:
#: a larger capture is shrunk to it first, so a sharp card photographed close and one taken
#: from afar compare; a smaller one is measured as it is (never enlarged: interpolation is soft).
_STROKE_LETTER_PX = 14.0
#: Length of the moving average that stroke softness compares the strokes with, in pixels at
#: :data:`_STROKE_LETTER_PX`: about a letter's width.
_STROKE_AVERAGE_PX = 9
#: Fewest letter-shaped marks for the letter height, and so stroke softness, to be measured.
_MIN_LETTER_MARKS = 20
#: Least share of the document near print for stroke softness to be measured.
_MIN_PRINT_SHARE = 0.01
#: Share of the blur limit under which a capture is smeared whatever its strokes look like.
_SMEARED = 0.5


def measure_letter_height(gray: np.ndarray) -> float | None:
    """Median height in pixels of the dark marks shaped like letters, or None if too few."""
    marks = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                  31, 15)
    count, _, stats, _ = cv2.connectedComponentsWithStats(marks, connectivity=8)
    heights = [int(h) for _, _, w, h, area in stats[1:count]
               if 4 <= h <= 80 and 1 <= w <= 1.5 * h and area >= 8]
    return float(np.median(heights)) if len(heights) >= _MIN_LETTER_MARKS else None


def measure_stroke_softness(gray: np.ndarray, letter: float | None) -> float | None:
    """How soft the text strokes are for their size: 0 crisp, 1 flat; None without text.

    The share of the grey-level variation across the strokes' edges that a moving average
    about a letter wide leaves in place (a no-reference blur measure after Crété-Roffet et
    al., 2007), in the weaker direction, on the pixels near print only, with the letters
    brought to a common height. Unlike :func:`measure_sharpness` it does not depend on the
    print's contrast (faint print on a tinted card is not blur) and it sees a soft capture
    that was sharpened afterwards (the halo adds second-derivative energy, the strokes stay
    wide for their letters). ``letter``: :func:`measure_letter_height` of ``gray``, which the
    caller keeps too (None: no text).
    """
    if letter is None:
        return None
    shrink = min(1.0, _STROKE_LETTER_PX / letter)
    if shrink < 1.0:
        gray = cv2.resize(gray, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
    if min(gray.shape) < 64:
        return None
    # Print: clearly darker than the paper around it (a 31 px median is the local paper).
    ink = (cv2.medianBlur(gray, 31).astype(np.int16) - gray > 40).astype(np.uint8)
    reach = max(1, round(0.25 * letter * shrink))
    near = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                     (2 * reach + 1, 2 * reach + 1))).astype(bool)
    if near.mean() < _MIN_PRINT_SHARE:
        return None
    values = gray.astype(np.float32)
    softness = []
    # A horizontal average against the steps between columns, a vertical one against rows.
    for size, axis in (((_STROKE_AVERAGE_PX, 1), 1), ((1, _STROKE_AVERAGE_PX), 0)):
        step = np.abs(np.diff(values, axis=axis))
        step_averaged = np.abs(np.diff(cv2.blur(values, size), axis=axis))
        where = near[: step.shape[0], : step.shape[1]]
        total = float(step[where].sum())
        lost = float(np.maximum(0.0, step - step_averaged)[where].sum())
        softness.append(1.0 if total == 0 else (total - lost) / total)
    return max(softness)


#: KTP labels read letter for letter (:func:`ktp_labels_read`) from which soft strokes are
#: not blur: the card's smallest print reads whole (a KTP prints 17-19 of :data:`KTP_LABELS`).
#: Real captures both second readers called soft but wholly readable read 12-18 of them;
#: none they called blurred read more than 11 (bench/real, session 21).
KTP_LABELS_LEGIBLE = 12
#: Least share of the labels found that are read letter for letter (the rest misread): a
#: blurred card read by rapidocr may still find most labels, misspelling a third or more.
KTP_LABELS_LEGIBLE_SHARE = 2 / 3
#: Highest stroke softness that labels read letter for letter can excuse: rapidocr still reads
#: common words through more blur than digits (a synthetic KTP at 0.59 read 13 labels whole
#: and a NIK digit wrong); real captures read soft but whole reach 0.54.
KTP_SOFT_MAX = 0.56
#: Similarity (rapidfuzz ratio, 0-100) from which a word is a label misread.
_LABEL_MISREAD = 70


def ktp_labels_read(reading: TextReading) -> tuple[int, int]:
    """How many of :data:`KTP_LABELS` ``reading`` holds letter for letter, and how many only
    misread (a word near the label but not it)."""
    words = {word for word in re.split(r"[^a-z/]+", reading.text.lower()) if len(word) >= 3}
    exact = misread = 0
    for label in KTP_LABELS:
        if label in words:
            exact += 1
        elif any(fuzz.ratio(label, word) >= _LABEL_MISREAD for word in words):
            misread += 1
    return exact, misread


def blur_awaits_reading(sharpness: float, softness: float | None, thresholds: Thresholds,
                        doc_type: str | None = None) -> bool:
    """Whether the blur verdict waits for the reading: strokes a little soft for their size
    (up to :data:`KTP_SOFT_MAX`), not smeared, so what was read decides (see
    :func:`check_blur`)."""
    return (softness is not None and thresholds.get("blur_soft", doc_type) < softness <= KTP_SOFT_MAX
            and sharpness >= _SMEARED * thresholds.get("blur", doc_type))


def _strokes_crisp(sharpness: float, softness: float | None, thresholds: Thresholds,
                   doc_type: str | None) -> bool:
    """Whether text strokes were measured and are crisp: not soft for their size, not smeared."""
    return (softness is not None and softness <= thresholds.get("blur_soft", doc_type)
            and sharpness >= _SMEARED * thresholds.get("blur", doc_type))


def check_blur(sharpness: float, thresholds: Thresholds, doc_type: str | None = None,
               softness: float | None = None, ktp_labels: tuple[int, int] | None = None
               ) -> CheckResult:
    """The document is sharp enough (see :func:`measure_sharpness`).

    With text whose strokes were measured (``softness``, see :func:`measure_stroke_softness`)
    the strokes decide: soft strokes are blur however much fine texture the capture keeps, and
    crisp strokes with little second-derivative energy are faint print, not blur, unless the
    energy is below half the limit (a smear). Without text the energy alone decides.
    ``ktp_labels`` (:func:`ktp_labels_read` of a KTP's reading) lets strokes a little soft
    (:func:`blur_awaits_reading`) pass when the card's labels read letter for letter: soft,
    yet every character certain, which an officer accepts.
    """
    limit = thresholds.get("blur", doc_type)
    soft_limit = thresholds.get("blur_soft", doc_type)
    value = round(sharpness, 1)
    if (ktp_labels is not None and blur_awaits_reading(sharpness, softness, thresholds, doc_type)
            and ktp_labels[0] >= KTP_LABELS_LEGIBLE
            and ktp_labels[0] >= KTP_LABELS_LEGIBLE_SHARE * sum(ktp_labels)):
        return CheckResult("blur", True, value, limit,
                           f"Goresan huruf agak lembut (nilai kelembutan {_fmt(softness, 2)}), "
                           f"tetapi {ktp_labels[0]} label kartu terbaca utuh huruf demi huruf: "
                           "tulisannya terbaca.")
    if softness is not None and softness > soft_limit:
        return CheckResult("blur", False, value, limit,
                           f"Tulisan buram: goresan hurufnya lembut (nilai kelembutan "
                           f"{_fmt(softness, 2)}, paling tinggi {_fmt(soft_limit, 2)}). Foto ulang "
                           "dengan kamera diam dan fokus.")
    floor = _SMEARED * limit if softness is not None else limit
    if sharpness < floor:
        return CheckResult("blur", False, value, limit,
                           f"Gambar buram (ketajaman {_fmt(sharpness, 0)}, minimal "
                           f"{_fmt(floor, 0)}). Foto ulang dengan kamera diam dan fokus.")
    if softness is not None:
        return CheckResult("blur", True, value, limit,
                           f"Gambar tajam (ketajaman {_fmt(sharpness, 0)}; goresan huruf tegas, "
                           f"nilai kelembutan {_fmt(softness, 2)}).")
    return CheckResult("blur", True, value, limit, f"Gambar tajam (ketajaman {_fmt(sharpness, 0)}).")


# --- exposure -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExposureMeasure:
    """Light measured inside the document: paper and ink levels, and the glare share."""

    #: Grey level of the paper (90th percentile), 0-255.
    paper: float
    #: Grey level of the darkest print (1st percentile of the marks darker than the paper),
    #: 0-255: over-exposure lifts even the blackest print to grey, while a good capture keeps
    #: some print near black however thin or anti-aliased most of its strokes are.
    ink: float
    #: Share of the document covered by clipped-white glare blobs; 0 when the paper itself is
    #: clipped white (a scan), where glare cannot be told from paper.
    glare: float
    #: Grey level of the brightest marks (99.5th percentile): light print on a dark ground (a
    #: dark-mode screenshot, a negative) keeps it high; an under-exposed capture dims it too.
    highlight: float = 255.0


def measure_exposure(document_gray: np.ndarray) -> ExposureMeasure:
    """Measure exposure on the document only (the normalised crop, never the whole frame)."""
    paper = float(np.percentile(document_gray, 90))
    # Ink is what is clearly darker than the paper; its darkest percent is the print's black.
    # On a washed-out capture even that is light grey. (A plain percentile of the page depends
    # on how much of the page is printed; the low decile of the marks is the grey edge of thin
    # or anti-aliased strokes on many clean real scans.)
    marks = document_gray[document_gray < paper - 30]
    ink = (float(np.percentile(marks, _DARKEST_PRINT)) if marks.size > 0.002 * document_gray.size
           else paper)
    glare = float(glare_spots(document_gray).mean())
    highlight = float(np.percentile(document_gray, 99.5))
    return ExposureMeasure(paper=paper, ink=ink, glare=glare, highlight=highlight)


def glare_spots(document_gray: np.ndarray) -> np.ndarray:
    """Mask (0/1) of the clipped-white spots shaped like a reflection on the document."""
    # On clipped-white paper every pixel of paper is "clipped": counting it would call every
    # good scan glare. Glare is only measurable where the paper sits below the clip level.
    if float(np.median(document_gray)) >= 246:
        return np.zeros(document_gray.shape[:2], dtype=np.uint8)
    clipped = (document_gray >= 250).astype(np.uint8)
    # Specks of clipped noise are not glare; a glare spot is a solid blob.
    clipped = cv2.morphologyEx(clipped, cv2.MORPH_OPEN,
                               cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7)))
    return _soft_edged(_spot_shaped(_drop_border_blobs(clipped)), document_gray)


#: Percentile of the marks taken as the print's black (see :attr:`ExposureMeasure.ink`).
_DARKEST_PRINT = 1.0

#: Grey level just outside a clipped blob above which its edge is a glare's halo: light falls
#: off gradually around a reflection, while a white printed area (a screenshot's panel, a
#: card's white field) meets the print around it at once.
_HALO_LEVEL = 225
#: Grey level of the pixels right against a clipped blob (its first 2-3 px) above which it
#: fades out like a reflection: a white shape of a drawing or a vector illustration has a dark
#: outline there even when the colour a little further out is light.
_HALO_INNER_LEVEL = 238
#: Smallest glare spot, as a share of the document: the white insides of a table's cells or of
#: letters on paper just below clipping are many specks, a reflection is one solid spot.
_MIN_SPOT_SHARE = 0.001
#: Longest long/short ratio of a glare spot: a lamp or flash makes a compact spot, while a
#: clipped band (a card's white stripe, a lit edge) is long and thin.
_MAX_SPOT_ASPECT = 3.0


def _spot_shaped(mask: np.ndarray) -> np.ndarray:
    """``mask`` keeping only the blobs shaped like a glare spot: large enough and compact."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    least = _MIN_SPOT_SHARE * mask.size
    keep = np.zeros(count, dtype=bool)
    for label in range(1, count):
        if stats[label, cv2.CC_STAT_AREA] < least:
            continue
        points = np.column_stack(np.nonzero(labels == label)).astype(np.float32)
        (_, _), (w, h), _ = cv2.minAreaRect(points)
        keep[label] = max(w, h) <= _MAX_SPOT_ASPECT * max(1.0, min(w, h))
    return keep[labels].astype(np.uint8)


def _soft_edged(mask: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """``mask`` keeping only the blobs whose rim, a few pixels outside, is still near white."""
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    if count <= 1:
        return mask
    reach = max(3, round(0.01 * min(gray.shape[:2])))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    inner_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    keep = np.zeros(count, dtype=bool)
    for label in range(1, count):
        blob = (labels == label).astype(np.uint8)
        rim = cv2.dilate(blob, kernel).astype(bool) & ~blob.astype(bool)
        inner = cv2.dilate(blob, inner_kernel).astype(bool) & ~blob.astype(bool)
        keep[label] = (rim.any() and float(np.median(gray[rim])) >= _HALO_LEVEL
                       and float(np.median(gray[inner])) >= _HALO_INNER_LEVEL)
    return keep[labels].astype(np.uint8)


def _drop_border_blobs(mask: np.ndarray) -> np.ndarray:
    """``mask`` without the blobs that touch the frame: white margins and backgrounds around a
    tightly cropped card are paper or table, not glare, which lies on the document."""
    count, labels = cv2.connectedComponents(mask, connectivity=8)
    if count <= 1:
        return mask
    edge = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
    keep = np.ones(count, dtype=bool)
    keep[edge[edge > 0]] = False
    keep[0] = False
    return keep[labels].astype(np.uint8)


#: Brightest marks (see :attr:`ExposureMeasure.highlight`) below which a dark capture is
#: under-exposed; above it the dark ground is the design (light print on dark).
_DARK_HIGHLIGHT = 170.0


def check_exposure(
    measure: ExposureMeasure, thresholds: Thresholds, doc_type: str | None = None
) -> CheckResult:
    """Neither too dark, nor washed out, nor a glare spot over the document."""
    limit = thresholds.get("exposure", doc_type)
    dark = thresholds.get("exposure_dark", doc_type)
    ink_max = thresholds.get("exposure_ink", doc_type)
    value = round(measure.glare, 4)
    if measure.paper < dark and measure.highlight < _DARK_HIGHLIGHT:
        return CheckResult("exposure", False, value, limit,
                           f"Gambar terlalu gelap (kecerahan kertas {measure.paper:.0f} dari 255). "
                           "Foto ulang di tempat yang lebih terang.")
    # Over-exposure clips the paper and lifts the print to grey; clipped paper under black
    # print is just a good scanner.
    if measure.paper >= 250 and measure.ink > ink_max:
        return CheckResult("exposure", False, value, limit,
                           f"Gambar terlalu terang; tulisan pudar (tingkat abu-abu tulisan "
                           f"{measure.ink:.0f}, paling tinggi {ink_max:.0f}). "
                           "Foto ulang tanpa cahaya berlebih.")
    if measure.glare > limit:
        return CheckResult("exposure", False, value, limit,
                           f"Ada pantulan cahaya (silau) menutupi {_fmt(measure.glare * 100)}% "
                           "dokumen. Foto ulang tanpa lampu kilat atau pantulan.")
    return CheckResult("exposure", True, value, limit, "Pencahayaan baik.")


#: 5th percentile of the grey levels in a KTP's photo (see :func:`ktp_photo_box`) from which
#: the photo is washed out by glare: the hair, eyes and clothes of a pass photo keep some of
#: it dark however light the card (real clean KTPs up to 132, a photo lost under glare 197).
KTP_PHOTO_WASHED = 170.0
#: Share of a KTP covered by reflection spots (:func:`glare_spots`) touching its print from
#: which they hide part of it: a KTP's print is small and dense, so a spot far below the
#: general ``exposure`` limit already covers characters (real clean KTPs up to 0.18 %, a spot
#: over the date of issue 0.76 %).
KTP_SPOT_ON_PRINT = 0.004


def ktp_photo_box(nik_words: Sequence[TextWord], reading: TextReading,
                  size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of where a KTP's pass photo lies, placed from its read parts.

    The photo stands right of the NIK's digits (``nik_words``), from the NIK line's top down
    beside the labels and values printed under it; the box spans the middle of that place
    across, and down to 60 % of the printed block. None when the NIK or the lines under it
    were not read, or when the NIK reaches the frame's right edge (no room for a photo).
    """
    if not nik_words:
        return None
    width, height = size
    top = min(w.box[1] for w in nik_words)
    bottom = max(w.box[3] for w in nik_words)
    left = min(w.box[0] for w in nik_words)
    right = max(w.box[2] for w in nik_words)
    # The labels and values under the NIK (left of its end, starting left of its digits).
    block = max((w.box[3] for line in reading.lines for w in line
                 if w.box[1] >= bottom - 2 and w.box[2] <= right + 2 and w.box[0] < left),
                default=None)
    if block is None or block - bottom < bottom - top or right > 0.85 * width:
        return None
    room = width - right
    box = (int(right + 0.2 * room), int(top), int(right + 0.8 * room),
           int(min(height, bottom + 0.6 * (block - bottom))))
    return box if box[2] > box[0] and box[3] > box[1] else None


def check_ktp_glare(document_gray: np.ndarray, reading: TextReading,
                    nik_words: Sequence[TextWord], glare: float) -> CheckResult | None:
    """A failing exposure result when glare hides part of a KTP, else None.

    Judged on the card's parts located from what was read: its pass photo washed out (its
    darkest twentieth lifted to light grey; the card's print stays black), or reflection
    spots lying on its printed lines. ``glare``: the share of the card its reflection spots
    cover (:attr:`ExposureMeasure.glare`), measured already; the spots themselves are found
    again only when they are enough to matter.
    """
    height, width = document_gray.shape[:2]
    box = ktp_photo_box(nik_words, reading, (width, height))
    if box is not None:
        photo = document_gray[box[1]:box[3], box[0]:box[2]]
        if photo.size >= 100:
            darkest = float(np.percentile(photo, 5))
            if darkest >= KTP_PHOTO_WASHED:
                return CheckResult("exposure", False, round(darkest), KTP_PHOTO_WASHED,
                                   f"Foto pada kartu tertutup pantulan cahaya (silau): bagian "
                                   f"tergelap foto hanya {darkest:.0f} dari 255. Foto ulang "
                                   "tanpa lampu kilat atau pantulan.")
    if glare >= KTP_SPOT_ON_PRINT and _touches_print(glare_spots(document_gray), reading):
        return CheckResult("exposure", False, round(glare, 4), KTP_SPOT_ON_PRINT,
                           f"Ada pantulan cahaya (silau) di atas tulisan kartu "
                           f"({_fmt(glare * 100)}% kartu): sebagian tulisan bisa tertutup. "
                           "Foto ulang tanpa lampu kilat atau pantulan.")
    return None


def _touches_print(mask: np.ndarray, reading: TextReading) -> bool:
    """Whether ``mask`` reaches within one and a half line heights of a word read."""
    near = np.zeros_like(mask, dtype=bool)
    for line in reading.lines:
        for word in line:
            if sum(c.isalnum() for c in word.text) < 2:
                continue
            left, top, right, bottom = word.box
            pad = int(1.5 * (bottom - top))
            near[max(0, top - pad):bottom + pad, max(0, left - pad):right + pad] = True
    return bool((mask.astype(bool) & near).any())


# --- skew, crop, blank ----------------------------------------------------------------------


def check_skew(angle: float, thresholds: Thresholds, doc_type: str | None = None) -> CheckResult:
    """The document is tilted less than the threshold, in degrees."""
    limit = thresholds.get("skew", doc_type)
    value = round(abs(angle), 1)
    if value > limit:
        return CheckResult("skew", False, value, limit,
                           f"Dokumen miring {_fmt(value)}° (batas {_fmt(limit)}°). "
                           "Pindai atau foto ulang dengan posisi lurus.")
    return CheckResult("skew", True, value, limit, f"Kemiringan {_fmt(value)}°.")


def check_crop(cut_share: float, thresholds: Thresholds, doc_type: str | None = None) -> CheckResult:
    """Every edge of the document lies inside the frame (share of the border where it is cut)."""
    limit = thresholds.get("crop", doc_type)
    value = round(cut_share, 4)
    if cut_share > limit:
        return CheckResult("crop", False, value, limit,
                           "Tepi dokumen terpotong. Pastikan seluruh dokumen, keempat sisinya, "
                           "masuk dalam gambar.")
    return CheckResult("crop", True, value, limit, "Seluruh tepi dokumen terlihat.")


#: Parts a whole KTP shows, as alternatives: its header (PROVINSI X, then KABUPATEN or KOTA
#: Y), the NIK, and its last lines.
KTP_PARTS: tuple[tuple[str, ...], ...] = (
    ("provinsi", "kabupaten", "kota"), ("nik",),
    ("kewarganegaraan", "berlaku hingga", "seumur hidup"),
)
#: How many of :data:`KTP_PARTS` must be read for the card to count as whole (OCR misses one
#: now and then on a perfectly whole card); the header must be one of them (see
#: :func:`check_crop_content`).
MIN_KTP_PARTS = 2
#: Words printed down a KTP's left side and in its header. One read cut short where it meets
#: the frame's left or right edge ("ama" for "Nama") is the frame cutting into the card's text.
KTP_LABELS = (
    "nik", "nama", "tempat/tgl", "lahir", "jenis", "kelamin", "alamat", "rt/rw", "kel/desa",
    "kecamatan", "agama", "status", "perkawinan", "pekerjaan", "kewarganegaraan", "berlaku",
    "hingga", "provinsi", "kabupaten", "kota",
)
#: Share of the frame's side within which a word counts as touching the edge.
_EDGE_TOUCH = 0.006
#: Share of the frame's width within which labels leading their lines, read cut short, show
#: the frame cutting through a KTP's label column: OCR boxes a cut label from its first whole
#: letter, a few pixels in from the edge (real captures: 4-11 px of 640). A whole card's
#: labels start about 3 % of its width in, where a label read short is OCR dropping a letter.
_LABEL_COLUMN_NEAR = 0.03
#: Share of the frame's long side from its edge beyond which a side of our crop lies inside it.
_INNER_SIDE = 0.02
#: Labels read cut short near the left edge (not touching it) that make a cut: OCR drops a
#: label's first letter on one line now and then, never down the column.
_MIN_CUT_LABELS_NEAR = 2
#: Room a whole KTP (the PROVINSI-headed card) keeps beyond its printed lines, in widths of the
#: NIK's 16 digits (the card's own scale: the NIK is printed at nearly the same place and size
#: on every such card, 41-45 % of its width on real captures cropped to the card): right of
#: the NIK's end for the photo and the card's right margin, and below the last label line
#: (Berlaku Hingga, or Kewarganegaraan when that is the last read) for the signature. Real
#: cards cropped to their own edges keep at least 0.68 and 0.15; cards whose photo or
#: signature the frame cuts 0.63-0.65 and 0.10-0.12 (bench/real, ninth round).
KTP_ROOM_RIGHT_OF_NIK = 0.665
KTP_ROOM_BELOW_LAST_LINE = 0.135
#: The labels of a KTP's last lines, each read as one word (see :func:`_last_line_bottom`).
_KTP_LAST_LABELS = ("kewarganegaraan", "berlaku", "hingga")
#: Words read well enough (see :func:`useful_words`) for a document's text to witness its edges.
MIN_WITNESS_WORDS = 12
#: Words, and lines holding them, read well enough for a document of few words to witness
#: its edges when none of them touches the frame (:data:`MIN_WITNESS_WORDS` when some do).
MIN_CLEAR_WORDS = 3
MIN_CLEAR_LINES = 3
#: Words at the frame's edge a whole page may still show: a cut through the text cuts every
#: line that reaches it, while one or two words there are a caption, a stamp or a page number.
_STRAY_EDGE_WORDS = 2


def useful_words(reading: TextReading) -> int:
    """Words of two or more letters or digits read with a fair confidence (50 or more)."""
    return useful_words_in(w for line in reading.lines for w in line)


def useful_words_in(boxes: Iterable[TextWord]) -> int:
    """:func:`useful_words` among some of a reading's boxes.

    Counted inside each box (rapidocr boxes a phrase, Tesseract a word), so both engines'
    readings compare.
    """
    return sum(sum(1 for token in w.text.split() if sum(c.isalnum() for c in token) >= 2)
               for w in boxes if w.confidence >= 50)


def _lines_read(reading: TextReading) -> int:
    """Lines holding a word of two or more letters or digits read with a fair confidence."""
    return sum(1 for line in reading.lines
               if any(w.confidence >= 50 and sum(c.isalnum() for c in w.text) >= 2
                      for w in line))


def _edge_words(reading: TextReading, frame_size: tuple[int, int]) -> list[tuple[str, str]]:
    """(word, side L/T/R/B) of every fairly read word that touches the frame."""
    width, height = frame_size
    dx, dy = _EDGE_TOUCH * width, _EDGE_TOUCH * height
    out = []
    for line in reading.lines:
        for word in line:
            if word.confidence < 50 or sum(c.isalnum() for c in word.text) < 2:
                continue
            left, top, right, bottom = word.box
            for side, touches in (("L", left <= dx), ("T", top <= dy),
                                  ("R", right >= width - 1 - dx),
                                  ("B", bottom >= height - 1 - dy)):
                if touches:
                    out.append((word.text, side))
    return out


def words_cut_by_outline(reading: TextReading, outline: Outline) -> int:
    """Words read against a side of our crop that lies inside the frame (0 without an outline).

    ``reading`` is of the document :func:`processing.outline.normalise` cut out along a found
    ``outline``. A document's edge never cuts through its print; a side that does, away from
    the frame's edge, is a sleeve's, a shadow's or a printed band's edge taken for the card's.
    """
    if not outline.found:
        return 0
    width, height = outline.document_size
    corners = outline.to_frame(np.array([(0, 0), (width - 1, 0), (width - 1, height - 1),
                                         (0, height - 1)], dtype=np.float32))
    frame_width, frame_height = outline.frame_size
    inner = set()
    for side, (a, b) in zip("TRBL", ((0, 1), (1, 2), (2, 3), (3, 0)), strict=True):
        x, y = (corners[a] + corners[b]) / 2
        if min(x, y, frame_width - 1 - x, frame_height - 1 - y) > _INNER_SIDE * max(outline.frame_size):
            inner.add(side)
    return sum(1 for _, side in _edge_words(reading, (width, height)) if side in inner)


def _cut_labels_near_left(reading: TextReading, frame_width: int) -> list[str]:
    """Labels leading their lines near the frame's left edge, read with their start cut off."""
    out = []
    for line in reading.lines:
        first = min(line, key=lambda word: word.box[0], default=None)
        if (first is not None and first.confidence >= 50 and first.text.split()
                and first.box[0] <= _LABEL_COLUMN_NEAR * frame_width
                and _cut_label(first.text.split()[0], "L")):
            out.append(first.text)
    return out


def _in_frame(reading: TextReading, outline: Outline) -> TextReading:
    """``reading`` with each word boxed where it lies in the frame ``outline`` was found in."""
    words = [word for line in reading.lines for word in line]
    if not words:
        return reading
    corners = np.array([corner for word in words for corner in (
        (word.box[0], word.box[1]), (word.box[2], word.box[1]),
        (word.box[2], word.box[3]), (word.box[0], word.box[3]))])
    placed = iter(outline.to_frame(corners).reshape(-1, 4, 2))

    def framed(word: TextWord) -> TextWord:
        quad = next(placed)
        low, high = quad.min(axis=0), quad.max(axis=0)
        return replace(word, box=(int(low[0]), int(low[1]), int(high[0]), int(high[1])))

    return replace(reading, lines=tuple(tuple(framed(word) for word in line)
                                        for line in reading.lines))


def _top_edge_word(reading: TextReading, frame_height: int) -> str | None:
    """A word of three or more letters, read at any confidence, touching the frame's top."""
    for line in reading.lines:
        for word in line:
            if (word.box[1] <= _EDGE_TOUCH * frame_height
                    and sum(c.isalpha() for c in word.text) >= 3):
                return word.text
    return None


def nik_digits_box(words: Sequence[TextWord]) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a NIK's digits, from the words holding them.

    A word that carries its label ("NIK:3204...", as rapidocr boxes it) starts at its first
    digit, placed by the share of characters before it.
    """
    left = min(w.box[0] + (w.box[2] - w.box[0]) * _first_digit(w.text) / max(1, len(w.text))
               for w in words)
    return (left, min(w.box[1] for w in words), max(w.box[2] for w in words),
            max(w.box[3] for w in words))


def _first_digit(text: str) -> int:
    return next((i for i, c in enumerate(text) if c.isdigit()), 0)


def _last_line_bottom(reading: TextReading, nik: tuple[float, float, float, float]) -> int | None:
    """Bottom of a KTP's last label line read (Kewarganegaraan, Berlaku Hingga), or None.

    Only words starting left of the NIK's digits count: the label column, not the place and
    date of issue under the photo.
    """
    bottoms = [w.box[3] for line in reading.lines for w in line
               if w.box[1] > nik[3] and w.box[0] < nik[0]
               and any(fuzz.ratio("".join(c for c in token.lower() if c.isalpha()), label) >= 80
                       for token in w.text.split() for label in _KTP_LAST_LABELS)]
    return max(bottoms, default=None)


def _ktp_room_cut(reading: TextReading, frame_size: tuple[int, int],
                  nik_words: Sequence[TextWord], outline: Outline | None
                  ) -> tuple[str, float, float] | None:
    """(side, room, limit) where the frame cuts a KTP short of its expected extent, or None.

    The extent is predicted from what was read: a card headed PROVINSI (above its NIK line)
    holds its photo right of the NIK and its signature under the last label line, each in a
    room of a fixed size for the NIK's width (:data:`KTP_ROOM_RIGHT_OF_NIK`,
    :data:`KTP_ROOM_BELOW_LAST_LINE`). Less room than that inside the frame is the card's
    edge, photo or signature cut away, even when every word reads. Other cards (an older
    design headed KARTU TANDA PENDUDUK, a look-alike) are not placed this way. The caller
    asks only when the NIK was read whole (16 digits), so its width is the card's scale.

    The rooms are measured in the uploader's frame (``frame_size``): with an ``outline`` (a
    found one, or None) the document read is our crop of that frame, and a crop that fell
    inside the card (a sleeve's or a shadow's edge taken for the card's) leaves less room
    than the photo did.
    """
    if not nik_words:
        return None
    nik = nik_digits_box(nik_words)
    headed = any(w.box[3] <= nik[1] and fuzz.ratio(token.lower(), "provinsi") >= 80
                 for line in reading.lines for w in line for token in w.text.split())
    if nik[2] <= nik[0] or not headed:
        return None
    middle = (nik[1] + nik[3]) / 2
    last = _last_line_bottom(reading, nik)
    points = [(nik[0], middle), (nik[2], middle)]
    if last is not None:
        points += [(nik[0], last), (nik[0], last + nik[2] - nik[0])]
    if outline is not None:
        points = outline.to_frame(np.array(points))
    start, end = np.asarray(points[0], dtype=float), np.asarray(points[1], dtype=float)
    span = float(np.linalg.norm(end - start))
    right = _room_to_border(end, end - start, frame_size) / span
    if right < KTP_ROOM_RIGHT_OF_NIK:
        return "R", right, KTP_ROOM_RIGHT_OF_NIK
    if last is not None:
        below = np.asarray(points[2], dtype=float)
        room = _room_to_border(below, np.asarray(points[3], dtype=float) - below, frame_size) / span
        if room < KTP_ROOM_BELOW_LAST_LINE:
            return "B", room, KTP_ROOM_BELOW_LAST_LINE
    return None


def _room_to_border(point: np.ndarray, direction: np.ndarray, size: tuple[int, int]) -> float:
    """Distance from ``point`` along ``direction`` to the border of a frame of ``size``."""
    unit = direction / max(float(np.linalg.norm(direction)), 1e-9)
    reach = [(bound - point[axis]) / unit[axis]
             for axis, bound in ((0, size[0] if unit[0] > 0 else 0), (1, size[1] if unit[1] > 0 else 0))
             if abs(unit[axis]) > 1e-9]
    return max(0.0, min(reach))


def _cut_label(word: str, side: str) -> bool:
    """Whether ``word`` is a KTP label cut short by the frame on ``side`` (L: its start lost)."""
    core = "".join(c for c in word.lower() if c.isalpha() or c in "/.")
    if len(core) < 2 or side not in "LR":
        return False
    return any(core != label and (label.endswith(core) if side == "L" else label.startswith(core))
               for label in KTP_LABELS)


def check_crop_content(
    reading: TextReading | None,
    frame_size: tuple[int, int],
    thresholds: Thresholds,
    limits_type: str | None = None,
    *,
    doc_type: str | None = None,
    number_read: bool = False,
    nik_words: Sequence[TextWord] = (),
    outline: Outline | None = None,
    header_read_elsewhere: Callable[[], bool] | None = None,
) -> CheckResult | None:
    """The crop verdict from the document's content, or None when the content cannot tell.

    A KTP (``doc_type``) is cut when a label down its side is read cut short at the frame's
    edge (or two or more down its left side near it: :func:`_cut_labels_near_left`), when
    print touches the frame's top and its PROVINSI line is not read (the header cut through),
    when its NIK and last lines read without its header (unless the other OCR engine reads
    the header: ``header_read_elsewhere``, asked only then, see :func:`ktp_headless`), or
    when the frame leaves less room right of its NIK (``nik_words``) or under its last line
    than a whole card has (:func:`_ktp_room_cut`: its photo, signature or edge cut away); it
    is whole when its header and another of its parts (:data:`KTP_PARTS`; ``number_read``:
    its NIK was read) are read: a card cropped to its own edge, or touching the frame, is the
    normal upload.
    ``reading`` and ``frame_size`` are the document's; with an ``outline`` found, edges and
    rooms are those of the frame it was found in (the uploader's, not our crop of it).
    Another document is whole when its text reads well and at most a stray word or two
    touches the frame (its text block has margins all round), or when a few words read on
    several lines and none touches it. Otherwise the outline's verdict stands: an unreadable
    capture says nothing about its edges.
    """
    if reading is None or not reading.lines:
        return None
    limit = thresholds.get("crop", limits_type)
    # What touches an edge is judged against the uploader's frame: a crop from an outline
    # found inside the card (a sleeve's or a shadow's edge) cuts words the photo holds whole.
    framed = outline if outline is not None and outline.found else None
    seen, seen_size = ((_in_frame(reading, framed), framed.frame_size) if framed is not None
                       else (reading, frame_size))
    edges = _edge_words(seen, seen_size)
    if doc_type == "ktp":
        cut = next((word for word, side in edges if _cut_label(word, side)), None)
        near = _cut_labels_near_left(seen, seen_size[0])
        if cut is None and len(near) >= _MIN_CUT_LABELS_NEAR:
            cut = near[0]
        if cut is not None:
            return CheckResult("crop", False, 1.0, limit,
                               f"Tulisan terpotong di tepi gambar ('{cut}'). Pastikan seluruh "
                               "kartu masuk dalam gambar.")
        flat = " ".join(w.text.lower() for line in reading.lines for w in line)
        top = _top_edge_word(seen, seen_size[1])
        if top is not None and not _has_word(flat, "provinsi"):
            # Print against the frame's top and no PROVINSI line read: the frame cuts through
            # the header (letters cut short read poorly, so any confidence counts here).
            return CheckResult("crop", False, 1.0, limit,
                               f"Bagian atas kartu terpotong: judul PROVINSI tidak terbaca dan "
                               f"tulisan ('{top}') menyentuh tepi atas gambar. Pastikan seluruh "
                               "kartu masuk dalam gambar.")
        room = _ktp_room_cut(reading, seen_size, nik_words, framed) if number_read else None
        if room is not None:
            side, value, room_limit = room
            where = ("Sisi kanan kartu terpotong: foto atau tepi kanan kartu" if side == "R"
                     else "Bagian bawah kartu terpotong: tanda tangan atau tepi bawah kartu")
            return CheckResult("crop", False, round(value, 3), room_limit,
                               f"{where} tidak masuk seluruhnya dalam gambar. Pastikan seluruh "
                               "kartu, keempat tepinya, masuk dalam gambar.")
        found = _ktp_parts_read(reading, number_read)
        if all(found[1:]) and not found[0]:
            if header_read_elsewhere is None or not header_read_elsewhere():
                # The NIK and the last lines read, and nothing of the header printed above
                # them: the frame cut the card's top (OCR reads the header's large capitals
                # first).
                return CheckResult("crop", False, 1.0, limit,
                                   "Bagian atas kartu (judul PROVINSI/KABUPATEN) tidak terlihat. "
                                   "Pastikan seluruh kartu masuk dalam gambar.")
            found[0] = True
        if found[0] and sum(found) >= MIN_KTP_PARTS:
            return CheckResult("crop", True, 0.0, limit,
                               "Bagian utama kartu (judul, NIK, baris terakhir) terbaca di dalam "
                               "gambar.")
        return None
    words = useful_words(reading)
    if len(edges) <= _STRAY_EDGE_WORDS and words >= MIN_WITNESS_WORDS:
        return CheckResult("crop", True, 0.0, limit,
                           "Seluruh tulisan dokumen terbaca di dalam gambar, tidak ada baris yang "
                           "terpotong tepi.")
    if not edges and words >= MIN_CLEAR_WORDS and _lines_read(reading) >= MIN_CLEAR_LINES:
        # A document of few words on several lines (a sign, a poster, a certificate's title
        # and number) whose every word lies clear of the frame: its text block has margins all
        # round, whatever its outline looks like.
        return CheckResult("crop", True, 0.0, limit,
                           "Tulisan dokumen yang terbaca tidak menyentuh tepi gambar.")
    return None


def ktp_headless(reading: TextReading, number_read: bool = False) -> bool:
    """Whether a KTP's NIK and last lines read and its header (PROVINSI, KABUPATEN or KOTA)
    does not: the crop check's "top cut away" (``number_read``: its NIK was read).

    A claim of absence: Tesseract misses the header on soft or glary cards where rapidocr
    reads it whole (bench/real, session 18), so the caller may ask the other engine
    (``header_read_elsewhere`` of :func:`check_crop_content`).
    """
    found = _ktp_parts_read(reading, number_read)
    return all(found[1:]) and not found[0]


def ktp_header_read(reading: TextReading) -> bool:
    """Whether ``reading`` holds a KTP's header (PROVINSI, KABUPATEN or KOTA)."""
    return _ktp_parts_read(reading)[0]


def _ktp_parts_read(reading: TextReading, number_read: bool = False) -> list[bool]:
    """Which of :data:`KTP_PARTS` ``reading`` holds (the NIK's also when its number was read)."""
    flat = " ".join(w.text.lower() for line in reading.lines for w in line)
    found = [any(_has_word(flat, label) for label in options) for options in KTP_PARTS]
    found[1] = found[1] or number_read
    return found


def _has_word(flat: str, label: str) -> bool:
    if len(label) < 7:
        return f" {label}" in f" {flat}"
    return fuzz.partial_ratio(label, flat) >= 86


def measure_blank(document_gray: np.ndarray) -> float:
    """Standard deviation of grey levels once uneven lighting is removed (marks on paper)."""
    gray = document_gray.astype(np.float32)
    # A lighting gradient over an empty page is not content: subtract the smooth background.
    background = cv2.blur(gray, (31, 31))
    return float(np.std(gray - background))


def check_blank(detail: float, thresholds: Thresholds, doc_type: str | None = None) -> CheckResult:
    """The page holds marks, not just paper (see :func:`measure_blank`)."""
    limit = thresholds.get("blank", doc_type)
    value = round(detail, 2)
    if detail < limit:
        return CheckResult("blank", False, value, limit,
                           "Halaman tampak kosong. Periksa apakah berkas yang benar diunggah.")
    return CheckResult("blank", True, value, limit, "Halaman berisi.")


# --- duplicate ------------------------------------------------------------------------------


def main_number(doc_type: str | None, fields: Mapping[str, str]) -> str | None:
    """The number that identifies a document of this type (NIK, KK number, ...), if read."""
    names = MAIN_NUMBER_FIELDS.get(doc_type or "", ()) + _GENERIC_NUMBER_FIELDS
    for name in names:
        value = fields.get(name)
        if value:
            normalised = "".join(value.split()).upper()
            if normalised:
                return normalised
    return None


def check_duplicate(
    *,
    sha256: str,
    known: Sequence[KnownDocument],
    thresholds: Thresholds,
    doc_type: str | None = None,
    number: str | None = None,
    candidate_id: int | None = None,
    phash: str | None = None,
) -> CheckResult:
    """Not already uploaded: same bytes, or same type and number (same or another applicant).

    A close perceptual hash alone is only a hint in the message: two KTPs printed on the same
    template look alike to a pHash and are different documents.
    """
    limit = thresholds.get("duplicate", doc_type)
    for other in known:
        if other.sha256 == sha256:
            return CheckResult("duplicate", False, 0, limit,
                               f"Berkas yang sama persis sudah diunggah (unggahan #{other.upload_id}).")
    if number and doc_type and doc_type != UNKNOWN_TYPE:
        for other in known:
            if other.doc_type != doc_type or not other.number:
                continue
            if "".join(other.number.split()).upper() != number:
                continue
            if candidate_id is not None and other.candidate_id not in (None, candidate_id):
                return CheckResult("duplicate", False, number, limit,
                                   f"Nomor dokumen {number} sudah dipakai pemohon lain "
                                   f"(unggahan #{other.upload_id}). Perlu diperiksa petugas.")
            return CheckResult("duplicate", False, number, limit,
                               f"Dokumen dengan nomor {number} sudah ada "
                               f"(unggahan #{other.upload_id}).")
    closest: tuple[int, KnownDocument] | None = None
    if phash:
        for other in known:
            if other.phash and len(other.phash) == len(phash):
                distance = hamming(phash, other.phash)
                if closest is None or distance < closest[0]:
                    closest = (distance, other)
    if closest is not None and closest[0] <= limit:
        return CheckResult("duplicate", True, closest[0], limit,
                           f"Tidak ada duplikat; tampilannya mirip unggahan "
                           f"#{closest[1].upload_id} (bisa jadi hanya formulir yang sama).")
    return CheckResult("duplicate", True, closest[0] if closest else None, limit,
                       "Tidak ada duplikat.")


# --- text layer, type, legibility -----------------------------------------------------------


def check_text_layer(media_type: str | None, pages_with_text: int, page_count: int) -> CheckResult:
    """Informative: does the PDF carry extractable text, or is it scanned images only?"""
    if media_type != "application/pdf":
        return CheckResult("text_layer", True, None, None, "Bukan PDF; teks dibaca dengan OCR.")
    if pages_with_text == page_count:
        message = "PDF berisi teks yang dapat dibaca mesin."
    elif pages_with_text == 0:
        message = "PDF hanya berisi gambar hasil pindai; teks dibaca dengan OCR."
    else:
        message = (f"{pages_with_text} dari {page_count} halaman PDF berisi teks; "
                   "sisanya gambar hasil pindai.")
    return CheckResult("text_layer", True, f"{pages_with_text}/{page_count}", None, message)


def check_type_match(
    classification: Classification | None,
    slot_type: str | None,
    thresholds: Thresholds,
    doc_types: Sequence[DocTypeSpec] = (),
) -> CheckResult:
    """The document recognised is the one the slot asks for, with enough confidence."""
    names = {spec.code: spec.name for spec in doc_types}
    if classification is None:
        return not_checked("type_match", "teks dokumen tidak dibaca")
    found = classification.doc_type
    limit = thresholds.get("type_match", slot_type)
    value = round(classification.confidence, 3)
    found_name = names.get(found, found)
    if slot_type is None:
        return CheckResult("type_match", True, value, limit,
                           f"Dokumen dikenali sebagai {found_name}.")
    slot_name = names.get(slot_type, slot_type)
    if found == UNKNOWN_TYPE or classification.confidence < limit:
        return CheckResult("type_match", False, value, limit,
                           f"Jenis dokumen tidak dapat dipastikan sebagai {slot_name}; "
                           "perlu diperiksa petugas.")
    if found != slot_type:
        return CheckResult("type_match", False, value, limit,
                           f"Dokumen ini terbaca sebagai {found_name}, bukan {slot_name}. "
                           "Unggah dokumen yang sesuai.")
    return CheckResult("type_match", True, value, limit, f"Dokumen sesuai: {slot_name}.")


#: Fewer words read than this is "almost no text".
MIN_LEGIBLE_WORDS = 3


def check_legible(
    reading: TextReading | None, thresholds: Thresholds, doc_type: str | None = None,
    sharpness: float | None = None, softness: float | None = None,
) -> CheckResult:
    """Enough text was recognised, with a high enough confidence, on strokes sharp enough.

    The score is the mean OCR word confidence, scaled down by the text strokes' sharpness
    (:func:`measure_sharpness`) when it is below the blur limit: rapidocr keeps a high
    confidence on motion-blurred text that Tesseract scores low, so confidence alone makes the
    verdict depend on the engine installed. Not scaled when the strokes were measured crisp
    (``softness``, see :func:`check_blur`): there the low energy is faint print, not blur.

    Not judged (ok, no value) when OCR ran on a sharp picture and found almost no words: it
    holds no text to be legible (a photo, a logo), which the type check refuses, not this one.
    """
    if reading is None:
        return not_checked("legible", "teks dokumen tidak dibaca")
    limit = thresholds.get("legible", doc_type)
    # (Engine "none": OCR was not tried on a capture too small to hold text, which says
    # nothing about whether it has any; it stays refused below.)
    if (reading.word_count < MIN_LEGIBLE_WORDS and reading.engine != "none"
            and sharpness is not None and sharpness >= thresholds.get("blur", doc_type)):
        # Sharp, and still no text: the picture holds none (a photo, a logo, a drawing). Asking
        # for a clearer capture would not help; the type check says it is not the document.
        return not_checked("legible", "gambar tajam tetapi tidak memuat tulisan; jenis "
                                      "dokumennya dinilai oleh pemeriksaan jenis dokumen")
    score = reading.mean_confidence
    if (sharpness is not None and reading.engine not in ("pdf", "none")
            and not _strokes_crisp(sharpness, softness, thresholds, doc_type)):
        score *= min(1.0, max(0.0, sharpness) / thresholds.get("blur", doc_type))
    value = round(score, 1)
    if reading.word_count < MIN_LEGIBLE_WORDS:
        return CheckResult("legible", False, value, limit,
                           "Hampir tidak ada teks yang terbaca. Pindai atau foto ulang dengan jelas.")
    if score < limit:
        return CheckResult("legible", False, value, limit,
                           f"Teks sulit dibaca (nilai keterbacaan {_fmt(score, 0)} dari 100, "
                           f"minimal {_fmt(limit, 0)}; keyakinan OCR "
                           f"{_fmt(reading.mean_confidence, 0)}). Pindai atau foto ulang dengan "
                           "jelas.")
    return CheckResult("legible", True, value, limit,
                       f"Teks terbaca (keyakinan {_fmt(reading.mean_confidence, 0)}).")


# --- what a NIK read in doubt asks of the uploader -------------------------------------------

#: Letter height (original pixels) under which small print is named as why a KTP's NIK read in
#: doubt: on the real set (bench/real, session 24, the form declaring the card's NIK) 4 of the
#: 33 KTPs whose NIK did not pass had letters under 9 px, 9 of the 265 whose NIK passed.
NIK_HINT_LETTER_PX = 9.0
#: Stroke softness from which soft print is named (the blur check fails from ``blur_soft``,
#: 0.45; real clean captures reach 0.44).
NIK_HINT_SOFT = 0.40
#: Failed checks whose own message already says what to mend in the capture.
_CAPTURE_CHECKS = frozenset((*IMAGE_CHECKS, "legible"))


def nik_capture_hint(letter_px: float | None, softness: float | None, glare: float,
                     failed: Iterable[str]) -> str:
    """What the uploader should mend when a KTP's NIK read in doubt, in one sentence.

    The capture's measures name what made the digits hard to read (small print, soft strokes,
    a reflection), though none failed its own check; when one did (``failed``: the names of
    the failed checks), its message already says it and nothing is added. "NIK tidak terbaca
    pasti" alone leaves a company guessing what to photograph again.
    """
    if _CAPTURE_CHECKS & set(failed):
        return ""
    causes = []
    if letter_px is not None and letter_px < NIK_HINT_LETTER_PX:
        causes.append(f"tulisannya kecil (tinggi huruf sekitar {_fmt(letter_px, 0)} piksel), foto "
                      "lebih dekat sehingga kartu memenuhi gambar")
    if softness is not None and softness >= NIK_HINT_SOFT:
        causes.append("goresan hurufnya agak lembut, pastikan kamera diam dan fokus")
    if glare > 0:
        causes.append("ada pantulan cahaya pada kartu, hindari lampu kilat dan cahaya langsung")
    if not causes:
        return "Foto ulang kartu dengan baris NIK terlihat utuh, tajam dan tanpa pantulan cahaya."
    return "Foto ulang kartu: " + "; ".join(causes) + "."
