"""Verification of a signed placement agreement by anyone holding the PDF.

The entry point is :func:`verify_pdf` (or :class:`Verifier` when many files are checked with
the same trust roots, as the web page does). For each PAdES signature it reports whether the
signed bytes are intact, whether the signer's certificate chains to the office's trust roots,
who signed and in which capacity (the CAdES claimed role and /Reason written by
:mod:`signing.sign`), whether the SK pendelegasian cited was in force at the trusted signing
time, the PAdES level reached, what changed in the file after the signature (pyHanko's
difference analysis) and an ETSI EN 319 102-1 indication; document timestamps are validated
too, and the file's SHA-256 is looked up in the office's register. The top-level verdict is one
sentence in Bahasa Indonesia for a layperson.

Time and long-term files: a B-LTA file carries the revocation data of the signer's chain in its
DSS and a document timestamp over it. The OCSP responses there go stale within days, so
validating "now" with them says TRY_LATER. A valid document timestamp is a proof of existence
(POE) of the signature and of that data at its time, so the signature is validated at the time
of the earliest valid document timestamp after it, with the embedded revocation data required,
and with nothing fetched: the file verifies offline for as long as the timestamp chain does.
Without such a POE the signature is validated at the current time; offline, revocation is then
not checked and the report says so.

Speed: one reader per file, the signatures parsed once (parsing the large /Contents strings is
half of pyHanko's time on a small PDF), one difference analysis per signature, and trust
anchors built once per :class:`Verifier`. A validation context is made per file on purpose:
sharing one across files would let revocation data embedded in one file vouch for another.

The ETSI TS 119 102-2 XML report is built with pyHanko's incubating report module from this
module's own results (``xml=True``); it needs pyHanko's ``etsi`` extra (xsdata).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum
from io import BytesIO
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed, AdESSubIndic
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.general import UnacceptableSignerError
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError, SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import (
    DocumentTimestampStatus,
    PdfSignatureStatus,
    SignatureCoverageLevel,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import CertificateRegistry, SimpleTrustManager

from pengesahan.errors import ServiceError, VerificationError
from signing.delegation import Delegation, delegation_state, format_date

__all__ = [
    "DelegationCheck",
    "DelegationInfo",
    "Problem",
    "RegisteredAgreement",
    "RegistryMatch",
    "SignatureCheck",
    "SignerInfo",
    "TimestampCheck",
    "VerificationReport",
    "Verifier",
    "verify_main",
    "verify_pdf",
]

#: What the delegation lookup returns: the SK as the signing rules see it.
DelegationInfo = Delegation

VALID = "valid"
INVALID = "invalid"
INDETERMINATE = "indeterminate"

_VERDICT_VALID = "Dokumen asli dan tidak berubah sejak ditandatangani."
_PDF_MAGIC = b"%PDF-"
#: pyHanko's modification levels that leave the signed content as it was.
_HARMLESS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
_SK_PATTERN = re.compile(r"SK Nomor (?P<number>.+?) tanggal (?P<date>\d{1,2} \w+ \d{4})")
_KEPALA_DINAS_TITLES = ("Kepala Dinas", "Plt. Kepala Dinas", "Plh. Kepala Dinas")
_EXIT_OK, _EXIT_FAILED, _EXIT_UNREADABLE = 0, 1, 2


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class RegisteredAgreement:
    """An agreement as the office's register knows it (what the registry lookup returns)."""

    #: Agreement number, e.g. "562/PP/001/Disnaker/2026".
    number: str
    #: SHA-256 (hex) of the signed PDF the office issued.
    sha256: str | None
    #: Status code (see ``workflow.AGREEMENT_STATUSES``).
    status: str
    #: Status as officers and the public read it.
    status_label: str = ""
    #: Document kind code, e.g. "perjanjian_penempatan".
    kind: str = "perjanjian_penempatan"
    #: When it was signed (trusted time).
    signed_at: datetime | None = None
    #: Record id, for the link to the public page of the agreement.
    agreement_id: int | None = None


@dataclass(frozen=True)
class Problem:
    """A reason a signature (or the file) does not verify; ``code`` is stable for programs."""

    #: Stable code, e.g. "hash_failure", "untrusted", "modified", "sk_not_in_force".
    code: str
    #: Explanation in Bahasa Indonesia for a layperson.
    message: str


@dataclass(frozen=True)
class SignerInfo:
    """Who signed, from the certificate and from the signed claimed role and /Reason."""

    #: Common name in the signer's certificate (the authoritative name).
    name: str
    #: Organisation in the certificate.
    organisation: str | None
    #: Issuer common name of the signer's certificate.
    issuer: str | None
    #: SHA-256 fingerprint of the signer's certificate (hex).
    certificate_sha256: str
    #: NIP claimed in the signed role attribute.
    nip: str | None
    #: Capacity claimed, e.g. "a.n. Kepala Dinas Sekretaris Dinas".
    capacity: str | None
    #: Name claimed in the role (should equal :attr:`name`).
    claimed_name: str | None
    #: SK pendelegasian cited, e.g. "SK Nomor 800/017/DISNAKER/2026 tanggal 5 Januari 2026".
    sk_reference: str | None
    #: The SK number alone.
    sk_number: str | None
    #: The SK date as written ("5 Januari 2026").
    sk_date: str | None
    #: The signature's /Reason.
    reason: str | None


@dataclass(frozen=True)
class DelegationCheck:
    """Whether the SK a delegate signed under was in force at the signing time."""

    #: SK number checked.
    sk_number: str
    #: "berlaku", "tidak_berlaku", "tidak_dikenal" (not in the register) or "tidak_diperiksa".
    status: str
    #: In force at the signing time; None when not checked.
    in_force: bool | None
    #: Revoked after the signature (the signature stays valid; shown as a note).
    revoked_since: bool
    #: Explanation in Bahasa Indonesia.
    message: str


