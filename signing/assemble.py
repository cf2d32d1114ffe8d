"""Assembly of the office's documents: the ratification page, the ratified agreement, the
passport recommendation.

Pure code: bytes in, bytes out, no Flask, no database. Output is deterministic (same data, same
bytes) so a re-run of a job yields the file already stored and signatures can be reproduced.

Template format
---------------
A template is text the officers edit in the admin. It is rendered in two steps:

1. **Jinja2**, in a sandbox (``SandboxedEnvironment``): ``{{ cpmi.nama }}`` inserts a field
   (the list is :data:`signing.templates.TEMPLATE_FIELDS`), ``{% if %}`` and filters such as
   ``|upper`` work. A field that does not exist is an error naming it, and a template cannot
   reach Python internals. Inserted values are always plain text: a value can never add markup.
2. **A small line markup**, one marker at the start of a line:

   ==================  =======================================================================
   ``! text``          letterhead line (kop surat), bold
   ``!! text``         letterhead line, large bold (the office's name)
   ``!. text``         letterhead line, small (address); a double rule closes the letterhead
   ``# text``          title, centred, bold
   ``## text``         subtitle, centred (e.g. ``Nomor: ...``)
   ``| a | b |``       row of a ruled table; consecutive rows form one table; a row with a
                       single cell is a section heading spanning the table
   ``: a | b``         row of an unruled "label : value" list (letter style)
   ``- text``          list item with hanging indent; a leading ``1.`` or ``a.`` is its label
   ``> text``          a line kept on its own, left aligned (addressee, "di Tempat")
   ``~ text``          footer note, small, at the bottom of the page
   other lines         paragraph text; consecutive lines join into one justified paragraph
   blank line          ends a paragraph, table or list
   ==================  =======================================================================

   Inside any text, ``**bold**`` is bold. Everything else is literal.

The place and date, the signer's lines and the box for the visible signature are not in the
template: they sit at a fixed place at the bottom right of page 1 (:data:`SIGNATURE_BOX`), so
the signing code can rely on the box whatever the officers write. A template whose content does
not fit above them is refused.

PDF/A
-----
Fonts are the Bitstream Vera TrueType fonts bundled with reportlab, embedded as subsets. Every
output carries XMP metadata mirroring the document information dictionary, an sRGB output
intent and a file identifier derived from the content. The XMP claims PDF/A-2b only when
:func:`pdfa_blockers` finds nothing in the P3MI's pages that would contradict it; the P3MI's
pages are never altered to get there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape as _xml_escape

import jinja2
import reportlab
from jinja2.sandbox import SandboxedEnvironment
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PyPdfError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Frame, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from errors import IntakeError, TemplateError
from signing.delegation import format_date

__all__ = [
    "SIGNATURE_BOX",
    "SIGNATURE_FIELD",
    "SIGNATURE_PAGE",
    "AgreementData",
    "assemble_agreement",
    "pdfa_blockers",
    "render_passport_recommendation",
    "render_ratification_page",
    "template_context",
]

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


_PRODUCER = "pengesahan-pp (reportlab, pypdf)"


@dataclass(frozen=True)
class AgreementData:
    """Everything the office's documents about one placement agreement show."""

    #: Number of the placement agreement (Perjanjian Penempatan).
    agreement_number: str
    #: Identifier of the CPMI's dossier in this service.
    dossier_id: str
    #: CPMI's full name, as on the KTP.
    cpmi_name: str
    #: CPMI's NIK (16 digits).
    cpmi_nik: str
    #: ``"L"`` (laki-laki) or ``"P"`` (perempuan); any other text is shown as is.
    cpmi_sex: str
    #: Place of birth.
    cpmi_birth_place: str
    #: Date of birth.
    cpmi_birth_date: dt.date
    #: Address as on the KTP.
    cpmi_address: str
    #: The CPMI ID issued to the verified dossier (see :mod:`signing.cpmi_id`).
    cpmi_id: str
    #: Name of the placement company (P3MI).
    p3mi_name: str
    #: The P3MI's recruitment permit (SIP2MI) number.
    p3mi_licence: str
    #: The P3MI's address.
    p3mi_address: str
    #: Name of the employer abroad.
    employer_name: str
    #: Country of placement.
    employer_country: str
    #: Job title abroad.
    job_title: str
    #: Contract period in months.
    contract_months: int
    #: Name of the officer who verified the dossier and the agreement.
    verifier_name: str
    #: That officer's NIP.
    verifier_nip: str
    #: Date of verification.
    verified_on: dt.date
    #: Date of ratification / issue; also the documents' creation date.
    issue_date: dt.date
    #: Regency of the office, e.g. ``"Tabalong"`` (letterhead, statements).
    regency: str
    #: Lines of the signature block above the box, e.g. ``("a.n. KEPALA DINAS TENAGA KERJA",
    #: "Sekretaris,")``; filled by the caller from the signer and the SK pendelegasian.
    signer_title_lines: tuple[str, ...]
    #: Lines below the box: name (shown bold, underlined), rank, ``"NIP ..."``.
    signer_name_lines: tuple[str, ...]
    #: Office address line of the letterhead.
    office_address: str = ""
    #: Place written before the date above the signature, e.g. ``"Tanjung"``.
    issue_place: str = ""
    #: Number of the passport recommendation letter.
    recommendation_number: str = ""
    #: Addressee of the passport recommendation.
    immigration_office: str = "Kepala Kantor Imigrasi"
    #: Extra fields for officers' templates (``{{ lain.key }}``); values shown as text.
    extra: tuple[tuple[str, str], ...] = field(default=())


