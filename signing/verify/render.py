"""Rendering a verification report for a terminal (text or JSON) and the CLI entry point."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from asn1crypto import x509

from pengesahan.errors import ServiceError, VerificationError
from signing.verify.checks import verify_pdf
from signing.verify.report import (
    _EXIT_UNREADABLE,
    DelegationInfo,
    RegisteredAgreement,
    VerificationReport,
    _format_time,
)

__all__ = ["format_text", "verify_main"]


def format_text(report: VerificationReport) -> str:
    """A plain-text rendering of the report for a terminal."""
    lines = [
        report.verdict,
        f"ETSI EN 319 102-1: {report.indication} ({report.indication.explanation})",
        f"SHA-256: {report.sha256}",
    ]
    lines.extend(f"* {note}" for note in report.notes)
    if report.registry is not None:
        lines.append(report.registry.message)
    for problem in report.problems:
        lines.append(f"- {problem.message}")
    for number, sig in enumerate(report.signatures, 1):
        signer = sig.signer
        lines.append("")
        lines.append(
            f"Tanda tangan {number} ({sig.field_name}): {'SAH' if sig.ok else 'TIDAK SAH'}"
        )
        if signer is not None:
            lines.append(
                f"  Penanda tangan : {signer.name}" + (f" (NIP {signer.nip})" if signer.nip else "")
            )
            if signer.capacity:
                lines.append(f"  Jabatan        : {signer.capacity}")
            if signer.sk_reference:
                lines.append(f"  Dasar          : {signer.sk_reference}")
        source = {"timestamp": "cap waktu tepercaya", "claimed": "dinyatakan penanda tangan"}
        lines.append(
            f"  Waktu          : {_format_time(sig.signing_time)}"
            + (f" ({source[sig.signing_time_source]})" if sig.signing_time_source else "")
        )
        lines.append(f"  Tingkat PAdES  : {sig.level}")
        lines.append(
            f"  ETSI           : {sig.ades.indication}"
            + (f" / {sig.ades.sub_indication}" if sig.ades.sub_indication else "")
        )
        for problem in sig.problems:
            lines.append(f"  ! {problem.message}")
        for note in sig.notes:
            lines.append(f"  * {note}")
    for ts in report.timestamps:
        lines.append("")
        lines.append(f"Cap waktu dokumen ({ts.field_name}): {ts.message} [ETSI: {ts.ades}]")
    return "\n".join(lines)


def verify_main(
    path: Path | str,
    *,
    as_json: bool = False,
    trust_roots: Iterable[x509.Certificate],
    registry_lookup: Callable[[str], RegisteredAgreement | None] | None = None,
    delegation_lookup: Callable[[str], DelegationInfo | None] | None = None,
    allow_fetching: bool = False,
) -> tuple[int, str]:
    """For the CLI: (exit code, output). 0 valid, 1 not valid, 2 not a readable PDF."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return _error_output(
            VerificationError(f"Berkas tidak dapat dibaca: {exc.strerror or exc}."), as_json
        )
    try:
        report = verify_pdf(
            data,
            trust_roots=trust_roots,
            registry_lookup=registry_lookup,
            delegation_lookup=delegation_lookup,
            allow_fetching=allow_fetching,
        )
    except VerificationError as exc:
        return _error_output(exc, as_json)
    output = report.to_json() if as_json else format_text(report)
    return report.exit_code, output


def _error_output(exc: ServiceError, as_json: bool) -> tuple[int, str]:
    if as_json:
        body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
        return _EXIT_UNREADABLE, json.dumps(body, ensure_ascii=False, indent=2)
    return _EXIT_UNREADABLE, exc.message
