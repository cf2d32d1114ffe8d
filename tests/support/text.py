"""Helpers for the text tests: generated documents, their layout, cached OCR readings.

OCR takes about a second a page, so each (type, seed, engine) is read once per test session.
"""

from __future__ import annotations

import shutil
from functools import lru_cache

import numpy as np
import pytest

from bench.corpus import CARD_SCALE, CARD_TYPES, PAGE_SCALE, build, render_image
from processing.spec import Layout, TextReading
from processing.text import available_engines, read_text

__all__ = [
    "HAS_TESSERACT",
    "needs_tesseract",
    "needs_ocr",
    "needs_rapidocr",
    "document",
    "layout_of",
    "gray_of",
    "ocr",
]

HAS_TESSERACT = shutil.which("tesseract") is not None

needs_tesseract = pytest.mark.skipif(
    not HAS_TESSERACT,
    reason="tesseract tidak terpasang (apt-get install tesseract-ocr tesseract-ocr-ind)",
)
needs_rapidocr = pytest.mark.skipif(
    "rapidocr" not in available_engines(),
    reason="rapidocr/onnxruntime tidak terpasang (pip install rapidocr onnxruntime)",
)
needs_ocr = pytest.mark.skipif(not available_engines(), reason="tidak ada mesin OCR terpasang")


@lru_cache(maxsize=64)
def document(doc_type: str, seed: int = 0) -> tuple[np.ndarray, dict[str, str], str]:
    """(RGB image, printed fields, ground-truth text) of a generated document."""
    doc, fields = build(doc_type, seed)
    scale = CARD_SCALE if doc_type in CARD_TYPES else PAGE_SCALE
    return np.asarray(render_image(doc, scale)), fields, doc.ground_truth()


def layout_of(rgb: np.ndarray) -> Layout:
    """The layout facts of an uncropped generated image (it is the document itself)."""
    h, w = rgb.shape[:2]
    ratio = max(h, w) / min(h, w)
    rgbf = rgb.astype(float)
    # Saturation as (max - min) / max, the HSV definition, averaged.
    mx, mn = rgbf.max(axis=2), rgbf.min(axis=2)
    sat = float(np.mean(np.where(mx > 0, (mx - mn) / np.maximum(mx, 1), 0)))
    return Layout(aspect_ratio=ratio, is_card=abs(ratio - 1.586) < 0.03, colourfulness=sat)


def gray_of(rgb: np.ndarray) -> np.ndarray:
    """ITU-R 601 luma, as OpenCV's grayscale conversion."""
    return (rgb @ np.array([0.299, 0.587, 0.114])).round().astype(np.uint8)


@lru_cache(maxsize=64)
def ocr(doc_type: str, seed: int = 0, engine: str = "auto") -> TextReading:
    """OCR reading of a generated document (cached for the session)."""
    rgb, _fields, _truth = document(doc_type, seed)
    return read_text(gray_of(rgb), engine)
