"""Factories of real test files for the processing tests: pages, cards, JPEG/PNG/PDF bytes.

Everything is drawn here with Pillow and reportlab's bundled Vera font, so the tests need no
data files and no other helper's corpus.
"""

from __future__ import annotations

import io
import random
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import reportlab
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "LETTER_LINES",
    "encrypted_pdf",
    "image_pdf",
    "jpeg",
    "make_card",
    "make_page",
    "make_patterned_card",
    "png",
    "scan",
    "sideways",
    "soft_capture",
    "text_pdf",
]

LETTER_LINES = (
    "PT. SUMBER KARYA MANDIRI",
    "Jl. Merdeka No. 12, Kabupaten Tabalong",
    "Nomor : 045/SKM/XI/2026",
    "Perihal : Surat Permohonan Pengesahan Perjanjian Penempatan",
    "Kepada Yth. Kepala Dinas Tenaga Kerja",
    "Dengan hormat, bersama ini kami mengajukan permohonan",
    "pengesahan perjanjian penempatan pekerja migran Indonesia",
    "atas nama calon pekerja migran yang tercantum dalam lampiran.",
    "Demikian permohonan ini kami sampaikan, atas perhatian",
    "Bapak kami ucapkan terima kasih.",
    "Hormat kami, Direktur Utama",
)


@lru_cache(maxsize=16)
def _font(px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    name = "VeraBd.ttf" if bold else "Vera.ttf"
    return ImageFont.truetype(str(Path(reportlab.__file__).parent / "fonts" / name), px)


def make_page(width: int = 1240, height: int = 1754, seed: int = 0) -> np.ndarray:
    """A white A4 letter at 150 dpi, BGR, text from the top margin to two thirds down."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    y = int(height * 0.08)
    for i, line in enumerate(LETTER_LINES * 2):
        draw.text((int(width * 0.1), y), line, font=_font(26, bold=i == 0), fill=(0, 0, 0))
        y += 44 + rng.randint(0, 8)
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def make_card(width: int = 1000, seed: int = 0) -> np.ndarray:
    """A KTP-like ID-1 card, light blue with black text and a photo box, BGR."""
    height = round(width / 1.586)
    image = Image.new("RGB", (width, height), (150, 185, 215))
    draw = ImageDraw.Draw(image)
    draw.text((width * 0.3, height * 0.05), "PROVINSI KALIMANTAN SELATAN", font=_font(34, True),
              fill=(0, 0, 0))
    rows = ("NIK : 6309022909003581", "Nama : HENDRA SUSANTO", "Tempat/Tgl Lahir : TABALONG",
            "Jenis Kelamin : LAKI-LAKI", "Alamat : JL. TANJUNGSARI NO. 74", "Agama : ISLAM",
            "Pekerjaan : WIRASWASTA")
    for i, row in enumerate(rows):
        draw.text((width * 0.05, height * (0.22 + 0.1 * i)), row, font=_font(28), fill=(0, 0, 0))
    draw.rectangle([width * 0.75, height * 0.25, width * 0.93, height * 0.7], fill=(40, 40, 170))
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


#: The rows of a whole KTP as printed, NIK consistent with the birth date and sex.
KTP_ROWS = ("NIK : 6309022909003581", "Nama : HENDRA SUSANTO",
            "Tempat/Tgl Lahir : TABALONG, 29-09-2000", "Jenis Kelamin : LAKI-LAKI",
            "Alamat : JL. TANJUNGSARI NO. 74", "Agama : ISLAM", "Pekerjaan : WIRASWASTA",
            "Kewarganegaraan : WNI", "Berlaku Hingga : SEUMUR HIDUP")


def make_patterned_card(width: int = 1000, seed: int = 0) -> np.ndarray:
    """A KTP-like card cropped to its own edge, on a guilloche-like wavy pattern, BGR.

    Like a real KTP its pattern and colour run to the edge, where a scan would see "ink".
    """
    rng = random.Random(seed)
    height = round(width / 1.586)
    image = Image.new("RGB", (width, height), (170, 200, 225))
    draw = ImageDraw.Draw(image)
    phase = rng.uniform(0, 6.28)
    for k in range(0, height + 40, 9):
        points = [(x, k + 6 * np.sin(x / 23.0 + phase + k / 17.0)) for x in range(0, width + 8, 8)]
        draw.line(points, fill=(125, 160, 200), width=2)
    draw.text((width * 0.22, height * 0.012), "PROVINSI KALIMANTAN SELATAN", font=_font(32, True),
              fill=(0, 0, 0))
    draw.text((width * 0.3, height * 0.08), "KABUPATEN TABALONG", font=_font(30, True),
              fill=(0, 0, 0))
    for i, row in enumerate(KTP_ROWS):
        draw.text((width * 0.04, height * (0.17 + 0.075 * i)), row, font=_font(25), fill=(0, 0, 0))
    draw.rectangle([width * 0.76, height * 0.25, width * 0.95, height * 0.7], fill=(40, 40, 170))
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)


def sideways(bgr: np.ndarray, degrees: int) -> np.ndarray:
    """``bgr`` turned ``degrees`` (90, 180, 270) clockwise, as a phone held sideways saves it."""
    from bench.defects import wrong_way_round

    return wrong_way_round(bgr, degrees)


def scan(bgr: np.ndarray, seed: int = 0) -> np.ndarray:
    """A clean capture of ``bgr`` (paper tone, noise): see :func:`bench.defects.as_scan`."""
    from bench.defects import as_scan

    return as_scan(bgr, random.Random(seed))


def soft_capture(sigma: float) -> np.ndarray:
    """A KTP out of focus by ``sigma`` px with a phone sensor's grain, which keeps its
    second-derivative energy high (real soft captures: bench/real, session 21)."""
    soft = cv2.GaussianBlur(scan(make_patterned_card(), 2), (0, 0), sigma).astype(np.float32)
    grain = np.random.default_rng(1).normal(0, 6, soft.shape).astype(np.float32)
    return np.clip(soft + grain, 0, 255).astype(np.uint8)


def jpeg(bgr: np.ndarray, quality: int = 90, orientation: int | None = None) -> bytes:
    """JPEG bytes of a BGR array, with an EXIF orientation tag when given."""
    image = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    out = io.BytesIO()
    if orientation is None:
        image.save(out, "JPEG", quality=quality)
    else:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    return out.getvalue()


def png(bgr: np.ndarray) -> bytes:
    """PNG bytes of a BGR (or grey) array."""
    ok, data = cv2.imencode(".png", bgr)
    assert ok
    return data.tobytes()


def text_pdf(pages: int = 2, lines: tuple[str, ...] = LETTER_LINES) -> bytes:
    """A born-digital A4 PDF with a text layer on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for page in range(pages):
        y = 780
        for line in lines:
            pdf.drawString(60, y, line)
            y -= 20
        pdf.drawString(60, 60, f"Halaman {page + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def image_pdf(images: list[np.ndarray]) -> bytes:
    """An image-only PDF (a scan), one page per BGR image."""
    frames = [Image.fromarray(cv2.cvtColor(i, cv2.COLOR_BGR2RGB)) for i in images]
    out = io.BytesIO()
    frames[0].save(out, "PDF", resolution=150.0, save_all=True, append_images=frames[1:])
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """A text PDF locked with a user password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(1))))
    writer.encrypt("rahasia", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