@dataclass(frozen=True)
class AdESIndication:
    """ETSI EN 319 102-1 result: main indication and sub-indication."""

    #: "PASSED", "INDETERMINATE" or "FAILED".
    indication: str
    #: Sub-indication name (e.g. "HASH_FAILURE", "NO_CERTIFICATE_CHAIN_FOUND"), None if passed.
    sub_indication: str | None


@dataclass(frozen=True)
class SignatureCheck:
    """Everything checked about one signature."""

    #: Signature field name.
    field_name: str
    #: The signed bytes hash to the digest in the signature.
    intact: bool
    #: The CMS signature value verifies with the certificate's key.
    valid: bool
    #: The certificate chains to a trust root (and was not revoked, when checked).
    trusted: bool
    #: Revocation check: "embedded" (DSS data at the POE), "online", or "not_checked".
    revocation: str
    signer: SignerInfo | None
    delegation: DelegationCheck | None
    #: Trusted signing time (timestamp token) or, failing that, the time the signer claims.
    signing_time: datetime | None
    #: "timestamp" or "claimed" (or None when neither exists).
    signing_time_source: str | None
    #: PAdES baseline level reached: "B-B", "B-T", "B-LT" or "B-LTA".
    level: str
    #: pyHanko coverage: "ENTIRE_FILE", "ENTIRE_REVISION", ...
    coverage: str | None
    #: pyHanko modification level after the signature: "NONE", "LTA_UPDATES", "OTHER", ...
    modification_level: str | None
    #: The signature covers the document as it is now (only LTA updates or later signatures).
    covers_document: bool
    #: Difference analysis message when something suspicious was appended (English, expert).
    modification_detail: str | None
    ades: AdESIndication
    #: Time the certificate chain was validated at (the POE time for long-term files).
    validated_at: datetime | None
    #: Why this signature does not verify; empty when it does.
    problems: tuple[Problem, ...] = ()
    #: Remarks that do not change the verdict (e.g. SK revoked after signing).
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """The signature verifies: intact, trusted, authorised and covering the document."""
        return not self.problems and self.ades.indication == "PASSED"


@dataclass(frozen=True)
class TimestampCheck:
    """A document timestamp (/DocTimeStamp) and its validation."""

    field_name: str
    #: Time asserted by the time-stamping authority.
    time: datetime | None
    intact: bool
    valid: bool
    trusted: bool
    #: Common name of the TSA certificate.
    tsa: str | None
    #: pyHanko modification level after the timestamp.
    modification_level: str | None
    #: Explanation in Bahasa Indonesia.
    message: str

    @property
    def ok(self) -> bool:
        """Intact, valid and trusted."""
        return self.intact and self.valid and self.trusted


@dataclass(frozen=True)
class RegistryMatch:
    """The file's hash looked up in the office's register."""

    #: SHA-256 (hex) of the file checked.
    sha256: str
    #: The hash is the hash of a PDF the office issued.
    registered: bool
    agreement_number: str | None
    status: str | None
    status_label: str | None
    kind: str | None
    signed_at: datetime | None
    agreement_id: int | None
    #: Explanation in Bahasa Indonesia.
    message: str


@dataclass(frozen=True)
class VerificationReport:
    """The outcome of verifying one PDF."""

    #: "valid", "invalid" or "indeterminate".
    status: str
    #: One sentence in Bahasa Indonesia for a layperson.
    verdict: str
    #: SHA-256 (hex) of the file.
    sha256: str
    #: Size of the file in bytes.
    size: int
    signatures: tuple[SignatureCheck, ...]
    timestamps: tuple[TimestampCheck, ...]
    #: None when no register was consulted.
    registry: RegistryMatch | None
    #: Problems of the whole file (no signature, unreadable signature dictionary).
    problems: tuple[Problem, ...]
    verified_at: datetime
    #: Whether revocation data could be fetched online during verification.
    online: bool
    #: ETSI TS 119 102-2 XML reports, one per signature, when asked for (``xml=True``).
    xml_reports: tuple[str, ...] = field(default=(), repr=False)

    @property
    def ok(self) -> bool:
        """Every signature verifies and covers the document."""
        return self.status == VALID

    @property
    def exit_code(self) -> int:
        """0 when valid, 1 otherwise (2 is for unreadable files, raised before a report)."""
        return _EXIT_OK if self.ok else _EXIT_FAILED

    @property
    def reasons(self) -> tuple[str, ...]:
        """Codes of every problem, file-level first, without repetition."""
        codes: list[str] = [p.code for p in self.problems]
        for sig in self.signatures:
            codes.extend(p.code for p in sig.problems)
        return tuple(dict.fromkeys(codes))

    def to_dict(self, *, with_xml: bool = False) -> dict:
        """A JSON-ready dict (datetimes as ISO 8601); the XML reports only if asked."""
        data = _jsonable(self)
        data["ok"] = self.ok
        data["reasons"] = list(self.reasons)
        for sig, out in zip(self.signatures, data["signatures"], strict=True):
            out["ok"] = sig.ok
        for ts, out in zip(self.timestamps, data["timestamps"], strict=True):
            out["ok"] = ts.ok
        if not with_xml:
            data.pop("xml_reports", None)
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def _jsonable(value):
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    return value


# ---------------------------------------------------------------------------------------------
# Reading


