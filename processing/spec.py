"""Shared data of the processing package: document types, thresholds, results.

Plain frozen dataclasses, no I/O. The records layer stores the configurable parts (document
types, thresholds) and hands them in as these types; nothing here knows about the database.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

#: The check codes of the shared vocabulary, in the order they are reported.
CHECK_CODES = (
    "format",
    "size",
    "resolution",
    "blur",
    "exposure",
    "skew",
    "crop",
    "blank",
    "duplicate",
    "text_layer",
    "type_match",
    "nik",
    "legible",
)
#: The checks judged on the image alone (no OCR), one verdict per page.
IMAGE_CHECKS = ("resolution", "blur", "exposure", "skew", "crop", "blank")

#: What an officer returns a capture for, and the checks any of which failing it means the
#: triage saw the same defect. The officers' verdicts measure the checks by it (the dashboard),
#: and so does the real-scan calibration set (bench.real).
DEFECT_CHECKS: dict[str, tuple[str, ...]] = {
    "blur": ("blur", "legible"),
    "glare": ("exposure",),
    "dark": ("exposure",),
    "skew": ("skew",),
    "cropped": ("crop",),
    "low_resolution": ("resolution",),
    "blank": ("blank",),
    "duplicate": ("duplicate",),
    "wrong_type": ("type_match",),
    "nik_mismatch": ("nik",),
}
#: The defects in the officers' words.
DEFECT_LABELS = {
    "blur": "Buram",
    "glare": "Silau",
    "dark": "Terlalu gelap",
    "skew": "Miring",
    "cropped": "Terpotong",
    "low_resolution": "Resolusi rendah",
    "blank": "Halaman kosong",
    "duplicate": "Duplikat",
    "wrong_type": "Salah jenis dokumen",
    "nik_mismatch": "NIK berbeda",
}

#: The largest upload accepted, in bytes (SIAPkerja: 5 MB).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024

#: Media types accepted at intake, judged by content.
ALLOWED_MEDIA_TYPES = ("image/jpeg", "image/png", "application/pdf")

UNKNOWN_TYPE = "unknown"


@dataclass(frozen=True)
class DocTypeSpec:
    """One document type as configured by the office (low-code, edited in the admin)."""

    #: Code from the shared vocabulary, e.g. ``ktp``.
    code: str
    #: Name shown to officers, e.g. ``KTP``.
    name: str
    #: Lower-case words or phrases whose presence in the text points to this type.
    keywords: tuple[str, ...] = ()
    #: ``card`` (ID-1 sized: KTP, BPJS card), ``page`` (A4/F4 letter) or ``any``.
    layout: str = "any"
    #: Media types allowed for this type.
    allowed_media_types: tuple[str, ...] = ALLOWED_MEDIA_TYPES


@dataclass(frozen=True)
class Thresholds:
    """Limits used by the checks; the office edits them in the admin.

    ``values`` maps a check code to its number; ``per_type`` overrides it for one document type,
    as ``{(doc_type, check): value}``. Missing entries fall back to :data:`DEFAULT_THRESHOLDS`.
    """

    values: dict[str, float] = field(default_factory=dict)
    per_type: dict[tuple[str, str], float] = field(default_factory=dict)

    def get(self, check: str, doc_type: str | None = None) -> float:
        """The threshold of ``check`` for ``doc_type`` (type override, then value, then default)."""
        if doc_type is not None and (doc_type, check) in self.per_type:
            return self.per_type[(doc_type, check)]
        if check in self.values:
            return self.values[check]
        return DEFAULT_THRESHOLDS[check]


#: Defaults; the one place thresholds are written down. Seeded into the admin configuration.
#: Units: resolution = shorter side of the document in original pixels; blur = sharpness, the
#: weaker directional second-derivative energy over the document's content tiles
#: (processing.checks.measure_sharpness; it sees motion blur, the plain Laplacian does not);
#: exposure = share of glare (compact, soft-edged clipped-white spots) inside the document
#: outline; skew = degrees; crop = share of the frame's border where the document (or its
#: print) is cut, on a scan also where a text line sits hard against the top or bottom edge
#: (processing.outline); blank =
#: standard deviation of grey levels once the lighting is removed; duplicate = Hamming distance
#: of perceptual hashes (a hint only); legible = mean OCR word confidence (0-100); type_match =
#: classifier confidence.
#: Added by processing: exposure_dark = least grey level of the paper (under-exposure);
#: exposure_ink = highest grey level of the darkest print (1st percentile of the marks) when
#: the paper is clipped white (washed out); real clean scans keep it at 0-45 whatever their
#: stroke width, washed-out captures lift it to 65-110; blur_soft = highest softness of the
#: text strokes (processing.checks.measure_stroke_softness, 0 crisp to 1 flat, letters brought
#: to 14 px): real clean captures keep it at 0.09-0.44, soft ones reach 0.45-0.56.
#: Values calibrated on the defect corpus (bench.defects, bench.processing).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "resolution": 500.0,
    "blur": 400.0,
    "blur_soft": 0.45,
    "exposure": 0.015,
    "exposure_dark": 110.0,
    "exposure_ink": 55.0,
    "skew": 5.0,
    "crop": 0.002,
    "blank": 5.0,
    "duplicate": 6.0,
    "legible": 60.0,
    "type_match": 0.5,
}


@dataclass(frozen=True)
class FormData:
    """What the dossier's form says, to compare with what a scan shows."""

    nik: str | None = None
    name: str | None = None
    birth_date: dt.date | None = None
    #: ``L`` (laki-laki) or ``P`` (perempuan).
    sex: str | None = None
    kk_number: str | None = None

    @property
    def nik_digits(self) -> str | None:
        """The form's NIK as its digits alone (typed with spaces or dots); None when not given."""
        return re.sub(r"\D", "", self.nik) if self.nik else None


