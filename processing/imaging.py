"""Decoding and small image utilities: EXIF orientation, analysis size, thumbnails, pHash.

Analysis never needs the full 12 MP of a phone photo: a JPEG is decoded with DCT scaling
(libjpeg's reduced decode, as ``cv2.IMREAD_REDUCED_*`` does) straight to about the analysis
size, which is both the fast path and what keeps a worker's memory small.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageOps

from pengesahan.errors import ProcessingError
from processing.intake import MAX_PIXELS

__all__ = [
    "ANALYSIS_LONG_SIDE",
    "DecodedImage",
    "decode_image",
    "fit_long_side",
    "hamming",
    "phash",
    "png_bytes",
    "thumbnail_png",
]

#: Long side of the image the checks look at, in pixels. A4 at this size is about 140 dpi,
#: enough for 10 pt text to stay readable to OCR; a KTP photo keeps its detail.
ANALYSIS_LONG_SIDE = 1600

_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class DecodedImage:
    """An image upright (EXIF applied) at analysis size, with the size of the original."""

    #: BGR uint8 array, long side at most the requested analysis size.
    bgr: np.ndarray
    #: Width and height of the original, upright (after EXIF rotation).
    original_size: tuple[int, int]

    @property
    def scale(self) -> float:
        """Analysis pixels per original pixel (<= 1)."""
        return self.bgr.shape[1] / self.original_size[0]

    @property
    def gray(self) -> np.ndarray:
        """Grey-level version of :attr:`bgr`."""
        return cv2.cvtColor(self.bgr, cv2.COLOR_BGR2GRAY)


def decode_image(
    data: bytes, *, long_side: int = ANALYSIS_LONG_SIDE, max_pixels: int = MAX_PIXELS
) -> DecodedImage:
    """Decode a JPEG/PNG upright (EXIF orientation first) and downscaled for analysis.

    Raises :class:`errors.ProcessingError` when the image cannot be decoded or is larger than
    ``max_pixels`` (checked from the header, before decoding).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ProcessingError(
                        f"Gambar terlalu besar: {width}×{height} piksel.",
                        details={"width": width, "height": height},
                    )
                if image.format == "JPEG":
                    # draft() picks the largest DCT scale (1/2, 1/4, 1/8) still >= the request.
                    ratio = max(width, height) / long_side
                    if ratio > 1:
                        image.draft("RGB", (int(width / ratio), int(height / ratio)))
                # Orientations 5-8 swap width and height (90° or 270° turns).
                exif_rotated = image.getexif().get(_EXIF_ORIENTATION, 1) in (5, 6, 7, 8)
                upright = ImageOps.exif_transpose(image)
                rgb = _to_rgb(upright)
    except ProcessingError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise ProcessingError("Gambar tidak dapat dibaca.") from exc
    original = (height, width) if exif_rotated else (width, height)
    bgr = fit_long_side(cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR), long_side)
    return DecodedImage(bgr=bgr, original_size=original)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas of a scan are paper: composite on white, not on black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = max(float(array.max()), 1.0)
        return Image.fromarray((array * (255.0 / peak)).astype(np.uint8)).convert("RGB")
    return image.convert("RGB")


def fit_long_side(image: np.ndarray, long_side: int) -> np.ndarray:
    """Shrink ``image`` so its long side is at most ``long_side`` (never enlarges)."""
    height, width = image.shape[:2]
    ratio = long_side / max(height, width)
    if ratio >= 1:
        return image
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a BGR or grey array as PNG bytes."""
    # Level 1: the stored crop is re-read rarely; the default level 3 costs twice the time
    # for about 10 % fewer bytes.
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ProcessingError("Gambar tidak dapat disimpan sebagai PNG.")
    return encoded.tobytes()


def thumbnail_png(image: np.ndarray, max_side: int = 320) -> bytes:
    """A small PNG of ``image`` (BGR or grey) for review screens."""
    return png_bytes(fit_long_side(image, max_side))


def phash(gray: np.ndarray) -> str:
    """Perceptual hash (DCT pHash, 64 bits) of a grey image, as 16 hex digits.

    Resize to 32×32, take the DCT, keep the 8×8 lowest frequencies without the DC term's
    influence (median threshold): robust to scaling, recompression and mild light changes.
    """
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()
