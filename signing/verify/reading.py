"""Reading a PDF for verification: the file, its embedded signatures, signer and DSS data."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO

from asn1crypto import cms, x509
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from pyhanko.pdf_utils.crypt import AuthStatus
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigSeedSubFilter, enumerate_sig_fields
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.errors import NoDSSFoundError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus

from pengesahan.errors import VerificationError
from signing.verify.report import Problem, SignerInfo

logger = logging.getLogger(__name__)

_PDF_MAGIC = b"%PDF-"
_SK_PATTERN = re.compile(r"SK Nomor (?P<number>.+?) tanggal (?P<date>\d{1,2} \w+ \d{4})")


@dataclass(frozen=True)
class _Opened:
    """A PDF opened for verification, or why its signatures cannot be read."""

    reader: PdfFileReader | None
    #: A file-level reason the signatures cannot be examined (reader is None then).
    problem: Problem | None = None
    #: Remarks about how the file was read (parsed leniently, decrypted).
    notes: tuple[str, ...] = ()


def _open_pdf(data: bytes) -> _Opened:
    """The file opened for verification; :class:`VerificationError` only when it is no PDF.

    A file that the strict parser refuses (hybrid cross-reference tables, a wrong startxref
    offset, a damaged object) is read again leniently: such files are common among real signed
    PDFs, and refusing them would only hide what their signatures say.
    """
    if not data:
        raise VerificationError("Berkas kosong; unggah berkas PDF Perjanjian Penempatan.")
    # The header may follow a little junk (ISO 32000 tolerates it); nothing else is a PDF.
    if _PDF_MAGIC not in data[:1024]:
        raise VerificationError("Berkas ini bukan PDF; hanya dokumen PDF yang dapat diverifikasi.")
    notes: list[str] = []
    try:
        reader = _reader(data, strict=True)
        if reader.xrefs.hybrid_xrefs_present:
            # pyHanko refuses to validate hybrid-reference files in strict mode.
            reader = _reader(data, strict=False)
            notes.append("Berkas memakai tabel rujukan silang hibrida; dibaca dalam mode longgar.")
    except _Encrypted as exc:
        return _Opened(None, exc.problem)
    except Exception as exc:  # noqa: BLE001 - any parser failure: try the lenient parser
        logger.info("strict parse failed (%s: %s); reading leniently", type(exc).__name__, exc)
        try:
            reader = _reader(data, strict=False)
        except _Encrypted as encrypted:
            return _Opened(None, encrypted.problem)
        except Exception as again:  # noqa: BLE001 - a PDF header over an unreadable body
            logger.info("lenient parse failed too: %s: %s", type(again).__name__, again)
            return _Opened(None, _UNREADABLE)
        notes.append(
            "Struktur berkas tidak sepenuhnya sesuai standar PDF; berkas dibaca dalam mode longgar."
        )
    if reader.encrypted:
        notes.append("Berkas terenkripsi tanpa kata sandi pembuka; dibuka untuk diperiksa.")
    return _Opened(reader, None, tuple(notes))


#: A signature dictionary's byte range, found in the raw bytes when no parser reads the file.
_RAW_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _raw_signatures_broken(data: bytes) -> bool | None:
    """For a file no parser reads: whether a signature's own byte range proves bytes changed.

    True when a byte range reaches past the end of the file or its digest no longer matches the
    one the signer signed (bytes were removed or altered: the signature is broken, whatever else
    is wrong with the file); False when every signature found still matches its bytes; None when
    no signature can be examined this way (no byte range, a malformed one, no signed digest).
    """
    verdicts = [_raw_range_broken(data, m) for m in _RAW_BYTE_RANGE.finditer(data)]
    known = [v for v in verdicts if v is not None]
    if not known:
        return None
    return any(known)


def _raw_range_broken(data: bytes, match: re.Match) -> bool | None:
    start1, length1, start2, length2 = (int(n) for n in match.groups())
    if start2 + length2 > len(data):
        return True  # the signed bytes reach past the end: part of the file was cut off
    if start1 != 0 or start2 < length1:
        return None  # a malformed range is a format failure, not evidence of a change
    try:
        der = bytes.fromhex(data[length1:start2].strip().strip(b"<>").decode("ascii"))
        signed_data = cms.ContentInfo.load(der, strict=False)["content"]
        encapsulated = signed_data["encap_content_info"]
        if encapsulated["content_type"].native == "tst_info":
            # A document timestamp signs its TSTInfo, which holds the document's digest.
            imprint = encapsulated["content"].parsed["message_imprint"]
            digest = imprint["hashed_message"].native
            algorithm = imprint["hash_algorithm"]["algorithm"].native
        else:
            signer = signed_data["signer_infos"][0]
            digest = next(
                attr["values"][0].native
                for attr in signer["signed_attrs"]
                if attr["type"].native == "message_digest"
            )
            algorithm = signer["digest_algorithm"]["algorithm"].native
        signed = data[:length1] + data[start2 : start2 + length2]
        computed = hashlib.new(algorithm, signed).digest()
    except Exception:  # noqa: BLE001 - no signed digest to compare (odd CMS): unknown
        return None
    return computed != digest


class _Encrypted(Exception):
    """An encrypted PDF that cannot be opened without a secret."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


