"""PAdES signing of a placement agreement with pyHanko.

The entry point is :func:`sign_document`: it signs with a visible QR stamp, names the SK
pendelegasian in the signature's /Reason and in a signed CAdES claimed-role attribute, and aims
for PAdES B-LTA (signature timestamp, revocation data in the DSS, document timestamp). It falls
back to B-T when revocation data cannot be had (fetching disabled or the responder unreachable)
and to B-B when no time-stamping authority is configured; the level reached is reported.

Delegation is checked twice: the caller authorises with the current time before signing, and
:func:`sign_document` authorises again with the time of the signature timestamp, the trusted
time, refusing the result if the SK was not in force then.

Speed: a service signs all day, so the expensive parts are done once and reused. The space for
the CMS is computed from the certificate chain and the level instead of pyHanko's dry-run
signature; the time-stamper (which caches its size-estimation token) and the trust manager (the
parsed roots) live in :class:`SigningServices`. The validation context is made afresh for every
document: pyHanko embeds all the OCSP responses and CRLs a context has gathered into the DSS, so
a shared one would put one official's revocation data into another official's agreement.
"""

from __future__ import annotations

import hashlib
import logging
import textwrap
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from asn1crypto import cms, pem, x509
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.ades.api import CAdESSignedAttrSpec, SignerAttrSpec
from pyhanko.sign.general import SigningError as PyHankoSigningError
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.sign.validation.dss import DocumentSecurityStore, NoDSSFoundError
from pyhanko.stamp import QRStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import (
    CertificateFetchError,
    CRLFetchError,
    CRLValidationIndeterminateError,
    ExpiredError,
    InsufficientRevinfoError,
    NotYetValidError,
    OCSPFetchError,
    OCSPValidationIndeterminateError,
    PathError,
    PathValidationError,
    RevokedError,
)
from pyhanko_certvalidator.registry import SimpleTrustManager

from pengesahan.errors import SigningError, SigningRefused, WrongPassphrase
from signing.delegation import SigningAuthority, authorise

__all__ = [
    "LEVEL_B_B",
    "LEVEL_B_LTA",
    "LEVEL_B_T",
    "ArchiveState",
    "SignatureFieldSpec",
    "SignedDocument",
    "SigningKey",
    "SigningServices",
    "StampLayout",
    "StampSpec",
    "add_signature_fields",
    "archive_state",
    "load_signing_key",
    "load_trust_roots",
    "renew_archive_timestamp",
    "sign_document",
    "stamp_layout",
    "stamp_lines",
    "stamp_style",
    "trusted_time",
]

logger = logging.getLogger(__name__)

LEVEL_B_B = "B-B"
LEVEL_B_T = "B-T"
LEVEL_B_LTA = "B-LTA"

#: Room for everything in the CMS besides certificates and the timestamp token: signed
#: attributes (claimed role, signing certificate, CMS algorithm protection), the signature value
#: and the ASN.1 framing. Measured around 1.3 KB for RSA-2048; kept generous.
_CMS_OVERHEAD = 3072
#: Room for a timestamp token whose TSA chain is not known before asking: token framing and
#: signature plus the TSA and CA certificates a TSA usually embeds.
_TST_ALLOWANCE = 6144


# ---------------------------------------------------------------------------------------------
# Keys


@dataclass(frozen=True)
class SigningKey:
    """A loaded signing key: the pyHanko signer and the certificates that go with it."""

    #: The pyHanko signer (a SimpleSigner from PKCS#12, or a PKCS#11 signer).
    signer: signers.Signer
    #: The signer's own certificate.
    certificate: x509.Certificate
    #: The issuer certificates known for it (the chain, without the signer's).
    chain: tuple[x509.Certificate, ...]

    @property
    def subject_name(self) -> str:
        """The common name in the certificate."""
        return self.certificate.subject.native.get("common_name", "")

    @property
    def chain_size(self) -> int:
        """DER size of the signer certificate and its chain, for the CMS size estimate."""
        return len(self.certificate.dump()) + sum(len(c.dump()) for c in self.chain)