# --------------------------------------------------------------------------- dates and context


class _Group(dict):
    """A group of template fields; knows its name so an error can say ``cpmi.namaa``."""

    def __init__(self, label: str, values: dict[str, str]):
        super().__init__(values)
        self.label = label


def template_context(data: AgreementData) -> dict[str, _Group]:
    """The fields a template sees, as listed in :data:`signing.templates.TEMPLATE_FIELDS`."""
    sex = {"L": "Laki-laki", "P": "Perempuan"}.get(data.cpmi_sex.upper(), data.cpmi_sex)
    birth = format_date(data.cpmi_birth_date)
    groups = {
        "kantor": {
            "kabupaten": data.regency,
            "alamat": data.office_address,
            "tempat": data.issue_place,
        },
        "pp": {
            "nomor": data.agreement_number,
            "tanggal": format_date(data.issue_date),
            "jabatan": data.job_title,
            "masa_kontrak": f"{data.contract_months} bulan",
        },
        "berkas": {"id": data.dossier_id},
        "cpmi": {
            "nama": data.cpmi_name,
            "nik": data.cpmi_nik,
            "jenis_kelamin": sex,
            "tempat_lahir": data.cpmi_birth_place,
            "tanggal_lahir": birth,
            "ttl": f"{data.cpmi_birth_place}, {birth}",
            "alamat": data.cpmi_address,
            "id": data.cpmi_id,
        },
        "p3mi": {
            "nama": data.p3mi_name,
            "nomor_izin": data.p3mi_licence,
            "alamat": data.p3mi_address,
        },
        "pemberi_kerja": {"nama": data.employer_name, "negara": data.employer_country},
        "verifikasi": {
            "nama": data.verifier_name,
            "nip": data.verifier_nip,
            "tanggal": format_date(data.verified_on),
        },
        "rekomendasi": {
            "nomor": data.recommendation_number,
            "kantor_imigrasi": data.immigration_office,
        },
        "lain": dict(data.extra),
    }
    return {name: _Group(name, values) for name, values in groups.items()}


# --------------------------------------------------------------------------- template rendering

# Private-use characters: an inserted value is marked so the line markup never reads a value's
# characters as markup (a name starting with "#", an address holding "|" or "**").
_VALUE_START = "\ue000"
_PIPE = "\ue001"
_STAR = "\ue002"


class _Undefined(jinja2.StrictUndefined):
    """StrictUndefined with a message that names the field as an officer wrote it."""

    @property
    def _undefined_message(self) -> str:  # type: ignore[override]
        # Read as "Templat memakai isian 'cpmi.namaa' yang tidak dikenal".
        if isinstance(self._undefined_obj, _Group):
            name = f"{self._undefined_obj.label}.{self._undefined_name}"
        elif self._undefined_obj is jinja2.utils.missing:
            name = str(self._undefined_name)
        else:
            name = f"… .{self._undefined_name}"
        return f"isian '{name}' yang tidak dikenal"


