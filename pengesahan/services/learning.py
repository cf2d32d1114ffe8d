"""The office's document-type model: labelled examples from the officers' decisions, trained on
the worker, used by every scan (see :mod:`processing.learning` for the model and its limits).

An accepted slot is the officer's word on what its newest upload is: the slot's type. An
officer who accepts a slot the rules called something else (the deliberate acceptance with a
reason) corrects the rules; either way the upload's text becomes an example of that type.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import peewee

from pengesahan.config import Settings
from pengesahan.records import audit
from pengesahan.records.base import write_transaction
from pengesahan.records.dossiers import DocumentSlot, ReviewEvent, Upload
from pengesahan.workflow import SlotStatus
from processing.learning import (
    MIN_EXAMPLES,
    Example,
    ModelQuality,
    TypeModel,
    load_model,
    read_quality,
    train,
)
from processing.quality import (
    EXAMPLES_PER_KIND,
    LEARNT_DEFECTS,
    MIN_NEGATIVES,
    MIN_POSITIVES,
    QUALITY_FILE,
    DefectModels,
    ModelsQuality,
    Verdict,
)
from processing.quality import load_models as load_defect_models
from processing.quality import read_quality as read_defects_quality
from processing.quality import train as train_defects
from processing.spec import DEFECT_LABELS

__all__ = ["current_defect_models", "current_model", "defect_models_quality", "defect_verdicts",
           "describe_defect_models", "labelled_examples", "model_directory", "model_quality", "retrain", "retrain_defects"]

log = logging.getLogger(__name__)

SampleT = TypeVar("SampleT")
QualityT = TypeVar("QualityT", covariant=True)

#: The newest examples kept per type: enough to learn an office's documents, bounded so that a
#: nightly training stays a matter of seconds whatever the archive's size.
EXAMPLES_PER_TYPE = 400

_lock = threading.Lock()
#: Models loaded by this process, by their quality file: (its mtime, the models).
_loaded: dict[str, tuple[float, object]] = {}


def model_directory(settings: Settings) -> Path:
    return settings.data_dir / "models"


def labelled_examples(per_type: int = EXAMPLES_PER_TYPE) -> list[Example]:
    """The text of the newest upload of every accepted slot, newest first, ``per_type`` at most
    of each type."""
    newest = (Upload.select(peewee.fn.MAX(Upload.id)).where(Upload.slot == DocumentSlot.id))
    rows = (Upload.select(Upload.ocr_text, DocumentSlot.doc_type)
            .join(DocumentSlot)
            .where((DocumentSlot.status == SlotStatus.TERVERIFIKASI) & (Upload.id == newest)
                   & Upload.ocr_text.is_null(False))
            .order_by(Upload.id.desc())
            .tuples())
    taken: Counter = Counter()
    examples = []
    for text, doc_type in rows.iterator():
        if taken[doc_type] < per_type and text.strip():
            taken[doc_type] += 1
            examples.append(Example(text, doc_type))
    return examples


def retrain(settings: Settings) -> ModelQuality | None:
    """Train the office's model on the examples so far and keep it; None while there are too few.

    The model in use is replaced only by one trained now; its quality on held-back examples
    decides how much it may say (:attr:`ModelQuality.weight`).
    """
    return _trained_and_kept(settings, "model:doc-type", labelled_examples(), train,
                             lambda q: {"examples": q.examples, "held_out": q.held_out,
                                        "accuracy": q.accuracy, "macro_f1": q.macro_f1})


class _Trained(Protocol[QualityT]):
    """What a training returns: models that save themselves and say how they did."""

    @property
    def quality(self) -> QualityT: ...

    def save(self, directory: Path) -> None: ...


def _trained_and_kept(settings: Settings, subject: str, samples: Sequence[SampleT],
                      train_on: Callable[[Sequence[SampleT]], _Trained[QualityT] | None],
                      summary: Callable[[QualityT], dict[str, Any]]) -> QualityT | None:
    """``train_on(samples)`` saved beside the office's other models, its quality (``summary``
    of it) in the audit trail; None, and the models in use kept, while there are too few
    samples."""
    models = train_on(samples)
    if models is None:
        log.info("%s: %s sample(s), too few to train", subject, len(samples))
        return None
    models.save(model_directory(settings))
    quality = models.quality
    details = summary(quality)
    with write_transaction():
        audit.record("sistem", "model.retrain", subject, **details)
    log.info("%s trained: %s", subject, details)
    return quality


def model_quality(settings: Settings) -> ModelQuality | None:
    """How the office's model did on held-back examples when last trained (None: not yet)."""
    return read_quality(model_directory(settings))


