"""The SK pendelegasian record the delegating official signs to confirm an SK: one A4 page
naming the SK, both officials, the scope and the period, with the stamp box left free."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas

from signing.assemble.layout import SIGNATURE_BOX
from signing.assemble.pdfa import _finish, _register_fonts
from signing.delegation import SCOPES, Delegation, format_date

__all__ = ["render_sk_record"]


def _lines(sk: Delegation) -> list[tuple[str, str]]:
    until = format_date(sk.valid_until.date()) if sk.valid_until else "sampai dicabut"
    rows = [
        ("Nomor SK", sk.number),
        ("Tanggal SK", format_date(sk.date)),
        ("Pemberi delegasi", f"{sk.delegating.name}, {sk.delegating.title}"),
        ("NIP", sk.delegating.nip),
        ("Penerima delegasi", f"{sk.delegated.name}, {sk.delegated.title}"),
        ("NIP", sk.delegated.nip),
        ("Lingkup", ", ".join(SCOPES.get(s, s) for s in sorted(sk.scope))),
        ("Berlaku", f"{format_date(sk.valid_from.date())} s.d. {until}"),
    ]
    if sk.parent is not None:
        rows.append(("SK induk", sk.parent.reference))
    return rows


def render_sk_record(sk: Delegation, *, office: str, issued: dt.date) -> bytes:
    """The record of ``sk`` as a one-page PDF/A-2b, its stamp box at SIGNATURE_BOX of page 0."""
    _register_fonts()
    buffer = io.BytesIO()
    c = rl_canvas.Canvas(buffer, pagesize=A4, pageCompression=0)
    width, height = A4
    y = height - 30 * mm
    c.setFont("Vera-Bold", 13)
    c.drawCentredString(width / 2, y, "KONFIRMASI SURAT KEPUTUSAN PENDELEGASIAN WEWENANG")
    y -= 6 * mm
    c.setFont("Vera", 10)
    c.drawCentredString(width / 2, y, "PENANDATANGANAN PERJANJIAN PENEMPATAN")
    y -= 5 * mm
    c.drawCentredString(width / 2, y, office)
    y -= 14 * mm
    for label, value in _lines(sk):
        c.setFont("Vera", 10)
        c.drawString(25 * mm, y, label)
        c.drawString(62 * mm, y, ":")
        c.drawString(66 * mm, y, value[:90])
        y -= 6.5 * mm
    y -= 6 * mm
    text = c.beginText(25 * mm, y)
    text.setFont("Vera", 10)
    for line in (
        "Dengan tanda tangan elektronik pada dokumen ini, pemberi delegasi menyatakan bahwa SK di",
        "atas benar ditetapkannya. Sebelum dikonfirmasi dengan cara ini, SK tidak memberi wewenang",
        "menandatangani apa pun dalam layanan pengesahan.",
    ):
        text.textLine(line)
    c.drawText(text)
    x, box_y, box_w, box_h = SIGNATURE_BOX
    c.setFont("Vera", 9)
    c.drawString(x, box_y + box_h + 4 * mm, f"Dikonfirmasi, {format_date(issued)}")
    c.showPage()
    c.save()
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(buffer.getvalue())))
    meta = {
        "title": f"Konfirmasi SK {sk.number}",
        "author": office,
        "subject": f"Konfirmasi SK pendelegasian {sk.number}",
        "keywords": f"SK {sk.number}",
        "agreement": sk.number,
        "dossier": "-",
    }
    return _finish(writer, meta, issued, claim_pdfa=True)