def _finalize(value: object) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())  # a value is one line of text
    return _VALUE_START + text.replace("|", _PIPE).replace("*", _STAR)


@cache
def _environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(
        undefined=_Undefined,
        finalize=_finalize,
        autoescape=False,
        keep_trailing_newline=False,
    )


def _template_line(tb: object) -> int | None:
    """Line of the template where a runtime error happened (Jinja rewrites the traceback)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":  # type: ignore[attr-defined]
            line = tb.tb_lineno  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return line


def _render_template(template: str, data: AgreementData) -> str:
    """Render the Jinja2 step; every failure becomes a TemplateError an officer can act on."""
    try:
        compiled = _environment().from_string(template)
        return compiled.render(template_context(data))
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(
            f"Templat tidak valid pada baris {exc.lineno}: {exc.message}",
            details={"line": exc.lineno},
        ) from exc
    except jinja2.exceptions.SecurityError as exc:
        line = _template_line(sys.exc_info()[2])
        raise TemplateError(
            "Templat mencoba mengakses bagian internal sistem yang tidak diizinkan"
            + (f" (baris {line})" if line else "")
            + ". Gunakan hanya isian yang tersedia.",
            details={"line": line},
        ) from exc
    except jinja2.UndefinedError as exc:
        line = _template_line(sys.exc_info()[2])
        raise TemplateError(
            f"Templat memakai {exc.message}"
            + (f" pada baris {line}" if line else "")
            + ". Periksa ejaan isian; daftar isian tersedia ada di bantuan templat.",
            details={"line": line},
        ) from exc
    except jinja2.TemplateError as exc:
        raise TemplateError(f"Templat tidak dapat diproses: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        # An expression in the template failed (e.g. a filter on the wrong kind of value).
        line = _template_line(sys.exc_info()[2])
        raise TemplateError(
            "Templat tidak dapat diproses" + (f" pada baris {line}" if line else "") + f": {exc}",
            details={"line": line},
        ) from exc


# --------------------------------------------------------------------------- line markup


@dataclass(frozen=True)
class _Block:
    kind: str  # letterhead, title, subtitle, table, list, items, para, footer
    lines: tuple = ()
    level: str = ""


def _parse_markup(text: str) -> tuple[list[_Block], list[str]]:
    """Split the rendered template into blocks, and footer notes apart."""
    blocks: list[_Block] = []
    footer: list[str] = []
    para: list[str] = []
    rows: list[tuple[str, ...]] = []
    rows_kind = ""

    def flush() -> None:
        nonlocal rows_kind
        if para:
            blocks.append(_Block("para", (" ".join(para),)))
            para.clear()
        if rows:
            blocks.append(_Block(rows_kind, tuple(rows)))
            rows.clear()
            rows_kind = ""

    def add_row(kind: str, cells: tuple[str, ...]) -> None:
        nonlocal rows_kind
        if para or (rows and rows_kind != kind):
            flush()
        rows_kind = kind
        rows.append(cells)

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith(("!! ", "!. ", "! ")) or line in ("!", "!!", "!."):
            flush()
            marker, _, rest = line.partition(" ")
            blocks.append(_Block("letterhead", (rest.strip(),), level=marker))
        elif line.startswith("## "):
            flush()
            blocks.append(_Block("subtitle", (line[3:].strip(),)))
        elif line.startswith("# "):
            flush()
            blocks.append(_Block("title", (line[2:].strip(),)))
        elif line.startswith("|"):
            cells = line.strip("|").split("|")
            add_row("table", tuple(c.strip() for c in cells))
        elif line.startswith(": "):
            label, _, value = line[2:].partition("|")
            add_row("items", (label.strip(), value.strip()))
        elif line.startswith("- "):
            add_row("list", (line[2:].strip(),))
        elif line.startswith("> ") or line == ">":
            add_row("lines", (line[1:].strip(),))
        elif line.startswith("~ ") or line == "~":
            footer.append(line[1:].strip())
        else:
            if rows:
                flush()
            para.append(line)
    flush()
    return blocks, footer


_BOLD = re.compile(r"\*\*(.+?)\*\*")


def _inline(text: str) -> str:
    """Markup text -> reportlab paragraph markup: escape, then ``**bold**``, then the values."""
    text = _xml_escape(text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    return text.replace(_VALUE_START, "").replace(_PIPE, "|").replace(_STAR, "*")


def _plain(text: str) -> str:
    return _BOLD.sub(r"\1", text).replace(_VALUE_START, "").replace(_PIPE, "|").replace(_STAR, "*")


# --------------------------------------------------------------------------- fonts and styles

_FONT = "Vera"
_FONT_BOLD = "Vera-Bold"


@cache
def _register_fonts() -> None:
    """Embed reportlab's bundled Vera TrueType fonts: PDF/A forbids non-embedded base-14."""
    font_dir = Path(reportlab.__file__).parent / "fonts"
    faces = {
        "Vera": "Vera.ttf",
        "Vera-Bold": "VeraBd.ttf",
        "Vera-Italic": "VeraIt.ttf",
        "Vera-BoldItalic": "VeraBI.ttf",
    }
    for name, filename in faces.items():
        pdfmetrics.registerFont(TTFont(name, str(font_dir / filename)))
    pdfmetrics.registerFontFamily(
        "Vera", normal="Vera", bold="Vera-Bold", italic="Vera-Italic", boldItalic="Vera-BoldItalic"
    )


