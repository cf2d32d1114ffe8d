"""The real-scan scoring (bench/real/score.py) on hand-made predictions: no image needed."""

from __future__ import annotations

import hashlib
import random

from bench.real.learnt import judged_by_models
from bench.real.score import CHECKS, score
from processing.quality import FEATURES

_ALL_PASS = {name: {"ok": True, "value": None, "message": ""} for name in ("format", "nik", *CHECKS)}


def _entry(file: str, sha: str, doc_type: str, defects: list[str]) -> dict:
    return {"file": file, "sha256": sha, "exif_orientation": None,
            "labels": {"type": doc_type, "defects": defects, "clean": not defects}}


def _prediction(doc_type: str | None, *, failed: tuple[str, ...] = ()) -> dict:
    checks = {name: {**verdict, "ok": name not in failed} for name, verdict in _ALL_PASS.items()}
    return {"type": doc_type, "checks": checks, "nik": None, "rotation": 0, "seconds": 1.0}


def test_a_file_intake_refuses_is_counted_apart_not_as_a_missed_type_or_defect():
    """A dark KTP sent as WebP is refused at the door (format): the triage never saw it, so it
    is neither a KTP taken for something else nor a dark image the exposure check missed."""
    images = [_entry("dark.jpg", "a" * 64, "ktp", ["dark"]),
              _entry("dark.webp", "b" * 64, "ktp", ["dark"]),
              _entry("clean.jpg", "c" * 64, "ktp", [])]
    predictions = {"a" * 64: _prediction("ktp", failed=("exposure",)),
                   "b" * 64: _prediction(None, failed=("format",)),
                   "c" * 64: _prediction("ktp")}

    report = score(images, predictions)

    assert report["refused_at_intake"] == ["dark.webp"]
    assert report["scored"] == 2 and report["missing"] == 0
    assert report["defect_recall"]["dark"] == {"support": 1, "caught": 1, "recall": 1.0, "held": 1}
    assert report["types"]["ktp"]["recall"] == 1.0


def test_a_defect_the_checks_pass_is_a_miss_and_a_clean_image_they_fail_a_false_alarm():
    images = [_entry("soft.jpg", "a" * 64, "ktp", ["blur"]),
              _entry("clean.jpg", "c" * 64, "ktp", [])]
    predictions = {"a" * 64: _prediction("ktp"), "c" * 64: _prediction("ktp", failed=("crop",))}

    report = score(images, predictions)

    assert report["defect_recall"]["blur"]["caught"] == 0
    assert report["false_alarms_on_clean"]["crop"]["fired"] == 1
    assert report["refused_at_intake"] == []


def test_a_defect_another_check_refuses_is_missed_by_its_check_but_held():
    """A glare the exposure check misses on a capture the resolution check refuses: a miss of
    the exposure check, yet the uploader is asked for another file all the same."""
    images = [_entry("glare-small.jpg", "a" * 64, "ktp", ["glare"]),
              _entry("glare.jpg", "b" * 64, "ktp", ["glare"])]
    predictions = {"a" * 64: _prediction("ktp", failed=("resolution",)), "b" * 64: _prediction("ktp")}

    glare = score(images, predictions)["defect_recall"]["glare"]

    assert (glare["caught"], glare["held"], glare["support"]) == (0, 1, 2)


def test_models_trained_on_the_other_folds_catch_what_the_rules_passed_and_leave_their_failures_alone():
    """bench/real/learnt.py on made-up image numbers: dim captures the rules passed are failed
    by the exposure model of the folds they were not in; the rules' own failures keep their
    message, and no other check moves."""
    rng = random.Random(7)

    def features(dim: bool) -> dict[str, float]:
        numbers = {name: rng.uniform(0, 1) for name in FEATURES}
        numbers["grey_p50"] = rng.uniform(20, 60) if dim else rng.uniform(140, 200)
        return numbers

    images, predictions = [], {}
    for i in range(130):
        dim = i < 30
        sha = hashlib.sha256(str(i).encode()).hexdigest()
        images.append(_entry(f"{i}.jpg", sha, "ktp", ["dark"] if dim else []))
        predictions[sha] = {**_prediction("ktp", failed=("exposure",) if i == 0 else ()),
                            "features": features(dim)}

    judged, trained = judged_by_models(images, predictions)

    assert trained["dark"]["trained"] == 5 and trained["dark"]["had_say"] == 5
    rules, learnt = score(images, predictions), score(images, judged)
    assert rules["defect_recall"]["dark"]["caught"] == 1
    assert learnt["defect_recall"]["dark"]["caught"] >= 27
    assert learnt["false_alarms_on_clean"]["exposure"]["fired"] <= 2
    assert judged[images[0]["sha256"]]["checks"]["exposure"]["message"] == ""
    assert all(judged[s]["checks"][c] == predictions[s]["checks"][c]
               for s in predictions for c in predictions[s]["checks"] if c != "exposure")


