"""Labelled capture defects applied to clean document images, and a defect corpus from them.

Each defect is what officers see in real uploads: a shaky or unfocused phone, a flash glare, a
dark room, a tilted scan, a document cut by the frame, a thumbnail-sized photo, an empty page.
Every defect names the checks that must catch it (``targets``) and the checks it may
legitimately trip as well (``side_effects``: a blurred page is also hard to read), so that the
bench can count detections and false alarms per check.

Every sample, clean or not, first goes through :func:`as_scan`: paper a little below clipped
white, sensor noise and JPEG-like softness, because a pure-white synthetic page is a friendlier
input than any scanner gives.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "DEFECTS",
    "Defect",
    "DefectSample",
    "as_scan",
    "blank_page",
    "clean_documents",
    "crop_between_lines",
    "crop_edge",
    "defect_corpus",
    "gaussian_blur",
    "glare",
    "low_resolution",
    "motion_blur",
    "overexpose",
    "photo_of",
    "skew",
    "underexpose",
]

Image = np.ndarray  # BGR uint8


def as_scan(img: Image, rng: random.Random, paper: int | None = None) -> Image:
    """A clean capture: paper tone below white, slight noise, a touch of optical softness."""
    paper = paper if paper is not None else rng.randint(228, 244)
    out = img.astype(np.float32) * (paper / 255.0)
    out = cv2.GaussianBlur(out, (0, 0), 0.6)
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 2.0, out.shape[:2])
    out += noise[:, :, None].astype(np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def gaussian_blur(img: Image, rng: random.Random) -> Image:
    """Out of focus: Gaussian blur, sigma 2.5-5 px at 200 dpi."""
    return cv2.GaussianBlur(img, (0, 0), rng.uniform(2.5, 5.0))


def motion_blur(img: Image, rng: random.Random) -> Image:
    """Camera shake: a straight motion streak of 12-30 px in a random direction."""
    length = rng.randint(12, 30)
    angle = rng.uniform(0, 180)
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    kernel /= max(kernel.sum(), 1e-6)
    return cv2.filter2D(img, -1, kernel)


def overexpose(img: Image, rng: random.Random) -> Image:
    """Too much light: the paper clips and the ink fades to light grey."""
    gain = rng.uniform(1.6, 2.4)
    lift = rng.uniform(60, 110)
    return np.clip(img.astype(np.float32) * gain + lift, 0, 255).astype(np.uint8)


def underexpose(img: Image, rng: random.Random) -> Image:
    """Too little light: everything dark, paper at a third of its level."""
    return np.clip(img.astype(np.float32) * rng.uniform(0.15, 0.33), 0, 255).astype(np.uint8)


def glare(img: Image, rng: random.Random) -> Image:
    """A flash or lamp reflection: a blown-out white spot over the document."""
    height, width = img.shape[:2]
    radius = rng.uniform(0.14, 0.25) * min(height, width)
    cx = rng.uniform(0.3, 0.7) * width
    cy = rng.uniform(0.3, 0.7) * height
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    weight = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (radius / 1.6) ** 2))
    # Strength above 1 saturates the core: a real glare is clipped white, not a grey haze.
    weight = np.clip(weight * 1.8, 0, 1)[:, :, None]
    out = img.astype(np.float32) * (1 - weight) + 255.0 * weight
    return np.clip(out, 0, 255).astype(np.uint8)


def skew(img: Image, rng: random.Random) -> Image:
    """A tilted scan: rotated 7-15° either way on a larger canvas, the bed's colour around it."""
    angle = rng.choice((-1, 1)) * rng.uniform(7, 15)
    height, width = img.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(height * sin + width * cos), int(height * cos + width * sin)
    matrix[0, 2] += new_w / 2 - width / 2
    matrix[1, 2] += new_h / 2 - height / 2
    paper = tuple(int(v) for v in np.median(img.reshape(-1, 3), axis=0))
    return cv2.warpAffine(img, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=paper)


def crop_edge(img: Image, rng: random.Random) -> Image:
    """Part of the document outside the frame: one side cut 5-20 % into the printed area.

    The cut is placed inside the content's bounding box: cutting a blank margin loses nothing
    and leaves nothing for any check (or officer) to see.
    """
    height, width = img.shape[:2]
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    ys, xs = np.nonzero(gray < np.percentile(gray, 90) - 60)
    if xs.size == 0:
        x0, x1, y0, y1 = 0, width, 0, height
    else:
        x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    share = rng.uniform(0.05, 0.20)
    side = rng.choice(("left", "right", "top", "bottom"))
    if side == "left":
        return img[:, x0 + int((x1 - x0) * share):].copy()
    if side == "right":
        return img[:, : x1 - int((x1 - x0) * share)].copy()
    if side == "top":
        return img[y0 + int((y1 - y0) * share):, :].copy()
    return img[: y1 - int((y1 - y0) * share), :].copy()