#: Body text scales tried in turn when a letter's content does not fit above the signature
#: block (long names and addresses): 10 pt body text down to 8.8 pt, still well readable.
_FIT_SCALES = (1.0, 0.94, 0.88)


@cache
def _styles(scale: float = 1.0) -> dict[str, ParagraphStyle]:
    _register_fonts()
    base = ParagraphStyle("body", fontName=_FONT, fontSize=10 * scale, leading=13.5 * scale)
    return {
        "!": ParagraphStyle(
            "kop", base, fontName=_FONT_BOLD, fontSize=13, leading=16, alignment=TA_CENTER
        ),
        "!!": ParagraphStyle(
            "kop_big", base, fontName=_FONT_BOLD, fontSize=16, leading=19, alignment=TA_CENTER
        ),
        "!.": ParagraphStyle("kop_small", base, fontSize=8.5, leading=11, alignment=TA_CENTER),
        "title": ParagraphStyle(
            "title",
            base,
            fontName=_FONT_BOLD,
            fontSize=12 * scale,
            leading=15 * scale,
            alignment=TA_CENTER,
        ),
        "subtitle": ParagraphStyle("subtitle", base, alignment=TA_CENTER, spaceAfter=2),
        "para": ParagraphStyle("para", base, alignment=TA_JUSTIFY, spaceBefore=3, spaceAfter=3),
        "cell": ParagraphStyle(
            "cell", base, fontSize=9.5 * scale, leading=11.5 * scale, alignment=TA_LEFT
        ),
        "cell_head": ParagraphStyle(
            "cell_head", base, fontName=_FONT_BOLD, fontSize=9.5 * scale, leading=11.5 * scale
        ),
        "item": ParagraphStyle("item", base, alignment=TA_JUSTIFY),
        "value": ParagraphStyle("value", base, alignment=TA_LEFT),
        "line": ParagraphStyle("line", base, alignment=TA_LEFT),
        "footer": ParagraphStyle(
            "footer",
            base,
            fontName="Vera-Italic",
            fontSize=7.5,
            leading=9.5,
            textColor=colors.HexColor("#333333"),
        ),
    }


class _DoubleRule(Flowable):
    """The thick-over-thin rule under an Indonesian letterhead."""

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, 8

    def draw(self) -> None:
        c = self.canv
        c.setLineWidth(2.2)
        c.line(0, 5, self.width, 5)
        c.setLineWidth(0.6)
        c.line(0, 1.6, self.width, 1.6)