_ENCRYPTED = Problem(
    "encrypted",
    "Berkas terenkripsi dan tidak dapat dibuka tanpa kata sandi atau sertifikat penerima, "
    "sehingga tanda tangannya tidak dapat diperiksa.",
)
_UNREADABLE = Problem(
    "unreadable",
    "Berkas PDF rusak atau terpotong sehingga tanda tangan di dalamnya tidak dapat dibaca.",
)


def _reader(data: bytes, *, strict: bool) -> PdfFileReader:
    reader = PdfFileReader(BytesIO(data), strict=strict)
    if reader.encrypted:
        # Encrypted with an empty user password (only permissions restricted) is common and
        # readable; a certificate (public-key) or password-protected file is not.
        try:
            result = reader.decrypt("")
        except Exception as exc:  # noqa: BLE001 - pubkey handlers and odd crypt filters
            raise _Encrypted(_ENCRYPTED) from exc
        if result.status == AuthStatus.FAILED:
            raise _Encrypted(_ENCRYPTED)
    reader.root  # noqa: B018 - forces the trailer and catalogue to parse now
    return reader


class _BrokenSignature(Exception):
    """The signature fields of the file cannot be enumerated (the file itself is a PDF)."""


@dataclass
class _Found:
    """A filled signature field: the parsed signature, or why it could not be parsed."""

    field_name: str
    #: "/Sig" or "/DocTimeStamp".
    kind: str
    subfilter: str | None
    sig: EmbeddedPdfSignature | None
    #: Why the signature could not be parsed (English, for experts and the log).
    error: str | None = None
    revision: int = 0


def _collect_signatures(reader: PdfFileReader) -> list[_Found]:
    """Every filled signature field in the AcroForm, in signing order.

    Walked here instead of pyHanko's ``embedded_signatures``: that skips SubFilters it does
    not know (adbe.pkcs7.sha1) without a word and fails for the whole file when one CMS is
    malformed; here each field is read on its own and none is dropped.
    """
    found: list[_Found] = []
    try:
        fields = list(enumerate_sig_fields(reader, filled_status=True))
    except Exception as exc:  # noqa: BLE001 - a broken field tree: nothing to enumerate
        logger.info("signature fields unreadable: %s: %s", type(exc).__name__, exc)
        raise _BrokenSignature(str(exc)) from exc
    for name, sig_ref, field in fields:
        try:
            sig_object = sig_ref.get_object()
            kind = "/DocTimeStamp" if sig_object.get("/Type") == "/DocTimeStamp" else "/Sig"
            subfilter = sig_object.get("/SubFilter")
            subfilter = str(subfilter) if subfilter is not None else None
        except Exception as exc:  # noqa: BLE001 - an unreadable signature dictionary
            found.append(_Found(name, "/Sig", None, None, f"{type(exc).__name__}: {exc}"))
            continue
        try:
            sig = EmbeddedPdfSignature(reader, field, name)
            revision = sig.signed_revision
        except Exception as exc:  # noqa: BLE001 - pyHanko asserts on malformed CMS
            logger.info("signature %r unreadable: %s: %s", name, type(exc).__name__, exc)
            found.append(_Found(name, kind, subfilter, None, f"{type(exc).__name__}: {exc}"))
            continue
        found.append(_Found(name, kind, subfilter, sig, None, revision))
    found.sort(key=lambda item: item.revision)
    return found