def crop_between_lines(img: Image, rng: random.Random) -> Image:
    """A scan cut across the blank space between two text lines, top or bottom, 5-30 % into
    the printed area: no ink meets the frame, which is the cut the ink test alone misses."""
    height = img.shape[0]
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    inked = (gray < np.percentile(gray, 90) - 60).any(axis=1)
    rows = np.nonzero(inked)[0]
    if rows.size == 0:
        return img[: height * 4 // 5].copy()
    y0, y1 = int(rows[0]), int(rows[-1])
    side = rng.choice(("top", "bottom"))
    share = rng.uniform(0.05, 0.30)
    aim = y0 + (y1 - y0) * share if side == "top" else y1 - (y1 - y0) * share
    # The middle of the blank run nearest the aimed row: the cut touches no print.
    blank = np.nonzero(~inked[y0:y1])[0] + y0
    if blank.size == 0:
        cut = round(aim)
    else:
        nearest = int(blank[np.argmin(np.abs(blank - aim))])
        lo = hi = nearest
        while lo - 1 >= y0 and not inked[lo - 1]:
            lo -= 1
        while hi + 1 <= y1 and not inked[hi + 1]:
            hi += 1
        cut = (lo + hi) // 2
    return img[cut:].copy() if side == "top" else img[:cut].copy()


def low_resolution(img: Image, rng: random.Random) -> Image:
    """A thumbnail-sized capture: short side 250-450 px."""
    height, width = img.shape[:2]
    ratio = rng.uniform(250, 450) / min(height, width)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA)


#: Clockwise turns as OpenCV names them.
_TURNS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def wrong_way_round(img: Image, rotation: int, mirrored: bool = False) -> Image:
    """``img`` captured the wrong way round: mirrored left to right if asked (a front camera's
    view), then turned ``rotation`` degrees clockwise (0, 90, 180, 270: a phone held sideways
    or upside down). Mirrored and turned 180° is the page flipped top to bottom."""
    flipped = cv2.flip(img, 1) if mirrored else img
    return cv2.rotate(flipped, _TURNS[rotation]) if rotation else flipped


def blank_page(img: Image, rng: random.Random) -> Image:
    """The wrong side of the sheet: paper only, with its tone and a faint lighting gradient."""
    height, width = img.shape[:2]
    paper = float(np.percentile(img, 90))
    gradient = np.linspace(-6, 6, width, dtype=np.float32)[None, :]
    out = np.full((height, width), paper, np.float32) + gradient
    noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 2.0, (height, width))
    out = np.clip(out + noise.astype(np.float32), 0, 255).astype(np.uint8)
    return cv2.cvtColor(out, cv2.COLOR_GRAY2BGR)


def photo_of(img: Image, rng: random.Random, *, cut: bool = False) -> Image:
    """A phone photo of the document on a table: perspective, dark textured background, light
    falling off across the frame. ``cut`` pushes one side of the document out of the frame."""
    height, width = img.shape[:2]
    frame_w, frame_h = (int(width * 1.35), int(height * 1.35))
    if width > height:
        frame_h = int(frame_w * 0.75)
    else:
        frame_w = int(frame_h * 0.75)
    np_rng = np.random.default_rng(rng.randrange(1 << 30))
    tone = rng.randint(40, 110)
    background = np.full((frame_h, frame_w, 3), tone, np.float32)
    background += np_rng.normal(0, 8, (frame_h, frame_w, 1)).astype(np.float32)
    background = cv2.GaussianBlur(background, (0, 0), 3)
    background[:, :, 0] *= rng.uniform(0.8, 1.0)  # wood and cloth are warmer than paper
    scale = 0.72 * min(frame_w / width, frame_h / height)
    dw, dh = width * scale, height * scale
    x0, y0 = (frame_w - dw) / 2, (frame_h - dh) / 2
    jitter = 0.05 * min(dw, dh)
    target = np.array([[x0, y0], [x0 + dw, y0], [x0 + dw, y0 + dh], [x0, y0 + dh]], np.float32)
    target += np_rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32)
    if cut:
        side = rng.randrange(4)
        shift = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]][side], np.float32)
        target += shift * (0.3 * (dw if side < 2 else dh))
    source = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    warped = cv2.warpPerspective(img.astype(np.float32), matrix, (frame_w, frame_h),
                                 flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.ones((height, width), np.float32), matrix, (frame_w, frame_h))
    out = warped * mask[:, :, None] + background * (1 - mask[:, :, None])
    falloff = np.linspace(rng.uniform(0.8, 0.9), 1.0, frame_w, dtype=np.float32)[None, :, None]
    out *= falloff
    return np.clip(out, 0, 255).astype(np.uint8)