def _flowables(blocks: Sequence[_Block], width: float, scale: float) -> list[Flowable]:
    styles = _styles(scale)
    story: list[Flowable] = []
    previous = ""
    for block in blocks:
        if previous == "letterhead" and block.kind != "letterhead":
            story += [Spacer(1, 3), _DoubleRule(), Spacer(1, 10)]
        if block.kind == "letterhead":
            story.append(Paragraph(_inline(block.lines[0]), styles[block.level]))
        elif block.kind == "title":
            story.append(Paragraph(_inline(block.lines[0]), styles["title"]))
        elif block.kind == "subtitle":
            story.append(Paragraph(_inline(block.lines[0]), styles["subtitle"]))
            story.append(Spacer(1, 6))
        elif block.kind == "para":
            story.append(Paragraph(_inline(block.lines[0]), styles["para"]))
        elif block.kind == "table":
            story += [Spacer(1, 4), _ruled_table(block.lines, width, styles), Spacer(1, 4)]
        elif block.kind == "items":
            story += [Spacer(1, 3), _items_table(block.lines, width, styles), Spacer(1, 3)]
        elif block.kind == "list":
            story.extend(_list_items(block.lines, styles))
        elif block.kind == "lines":
            story.append(Spacer(1, 3))
            story += [
                Paragraph(_inline(text) or "&nbsp;", styles["line"]) for (text,) in block.lines
            ]
            story.append(Spacer(1, 3))
        previous = block.kind
    if previous == "letterhead":
        story += [Spacer(1, 3), _DoubleRule()]
    return story


def _ruled_table(
    rows: Sequence[tuple[str, ...]], width: float, styles: dict[str, ParagraphStyle]
) -> Table:
    ncols = max(len(r) for r in rows)
    if ncols == 2:
        widths = [width * 0.34, width * 0.66]
    else:
        widths = [width / ncols] * ncols
    data = []
    commands = [
        ("FONT", (0, 0), (-1, -1), _FONT, styles["cell"].fontSize),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
    ]
    for i, cells in enumerate(rows):
        if len(cells) == 1 and ncols > 1:
            data.append([Paragraph(_inline(cells[0]), styles["cell_head"])] + [""] * (ncols - 1))
            commands += [
                ("SPAN", (0, i), (-1, i)),
                ("BACKGROUND", (0, i), (-1, i), colors.HexColor("#E6E6E6")),
            ]
        else:
            padded = list(cells) + [""] * (ncols - len(cells))
            data.append([Paragraph(_inline(c), styles["cell"]) for c in padded])
    table = Table(data, colWidths=widths)
    table.setStyle(TableStyle(commands))
    return table


def _items_table(
    rows: Sequence[tuple[str, ...]], width: float, styles: dict[str, ParagraphStyle]
) -> Table:
    size = styles["value"].fontSize
    label_w = min(
        width * 0.36, 12 + max(pdfmetrics.stringWidth(_plain(r[0]), _FONT, size) for r in rows)
    )
    data = [
        [
            Paragraph(_inline(label), styles["value"]),
            ":",
            Paragraph(_inline(value), styles["value"]),
        ]
        for label, value in rows
    ]
    table = Table(data, colWidths=[label_w, 10, width - label_w - 10])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _FONT, size),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ]
        )
    )
    return table


_LABEL = re.compile(r"^(\d{1,3}[.)]|[a-z][.)])\s+")


def _list_items(
    rows: Sequence[tuple[str, ...]], styles: dict[str, ParagraphStyle]
) -> Iterator[Flowable]:
    for (text,) in rows:
        match = _LABEL.match(text.lstrip(_VALUE_START))
        bullet = match.group(1) if match else "•"
        body = text.lstrip(_VALUE_START)[match.end() :] if match else text
        style = ParagraphStyle(
            "li", styles["item"], leftIndent=20, bulletIndent=4, bulletFontName=_FONT
        )
        yield Paragraph(_inline(body), style, bulletText=bullet)


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
        raise TemplateError("Blok penanda tangan di bawah kotak tanda tangan paling banyak 4 baris.")
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


# --------------------------------------------------------------------------- PDF/A parts


def _pdf_date(day: dt.date) -> tuple[str, str]:
    """The (Info, XMP) forms of a date: 00:00 UTC, which is that same day in WIB, WITA and WIT."""
    return f"D:{day:%Y%m%d}000000Z", f"{day:%Y-%m-%d}T00:00:00Z"


@cache
def _srgb_profile() -> bytes:
    """An sRGB ICC profile from Pillow's LittleCMS, made reproducible.

    LittleCMS stamps the creation time into the header and writes version 4.4; the time is fixed
    and the version set to 4.2 (the ICC version ISO 32000-1, hence PDF/A-2, refers to; the tags
    of this profile are the same), then the profile ID (an MD5) is computed again.
    """
    from PIL import ImageCms

    raw = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    raw[8:12] = bytes((4, 0x20, 0, 0))
    raw[24:36] = struct.pack(">6H", 2000, 1, 1, 0, 0, 0)
    raw[84:100] = bytes(16)
    digest_input = bytearray(raw)
    digest_input[44:48] = bytes(4)  # profile flags
    digest_input[64:68] = bytes(4)  # rendering intent
    raw[84:100] = hashlib.md5(bytes(digest_input), usedforsecurity=False).digest()
    return bytes(raw)