#: Said where the model is shown before it has been trained.
NOT_YET_TRAINED = (f"Model jenis dokumen belum dilatih: perlu sedikitnya {MIN_EXAMPLES} dokumen yang diterima "
                   "petugas, dari dua jenis atau lebih.")


def current_model(settings: Settings) -> TypeModel | None:
    """The office's model as last trained, reloaded when the worker writes a new one."""
    return _reloaded(model_directory(settings) / "doc-type.json", load_model)


def _reloaded(quality_path: Path, load):
    """What ``load`` makes of ``quality_path``'s directory, loaded again only when the file
    (written last by a training) changed; None when nothing was trained there."""
    try:
        stamp = quality_path.stat().st_mtime
    except OSError:
        return None
    key = str(quality_path)
    with _lock:
        cached = _loaded.get(key)
        if cached is None or cached[0] != stamp:
            cached = _loaded[key] = (stamp, load(quality_path.parent))
        return cached[1]


# --- image defects learnt from the officers' verdicts (processing.quality) ---------------------


def defect_verdicts(per_kind: int = EXAMPLES_PER_KIND) -> list[Verdict]:
    """The officers' verdicts on uploads whose image numbers were kept (schema v16 on): the
    newest ``per_kind`` accepted, and as many returned naming each learnt defect."""
    judged = (ReviewEvent.select(Upload.quality_features, Upload.checks)
              .join(Upload, on=(ReviewEvent.upload == Upload.id))
              .where(Upload.quality_features.is_null(False))
              .order_by(ReviewEvent.id.desc()))
    verdicts = [Verdict(features, accepted=True, rules_failed=_rules_failed(checks)) for (features, checks) in
                judged.where(ReviewEvent.to_status == SlotStatus.TERVERIFIKASI).limit(per_kind).tuples()]
    for defect in LEARNT_DEFECTS:
        returned = judged.where((ReviewEvent.to_status == SlotStatus.DITOLAK) & (ReviewEvent.defect == defect))
        verdicts += [Verdict(features, accepted=False, defect=defect, rules_failed=_rules_failed(checks))
                     for (features, checks) in returned.limit(per_kind).tuples()]
    return verdicts


def _rules_failed(checks: list[dict] | None) -> frozenset[str]:
    """The checks the rules failed on an upload (a model's failures are not the rules')."""
    return frozenset(c["name"] for c in checks or () if not c.get("ok") and not c.get("by_model"))


def retrain_defects(settings: Settings) -> ModelsQuality | None:
    """Train the office's defect models on the verdicts so far and keep them; None while no
    defect has enough examples (the models in use, if any, stay)."""
    return _trained_and_kept(
        settings, "model:defects", defect_verdicts(), train_defects,
        lambda quality: {"defects": {d: {"positives": q.positives, "negatives": q.negatives,
                                         "recall": q.recall, "false_alarms": q.false_alarms}
                                     for d, q in quality.defects.items()}})


#: Said where the defect models are shown before they have been trained.
DEFECTS_NOT_YET_TRAINED = (f"Model cacat gambar belum dilatih: perlu sedikitnya {MIN_POSITIVES} dokumen yang "
                           "dikembalikan dengan alasan siap pakai yang menyebut cacat yang sama (buram, silau, "
                           f"...), dan {MIN_NEGATIVES} dokumen yang diterima petugas.")


def describe_defect_models(quality: ModelsQuality) -> list[str]:
    """A line per defect model, in the officers' words: what it catches, at what cost, and
    whether it has a say."""
    return [f"{DEFECT_LABELS[d]}: dari {q.positives} dokumen yang dikembalikan karena cacat ini, "
            f"{q.missed_by_rules} lolos pemeriksaan otomatis dan model menangkap {q.recall:.0%} di antaranya; "
            f"alarm palsu {q.false_alarms:.1%} pada {q.negatives} dokumen yang diterima; "
            + ("ikut menilai" if q.has_say else "belum ikut menilai (tangkapan terlalu sedikit)")
            for d, q in quality.defects.items()]


def defect_models_quality(settings: Settings) -> ModelsQuality | None:
    """How the office's defect models did out of fold when last trained (None: not yet)."""
    return read_defects_quality(model_directory(settings))


def current_defect_models(settings: Settings) -> DefectModels | None:
    """The office's defect models as last trained, reloaded when the worker writes new ones."""
    return _reloaded(model_directory(settings) / QUALITY_FILE, load_defect_models)
