"""Intake of an upload: what the file really is, judged by its content, and whether it is safe.

The declared name and the browser's content type are never trusted: the magic bytes must say
JPEG, PNG or PDF *and* the file must really decode (images) or parse (PDF). Dangerous or absurd
files are refused before anything expensive happens: images are measured from their header
before a pixel is decoded, PDFs are walked for scripts and launch actions.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import pikepdf
import pypdfium2 as pdfium
from PIL import Image
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from pengesahan.errors import FileTooLarge, IntakeError
from processing.pdfium_lock import PDFIUM_LOCK
from processing.spec import MAX_UPLOAD_BYTES

__all__ = [
    "MAX_PDF_PAGES",
    "MAX_PIXELS",
    "IntakeResult",
    "inspect_upload",
    "read_limited",
]

#: Largest image accepted, in pixels (a 12 MP phone photo is 12e6; 60 MP leaves headroom and
#: keeps a decoded RGB frame under 200 MB, well inside a queue worker's memory).
MAX_PIXELS = 60_000_000
#: Most pages a dossier document has; more is a mistake or an attack on the renderer.
MAX_PDF_PAGES = 50

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PDF_MAGIC = b"%PDF-"

_MSG_NOT_ALLOWED = "Berkas bukan JPG, PNG atau PDF yang sah."
_MSG_EMPTY = "Berkas kosong (0 byte)."
_MSG_POLYGLOT = (
    "Berkas berisi data lain yang tersembunyi di dalam gambar atau PDF; "
    "simpan ulang sebagai JPG, PNG atau PDF biasa."
)
_MSG_ENCRYPTED = "PDF terkunci kata sandi (terenkripsi); unggah PDF tanpa kata sandi."
_MSG_SCRIPT = ("PDF berisi JavaScript atau aksi otomatis, lampiran tersemat atau formulir XFA yang tidak "
               "diizinkan; cetak ulang ke PDF biasa.")

# Markers of a second format hidden in the same bytes, sought in the lowered bytes. `%PDF-`
# anywhere in an image makes it a PDF to some readers; HTML/script makes it an HTML page to a
# browser sniffing content. The markup markers in one pattern: its literal `<` lets the regex
# engine skip from `<` to `<`, one pass over the bytes instead of five (the whole check of a
# 4 MB photo, lowering included: 15 ms -> 7 ms).
_PDF_MARKER = b"%pdf-"
_MARKUP_MARKERS = re.compile(rb"<(?:script|html|\?php|svg|!doctype)")
# End-of-central-directory record of a ZIP (JAR, DOCX, APK...): ZIP readers look at the tail.
_ZIP_EOCD = b"PK\x05\x06"
# PDF names that run code or other programs; pypdf decodes #xx escapes for us.
_PDF_DANGEROUS_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/RichMedia",
                                    "/GoToR", "/GoToE", "/Rendition"})
_PDF_DANGEROUS_KEYS = frozenset({"/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/XFA", "/RichMediaContent"})
_PDF_DANGEROUS_SUBTYPES = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound"})
# Raw fallback for objects pypdf could not reach (broken xref); names may hide behind #xx.
_RAW_PDF_ACTION = re.compile(rb"/(?:JavaScript|Launch|JS\s*[(<\[])")


@dataclass(frozen=True)
class IntakeResult:
    """What an accepted upload is: media type, size, digest and the canonical extension."""

    #: ``image/jpeg``, ``image/png`` or ``application/pdf``.
    media_type: str
    #: Size in bytes.
    size: int
    #: SHA-256 of the raw bytes, hex (the exact-duplicate key).
    sha256: str
    #: Extension to store the file under, from the content: ``.jpg``, ``.png`` or ``.pdf``.
    extension: str
    #: Pixel width and height from the header (images only).
    width: int | None = None
    height: int | None = None
    #: Number of pages (PDF only).
    pages: int | None = None
    #: False when the declared name's extension disagrees with the content (informative only).
    name_matches: bool = True


def read_limited(stream: BinaryIO, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read a whole stream, but never more than ``max_bytes + 1`` bytes.

    Raises :class:`errors.FileTooLarge` (HTTP 413) when the stream holds more than ``max_bytes``.
    """
    chunks: list[bytes] = []
    total = 0
    # Reading in chunks bounds memory even when the stream lies about its length.
    while total <= max_bytes:
        chunk = stream.read(min(1 << 20, max_bytes + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        raise FileTooLarge(_too_large_message(max_bytes), details={"max_bytes": max_bytes})
    return b"".join(chunks)


def inspect_upload(
    data: bytes | bytearray | memoryview | BinaryIO,
    *,
    declared_name: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> IntakeResult:
    """Judge an upload by its content and return what it is, or raise why it is refused.

    Raises :class:`errors.FileTooLarge` past ``max_bytes`` and :class:`errors.IntakeError` for
    every other refusal (empty, unknown format, undecodable, polyglot, pixel bomb, encrypted or
    scripted PDF, too many pages). ``declared_name`` is only compared, never believed.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > max_bytes:
            raise FileTooLarge(_too_large_message(max_bytes), details={"max_bytes": max_bytes})
    else:
        raw = read_limited(data, max_bytes)
    if not raw:
        raise IntakeError(_MSG_EMPTY)

    if raw.startswith(_JPEG_MAGIC):
        media_type, extension = "image/jpeg", ".jpg"
        width, height = _check_image(raw, "JPEG")
        pages = None
    elif raw.startswith(_PNG_MAGIC):
        media_type, extension = "image/png", ".png"
        width, height = _check_image(raw, "PNG")
        pages = None
    elif raw.startswith(_PDF_MAGIC):
        media_type, extension = "application/pdf", ".pdf"
        pages = _check_pdf(raw)
        width = height = None
    else:
        raise IntakeError(_MSG_NOT_ALLOWED)

    return IntakeResult(
        media_type=media_type,
        size=len(raw),
        sha256=hashlib.sha256(raw).hexdigest(),
        extension=extension,
        width=width,
        height=height,
        pages=pages,
        name_matches=_name_matches(declared_name, extension),
    )


def _too_large_message(max_bytes: int) -> str:
    return f"Berkas terlalu besar; paling besar {max_bytes / (1024 * 1024):.0f} MB."


def _name_matches(declared_name: str | None, extension: str) -> bool:
    if not declared_name or "." not in declared_name:
        return True
    declared = "." + declared_name.rsplit(".", 1)[1].lower()
    if declared == ".jpeg":
        declared = ".jpg"
    return declared == extension


def _check_image(raw: bytes, fmt: str) -> tuple[int, int]:
    """Refuse polyglots and pixel bombs, then decode for real; return (width, height)."""
    _refuse_polyglot_image(raw, fmt)
    declared = _header_size(raw, fmt)
    if declared is not None and declared[0] * declared[1] > MAX_PIXELS:
        raise IntakeError(
            f"Gambar terlalu besar: {declared[0]}×{declared[1]} piksel "
            f"(paling banyak {MAX_PIXELS / 1e6:.0f} juta piksel).",
            details={"width": declared[0], "height": declared[1]},
        )
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard is a warning below twice its limit: make it an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=[fmt]) as image:
                width, height = image.size
                # Measured from the header, before any pixel is decoded.
                if width * height > MAX_PIXELS:
                    raise IntakeError(
                        f"Gambar terlalu besar: {width}×{height} piksel "
                        f"(paling banyak {MAX_PIXELS / 1e6:.0f} juta piksel).",
                        details={"width": width, "height": height},
                    )
                if width < 1 or height < 1:
                    raise IntakeError(_MSG_NOT_ALLOWED)
                if fmt == "JPEG":
                    # DCT scaling decodes every entropy-coded byte (so truncation and
                    # corruption still show) at an eighth of the pixels.
                    image.draft("L", (max(1, width // 8), max(1, height // 8)))
                image.load()
    except IntakeError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise IntakeError(_MSG_NOT_ALLOWED) from exc
    return width, height


def _refuse_polyglot_image(raw: bytes, fmt: str) -> None:
    lowered = raw.lower()
    if _PDF_MARKER in lowered or _MARKUP_MARKERS.search(lowered):
        raise IntakeError(_MSG_POLYGLOT)
    if _ZIP_EOCD in raw[-(65_536 + 22):]:
        raise IntakeError(_MSG_POLYGLOT)
    if fmt == "PNG":
        end = _png_end(raw)
        # Bytes after IEND are read by nobody honest; tolerate a little padding only.
        if end is not None and raw[end:].strip(b"\x00\r\n \t"):
            raise IntakeError(_MSG_POLYGLOT)


def _header_size(raw: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) read from the PNG IHDR or the JPEG SOF marker, without Pillow.

    Pillow refuses a huge image in ``open`` with its own generic error; reading the header
    ourselves lets the refusal say what was wrong.
    """
    if fmt == "PNG":
        if raw[12:16] != b"IHDR" or len(raw) < 24:
            return None
        return int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    pos = 2
    while pos + 4 <= len(raw):
        if raw[pos] != 0xFF:
            return None
        marker = raw[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(raw[pos + 2 : pos + 4], "big")
        # SOF0-15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > len(raw):
                return None
            height = int.from_bytes(raw[pos + 5 : pos + 7], "big")
            width = int.from_bytes(raw[pos + 7 : pos + 9], "big")
            return width, height
        if marker == 0xDA:  # start of scan before any frame header: broken
            return None
        pos += 2 + length
    return None


def _png_end(raw: bytes) -> int | None:
    """Offset just past the IEND chunk, walking the chunk list; None when it is broken."""
    pos = len(_PNG_MAGIC)
    while pos + 8 <= len(raw):
        length = int.from_bytes(raw[pos : pos + 4], "big")
        kind = raw[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos
    return None


def _check_pdf(raw: bytes) -> int:
    """Parse the PDF with pypdf (structure) and pdfium (rendering); return its page count."""
    if _ZIP_EOCD in raw[-(65_536 + 22):]:
        raise IntakeError(_MSG_POLYGLOT)
    try:
        with warnings.catch_warnings():
            # A malformed-but-readable PDF makes pypdf warn; that is not our concern here.
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(raw), strict=False)
            if reader.is_encrypted:
                raise IntakeError(_MSG_ENCRYPTED)
            pages = len(reader.pages)
    except IntakeError:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError,
            IndexError, RecursionError) as exc:
        raise IntakeError(_MSG_NOT_ALLOWED) from exc
    if _RAW_PDF_ACTION.search(raw) or _pdf_has_actions(raw):
        raise IntakeError(_MSG_SCRIPT)
    if pages < 1:
        raise IntakeError("PDF tidak berisi halaman.")
    if pages > MAX_PDF_PAGES:
        raise IntakeError(
            f"PDF terlalu banyak halaman: {pages} (paling banyak {MAX_PDF_PAGES}).",
            details={"pages": pages},
        )
    _open_with_pdfium(raw)
    return pages


def _open_with_pdfium(raw: bytes) -> None:
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(raw)
        except pdfium.PdfiumError as exc:
            if "password" in str(exc).lower():
                raise IntakeError(_MSG_ENCRYPTED) from exc
            raise IntakeError(_MSG_NOT_ALLOWED) from exc
        try:
            if len(document) < 1:
                raise IntakeError("PDF tidak berisi halaman.")
        finally:
            document.close()


def _pdf_has_actions(raw: bytes) -> bool:
    """Whether any object of the file holds a script, a launch, a form submission, an embedded
    file, rich media or XFA: every object qpdf finds, reachable or not, with no cut-off, names
    decoded (``/J#61vaScript`` is ``/JavaScript``)."""
    try:
        document = pikepdf.open(io.BytesIO(raw))
    except (pikepdf.PdfError, pikepdf.PasswordError, ValueError, OSError):
        return False  # pypdf and pdfium judge whether it is a PDF at all; the raw scan still ran
    with document:
        for root in document.objects:
            stack = [root]
            while stack:
                obj = stack.pop()
                if isinstance(obj, pikepdf.Dictionary):
                    keys = set(obj.keys())
                    if keys & _PDF_DANGEROUS_KEYS:
                        return True
                    if str(obj.get("/S", "")) in _PDF_DANGEROUS_ACTIONS:
                        return True
                    if str(obj.get("/Subtype", "")) in _PDF_DANGEROUS_SUBTYPES:
                        return True
                    stack.extend(v for v in obj.values() if _direct_container(v))
                elif isinstance(obj, pikepdf.Array):
                    stack.extend(v for v in obj if _direct_container(v))
                elif isinstance(obj, pikepdf.Stream):
                    if set(obj.stream_dict.keys()) & _PDF_DANGEROUS_KEYS:
                        return True
                    if str(obj.stream_dict.get("/Type", "")) == "/EmbeddedFile":
                        return True
    return False


def _direct_container(value) -> bool:
    # Indirect objects are visited on their own; scalars hold no keys.
    return isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect
