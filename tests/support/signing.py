"""Shared fixtures for the signing tests: one real demo PKI and its services per session.

Import them explicitly into a test module (``from tests.signing_fixtures import ...``); pytest
then finds the fixtures there.
"""

from __future__ import annotations

import socket
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko_certvalidator import ValidationContext
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from signing.delegation import Delegation, Official
from signing.demo_pki import DemoPKI
from signing.sign import (
    SignatureFieldSpec,
    SigningServices,
    add_signature_fields,
    load_signing_key,
    load_trust_roots,
)

__all__ = [
    "FIELDS",
    "KABID",
    "KADIS",
    "PASSPHRASE",
    "PP",
    "SEKDIS",
    "delegation",
    "demo_pki",
    "free_port",
    "keys",
    "make_agreement_pdf",
    "online_context",
    "pki_service",
    "reader_of",
    "services",
    "trust_roots",
    "unsigned_pdf",
]

PASSPHRASE = "kata-sandi-demo-Disnaker"
PP = "perjanjian_penempatan"
FIELDS = (
    SignatureFieldSpec("ttd_pengesahan", 0, (300, 60, 565, 190)),
    SignatureFieldSpec("ttd_kedua", 0, (30, 60, 290, 190)),
)

KADIS = Official(
    "Drs. Bambang Sutrisno, M.Si.",
    "196805121990031004",
    "Pembina Utama Muda (IV/c)",
    "kepala_dinas",
)
SEKDIS = Official(
    "Sri Wahyuni, S.H., M.H.", "197203151995032002", "Pembina Tingkat I (IV/b)", "sekretaris_dinas"
)
KABID = Official("Agus Priyanto, S.E.", "197908202003121001", "Pembina (IV/a)", "kepala_bidang_ptk")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_agreement_pdf(pages: int = 1) -> bytes:
    """A small placement-agreement-like PDF drawn with reportlab."""
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for number in range(pages):
        pdf.setFont("Helvetica-Bold", 14)
        pdf.drawString(72, 780, "PERJANJIAN PENEMPATAN PEKERJA MIGRAN INDONESIA")
        pdf.setFont("Helvetica", 11)
        pdf.drawString(72, 750, f"Nomor: 562/PP/{number + 1:03d}/Disnaker/2026")
        pdf.drawString(72, 730, "Antara PT Contoh Penempatan dan CPMI atas nama Siti Aminah")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def delegation(
    delegated: Official = SEKDIS,
    *,
    number: str = "800.1.11.1/045/Disnaker/2026",
    delegating: Official = KADIS,
    scope: frozenset[str] = frozenset({PP, "rekomendasi_paspor"}),
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    revoked_at: datetime | None = None,
    parent: Delegation | None = None,
    confirmed_at: datetime | None | bool = True,
) -> Delegation:
    """An SK pendelegasian in force (and confirmed by its maker) since 30 days ago unless told
    otherwise; ``confirmed_at=None`` is an unconfirmed draft."""
    now = datetime.now(UTC)
    valid_from = valid_from or now - timedelta(days=30)
    return Delegation(
        number=number,
        date=date(2026, 1, 5),
        delegating=delegating,
        delegated=delegated,
        scope=scope,
        valid_from=valid_from,
        valid_until=valid_until,
        revoked_at=revoked_at,
        parent=parent,
        confirmed_at=min(valid_from, now - timedelta(days=30)) if confirmed_at is True else confirmed_at,
    )


def reader_of(data: bytes) -> PdfFileReader:
    """A pyHanko reader over PDF bytes."""
    return PdfFileReader(BytesIO(data))


@pytest.fixture(scope="session")
def demo_pki(tmp_path_factory) -> DemoPKI:
    """The demo PKI, created once per session in a temporary directory on a free port."""
    directory = tmp_path_factory.mktemp("pki")
    return DemoPKI.create(directory, f"http://127.0.0.1:{free_port()}", PASSPHRASE)


@pytest.fixture(scope="session")
def pki_service(demo_pki):
    """OCSP, CRL and time-stamping served for the whole session."""
    with demo_pki.serve() as server:
        yield server


@pytest.fixture(scope="session")
def trust_roots(demo_pki):
    """The demo root certificate(s)."""
    return load_trust_roots([demo_pki.trust_root_path])


@pytest.fixture(scope="session")
def services(demo_pki, pki_service, trust_roots) -> SigningServices:
    """Signing services aiming at B-LTA, shared so caches are warm as in production."""
    return SigningServices(demo_pki.tsa_url, trust_roots, allow_fetching=True)


@pytest.fixture(scope="session")
def keys(demo_pki):
    """Loaded signing keys by alias (PKCS#12 decryption is slow: do it once)."""
    cache = {}

    def get(alias: str):
        if alias not in cache:
            cache[alias] = load_signing_key(demo_pki.p12_path(alias), PASSPHRASE)
        return cache[alias]

    return get


@pytest.fixture(scope="session")
def unsigned_pdf() -> bytes:
    """A test agreement with both signature fields already in place."""
    return add_signature_fields(make_agreement_pdf(), FIELDS)


@pytest.fixture
def online_context(trust_roots, pki_service):
    """A fresh validation context that fetches revocation data and requires it."""

    def make(**kwargs) -> ValidationContext:
        return ValidationContext(
            trust_roots=list(trust_roots),
            allow_fetching=True,
            revocation_mode="require",
            **kwargs,
        )

    return make