def test_a_mirror_image_is_caught_only_when_set_right_both_ways():
    """A frame flipped top to bottom is labelled mirrored and turned 180°: it is set right
    only when the pipeline flips it back and turns it; a flip reported on a frame that was
    none is an orientation false alarm, as a turn is."""
    flipped = _entry("flipped.jpg", "a" * 64, "ktp", ["mirrored", "rotated_180"])
    turned_only = _entry("flipped-again.jpg", "b" * 64, "ktp", ["mirrored", "rotated_180"])
    upright = _entry("clean.jpg", "c" * 64, "ktp", [])
    predictions = {"a" * 64: {**_prediction("ktp"), "rotation": 180, "mirrored": True},
                   "b" * 64: {**_prediction("ktp"), "rotation": 180},
                   "c" * 64: {**_prediction("ktp"), "mirrored": True}}

    report = score([flipped, turned_only, upright], predictions)

    assert report["defect_recall"]["mirrored"] == {"support": 2, "caught": 1, "recall": 0.5}
    assert report["defect_recall"]["rotated_180"] == {"support": 2, "caught": 1, "recall": 0.5}
    assert report["orientation_false_alarms"] == 1


def test_forms_declare_the_cards_nik_another_cards_or_a_twins_and_need_the_truth(capsys):
    from bench.real.score import declared_niks, main

    truth = {"a": "6309022909003581", "b": "6309022909003581", "c": "3201010101010009"}
    assert declared_niks("declared", truth) == truth
    assert declared_niks("none", truth) == {}
    twin = declared_niks("twin", truth)
    assert twin == {"a": "6309022909003582", "b": "6309022909003582", "c": "3201010101010008"}
    another = declared_niks("another", truth)
    # Never the card's own NIK, even where the same card was photographed twice (a and b).
    assert another == {"a": "3201010101010009", "b": "3201010101010009", "c": "6309022909003581"}
    assert main(["--form", "declared", "--predictions", "/nonexistent"]) == 2
    assert "--nik-truth" in capsys.readouterr().err


def test_a_declared_form_holds_the_birth_date_and_sex_the_nik_encodes():
    # The portal requires both beside the NIK (as SIAPkerja holds them), so the bench's form
    # carries them too; a specimen's NIK whose date part is no date leaves them out.
    import datetime as dt

    from bench.real.score import declared_form

    form = declared_form("6309025508900001")
    assert (form.nik, form.birth_date, form.sex) == ("6309025508900001", dt.date(1990, 8, 15), "P")
    assert declared_form("6309021508900001").sex == "L"
    specimen = declared_form("3171234567890123")
    assert (specimen.nik, specimen.birth_date, specimen.sex) == ("3171234567890123", None, None)


def test_a_defective_capture_passing_every_check_the_nik_too_reaches_the_officer_all_green():
    """The image checks' misses a doubtful NIK held (no form confirmed it) are counted apart
    from those nothing holds: with the form's NIK confirmed, only the image checks remain."""
    images = [_entry("soft-nik-doubtful.jpg", "a" * 64, "ktp", ["blur"]),
              _entry("soft-nik-confirmed.jpg", "b" * 64, "ktp", ["blur"]),
              _entry("turned.jpg", "c" * 64, "ktp", ["rotated_180"]),
              _entry("clean.jpg", "d" * 64, "ktp", [])]
    predictions = {"a" * 64: _prediction("ktp", failed=("nik",)), "b" * 64: _prediction("ktp"),
                   "c" * 64: _prediction("ktp"), "d" * 64: _prediction("ktp")}

    report = score(images, predictions)

    assert report["passed_as_clean"] == {"defective": 2, "files": ["soft-nik-confirmed.jpg"]}
    assert report["defect_recall"]["blur"]["held"] == 0
