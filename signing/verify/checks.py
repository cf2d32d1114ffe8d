"""The validation of a signed PDF: signatures, document timestamps, trust, SK, coverage.

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
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from enum import Enum

from asn1crypto import x509
from pyhanko.pdf_utils.misc import PdfStrictReadError
from pyhanko.sign.ades.report import AdESFailure, AdESIndeterminate, AdESPassed, AdESSubIndic
from pyhanko.sign.diff_analysis import ModificationLevel, SuspiciousModification
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import (
    DocumentTimestampStatus,
    PdfSignatureStatus,
    SignatureCoverageLevel,
)
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import CertificateRegistry, SimpleTrustManager

from signing.delegation import delegation_state
from signing.verify.etsi import _xml_reports
from signing.verify.reading import (
    _SUPPORTED_SUBFILTERS,
    SHA1_SUBFILTER,
    _BrokenSignature,
    _collect_signatures,
    _Found,
    _info_changed_since,
    _name_part,
    _open_pdf,
    _raw_signatures_broken,
    _read_revinfo,
    _reader,
    _Revinfo,
    _sha1_subfilter_intact,
    _signer_info,
    _token_time,
    _unsupported_algorithm,
)
from signing.verify.report import (
    INDETERMINATE,
    INDETERMINATE_INDICATION,
    INVALID,
    TOTAL_FAILED,
    TOTAL_PASSED,
    VALID,
    AdESIndication,
    DelegationCheck,
    DelegationInfo,
    Problem,
    RegisteredAgreement,
    RegistryMatch,
    SignatureCheck,
    SignerInfo,
    TimestampCheck,
    VerificationReport,
    _format_time,
    worst_indication,
)

__all__ = ["Verifier", "verify_pdf"]

logger = logging.getLogger(__name__)

_VERDICT_VALID = "Dokumen asli dan tidak berubah sejak ditandatangani."
#: pyHanko's modification levels that leave the signed content as it was.
_HARMLESS = (ModificationLevel.NONE, ModificationLevel.LTA_UPDATES)
_KEPALA_DINAS_TITLES = ("Kepala Dinas", "Plt. Kepala Dinas", "Plh. Kepala Dinas")


# ---------------------------------------------------------------------------------------------
# pyHanko's log while verifying foreign files

_verifying = contextvars.ContextVar("verifying", default=False)


class _QuietForeignFailures(logging.Filter):
    """While a file is verified, pyHanko's warnings become one DEBUG line without traceback.

    pyHanko logs every path it cannot build and every malformed CMS with a full traceback at
    WARNING. For a public verification page that only says what the report already says, and
    any visitor could fill the logs with it. Elsewhere (signing) pyHanko's log is left alone.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if _verifying.get() and record.levelno < logging.CRITICAL:
            if record.exc_info and record.exc_info[1] is not None:
                record.msg = f"{record.getMessage()} ({record.exc_info[1]!s:.300})"
                record.args = None
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


_QUIET = _QuietForeignFailures()


def _quiet_pyhanko_loggers() -> None:
    # A filter on a logger sees only what that logger emits (not its children's records), so
    # it goes on every pyHanko logger that exists; modules load lazily, hence per verification.
    for name, item in list(logging.root.manager.loggerDict.items()):
        if name.startswith("pyhanko") and isinstance(item, logging.Logger):
            if _QUIET not in item.filters:
                item.addFilter(_QUIET)


@contextmanager
def _verifying_file() -> Iterator[None]:
    _quiet_pyhanko_loggers()
    token = _verifying.set(True)
    try:
        yield
    finally:
        _verifying.reset(token)


class _NeedsLenientReader(Exception):
    """A signature needs an object only the lenient parser can read."""


_LENIENT_NOTE = (
    "Struktur berkas tidak sepenuhnya sesuai standar PDF; berkas dibaca dalam mode longgar."
)


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


