"""The office's type model: trained on officers' labelled texts, measured on held-back ones,
stored without pickle, and blended with the rules without ever overruling a look-alike's cue."""

from __future__ import annotations

import random

import pytest

from bench.corpus import BUILDERS, build
from processing.learning import (
    ADOPT_PROBABILITY,
    MAX_WEIGHT,
    MIN_EXAMPLES_PER_TYPE,
    Example,
    ModelQuality,
    TypeModel,
    blend,
    load_model,
    train,
)

TYPES = sorted(BUILDERS)


def _ocr_noise(text: str, rng: random.Random, rate: float = 0.08) -> str:
    """Dropped and misread characters, as OCR of a phone photo leaves them."""
    out = []
    for char in text:
        roll = rng.random()
        if roll < rate / 2:
            continue
        out.append(rng.choice("il1o0rnm ") if roll < rate else char)
    return "".join(out)


def _examples(seeds: range, rng: random.Random, types=TYPES) -> list[Example]:
    return [Example(_ocr_noise(build(code, seed)[0].ground_truth(), rng), code) for code in types for seed in seeds]


@pytest.fixture(scope="module")
def model() -> TypeModel:
    trained = train(_examples(range(6), random.Random(1)))
    assert trained is not None
    return trained


def _quality(accuracy: float = 0.95, examples: int = 200) -> ModelQuality:
    return ModelQuality(examples=examples, held_out=40, accuracy=accuracy, macro_f1=accuracy,
                        per_type={"ktp": examples // 2, "kartu_keluarga": examples - examples // 2})


def test_the_model_is_measured_on_examples_it_did_not_learn_and_reads_new_documents(model):
    assert model.quality.examples == 6 * len(TYPES)
    assert model.quality.held_out >= len(TYPES)
    assert model.quality.accuracy >= 0.9 and model.quality.macro_f1 >= 0.9
    assert set(model.quality.per_type) == set(TYPES)
    rng = random.Random(7)
    right = 0
    for code in TYPES:
        probabilities = model.probabilities(_ocr_noise(build(code, 500)[0].ground_truth(), rng))
        right += max(probabilities, key=probabilities.get) == code
    assert right >= 0.9 * len(TYPES)


def test_types_with_too_few_examples_are_not_learnt_and_one_type_is_no_model():
    rng = random.Random(2)
    examples = _examples(range(MIN_EXAMPLES_PER_TYPE), rng, ["ktp", "kartu_keluarga"])
    examples += _examples(range(MIN_EXAMPLES_PER_TYPE - 1), rng, ["surat_sehat"])
    trained = train(examples)
    assert trained is not None and set(trained.types) == {"ktp", "kartu_keluarga"}
    assert train(_examples(range(10), rng, ["ktp"])) is None
    assert train([Example("   ", "ktp")] * 10 + [Example("", "kartu_keluarga")] * 10) is None


def test_the_model_has_no_say_until_it_has_proved_itself():
    assert _quality(examples=10).weight == 0.0
    assert _quality(accuracy=0.75).weight == 0.0
    assert 0.0 < _quality(accuracy=0.9).weight < _quality(accuracy=0.99).weight <= MAX_WEIGHT


def test_blending_raises_agreement_flags_disagreement_and_names_a_type_only_when_the_rules_found_none():
    quality = _quality()
    agreed = blend("ktp", 0.6, {"ktp": 0.95, "kartu_keluarga": 0.05}, quality)
    assert agreed.doc_type == "ktp" and agreed.confidence > 0.6 and "setuju" in agreed.reason

    doubted = blend("ktp", 0.6, {"ktp": 0.1, "kartu_keluarga": 0.9}, quality)
    assert doubted.doc_type == "ktp" and doubted.confidence < 0.6
    assert "menduga kartu_keluarga" in doubted.reason

    named = blend("unknown", 0.8, {"ktp": 0.97, "kartu_keluarga": 0.03}, quality)
    assert named.doc_type == "ktp" and 0 < named.confidence <= MAX_WEIGHT
    unsure = blend("unknown", 0.8, {"ktp": ADOPT_PROBABILITY - 0.05, "kartu_keluarga": 0.2}, quality)
    assert unsure.doc_type == "unknown" and unsure.reason is None
    # An NPWP card read as "unknown" because its cue was seen stays unknown, however sure the
    # model (trained on accepted KTPs) is that it looks like a KTP.
    look_alike = blend("unknown", 0.8, {"ktp": 0.99, "kartu_keluarga": 0.01}, quality, vetoed=("ktp",))
    assert look_alike.doc_type == "unknown"

    silent = blend("ktp", 0.6, {"kartu_keluarga": 0.99}, _quality(accuracy=0.7))
    assert (silent.doc_type, silent.confidence, silent.reason) == ("ktp", 0.6, None)


def test_a_stored_model_loads_with_the_same_answers(model, tmp_path):
    model.save(tmp_path)
    loaded = load_model(tmp_path)
    text = build("kartu_keluarga", 321)[0].ground_truth()
    assert loaded.quality == model.quality
    assert loaded.probabilities(text) == pytest.approx(model.probabilities(text))
    assert load_model(tmp_path / "nothing-here") is None


def _foreign_preprocessor(text: str) -> str:
    return text


def test_a_model_file_holding_foreign_code_is_refused_not_run(model, tmp_path):
    import copy

    import skops.io

    model.save(tmp_path)
    pipeline = copy.deepcopy(model._pipeline)
    pipeline.named_steps["ngrams"].preprocessor = _foreign_preprocessor
    skops.io.dump(pipeline, tmp_path / "doc-type.skops")
    assert load_model(tmp_path) is None