def _open_pdf(data: bytes) -> PdfFileReader:
    """A reader over ``data``, or :class:`VerificationError` when it is not a readable PDF."""
    if not data:
        raise VerificationError("Berkas kosong; unggah berkas PDF Perjanjian Penempatan.")
    # The header may follow a little junk (ISO 32000 tolerates it); nothing else is a PDF.
    if _PDF_MAGIC not in data[:1024]:
        raise VerificationError("Berkas ini bukan PDF; hanya dokumen PDF yang dapat diverifikasi.")
    try:
        reader = PdfFileReader(BytesIO(data))
        if reader.encrypted:
            raise VerificationError("PDF terenkripsi tidak dapat diverifikasi.")
        reader.root  # noqa: B018 - forces the trailer and catalogue to parse now
    except VerificationError:
        raise
    except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise VerificationError(
            "Berkas tidak dapat dibaca sebagai PDF (rusak atau terpotong).",
            details={"cause": type(exc).__name__},
        ) from exc
    return reader


def _embedded_signatures(reader: PdfFileReader) -> list[EmbeddedPdfSignature]:
    """All signatures and document timestamps, parsed once, in revision order."""
    try:
        # One call: the reader's embedded_regular_signatures/embedded_timestamp_signatures
        # properties each parse every /Contents again.
        return list(reader.embedded_signatures)
    except (PdfError, SignatureValidationError, ValueError, KeyError, TypeError) as exc:
        raise _BrokenSignature(str(exc)) from exc


class _BrokenSignature(Exception):
    """A signature dictionary or its CMS cannot be parsed (the file itself is a PDF)."""


def _name_part(name: x509.Name, key: str) -> str | None:
    value = name.native.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return value


def _claimed_role(sig: EmbeddedPdfSignature, status: PdfSignatureStatus | None) -> dict:
    """The first CAdES claimed role as a dict: name, title, nip, authority."""
    attrs = getattr(status, "cades_signer_attrs", None) if status is not None else None
    claimed = getattr(attrs, "claimed_attrs", None)
    if claimed is None:
        return {}
    try:
        values = claimed["role"].attr_values
    except KeyError:
        return {}
    for value in values:
        native = value.native or {}
        role_name = native.get("role_name")
        authority = native.get("role_authority") or []
        result = {"authority": None}
        if isinstance(role_name, dict):
            result["name"] = role_name.get("common_name")
            result["title"] = role_name.get("title")
            serial = role_name.get("serial_number") or ""
            result["nip"] = serial.removeprefix("NIP").strip() or None
        elif isinstance(role_name, str):
            result["title"] = role_name
        for entry in authority:
            if isinstance(entry, dict) and entry.get("common_name"):
                result["authority"] = entry["common_name"]
                break
        return result
    return {}


def _signer_info(sig: EmbeddedPdfSignature, status: PdfSignatureStatus | None) -> SignerInfo:
    cert = sig.signer_cert
    role = _claimed_role(sig, status)
    reason = sig.sig_object.get("/Reason")
    reason = str(reason) if reason is not None else None
    reference = role.get("authority")
    match = _SK_PATTERN.search(reference or "") or _SK_PATTERN.search(reason or "")
    if match and not reference:
        reference = match.group(0)
    return SignerInfo(
        name=_name_part(cert.subject, "common_name") or cert.subject.human_friendly,
        organisation=_name_part(cert.subject, "organization_name"),
        issuer=_name_part(cert.issuer, "common_name"),
        certificate_sha256=cert.sha256.hex(),
        nip=role.get("nip"),
        capacity=role.get("title"),
        claimed_name=role.get("name"),
        sk_reference=reference,
        sk_number=match.group("number") if match else None,
        sk_date=match.group("date") if match else None,
        reason=reason,
    )


# ---------------------------------------------------------------------------------------------
# The engine


@dataclass(frozen=True)
class _Revinfo:
    """Certificates and revocation data embedded in the file's DSS."""

    certs: tuple[x509.Certificate, ...] = ()
    ocsps: tuple[asn1_ocsp.OCSPResponse, ...] = ()
    crls: tuple[asn1_crl.CertificateList, ...] = ()

    @property
    def has_revocation_data(self) -> bool:
        return bool(self.ocsps or self.crls)


def _read_revinfo(reader: PdfFileReader) -> _Revinfo:
    """The DSS content, or nothing when there is no DSS or it cannot be parsed."""
    try:
        dss = DocumentSecurityStore.read_dss(reader)
        certs = tuple(dss.load_certs())
        ocsps = tuple(asn1_ocsp.OCSPResponse.load(ref.get_object().data) for ref in dss.ocsps)
        crls = tuple(asn1_crl.CertificateList.load(ref.get_object().data) for ref in dss.crls)
    except (NoDSSFoundError, PdfError, ValueError, KeyError, TypeError):
        # No DSS, or a damaged one: that only takes the embedded revocation data away; the
        # signature may still verify at the current time.
        return _Revinfo()
    return _Revinfo(certs, ocsps, crls)