def load_signing_key(p12_path: Path | str, passphrase: str) -> SigningKey:
    """Load an official's PKCS#12 file; a wrong passphrase raises :class:`WrongPassphrase`."""
    try:
        data = Path(p12_path).read_bytes()
    except OSError as exc:
        raise SigningError(f"Berkas kunci penandatanganan tidak dapat dibaca: {p12_path}") from exc
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(
            data, other_certs=(), passphrase=passphrase.encode("utf-8")
        )
    except ValueError as exc:
        # cryptography says the same for a wrong passphrase and for a corrupt file; the
        # passphrase itself must never reach a message or a log.
        raise WrongPassphrase(
            "Frasa sandi kunci penandatanganan salah, atau berkas kunci tanda tangan (.p12) rusak."
        ) from exc
    cert = signer.signing_cert
    chain = tuple(c for c in signer.cert_registry if c.sha256 != cert.sha256)
    return SigningKey(signer=signer, certificate=cert, chain=chain)


def load_trust_roots(paths: Iterable[Path | str]) -> tuple[x509.Certificate, ...]:
    """Read trust-root certificates from PEM or DER files."""
    roots = []
    for path in paths:
        data = Path(path).read_bytes()
        if pem.detect(data):
            for _, _, der in pem.unarmor(data, multiple=True):
                roots.append(x509.Certificate.load(der))
        else:
            roots.append(x509.Certificate.load(data))
    return tuple(roots)


# ---------------------------------------------------------------------------------------------
# Services


