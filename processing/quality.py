"""Image defects learnt from the officers' verdicts, beside the rules' checks.

The checks judge blur, glare, darkness, cuts and resolution by rules calibrated on public
captures, and miss many a defect an officer sees (bench/real/README.md). An office's own
uploads, judged by its officers, say more: each upload an officer accepts is an example of a
capture good enough, each returned with a reason naming a defect (processing.spec.DEFECT_CHECKS)
an example of that defect. :func:`processing.image_features.quality_features` measures a
capture in the plain numbers of :data:`FEATURES`; :func:`train` fits, per defect with enough
examples, a random forest on them (scikit-learn), and judges it by what it adds to the rules:
on out-of-fold scores of the uploads whose checks for the defect the rules passed, its alarm is
set to fail at most :data:`FALSE_ALARM_BUDGET` of those accepted, and its recall is the share of
those returned it caught.

The rules stay in charge: the model only fails a check the rules passed, says so in the check's
message with its track record, and has no say for a defect it caught too little of.

Pure code: no Flask, no database; the worker gives the examples and keeps the files.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from processing.spec import DEFECT_CHECKS, DEFECT_LABELS, CheckResult

__all__ = [
    "FEATURES",
    "LEARNT_DEFECTS",
    "QUALITY_FILE",
    "Alarm",
    "ModelsQuality",
    "DefectModels",
    "DefectQuality",
    "Verdict",
    "load_models",
    "read_quality",
    "train",
]

#: The defects of a capture's image a model may learn (not a wrong type or a NIK: the rules
#: read those, and a model of image statistics knows nothing of them).
LEARNT_DEFECTS = ("blur", "glare", "dark", "skew", "cropped", "low_resolution", "blank")
#: A defect is learnt from this many returned uploads naming it ...
MIN_POSITIVES = 15
#: ... against this many accepted ones.
MIN_NEGATIVES = 60
#: The share of accepted uploads the model may fail, out of fold: within issue #11's 5 % per
#: check together with the rules' own false alarms.
FALSE_ALARM_BUDGET = 0.02
#: Under this recall out of fold the model has no say for the defect.
MIN_RECALL = 0.2
#: Nor with fewer catches out of fold than this, whatever the recall: one or two catches are
#: no track record (on the real set a blur model with one catch of five failed five accepted
#: captures of the next and caught nothing; bench/real, session 21).
MIN_CAUGHT = 3
#: Never an alarm under this score, whatever the budget allows.
MIN_THRESHOLD = 0.5
#: The newest examples used per kind (accepted; each defect), so training stays quick.
EXAMPLES_PER_KIND = 2000

_MODEL_FILE = "defects.skops"
#: Written last by a training: its change says new models are there.
QUALITY_FILE = "defects.json"
#: The one type of a trained forest skops does not trust by default.
_TRUSTED_TYPES = frozenset({"sklearn.tree._tree.Tree"})

#: The numbers :func:`quality_features` gives, in the order the models read them.
FEATURES = (
    "short_side_px", "letter_px", "stroke_softness", "log_sharpness", "paper", "ink", "glare",
    "highlight", "blank_detail", "grey_p1", "grey_p5", "grey_p50", "grey_p95", "grey_p99",
    "grey_std", "saturation_p50", "saturation_p90", "bright_a", "bright_b", "clipped",
    "high_frequency", "noise", "tile_contrast_p10", "tile_contrast_p50", "outline_found",
    "outline_area", "outline_cut", "words", "ocr_confidence",
)
#: A measure that could not be taken (no letters, no reading): a value no real one has.
MISSING = -1.0


@dataclass(frozen=True)
class Verdict:
    """An officer's verdict on one upload: accepted, or returned naming ``defect`` (or none)."""

    features: Mapping[str, float]
    accepted: bool
    defect: str | None = None
    #: The checks the rules failed on the upload (not those a model failed): a model is judged
    #: by what it adds, the uploads whose defect the rules passed.
    rules_failed: frozenset[str] = frozenset()

    def passed_by_rules(self, defect: str) -> bool:
        """Whether the rules passed every check meant to see ``defect`` on this upload."""
        return not self.rules_failed.intersection(DEFECT_CHECKS[defect])