_RAW_HASH_FAILURE = Problem(
    "hash_failure",
    "Berkas PDF rusak, dan bagian yang ditandatangani tidak lagi utuh: sebagian isinya hilang "
    "atau berubah setelah ditandatangani.",
)


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
        opened = _open_pdf(data)  # VerificationError only for what is no PDF at all
        registered = _registry_match(sha256, registry_lookup)
        with _verifying_file():
            if opened.reader is None:
                problem = opened.problem
                ades = AdESIndication(
                    INDETERMINATE_INDICATION,
                    None if problem.code == "encrypted" else AdESFailure.FORMAT_FAILURE.name,
                )
                if problem.code == "unreadable" and _raw_signatures_broken(data):
                    # Unreadable, but a signature's own byte range shows signed bytes gone or
                    # altered: that settles it, as EU DSS says of such files.
                    problem = _RAW_HASH_FAILURE
                    ades = AdESIndication(TOTAL_FAILED, AdESFailure.HASH_FAILURE.name)
                return _report(
                    sha256, data, (), (), registered, (problem,), now, self, (), ades, ()
                )
            reader = opened.reader
            try:
                found = _collect_signatures(reader)
            except _BrokenSignature:
                problem = Problem(
                    "format_failure", "Tanda tangan dalam dokumen rusak dan tidak dapat dibaca."
                )
                ades = AdESIndication(INDETERMINATE_INDICATION, AdESFailure.FORMAT_FAILURE.name)
                return _report(
                    sha256,
                    data,
                    (),
                    (),
                    registered,
                    (problem,),
                    now,
                    self,
                    (),
                    ades,
                    opened.notes,
                )
            args = (registered, delegation_lookup, xml, at, now)
            try:
                return self._verify_found(data, sha256, reader, found, *args, opened.notes)
            except _NeedsLenientReader:
                # The strict parser accepted the file's skeleton but not an object a signature
                # needs; read it all again leniently rather than fail the signature.
                reader = _reader(data, strict=False)
                found = _collect_signatures(reader)
                notes = (*opened.notes, _LENIENT_NOTE)
                return self._verify_found(data, sha256, reader, found, *args, notes)

    def _verify_found(
        self,
        data: bytes,
        sha256: str,
        reader,
        found: Sequence[_Found],
        registered: RegistryMatch | None,
        delegation_lookup: Callable[[str], DelegationInfo | None] | None,
        xml: bool,
        at: datetime | None,
        now: datetime,
        file_notes: tuple[str, ...],
    ) -> VerificationReport:
        parsed = [f.sig for f in found if f.sig is not None]
        regular = [f for f in found if f.kind == "/Sig"]
        doc_timestamps = [f.sig for f in found if f.kind == "/DocTimeStamp" and f.sig is not None]
        contexts = _FileContexts(self, _read_revinfo(reader) if parsed else _Revinfo(), parsed)

        first_signed = min((f.revision for f in regular if f.sig is not None), default=None)
        timestamps, ts_statuses = self._check_timestamps(
            doc_timestamps, contexts, at, now, first_signed
        )
        # Document timestamps whose CMS could not even be parsed fail as timestamps.
        timestamps.extend(
            _unreadable_timestamp(f) for f in found if f.kind == "/DocTimeStamp" and f.sig is None
        )
        checks: list[SignatureCheck] = []
        statuses: list[PdfSignatureStatus | None] = []
        validated: list[EmbeddedPdfSignature] = []
        revisions = [item.revision if item.sig is not None else None for item in regular]
        for item in regular:
            sig = item.sig
            if sig is None:
                checks.append(_unreadable_signature(item.field_name, item.error or "-"))
                continue
            if item.subfilter not in _SUPPORTED_SUBFILTERS:
                checks.append(_unsupported_signature(item, data))
                continue
            algorithm = _unsupported_algorithm(sig)
            if algorithm is not None:
                checks.append(_unsupported_algorithm_check(item, algorithm))
                continue
            poe = _proof_of_existence(
                sig, doc_timestamps, timestamps[: len(doc_timestamps)], ts_statuses
            )
            try:
                check, status = self._check_signature(
                    sig, contexts, poe, at, delegation_lookup, now
                )
            except PdfStrictReadError as exc:
                if reader.strict:
                    raise _NeedsLenientReader from exc
                logger.info("signature %r not validated: %s", sig.field_name, exc)
                check, status = _unreadable_signature(sig.field_name, str(exc)), None
            except Exception as exc:  # noqa: BLE001 - pyHanko asserts on foreign CMS; never crash
                logger.info(
                    "signature %r not validated: %s: %s", sig.field_name, type(exc).__name__, exc
                )
                check, status = _unreadable_signature(sig.field_name, str(exc)), None
            checks.append(check)
            if status is not None:
                statuses.append(status)
                validated.append(sig)
        later_timestamps = [
            (ts.signed_revision, check)
            for ts, check in zip(doc_timestamps, timestamps[: len(doc_timestamps)], strict=True)
        ]
        checks = _settle_coverage(checks, revisions, later_timestamps)
        problems: tuple[Problem, ...] = ()
        if not regular:
            problems = (
                Problem("no_signature", "Dokumen ini tidak memuat tanda tangan elektronik."),
            )
        xml_checks = [c for c in checks if any(c.field_name == s.field_name for s in validated)]
        xml_reports = _xml_reports(validated, xml_checks, statuses) if xml else ()
        indication = worst_indication(
            [c.ades for c in checks] + [t.ades for t in timestamps]
        ) or AdESIndication(INDETERMINATE_INDICATION, AdESIndeterminate.SIGNED_DATA_NOT_FOUND.name)
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
            indication,
            file_notes,
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
        """Validate every document timestamp at its own time, with the embedded data.

        The DSS written before a timestamp holds the revocation data of its TSA, so at its own
        time the timestamp validates offline. Each one counts: a timestamp that fails (broken
        imprint, damaged token, untrusted TSA) makes the file fail or stay open, and only
        timestamps of trusted TSAs give proof of existence. The newest such timestamp must also
        still hold now (its TSA chain not expired, or not revoked when asked online); if it
        does not, no timestamp proves anything any more (nothing renewed the chain).
        """
        checks: list[TimestampCheck] = []
        statuses: list[DocumentTimestampStatus | None] = []
        embedded = contexts.revinfo.has_revocation_data
        for ts in doc_timestamps:
            moment = _token_time(ts) if embedded else at
            # What was appended after a timestamp is also after the signature before it,
            # whose difference analysis covers it: do not analyse the same revisions twice.
            skip_diff = first_signed is not None and first_signed < ts.signed_revision
            try:
                status = validate_pdf_timestamp(
                    ts, contexts.at(moment, embedded=embedded), skip_diff=skip_diff
                )
            except Exception as exc:  # noqa: BLE001 - a damaged token must not crash the report
                logger.info(
                    "timestamp %r not validated: %s: %s", ts.field_name, type(exc).__name__, exc
                )
                statuses.append(None)
                checks.append(
                    _unreadable_timestamp(
                        _Found(ts.field_name, "/DocTimeStamp", None, ts, str(exc))
                    )
                )
                continue
            ades = _ts_indication(status, skip_diff)
            ok = ades.passed
            if ok:
                message = (
                    "Cap waktu dokumen sah: dokumen sudah ada dalam bentuk ini pada "
                    f"{_format_time(status.timestamp)}."
                )
            elif ades.indication == TOTAL_FAILED:
                message = "Cap waktu dokumen TIDAK SAH: " + _lower_first(ades.explanation)
            else:
                message = (
                    "Cap waktu dokumen tidak berasal dari penyedia cap waktu (TSA) yang "
                    "dipercaya, sehingga tidak membuktikan waktu apa pun."
                    if not status.trusted
                    else "Cap waktu dokumen belum dapat dipastikan: "
                    + _lower_first(ades.explanation)
                )
            statuses.append(status if ok else None)
            checks.append(
                TimestampCheck(
                    field_name=ts.field_name,
                    time=status.timestamp,
                    intact=status.intact,
                    valid=status.valid,
                    trusted=status.trusted,
                    tsa=_name_part(status.signing_cert.subject, "common_name"),
                    modification_level=_enum_name(status.modification_level),
                    message=message,
                    ades=ades,
                    proves_existence=ok,
                )
            )
        newest = next((i for i in reversed(range(len(checks))) if statuses[i] is not None), None)
        if newest is not None and embedded:
            ts, status = doc_timestamps[newest], statuses[newest]
            still, message = self._still_trusted(ts, status, contexts, at, now)
            if not still:
                checks[newest] = replace(
                    checks[newest],
                    trusted=False,
                    message=message,
                    ades=AdESIndication(
                        INDETERMINATE_INDICATION, AdESIndeterminate.OUT_OF_BOUNDS_NO_POE.name
                    ),
                    proves_existence=False,
                )
                # Nothing renewed the chain: the older timestamps lose their proof with it.
                statuses = [None] * len(statuses)
                checks = [replace(c, proves_existence=False) for c in checks]
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

    def _chain_expired(
        self, sig: EmbeddedPdfSignature, contexts: _FileContexts, moment: datetime
    ) -> bool:
        """Whether a certificate the signature carries, or a trust root, expired by ``moment``."""
        carried = [
            choice.chosen
            for choice in sig.signed_data["certificates"]
            if choice.name == "certificate"
        ]
        return any(
            cert["tbs_certificate"]["validity"]["not_after"].native < moment
            for cert in (*carried, *self.trust_roots)
        )

    def _chains_to_roots(self, sig: EmbeddedPdfSignature, contexts: _FileContexts) -> bool:
        """Whether any certificate carried by the signature or the DSS is issued by a root."""
        roots = {root.subject.dump() for root in self.trust_roots}
        carried = [
            choice.chosen
            for choice in sig.signed_data["certificates"]
            if choice.name == "certificate"
        ]
        return any(
            cert.issuer.dump() in roots or cert.subject.dump() in roots
            for cert in (*carried, *contexts.revinfo.certs)
        )

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
        # Failures that are no verdict (pyHanko asserting on a foreign CMS) propagate to the
        # caller, which reports the signature as unreadable.
        status = validate_pdf_signature(sig, context)

        signer = _signer_info(sig, status)
        problems: list[Problem] = []
        notes: list[str] = []

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
        chains_to_roots = self._chains_to_roots(sig, contexts)
        lapsed = (
            not status.trusted
            and chains_to_roots
            and status.trust_problem_indic not in _REVOKED
            and not _is_crypto_constraint(status)
            and self._chain_expired(sig, contexts, poe or now)
        )
        if lapsed:
            # The chain leads to the office's root but has expired and nothing proves the
            # signature existed before: open, not forged, whatever pyHanko's path error says.
            problems.append(_EXPIRED)
        elif not status.trusted:
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
        elif status.docmdp_ok is False:
            harmless = False
            problems.append(
                Problem(
                    "modified",
                    "Dokumen diubah setelah disertifikasi, padahal sertifikasinya tidak "
                    "mengizinkan perubahan itu.",
                )
            )
        elif _info_changed_since(sig.reader, sig.signed_revision):
            harmless = False
            problems.append(
                Problem(
                    "modified",
                    "Dokumen diubah setelah ditandatangani: keterangan dokumen (judul, penulis "
                    "atau subjek) diganti sesudah tanda tangan dibubuhkan.",
                )
            )
        elif modification == ModificationLevel.LTA_UPDATES:
            notes.append(
                "Setelah ditandatangani, dokumen hanya ditambah data validasi dan cap waktu "
                "dokumen (pembaruan cap waktu arsip), yang tidak mengubah isi."
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
            ades=_ades_indication(status, problems, chains_to_roots, lapsed),
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
        if (
            ts.signed_revision > sig.signed_revision
            and status is not None
            and check.proves_existence
        ):
            return status.timestamp
    return None


def _unreadable_signature(field_name: str, detail: str) -> SignatureCheck:
    """A signature whose CMS cannot be parsed or validated at all (not conformant: failed)."""
    return _bare_check(
        field_name,
        AdESIndication(TOTAL_FAILED, AdESFailure.FORMAT_FAILURE.name),
        Problem(
            "format_failure",
            "Tanda tangan tidak dapat diperiksa karena formatnya tidak dikenali atau rusak.",
        ),
        detail,
    )


def _unsupported_signature(item: _Found, data: bytes) -> SignatureCheck:
    """A signature in a format pyHanko does not validate: reported, never skipped."""
    sig = item.sig
    intact = None
    if item.subfilter == SHA1_SUBFILTER:
        intact = _sha1_subfilter_intact(sig, data)
    if intact is False:
        return _bare_check(
            item.field_name,
            AdESIndication(TOTAL_FAILED, AdESFailure.HASH_FAILURE.name),
            Problem(
                "hash_failure",
                "Isi dokumen tidak cocok dengan tanda tangan: dokumen telah diubah atau dirusak "
                "setelah ditandatangani.",
            ),
            f"SubFilter {item.subfilter}",
            sig,
        )
    if item.subfilter == SHA1_SUBFILTER:
        problem = Problem(
            "weak_algorithm",
            "Tanda tangan memakai format lama adbe.pkcs7.sha1 (SHA-1) yang sudah dianggap lemah; "
            "keabsahannya tidak dapat dipastikan.",
        )
        ades = AdESIndication(
            INDETERMINATE_INDICATION, AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE.name
        )
    else:
        problem = Problem(
            "unsupported_format",
            f"Format tanda tangan {item.subfilter or '(tanpa SubFilter)'} tidak didukung "
            "pemeriksa ini; keabsahannya tidak dapat dipastikan.",
        )
        ades = AdESIndication(INDETERMINATE_INDICATION, AdESFailure.FORMAT_FAILURE.name)
    return _bare_check(item.field_name, ades, problem, f"SubFilter {item.subfilter}", sig)


def _unsupported_algorithm_check(item: _Found, algorithm: str) -> SignatureCheck:
    """A signature made with an algorithm this verifier cannot check: undecided, not broken."""
    return _bare_check(
        item.field_name,
        AdESIndication(INDETERMINATE_INDICATION, AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE.name),
        Problem(
            "unsupported_format",
            f"Tanda tangan memakai algoritma {algorithm} yang tidak dapat diperiksa oleh "
            "pemeriksa ini; keabsahannya tidak dapat dipastikan.",
        ),
        f"algoritma {algorithm}",
        item.sig,
    )


def _bare_check(
    field_name: str,
    ades: AdESIndication,
    problem: Problem,
    detail: str,
    sig: EmbeddedPdfSignature | None = None,
) -> SignatureCheck:
    signer = None
    if sig is not None:
        try:
            signer = _signer_info(sig, None)
        except Exception:  # noqa: BLE001 - the signer is a courtesy here, not a check
            signer = None
    return SignatureCheck(
        field_name=field_name,
        intact=ades.sub_indication != AdESFailure.HASH_FAILURE.name and sig is not None,
        valid=False,
        trusted=False,
        revocation="not_checked",
        signer=signer,
        delegation=None,
        signing_time=None,
        signing_time_source=None,
        level="B-B",
        coverage=None,
        modification_level=None,
        covers_document=False,
        modification_detail=detail,
        ades=ades,
        validated_at=None,
        problems=(problem,),
    )


def _unreadable_timestamp(item: _Found) -> TimestampCheck:
    return TimestampCheck(
        field_name=item.field_name,
        time=None,
        intact=False,
        valid=False,
        trusted=False,
        tsa=None,
        modification_level=None,
        message="Cap waktu dokumen rusak dan tidak dapat divalidasi.",
        ades=AdESIndication(TOTAL_FAILED, AdESFailure.FORMAT_FAILURE.name),
    )


def _ts_indication(status: DocumentTimestampStatus, skip_diff: bool) -> AdESIndication:
    """The EN 319 102-1 result of a document timestamp validated as the TSA's signature."""
    if not status.intact:
        return AdESIndication(TOTAL_FAILED, AdESFailure.HASH_FAILURE.name)
    if not status.valid:
        return AdESIndication(TOTAL_FAILED, AdESFailure.SIG_CRYPTO_FAILURE.name)
    if not skip_diff and status.modification_level not in (None, *_HARMLESS):
        return AdESIndication(TOTAL_FAILED, AdESFailure.FORMAT_FAILURE.name)
    if not status.trusted:
        indic = status.trust_problem_indic or AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND
        return AdESIndication(_main(indic), indic.standard_name)
    return AdESIndication(TOTAL_PASSED, None)


def _settle_coverage(
    checks: list[SignatureCheck],
    revisions: Sequence[int | None],
    later_timestamps: Sequence[tuple[int, TimestampCheck]],
) -> list[SignatureCheck]:
    """Accept form filling after a signature only when a later signature or timestamp covers it.

    pyHanko calls a later signature (or document timestamp) in another field "form filling";
    that is how two officials sign one agreement, and how other tools add an archive
    timestamp. It is harmless when a later, intact and valid signature or timestamp covers the
    final state; whether that one is trusted is its own result, reported and counted apart.
    """
    settled: list[SignatureCheck] = []
    for index, check in enumerate(checks):
        if check.modification_level != ModificationLevel.FORM_FILLING.name:
            settled.append(check)
            continue
        revision = revisions[index]
        later_ok = any(c.covers_document and c.intact and c.valid for c in checks[index + 1 :])
        later_ok = later_ok or any(
            revision is not None and ts_revision > revision and ts.intact and ts.valid
            for ts_revision, ts in later_timestamps
        )
        if later_ok:
            note = (
                "Setelah ditandatangani, dokumen ditambah tanda tangan atau cap waktu berikutnya."
            )
            settled.append(replace(check, covers_document=True, notes=(*check.notes, note)))
        else:
            # Fields filled with nothing signing over them afterwards is how a shadow attack
            # swaps what a page shows: a change after signing, not a harmless one.
            problem = Problem(
                "modified",
                "Dokumen diubah setelah ditandatangani (isian formulir atau kolom diubah).",
            )
            ades = check.ades
            if ades.indication != TOTAL_FAILED:
                ades = AdESIndication(TOTAL_FAILED, AdESFailure.FORMAT_FAILURE.name)
            settled.append(replace(check, problems=(*check.problems, problem), ades=ades))
    return settled


def _ades_indication(
    status: PdfSignatureStatus,
    problems: Sequence[Problem],
    chains_to_roots: bool = True,
    lapsed: bool = False,
) -> AdESIndication:
    """The EN 319 102-1 indication of a signature, integrity failures first.

    A change after signing that the difference analysis does not allow is TOTAL_FAILED /
    FORMAT_FAILURE (as DSS reports it), even when the chain is also untrusted.
    """
    sub: AdESSubIndic
    if not status.intact:
        sub = AdESFailure.HASH_FAILURE
    elif not status.valid:
        sub = (
            status.trust_problem_indic
            if _is_crypto_constraint(status)
            else (AdESFailure.SIG_CRYPTO_FAILURE)
        )
    elif any(p.code == "modified" for p in problems):
        if status.coverage == SignatureCoverageLevel.UNCLEAR:
            # A byte range covering the file in no standard way cannot be judged either way
            # (bytes appended after a covered block, by contrast, are a change: failed).
            return AdESIndication(INDETERMINATE_INDICATION, AdESFailure.FORMAT_FAILURE.name)
        sub = AdESFailure.FORMAT_FAILURE
    elif lapsed:
        sub = AdESIndeterminate.OUT_OF_BOUNDS_NO_POE
    elif (
        status.trust_problem_indic is AdESIndeterminate.CHAIN_CONSTRAINTS_FAILURE
        and status.validation_path is None
        and not chains_to_roots
    ):
        # pyHanko checks key usage before it builds a path; with no path to a trusted root at
        # all, that no chain exists is the first thing to say.
        sub = AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND
    elif status.trust_problem_indic is not None:
        sub = status.trust_problem_indic
    elif not status.trusted:
        sub = AdESIndeterminate.NO_CERTIFICATE_CHAIN_FOUND
    else:
        sub = AdESPassed.OK
    if sub is AdESPassed.OK:
        return AdESIndication(TOTAL_PASSED, None)
    return AdESIndication(_main(sub), sub.standard_name)


def _is_crypto_constraint(status: PdfSignatureStatus) -> bool:
    return status.trust_problem_indic in (
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    )


def _main(sub: AdESSubIndic) -> str:
    """pyHanko's AdESStatus as the EN 319 102-1 main indication name."""
    return {"PASSED": TOTAL_PASSED, "FAILED": TOTAL_FAILED}.get(
        sub.status.name, INDETERMINATE_INDICATION
    )


_REVOKED = (
    AdESFailure.REVOKED,
    AdESIndeterminate.REVOKED_NO_POE,
    AdESIndeterminate.REVOKED_CA_NO_POE,
)
_EXPIRED = Problem(
    "expired",
    "Sertifikat penanda tangan atau penerbitnya tidak berlaku (kedaluwarsa atau belum "
    "berlaku) pada waktu pemeriksaan, dan tidak ada bukti waktu tepercaya bahwa tanda "
    "tangan dibuat ketika sertifikat itu masih berlaku.",
)


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
        return _EXPIRED
    if indic in (
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE,
        AdESIndeterminate.CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    ):
        return Problem(
            "weak_algorithm",
            "Tanda tangan atau sertifikatnya memakai algoritma atau panjang kunci yang sudah "
            "dianggap lemah (misalnya SHA-1, MD5 atau RSA 1024 bit), tanpa bukti waktu bahwa "
            "tanda tangan dibuat ketika algoritma itu masih aman.",
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
        confirmed_at=sk.confirmed_at,
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


def _enum_name(value) -> str | None:
    return value.name if isinstance(value, Enum) else None


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
        public_id=found.public_id,
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
    indication: AdESIndication,
    notes: tuple[str, ...],
) -> VerificationReport:
    status, verdict = _verdict(checks, timestamps, problems)
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
        indication=indication,
        notes=notes,
    )