@dataclass
class _Runtime:
    """Objects reused across signatures: none of them carries one document's revocation data."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    timestamper: timestamps.TimeStamper | None = None
    #: The trust roots, parsed once (immutable, so safe to share between documents).
    trust_manager: SimpleTrustManager | None = None
    #: Largest CMS seen per (chain size, level), to reserve room without a dry run.
    measured: dict[tuple[int, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class SigningServices:
    """Outside services a signature uses: time-stamping and revocation data."""

    #: RFC 3161 TSA URL; None gives B-B signatures.
    timestamp_url: str | None
    #: Certificates trusted as roots when validating the signer's and the TSA's chains.
    trust_roots: tuple[x509.Certificate, ...] = ()
    #: Whether OCSP responses and CRLs may be fetched (needed for B-LTA).
    allow_fetching: bool = True
    #: Seconds to wait for the TSA.
    timeout: float = 10.0
    #: Alternative time-stamper (e.g. pyHanko's DummyTimeStamper in tests); wins over the URL.
    timestamper: timestamps.TimeStamper | None = field(default=None, compare=False)
    _runtime: _Runtime = field(default_factory=_Runtime, repr=False, compare=False)

    def get_timestamper(self) -> timestamps.TimeStamper | None:
        """The shared time-stamper (it caches the token used for size estimation)."""
        if self.timestamper is not None:
            return self.timestamper
        if not self.timestamp_url:
            return None
        with self._runtime.lock:
            if self._runtime.timestamper is None:
                self._runtime.timestamper = timestamps.HTTPTimeStamper(
                    self.timestamp_url, timeout=self.timeout
                )
            return self._runtime.timestamper

    def validation_context(self) -> ValidationContext:
        """A fresh validation context for one document, fetching revocation data.

        Never shared between documents: the context collects every OCSP response and CRL it
        fetches, and pyHanko embeds all of them into the document's DSS. Its fetchers (which
        cache responses) are therefore new too; only the parsed trust roots are reused.
        """
        with self._runtime.lock:
            if self._runtime.trust_manager is None:
                self._runtime.trust_manager = SimpleTrustManager.build(
                    trust_roots=list(self.trust_roots)
                )
            trust_manager = self._runtime.trust_manager
        return ValidationContext(
            trust_manager=trust_manager,
            allow_fetching=self.allow_fetching,
            revocation_mode="require",
        )


# ---------------------------------------------------------------------------------------------
# Fields


@dataclass(frozen=True)
class SignatureFieldSpec:
    """A signature field to create: its name, page (0-based) and box in PDF points."""

    #: Field name, e.g. "ttd_kepala_dinas".
    name: str
    #: Page index, 0 for the first page; -1 for the last.
    page: int
    #: (x1, y1, x2, y2) from the bottom-left corner of the page, in points.
    box: tuple[float, float, float, float]


def add_signature_fields(pdf: bytes, field_specs: Sequence[SignatureFieldSpec]) -> bytes:
    """Add every signature field before the first signature is applied.

    Fields added after a signature count as modifications to it, so all of them must exist
    when the first one is signed.
    """
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
        page_count = int(writer.root["/Pages"]["/Count"])
        for spec in field_specs:
            page = spec.page if spec.page >= 0 else page_count + spec.page
            fields.append_signature_field(
                writer,
                fields.SigFieldSpec(sig_field_name=spec.name, on_page=page, box=spec.box),
            )
        out = BytesIO()
        writer.write(out)
    except (PdfError, ValueError, KeyError) as exc:
        raise SigningError(f"Kolom tanda tangan tidak dapat dibuat: {exc}") from exc
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Signing


@dataclass(frozen=True)
class StampSpec:
    """What the visible stamp shows besides the signer: QR target and extra lines."""

    #: URL in the QR code, the public verification page of this document.
    qr_url: str
    #: Extra lines printed under the signer block (e.g. the agreement number).
    lines: tuple[str, ...] = ()
    #: Short verification code printed on the stamp.
    short_hash: str | None = None
    #: The office's time zone (IANA name) and how people call it, e.g. ("Asia/Makassar", "WITA"):
    #: the stamp shows the signing time there, as the ratification page does; UTC when None.
    zone: tuple[str, str] | None = None


@dataclass(frozen=True)
class SignedDocument:
    """A signed PDF and what was reached."""

    #: The signed PDF.
    data: bytes
    #: PAdES level reached: "B-LTA", "B-T" or "B-B".
    level: str
    #: SHA-256 of :attr:`data`, hex.
    sha256: str
    #: Time in the signature timestamp (trusted time); None for B-B.
    timestamp_time: datetime | None
    #: The field that was signed.
    field_name: str


def _escape(text: str) -> str:
    # pyHanko interpolates stamp text with %-formatting.
    return text.replace("%", "%%")


def stamp_lines(authority: SigningAuthority, stamp: StampSpec) -> list[str]:
    """The text of the visible stamp, top to bottom."""
    signer = authority.signer
    lines = list(authority.capacity_lines)
    lines += [signer.name, signer.rank, f"NIP {signer.nip}"]
    if authority.delegation is not None:
        lines.append(f"Berdasarkan {authority.delegation.reference}")
    lines += list(stamp.lines)
    if stamp.short_hash:
        lines.append(f"Kode verifikasi: {stamp.short_hash}")
    return lines


def _stamp_time(zone: tuple[str, str] | None) -> str:
    """The signing time as printed on the stamp: office zone, Indonesian order (dd-mm-yyyy)."""
    name, label = zone or ("UTC", "UTC")
    return f"{datetime.now(ZoneInfo(name)).strftime('%d-%m-%Y %H:%M')} {label}"


#: Stamp text sizes tried in turn, largest first. Never below 6 pt, which stays legible printed
#: and scanned at 150 dpi (pyHanko scaled long stamps down to about 4 pt); pyHanko writes font
#: sizes as whole points.
STAMP_FONT_SIZES = (8, 7, 6)
#: Smallest QR code (pt, about 16 mm) given up to the text before it is set more densely.
_STAMP_MIN_QR = 46
#: pyHanko's stamp font is Courier (standard, monospaced): every character advances 0.6 em.
_COURIER_ADVANCE = 0.6
#: Space around the QR code, and between the text and the stamp's edge (pt). pyHanko puts the
#: last baseline on the text box's bottom edge: the bottom margin holds Courier's descenders
#: (0.16 em); the first line's leading already leaves room above it.
_STAMP_INNSEP = 3
_STAMP_MARGIN_X = 3
_STAMP_MARGIN_TOP = 0
_STAMP_MARGIN_BOTTOM = 2


@dataclass(frozen=True)
class StampLayout:
    """How the stamp's text is set in its box, chosen so nothing is scaled down."""

    #: Font size of every line (pt).
    font_size: int
    #: Distance between baselines (pt).
    leading: int
    #: The text, wrapped to the width left beside the QR code.
    lines: tuple[str, ...]
    #: Side of the QR code (pt).
    qr_size: int


