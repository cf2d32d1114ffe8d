"""The verification report: what was checked about a PDF and its signatures, as data."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from enum import Enum

from signing.delegation import Delegation, format_date

__all__ = [
    "INDETERMINATE",
    "INVALID",
    "VALID",
    "INDETERMINATE_INDICATION",
    "TOTAL_FAILED",
    "TOTAL_PASSED",
    "AdESIndication",
    "DelegationCheck",
    "DelegationInfo",
    "Problem",
    "RegisteredAgreement",
    "RegistryMatch",
    "SignatureCheck",
    "SignerInfo",
    "TimestampCheck",
    "VerificationReport",
    "worst_indication",
]

#: What the delegation lookup returns: the SK as the signing rules see it.
DelegationInfo = Delegation

VALID = "valid"
INVALID = "invalid"
INDETERMINATE = "indeterminate"
#: The EN 319 102-1 main indication (the status constant above is the layperson's verdict).
INDETERMINATE_INDICATION = "INDETERMINATE"

_EXIT_OK, _EXIT_FAILED, _EXIT_UNREADABLE = 0, 1, 2


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
    #: Unguessable id of the agreement's public page.
    public_id: str | None = None


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
    #: When the delegating official confirmed the SK with their own signature.
    confirmed_at: datetime | None = None


#: ETSI EN 319 102-1 main indications, worst last.
TOTAL_PASSED = "TOTAL_PASSED"
TOTAL_FAILED = "TOTAL_FAILED"
_SEVERITY = {TOTAL_PASSED: 0, INDETERMINATE_INDICATION: 1, TOTAL_FAILED: 2}

#: What each indication and sub-indication means, for a layperson (EN 319 102-1 clause 5.1.3).
_EXPLANATIONS = {
    TOTAL_PASSED: "Semua pemeriksaan lulus: tanda tangan sah menurut kebijakan validasi.",
    "INDETERMINATE": "Hasil pemeriksaan belum dapat dipastikan sah atau tidak sah.",
    TOTAL_FAILED: "Tanda tangan dipastikan tidak sah.",
    "HASH_FAILURE": "Isi dokumen yang ditandatangani tidak cocok lagi dengan tanda tangan.",
    "SIG_CRYPTO_FAILURE": "Nilai tanda tangan tidak dapat dibuktikan dengan kunci publik "
    "penanda tangan.",
    "FORMAT_FAILURE": "Tanda tangan atau dokumen tidak memenuhi format yang ditetapkan, atau "
    "dokumen diubah setelah ditandatangani dengan cara yang tidak diizinkan.",
    "REVOKED": "Sertifikat penanda tangan telah dicabut sebelum waktu penandatanganan.",
    "NO_CERTIFICATE_CHAIN_FOUND": "Sertifikat penanda tangan tidak dapat dikaitkan dengan "
    "akar kepercayaan (root CA) yang dipercaya pemeriksa.",
    "NO_SIGNING_CERTIFICATE_FOUND": "Sertifikat penanda tangan tidak ditemukan atau tidak "
    "dapat dipastikan.",
    "OUT_OF_BOUNDS_NO_POE": "Sertifikat tidak berlaku lagi pada waktu pemeriksaan dan tidak "
    "ada bukti waktu tepercaya bahwa tanda tangan dibuat saat sertifikat masih berlaku.",
    "OUT_OF_BOUNDS_NOT_REVOKED": "Sertifikat tidak berlaku lagi pada waktu pemeriksaan, "
    "tetapi tidak dicabut.",
    "REVOKED_NO_POE": "Sertifikat dicabut dan tidak ada bukti waktu bahwa tanda tangan dibuat "
    "sebelum pencabutan.",
    "REVOKED_CA_NO_POE": "Sertifikat penerbit dicabut dan tidak ada bukti waktu bahwa tanda "
    "tangan dibuat sebelum pencabutan.",
    "TRY_LATER": "Status pencabutan sertifikat belum dapat diperoleh; coba periksa lagi nanti.",
    "REVOCATION_OUT_OF_BOUNDS_NO_POE": "Data pencabutan sertifikat tidak sesuai waktunya dan "
    "tidak ada bukti waktu yang menolongnya.",
    "CRYPTO_CONSTRAINTS_FAILURE": "Tanda tangan memakai algoritma atau panjang kunci yang "
    "sudah dianggap lemah.",
    "CRYPTO_CONSTRAINTS_FAILURE_NO_POE": "Tanda tangan memakai algoritma yang sudah dianggap "
    "lemah, tanpa bukti waktu bahwa tanda tangan dibuat ketika algoritma itu masih aman.",
    "CHAIN_CONSTRAINTS_FAILURE": "Rantai sertifikat penanda tangan tidak memenuhi ketentuan "
    "validasi.",
    "SIG_CONSTRAINTS_FAILURE": "Tanda tangan tidak memenuhi ketentuan kebijakan validasi.",
    "CERTIFICATE_CHAIN_GENERAL_FAILURE": "Rantai sertifikat penanda tangan tidak dapat diperiksa.",
    "SIGNED_DATA_NOT_FOUND": "Data yang ditandatangani tidak dapat ditemukan atau dibaca.",
    "NOT_YET_VALID": "Tanda tangan dibuat sebelum sertifikatnya berlaku.",
    "EXPIRED": "Sertifikat sudah kedaluwarsa sebelum waktu penandatanganan yang terbukti.",
    "POLICY_PROCESSING_ERROR": "Kebijakan tanda tangan tidak dapat diproses.",
    "GENERIC": "Tanda tangan tidak dapat diperiksa sepenuhnya.",
}


@dataclass(frozen=True)
class AdESIndication:
    """ETSI EN 319 102-1 result: main indication and sub-indication."""

    #: "TOTAL_PASSED", "INDETERMINATE" or "TOTAL_FAILED".
    indication: str
    #: Sub-indication name (e.g. "HASH_FAILURE", "NO_CERTIFICATE_CHAIN_FOUND"), None if passed.
    sub_indication: str | None

    @property
    def passed(self) -> bool:
        """TOTAL_PASSED."""
        return self.indication == TOTAL_PASSED

    @property
    def severity(self) -> int:
        """0 passed, 1 indeterminate, 2 failed: to pick the worst of several results."""
        return _SEVERITY.get(self.indication, 1)

    @property
    def explanation(self) -> str:
        """The meaning of the (sub-)indication in Bahasa Indonesia."""
        key = self.sub_indication or self.indication
        return _EXPLANATIONS.get(key, _EXPLANATIONS["INDETERMINATE"])

    def __str__(self) -> str:
        return self.indication + (f"/{self.sub_indication}" if self.sub_indication else "")


def worst_indication(indications: Iterable[AdESIndication]) -> AdESIndication | None:
    """The most severe indication (the first of equals), None when there is none."""
    worst = None
    for indication in indications:
        if worst is None or indication.severity > worst.severity:
            worst = indication
    return worst


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
        return not self.problems and self.ades.passed


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
    #: ETSI EN 319 102-1 result of the timestamp (validated as a signature of the TSA).
    ades: AdESIndication = AdESIndication(INDETERMINATE_INDICATION, "GENERIC")
    #: Whether it proves the existence of what it covers (trusted TSA, chain still valid).
    proves_existence: bool = False

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted and passed."""
        return self.intact and self.valid and self.trusted and self.ades.passed


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
    #: Unguessable id of the agreement's public page (/verifikasi/p/<public_id>).
    public_id: str | None = None


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
    #: ETSI EN 319 102-1 result of the whole file: the worst over signatures and timestamps.
    indication: AdESIndication = AdESIndication(INDETERMINATE_INDICATION, "SIGNED_DATA_NOT_FOUND")
    #: Remarks about the file that do not change the verdict (e.g. parsed leniently).
    notes: tuple[str, ...] = ()
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
        data["indication_explanation"] = self.indication.explanation
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


_MONTH_TIME = "%H:%M:%S UTC"


def _format_time(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    moment = moment.astimezone(UTC)
    return f"{format_date(moment.date())} pukul {moment.strftime(_MONTH_TIME)}"
