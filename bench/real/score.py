"""Score the project's scan triage on the real-scan calibration set (issue #11).

``python -m bench.real.score [--images DIR] [--nik-truth FILE] [--jobs N] [--save PRED.json]``
``python -m bench.real.score --predictions PRED.json [--nik-truth FILE]``  (re-score, no OCR)

Each image of ``bench/real/manifest.json`` goes through :func:`processing.pipeline.analyse`
exactly as an upload to a KTP slot would (default thresholds and document types, OCR on, the
form's data as ``--form`` says), and the verdicts are compared with the hand labels:

* document type: precision and recall per class (``ktp``, ``kartu_keluarga``, ``other``:
  anything that is neither), the macro-F1 over them, and the refusal rate of look-alikes
  (``lookalike_*``: NPWP, SIM, foreign IDs, templates... must not be taken for a KTP);
* image checks: the false-alarm rate of every check on the images labelled clean, and the
  recall of every labelled defect by the check that should see it;
* files intake refuses by their content (a WebP, even named ``.jpg``) are counted apart: the
  product tells their uploader to send a JPG, PNG or PDF, and never triages them;
* NIK (only with ``--nik-truth``, the private file that never enters the repository): the
  exact-match rate of the NIK read, and how many wrong NIKs the ``nik`` check let pass.

Every real upload comes with its dossier's form, whose NIK the ``nik`` check holds the card
against; ``--form`` (with the truth file) says what that form declares for each image with a
known NIK: ``none`` (no form, the default), ``declared`` (the card's own NIK: an honest
company), ``another`` (the NIK of another card of the set: another person's card uploaded for
this CPMI) or ``twin`` (the card's NIK with its last digit changed: a twin's card, same region
and birth date, the next serial). Under ``another`` and ``twin`` every pass is a wrong NIK.
The form also carries the birth date and sex the declared NIK encodes, as the portal requires
them beside it (:func:`declared_form`). Under ``declared`` the images labelled defective that
no check holds (``passed_as_clean``) are the captures an officer would receive all green.

The images are not in the repository (people's data): without them this says how to get them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from bench.real.materialize import DEFAULT_IMAGES, DEFAULT_MANIFEST, fetch_hint
from processing.spec import DEFECT_CHECKS as SPEC_DEFECT_CHECKS
from processing.spec import IMAGE_CHECKS, FormData

__all__ = ["CHECKS", "DEFECT_CHECKS", "main", "predict", "score"]

#: Checks whose false alarms on clean images are counted.
CHECKS = (*IMAGE_CHECKS, "legible")
#: The defects of the capture itself, which the image checks are there to see.
IMAGE_DEFECTS = ("blur", "glare", "dark", "skew", "cropped", "low_resolution")
#: Labelled defect -> the checks any of which catching it counts as a detection: the image
#: defects as the officers' verdicts count them (processing.spec), and the rotations and mirror
#: images, caught by the orientation the pipeline reports (the whole of it: a frame flipped top to
#: bottom is set right by a flip and a turn). Perspective is corrected, not refused.
DEFECT_CHECKS: dict[str, tuple[str, ...]] = {
    **{defect: SPEC_DEFECT_CHECKS[defect] for defect in IMAGE_DEFECTS},
    "rotated_90": ("rotation",),
    "rotated_180": ("rotation",),
    "rotated_270": ("rotation",),
    "mirrored": ("rotation",),
}
TYPE_CLASSES = ("ktp", "kartu_keluarga", "other")
#: Splits of the set: ``holdout`` is a quarter chosen by sha256 (never inspected image by image
#: while tuning), ``tune`` the rest; ``all`` both.
SPLITS = ("all", "tune", "holdout")
#: What the form declares as the CPMI's NIK in a run (see the module's docstring).
FORMS = ("none", "declared", "another", "twin")


def in_split(entry: dict, split: str) -> bool:
    """Whether a manifest entry belongs to ``split`` (a fixed function of its sha256)."""
    holdout = int(entry["sha256"][:8], 16) % 4 == 0
    return split == "all" or (split == "holdout") == holdout


def _expected_class(label: str) -> str:
    return label if label in ("ktp", "kartu_keluarga") else "other"


def _predicted_class(doc_type: str | None) -> str:
    return doc_type if doc_type in ("ktp", "kartu_keluarga") else "other"


def predict(path: str, form_nik: str | None = None) -> dict[str, Any]:
    """The pipeline's verdict on one image file, as plain data; ``form_nik``: the NIK the
    dossier's form declares (None: no form)."""
    from processing.classify import DEFAULT_DOC_TYPES
    from processing.pipeline import analyse
    from processing.spec import Thresholds

    started = time.perf_counter()
    data = Path(path).read_bytes()
    form = declared_form(form_nik) if form_nik else None
    result = analyse(data, slot_type="ktp", form=form, known=(), thresholds=Thresholds(),
                     doc_types=DEFAULT_DOC_TYPES, ocr=True)
    return {
        "type": result.doc_type,
        "confidence": result.confidence,
        "checks": {c.name: {"ok": c.ok, "value": c.value, "message": c.message}
                   for c in result.checks},
        "nik": result.fields.get("nik"),
        "rotation": result.rotation,
        "mirrored": result.mirrored,
        "error": result.error,
        # The numbers the office's defect models read (bench/real/learnt.py).
        "features": result.quality_features,
        "seconds": round(time.perf_counter() - started, 2),
    }


