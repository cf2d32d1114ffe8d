"""Page layout of the one-page letters: margins, fitting the text, the signature box.

The place and date, the signer's lines and the box for the visible signature are not in the
template: they sit at a fixed place at the bottom right of page 1 (:data:`SIGNATURE_BOX`), so
the signing code can rely on the box whatever the officers write. A template whose content does
not fit above them is refused.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Frame, Paragraph

from pengesahan.errors import TemplateError
from signing.assemble.markup import _Block, _flowables, _inline, _parse_markup, _styles
from signing.assemble.pdfa import _FONT, _FONT_BOLD, _register_fonts
from signing.assemble.template import AgreementData, _render_template
from signing.delegation import format_date

__all__ = ["SIGNATURE_BOX", "SIGNATURE_FIELD", "SIGNATURE_PAGE"]

#: Name of the signature field the signing code creates over :data:`SIGNATURE_BOX`.
SIGNATURE_FIELD = "Pengesahan"
#: Index of the page holding the signature box (the ratification page comes first).
SIGNATURE_PAGE = 0

_PAGE_W, _PAGE_H = A4
_MARGIN_LEFT = 25 * mm
_MARGIN_RIGHT = 20 * mm
_MARGIN_TOP = 15 * mm
_MARGIN_BOTTOM = 15 * mm
_LINE = 12.5  # leading of the signature block, in points

# The signature column: right part of the page, as on any Indonesian official letter.
_SIG_X1 = _PAGE_W - _MARGIN_RIGHT - 230
_SIG_X2 = _PAGE_W - _MARGIN_RIGHT
# Room under the box for the name, rank and NIP (4 lines) and for two footer-note lines.
_SIG_Y1 = _MARGIN_BOTTOM + 26 + 4 * _LINE + 6
_SIG_Y2 = _SIG_Y1 + 76

#: Page 0, (x1, y1, x2, y2) in PDF points (origin bottom left): the empty box kept for the
#: visible signature stamp (QR code) on page :data:`SIGNATURE_PAGE`.
SIGNATURE_BOX: tuple[float, float, float, float] = (
    round(_SIG_X1, 2),
    round(_SIG_Y1, 2),
    round(_SIG_X2, 2),
    round(_SIG_Y2, 2),
)


#: Body text scales tried in turn when a letter's content does not fit above the signature
#: block (long names and addresses): 10 pt body text down to 8.8 pt, still well readable.
_FIT_SCALES = (1.0, 0.94, 0.88)


# --------------------------------------------------------------------------- one-page letters


def _signature_block(c: rl_canvas.Canvas, data: AgreementData, *, qr_reserved: bool) -> float:
    """Draw place/date, the signer's lines and the box; return the block's top (y)."""
    x1, y1, x2, y2 = SIGNATURE_BOX
    centre = (x1 + x2) / 2
    c.setFillColor(colors.black)
    if not qr_reserved:
        # Officers' preview only: show where the stamp will go and that nothing is signed yet.
        c.saveState()
        c.setStrokeColor(colors.HexColor("#888888"))
        c.setDash(3, 3)
        c.rect(x1, y1, x2 - x1, y2 - y1)
        c.setFillColor(colors.HexColor("#888888"))
        c.setFont(_FONT, 8.5)
        c.drawCentredString(centre, (y1 + y2) / 2 - 3, "KONSEP – belum ditandatangani")
        c.restoreState()
    y = y1 - _LINE + 2
    for i, line in enumerate(data.signer_name_lines):
        if i == 0:
            c.setFont(_FONT_BOLD, 10)
            c.drawCentredString(centre, y, line)
            w = pdfmetrics.stringWidth(line, _FONT_BOLD, 10)
            c.setLineWidth(0.6)
            c.line(centre - w / 2, y - 1.6, centre + w / 2, y - 1.6)
        else:
            c.setFont(_FONT, 10)
            c.drawCentredString(centre, y, line)
        y -= _LINE
    y = y2 + 5
    for line in reversed(data.signer_title_lines):
        c.setFont(_FONT, 10)
        c.drawCentredString(centre, y, line)
        y += _LINE
    place = f"{data.issue_place}, " if data.issue_place else ""
    c.setFont(_FONT, 10)
    c.drawCentredString(centre, y + 4, place + format_date(data.issue_date))
    return y + 4 + _LINE


def _render_letter(template: str, data: AgreementData, *, qr_reserved: bool) -> bytes:
    """Render one A4 page: the template's content above the fixed signature block."""
    if len(data.signer_name_lines) > 4:
        raise TemplateError(
            "Blok penanda tangan di bawah kotak tanda tangan paling banyak 4 baris."
        )
    _register_fonts()
    blocks, footer = _parse_markup(_render_template(template, data))
    for scale in _FIT_SCALES:
        page = _draw_letter(blocks, footer, data, qr_reserved=qr_reserved, scale=scale)
        if page is not None:
            return page
    raise TemplateError(
        "Isi templat terlalu panjang untuk satu halaman: kurangi teks agar tidak menimpa "
        "blok tanda tangan."
    )


def _draw_letter(
    blocks: Sequence[_Block],
    footer: Sequence[str],
    data: AgreementData,
    *,
    qr_reserved: bool,
    scale: float,
) -> bytes | None:
    """Draw the page at one text scale; None when the content does not fit."""
    buf = io.BytesIO()
    # initialFontName: reportlab would otherwise put a non-embedded Helvetica on every page.
    c = rl_canvas.Canvas(buf, pagesize=A4, invariant=1, pageCompression=1, initialFontName=_FONT)
    width = _PAGE_W - _MARGIN_LEFT - _MARGIN_RIGHT
    sig_top = _signature_block(c, data, qr_reserved=qr_reserved)
    top = _PAGE_H - _MARGIN_TOP
    frame = Frame(
        _MARGIN_LEFT,
        sig_top + 6,
        width,
        top - sig_top - 6,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        showBoundary=0,
    )
    story = _flowables(blocks, width, scale)
    frame.addFromList(story, c)
    if story:
        return None
    if footer:
        note = Paragraph(_inline(" ".join(footer)), _styles()["footer"])
        _, h = note.wrap(width, _SIG_Y1)
        if h > _SIG_Y1 - 4 * _LINE - _MARGIN_BOTTOM + 4:
            raise TemplateError("Catatan kaki templat (baris '~') terlalu panjang.")
        note.drawOn(c, _MARGIN_LEFT, _MARGIN_BOTTOM)
    c.showPage()
    c.save()
    return buf.getvalue()
