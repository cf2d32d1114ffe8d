"""Bench of the text half: Tesseract against rapidocr on the synthetic corpus.

For each engine: seconds per document, character accuracy against the printed text, word
recall, classification macro-F1 (with per-type precision and recall) and the exact-match rate
of the NIK read. The PDFs of the corpus are classified from their text layer too. Each figure
of one engine has the other engine's as its baseline.

``python -m bench.ocr [--per-type N] [--seed S]`` prints the figures and the per-type table.
"""

from __future__ import annotations

import argparse
import collections
import random
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz.distance import Levenshtein

from bench import figure
from bench.corpus import BUILDERS, CARD_TYPES, Sample, build, generate
from processing.classify import DEFAULT_DOC_TYPES, classify
from processing.fields import extract_fields
from processing.spec import Layout, TextReading
from processing.text import available_engines, pdf_text_reading, read_text

__all__ = [
    "Measurement",
    "run",
    "measure",
    "macro_f1",
    "per_type_scores",
    "noisy_text_macro_f1",
    "main",
]

#: Types whose label carries the NIK of the document's subject.
_NIK_TYPES = ("ktp", "ak1", "bpjs_tk", "surat_izin", "surat_sehat", "perjanjian_penempatan",
              "surat_permohonan", "surat_tugas", "surat_pengangkatan", "pkwt")


@dataclass(frozen=True)
class Measurement:
    """What one engine made of one sample."""

    sample: Sample
    engine: str
    seconds: float
    predicted: str
    char_accuracy: float
    word_recall: float
    nik_ok: bool | None


def layout_of_image(bgr: np.ndarray) -> Layout:
    """Layout of a generated image, which is the whole document (no outline to find)."""
    h, w = bgr.shape[:2]
    ratio = max(h, w) / min(h, w)
    sat = float(cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)[:, :, 1].mean() / 255)
    return Layout(aspect_ratio=ratio, is_card=abs(ratio - 1.586) < 0.03, colourfulness=sat)


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def char_accuracy(read: str, truth: str) -> float:
    """1 - edit distance / length of the truth, on whitespace-collapsed text (floor 0)."""
    truth_flat, read_flat = _flat(truth), _flat(read)
    if not truth_flat:
        return 1.0 if not read_flat else 0.0
    return max(0.0, 1.0 - Levenshtein.distance(read_flat, truth_flat) / len(truth_flat))


def word_recall(read: str, truth: str) -> float:
    """Share of the printed words found among the words read (order ignored)."""
    truth_words = collections.Counter(truth.split())
    read_words = collections.Counter(read.split())
    total = sum(truth_words.values())
    return sum((truth_words & read_words).values()) / total if total else 1.0


def _reading_of(sample: Sample, engine: str) -> tuple[TextReading, Layout, float]:
    if sample.path.suffix == ".pdf":
        import pdfplumber

        start = time.perf_counter()
        with pdfplumber.open(sample.path) as pdf:
            text = "\n".join(page.extract_text() or "" for page in pdf.pages)
            page = pdf.pages[0]
            ratio = max(page.width, page.height) / min(page.width, page.height)
        reading = pdf_text_reading(text)
        return reading, Layout(ratio, False, 0.0), time.perf_counter() - start
    bgr = cv2.imread(str(sample.path), cv2.IMREAD_COLOR)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    start = time.perf_counter()
    reading = read_text(gray, engine)
    return reading, layout_of_image(bgr), time.perf_counter() - start


def measure(samples: Sequence[Sample], engine: str) -> list[Measurement]:
    """Read, classify and extract every sample with ``engine`` (PDFs: their text layer)."""
    out = []
    for sample in samples:
        reading, layout, seconds = _reading_of(sample, engine)
        result = classify(reading, layout, DEFAULT_DOC_TYPES)
        nik_ok = None
        if sample.doc_type in _NIK_TYPES and "nik" in sample.fields:
            nik_ok = extract_fields(reading.text, sample.doc_type).get("nik") == sample.fields["nik"]
        out.append(Measurement(
            sample=sample,
            engine=reading.engine,
            seconds=seconds,
            predicted=result.doc_type,
            char_accuracy=char_accuracy(reading.text, sample.text),
            word_recall=word_recall(reading.text, sample.text),
            nik_ok=nik_ok,
        ))
    return out


def per_type_scores(rows: Sequence[Measurement]) -> dict[str, tuple[float, float, float]]:
    """Precision, recall and F1 per true type code."""
    codes = sorted({r.sample.doc_type for r in rows})
    scores = {}
    for code in codes:
        tp = sum(1 for r in rows if r.sample.doc_type == code and r.predicted == code)
        fp = sum(1 for r in rows if r.sample.doc_type != code and r.predicted == code)
        fn = sum(1 for r in rows if r.sample.doc_type == code and r.predicted != code)
        p = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        scores[code] = (p, rc, 2 * p * rc / (p + rc) if p + rc else 0.0)
    return scores


def macro_f1(rows: Sequence[Measurement]) -> float:
    """Unweighted mean of the per-type F1."""
    scores = per_type_scores(rows)
    return float(np.mean([f for _p, _r, f in scores.values()])) if scores else 0.0