class _FileContexts:
    """Validation contexts of one file, made on demand and shared between its signatures.

    One certificate registry per file: registering a certificate hashes its names, the
    largest cost of setting up a context. Contexts are keyed by validation time, so a
    signature validated at the time of the document timestamp over it reuses the context (and
    the validated paths) of that timestamp.
    """

    def __init__(
        self,
        verifier: Verifier,
        revinfo: _Revinfo,
        embedded: Sequence[EmbeddedPdfSignature] = (),
    ):
        self.verifier = verifier
        # The DSS mostly repeats the certificates the signatures carry, which pyHanko
        # registers anyway when it validates them; registering the same certificate twice
        # (as two parsed objects) costs twice.
        carried = {
            choice.chosen.dump()
            for sig in embedded
            for choice in sig.signed_data["certificates"]
            if choice.name == "certificate"
        }
        extra = tuple(c for c in revinfo.certs if c.dump() not in carried)
        self.revinfo = _Revinfo(extra, revinfo.ocsps, revinfo.crls)
        self.registry = CertificateRegistry.build(extra)
        self._made: dict[tuple[datetime | None, bool], ValidationContext] = {}

    def at(self, moment: datetime | None, *, embedded: bool) -> ValidationContext:
        """A context validating at ``moment`` (None: now), with the DSS data or without it."""
        key = (moment, embedded)
        context = self._made.get(key)
        if context is None:
            revinfo = self.revinfo if embedded else _Revinfo()
            fetch = self.verifier.allow_fetching and moment is None
            context = ValidationContext(
                trust_manager=self.verifier._trust_manager,
                # pyHanko wires its certificate fetcher into a registry of its own.
                certificate_registry=None if fetch else self.registry,
                other_certs=list(self.revinfo.certs),
                ocsps=list(revinfo.ocsps),
                crls=list(revinfo.crls),
                moment=moment,
                allow_fetching=fetch,
                # Revocation data is required where it can be had: embedded in the file at a
                # time it covers, or online. Offline at the current time it cannot be.
                revocation_mode="require" if (embedded or fetch) else "soft-fail",
            )
            self._made[key] = context
        return context


