"""Reading the text of a document: OCR of a scan, or the text layer of a PDF.

Two OCR engines, both offline: Tesseract (the ``tesseract`` command, Debian's tesseract-ocr with
the Indonesian traineddata) and rapidocr on onnxruntime (models ship in the wheel). The default
is chosen from measurements on the synthetic corpus (``bench.ocr``, 64 clean images, two
cores): Tesseract took 1.09 s a document against 3.08 s for rapidocr, with the same
classification (macro-F1 1.0) and NIK reads (100 %) and better word recall (0.989 against
0.938: rapidocr glues labels to values), so it is preferred when installed and rapidocr is the
fallback on machines without it.

Everything here is pure given its arguments; the environment variable ``OCR_ENGINE`` is read only
by the application's settings (OCR_ENGINE), checked by :func:`check_engine` and passed on.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import os
import shutil
import subprocess
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from pengesahan.errors import EngineUnavailable, ProcessingError
from processing.spec import TextReading, TextWord

__all__ = [
    "ENGINES",
    "PREFERENCE",
    "available_engines",
    "check_engine",
    "resolve_engine",
    "read_text",
    "read_digits",
    "lift_print",
    "detect_orientation",
    "pdf_text_reading",
    "normalise_scale",
]

#: Engines this module knows.
ENGINES = ("tesseract", "rapidocr")
#: Order of preference for ``auto``, fastest accurate first (see the module docstring).
PREFERENCE = ("tesseract", "rapidocr")

#: Height in pixels that capitals and digits are scaled to before OCR, per engine. Tesseract
#: reads best with capitals around 20-40 px; rapidocr resizes each line to 48 px itself, so
#: its detector only needs legible glyphs and smaller images run faster (bench.ocr).
TARGET_GLYPH_HEIGHT = {"tesseract": 28.0, "rapidocr": 18.0}
#: Never scale further than this, so that an odd page (a photo, a logo) is not blown up.
MIN_SCALE, MAX_SCALE = 0.3, 3.0

#: Tesseract languages wanted, in order; the ones installed are used.
TESSERACT_LANGS = ("ind", "eng")
#: Page segmentation mode: 3 (automatic, no OSD) handles letters, tables and cards; the single
#: block modes (4, 6) merge the KTP's photo caption into the field lines.
TESSERACT_PSM = 3
TESSERACT_TIMEOUT_S = 60


def available_engines() -> list[str]:
    """The OCR engines usable on this machine, in order of preference."""
    found = []
    for engine in PREFERENCE:
        if engine == "tesseract" and _tesseract_binary() is not None:
            found.append(engine)
        elif engine == "rapidocr" and _rapidocr_importable():
            found.append(engine)
    return found


def check_engine(value: str | None) -> str:
    """``value`` as an engine choice (tesseract, rapidocr or auto; auto when empty)."""
    value = (value or "auto").strip().lower() or "auto"
    if value not in (*ENGINES, "auto"):
        raise ProcessingError(
            f"OCR_ENGINE tidak dikenal: {value!r} (pilihan: tesseract, rapidocr, auto)."
        )
    return value


def resolve_engine(engine: str | None = "auto") -> str:
    """The concrete engine to use for ``engine`` (``auto``/None: the first available)."""
    available = available_engines()
    if engine in (None, "auto"):
        if not available:
            raise EngineUnavailable(
                "Tidak ada mesin OCR: pasang tesseract-ocr atau paket rapidocr dan onnxruntime."
            )
        return available[0]
    if engine not in ENGINES:
        raise ProcessingError(f"Mesin OCR tidak dikenal: {engine!r}.")
    if engine not in available:
        raise EngineUnavailable(f"Mesin OCR {engine} tidak terpasang di mesin ini.")
    return engine


def read_text(gray: np.ndarray, engine: str | None = "auto") -> TextReading:
    """OCR of a grayscale uint8 image already cropped to the document.

    ``engine`` is ``tesseract``, ``rapidocr`` or ``auto`` (the first of :func:`available_engines`).
    """
    if gray.ndim != 2:
        raise ProcessingError("Gambar untuk OCR harus grayscale (2 dimensi).")
    if gray.dtype != np.uint8:
        gray = np.clip(gray, 0, 255).astype(np.uint8)
    chosen = resolve_engine(engine)
    img = normalise_scale(gray, TARGET_GLYPH_HEIGHT[chosen])
    reading = _read_tesseract(img) if chosen == "tesseract" else _read_rapidocr(img)
    return _scale_boxes(reading, gray.shape[0] / max(1, img.shape[0]))


def lift_print(bgr: np.ndarray) -> np.ndarray:
    """Grey image in which coloured print is lifted towards white and black text stays dark.

    The brightest channel of each pixel: a KTP's light-blue guilloche, its coloured seals and
    a BPJS card's green bands are bright in at least one channel, black or dark-grey text in
    none. A grey input is returned as is.
    """
    if bgr.ndim == 2:
        return bgr
    return np.ascontiguousarray(bgr.max(axis=2))


#: Height in pixels a single line is scaled to before its digits are read on their own.
DIGIT_LINE_HEIGHT = 48


def read_digits(gray: np.ndarray, engine: str | None = "auto") -> tuple[str, float]:
    """(digits, confidence 0-100) of one line of digits, e.g. a KTP's NIK cropped alone.

    Read on its own the line is not confused with its neighbours, and Tesseract is told to see
    digits only (``tessedit_char_whitelist``), which stops the 3/8, 6/0, 2/7 guesses a whole
    card read makes; rapidocr has no whitelist, so its letters are dropped.
    """
    if gray.ndim != 2 or gray.size == 0:
        return "", 0.0
    chosen = resolve_engine(engine)
    factor = DIGIT_LINE_HEIGHT / max(1, gray.shape[0])
    if not 0.8 <= factor <= 1.25:
        gray = cv2.resize(gray, None, fx=factor, fy=factor,
                          interpolation=cv2.INTER_CUBIC if factor > 1 else cv2.INTER_AREA)
    # A white border: both engines lose glyphs that touch the frame.
    gray = cv2.copyMakeBorder(gray, 12, 12, 12, 12, cv2.BORDER_REPLICATE)
    if chosen == "tesseract":
        reading = _read_tesseract(gray, psm=7, extra=("-c", "tessedit_char_whitelist=0123456789"))
        text, confidence = reading.text, reading.mean_confidence
    else:
        text, confidence = _recognise_rapidocr_line(gray)
    return "".join(ch for ch in text if ch.isdigit()), confidence


#: Least Tesseract OSD orientation confidence trusted (its own scale; 2 is its usual cut-off).
MIN_OSD_CONFIDENCE = 2.0


def detect_orientation(gray: np.ndarray, min_confidence: float | None = None) -> int | None:
    """Degrees (0, 90, 180, 270) the content is turned clockwise, by Tesseract's OSD.

    None when Tesseract (or its ``osd`` data) is missing or the page holds too little text to
    tell; the caller then judges from the image alone.
    """
    binary = _tesseract_binary()
    if binary is None or gray.ndim != 2 or gray.size == 0:
        return None
    img = normalise_scale(gray, TARGET_GLYPH_HEIGHT["tesseract"])
    ok, png = cv2.imencode(".png", img)
    if not ok:
        return None
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        proc = subprocess.run([binary, "stdin", "stdout", "--psm", "0"], input=png.tobytes(),
                              capture_output=True, timeout=TESSERACT_TIMEOUT_S, env=env,
                              check=False)
    except subprocess.TimeoutExpired:
        return None
    out = proc.stdout.decode("utf-8", "replace")
    rotate = confidence = None
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Rotate":
            rotate = int(value.strip())
        elif key.strip() == "Orientation confidence":
            confidence = float(value.strip())
    least = MIN_OSD_CONFIDENCE if min_confidence is None else min_confidence
    if rotate is None or confidence is None or confidence < least:
        return None
    # OSD says how far to turn the image clockwise to fix it; the content is turned the rest.
    return (360 - rotate) % 360


def _scale_boxes(reading: TextReading, factor: float) -> TextReading:
    if not reading.lines or abs(factor - 1.0) < 1e-6:
        return reading
    lines = tuple(
        tuple(TextWord(w.text, w.confidence, tuple(int(round(v * factor)) for v in w.box))
              for w in line)
        for line in reading.lines
    )
    return TextReading(reading.text, reading.mean_confidence, reading.word_count, reading.engine,
                       lines)


def pdf_text_reading(text: str) -> TextReading:
    """A reading from a PDF text layer: exact text, so confidence 100."""
    words = text.split()
    return TextReading(text=text, mean_confidence=100.0, word_count=len(words), engine="pdf")


def normalise_scale(gray: np.ndarray, target: float = 28.0) -> np.ndarray:
    """Resize so that capitals and digits are about ``target`` pixels high.

    Scans come at any resolution; OCR time grows with the pixel count while accuracy only needs
    legible glyphs, so a page at 600 dpi is shrunk and a small phone crop is enlarged.
    """
    height = _median_glyph_height(gray)
    if height is None:
        return gray
    scale = float(np.clip(target / height, MIN_SCALE, MAX_SCALE))
    if 0.8 <= scale <= 1.25:
        return gray
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp)


def _median_glyph_height(gray: np.ndarray) -> float | None:
    # Measured on a reduced copy: component heights only need to be roughly right.
    h, w = gray.shape
    factor = max(1, int(max(h, w) // 1600))
    small = gray[::factor, ::factor] if factor > 1 else gray
    _, binary = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, _labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count < 10:
        return None
    hs = stats[1:, cv2.CC_STAT_HEIGHT].astype(float)
    ws = stats[1:, cv2.CC_STAT_WIDTH].astype(float)
    # Glyph-like components: not specks, not lines or photos.
    keep = (hs >= 4) & (hs <= small.shape[0] / 8) & (ws <= hs * 3) & (ws >= 1)
    if keep.sum() < 10:
        return None
    # The upper part of the distribution: capitals and digits rather than x-height letters.
    return float(np.percentile(hs[keep], 75)) * factor


# --- Tesseract ----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _tesseract_binary() -> str | None:
    return shutil.which("tesseract")


@lru_cache(maxsize=1)
def _tesseract_langs() -> str:
    binary = _tesseract_binary()
    if binary is None:
        return "eng"
    out = subprocess.run(
        [binary, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
    ).stdout
    installed = {line.strip() for line in out.splitlines()[1:]}
    wanted = [lang for lang in TESSERACT_LANGS if lang in installed]
    return "+".join(wanted) or "eng"


def _read_tesseract(gray: np.ndarray, psm: int = TESSERACT_PSM,
                    extra: tuple[str, ...] = ()) -> TextReading:
    binary = _tesseract_binary()
    if binary is None:
        raise EngineUnavailable("Tesseract tidak terpasang.")
    ok, png = cv2.imencode(".png", gray)
    if not ok:
        raise ProcessingError("Gambar tidak dapat disiapkan untuk OCR.")
    # One thread per call: the worker runs documents in parallel, and Tesseract's OpenMP
    # threads only add contention on small images.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    cmd = [binary, "stdin", "stdout", "-l", _tesseract_langs(), "--psm", str(psm), *extra, "tsv"]
    try:
        proc = subprocess.run(
            cmd, input=png.tobytes(), capture_output=True, timeout=TESSERACT_TIMEOUT_S, env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ProcessingError("OCR melebihi batas waktu.") from exc
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip()[-200:]
        raise ProcessingError(f"OCR Tesseract gagal: {detail}")
    return _parse_tesseract_tsv(proc.stdout.decode("utf-8", "replace"))


def _parse_tesseract_tsv(tsv: str) -> TextReading:
    lines: dict[tuple[int, int, int, int], list[TextWord]] = {}
    confidences: list[float] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5":
            continue
        word = (row.get("text") or "").strip()
        conf = float(row.get("conf") or -1)
        if not word or conf < 0:
            continue
        key = (int(row["page_num"]), int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        left, top = int(row["left"]), int(row["top"])
        box = (left, top, left + int(row["width"]), top + int(row["height"]))
        lines.setdefault(key, []).append(TextWord(word, conf, box))
        confidences.append(conf)
    text = "\n".join(" ".join(w.text for w in words) for words in lines.values())
    mean = float(np.mean(confidences)) if confidences else 0.0
    return TextReading(text=text, mean_confidence=mean, word_count=len(confidences),
                       engine="tesseract", lines=tuple(tuple(words) for words in lines.values()))


# --- rapidocr -----------------------------------------------------------------------------


def _rapidocr_importable() -> bool:
    return (
        importlib.util.find_spec("rapidocr") is not None
        and importlib.util.find_spec("onnxruntime") is not None
    )


@lru_cache(maxsize=1)
def _rapidocr_engine() -> Any:
    # Imported lazily: loading onnxruntime and the models takes about a second and is not
    # needed on machines that use Tesseract.
    from rapidocr import RapidOCR  # heavy (onnxruntime, models): only where OCR runs on it

    # The angle classifier is off: documents arrive upright (deskewed by the image half), and
    # on the corpus it flipped whole lines of a letter by 180 degrees, garbling them.
    return RapidOCR(params={"Global.log_level": "error", "Global.use_cls": False})


def _read_rapidocr(gray: np.ndarray) -> TextReading:
    if not _rapidocr_importable():
        raise EngineUnavailable("rapidocr tidak terpasang.")
    bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    try:
        # Every step named on every call: the engine keeps the last call's choices
        # (:func:`_recognise_rapidocr_line` turns detection off).
        result = _rapidocr_engine()(bgr, use_det=True, use_cls=False, use_rec=True)
    except Exception as exc:  # the engine raises assorted errors on odd input
        raise ProcessingError("OCR rapidocr gagal membaca gambar.") from exc
    boxes = getattr(result, "boxes", None)
    txts = getattr(result, "txts", None) or ()
    scores = getattr(result, "scores", None) or ()
    if boxes is None or not txts:
        return TextReading(text="", mean_confidence=0.0, word_count=0, engine="rapidocr")
    items = []
    for box, txt, score in zip(boxes, txts, scores, strict=False):
        pts = np.asarray(box, dtype=float)
        items.append((pts[:, 1].min(), pts[:, 1].max(), pts[:, 0].min(), str(txt), float(score),
                      pts[:, 0].max()))
    rows = _group_rows(items)
    text = "\n".join(" ".join(t[3] for t in row) for row in rows)
    words = text.split()
    # Scores are per detected box; weigh them by words so the mean matches Tesseract's meaning.
    weights = [max(1, len(t[3].split())) for t in items]
    mean = 100.0 * float(np.average([t[4] for t in items], weights=weights))
    lines = tuple(
        tuple(TextWord(t[3], 100.0 * t[4], (int(t[2]), int(t[0]), int(t[5]), int(t[1])))
              for t in row)
        for row in rows
    )
    return TextReading(text=text, mean_confidence=mean, word_count=len(words), engine="rapidocr",
                       lines=lines)


def _recognise_rapidocr_line(gray: np.ndarray) -> tuple[str, float]:
    """(text, confidence 0-100) of an image holding one line, by rapidocr's recogniser alone.

    The text detector is skipped: the line is already cut out, and detection on a small crop
    costs twenty times the recognition (it enlarges the image to its working size).
    """
    if not _rapidocr_importable():
        raise EngineUnavailable("rapidocr tidak terpasang.")
    try:
        result = _rapidocr_engine()(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), use_det=False,
                                    use_cls=False, use_rec=True)
    except Exception as exc:  # the engine raises assorted errors on odd input
        raise ProcessingError("OCR rapidocr gagal membaca gambar.") from exc
    txts = getattr(result, "txts", None) or ()
    scores = getattr(result, "scores", None) or ()
    if not txts:
        return "", 0.0
    return " ".join(str(t) for t in txts), 100.0 * float(np.mean(scores)) if scores else 0.0


def _group_rows(items: list[tuple[float, float, float, str, float]]) -> list[list[tuple]]:
    """Boxes into reading rows: a box joins a row when it overlaps the row's vertical span by half."""
    rows: list[list[tuple]] = []
    for item in sorted(items, key=lambda t: (t[0] + t[1]) / 2):
        top, bottom = item[0], item[1]
        if rows:
            r_top = min(t[0] for t in rows[-1])
            r_bottom = max(t[1] for t in rows[-1])
            overlap = min(bottom, r_bottom) - max(top, r_top)
            if overlap > 0.5 * min(bottom - top, r_bottom - r_top):
                rows[-1].append(item)
                continue
        rows.append([item])
    return [sorted(row, key=lambda t: t[2]) for row in rows]