def _photo(img: Image, rng: random.Random) -> Image:
    return photo_of(img, rng)


def _photo_cut(img: Image, rng: random.Random) -> Image:
    return photo_of(img, rng, cut=True)


@dataclass(frozen=True)
class Defect:
    """A labelled defect: how to apply it and which checks it concerns."""

    name: str
    apply: Callable[[Image, random.Random], Image]
    #: Checks that must fail on it.
    targets: tuple[str, ...]
    #: Other checks it may make fail without that being a false alarm.
    side_effects: tuple[str, ...] = ()


#: The defect catalogue; ``clean_photo`` has no target: a good photo must pass.
DEFECTS: dict[str, Defect] = {
    d.name: d
    for d in (
        Defect("gaussian_blur", gaussian_blur, ("blur",), ("legible", "blank", "type_match", "nik")),
        Defect("motion_blur", motion_blur, ("blur",), ("legible", "blank", "type_match", "nik")),
        Defect("overexpose", overexpose, ("exposure",),
               ("legible", "blur", "blank", "type_match", "nik")),
        Defect("underexpose", underexpose, ("exposure",),
               ("legible", "blur", "blank", "type_match", "nik")),
        Defect("glare", glare, ("exposure",), ("legible", "type_match", "nik")),
        Defect("skew", skew, ("skew",), ("legible", "type_match", "nik")),
        Defect("crop_edge", crop_edge, ("crop",), ("legible", "type_match", "nik", "resolution")),
        Defect("crop_between_lines", crop_between_lines, ("crop",),
               ("legible", "type_match", "nik", "resolution")),
        Defect("low_resolution", low_resolution, ("resolution",),
               ("blur", "legible", "type_match", "nik")),
        Defect("blank_page", blank_page, ("blank",),
               ("legible", "type_match", "nik", "blur", "exposure", "skew")),
        Defect("clean_photo", _photo, ()),
        Defect("photo_cut", _photo_cut, ("crop",), ("legible", "type_match", "nik", "skew")),
    )
}


@dataclass(frozen=True)
class DefectSample:
    """One image of the defect corpus with its labels."""

    name: str
    doc_type: str
    #: Defect name, or ``clean``.
    defect: str
    bgr: Image
    #: Checks expected to fail.
    targets: tuple[str, ...]
    #: Checks allowed to fail besides the targets.
    side_effects: tuple[str, ...]


def clean_documents(per_type: int = 1, seed: int = 7,
                    types: Sequence[str] | None = None) -> list[tuple[str, str, Image]]:
    """Clean synthetic documents as ``(name, doc_type, bgr)`` from :mod:`bench.corpus`.

    Rendered at analysis scale (cards 1000 px wide, pages at 150 dpi) to keep the bench quick.
    """
    from bench import corpus

    out = []
    for doc_type in types or tuple(corpus.BUILDERS):
        for i in range(per_type):
            doc, _fields = corpus.build(doc_type, seed * 1000 + i)
            scale = 1000 / doc.size[0] if doc_type in corpus.CARD_TYPES else 150 / 72
            rgb = np.asarray(corpus.render_image(doc, scale))
            out.append((f"{doc_type}_{i:02d}", doc_type, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)))
    return out


def defect_corpus(
    clean: Iterable[tuple[str, str, Image]],
    *,
    defects: Sequence[str] | None = None,
    seed: int = 11,
) -> list[DefectSample]:
    """Every clean document as a clean scan and with each defect (each sample seeded alone)."""
    samples = []
    for name, doc_type, bgr in clean:
        rng = random.Random(f"{seed}:{name}:clean")
        samples.append(DefectSample(f"{name}/clean", doc_type, "clean", as_scan(bgr, rng), (), ()))
        for defect_name in defects or tuple(DEFECTS):
            defect = DEFECTS[defect_name]
            rng = random.Random(f"{seed}:{name}:{defect_name}")
            image = defect.apply(as_scan(bgr, rng), rng)
            samples.append(DefectSample(f"{name}/{defect_name}", doc_type, defect_name, image,
                                        defect.targets, defect.side_effects))
    return samples