@dataclass(frozen=True)
class KnownDocument:
    """A document already in the dossier (or elsewhere), for the duplicate check."""

    upload_id: int
    sha256: str
    doc_type: str | None = None
    #: Main number read from it (NIK, KK number, certificate number...), if any.
    number: str | None = None
    #: Applicant (CPMI) it belongs to.
    candidate_id: int | None = None
    #: Perceptual hash as hex, if it is an image.
    phash: str | None = None


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: ok or not, what was measured, against what, and why."""

    name: str
    ok: bool
    value: Any = None
    threshold: Any = None
    #: Message in Bahasa Indonesia an officer and a CPMI understand.
    message: str = ""
    #: Failed by the office's defect model (processing.quality), not by the rules.
    by_model: bool = False

    def as_dict(self) -> dict[str, Any]:
        result = {
            "name": self.name,
            "ok": self.ok,
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
        }
        if self.by_model:
            result["by_model"] = True
        return result


@dataclass(frozen=True)
class Layout:
    """Layout facts the classifier uses besides the text."""

    #: Long side / short side of the document outline (or of the image when none was found).
    aspect_ratio: float
    #: True when the outline looks like an ID-1 card.
    is_card: bool
    #: Mean saturation 0-1 (KTP and BPJS cards are coloured; letters are mostly white).
    colourfulness: float
    page_count: int = 1


@dataclass(frozen=True)
class TextWord:
    """One word (Tesseract) or detected text box (rapidocr) with where it is."""

    text: str
    #: Confidence 0-100.
    confidence: float
    #: (left, top, right, bottom) in pixels of the image given to the OCR.
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class TextReading:
    """Text read from a page, by the PDF text layer or by OCR."""

    text: str
    #: Mean word confidence 0-100 (100 for a PDF text layer).
    mean_confidence: float
    word_count: int
    #: ``pdf`` (text layer), ``tesseract`` or ``rapidocr``.
    engine: str
    #: The words of each line of :attr:`text`, in reading order, with their boxes (OCR only).
    lines: tuple[tuple[TextWord, ...], ...] = ()


@dataclass(frozen=True)
class Classification:
    """Which document a scan is, with a confidence 0-1 and the reasons in words."""

    doc_type: str
    confidence: float
    reasons: tuple[str, ...] = ()


_TURNS = {90: "terputar 90° searah jarum jam", 180: "terbalik (terputar 180°)",
          270: "terputar 90° berlawanan arah jarum jam"}


def capture_correction(rotation: int | None, mirrored: bool | None) -> str | None:
    """What was done to a capture turned ``rotation`` degrees clockwise (after a mirror flip when
    ``mirrored``) before it was checked, for the officer and the P3MI: the stored image is the
    capture set right, and a mirror image says a front camera (or a photo of a screen) was used.
    None when the capture lay as it should, or was analysed before this was kept."""
    said = []
    done = []
    if mirrored:
        said.append("tercermin (kiri-kanan terbalik, seperti foto kamera depan)")
        done.append("dibalik")
    if rotation in _TURNS:
        said.append(_TURNS[rotation])
        done.append("ditegakkan")
    if not said:
        return None
    return f"Gambar {' dan '.join(said)}; {' dan '.join(done)} sebelum diperiksa."