def _compacted(lines: list[str], level: int, columns: int) -> list[str]:
    """The stamp's lines with fewer breaks, as much as ``level`` (0 to 3) allows: "u.b." on the
    line of the official it introduces, then the NIP after the rank and the time after the
    code when the joined line still fits in ``columns``."""
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        joined = None
        if level >= 1 and previous == "u.b.":
            joined = f"u.b. {line}"
        elif level >= 2 and line.startswith("NIP ") and out:
            joined = f"{previous}, {line}"
        elif level >= 3 and line.startswith("Waktu: ") and previous.startswith("Kode verifikasi: "):
            joined = f"Kode {previous.removeprefix('Kode verifikasi: ')}, {line.removeprefix('Waktu: ')}"
        if joined is not None and (previous == "u.b." or len(joined) <= columns):
            out[-1] = joined
        else:
            out.append(line)
    return out


def stamp_layout(lines: Sequence[str], width: float, height: float) -> StampLayout:
    """Set ``lines`` in a stamp of ``width`` x ``height`` pt beside its QR code: the largest
    font of :data:`STAMP_FONT_SIZES` at which the wrapped text fits, wrapping long names and SK
    citations between words rather than shrinking them; lines are joined and the QR code made
    smaller before the font. A word longer than a line (an SK number) is cut only at 6 pt. Only
    text that fits nowhere at 6 pt (never the case for the office's positions and a
    60-character name) is left to pyHanko to scale."""
    usable_height = height - 1  # the border
    biggest_qr = max(_STAMP_MIN_QR, int(usable_height) - 2 * _STAMP_INNSEP)
    qr_sizes = sorted({*range(biggest_qr, _STAMP_MIN_QR, -4), _STAMP_MIN_QR}, reverse=True)
    smallest = STAMP_FONT_SIZES[-1]
    densest = None
    for size in STAMP_FONT_SIZES:
        for level in range(4):
            for leading in (size + 1, size):
                for qr in qr_sizes:
                    text_width = width - 1 - (qr + 2 * _STAMP_INNSEP) - 2 * _STAMP_MARGIN_X
                    columns = max(1, int(text_width // (_COURIER_ADVANCE * size)))
                    logical = _compacted(list(lines), level, columns)
                    wrapped = [part for line in logical
                               for part in textwrap.wrap(line, columns, break_on_hyphens=False,
                                                         break_long_words=size == smallest) or [""]]
                    candidate = StampLayout(size, leading, tuple(wrapped), qr)
                    fits = (len(wrapped) * leading + _STAMP_MARGIN_TOP + _STAMP_MARGIN_BOTTOM <= usable_height
                            and max(map(len, wrapped)) <= columns)
                    if fits:
                        return candidate
                    densest = candidate
    logger.warning("Teks cap tanda tangan tidak muat pada %s pt; pyHanko akan mengecilkannya", smallest)
    return densest


def stamp_style(authority: SigningAuthority, stamp: StampSpec, box: tuple[float, float] | None,
                *, with_time: bool = True) -> QRStampStyle:
    """The visible stamp of a signature in a field of ``box`` (width, height in pt): QR code at
    the left, the text beside it at 6 pt or more (see :func:`stamp_layout`)."""
    lines = stamp_lines(authority, stamp)
    if with_time:
        lines.append(f"Waktu: {_stamp_time(stamp.zone)}")
    if box is None:  # no field to measure: pyHanko's own layout
        return QRStampStyle(stamp_text="\n".join(_escape(line) for line in lines), border_width=1)
    chosen = stamp_layout(lines, *box)
    return QRStampStyle(
        stamp_text="\n".join(_escape(line) for line in chosen.lines),
        border_width=1,
        innsep=_STAMP_INNSEP,
        qr_inner_size=chosen.qr_size,
        text_box_style=TextBoxStyle(
            font_size=chosen.font_size,
            leading=chosen.leading,
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MIN,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins(left=_STAMP_MARGIN_X, right=_STAMP_MARGIN_X,
                                       top=_STAMP_MARGIN_TOP, bottom=_STAMP_MARGIN_BOTTOM),
            ),
        ),
    )


def _field_box(writer: IncrementalPdfFileWriter, field_name: str) -> tuple[float, float] | None:
    """Width and height (pt) of the signature field ``field_name``'s widget, if it has one."""
    for name, _value, field_ref in fields.enumerate_sig_fields(writer, with_name=field_name):
        if name != field_name:
            continue
        widget = field_ref.get_object()
        if "/Rect" not in widget and "/Kids" in widget:
            widget = widget["/Kids"][0].get_object()
        if "/Rect" in widget:
            x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
            return abs(x2 - x1), abs(y2 - y1)
    return None


def _claimed_role(authority: SigningAuthority) -> cms.AttCertAttribute:
    """A CAdES claimed role: the capacity as role name, the SK (if any) as role authority."""
    signer = authority.signer
    role: dict = {
        "role_name": x509.GeneralName(
            name="directory_name",
            value=x509.Name.build(
                {
                    "common_name": signer.name,
                    "title": authority.capacity,
                    "serial_number": f"NIP {signer.nip}",
                }
            ),
        )
    }
    if authority.delegation is not None:
        role["role_authority"] = [
            x509.GeneralName(
                name="directory_name",
                value=x509.Name.build({"common_name": authority.delegation.reference}),
            )
        ]
    return cms.AttCertAttribute({"type": "role", "values": [role]})


def _bytes_reserved(key: SigningKey, level: str, services: SigningServices) -> int:
    """Room for the CMS computed instead of a dry run, in hex digits as pyHanko counts it."""
    measured = services._runtime.measured.get((key.chain_size, level))
    if measured:
        size = measured + 1024
    else:
        size = _CMS_OVERHEAD + key.chain_size
        if level != LEVEL_B_B:
            size += _TST_ALLOWANCE
    return 2 * size


def _signature_timestamp(signed_data: cms.SignedData) -> datetime | None:
    """The genTime of the signature timestamp token, or None when there is none."""
    signer_info = signed_data["signer_infos"][0]
    attrs = signer_info["unsigned_attrs"]
    if attrs.native is None:
        return None
    for attr in attrs:
        if attr["type"].native == "signature_time_stamp_token":
            token = attr["values"][0]
            tst_info = token["content"]["encap_content_info"]["content"].parsed
            return tst_info["gen_time"].native
    return None


def trusted_time(signed_pdf: bytes, field_name: str | None = None) -> datetime | None:
    """Time in the signature timestamp of a signed PDF (the named or the first signature)."""
    reader = PdfFileReader(BytesIO(signed_pdf), strict=False)
    for sig in reader.embedded_regular_signatures:
        if field_name is None or sig.field_name == field_name:
            return _signature_timestamp(sig.signed_data)
    raise SigningError("Dokumen tidak memuat tanda tangan yang dicari.")


def _sign_once(
    pdf: bytes,
    key: SigningKey,
    authority: SigningAuthority,
    *,
    field_name: str,
    stamp: StampSpec,
    certify: bool,
    level: str,
    services: SigningServices,
) -> bytes:
    timestamper = services.get_timestamper() if level != LEVEL_B_B else None
    lta = level == LEVEL_B_LTA
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=authority.reason,
        name=authority.signer.name,
        location=None,
        certify=certify,
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        subfilter=fields.SigSeedSubFilter.PADES,
        embed_validation_info=lta,
        use_pades_lta=lta,
        validation_context=services.validation_context() if lta else None,
        cades_signed_attr_spec=CAdESSignedAttrSpec(
            signer_attributes=SignerAttrSpec(
                claimed_attrs=[_claimed_role(authority)], certified_attrs=()
            )
        ),
    )
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    style = stamp_style(authority, stamp, _field_box(writer, field_name), with_time=timestamper is not None)
    pdf_signer = signers.PdfSigner(
        meta, signer=key.signer, timestamper=timestamper, stamp_style=style
    )
    reserved = _bytes_reserved(key, level, services)
    try:
        out = pdf_signer.sign_pdf(
            writer,
            existing_fields_only=True,
            bytes_reserved=reserved,
            appearance_text_params={"url": stamp.qr_url},
        )
    except PyHankoSigningError as exc:
        if "reserved" in str(exc).lower() or "space" in str(exc).lower():
            # The estimate was short (an unusually large chain or TST): let pyHanko measure.
            logger.warning("CMS tidak muat dalam %d byte; mengukur ulang", reserved)
            writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
            out = pdf_signer.sign_pdf(
                writer,
                existing_fields_only=True,
                appearance_text_params={"url": stamp.qr_url},
            )
        else:
            raise
    return out.getvalue()


def _causes(exc: BaseException):
    """The exception and everything it was raised from (pyHanko wraps certvalidator errors)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _translate(exc: Exception, level: str) -> SigningError:
    """A pyHanko/certvalidator/network failure as an error fit to show the officer."""
    causes = list(_causes(exc))
    if any(isinstance(c, RevokedError) for c in causes):
        return SigningRefused(
            "Sertifikat penandatangan telah dicabut oleh penerbitnya; dokumen tidak dapat "
            "ditandatangani dengan sertifikat ini."
        )
    if any(isinstance(c, ExpiredError | NotYetValidError) for c in causes):
        return SigningRefused(
            "Sertifikat penandatangan sudah kedaluwarsa atau belum berlaku; dokumen tidak dapat "
            "ditandatangani dengan sertifikat ini."
        )
    if any(isinstance(c, PathError | PathValidationError) for c in causes):
        return SigningRefused(
            "Sertifikat penandatangan tidak berasal dari penerbit sertifikat yang dipercaya kantor."
        )
    if level != LEVEL_B_B and any(isinstance(c, TimestampRequestError) for c in causes):
        return SigningError(
            "Layanan cap waktu tepercaya tidak dapat dihubungi atau menolak permintaan; coba lagi "
            "beberapa saat lagi."
        )
    # The officer reads plain words; the cause stays on the exception chain for the log.
    return SigningError("Penandatanganan gagal karena gangguan teknis; coba lagi, atau hubungi "
                        "administrator bila terulang.")


def _is_revinfo_unavailable(exc: Exception) -> bool:
    """Whether signing at B-LTA failed only because revocation data could not be obtained."""
    causes = list(_causes(exc))
    if any(isinstance(c, RevokedError | ExpiredError | NotYetValidError) for c in causes):
        return False
    return any(
        isinstance(
            c,
            InsufficientRevinfoError
            | CertificateFetchError
            | OCSPFetchError
            | CRLFetchError
            | OCSPValidationIndeterminateError
            | CRLValidationIndeterminateError,
        )
        for c in causes
    )


def sign_document(
    pdf: bytes,
    key: SigningKey,
    authority: SigningAuthority,
    *,
    field_name: str,
    stamp: StampSpec,
    certify: bool = False,
    services: SigningServices,
) -> SignedDocument:
    """Sign ``pdf`` in the existing field ``field_name`` as ``authority`` allows.

    ``authority`` comes from :func:`signing.delegation.authorise` with the current time; here it
    is checked again with the signature timestamp's time and :class:`SigningRefused` is raised
    if the SK was not in force at that trusted time.
    """
    if services.timestamper is None and not services.timestamp_url:
        levels = [LEVEL_B_B]
    elif services.allow_fetching:
        levels = [LEVEL_B_LTA, LEVEL_B_T]
    else:
        levels = [LEVEL_B_T]
    data = b""
    level = levels[0]
    for level in levels:
        try:
            data = _sign_once(
                pdf,
                key,
                authority,
                field_name=field_name,
                stamp=stamp,
                certify=certify,
                level=level,
                services=services,
            )
            break
        except (SigningError, TypeError, AttributeError, NameError):
            raise  # ours, or a programming error: not a signing failure to translate
        except Exception as exc:  # noqa: BLE001 - pyHanko raises many types; translated here
            if level == LEVEL_B_LTA and _is_revinfo_unavailable(exc):
                logger.warning("Data pencabutan tidak tersedia, turun ke B-T: %s", exc)
                continue
            raise _translate(exc, level) from exc
    reader = PdfFileReader(BytesIO(data), strict=False)
    sig = next(s for s in reader.embedded_regular_signatures if s.field_name == field_name)
    cms_size = len(sig.signed_data.dump()) + 64  # ContentInfo framing
    runtime = services._runtime
    slot = (key.chain_size, level)
    runtime.measured[slot] = max(runtime.measured.get(slot, 0), cms_size)
    ts_time = _signature_timestamp(sig.signed_data)
    if ts_time is not None and authority.delegation is not None:
        # The rule binds at the trusted time, not the time the signer's machine claims.
        authorise(authority.signer, [authority.delegation], ts_time, authority.scope)
    return SignedDocument(
        data=data,
        level=level,
        sha256=hashlib.sha256(data).hexdigest(),
        timestamp_time=ts_time,
        field_name=field_name,
    )


# ---------------------------------------------------------------------------------------------
# Long-term upkeep (PAdES-LTA renewal)


@dataclass(frozen=True)
class ArchiveState:
    """How long the newest evidence in a signed PDF stays verifiable."""

    #: Earliest expiry in the certificate chain of the newest document timestamp (else of the
    #: newest signature timestamp, else of the newest signer); None without any signature.
    lapses_at: datetime | None
    #: Document timestamps in the file (each LTA renewal adds one).
    document_timestamps: int
    #: The same for the document timestamp before the newest one (None with fewer than two):
    #: equal to :attr:`lapses_at` when the last renewal could not carry the file any further.
    previous_lapses_at: datetime | None = None


def _chain_lapse(signed_data: cms.SignedData, pool: dict[bytes, x509.Certificate]) -> datetime | None:
    """The earliest not-after of the CMS signer's certificate and the issuers found in ``pool``."""
    carried = [c.chosen for c in signed_data["certificates"] if c.name == "certificate"]
    sid = signed_data["signer_infos"][0]["sid"]
    if sid.name == "issuer_and_serial_number":
        leaf = next((c for c in carried if c.issuer == sid.chosen["issuer"]
                     and c.serial_number == sid.chosen["serial_number"].native), None)
    else:
        leaf = next((c for c in carried if c.key_identifier == sid.chosen.native), None)
    pool = {**pool, **{c.subject.dump(): c for c in carried}}
    lapses: list[datetime] = []
    cert, seen = leaf, set()
    while cert is not None and cert.sha256 not in seen:
        seen.add(cert.sha256)
        lapses.append(cert["tbs_certificate"]["validity"]["not_after"].native)
        cert = None if cert.self_signed != "no" else pool.get(cert.issuer.dump())
    return min(lapses, default=None)


