"""Document types learnt from the officers' own decisions, blended with the rules.

Every slot an officer accepts says what its upload is (the slot's type); every type an officer
corrects says it too. Those uploads' texts are this office's labelled examples: its own KTP
printers, its own clinics' letterheads, its own scanners' OCR errors. :func:`train` fits a text
model on them (scikit-learn: character n-grams, which survive OCR's broken words, and a linear
model with a logistic loss, which gives probabilities) and measures it on examples held back
from training.

The rules stay in charge (:func:`blend`): the model raises the confidence of a type the rules
also found, lowers it and says so when it disagrees, and names a type only when the rules found
none, the model is sure, and the rules saw no look-alike's cue for that type. A model that has
not proved itself on held-back examples has no say at all.

Pure code: no Flask, no database; the worker gives the examples and keeps the files.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "Blended",
    "Example",
    "ModelQuality",
    "TypeModel",
    "blend",
    "load_model",
    "read_quality",
    "train",
]

#: A type needs this many examples to be learnt at all (fewer say nothing reliable).
MIN_EXAMPLES_PER_TYPE = 5
#: And the model needs this many in all, over at least two types, before it has any say.
MIN_EXAMPLES = 30
#: Share of each type's examples held back to measure the model.
HELD_OUT_SHARE = 0.2
#: Below this accuracy on held-back examples the model has no say.
MIN_ACCURACY = 0.8
#: The most the model ever weighs against the rules.
MAX_WEIGHT = 0.5
#: How sure the model must be to name a type the rules did not find.
ADOPT_PROBABILITY = 0.85

_MODEL_FILE = "doc-type.skops"
_QUALITY_FILE = "doc-type.json"
#: What a stored model may hold beyond the scikit-learn and numpy types skops itself accepts:
#: loading refuses anything else (skops has no pickle's arbitrary code execution).
_TRUSTED_TYPES = frozenset({"processing.learning._normalise"})


@dataclass(frozen=True)
class Example:
    """One upload's text and the type an officer's decision gave it."""

    text: str
    doc_type: str


@dataclass(frozen=True)
class ModelQuality:
    """How the model did on examples it was not trained on."""

    examples: int
    held_out: int
    #: Share of held-back examples given their right type.
    accuracy: float
    #: Unweighted mean of the per-type F1 on the held-back examples.
    macro_f1: float
    #: Examples per type, all of them (training and held back).
    per_type: dict[str, int] = field(default_factory=dict)
    trained_at: str = ""

    @property
    def weight(self) -> float:
        """How much the model may weigh against the rules: 0 until it has proved itself, rising
        with its held-back accuracy to :data:`MAX_WEIGHT`."""
        if self.examples < MIN_EXAMPLES or len(self.per_type) < 2 or self.accuracy < MIN_ACCURACY:
            return 0.0
        return round(MAX_WEIGHT * (self.accuracy - MIN_ACCURACY) / (1.0 - MIN_ACCURACY), 3)


@dataclass(frozen=True)
class Blended:
    """The rules' classification after the model's say, with the model's reason if it had one."""

    doc_type: str
    confidence: float
    reason: str | None = None


def _normalise(text: str) -> str:
    # Module level and named: the stored model refers to it, and loading trusts it by name.
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"\d", "0", text.lower())
    return re.sub(r"\s+", " ", text).strip()


class TypeModel:
    """A fitted text model and how it did on held-back examples."""

    def __init__(self, pipeline, quality: ModelQuality):
        self._pipeline = pipeline
        self.quality = quality

    @property
    def types(self) -> tuple[str, ...]:
        return tuple(str(code) for code in self._pipeline.classes_)

    def probabilities(self, text: str) -> dict[str, float]:
        """Probability of each learnt type for ``text`` (empty for text with nothing to go on)."""
        if not _normalise(text):
            return {}
        row = self._pipeline.predict_proba([text])[0]
        return {code: float(p) for code, p in zip(self.types, row, strict=True)}

    def save(self, directory: Path) -> None:
        """Write the model and its quality to ``directory`` (skops format, no pickle)."""
        # scikit-learn and skops load with the first training or model, not with every process.
        import skops.io

        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{_MODEL_FILE}.tmp"
        skops.io.dump(self._pipeline, temporary)
        temporary.replace(directory / _MODEL_FILE)
        (directory / _QUALITY_FILE).write_text(json.dumps(asdict(self.quality), indent=1), encoding="utf-8")


