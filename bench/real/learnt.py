"""What the office's defect models (processing.quality) would add to the rules, on the real set.

``python -m bench.real.learnt --predictions PRED.json [--min-positives N] [--json REPORT.json]``

``PRED.json`` is ``python -m bench.real.score --save PRED.json``: the pipeline's verdicts with
the numbers each capture was measured by. The hand labels stand in for an office's verdicts:
a clean capture is one an officer accepted, one labelled with a defect one returned naming it
(an office judges captures of every kind of document; so does this set, look-alikes included). The set is cut in five folds by sha256; the
models are trained (:func:`processing.quality.train`: the product's minimums, false-alarm budget
and out-of-fold alarm) on four and judge the fifth, as an office's models judge the next
uploads. An alarm fails the check the pipeline would fail (the first of the defect's checks,
when the rules passed them all), and :func:`bench.real.score.score` scores the result exactly as
it scores the rules alone: per-defect recall and per-check false alarms on clean captures,
the rules beside rules and models.

A real office has more verdicts than this set has labels: ``--min-positives`` (at least 5, the
folds of the models' own threshold search) shows what a defect with fewer returns would give.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from bench.real.materialize import DEFAULT_MANIFEST
from bench.real.score import score
from processing.quality import LEARNT_DEFECTS, MIN_NEGATIVES, MIN_POSITIVES, Verdict, train
from processing.spec import DEFECT_CHECKS

__all__ = ["FOLDS", "judged_by_models", "main"]

FOLDS = 5


def _fold(entry: dict) -> int:
    return int(entry["sha256"][8:16], 16) % FOLDS


def _verdicts(images: list[dict], preds: dict[str, dict]) -> list[Verdict]:
    """The labels as officers' verdicts."""
    verdicts = []
    for entry in images:
        pred = preds.get(entry["sha256"], {})
        features = pred.get("features")
        labels = entry["labels"]
        if features is None:
            continue
        failed = frozenset(name for name, check in pred["checks"].items() if not check["ok"])
        if labels["clean"]:
            verdicts.append(Verdict(features, accepted=True, rules_failed=failed))
        verdicts += [Verdict(features, accepted=False, defect=d, rules_failed=failed)
                     for d in labels["defects"] if d in LEARNT_DEFECTS]
    return verdicts


def judged_by_models(images: list[dict], preds: dict[str, dict], *, min_positives: int = MIN_POSITIVES
                     ) -> tuple[dict[str, dict], dict[str, Any]]:
    """The predictions with each fold's captures judged by models trained on the other folds,
    and, per defect, in how many folds a model was trained and had a say."""
    judged = copy.deepcopy(preds)
    trained: dict[str, dict[str, int]] = {d: {"trained": 0, "had_say": 0} for d in LEARNT_DEFECTS}
    for fold in range(FOLDS):
        training = [e for e in images if _fold(e) != fold]
        models = train(_verdicts(training, preds), seed=fold, min_positives=min_positives,
                       min_negatives=MIN_NEGATIVES)
        if models is None:
            continue
        for defect, quality in models.quality.defects.items():
            trained[defect]["trained"] += 1
            trained[defect]["had_say"] += quality.has_say
        for entry in images:
            pred = judged.get(entry["sha256"])
            if _fold(entry) != fold or not pred or pred.get("features") is None or "crash" in pred:
                continue
            checks = pred["checks"]
            for alarm in models.alarms(pred["features"]):
                meant = DEFECT_CHECKS[alarm.defect]
                if all(checks[c]["ok"] for c in meant if c in checks) and meant[0] in checks:
                    checks[meant[0]] = {"ok": False, "value": round(alarm.score, 3), "message": "model"}
    return judged, {d: t for d, t in trained.items() if t["trained"]}


def _row(name: str, rules: dict, learnt: dict) -> str:
    return f"  {name:16s} {rules['caught'] if 'caught' in rules else rules['fired']:3d} -> " \
           f"{learnt['caught'] if 'caught' in learnt else learnt['fired']:3d} of " \
           f"{rules['support'] if 'support' in rules else rules['clean']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--predictions", type=Path, required=True,
                        help="per-image predictions saved by `python -m bench.real.score --save`")
    parser.add_argument("--min-positives", type=int, default=MIN_POSITIVES,
                        help=f"returns naming a defect needed to learn it (the product's: {MIN_POSITIVES})")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    if args.min_positives < FOLDS:
        parser.error(f"--min-positives must be at least {FOLDS}")
    images = json.loads(args.manifest.read_text())["images"]
    preds = json.loads(args.predictions.read_text())
    if not any(p.get("features") for p in preds.values()):
        print(f"{args.predictions} holds no image numbers: save it again with this version of "
              "`python -m bench.real.score --save`.", file=sys.stderr)
        return 2
    judged, trained = judged_by_models(images, preds, min_positives=args.min_positives)
    rules, learnt = score(images, preds), score(images, judged)
    print(f"{FOLDS} folds, models trained with at least {args.min_positives} returns and {MIN_NEGATIVES} "
          "acceptances per defect; defects learnt (folds trained / with a say): "
          + (", ".join(f"{d} {t['trained']}/{t['had_say']}" for d, t in trained.items()) or "none"))
    print("defect recall, rules -> rules and models:")
    for defect, figures in rules["defect_recall"].items():
        print(_row(defect, figures, learnt["defect_recall"][defect]))
    print("false alarms on clean captures, rules -> rules and models:")
    for check, figures in rules["false_alarms_on_clean"].items():
        print(_row(check, figures, learnt["false_alarms_on_clean"][check]))
    if args.json:
        args.json.write_text(json.dumps({"min_positives": args.min_positives, "trained": trained,
                                         "rules": rules, "rules_and_models": learnt}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
