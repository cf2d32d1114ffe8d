"""The light line markup of templates, turned into reportlab paragraphs and tables.

One marker at the start of a line gives its kind (letterhead, title, table row, list item, ...);
the markers are listed in :mod:`signing.assemble`. Inside any text, ``**bold**`` is bold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape as _xml_escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from signing.assemble.pdfa import _FONT, _FONT_BOLD, _register_fonts
from signing.assemble.template import _PIPE, _STAR, _VALUE_START

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


# --------------------------------------------------------------------------- styles


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
