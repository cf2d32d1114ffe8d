"""Verification speed: ``signing.verify`` against a bare pyHanko ``validate_pdf_signature``.

Both check the same signed agreement in the same run, alternating. The baseline is what a
naive caller writes to check every signature in the file: a reader, then for each signature the
bare pyHanko call that fits it (``validate_pdf_signature``, or ``validate_pdf_timestamp`` for
the B-LTA's document timestamp), with a validation context over the trust root and nothing else
(no revocation check, no proof-of-existence ordering, no SK, no register). Ours does all of
that, offline, as the public page does.

Run: ``.venv/bin/python -m bench.verification``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleTrustManager

from bench import figure
from bench.signing import FIELD, agreement_pdf, free_port
from signing.delegation import Delegation, Official, authorise
from signing.demo_pki import DemoPKI
from signing.sign import (
    SigningServices,
    StampSpec,
    load_signing_key,
    load_trust_roots,
    sign_document,
)
from signing.verify import Verifier

__all__ = ["run"]

_ROUNDS = 40
_WARMUP = 3
_PASSPHRASE = "bench-passphrase"
_KADIS = Official("Drs. Bambang Sutrisno, M.Si.", "196805121990031004", "IV/c", "kepala_dinas")
_SEKDIS = Official("Sri Wahyuni, S.H., M.H.", "197203151995032002", "IV/b", "sekretaris_dinas")


def _baseline(data: bytes, roots) -> None:
    """A bare pyHanko validation of every signature, set up as a naive caller would."""
    reader = PdfFileReader(BytesIO(data))
    for sig in reader.embedded_regular_signatures:
        context = ValidationContext(trust_manager=SimpleTrustManager.build(trust_roots=roots))
        validate_pdf_signature(sig, context)
    for timestamp in reader.embedded_timestamp_signatures:
        context = ValidationContext(trust_manager=SimpleTrustManager.build(trust_roots=roots))
        validate_pdf_timestamp(timestamp, context)


def _measure(data: bytes, verifier: Verifier, roots, lookup) -> tuple[float, float]:
    ours: list[float] = []
    base: list[float] = []
    for round_no in range(_WARMUP + _ROUNDS):
        start = time.perf_counter()
        report = verifier.verify(data, delegation_lookup=lookup)
        mid = time.perf_counter()
        _baseline(data, roots)
        end = time.perf_counter()
        if not report.ok:
            raise RuntimeError(f"the benchmark document does not verify: {report.verdict}")
        if round_no >= _WARMUP:
            ours.append(mid - start)
            base.append(end - mid)
    return statistics.median(ours), statistics.median(base)


def run() -> list[dict]:
    """Sign a B-LTA and a B-T agreement on a demo PKI, then time their verification."""
    with tempfile.TemporaryDirectory(prefix="bench-verification-") as tmp:
        pki = DemoPKI.create(Path(tmp) / "pki", f"http://127.0.0.1:{free_port()}", _PASSPHRASE)
        roots = list(load_trust_roots([pki.trust_root_path]))
        key = load_signing_key(pki.p12_path("sekretaris-dinas"), _PASSPHRASE)
        sk = Delegation(
            number="800/017/DISNAKER/2026",
            date=datetime.now(UTC).date(),
            delegating=_KADIS,
            delegated=_SEKDIS,
            scope=frozenset({"perjanjian_penempatan"}),
            valid_from=datetime.now(UTC) - timedelta(days=30),
            # Confirmed by the Kepala Dinas's own signature, as every SK must be to authorise.
            confirmed_at=datetime.now(UTC) - timedelta(days=29),
        )
        authority = authorise(_SEKDIS, [sk], datetime.now(UTC), "perjanjian_penempatan")
        stamp = StampSpec("https://disnaker.example/verifikasi/1", (), "AB12CD")
        pdf = agreement_pdf()
        with pki.serve():
            lta = sign_document(
                pdf,
                key,
                authority,
                field_name=FIELD,
                stamp=stamp,
                services=SigningServices(pki.tsa_url, tuple(roots), allow_fetching=True),
            )
            bt = sign_document(
                pdf,
                key,
                authority,
                field_name=FIELD,
                stamp=stamp,
                services=SigningServices(pki.tsa_url, tuple(roots), allow_fetching=False),
            )
    # Verification is offline: the PKI's services are stopped before measuring.
    verifier = Verifier(roots)

    def lookup(number: str) -> Delegation | None:
        return sk if number == sk.number else None

    lta_ours, lta_base = _measure(lta.data, verifier, roots, lookup)
    bt_ours, bt_base = _measure(bt.data, verifier, roots, lookup)
    base_name = "pyhanko validate_pdf_signature/_timestamp (bare, every signature)"
    return [
        figure("verification.b_lta_seconds_per_document", lta_ours, "s", base_name, lta_base),
        figure(
            "verification.b_lta_verifications_per_second",
            1.0 / lta_ours,
            "verifications/s",
            base_name,
            1.0 / lta_base,
        ),
        figure("verification.b_t_seconds_per_document", bt_ours, "s", base_name, bt_base),
    ]


if __name__ == "__main__":
    for result in run():
        print(
            f"{result['name']}: {result['value']} {result['unit']} "
            f"(baseline {result['baseline']['name']}: {result['baseline']['value']}, "
            f"ratio {result['ratio']})"
        )
