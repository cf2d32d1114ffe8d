"""The signature stamp's text stays at 6 pt or more and inside its box, for every position,
delegation and a 60-character name: it wraps instead of shrinking (#15)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pdfplumber
import pytest
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from signing.assemble import SIGNATURE_BOX
from signing.delegation import Delegation, Official, SigningAuthority, authorise
from signing.sign import StampSpec, stamp_layout, stamp_style

PP = "perjanjian_penempatan"
LONG_NAME = "Prof. Dr. Ir. Hj. Raden Ajeng Sri Wahyuningsih Kusumawardani"  # 60 characters
#: The longest SK number the office has used, and a long stamp line of the PP's own.
SK_NUMBER = "800.1.11.1/045.B/DISNAKER-PTK/XII/2026"
STAMP = StampSpec("https://disnaker.example/verifikasi/p/0Rp8KwrUhsS6npCclXWcXg",
                  ("No. 562/PP/0001/Disnaker-Kab/XII/2026",), "AB12CD34", ("Asia/Makassar", "WITA"))
NOW = datetime(2026, 11, 29, 18, 41, tzinfo=UTC)


def _official(position: str, acting: str | None = None, name: str = LONG_NAME) -> Official:
    return Official(name, "197001011990031001", "Pembina Utama Muda (IV/c)", position, acting)


def _sk(delegating: Official, delegated: Official, parent: Delegation | None = None) -> Delegation:
    return Delegation(SK_NUMBER, date(2026, 9, 30), delegating, delegated, frozenset({PP}),
                      NOW - timedelta(days=30), parent=parent, confirmed_at=NOW - timedelta(days=29))


def _authorities() -> dict[str, SigningAuthority]:
    """Every way the office signs, with acting officials (the longest titles) and long names."""
    cases = {}
    for acting in (None, "Plt."):
        kadin = _official("kepala_dinas", acting)
        sekdis = _official("sekretaris_dinas", acting)
        kabid = _official("kepala_bidang_ptk", acting)
        tag = acting or "definitif"
        cases[f"kepala_dinas-{tag}"] = authorise(kadin, [], NOW, PP)
        cases[f"a.n.-sekretaris_dinas-{tag}"] = authorise(sekdis, [_sk(kadin, sekdis)], NOW, PP)
        cases[f"a.n.-kepala_bidang_ptk-{tag}"] = authorise(kabid, [_sk(kadin, kabid)], NOW, PP)
        first = _sk(kadin, sekdis)
        cases[f"u.b.-kepala_bidang_ptk-{tag}"] = authorise(kabid, [_sk(sekdis, kabid, parent=first)], NOW, PP)
    return cases


def _rendered(authority: SigningAuthority) -> tuple[list[dict], tuple[float, float, float, float]]:
    """The stamp drawn on a page at the place of the PP's signature box; its characters as
    pdfplumber reads them, and the box in pdfplumber's coordinates (top-left origin)."""
    x1, y1, x2, y2 = SIGNATURE_BOX
    width, height = x2 - x1, y2 - y1
    blank = BytesIO()
    page = canvas.Canvas(blank, pagesize=A4)
    page.showPage()
    page.save()
    writer = IncrementalPdfFileWriter(BytesIO(blank.getvalue()))
    stamp = stamp_style(authority, STAMP, (width, height)).create_stamp(
        writer, layout.BoxConstraints(width, height), {"url": STAMP.qr_url})
    stamp.apply(0, x1, y1)
    out = BytesIO()
    writer.write(out)
    with pdfplumber.open(BytesIO(out.getvalue())) as pdf:
        page = pdf.pages[0]
        return list(page.chars), (x1, page.height - y2, x2, page.height - y1)


@pytest.mark.parametrize(("case", "authority"), list(_authorities().items()))
def test_stamp_text_is_at_least_6pt_and_inside_the_box(case, authority):
    chars, (left, top, right, bottom) = _rendered(authority)
    text = "".join(c["text"] for c in chars)
    assert "WITA" in text and "AB12CD34" in text, case
    # Every character is present: wrapped, never cut off (spaces are where lines wrap).
    assert LONG_NAME.replace(" ", "") in text.replace(" ", ""), case
    for char in chars:
        # The size the reader sees: the font size through the text and drawing matrices.
        size = char["size"]
        assert size >= 6 - 1e-6, f"{case}: {char['text']!r} at {size:.2f} pt"
        assert left - 0.01 <= char["x0"] and char["x1"] <= right + 0.01, f"{case}: {char['text']!r} sticks out"
        assert top - 0.01 <= char["top"] and char["bottom"] <= bottom + 0.01, f"{case}: {char['text']!r} sticks out"


def test_the_long_name_is_60_characters():
    assert len(LONG_NAME) == 60


def test_short_stamps_keep_the_large_font():
    lines = ["Kepala Dinas", "Drs. Bambang Sutrisno, M.Si.", "Pembina Utama Muda (IV/c)", "NIP 196805121990031004",
             "No. 562/PP/001/Disnaker/2026", "Kode verifikasi: AB12CD", "Waktu: 30-11-2026 02:41 WITA"]
    x1, y1, x2, y2 = SIGNATURE_BOX
    chosen = stamp_layout(lines, x2 - x1, y2 - y1)
    assert chosen.font_size == 8
    assert chosen.lines[:2] == ("Kepala Dinas", "Drs. Bambang Sutrisno, M.Si.")


def test_a_long_name_wraps_instead_of_shrinking():
    x1, y1, x2, y2 = SIGNATURE_BOX
    chosen = stamp_layout(["Kepala Dinas", LONG_NAME, "NIP 197001011990031001"], x2 - x1, y2 - y1)
    assert chosen.font_size >= 6
    assert max(len(line) for line in chosen.lines) < len(LONG_NAME)
    assert " ".join(chosen.lines[1:-1]) == LONG_NAME