#: Signature algorithms pyHanko cannot check, by OID: BSI TR-03111 "plain" ECDSA (r||s rather
#: than DER). Re-encoding the value would not do: the signed CMS algorithm-protection attribute
#: names the plain OID, so such a signature stays undecided here rather than "broken".
_UNSUPPORTED_ALGORITHMS = {
    f"0.4.0.127.0.7.1.1.4.1.{n}": f"ECDSA polos BSI TR-03111 ({digest})"
    for n, digest in ((1, "SHA-1"), (2, "SHA-224"), (3, "SHA-256"), (4, "SHA-384"), (5, "SHA-512"))
}


def _unsupported_algorithm(sig: EmbeddedPdfSignature) -> str | None:
    """The name of the signature's algorithm when this verifier cannot check it, else None."""
    try:
        oid = sig.signer_info["signature_algorithm"]["algorithm"].dotted
    except Exception:  # noqa: BLE001 - an odd CMS: left to the validation to judge
        return None
    return _UNSUPPORTED_ALGORITHMS.get(oid)


#: SubFilters pyHanko validates; anything else is reported, not silently skipped.
_SUPPORTED_SUBFILTERS = frozenset(str(member.value) for member in SigSeedSubFilter)
SHA1_SUBFILTER = "/adbe.pkcs7.sha1"


def _sha1_subfilter_intact(sig: EmbeddedPdfSignature, data: bytes) -> bool | None:
    """For adbe.pkcs7.sha1: whether the SHA-1 in the CMS is that of the signed byte ranges."""
    try:
        ranges = [int(n) for n in sig.byte_range]
        signed = b"".join(
            data[start : start + length]
            for start, length in zip(ranges[::2], ranges[1::2], strict=True)
        )
        content = sig.signed_data["encap_content_info"]["content"].native
    except Exception:  # noqa: BLE001 - no usable content: integrity unknown
        return None
    if not isinstance(content, bytes):
        return None
    return hashlib.sha1(signed, usedforsecurity=False).digest() == content


#: /Info entries every writer may touch when it appends an update (the DSS, a timestamp).
_TOOL_INFO_KEYS = frozenset({"/ModDate", "/Producer"})


def _info_changed_since(reader: PdfFileReader, revision: int) -> bool:
    """Whether the document information (/Info: title, author ...) changed after ``revision``.

    pyHanko's difference analysis follows the object graph from the catalogue; the /Info
    dictionary hangs off the trailer, outside it, so an edited title goes unseen there.
    """
    try:
        then = _info_entries(reader.get_historical_resolver(revision).trailer_view)
        now = _info_entries(reader.trailer)
    except Exception:  # noqa: BLE001 - unreadable /Info in either revision: nothing to compare
        return False
    return then != now


def _info_entries(trailer) -> dict[str, str]:
    if "/Info" not in trailer:
        return {}
    info = trailer["/Info"]
    return {str(k): str(v) for k, v in info.items() if str(k) not in _TOOL_INFO_KEYS}


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


def _token_time(ts: EmbeddedPdfSignature) -> datetime | None:
    try:
        tst_info = ts.signed_data["encap_content_info"]["content"].parsed
        return tst_info["gen_time"].native
    except (KeyError, ValueError, AttributeError):
        return None