class Verifier:
    """Verifies PDFs against fixed trust roots; build once, use for many files (thread-safe)."""

    def __init__(self, trust_roots: Iterable[x509.Certificate], *, allow_fetching: bool = False):
        self.trust_roots = tuple(trust_roots)
        if not self.trust_roots:
            raise ValueError("at least one trust root is needed")
        #: Whether OCSP/CRL may be fetched for signatures without embedded revocation data.
        self.allow_fetching = allow_fetching
        # Immutable and shared: the per-file contexts only add the file's own data to it.
        self._trust_manager = SimpleTrustManager.build(trust_roots=list(self.trust_roots))

    def verify(
        self,
        data: bytes,
        *,
        registry_lookup: Callable[[str], RegisteredAgreement | None] | None = None,
        delegation_lookup: Callable[[str], DelegationInfo | None] | None = None,
        xml: bool = False,
        now: datetime | None = None,
    ) -> VerificationReport:
        """Verify ``data``; see :func:`verify_pdf`."""
        # An explicit ``now`` is also the validation time (tests simulate later years with it);
        # without it pyHanko reads the clock.
        at = now
        now = now or datetime.now(UTC)
        sha256 = hashlib.sha256(data).hexdigest()
        reader = _open_pdf(data)
        registered = _registry_match(sha256, registry_lookup)
        try:
            embedded = _embedded_signatures(reader)
        except _BrokenSignature:
            problem = Problem(
                "format_failure", "Tanda tangan dalam dokumen rusak dan tidak dapat dibaca."
            )
            return _report(sha256, data, (), (), registered, (problem,), now, self, ())
        regular = [s for s in embedded if s.sig_object_type == "/Sig"]
        doc_timestamps = [s for s in embedded if s.sig_object_type == "/DocTimeStamp"]
        contexts = _FileContexts(self, _read_revinfo(reader) if embedded else _Revinfo(), embedded)

        first_signed = min((s.signed_revision for s in regular), default=None)
        timestamps, ts_statuses = self._check_timestamps(
            doc_timestamps, contexts, at, now, first_signed
        )
        checks: list[SignatureCheck] = []
        statuses: list[PdfSignatureStatus | None] = []
        for sig in regular:
            poe = _proof_of_existence(sig, doc_timestamps, timestamps, ts_statuses)
            check, status = self._check_signature(sig, contexts, poe, at, delegation_lookup, now)
            checks.append(check)
            statuses.append(status)
        checks = _settle_coverage(checks)
        problems: tuple[Problem, ...] = ()
        if not regular:
            problems = (
                Problem("no_signature", "Dokumen ini tidak memuat tanda tangan elektronik."),
            )
        xml_reports = _xml_reports(regular, checks, statuses) if xml else ()
        return _report(
            sha256,
            data,
            tuple(checks),
            tuple(timestamps),
            registered,
            problems,
            now,
            self,
            xml_reports,
        )

    # -- document timestamps ------------------------------------------------------------------

    def _check_timestamps(
        self,
        doc_timestamps: Sequence[EmbeddedPdfSignature],
        contexts: _FileContexts,
        at: datetime | None,
        now: datetime,
        first_signed: int | None,
    ) -> tuple[list[TimestampCheck], list[DocumentTimestampStatus | None]]:
        """Validate each document timestamp at its own time, with the embedded data.

        The DSS written before a timestamp holds the revocation data of its TSA, so at its own
        time the timestamp validates offline. The last one must also still hold now: offline
        that means its TSA chain has not expired (revocation can only be asked online, and
        with fetching allowed it is).
        """
        checks: list[TimestampCheck] = []
        statuses: list[DocumentTimestampStatus | None] = []
        embedded = contexts.revinfo.has_revocation_data
        for index, ts in enumerate(doc_timestamps):
            moment = _token_time(ts) if embedded else at
            # What was appended after a timestamp is also after the signature before it,
            # whose difference analysis covers it: do not analyse the same revisions twice.
            skip_diff = first_signed is not None and first_signed < ts.signed_revision
            try:
                status = validate_pdf_timestamp(
                    ts, contexts.at(moment, embedded=embedded), skip_diff=skip_diff
                )
            except (SignatureValidationError, PdfError, ValueError, KeyError) as exc:
                statuses.append(None)
                checks.append(
                    TimestampCheck(
                        field_name=ts.field_name,
                        time=None,
                        intact=False,
                        valid=False,
                        trusted=False,
                        tsa=None,
                        modification_level=None,
                        message=f"Cap waktu dokumen tidak dapat divalidasi: {exc}",
                    )
                )
                continue
            trusted = status.trusted
            message = None
            if trusted and index == len(doc_timestamps) - 1 and moment is not None:
                trusted, message = self._still_trusted(ts, status, contexts, at, now)
            ok = status.intact and status.valid and trusted
            if message is None:
                message = (
                    "Cap waktu dokumen sah: dokumen sudah ada dalam bentuk ini pada "
                    f"{_format_time(status.timestamp)}."
                    if ok
                    else "Cap waktu dokumen TIDAK SAH atau tidak dipercaya."
                )
            statuses.append(status if ok else None)
            checks.append(
                TimestampCheck(
                    field_name=ts.field_name,
                    time=status.timestamp,
                    intact=status.intact,
                    valid=status.valid,
                    trusted=trusted,
                    tsa=_name_part(status.signing_cert.subject, "common_name"),
                    modification_level=_enum_name(status.modification_level),
                    message=message,
                )
            )
        return checks, statuses

    def _still_trusted(
        self,
        ts: EmbeddedPdfSignature,
        status: DocumentTimestampStatus,
        contexts: _FileContexts,
        at: datetime | None,
        now: datetime,
    ) -> tuple[bool, str | None]:
        """Whether the newest document timestamp, valid at its time, still holds now."""
        if self.allow_fetching:
            current = validate_pdf_timestamp(ts, contexts.at(at, embedded=False), skip_diff=True)
            if not current.trusted:
                return False, (
                    "Sertifikat penyedia cap waktu dokumen tidak lagi dipercaya saat ini "
                    "(dicabut atau kedaluwarsa)."
                )
            return True, None
        path = status.validation_path
        certs = list(path) if path is not None else [status.signing_cert]
        expired = [c for c in certs if c["tbs_certificate"]["validity"]["not_after"].native < now]
        if expired:
            return False, (
                "Sertifikat penyedia cap waktu dokumen sudah kedaluwarsa; dokumen perlu cap "
                "waktu arsip baru untuk tetap dapat diverifikasi."
            )
        return True, None

    # -- signatures -----------------------------------------------------------------------------

    def _check_signature(
        self,
        sig: EmbeddedPdfSignature,
        contexts: _FileContexts,
        poe: datetime | None,
        at: datetime | None,
        delegation_lookup: Callable[[str], DelegationInfo | None] | None,
        now: datetime,
    ) -> tuple[SignatureCheck, PdfSignatureStatus | None]:
        if poe is not None and contexts.revinfo.has_revocation_data:
            # Validated at the proof of existence, with the data embedded before it.
            context = contexts.at(poe, embedded=True)
            revocation = "embedded"
        else:
            context = contexts.at(at, embedded=self.allow_fetching)
            revocation = "online" if self.allow_fetching else "not_checked"
        try:
            status = validate_pdf_signature(sig, context)
        except (SignatureValidationError, UnacceptableSignerError, PdfError, ValueError) as exc:
            return _unreadable_signature(sig, exc), None

        signer = _signer_info(sig, status)
        problems: list[Problem] = []
        notes: list[str] = []
        ades = _ades_indication(status)

        if not status.intact:
            problems.append(
                Problem(
                    "hash_failure",
                    "Isi dokumen tidak cocok dengan tanda tangan: dokumen telah diubah atau "
                    "dirusak setelah ditandatangani.",
                )
            )
        elif not status.valid:
            problems.append(
                Problem("sig_crypto_failure", "Nilai tanda tangan tidak cocok dengan sertifikat.")
            )
        if not status.trusted:
            problems.append(_trust_problem(status))
        if revocation == "not_checked" and status.trusted:
            notes.append(
                "Status pencabutan sertifikat tidak diperiksa: dokumen tidak memuat data "
                "pencabutan (OCSP/CRL) yang dilindungi cap waktu dokumen."
            )

        ts_validity = status.timestamp_validity
        if ts_validity is not None and ts_validity.intact and ts_validity.valid:
            signing_time, source = ts_validity.timestamp, "timestamp"
            if not ts_validity.trusted:
                problems.append(
                    Problem(
                        "timestamp_untrusted",
                        "Cap waktu tanda tangan tidak berasal dari penyedia cap waktu yang "
                        "dipercaya.",
                    )
                )
        elif ts_validity is not None:
            signing_time, source = status.signer_reported_dt, "claimed"
            problems.append(
                Problem("timestamp_invalid", "Cap waktu pada tanda tangan rusak atau tidak sah.")
            )
        elif status.signer_reported_dt is not None:
            signing_time, source = status.signer_reported_dt, "claimed"
            notes.append(
                "Waktu penandatanganan hanya pernyataan penanda tangan (tanpa cap waktu tepercaya)."
            )
        else:
            signing_time, source = None, None

        modification = status.modification_level
        detail = None
        if isinstance(status.diff_result, SuspiciousModification):
            detail = str(status.diff_result)
        harmless = (
            modification in _HARMLESS or status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        )
        if not harmless and modification != ModificationLevel.FORM_FILLING:
            problems.append(_modification_problem(status, modification))
        elif modification == ModificationLevel.LTA_UPDATES:
            notes.append(
                "Setelah ditandatangani, dokumen hanya ditambah data validasi dan cap waktu "
                "dokumen (pembaruan LTA), yang tidak mengubah isi."
            )

        delegation = _check_delegation(signer, signing_time, source, delegation_lookup, now)
        if delegation is not None:
            if delegation.status in ("tidak_berlaku", "tidak_dikenal"):
                problems.append(
                    Problem(
                        "sk_not_in_force" if delegation.status == "tidak_berlaku" else "sk_unknown",
                        delegation.message,
                    )
                )
            elif delegation.revoked_since or delegation.status == "tidak_diperiksa":
                notes.append(delegation.message)
        if status.trusted and status.intact:
            problem = _capacity_problem(signer, delegation)
            if problem is not None:
                problems.append(problem)

        check = SignatureCheck(
            field_name=sig.field_name,
            intact=status.intact,
            valid=status.valid,
            trusted=status.trusted,
            revocation=revocation if status.trusted else "not_checked",
            signer=signer,
            delegation=delegation,
            signing_time=signing_time,
            signing_time_source=source,
            level=_pades_level(sig, status, contexts.revinfo, poe),
            coverage=_enum_name(status.coverage),
            modification_level=_enum_name(modification),
            covers_document=harmless,
            modification_detail=detail,
            ades=ades,
            validated_at=poe or status.validation_time,
            problems=tuple(problems),
            notes=tuple(notes),
        )
        return check, status


def _proof_of_existence(
    sig: EmbeddedPdfSignature,
    doc_timestamps: Sequence[EmbeddedPdfSignature],
    checks: Sequence[TimestampCheck],
    statuses: Sequence[DocumentTimestampStatus | None],
) -> datetime | None:
    """Time of the earliest valid document timestamp over ``sig`` (its proof of existence)."""
    for ts, check, status in zip(doc_timestamps, checks, statuses, strict=True):
        if ts.signed_revision > sig.signed_revision and status is not None and check.ok:
            return status.timestamp
    return None


def _unreadable_signature(sig: EmbeddedPdfSignature, exc: Exception) -> SignatureCheck:
    return SignatureCheck(
        field_name=sig.field_name,
        intact=False,
        valid=False,
        trusted=False,
        revocation="not_checked",
        signer=None,
        delegation=None,
        signing_time=None,
        signing_time_source=None,
        level="B-B",
        coverage=None,
        modification_level=None,
        covers_document=False,
        modification_detail=str(exc),
        ades=AdESIndication("FAILED", AdESFailure.FORMAT_FAILURE.standard_name),
        validated_at=None,
        problems=(
            Problem(
                "format_failure",
                "Tanda tangan tidak dapat diperiksa karena formatnya tidak dikenali atau rusak.",
            ),
        ),
    )


def _settle_coverage(checks: list[SignatureCheck]) -> list[SignatureCheck]:
    """Accept form filling after a signature only when a later signature covers the result.

    pyHanko calls a later signature in another field "form filling"; that is how two officials
    sign one agreement. It is harmless when a later, valid signature covers the final state.
    """
    settled: list[SignatureCheck] = []
    for index, check in enumerate(checks):
        if check.modification_level != ModificationLevel.FORM_FILLING.name:
            settled.append(check)
            continue
        later_ok = any(c.covers_document and not c.problems for c in checks[index + 1 :])
        if later_ok:
            note = "Setelah ditandatangani, dokumen ditambah tanda tangan berikutnya."
            settled.append(_replace(check, covers_document=True, notes=(*check.notes, note)))
        else:
            problem = Problem(
                "modified",
                "Dokumen diubah setelah ditandatangani (isian formulir atau kolom diubah).",
            )
            settled.append(_replace(check, problems=(*check.problems, problem)))
    return settled


def _replace(check: SignatureCheck, **changes) -> SignatureCheck:
    return dataclasses.replace(check, **changes)


def _ades_indication(status: PdfSignatureStatus) -> AdESIndication:
    """The EN 319 102-1 indication as pyHanko's AdES process would give for the signature."""
    sub: AdESSubIndic
    if not status.intact:
        sub = AdESFailure.HASH_FAILURE
    elif not status.valid:
        sub = AdESFailure.SIG_CRYPTO_FAILURE
    elif status.trust_problem_indic is not None:
        sub = status.trust_problem_indic
    elif not status.trusted:
        sub = AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND
    else:
        sub = AdESPassed.OK
    name = sub.status.name
    return AdESIndication(name, None if sub is AdESPassed.OK else sub.standard_name)


def _trust_problem(status: PdfSignatureStatus) -> Problem:
    indic = status.trust_problem_indic
    if indic in (
        AdESFailure.REVOKED,
        AdESIndeterminate.REVOKED_NO_POE,
        AdESIndeterminate.REVOKED_CA_NO_POE,
    ):
        return Problem("revoked", "Sertifikat penanda tangan telah dicabut (revoked).")
    if indic in (
        AdESIndeterminate.OUT_OF_BOUNDS_NO_POE,
        AdESIndeterminate.EXPIRED,
        AdESIndeterminate.NOT_YET_VALID,
        AdESFailure.NOT_YET_VALID,
        AdESIndeterminate.OUT_OF_BOUNDS_NOT_REVOKED,
    ):
        return Problem(
            "expired",
            "Sertifikat penanda tangan tidak berlaku (kedaluwarsa atau belum berlaku) pada "
            "waktu pemeriksaan, dan tidak ada bukti waktu yang menolongnya.",
        )
    if indic in (AdESIndeterminate.TRY_LATER, AdESIndeterminate.REVOCATION_OUT_OF_BOUNDS_NO_POE):
        return Problem(
            "revocation_unknown",
            "Status pencabutan sertifikat penanda tangan tidak dapat dipastikan saat ini.",
        )
    return Problem(
        "untrusted",
        "Sertifikat penanda tangan tidak diterbitkan oleh otoritas yang dipercaya Dinas Tenaga "
        "Kerja (sertifikat buatan sendiri atau dari penerbit lain).",
    )


