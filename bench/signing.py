"""Signing speed: our B-LTA signing against a bare default pyHanko ``sign_pdf``.

Both sign the same PDF with the same key at the same level (B-LTA: signature timestamp, DSS,
document timestamp) against a demo PKI served on 127.0.0.1, alternating, in the same run. The
baseline builds what a naive caller builds per document (time-stamper, validation context) and
lets pyHanko size the CMS with its dry run; it has no visible stamp, which only favours it.

Run: ``.venv/bin/python -m bench.signing``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko_certvalidator import ValidationContext

from bench import figure
from signing.delegation import Official, authorise
from signing.demo_pki import DemoPKI
from signing.sign import (
    LEVEL_B_LTA,
    SignatureFieldSpec,
    SigningServices,
    StampSpec,
    add_signature_fields,
    load_signing_key,
    load_trust_roots,
    sign_document,
)

__all__ = ["run"]

_ROUNDS = 12
_WARMUP = 2
_PASSPHRASE = "bench-passphrase"
FIELD = "ttd_pengesahan"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def agreement_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 780, "PERJANJIAN PENEMPATAN PEKERJA MIGRAN INDONESIA")
    pdf.showPage()
    pdf.save()
    spec = SignatureFieldSpec(FIELD, 0, (300, 60, 565, 190))
    return add_signature_fields(buffer.getvalue(), [spec])


def _baseline(pdf: bytes, key, pki: DemoPKI, roots) -> bytes:
    """A default pyHanko B-LTA signature, set up from scratch as a naive caller would."""
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=True,
        use_pades_lta=True,
        validation_context=ValidationContext(
            trust_roots=list(roots), allow_fetching=True, revocation_mode="require"
        ),
    )
    out = signers.sign_pdf(
        IncrementalPdfFileWriter(BytesIO(pdf)),
        meta,
        signer=key.signer,
        timestamper=timestamps.HTTPTimeStamper(pki.tsa_url),
    )
    return out.getvalue()




def run() -> list[dict]:
    """Measure and return the signing figures."""
    with tempfile.TemporaryDirectory(prefix="bench-signing-") as tmp:
        pki = DemoPKI.create(Path(tmp) / "pki", f"http://127.0.0.1:{free_port()}", _PASSPHRASE)
        pdf = agreement_pdf()
        key = load_signing_key(pki.p12_path("kepala-dinas"), _PASSPHRASE)
        roots = load_trust_roots([pki.trust_root_path])
        kadis = Official(
            "Drs. Bambang Sutrisno, M.Si.",
            "196805121990031004",
            "Pembina Utama Muda (IV/c)",
            "kepala_dinas",
        )
        stamp = StampSpec("https://disnaker.example/verifikasi/AB12CD", (), "AB12CD")
        services = SigningServices(pki.tsa_url, roots, allow_fetching=True)
        ours: list[float] = []
        base: list[float] = []
        with pki.serve():
            for round_no in range(_WARMUP + _ROUNDS):
                start = time.perf_counter()
                authority = authorise(kadis, [], datetime.now(UTC), "perjanjian_penempatan")
                signed = sign_document(
                    pdf, key, authority, field_name=FIELD, stamp=stamp, services=services
                )
                mid = time.perf_counter()
                _baseline(pdf, key, pki, roots)
                end = time.perf_counter()
                if signed.level != LEVEL_B_LTA:
                    raise RuntimeError(f"expected B-LTA, got {signed.level}")
                if round_no >= _WARMUP:
                    ours.append(mid - start)
                    base.append(end - mid)
    ours_s, base_s = statistics.median(ours), statistics.median(base)
    return [
        figure(
            "signing.b_lta_seconds_per_document",
            ours_s,
            "s",
            "pyhanko.sign_pdf default B-LTA",
            base_s,
        ),
        figure(
            "signing.agreements_per_minute_one_process",
            60.0 / ours_s,
            "agreements/min",
            "pyhanko.sign_pdf default B-LTA",
            60.0 / base_s,
        ),
    ]


if __name__ == "__main__":
    for figure in run():
        print(
            f"{figure['name']}: {figure['value']} {figure['unit']} "
            f"(baseline {figure['baseline']['name']}: {figure['baseline']['value']}, "
            f"ratio {figure['ratio']})"
        )
