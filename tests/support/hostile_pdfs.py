"""Hostile PDFs for the attack tests: drafts hiding scripts, links and attachments, and an
independent (pypdf) scan for active content."""

from __future__ import annotations

import io

import pikepdf
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from tests.support.signing import make_agreement_pdf


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF written by hand (names exactly as given, correct cross-reference table)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def draft_with_hidden_script() -> bytes:
    """A draft whose page-open JavaScript hides behind escaped names (/J#61vaScript, /J#53),
    placed after an array of 270 000 elements (past the old object walk's limit)."""
    content = b"BT /F1 12 Tf 72 780 Td (PERJANJIAN PENEMPATAN) Tj ET"
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Filler 5 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /AA << /O 6 0 R >> "
        b"/Resources << /Font << /F1 7 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"[" + b"0 " * 270_000 + b"]",
        b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def draft_with_link_and_actions() -> bytes:
    """What intake lets through (a link), plus active parts only a broken intake would miss."""
    with pikepdf.open(io.BytesIO(make_agreement_pdf(pages=2))) as pdf:
        link = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                                  Rect=[72, 700, 300, 720], Border=[0, 0, 0],
                                  A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://contoh.invalid")))
        pdf.pages[1].obj["/Annots"] = pdf.make_indirect(pikepdf.Array([pdf.make_indirect(link)]))
        pdf.pages[1].obj["/AA"] = pikepdf.Dictionary(O=pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(2)")))
        pdf.Root["/OpenAction"] = pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(3)"))
        pdf.attachments["lampiran.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", filename="lampiran.exe")
        out = io.BytesIO()
        pdf.save(out)
    return out.getvalue()


def active_parts(data: bytes) -> list[str]:
    """Active entries found by pypdf (a parser independent of the one that sanitised)."""
    reader = PdfReader(io.BytesIO(data))
    found, stack, seen = [], [reader.trailer], set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):
            for key in ("/JS", "/JavaScript", "/OpenAction", "/AA", "/URI", "/EmbeddedFiles", "/EmbeddedFile"):
                if key in obj:
                    found.append(key)
            if obj.get("/Subtype") in ("/Link", "/FileAttachment"):
                found.append(str(obj["/Subtype"]))
            stack.extend(dict.values(obj))
        elif isinstance(obj, ArrayObject):
            stack.extend(list.__iter__(obj))
    return found