def declared_form(nik: str) -> FormData:
    """The form of a dossier whose CPMI record holds ``nik``: the portal requires the birth
    date and sex beside it, as SIAPkerja holds them, so they are the ones the NIK encodes
    (none when its date part is not a date: a specimen's NIK)."""
    from processing.fields import parse_nik

    try:
        info = parse_nik(nik)
    except ValueError:
        return FormData(nik=nik)
    return FormData(nik=nik, birth_date=info.birth_date, sex=info.sex)


def _predict_entry(args: tuple[str, str, str | None]) -> tuple[str, dict[str, Any]]:
    sha, path, form_nik = args
    try:
        return sha, predict(path, form_nik)
    except Exception as exc:  # noqa: BLE001 - one crash is a figure, not the end of the run
        return sha, {"crash": repr(exc)}


#: Clockwise turn a viewer applies for an EXIF orientation (the pipeline applies it on decode).
_EXIF_TURN = {3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}


def _expected_rotation(entry: dict) -> int:
    """Clockwise turn of the content left after EXIF (labels describe the raw pixels)."""
    labelled = next((int(d.rsplit("_", 1)[1]) for d in entry["labels"]["defects"]
                     if d.startswith("rotated_")), 0)
    return (labelled + _EXIF_TURN.get(entry.get("exif_orientation") or 1, 0)) % 360


def _expected_orientation(entry: dict) -> tuple[bool, int]:
    """(mirrored, clockwise turn) that sets the frame right, as the pipeline reports them."""
    return "mirrored" in entry["labels"]["defects"], _expected_rotation(entry)