_PP_NS = "urn:pengesahan-pp:ns:1.0/"


def _xmp(meta: dict[str, str], dates: str, *, claim_pdfa: bool) -> bytes:
    e = _xml_escape
    pdfa = (
        "<pdfaid:part>2</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>"
        if claim_pdfa
        else ""
    )
    custom = ""
    if meta.get("agreement") is not None:
        custom = (
            f"<pp:AgreementNumber>{e(meta['agreement'])}</pp:AgreementNumber>"
            f"<pp:DossierId>{e(meta['dossier'])}</pp:DossierId>"
        )
    # PDF/A allows custom XMP properties only when an extension schema describes them.
    extension = f"""<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>Pengesahan Perjanjian Penempatan</pdfaSchema:schema>
<pdfaSchema:namespaceURI>{_PP_NS}</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pp</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>AgreementNumber</pdfaProperty:name>
<pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category>
<pdfaProperty:description>Nomor Perjanjian Penempatan</pdfaProperty:description></rdf:li>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>DossierId</pdfaProperty:name>
<pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category>
<pdfaProperty:description>Nomor berkas CPMI</pdfaProperty:description></rdf:li>
</rdf:Seq></pdfaSchema:property></rdf:li></rdf:Bag></pdfaExtension:schemas>"""
    xml = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about=""
 xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:xmp="http://ns.adobe.com/xap/1.0/"
 xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
 xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
 xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"
 xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"
 xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"
 xmlns:pp="{_PP_NS}">
<dc:format>application/pdf</dc:format>
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(meta["title"])}</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>{e(meta["author"])}</rdf:li></rdf:Seq></dc:creator>
<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{e(meta["subject"])}</rdf:li></rdf:Alt></dc:description>
<pdf:Keywords>{e(meta["keywords"])}</pdf:Keywords>
<pdf:Producer>{e(_PRODUCER)}</pdf:Producer>
<xmp:CreatorTool>{e(_PRODUCER)}</xmp:CreatorTool>
<xmp:CreateDate>{dates}</xmp:CreateDate>
<xmp:ModifyDate>{dates}</xmp:ModifyDate>
<xmp:MetadataDate>{dates}</xmp:MetadataDate>
{pdfa}{custom}
{extension}
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return xml.encode("utf-8")


