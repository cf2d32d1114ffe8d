"""The CPMI ID issued to a verified dossier, in the format the office sets in configuration.

A pattern is a Python format string limited to known placeholders, e.g.
``"CPMI-{region}-{year}-{seq:06d}"``:

* ``{region}``: the office's region code (e.g. the regency's 4-digit BPS/Kemendagri code);
* ``{year}``, ``{month}``, ``{day}``: of the issue date (``{month:02d}`` for ``03``);
* ``{seq}``: the running number; required, it is what makes an ID unique.

The counter lives in the database, not here. :func:`sequence_key` names the counter an ID draws
from: every placeholder but ``{seq}`` filled in, so a pattern with ``{year}`` restarts its
numbering each year and a pattern without it never does, and IDs stay unique either way.
"""

from __future__ import annotations

import datetime as dt
import re
import string

from pengesahan.errors import ServiceError

__all__ = [
    "DEFAULT_PATTERN",
    "PLACEHOLDERS",
    "format_cpmi_id",
    "sequence_key",
    "validate_pattern",
]

#: Pattern used when the office has not configured one.
DEFAULT_PATTERN = "CPMI-{region}-{year}-{seq:06d}"

#: Placeholders a pattern may use, with their meaning for the admin's help text.
PLACEHOLDERS = {
    "region": "kode wilayah kantor",
    "year": "tahun terbit (4 digit)",
    "month": "bulan terbit (angka)",
    "day": "tanggal terbit (angka)",
    "seq": "nomor urut (wajib)",
}

# An ID goes into file names, URLs and QR codes: keep it to characters safe in all of them.
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


def validate_pattern(pattern: str) -> None:
    """Refuse a pattern that could not produce unique, well-formed IDs (ServiceError)."""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ServiceError(
            f"Format ID CPMI tidak valid: kurung kurawal tidak berpasangan ({pattern!r})."
        ) from exc
    names = [name for _, name, _, _ in parts if name is not None]
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            allowed = ", ".join("{" + key + "}" for key in PLACEHOLDERS)
            shown = "{" + name + "}" if name else "{}"
            raise ServiceError(
                f"Format ID CPMI memakai isian {shown} yang tidak dikenal. "
                f"Isian yang boleh dipakai: {allowed}."
            )
        if conversion:
            raise ServiceError(f"Format ID CPMI tidak boleh memakai konversi '!{conversion}'.")
        if spec and ("{" in spec or "}" in spec):
            raise ServiceError("Format ID CPMI tidak boleh memakai isian di dalam format isian.")
    if "seq" not in names:
        raise ServiceError("Format ID CPMI wajib memuat nomor urut {seq}, mis. {seq:06d}.")
    if names.count("seq") > 1:
        raise ServiceError("Format ID CPMI hanya boleh memuat satu nomor urut {seq}.")
    # A spec such as {region:d} only fails once values are applied: try it on sample values.
    _apply(pattern, region="6309", issued=dt.date(2026, 1, 1), seq=1)


def _apply(pattern: str, *, region: str, issued: dt.date, seq: int | str) -> str:
    try:
        return pattern.format(
            region=region, year=issued.year, month=issued.month, day=issued.day, seq=seq
        )
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ServiceError(f"Format ID CPMI tidak dapat diterapkan: {exc}.") from exc


def format_cpmi_id(pattern: str, *, region: str, issued: dt.date, seq: int) -> str:
    """The CPMI ID for running number ``seq`` (from 1) issued on ``issued``."""
    validate_pattern(pattern)
    if not region or not _SAFE_ID.match(region):
        raise ServiceError(
            f"Kode wilayah untuk ID CPMI tidak valid: {region!r} (hanya huruf, angka, '-', '.')."
        )
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ServiceError(f"Nomor urut ID CPMI harus bilangan bulat mulai 1, bukan {seq!r}.")
    result = _apply(pattern, region=region, issued=issued, seq=seq)
    if not _SAFE_ID.match(result):
        raise ServiceError(
            f"Format ID CPMI menghasilkan {result!r}: hanya huruf, angka, '-', '.', '_' dan '/' "
            "yang boleh dipakai, tanpa spasi."
        )
    return result


def sequence_key(pattern: str, *, region: str, issued: dt.date) -> str:
    """Name of the counter the next ID draws its ``seq`` from (all but ``{seq}`` filled in)."""
    validate_pattern(pattern)
    rebuilt = []
    for text, name, spec, _ in string.Formatter().parse(pattern):
        rebuilt.append(text.replace("{", "{{").replace("}", "}}"))
        if name == "seq":
            rebuilt.append("#")
        elif name is not None:
            rebuilt.append("{" + name + (":" + spec if spec else "") + "}")
    return _apply("".join(rebuilt), region=region, issued=issued, seq="#")