@dataclass(frozen=True)
class DefectQuality:
    """How one defect's model did out of fold, and where its alarm is set."""

    defect: str
    #: Returned uploads naming the defect, and accepted ones.
    positives: int
    negatives: int
    threshold: float
    #: Share of the returns naming the defect that the rules had passed which the model caught,
    #: out of fold: what it adds.
    recall: float
    #: Share of the accepted uploads the rules had passed (for this defect) it failed, out of fold.
    false_alarms: float
    #: How many of the returned uploads the rules had passed (0 in files of the first version,
    #: whose models have no say until trained again).
    missed_by_rules: int = 0

    @property
    def caught(self) -> int:
        """How many of the returns the rules had passed the model caught, out of fold."""
        return round(self.recall * self.missed_by_rules)

    @property
    def has_say(self) -> bool:
        return self.recall >= MIN_RECALL and self.caught >= MIN_CAUGHT


@dataclass(frozen=True)
class Alarm:
    """The model's alarm for one defect on one capture."""

    defect: str
    score: float
    quality: DefectQuality

    def failed_check(self) -> CheckResult:
        """The check meant to see the defect, failed with the model's reason."""
        q = self.quality
        return CheckResult(
            name=DEFECT_CHECKS[self.defect][0], ok=False, value=round(self.score, 3),
            threshold=round(q.threshold, 3), by_model=True,
            message=(f"Model kantor menduga dokumen {DEFECT_LABELS[self.defect].lower()} (skor "
                     f"{self.score:.2f}, batas {q.threshold:.2f}); model ini menangkap {q.recall:.0%} "
                     "dokumen yang lolos pemeriksaan otomatis tetapi dikembalikan petugas karena cacat "
                     f"ini, dengan {q.false_alarms:.0%} alarm palsu pada dokumen yang diterima."))


@dataclass(frozen=True)
class ModelsQuality:
    """Every defect model's measurement, and when they were trained."""

    trained_at: str
    defects: dict[str, DefectQuality] = field(default_factory=dict)


def _row(features: Mapping[str, float]) -> list[float]:
    return [float(features.get(name, MISSING)) for name in FEATURES]


# --- the models ---------------------------------------------------------------------------------


class DefectModels:
    """One fitted model per learnt defect, with where each one's alarm is set."""

    def __init__(self, forests: Mapping[str, object], quality: ModelsQuality):
        self._forests = dict(forests)
        self.quality = quality

    def alarms(self, features: Mapping[str, float]) -> list[Alarm]:
        """The defects whose model has a say and scores ``features`` at or over its alarm."""
        row = [_row(features)]
        found = []
        for defect, forest in self._forests.items():
            quality = self.quality.defects.get(defect)
            if quality is None or not quality.has_say:
                continue
            score = float(forest.predict_proba(row)[0][1])
            if score >= quality.threshold:
                found.append(Alarm(defect, score, quality))
        return found

    def save(self, directory: Path) -> None:
        """Write the models and their quality to ``directory`` (skops format, no pickle)."""
        # scikit-learn and skops load with the first training or model, not with every process.
        import skops.io

        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{_MODEL_FILE}.tmp"
        skops.io.dump(self._forests, temporary)
        temporary.replace(directory / _MODEL_FILE)
        payload = {"trained_at": self.quality.trained_at,
                   "defects": {d: asdict(q) for d, q in self.quality.defects.items()}}
        (directory / QUALITY_FILE).write_text(json.dumps(payload, indent=1), encoding="utf-8")


def read_quality(directory: Path) -> ModelsQuality | None:
    """The stored models' quality alone (no scikit-learn needed); None when none were trained."""
    try:
        payload = json.loads((directory / QUALITY_FILE).read_text(encoding="utf-8"))
        return ModelsQuality(trained_at=payload["trained_at"],
                             defects={d: DefectQuality(**q) for d, q in payload["defects"].items()})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def load_models(directory: Path) -> DefectModels | None:
    """The office's defect models in ``directory``; None when none were trained or the file
    holds anything but the forests this module trains (refused, never executed)."""
    quality = read_quality(directory)
    model_path = directory / _MODEL_FILE
    if quality is None or not model_path.is_file():
        return None
    # Loaded only where a model exists (see DefectModels.save).
    import skops.io

    # skops names every type the file would build; a forest of ours needs only this one beyond
    # what skops trusts by default, anything else is not a file this module wrote.
    untrusted = skops.io.get_untrusted_types(file=model_path)
    if set(untrusted) - _TRUSTED_TYPES:
        return None
    return DefectModels(skops.io.load(model_path, trusted=untrusted), quality)


