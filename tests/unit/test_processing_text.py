"""OCR of generated documents with the real engines, and the engine selection."""

from __future__ import annotations

import numpy as np
import pytest

from pengesahan.errors import ProcessingError
from processing.text import (
    available_engines,
    check_engine,
    normalise_scale,
    pdf_text_reading,
    read_text,
    resolve_engine,
)
from tests.support.text import document, gray_of, needs_rapidocr, needs_tesseract, ocr


def test_pdf_text_reading_is_exact():
    reading = pdf_text_reading("SURAT TUGAS\nNomor : 001/ST/I/2026")
    assert reading.engine == "pdf"
    assert reading.mean_confidence == 100.0
    assert reading.word_count == 5


def test_check_engine():
    assert check_engine(None) == "auto"
    assert check_engine(" Tesseract ") == "tesseract"
    assert check_engine("rapidocr") == "rapidocr"
    with pytest.raises(ProcessingError, match="OCR_ENGINE"):
        check_engine("easyocr")


def test_resolve_engine_refuses_unknown():
    with pytest.raises(ProcessingError):
        resolve_engine("easyocr")
    assert set(available_engines()) <= {"tesseract", "rapidocr"}


def test_read_text_refuses_colour_image():
    with pytest.raises(ProcessingError, match="grayscale"):
        read_text(np.zeros((10, 10, 3), dtype=np.uint8))


def test_normalise_scale_shrinks_large_text():
    gray = np.full((1200, 1600), 255, dtype=np.uint8)
    for row in range(40, 1100, 120):  # rows of 80 px tall "glyphs"
        for col in range(20, 1560, 40):
            gray[row : row + 80, col : col + 25] = 0
    out = normalise_scale(gray, 28.0)
    assert 350 < out.shape[0] < 500  # glyphs 80 -> 28 px


@needs_tesseract
def test_tesseract_reads_ktp():
    _rgb, fields, _truth = document("ktp", 0)
    reading = ocr("ktp", 0, "tesseract")
    assert reading.engine == "tesseract"
    assert fields["nik"] in reading.text.replace(" ", "")
    assert fields["name"] in reading.text
    assert reading.mean_confidence > 80
    assert reading.word_count > 30


@needs_tesseract
def test_tesseract_blank_page_reads_nothing():
    reading = read_text(np.full((800, 600), 255, dtype=np.uint8), "tesseract")
    assert reading.word_count == 0
    assert reading.mean_confidence == 0.0


@needs_rapidocr
def test_rapidocr_reads_ktp():
    rgb, fields, _truth = document("ktp", 1)
    reading = read_text(gray_of(rgb), "rapidocr")
    assert reading.engine == "rapidocr"
    assert fields["nik"] in reading.text.replace(" ", "")
    assert reading.mean_confidence > 80


def test_tesseract_runs_one_thread_a_call_whatever_the_environment(monkeypatch):
    # Workers run side by side, one per core: a Tesseract spreading a page over every core
    # would make each wait for the other. The edge we do not own (the process) is captured.
    import subprocess

    import processing.text as text

    calls = []

    def run(cmd, **kwargs):
        if "stdin" in cmd:  # a page read or an orientation asked; not the language listing
            calls.append(kwargs.get("env") or {})
        return subprocess.CompletedProcess(cmd, 0, stdout=b"", stderr=b"")

    monkeypatch.setenv("OMP_THREAD_LIMIT", "8")
    monkeypatch.setattr(text, "_tesseract_binary", lambda: "tesseract")
    monkeypatch.setattr(text.subprocess, "run", run)
    text._read_tesseract(np.full((60, 200), 255, np.uint8))
    text.detect_orientation(np.full((60, 200), 255, np.uint8))
    assert [env.get("OMP_THREAD_LIMIT") for env in calls] == ["1", "1"]