def _finish(writer: PdfWriter, meta: dict[str, str], day: dt.date, *, claim_pdfa: bool) -> bytes:
    """Set Info, XMP, output intent and a content-derived file ID; write the bytes."""
    info_date, xmp_date = _pdf_date(day)
    info = {
        "/Title": meta["title"],
        "/Author": meta["author"],
        "/Subject": meta["subject"],
        "/Keywords": meta["keywords"],
        "/Creator": _PRODUCER,
        "/Producer": _PRODUCER,
        "/CreationDate": info_date,
        "/ModDate": info_date,
    }
    if meta.get("agreement") is not None:
        info["/AgreementNumber"] = meta["agreement"]
        info["/DossierId"] = meta["dossier"]
    writer.add_metadata(info)

    root = writer.root_object
    xmp = StreamObject()
    xmp.set_data(_xmp(meta, xmp_date, claim_pdfa=claim_pdfa))  # unfiltered: PDF/A asks so
    xmp[NameObject("/Type")] = NameObject("/Metadata")
    xmp[NameObject("/Subtype")] = NameObject("/XML")
    root[NameObject("/Metadata")] = writer._add_object(xmp)

    icc = DecodedStreamObject()
    icc.set_data(_srgb_profile())
    icc[NameObject("/N")] = NumberObject(3)
    icc = icc.flate_encode()
    intent = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/OutputIntent"),
            NameObject("/S"): NameObject("/GTS_PDFA1"),
            NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
            NameObject("/RegistryName"): TextStringObject("http://www.color.org"),
            NameObject("/DestOutputProfile"): writer._add_object(icc),
        }
    )
    root[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    root[NameObject("/Lang")] = TextStringObject("id-ID")
    # The P3MI's pages may use PDF 1.5-1.7 features; 1.7 is also the ceiling of PDF/A-2.
    writer.pdf_header = "%PDF-1.7"

    # The file ID is required by PDF/A; derive it from the content so output stays reproducible
    # (pypdf would otherwise draw random bytes).
    writer._ID = None
    probe = io.BytesIO()
    writer.write(probe)
    digest = ByteStringObject(hashlib.md5(probe.getvalue(), usedforsecurity=False).digest())
    writer._ID = ArrayObject([digest, digest])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --------------------------------------------------------------------------- checks on input


def _resolve(obj):
    return obj.get_object() if obj is not None else None


def _walk_resources(resources, seen: set[int], found: set[str]) -> None:
    """Collect PDF/A blockers from one resource dictionary and the form XObjects below it."""
    resources = _resolve(resources)
    if not isinstance(resources, DictionaryObject):
        return
    fonts = _resolve(resources.get("/Font")) or {}
    for font in fonts.values():
        font = _resolve(font)
        subtype = font.get("/Subtype")
        if subtype == "/Type3":
            continue
        if subtype == "/Type0":
            descendants = _resolve(font.get("/DescendantFonts")) or []
            font = _resolve(descendants[0]) if descendants else font
        descriptor = _resolve(font.get("/FontDescriptor"))
        if not descriptor or not any(
            k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")
        ):
            found.add(f"huruf tidak tertanam: {str(font.get('/BaseFont', '?')).lstrip('/')}")
    for cs in (_resolve(resources.get("/ColorSpace")) or {}).values():
        if "DeviceCMYK" in repr(_resolve(cs)):
            found.add("ruang warna CMYK (hanya profil sRGB yang disertakan)")
    if _resolve(resources.get("/Properties")):
        found.add("konten opsional (optional content)")
    for xobj in (_resolve(resources.get("/XObject")) or {}).values():
        ref = getattr(xobj, "idnum", None)
        if ref is not None:
            if ref in seen:
                continue
            seen.add(ref)
        xobj = _resolve(xobj)
        if xobj.get("/Subtype") == "/Image":
            if xobj.get("/ColorSpace") == "/DeviceCMYK":
                found.add("gambar CMYK (hanya profil sRGB yang disertakan)")
            if xobj.get("/Interpolate"):
                found.add("gambar dengan /Interpolate")
            if xobj.get("/Filter") == "/LZWDecode":
                found.add("kompresi LZW")
        elif xobj.get("/Subtype") == "/Form":
            _walk_resources(xobj.get("/Resources"), seen, found)
        else:
            found.add(f"XObject {xobj.get('/Subtype')}")


def _check_page(page, found: set[str]) -> None:
    _walk_resources(page.get("/Resources"), set(), found)
    if "/AA" in page:
        found.add("aksi otomatis halaman")
    for annot in _resolve(page.get("/Annots")) or []:
        annot = _resolve(annot)
        subtype = annot.get("/Subtype")
        action = _resolve(annot.get("/A")) or {}
        if action.get("/S") in ("/JavaScript", "/Launch", "/Sound", "/Movie", "/ImportData"):
            found.add(f"anotasi dengan aksi {action.get('/S')}")
        if subtype == "/Popup":
            continue
        if not int(annot.get("/F", 0)) & 4:
            found.add("anotasi yang tidak tercetak")
        if subtype != "/Link" and "/AP" not in annot:
            found.add("anotasi tanpa tampilan (appearance)")
    contents = page.get_contents()
    if contents is not None:
        data = contents.get_data()
        if re.search(rb"(^|\s)(k|K)(\s|$)", data):
            found.add("warna CMYK pada isi halaman")


def pdfa_blockers(pdf: bytes) -> tuple[str, ...]:
    """What in a PDF's pages would contradict a PDF/A-2b claim, in Bahasa Indonesia.

    A heuristic over fonts, colour spaces, images, annotations and actions; not a full
    validator (veraPDF is that). An empty result means nothing known stands in the way.
    """
    reader = _open_p3mi(pdf)
    found: set[str] = set()
    for page in reader.pages:
        _check_page(page, found)
    return tuple(sorted(found))


def _open_p3mi(pdf: bytes) -> PdfReader:
    """Open the P3MI's PDF or refuse it with an IntakeError saying why."""
    if not pdf:
        raise IntakeError("Berkas Perjanjian Penempatan dari P3MI kosong.")
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        if reader.is_encrypted:
            raise IntakeError(
                "Berkas Perjanjian Penempatan dari P3MI terkunci (terenkripsi/berpassword). "
                "Mohon P3MI mengunggah ulang berkas PDF tanpa kata sandi."
            )
        if len(reader.pages) == 0:
            raise IntakeError("Berkas Perjanjian Penempatan dari P3MI tidak memuat halaman.")
        for page in reader.pages:
            page.get_contents()  # reach every page now, so a broken file fails here
    except IntakeError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise IntakeError(
            "Berkas Perjanjian Penempatan dari P3MI tidak dapat dibaca sebagai PDF yang utuh. "
            "Mohon P3MI mengunggah ulang berkas PDF yang benar."
        ) from exc
    return reader


# --------------------------------------------------------------------------- public entry points


def _meta(data: AgreementData, title: str, subject: str) -> dict[str, str]:
    return {
        "title": title,
        "author": f"Dinas Tenaga Kerja Kabupaten {data.regency}",
        "subject": subject,
        "keywords": "; ".join(
            [
                "Perjanjian Penempatan",
                data.agreement_number,
                f"Berkas {data.dossier_id}",
                f"ID CPMI {data.cpmi_id}",
            ]
        ),
        "agreement": data.agreement_number,
        "dossier": data.dossier_id,
    }


def _single_page_pdf(page_pdf: bytes, meta: dict[str, str], day: dt.date) -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(page_pdf)))
    return _finish(writer, meta, day, claim_pdfa=True)