def _modification_problem(status: PdfSignatureStatus, level: ModificationLevel | None) -> Problem:
    if level == ModificationLevel.ANNOTATIONS:
        message = "Dokumen diubah setelah ditandatangani: anotasi atau coretan ditambahkan."
    elif status.coverage in (
        SignatureCoverageLevel.UNCLEAR,
        SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START,
    ):
        message = "Tanda tangan tidak mencakup seluruh dokumen."
    else:
        message = (
            "Dokumen diubah setelah ditandatangani: isi atau halaman ditambah/diganti sesudah "
            "tanda tangan dibubuhkan."
        )
    return Problem("modified", message)


def _check_delegation(
    signer: SignerInfo,
    signing_time: datetime | None,
    source: str | None,
    lookup: Callable[[str], DelegationInfo | None] | None,
    now: datetime,
) -> DelegationCheck | None:
    number = signer.sk_number
    if not number:
        return None
    reference = signer.sk_reference or f"SK Nomor {number}"
    if lookup is None or signing_time is None:
        return DelegationCheck(
            number,
            "tidak_diperiksa",
            None,
            False,
            f"Keberlakuan {reference} tidak diperiksa (tidak ada daftar SK).",
        )
    sk = lookup(number)
    if sk is None:
        return DelegationCheck(
            number,
            "tidak_dikenal",
            False,
            False,
            f"{reference} tidak terdaftar di Dinas Tenaga Kerja; kewenangan penanda tangan "
            "tidak dapat dibuktikan.",
        )
    if signer.nip and sk.delegated.nip.replace(" ", "") != signer.nip.replace(" ", ""):
        return DelegationCheck(
            number,
            "tidak_berlaku",
            False,
            False,
            f"{reference} diberikan kepada {sk.delegated.name}, bukan kepada penanda tangan.",
        )
    state = delegation_state(sk, signing_time, now)
    message = state.message
    if source == "claimed":
        message += " (Diperiksa terhadap waktu yang dinyatakan penanda tangan.)"
    return DelegationCheck(
        number,
        "berlaku" if state.in_force else "tidak_berlaku",
        state.in_force,
        state.revoked_since,
        message,
    )


def _capacity_problem(signer: SignerInfo, delegation: DelegationCheck | None) -> Problem | None:
    """The SOP rule: the Kepala Dinas signs, or a delegate citing an SK pendelegasian."""
    if signer.capacity is None:
        return Problem(
            "no_capacity",
            "Tanda tangan tidak menyatakan jabatan penanda tangan, sehingga kewenangannya "
            "tidak dapat diperiksa.",
        )
    if signer.claimed_name and _normalise(signer.claimed_name) != _normalise(signer.name):
        return Problem(
            "name_mismatch",
            f"Nama dalam pernyataan jabatan ({signer.claimed_name}) berbeda dengan nama pada "
            f"sertifikat ({signer.name}).",
        )
    if signer.capacity in _KEPALA_DINAS_TITLES:
        return None
    if delegation is None:
        return Problem(
            "no_delegation",
            f"Ditandatangani sebagai {signer.capacity} tanpa menyebut SK pendelegasian dari "
            "Kepala Dinas.",
        )
    return None


def _normalise(name: str) -> str:
    return " ".join(name.split()).casefold()


def _pades_level(
    sig: EmbeddedPdfSignature,
    status: PdfSignatureStatus,
    revinfo: _Revinfo,
    poe: datetime | None,
) -> str:
    if status.timestamp_validity is None:
        return "B-B"
    total = sig.reader.xrefs.total_revisions
    if not revinfo.has_revocation_data or sig.signed_revision >= total - 1:
        return "B-T"
    return "B-LTA" if poe is not None else "B-LT"


def _token_time(ts: EmbeddedPdfSignature) -> datetime | None:
    try:
        tst_info = ts.signed_data["encap_content_info"]["content"].parsed
        return tst_info["gen_time"].native
    except (KeyError, ValueError, AttributeError):
        return None


def _enum_name(value) -> str | None:
    return value.name if isinstance(value, Enum) else None


_MONTH_TIME = "%H:%M:%S UTC"