def train(verdicts: Iterable[Verdict], *, seed: int = 0, now: datetime | None = None,
          min_positives: int = MIN_POSITIVES, min_negatives: int = MIN_NEGATIVES) -> DefectModels | None:
    """Fit a model for every learnt defect with enough examples; None when no defect has.

    Each defect's examples are the uploads returned naming it (positives) against the accepted
    ones (negatives). The model learns from all of them, but is judged where it can change a
    verdict, on the uploads whose checks for the defect the rules passed: its alarm is set on
    out-of-fold scores so that at most :data:`FALSE_ALARM_BUDGET` of those accepted would have
    been failed, and its recall is the share of those returned it caught. A model that only
    finds what the rules already refuse adds nothing and has no say. The model kept is refitted
    on every example. The minimums are the product's; a benchmark may ask what fewer examples
    would give (bench/real/learnt.py).
    """
    # numpy and scikit-learn load with the first training, not in every process that reads
    # the models' quality (the web's dashboard).
    import numpy as np

    verdicts = list(verdicts)
    accepted = [v for v in verdicts if v.accepted][:EXAMPLES_PER_KIND]
    forests: dict[str, object] = {}
    measured: dict[str, DefectQuality] = {}
    if len(accepted) < min_negatives:
        return None
    for defect in LEARNT_DEFECTS:
        returned = [v for v in verdicts if not v.accepted and v.defect == defect][:EXAMPLES_PER_KIND]
        if len(returned) < min_positives:
            continue
        examples = [*returned, *accepted]
        x = np.array([_row(v.features) for v in examples])
        y = np.array([1] * len(returned) + [0] * len(accepted))
        open_to_model = np.array([v.passed_by_rules(defect) for v in examples])
        quality = _measure(defect, x, y, open_to_model, seed)
        forests[defect] = _forest(seed).fit(x, y)
        measured[defect] = quality
    if not forests:
        return None
    return DefectModels(forests, ModelsQuality(
        trained_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"), defects=measured))


def _measure(defect: str, x, y, open_to_model, seed: int) -> DefectQuality:
    """Alarm threshold and recall of ``defect``'s model (``x`` rows of features, ``y`` 1 for
    the returned uploads), both on out-of-fold scores of the examples ``open_to_model`` (the
    rules passed them)."""
    # numpy and scikit-learn load with the first training (see train).
    import numpy as np
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    scores = cross_val_predict(_forest(seed), x, y, cv=folds, method="predict_proba")[:, 1]
    negatives = np.sort(scores[(y == 0) & open_to_model])[::-1]
    allowed = math.floor(FALSE_ALARM_BUDGET * len(negatives))
    # Just above the accepted upload ranked one past the budget: at most `allowed` score higher.
    threshold = max(MIN_THRESHOLD, float(negatives[allowed]) + 1e-6 if allowed < len(negatives) else 0.0)
    missed = scores[(y == 1) & open_to_model]
    return DefectQuality(
        defect=defect, positives=int((y == 1).sum()), negatives=int((y == 0).sum()),
        threshold=round(threshold, 6), recall=_share(missed >= threshold),
        false_alarms=_share(negatives >= threshold), missed_by_rules=int(missed.size))


def _share(hits) -> float:
    return round(float(hits.mean()), 4) if hits.size else 0.0


def _forest(seed: int):
    # scikit-learn loads with the first training or model (see train).
    from sklearn.ensemble import RandomForestClassifier

    # Leaves of two or more: a leaf of one remembers a single upload. Balanced classes: the
    # returned uploads are few against the accepted.
    return RandomForestClassifier(n_estimators=100, min_samples_leaf=2, class_weight="balanced",
                                  random_state=seed, n_jobs=1)