def archive_state(pdf: bytes, trust_roots: Iterable[x509.Certificate] = ()) -> ArchiveState:
    """When the newest timestamp of ``pdf`` stops proving anything: its TSA certificate, or a
    certificate above it (up to the root), expires. Renew the file before then."""
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        try:
            dss_certs = tuple(DocumentSecurityStore.read_dss(reader).load_certs())
        except NoDSSFoundError:
            dss_certs = ()
        pool = {c.subject.dump(): c for c in (*trust_roots, *dss_certs)}
        doc_timestamps = reader.embedded_timestamp_signatures
        lapses = [_chain_lapse(ts.signed_data, pool) for ts in doc_timestamps]
        if not lapses:
            regular = reader.embedded_regular_signatures
            if regular:
                signed_data = regular[-1].signed_data
                attrs = signed_data["signer_infos"][0]["unsigned_attrs"]
                token = next((a["values"][0] for a in (attrs if attrs.native else ())
                              if a["type"].native == "signature_time_stamp_token"), None)
                lapses = [_chain_lapse(token["content"] if token else signed_data, pool)]
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise SigningError(f"Tanda tangan dalam dokumen tidak dapat dibaca: {exc}") from exc
    return ArchiveState(
        lapses_at=lapses[-1] if lapses else None,
        document_timestamps=len(doc_timestamps),
        previous_lapses_at=lapses[-2] if len(lapses) > 1 else None,
    )


