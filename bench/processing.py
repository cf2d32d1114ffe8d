"""Bench of the image half of the first pass: speed, memory, and detection per check.

Figures (each ``{"name", "value", "unit", "baseline": {"name", "value"}, "ratio"}``):

* throughput of one worker (files/s) on a mix of a KTP photo, a scanned letter and a PDF;
* the pipeline's time on a 12 MP photo against the raw work it cannot avoid (a full decode,
  plus OCR of the document when an engine is installed): the overhead ratio, aim <= 1.3;
* peak memory (VmHWM) of a worker process analysing a 12 MP photo (aim < 400 MB), against the
  same process that only imported everything;
* per check, the detection rate on its defects (aim >= 0.9) and the false-alarm rate on
  samples that should pass it (aim <= 0.05), from :mod:`bench.defects` over :mod:`bench.corpus`.

``python -m bench.processing [--per-type N] [--no-ocr]``
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from bench import defects, figure
from processing.spec import IMAGE_CHECKS

__all__ = ["IMAGE_CHECKS", "detection_rates", "main", "photo_12mp", "run"]

DETECTION_AIM = 0.9
FALSE_ALARM_AIM = 0.05
_ROOT = Path(__file__).resolve().parent.parent




def _jpeg(bgr: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


def _analyse(data: bytes, slot_type: str | None = None, ocr: bool = False):
    from processing.classify import DEFAULT_DOC_TYPES
    from processing.pipeline import analyse
    from processing.spec import Thresholds

    return analyse(data, slot_type=slot_type, form=None, known=(), thresholds=Thresholds(),
                   doc_types=DEFAULT_DOC_TYPES, ocr=ocr)


def photo_12mp(seed: int = 1) -> bytes:
    """A 12 MP (3000×4000) phone photo of a letter on a table, JPEG quality 90."""
    from bench import corpus

    doc, _ = corpus.build("surat_permohonan", seed)
    page = cv2.cvtColor(np.asarray(corpus.render_image(doc, 300 / 72)), cv2.COLOR_RGB2BGR)
    rng = random.Random(seed)
    photo = defects.photo_of(defects.as_scan(page, rng), rng)
    return _jpeg(cv2.resize(photo, (3000, 4000), interpolation=cv2.INTER_AREA))


def _best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _speed_figures(ocr: bool) -> list[dict]:
    from processing.imaging import fit_long_side

    data = photo_12mp()
    figures = []
    raw_decode = _best_of(lambda: cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
    pipeline_no_ocr = _best_of(lambda: _analyse(data, ocr=False))
    figures.append(figure("processing.photo_12mp.pipeline_without_ocr", pipeline_no_ocr, "s",
                           "processing.photo_12mp.raw_full_decode", raw_decode))
    if ocr:
        from processing.text import read_text

        def raw_work() -> None:
            full = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
            read_text(fit_long_side(full, 1600))

        baseline = _best_of(raw_work, 2)
        pipeline = _best_of(lambda: _analyse(data, slot_type="surat_permohonan", ocr=True), 2)
        figures.append(figure("processing.photo_12mp.pipeline_with_ocr", pipeline, "s",
                               "processing.photo_12mp.raw_decode_plus_ocr", baseline))
    return figures


def _throughput_figure(ocr: bool) -> dict:
    from bench import corpus
    from tests.support.images import text_pdf

    rng = random.Random(5)
    files = []
    for doc_type, scale in (("ktp", 1000 / corpus.CARD_SIZE[0]), ("surat_tugas", 200 / 72)):
        doc, _ = corpus.build(doc_type, 3)
        bgr = cv2.cvtColor(np.asarray(corpus.render_image(doc, scale)), cv2.COLOR_RGB2BGR)
        files.append(_jpeg(defects.photo_of(defects.as_scan(bgr, rng), rng)))
    files.append(text_pdf(2))
    start = time.perf_counter()
    for data in files:
        _analyse(data, ocr=ocr)
    per_second = len(files) / (time.perf_counter() - start)
    return [
        figure("processing.files_per_second_per_worker" + ("" if ocr else ".no_ocr"),
               per_second, "files/s", "aim", 1.0),
        _two_worker_figure(files * 3, ocr),
    ]


def _two_worker_figure(files: list[bytes], ocr: bool) -> dict:
    """Speed-up of two worker processes over one in steady state (2 cores: at most 2).

    Each of the two processes analyses the whole of ``files`` (the second starting half-way
    through the list), against one process analysing it once: twice the work in the time
    measured. Splitting one list between the two would also time the end of the batch, when one
    process has finished its share and waits for the other's last photo; a worker serving a
    queue that keeps filling does not wait so, and with nine files that wait was a tenth of
    the run.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    half = len(files) // 2
    seconds = {}
    for workers in (1, 2):
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            list(pool.map(_analyse_all, [files[:2]] * workers, [ocr] * workers))  # warm both
            orders = [files, files[half:] + files[:half]][:workers]
            start = time.perf_counter()
            list(pool.map(_analyse_all, orders, [ocr] * workers))
            seconds[workers] = time.perf_counter() - start
    return figure("processing.two_workers_speedup", 2 * seconds[1] / seconds[2], "x",
                  "processing.one_worker", 1.0)


