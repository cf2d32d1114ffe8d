"""PDF pages: rendered images and the text layer, through pdfium (pypdfium2).

A page whose text layer holds real words is a born-digital page (or a scan with an OCR layer):
its text decides the classification and no OCR is needed. A page without text is a scan and is
analysed like a photo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pengesahan.errors import ProcessingError
from processing.intake import MAX_PDF_PAGES
from processing.pdfium_lock import PDFIUM_LOCK

__all__ = ["RENDER_DPI", "PdfPage", "render_pdf", "text_layer"]

#: Rendering resolution for analysis: A4 at 150 dpi is 1240×1754, about the analysis size.
RENDER_DPI = 150
#: Fewer non-blank characters than this and the page counts as image-only (a scan).
MIN_TEXT_CHARS = 20


@dataclass(frozen=True)
class PdfPage:
    """One rendered page with its text layer."""

    #: Zero-based page index.
    index: int
    #: BGR rendering at :data:`RENDER_DPI` (or lower when the page is huge).
    bgr: np.ndarray
    #: Text layer of the page ("" for image-only pages).
    text: str
    #: Page size in PDF points (1/72 in).
    width_pt: float
    height_pt: float
    #: Pixel size of the largest embedded image, None when the page has none.
    image_px: tuple[int, int] | None = None

    @property
    def has_text(self) -> bool:
        """True when the text layer holds enough characters to be read instead of OCR."""
        return sum(not ch.isspace() for ch in self.text) >= MIN_TEXT_CHARS


def render_pdf(
    data: bytes,
    *,
    dpi: int = RENDER_DPI,
    max_pages: int = MAX_PDF_PAGES,
    max_side: int = 2400,
    on_page: Callable[[int, int], None] | None = None,
) -> list[PdfPage]:
    """Render every page of a PDF and read its text layer.

    ``on_page(i, n)`` is called after page ``i`` (1-based) of ``n`` is done, for progress.
    Raises :class:`errors.ProcessingError` when the PDF cannot be opened or rendered.
    """
    with PDFIUM_LOCK:
        return _render_pdf(data, dpi, max_pages, max_side, on_page)


def text_layer(data: bytes) -> str:
    """The text layer of every page, joined by form feeds (no rendering).

    Raises :class:`errors.ProcessingError` when the PDF cannot be opened or read.
    """
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise ProcessingError("PDF tidak dapat dibuka.") from exc
        try:
            texts = []
            for index in range(len(document)):
                page = document[index]
                try:
                    texts.append(_page_text(page))
                finally:
                    page.close()
            return "\f".join(texts)
        except pdfium.PdfiumError as exc:
            raise ProcessingError("Teks PDF tidak dapat dibaca.") from exc
        finally:
            document.close()


def _page_text(page) -> str:
    textpage = page.get_textpage()
    try:
        return textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n")
    finally:
        textpage.close()


def _render_pdf(data: bytes, dpi: int, max_pages: int, max_side: int,
                on_page: Callable[[int, int], None] | None) -> list[PdfPage]:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ProcessingError("PDF tidak dapat dibuka.") from exc
    try:
        count = len(document)
        if count > max_pages:
            raise ProcessingError(f"PDF terlalu banyak halaman: {count}.")
        pages = []
        for index in range(count):
            page = document[index]
            try:
                pages.append(_render_page(page, index, dpi, max_side))
            finally:
                page.close()
            if on_page is not None:
                on_page(index + 1, count)
        return pages
    except pdfium.PdfiumError as exc:
        raise ProcessingError("Halaman PDF tidak dapat dibaca.") from exc
    finally:
        document.close()


def _render_page(page, index: int, dpi: int, max_side: int) -> PdfPage:
    width_pt, height_pt = page.get_size()
    # A poster-sized page at 150 dpi would be hundreds of megapixels: cap the long side.
    scale = min(dpi / 72.0, max_side / max(width_pt, height_pt, 1.0))
    bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255))
    pixels = bitmap.to_numpy()
    # pdfium's native order is BGR(A/X), which is OpenCV's; rev_byteorder would make it RGB.
    if pixels.ndim == 2:
        bgr = cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR)
    else:
        bgr = np.ascontiguousarray(pixels[:, :, :3])
        if bitmap.rev_byteorder:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_RGB2BGR)
    return PdfPage(
        index=index,
        bgr=bgr,
        text=_page_text(page),
        width_pt=float(width_pt),
        height_pt=float(height_pt),
        image_px=_largest_image(page),
    )


def _largest_image(page) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    try:
        for obj in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2):
            if isinstance(obj, pdfium.PdfImage):
                width, height = obj.get_px_size()
                if best is None or width * height > best[0] * best[1]:
                    best = (int(width), int(height))
    except pdfium.PdfiumError:
        return best
    return best