def _orientation(prediction: dict) -> tuple[bool, int]:
    return bool(prediction.get("mirrored")), prediction.get("rotation") or 0


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def score(images: list[dict], preds: dict[str, dict], nik_truth: dict[str, str] | None = None
          ) -> dict[str, Any]:
    """The figures of the report from per-image predictions keyed by sha256."""
    scored = [(e, preds[e["sha256"]]) for e in images if e["sha256"] in preds]
    crashes = [e["file"] for e, p in scored if "crash" in p]
    scored = [(e, p) for e, p in scored if "crash" not in p]
    # A file intake refuses by its content (WebP, even named .jpg) never reaches the triage: its
    # uploader is told to send a JPG, PNG or PDF. Scored with the rest it would count as a type
    # and every labelled defect missed by checks that never ran.
    at_intake = [e["file"] for e, p in scored if not p["checks"].get("format", {"ok": True})["ok"]]
    scored = [(e, p) for e, p in scored if e["file"] not in at_intake]
    # Types.
    pairs = [(_expected_class(e["labels"]["type"]), _predicted_class(p.get("type")))
             for e, p in scored]
    per_type = {}
    f1s = []
    for cls in TYPE_CLASSES:
        tp = sum(t == cls and q == cls for t, q in pairs)
        fp = sum(t != cls and q == cls for t, q in pairs)
        fn = sum(t == cls and q != cls for t, q in pairs)
        prec, rec = _rate(tp, tp + fp), _rate(tp, tp + fn)
        f1 = 2 * prec * rec / (prec + rec) if prec and rec else 0.0
        f1s.append(f1)
        per_type[cls] = {"support": tp + fn, "precision": prec, "recall": rec, "f1": f1}
    lookalikes = [p for e, p in scored if e["labels"]["type"].startswith("lookalike_")]
    refused = sum(p.get("type") != "ktp" for p in lookalikes)
    confusion: dict[str, Counter] = {}
    for e, p in scored:
        confusion.setdefault(e["labels"]["type"], Counter())[p.get("type") or "none"] += 1
    # Image checks.
    clean = [p for e, p in scored if e["labels"]["clean"]]
    false_alarms = {}
    for check in CHECKS:
        fired = sum(not p["checks"][check]["ok"] for p in clean)
        false_alarms[check] = {"clean": len(clean), "fired": fired,
                               "rate": _rate(fired, len(clean))}
    defects = {}
    for defect, checks in DEFECT_CHECKS.items():
        having = [(e, p) for e, p in scored if defect in e["labels"]["defects"]
                  and (not defect.startswith("rotated_") or _expected_rotation(e))]
        if not having:
            continue
        caught = 0
        for e, p in having:
            if checks == ("rotation",):
                caught += _orientation(p) == _expected_orientation(e)
            else:
                caught += any(not p["checks"][c]["ok"] for c in checks)
        defects[defect] = {"support": len(having), "caught": caught,
                           "recall": _rate(caught, len(having))}
        if checks != ("rotation",):
            # What the uploader sees: a capture any check refuses is sent back, whatever the
            # reason given; one that passes them all reaches the officer as clean.
            defects[defect]["held"] = sum(any(not p["checks"][c]["ok"] for c in CHECKS) for _, p in having)
    # Every check counted, the nik and type_match too: what passes them all reaches the officer
    # all green, whatever the capture's defect.
    defective = [(e, p) for e, p in scored
                 if any(d in e["labels"]["defects"] for d in IMAGE_DEFECTS)]
    passed_as_clean = sorted(e["file"] for e, p in defective
                             if all(c["ok"] for c in p["checks"].values()))
    set_wrong = sum(_orientation(p) != (False, 0) for e, p in scored
                    if _expected_orientation(e) == (False, 0))
    report: dict[str, Any] = {
        "scored": len(scored), "missing": len(images) - len(scored) - len(crashes) - len(at_intake),
        "crashes": crashes, "refused_at_intake": at_intake,
        "types": per_type, "type_macro_f1": sum(f1s) / len(f1s),
        "lookalike_refusal": {"n": len(lookalikes), "refused": refused,
                              "rate": _rate(refused, len(lookalikes))},
        "confusion": {k: dict(v) for k, v in sorted(confusion.items())},
        "false_alarms_on_clean": false_alarms,
        "defect_recall": defects,
        "orientation_false_alarms": set_wrong,
        "passed_as_clean": {"defective": len(defective), "files": passed_as_clean},
        "clean_accuracy": _rate(sum(
            (all(p["checks"][c]["ok"] for c in CHECKS) and _orientation(p) == (False, 0))
            == e["labels"]["clean"] for e, p in scored), len(scored)),
        "seconds_per_image": _rate(sum(p.get("seconds", 0.0) for _, p in scored), len(scored)),
    }
    if nik_truth is not None:
        with_truth = [(nik_truth[e["sha256"]], p) for e, p in scored if e["sha256"] in nik_truth]
        exact = sum(p.get("nik") == truth for truth, p in with_truth)
        wrong_passed = 0
        for e, p in scored:
            nik = p["checks"]["nik"]
            if p.get("type") == "kartu_keluarga":
                continue  # its nik check's value is the KK number, held against the form
            if nik["ok"] and nik["value"] and nik["value"] != nik_truth.get(e["sha256"]):
                wrong_passed += 1
        right_passed = sum(p["checks"]["nik"]["ok"] and p["checks"]["nik"]["value"] == truth
                           for truth, p in with_truth)
        report["nik"] = {"with_truth": len(with_truth), "exact": exact,
                         "exact_rate": _rate(exact, len(with_truth)),
                         "right_nik_passed": right_passed, "wrong_nik_passed": wrong_passed}
    return report