def read_quality(directory: Path) -> ModelQuality | None:
    """The stored model's quality alone (no scikit-learn needed); None when none was trained."""
    try:
        return ModelQuality(**json.loads((directory / _QUALITY_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def load_model(directory: Path) -> TypeModel | None:
    """The office's model in ``directory``; None when none was trained or the file is foreign.

    Only the classes this module trains may be in the file: a file holding anything else is
    refused, never executed.
    """
    model_path, quality_path = directory / _MODEL_FILE, directory / _QUALITY_FILE
    if not (model_path.is_file() and quality_path.is_file()):
        return None
    # Loaded only where a model exists (see TypeModel.save).
    import skops.io

    untrusted = set(skops.io.get_untrusted_types(file=model_path))
    if untrusted - _TRUSTED_TYPES:
        return None
    pipeline = skops.io.load(model_path, trusted=sorted(untrusted))
    quality = ModelQuality(**json.loads(quality_path.read_text(encoding="utf-8")))
    return TypeModel(pipeline, quality)


def train(examples: Iterable[Example], *, seed: int = 0, now: datetime | None = None) -> TypeModel | None:
    """Fit the model on ``examples`` and measure it on a held-back share of each type.

    Types with fewer than :data:`MIN_EXAMPLES_PER_TYPE` examples are left out; None when fewer
    than two types remain. The returned model is refitted on every example; its quality is the
    held-back measurement.
    """
    # scikit-learn loads with the first training, not with every process.
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    usable = [e for e in examples if _normalise(e.text)]
    counts = Counter(e.doc_type for e in usable)
    kept = [e for e in usable if counts[e.doc_type] >= MIN_EXAMPLES_PER_TYPE]
    per_type = dict(sorted(Counter(e.doc_type for e in kept).items()))
    if len(per_type) < 2:
        return None
    texts = [e.text for e in kept]
    labels = [e.doc_type for e in kept]
    held_out = max(len(per_type), math.ceil(len(kept) * HELD_OUT_SHARE))
    train_texts, test_texts, train_labels, test_labels = train_test_split(
        texts, labels, test_size=held_out, stratify=labels, random_state=seed)
    measured = _pipeline(seed).fit(train_texts, train_labels)
    predicted = measured.predict(test_texts)
    quality = ModelQuality(
        examples=len(kept),
        held_out=len(test_texts),
        accuracy=round(float(accuracy_score(test_labels, predicted)), 4),
        macro_f1=round(float(f1_score(test_labels, predicted, average="macro", zero_division=0)), 4),
        per_type=per_type,
        trained_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
    )
    return TypeModel(_pipeline(seed).fit(texts, labels), quality)


def _pipeline(seed: int):
    # scikit-learn loads with the first training (see train).
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    # A logistic loss fitted by SGD: probabilities like a logistic regression's, in a second
    # rather than the minutes a full solver takes on thousands of n-grams.
    return Pipeline([
        ("ngrams", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), preprocessor=_normalise,
                                   sublinear_tf=True)),
        ("types", SGDClassifier(loss="log_loss", alpha=1e-4, random_state=seed)),
    ])


def blend(rule_type: str, rule_confidence: float, probabilities: Mapping[str, float],
          quality: ModelQuality, *, unknown: str = "unknown", vetoed: Sequence[str] = ()) -> Blended:
    """The rules' type and confidence after the model's say (see the module's notes).

    ``vetoed`` are the types whose look-alike cues the rules found in the text: the model never
    names one of them.
    """
    weight = quality.weight
    if weight == 0.0 or not probabilities:
        return Blended(rule_type, rule_confidence)
    top, p_top = max(probabilities.items(), key=lambda item: item[1])
    track = f"akurasi {quality.accuracy:.0%} pada {quality.held_out} contoh uji"
    if rule_type == top:
        confidence = round(rule_confidence + weight * max(0.0, p_top - rule_confidence), 3)
        return Blended(rule_type, confidence, f"model kantor setuju ({p_top:.0%}; {track})")
    if rule_type == unknown:
        if p_top >= ADOPT_PROBABILITY and top not in vetoed:
            return Blended(top, round(weight * p_top, 3),
                           f"dikenali model kantor sebagai {top} ({p_top:.0%}; {track})")
        return Blended(rule_type, rule_confidence)
    if probabilities.get(rule_type, 0.0) >= p_top:
        return Blended(rule_type, rule_confidence)
    confidence = round(rule_confidence * (1.0 - weight * p_top), 3)
    return Blended(rule_type, confidence, f"model kantor menduga {top} ({p_top:.0%}; {track})")