#: Problems that leave the question open (INDETERMINATE) rather than settle it: the signature
#: may well be good, but this verification cannot prove it.
_OPEN_QUESTIONS = frozenset(
    {
        "revocation_unknown",
        "expired",
        "weak_algorithm",
        "unsupported_format",
        "encrypted",
        "unreadable",
        "timestamp_untrusted",
    }
)


def _verdict(
    checks: Sequence[SignatureCheck],
    timestamps: Sequence[TimestampCheck],
    problems: Sequence[Problem],
) -> tuple[str, str]:
    """The status and the one sentence a layperson reads first.

    Valid needs every signature to pass and every document timestamp to pass too: a failed
    timestamp (damaged, from an untrusted TSA) is never ignored, since it is part of the file
    the reader holds.
    """
    if problems:
        if all(p.code in _OPEN_QUESTIONS for p in problems):
            return INDETERMINATE, (
                "Keabsahan tanda tangan BELUM DAPAT DIPASTIKAN: "
                f"{_lower_first(problems[0].message)}"
            )
        return INVALID, f"Tanda tangan TIDAK SAH: {_lower_first(problems[0].message)}"
    if not checks:
        return INVALID, "Tanda tangan TIDAK SAH: dokumen ini tidak memuat tanda tangan elektronik."
    failed = [c for c in checks if c.problems or not c.ades.passed]
    # A definite failure speaks louder than an open question.
    definite = [
        c
        for c in failed
        if any(p.code not in _OPEN_QUESTIONS for p in c.problems)
        or c.ades.indication == TOTAL_FAILED
    ]
    if definite:
        first = definite[0].problems[0] if definite[0].problems else None
        reason = first.message if first else definite[0].ades.explanation
        return INVALID, f"Tanda tangan TIDAK SAH: {_lower_first(reason)}"
    broken_ts = [t for t in timestamps if t.ades.indication == TOTAL_FAILED]
    if broken_ts:
        return INVALID, (
            f"Tanda tangan TIDAK SAH: cap waktu dokumen {broken_ts[0].field_name} rusak atau "
            "tidak cocok dengan isi dokumen."
        )
    if failed:
        pending = failed[0]
        reason = pending.problems[0].message if pending.problems else pending.ades.explanation
        return INDETERMINATE, (
            f"Keabsahan tanda tangan BELUM DAPAT DIPASTIKAN: {_lower_first(reason)}"
        )
    open_ts = [t for t in timestamps if not t.ades.passed]
    if open_ts:
        return INDETERMINATE, (
            f"Keabsahan dokumen BELUM DAPAT DIPASTIKAN: {_lower_first(open_ts[0].message)}"
        )
    return VALID, _VERDICT_VALID


def _lower_first(text: str) -> str:
    """Lower-case the first letter to continue a sentence, but leave acronyms ("SK", "PDF")."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


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