def _add_noise(text: str, rng: random.Random, rate: float, drop: float) -> str:
    """OCR-like damage: lines lost, characters swapped for look-alikes, dropped or padded."""
    lookalikes = "il1|oO0sS5bB8eca "
    lines = [line for line in text.splitlines() if rng.random() >= drop]
    out = []
    for ch in "\n".join(lines):
        r = rng.random()
        if r < rate / 3:
            out.append(rng.choice(lookalikes))
        elif r < 2 * rate / 3:
            continue
        elif r < rate:
            out.append(ch + rng.choice(".,' "))
        else:
            out.append(ch)
    return "".join(out)


def noisy_text_macro_f1(rate: float, drop: float, per_type: int = 6, seed: int = 3) -> float:
    """Classification macro-F1 on printed text damaged at ``rate`` per character and ``drop``
    per line: how far the fuzzy keywords carry beyond clean scans (no OCR, fast)."""
    rng = random.Random(seed)
    rows = []
    for code in BUILDERS:
        for i in range(per_type):
            doc, _fields = build(code, 10_000 + seed * 100 + i)
            card = code in CARD_TYPES
            layout = Layout(1.586 if card else 1.414, card, 0.3 if card else 0.01)
            text = _add_noise(doc.ground_truth(), rng, rate, drop)
            reading = TextReading(text, 60.0, len(text.split()), "noise")
            sample = Sample(Path(f"{code}_{i}.txt"), code, {}, doc.ground_truth())
            rows.append(Measurement(sample, "noise", 0.0, classify(reading, layout).doc_type,
                                    0.0, 0.0, None))
    return macro_f1(rows)




def _summary(rows: Sequence[Measurement]) -> dict[str, float]:
    images = [r for r in rows if r.sample.path.suffix != ".pdf"]
    niks = [r.nik_ok for r in images if r.nik_ok is not None]
    return {
        "seconds_per_document": float(np.mean([r.seconds for r in images])),
        "char_accuracy": float(np.mean([r.char_accuracy for r in images])),
        "word_recall": float(np.mean([r.word_recall for r in images])),
        "classify_macro_f1": macro_f1(images),
        "nik_exact_match": float(np.mean(niks)) if niks else 0.0,
    }


_UNITS = {"seconds_per_document": "s", "char_accuracy": "ratio", "word_recall": "ratio",
          "classify_macro_f1": "ratio", "nik_exact_match": "ratio"}


def run(per_type: int = 4, seed: int = 7, engines: Sequence[str] | None = None,
        details: dict | None = None) -> list[dict]:
    """Measure both engines on a fresh corpus and return the figures.

    ``details``, when given, receives the measurements per engine (for the per-type table).
    """
    engines = list(engines or available_engines())
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        samples = generate(Path(tmp), per_type, seed)
        images = [s for s in samples if s.path.suffix != ".pdf"]
        pdfs = [s for s in samples if s.path.suffix == ".pdf"]
        results = {engine: measure(images, engine) for engine in engines}
        pdf_rows = measure(pdfs, engines[0]) if engines else []
    if details is not None:
        details.update(results)
        details["pdf"] = pdf_rows
    summaries = {engine: _summary(rows) for engine, rows in results.items()}
    figures = []
    for engine, summary in summaries.items():
        other = next((e for e in summaries if e != engine), engine)
        for key, value in summary.items():
            figures.append(figure(f"ocr.{key}.{engine}", value, _UNITS[key],
                                   f"ocr.{key}.{other}", summaries[other][key]))
    if pdf_rows:
        f1 = macro_f1(pdf_rows)
        figures.append(figure("ocr.classify_macro_f1.pdf_text_layer", f1, "ratio",
                               f"ocr.classify_macro_f1.{engines[0]}",
                               macro_f1([r for r in results[engines[0]]
                                         if r.sample.doc_type in {p.sample.doc_type for p in pdf_rows}])))
    clean = noisy_text_macro_f1(0.0, 0.0)
    for rate, drop in ((0.1, 0.2), (0.2, 0.4)):
        figures.append(figure(
            f"classify.macro_f1.noisy_text_{int(rate * 100)}pct_chars_{int(drop * 100)}pct_lines",
            noisy_text_macro_f1(rate, drop), "ratio", "classify.macro_f1.printed_text", clean))
    return figures


def main(argv: list[str] | None = None) -> int:
    """Command line: print the figures and, per engine, precision/recall per type."""
    parser = argparse.ArgumentParser(description="Bench OCR: Tesseract lawan rapidocr.")
    parser.add_argument("--per-type", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", action="append", choices=("tesseract", "rapidocr"))
    args = parser.parse_args(argv)
    details: dict = {}
    for fig in run(args.per_type, args.seed, args.engine, details):
        base = fig["baseline"]
        print(f"{fig['name']}: {fig['value']} {fig['unit']} "
              f"(baseline {base['name']} {base['value']}, ratio {fig['ratio']})")
    for engine, rows in details.items():
        print(f"\n{engine}: type precision recall f1")
        for code, (p, r, f) in per_type_scores(rows).items():
            print(f"  {code:24s} {p:.2f} {r:.2f} {f:.2f}")
        for row in rows:
            if row.predicted != row.sample.doc_type:
                print(f"  salah: {row.sample.path.name} -> {row.predicted}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
