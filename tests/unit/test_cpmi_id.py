"""CPMI ID format: configured pattern, validation, counter key."""

from __future__ import annotations

import datetime as dt

import pytest

from pengesahan.errors import ServiceError
from pengesahan.services.cpmi_id import (
    DEFAULT_PATTERN,
    format_cpmi_id,
    sequence_key,
    validate_pattern,
)

ISSUED = dt.date(2026, 3, 12)


def test_default_pattern():
    assert format_cpmi_id(DEFAULT_PATTERN, region="6309", issued=ISSUED, seq=451) == (
        "CPMI-6309-2026-000451"
    )


def test_month_day_and_literal_braces():
    pattern = "ID/{region}/{year}{month:02d}{day:02d}/{{X}}/{seq:04d}"
    validate_pattern("{region}-{seq}")
    with pytest.raises(ServiceError):  # braces are not safe characters in an ID
        format_cpmi_id(pattern, region="6309", issued=ISSUED, seq=7)
    assert (
        format_cpmi_id(
            "ID/{region}/{year}{month:02d}/{seq:04d}", region="6309", issued=ISSUED, seq=7
        )
        == "ID/6309/202603/0007"
    )


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("CPMI-{nomor}-{seq}", "{nomor} yang tidak dikenal"),
        ("CPMI-{region}-{year}", "wajib memuat nomor urut {seq}"),
        ("CPMI-{seq}-{seq}", "hanya boleh memuat satu"),
        ("CPMI-{seq!r}", "konversi"),
        ("CPMI-{seq", "tidak berpasangan"),
        ("CPMI-{}-{seq}", "{} yang tidak dikenal"),
        ("CPMI-{region.__class__}-{seq}", "tidak dikenal"),
        ("CPMI-{region[0]}-{seq}", "tidak dikenal"),
        ("CPMI-{region:d}-{seq}", "tidak dapat diterapkan"),
        ("CPMI {seq}", "tanpa spasi"),
    ],
)
def test_bad_patterns_refused_with_a_clear_message(pattern, words):
    with pytest.raises(ServiceError) as caught:
        format_cpmi_id(pattern, region="6309", issued=ISSUED, seq=1)
    assert words in caught.value.message


@pytest.mark.parametrize("seq", [0, -1, True, "1"])
def test_bad_sequence_refused(seq):
    with pytest.raises(ServiceError):
        format_cpmi_id(DEFAULT_PATTERN, region="6309", issued=ISSUED, seq=seq)


@pytest.mark.parametrize("region", ["", "63 09", "63/../09x y"])
def test_bad_region_refused(region):
    with pytest.raises(ServiceError):
        format_cpmi_id(DEFAULT_PATTERN, region=region, issued=ISSUED, seq=1)


def test_sequence_key_restarts_with_the_year_only_when_the_pattern_has_it():
    key = sequence_key(DEFAULT_PATTERN, region="6309", issued=ISSUED)
    assert key == "CPMI-6309-2026-#"
    assert sequence_key(DEFAULT_PATTERN, region="6309", issued=dt.date(2027, 1, 1)) != key
    no_year = "CPMI-{region}-{seq:06d}"
    assert sequence_key(no_year, region="6309", issued=ISSUED) == sequence_key(
        no_year, region="6309", issued=dt.date(2027, 1, 1)
    )


def test_ids_with_one_key_differ_only_by_sequence():
    ids = {format_cpmi_id(DEFAULT_PATTERN, region="6309", issued=ISSUED, seq=n) for n in (1, 2, 3)}
    assert len(ids) == 3