def _analyse_all(files: list[bytes], ocr: bool) -> None:
    for data in files:
        _analyse(data, ocr=ocr)


# VmHWM (peak resident set) of the child's own address space: ru_maxrss would do on a fresh
# process, but Linux carries the forking parent's high-water mark into it.
_MEMORY_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from processing import pipeline, classify, spec
data = open({path!r}, "rb").read()
if {run}:
    pipeline.analyse(data, slot_type=None, form=None, known=(), thresholds=spec.Thresholds(),
                     doc_types=classify.DEFAULT_DOC_TYPES, ocr={ocr})
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        print(int(line.split()[1]))
"""


def _memory_figure(ocr: bool, tmp: Path) -> dict:
    path = tmp / "photo_12mp.jpg"
    path.write_bytes(photo_12mp())

    def peak_mb(run: bool) -> float:
        script = _MEMORY_SCRIPT.format(root=str(_ROOT), path=str(path), run=run, ocr=ocr)
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True)
        return int(out.stdout.strip().splitlines()[-1]) / 1024  # KiB

    return figure("processing.photo_12mp.peak_rss", peak_mb(True), "MB",
                   "processing.imports_only.peak_rss", peak_mb(False))


def detection_rates(samples: Sequence[defects.DefectSample], ocr: bool = False,
                    checks: Sequence[str] = IMAGE_CHECKS) -> dict[str, dict[str, float]]:
    """Per check: detection on samples targeting it, false alarms on samples that must pass it."""
    hits: dict[str, list[bool]] = defaultdict(list)
    alarms: dict[str, list[bool]] = defaultdict(list)
    missed: dict[str, list[str]] = defaultdict(list)
    for sample in samples:
        result = _analyse(_jpeg(sample.bgr), slot_type=sample.doc_type, ocr=ocr)
        for name in checks:
            failed = not result.check(name).ok
            if name in sample.targets:
                hits[name].append(failed)
                if not failed:
                    missed[name].append(sample.name)
            elif name not in sample.side_effects:
                alarms[name].append(failed)
                if failed:
                    missed[name + ".false_alarm"].append(sample.name)
    return {
        name: {
            "detection": float(np.mean(hits[name])) if hits[name] else float("nan"),
            "false_alarm": float(np.mean(alarms[name])) if alarms[name] else float("nan"),
            "targets": len(hits[name]),
            "negatives": len(alarms[name]),
            "missed": missed[name],
            "false_alarms": missed[name + ".false_alarm"],
        }
        for name in checks
    }


#: Ways a capture lies (mirrored, clockwise turn) that the pipeline must set right: a phone
#: held sideways or upside down, a front camera's mirror image, one flipped top to bottom.
WAYS_CAPTURED = ((False, 90), (False, 180), (False, 270), (True, 0), (True, 180))


def orientation_rates(samples: Sequence[defects.DefectSample]) -> dict[str, dict[str, float]]:
    """How often clean scans captured the wrong way round are set right (with OCR), and how
    often an upright one is turned or flipped (a false alarm)."""
    right: list[bool] = []
    wrong: list[bool] = []
    missed: list[str] = []
    alarms: list[str] = []
    for sample in samples:
        upright = _analyse(_jpeg(sample.bgr), slot_type=sample.doc_type, ocr=True)
        wrong.append((upright.mirrored, upright.rotation) != (False, 0))
        if wrong[-1]:
            alarms.append(sample.name)
        for way in WAYS_CAPTURED:
            mirrored, rotation = way
            result = _analyse(_jpeg(defects.wrong_way_round(sample.bgr, rotation, mirrored)),
                              slot_type=sample.doc_type, ocr=True)
            right.append((result.mirrored, result.rotation) == way)
            if not right[-1]:
                missed.append(f"{sample.name}/{'mirrored+' if way[0] else ''}{way[1]}")
    return {"orientation": {"detection": float(np.mean(right)) if right else float("nan"),
                            "false_alarm": float(np.mean(wrong)) if wrong else float("nan"),
                            "targets": len(right), "negatives": len(wrong),
                            "missed": missed, "false_alarms": alarms}}


def run(per_type: int = 1, ocr: bool | None = None, details: dict | None = None) -> list[dict]:
    """Measure everything and return the figures (``details`` receives the misses per check)."""
    import tempfile

    from processing.text import available_engines

    if ocr is None:
        ocr = bool(available_engines())
    figures = _throughput_figure(ocr)
    figures += _speed_figures(ocr)
    with tempfile.TemporaryDirectory(prefix="bench-processing-") as tmp:
        figures.append(_memory_figure(ocr, Path(tmp)))
    samples = defects.defect_corpus(defects.clean_documents(per_type))
    rates = detection_rates(samples)
    if ocr:
        # OCR is slow: the legibility gate is measured on the blur defects and clean scans of
        # a few types, which is where it earns its keep (motion blur).
        subset = [s for s in samples if s.defect in ("clean", "gaussian_blur", "motion_blur")
                  and s.doc_type in ("ktp", "surat_permohonan", "kartu_keluarga", "pkwt")]
        relabelled = [defects.DefectSample(s.name, s.doc_type, s.defect, s.bgr,
                                           ("legible",) if s.targets else (), ())
                      for s in subset]
        rates.update(detection_rates(relabelled, ocr=True, checks=("legible",)))
        rates.update(orientation_rates([s for s in subset if s.defect == "clean"]))
    if details is not None:
        details.update(rates)
    for name, rate in rates.items():
        figures.append(figure(f"processing.check.{name}.detection", rate["detection"], "ratio",
                               "aim", DETECTION_AIM))
        figures.append(figure(f"processing.check.{name}.false_alarm", rate["false_alarm"],
                               "ratio", "aim", FALSE_ALARM_AIM))
    return figures


def main(argv: list[str] | None = None) -> int:
    """Command line: print the figures, then the misses and false alarms per check."""
    parser = argparse.ArgumentParser(description="Bench pemeriksaan gambar dan kecepatan pipeline.")
    parser.add_argument("--per-type", type=int, default=1)
    parser.add_argument("--no-ocr", action="store_true")
    args = parser.parse_args(argv)
    details: dict = {}
    for fig in run(args.per_type, False if args.no_ocr else None, details):
        base = fig["baseline"]
        print(f"{fig['name']}: {fig['value']} {fig['unit']} "
              f"(baseline {base['name']} {base['value']}, ratio {fig['ratio']})")
    for name, rate in details.items():
        if rate["missed"] or rate["false_alarms"]:
            print(f"\n{name}: lolos {rate['missed']} / alarm palsu {rate['false_alarms']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
