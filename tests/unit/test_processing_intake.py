"""Intake: files judged by content; every kind of bad file refused with its own message."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from pengesahan.errors import FileTooLarge, IntakeError
from processing.imaging import decode_image, hamming, phash
from processing.intake import inspect_upload, read_limited
from tests.support.images import encrypted_pdf, jpeg, make_card, make_page, png, text_pdf

NOT_ALLOWED = "Berkas bukan JPG, PNG atau PDF yang sah."


@pytest.fixture(scope="module")
def card_jpeg() -> bytes:
    return jpeg(make_card(600))


def _refused(data: bytes, **kwargs) -> str:
    with pytest.raises(IntakeError) as info:
        inspect_upload(data, **kwargs)
    return info.value.message


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_accepts_jpeg_png_pdf_by_content(card_jpeg):
    result = inspect_upload(card_jpeg, declared_name="ktp.pdf")
    assert (result.media_type, result.extension) == ("image/jpeg", ".jpg")
    assert result.size == len(card_jpeg) and len(result.sha256) == 64
    assert result.width == 600 and not result.name_matches
    assert inspect_upload(png(make_card(300))).media_type == "image/png"
    pdf = inspect_upload(io.BytesIO(text_pdf(2)), declared_name="surat.PDF")
    assert (pdf.media_type, pdf.pages, pdf.name_matches) == ("application/pdf", 2, True)


def test_refuses_empty_and_unknown_content():
    assert "kosong" in _refused(b"")
    assert _refused(b"GIF89a" + b"\x00" * 100, declared_name="foto.jpg") == NOT_ALLOWED
    assert _refused(b"MZ\x90\x00 this is an exe", declared_name="ktp.png") == NOT_ALLOWED


def test_refuses_headers_that_do_not_decode(card_jpeg):
    assert _refused(card_jpeg[: len(card_jpeg) // 2]) == NOT_ALLOWED  # truncated JPEG
    assert _refused(b"\xff\xd8\xff\xe0" + b"\x00" * 500) == NOT_ALLOWED
    assert _refused(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50) == NOT_ALLOWED
    assert _refused(b"%PDF-1.7\n" + b"not really a pdf\n" * 20) == NOT_ALLOWED


def test_too_large_is_a_413_and_reads_at_most_one_byte_more():
    with pytest.raises(FileTooLarge) as info:
        inspect_upload(b"\xff\xd8\xff" + b"\x00" * 2000, max_bytes=1000)
    assert info.value.status == 413 and "terlalu besar" in info.value.message

    class Counting(io.BytesIO):
        read_total = 0

        def read(self, n=-1):
            chunk = super().read(n)
            Counting.read_total += len(chunk)
            return chunk

    with pytest.raises(FileTooLarge):
        read_limited(Counting(b"x" * 10_000), 1000)
    assert Counting.read_total == 1001
    assert read_limited(io.BytesIO(b"abc"), 3) == b"abc"


def test_refuses_polyglots(card_jpeg):
    message = _refused(card_jpeg + text_pdf(1))
    assert "tersembunyi" in message
    zip_tail = b"PK\x03\x04" + b"\x00" * 30 + b"PK\x05\x06" + b"\x00" * 18
    assert "tersembunyi" in _refused(png(make_card(200)) + zip_tail)
    assert "tersembunyi" in _refused(card_jpeg[:-2] + b"<script>alert(1)</script>" + card_jpeg[-2:])


@pytest.mark.parametrize("marker", [b"%PDF-", b"%pdf-", b"<script", b"<SCRIPT", b"<Html", b"<?php", b"<?PHP",
                                    b"<svg", b"<SvG", b"<!doctype", b"<!DOCTYPE"])
def test_every_foreign_marker_is_found_in_any_case(card_jpeg, marker):
    """The markers are sought in one pass over the lowered bytes: each must still be found."""
    hidden = card_jpeg[:-2] + b"x" + marker + b" y" + card_jpeg[-2:]
    assert "tersembunyi" in _refused(hidden)
    assert "tersembunyi" in _refused(png(make_card(200)).replace(b"IEND", marker + b"IEND", 1))


def test_near_misses_of_the_markers_are_not_polyglots(card_jpeg):
    for near in (b"<scrip", b"<htm", b"<?ph", b"<sv", b"<!doctyp", b"%pdf", b"< svg", b"script", b"pdf-"):
        inspect_upload(card_jpeg[:-2] + near + card_jpeg[-2:])


def test_refuses_pixel_bombs_from_the_header():
    # 20000×20000 declared, a few bytes of data: must be refused before any decode.
    ihdr = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 0, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + _png_chunk(b"IEND", b""))
    message = _refused(bomb)
    assert "terlalu besar" in message and "20000" in message


def test_refuses_encrypted_pdf():
    assert "terenkripsi" in _refused(encrypted_pdf())


def _pdf_with(modify) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(1))))
    modify(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_refuses_pdf_javascript_and_launch_actions():
    def named_js(writer):
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert(1)")})
        tree = DictionaryObject({NameObject("/Names"): ArrayObject(
            [TextStringObject("x"), writer._add_object(action)])})
        writer._root_object[NameObject("/Names")] = DictionaryObject(
            {NameObject("/JavaScript"): writer._add_object(tree)})

    assert "JavaScript" in _refused(_pdf_with(named_js))

    def open_action_js(writer):
        action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                                   NameObject("/JS"): TextStringObject("app.alert(1)")})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)

    assert "JavaScript" in _refused(_pdf_with(open_action_js))

    def launch(writer):
        action = DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                                   NameObject("/F"): TextStringObject("cmd.exe")})
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)

    assert "aksi otomatis" in _refused(_pdf_with(launch))


def test_refuses_absurd_page_counts():
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    for _ in range(51):
        pdf.drawString(50, 50, "x")
        pdf.showPage()
    pdf.save()
    assert "51" in _refused(out.getvalue())


def test_exif_orientation_is_applied_before_analysis():
    page = np.full((848, 600, 3), 255, np.uint8)
    page[40:200, 60:540] = 0  # portrait, a dark block at the top
    landscape = np.ascontiguousarray(np.rot90(page, k=1))  # stored turned 90° counter-clockwise
    decoded = decode_image(jpeg(landscape, orientation=6), long_side=1000)  # 6: rotate 90° CW
    assert decoded.original_size == (600, 848)
    assert decoded.bgr.shape[:2] == (848, 600)
    gray = decoded.gray
    assert gray[: 848 // 3].mean() < gray[-848 // 3 :].mean()  # the text is back on top


def test_phash_survives_recompression_and_tells_pages_from_cards():
    page = make_page(620, 877)
    a = phash(decode_image(jpeg(page, 90)).gray)
    b = phash(decode_image(jpeg(page, 40)).gray)
    c = phash(make_card(600))
    assert hamming(a, b) <= 4 < hamming(a, c)