def declared_niks(form: str, nik_truth: dict[str, str]) -> dict[str, str]:
    """sha256 -> the NIK the form declares for that image under ``form`` (see :data:`FORMS`)."""
    if form == "declared":
        return dict(nik_truth)
    if form == "twin":
        return {sha: nik[:-1] + str(int(nik[-1]) + 1 if nik[-1] != "9" else 8)
                for sha, nik in nik_truth.items()}
    if form == "another":
        # Each card's form names the next card's NIK (the same card photographed twice skipped).
        shas = sorted(nik_truth)
        declared = {}
        for i, sha in enumerate(shas):
            others = (nik_truth[shas[(i + k) % len(shas)]] for k in range(1, len(shas)))
            declared[sha] = next(n for n in others if n != nik_truth[sha])
        return declared
    return {}


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_report(rep: dict[str, Any]) -> None:
    """The report in a few lines."""
    print(f"scored {rep['scored']}, missing {rep['missing']}, crashes {len(rep['crashes'])}, "
          f"refused at intake (not triaged) {len(rep['refused_at_intake'])}, "
          f"{_fmt(rep['seconds_per_image'])} s/image")
    for cls, s in rep["types"].items():
        print(f"  type {cls:15s} support {s['support']:3d}  precision {_fmt(s['precision'])}  "
              f"recall {_fmt(s['recall'])}  F1 {_fmt(s['f1'])}")
    lk = rep["lookalike_refusal"]
    print(f"type macro-F1 {_fmt(rep['type_macro_f1'])}; look-alikes refused "
          f"{lk['refused']}/{lk['n']} ({_fmt(lk['rate'])})")
    print("false alarms on clean images: " + ", ".join(
        f"{c} {s['fired']}/{s['clean']}" for c, s in rep["false_alarms_on_clean"].items()))
    print("defect recall: " + ", ".join(
        f"{d} {s['caught']}/{s['support']}" for d, s in rep["defect_recall"].items()))
    print("defective images held by some check (not passed as clean): " + ", ".join(
        f"{d} {s['held']}/{s['support']}" for d, s in rep["defect_recall"].items() if "held" in s))
    passed = rep["passed_as_clean"]
    print(f"defective captures passing every check (nik and type_match too): "
          f"{len(passed['files'])}/{passed['defective']}")
    print(f"turn or flip reported on upright images: {rep['orientation_false_alarms']}; "
          f"clean-vs-defective accuracy {_fmt(rep['clean_accuracy'])}")
    if "nik" in rep:
        k = rep["nik"]
        print(f"form declares: {rep.get('form', 'none')}")
        print(f"NIK: exact {k['exact']}/{k['with_truth']} ({_fmt(k['exact_rate'])}); nik check "
              f"passed the right NIK {k['right_nik_passed']}, a WRONG NIK {k['wrong_nik_passed']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--nik-truth", type=Path, help="private nik_truth.json (never commit)")
    parser.add_argument("--form", choices=FORMS, default="none",
                        help="what the dossier's form declares as the NIK (needs --nik-truth)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--save", type=Path, help="write the per-image predictions here")
    parser.add_argument("--predictions", type=Path, help="score saved predictions (no analysis)")
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--only", nargs="*", help="only these files (manifest names)")
    parser.add_argument("--split", choices=SPLITS, default="all",
                        help="score only the tuning part or the held-out quarter")
    args = parser.parse_args(argv)
    images = [e for e in json.loads(args.manifest.read_text())["images"]
              if in_split(e, args.split)]
    if args.only:
        images = [e for e in images if e["file"] in set(args.only)]
    truth = None
    if args.nik_truth:
        truth = json.loads(args.nik_truth.read_text())["nik_by_sha256"]
    elif args.form != "none":
        print("--form needs the NIK truth file (--nik-truth): the form declares from it.",
              file=sys.stderr)
        return 2
    declared = declared_niks(args.form, truth or {})
    if args.predictions:
        preds = json.loads(args.predictions.read_text())
    else:
        present = [(e["sha256"], str(args.images / e["file"]), declared.get(e["sha256"]))
                   for e in images if (args.images / e["file"]).exists()]
        if not present:
            print(f"No calibration images in {args.images}.", file=sys.stderr)
            print(fetch_hint(images), file=sys.stderr)
            return 2
        if len(present) < len(images):
            print(f"{len(images) - len(present)} of {len(images)} images missing in "
                  f"{args.images}; run `python -m bench.real.materialize`.", file=sys.stderr)
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            preds = dict(pool.map(_predict_entry, present, chunksize=2))
        if args.save:
            args.save.write_text(json.dumps(preds, indent=1))
    rep = score(images, preds, truth)
    rep["form"] = args.form
    if args.json:
        args.json.write_text(json.dumps(rep, indent=1, default=str))
    print_report(rep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
