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
from pathlib import Path

import peewee

from pengesahan.config import Settings
from pengesahan.records import audit
from pengesahan.records.base import write_transaction
from pengesahan.records.dossiers import DocumentSlot, Upload
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

__all__ = ["current_model", "labelled_examples", "model_directory", "model_quality", "retrain"]

log = logging.getLogger(__name__)

#: The newest examples kept per type: enough to learn an office's documents, bounded so that a
#: nightly training stays a matter of seconds whatever the archive's size.
EXAMPLES_PER_TYPE = 400

_lock = threading.Lock()
_loaded: tuple[float, TypeModel | None] | None = None


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
    examples = labelled_examples()
    model = train(examples)
    if model is None:
        log.info("type model: %s example(s), too few to train", len(examples))
        return None
    model.save(model_directory(settings))
    quality = model.quality
    with write_transaction():
        audit.record("sistem", "model.retrain", "model:doc-type", examples=quality.examples,
                     held_out=quality.held_out, accuracy=quality.accuracy, macro_f1=quality.macro_f1)
    log.info("type model trained: %s examples, accuracy %.3f on %s held back", quality.examples,
             quality.accuracy, quality.held_out)
    return quality


def model_quality(settings: Settings) -> ModelQuality | None:
    """How the office's model did on held-back examples when last trained (None: not yet)."""
    return read_quality(model_directory(settings))


#: Said where the model is shown before it has been trained.
NOT_YET_TRAINED = (f"Belum dilatih: perlu sedikitnya {MIN_EXAMPLES} dokumen yang diterima petugas, "
                   "dari dua jenis atau lebih.")


def current_model(settings: Settings) -> TypeModel | None:
    """The office's model as last trained, reloaded when the worker writes a new one."""
    global _loaded
    path = model_directory(settings) / "doc-type.json"
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return None
    with _lock:
        if _loaded is None or _loaded[0] != stamp:
            _loaded = (stamp, load_model(model_directory(settings)))
        return _loaded[1]