def render_ratification_page(
    template: str, data: AgreementData, *, qr_reserved: bool = True
) -> bytes:
    """The "Lembar Pengesahan Perjanjian Penempatan": a one-page A4 PDF.

    ``qr_reserved=True`` (for signing) leaves :data:`SIGNATURE_BOX` empty for the visible
    stamp; ``False`` draws a dashed outline marked "KONSEP" there, for officers' previews that
    are never signed. Template problems raise :class:`errors.TemplateError`.
    """
    page = _render_letter(template, data, qr_reserved=qr_reserved)
    meta = _meta(
        data,
        f"Lembar Pengesahan Perjanjian Penempatan {data.agreement_number}",
        f"Pengesahan Perjanjian Penempatan CPMI {data.cpmi_name}",
    )
    return _single_page_pdf(page, meta, data.issue_date)


def render_passport_recommendation(template: str, data: AgreementData) -> bytes:
    """The "Surat Rekomendasi Paspor": a one-page A4 letter, stamp box at :data:`SIGNATURE_BOX`."""
    page = _render_letter(template, data, qr_reserved=True)
    meta = _meta(
        data,
        f"Surat Rekomendasi Paspor {data.recommendation_number or data.agreement_number}",
        f"Rekomendasi penerbitan paspor CPMI {data.cpmi_name}",
    )
    return _single_page_pdf(page, meta, data.issue_date)


def assemble_agreement(p3mi_pdf: bytes, data: AgreementData, template: str) -> bytes:
    """The ratification page followed by the P3MI's pages, unchanged, as one PDF.

    Refuses an empty, encrypted or unreadable P3MI PDF with :class:`errors.IntakeError`. The
    P3MI's page content streams are copied byte for byte; its document-level metadata, output
    intents and JavaScript are not carried over. PDF/A-2b is claimed only when
    :func:`pdfa_blockers` finds nothing in the P3MI's pages.
    """
    reader = _open_p3mi(p3mi_pdf)
    blockers: set[str] = set()
    for page in reader.pages:
        _check_page(page, blockers)
    page = _render_letter(template, data, qr_reserved=True)
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(page)))
    try:
        writer.append(reader, import_outline=True)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IntakeError(
            "Halaman Perjanjian Penempatan dari P3MI tidak dapat disalin. Mohon P3MI mengunggah "
            "ulang berkas PDF yang benar."
        ) from exc
    meta = _meta(
        data,
        f"Perjanjian Penempatan {data.agreement_number}",
        f"Perjanjian Penempatan CPMI {data.cpmi_name} yang disahkan Dinas Tenaga Kerja "
        f"Kabupaten {data.regency}",
    )
    return _finish(writer, meta, data.issue_date, claim_pdfa=not blockers)