def renew_archive_timestamp(pdf: bytes, services: SigningServices) -> SignedDocument:
    """PAdES-LTA renewal: validate the newest timestamp of ``pdf`` online, add its fresh
    revocation data to the DSS and a new document timestamp over everything.

    The result is a new file (an incremental update; the signatures in it are untouched).
    """
    timestamper = services.get_timestamper()
    if timestamper is None:
        raise SigningError("Layanan cap waktu (TSA) belum dikonfigurasi; PP tidak dapat diperbarui.")
    try:
        reader = PdfFileReader(BytesIO(pdf), strict=False)
        out = PdfTimeStamper(timestamper).update_archival_timestamp_chain(
            reader, services.validation_context(), in_place=False
        )
        data = out.getvalue()
        newest = PdfFileReader(BytesIO(data), strict=False).embedded_timestamp_signatures[-1]
        tst_info = newest.signed_data["encap_content_info"]["content"].parsed
    except Exception as exc:  # noqa: BLE001 - pyHanko, certvalidator and aiohttp raise many types
        causes = list(_causes(exc))
        if any(isinstance(c, TimestampRequestError) for c in causes):
            message = "Layanan cap waktu (TSA) tidak dapat dihubungi atau menolak permintaan."
        elif any(isinstance(c, RevokedError | ExpiredError) for c in causes):
            message = "Cap waktu terakhir dokumen tidak lagi sah (sertifikat TSA dicabut atau kedaluwarsa)."
        elif any(isinstance(c, InsufficientRevinfoError | OCSPFetchError | CRLFetchError) for c in causes):
            message = "Data pencabutan (OCSP/CRL) tidak dapat diperoleh."
        else:
            message = f"{type(exc).__name__}: {str(exc)[:200]}"
        raise SigningError(f"Pembaruan cap waktu arsip gagal: {message}") from exc
    return SignedDocument(
        data=data,
        level=LEVEL_B_LTA,
        sha256=hashlib.sha256(data).hexdigest(),
        timestamp_time=tst_info["gen_time"].native,
        field_name=newest.field_name,
    )