def _format_time(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    moment = moment.astimezone(UTC)
    return f"{format_date(moment.date())} pukul {moment.strftime(_MONTH_TIME)}"


def _registry_match(
    sha256: str, lookup: Callable[[str], RegisteredAgreement | None] | None
) -> RegistryMatch | None:
    if lookup is None:
        return None
    found = lookup(sha256)
    if found is None or (found.sha256 and found.sha256 != sha256):
        return RegistryMatch(
            sha256,
            False,
            None,
            None,
            None,
            None,
            None,
            None,
            "Sidik berkas (SHA-256) ini tidak terdaftar sebagai dokumen yang diterbitkan "
            "Dinas Tenaga Kerja.",
        )
    return RegistryMatch(
        sha256,
        True,
        found.number,
        found.status,
        found.status_label or found.status,
        found.kind,
        found.signed_at,
        found.agreement_id,
        f"Berkas ini sama persis dengan {found.number} yang diterbitkan Dinas Tenaga Kerja "
        f"(status: {found.status_label or found.status}).",
    )


def _report(
    sha256: str,
    data: bytes,
    checks: tuple[SignatureCheck, ...],
    timestamps: tuple[TimestampCheck, ...],
    registry: RegistryMatch | None,
    problems: tuple[Problem, ...],
    now: datetime,
    verifier: Verifier,
    xml_reports: tuple[str, ...],
) -> VerificationReport:
    status, verdict = _verdict(checks, problems)
    return VerificationReport(
        status=status,
        verdict=verdict,
        sha256=sha256,
        size=len(data),
        signatures=checks,
        timestamps=timestamps,
        registry=registry,
        problems=problems,
        verified_at=now,
        online=verifier.allow_fetching,
        xml_reports=xml_reports,
    )


def _verdict(checks: Sequence[SignatureCheck], problems: Sequence[Problem]) -> tuple[str, str]:
    """The status and the one sentence a layperson reads first."""
    if problems:
        return INVALID, f"Tanda tangan TIDAK SAH: {_lower_first(problems[0].message)}"
    if not checks:
        return INVALID, "Tanda tangan TIDAK SAH: dokumen ini tidak memuat tanda tangan elektronik."
    failed = [c for c in checks if c.problems or c.ades.indication == "FAILED"]
    # A definite failure speaks louder than an open question.
    definite = [
        c
        for c in failed
        if any(p.code not in ("revocation_unknown", "expired") for p in c.problems)
        or c.ades.indication == "FAILED"
    ]
    if definite:
        first = definite[0].problems[0] if definite[0].problems else None
        reason = first.message if first else "tanda tangan tidak sah."
        return INVALID, f"Tanda tangan TIDAK SAH: {_lower_first(reason)}"
    if failed or any(c.ades.indication != "PASSED" for c in checks):
        pending = failed[0] if failed else next(c for c in checks if c.ades.indication != "PASSED")
        reason = pending.problems[0].message if pending.problems else "status tidak pasti."
        return INDETERMINATE, (
            f"Keabsahan tanda tangan BELUM DAPAT DIPASTIKAN: {_lower_first(reason)}"
        )
    return VALID, _VERDICT_VALID


def _lower_first(text: str) -> str:
    """Lower-case the first letter to continue a sentence, but leave acronyms ("SK", "PDF")."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


# ---------------------------------------------------------------------------------------------
# ETSI TS 119 102-2


def _xml_reports(
    regular: Sequence[EmbeddedPdfSignature],
    checks: Sequence[SignatureCheck],
    statuses: Sequence[PdfSignatureStatus | None],
) -> tuple[str, ...]:
    """One TS 119 102-2 report per signature, from this module's results."""
    try:  # pyHanko's optional "etsi" extra (xsdata): XML reports only where it is installed
        from pyhanko.sign.validation.ades import (
            AdESWithTimeValidationResult,
            ValidationObjectSet,
        )
        from pyhanko.sign.validation.report.tools import generate_report
        from pyhanko_certvalidator.ltv.poe import ValidationObject, ValidationObjectType
    except ImportError:  # pyHanko's "etsi" extra (xsdata) is not installed
        return ()
    reports = []
    for sig, check, status in zip(regular, checks, statuses, strict=True):
        if status is None:
            continue
        path = status.validation_path
        certs = list(path) if path is not None else [status.signing_cert]
        objects = ValidationObjectSet(
            ValidationObject(ValidationObjectType.CERTIFICATE, cert) for cert in certs
        )
        result = AdESWithTimeValidationResult(
            ades_subindic=_subindic(check.ades),
            api_status=status,
            failure_msg="; ".join(p.message for p in check.problems) or None,
            validation_objects=objects,
            best_signature_time=check.signing_time or status.validation_time,
            signature_not_before_time=None,
        )
        reports.append(generate_report(sig, result))
    return tuple(reports)


def _subindic(indication: AdESIndication) -> AdESSubIndic:
    if indication.sub_indication is None:
        return AdESPassed.OK
    for enum_type in (AdESFailure, AdESIndeterminate):
        if indication.sub_indication in enum_type.__members__:
            return enum_type[indication.sub_indication]
    return AdESIndeterminate.GENERIC


# ---------------------------------------------------------------------------------------------
# Entry points

_verifiers: dict[tuple[tuple[bytes, ...], bool], Verifier] = {}
_verifiers_lock = threading.Lock()


def _verifier_for(trust_roots: Iterable[x509.Certificate], allow_fetching: bool) -> Verifier:
    roots = tuple(trust_roots)
    key = (tuple(root.sha256 for root in roots), allow_fetching)
    with _verifiers_lock:
        verifier = _verifiers.get(key)
        if verifier is None:
            verifier = _verifiers[key] = Verifier(roots, allow_fetching=allow_fetching)
        return verifier


def verify_pdf(
    data: bytes,
    *,
    trust_roots: Iterable[x509.Certificate],
    registry_lookup: Callable[[str], RegisteredAgreement | None] | None = None,
    delegation_lookup: Callable[[str], DelegationInfo | None] | None = None,
    allow_fetching: bool = False,
    xml: bool = False,
) -> VerificationReport:
    """Verify a downloaded PDF; raises :class:`errors.VerificationError` if it is no PDF.

    ``registry_lookup`` is given the file's SHA-256 (hex) and returns the agreement the office
    issued with that hash, if any. ``delegation_lookup`` is given an SK number and returns the
    SK as :class:`signing.delegation.Delegation`, if the office knows it. With
    ``allow_fetching`` revocation data may be fetched for signatures that carry none.
    """
    verifier = _verifier_for(trust_roots, allow_fetching)
    return verifier.verify(
        data, registry_lookup=registry_lookup, delegation_lookup=delegation_lookup, xml=xml
    )


def format_text(report: VerificationReport) -> str:
    """A plain-text rendering of the report for a terminal."""
    lines = [report.verdict, f"SHA-256: {report.sha256}"]
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
        lines.append(f"Cap waktu dokumen ({ts.field_name}): {ts.message}")
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
