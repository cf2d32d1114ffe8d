"""Where the document is in the frame: outline, tilt, cut edges, and the straightened crop.

Two kinds of capture reach us. A *photo* shows the document on a darker background (a table,
a hand): the outline is the bright region's quadrilateral, and the document is cut when that
region reaches the frame. A *scan* is the paper itself, edge to edge: there is no outline, the
tilt is read from the text lines, and the document is cut when ink runs into the frame, or when
a text line sits hard against the top or bottom edge while the opposite margin is a page's (a
cut that fell between two lines).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "Outline",
    "draw_outline",
    "estimate_text_skew",
    "find_outline",
    "is_sideways",
    "normalise",
    "scan_outline",
]

#: Working size of the outline search; outlines are coarse, this keeps it to a few ms.
_WORK_SIDE = 512
#: Smallest share of the frame a document may cover to count as found (smaller: a stray blob).
_MIN_AREA = 0.12
#: Above this share the bright region is the whole frame: a scan, not a photo.
_MAX_AREA = 0.93
#: Colour distance (CIELAB units, 8-bit scale) from the background that counts as document.
_BACKGROUND_DISTANCE = 30.0
#: How much lighter (L, 8-bit scale) the document must be than the background.
_MIN_BRIGHTER = 25.0
#: Longest plausible long/short ratio of a document outline.
_MAX_ASPECT = 2.2
#: Above this share of the border touched, the region is a band of a scan, not a document.
_MAX_CUT_SHARE = 0.35
#: Depth of the frame strip, as a share of the side, where cut ink is looked for.
_EDGE_STRIP = 0.006
#: Top or bottom margin of a scan, as a share of the document's width, below which it counts as
#: cut when the opposite margin is much wider: 7 mm on A4. Letters keep 15-30 mm at top and
#: bottom; a cut between two text lines, or across a paragraph's gap, leaves 1-10 mm.
#: (Width, because a top or bottom cut leaves it whole; the short side is the width of a
#: portrait page but the height of a letter cut to landscape.)
_THIN_MARGIN = 0.035
#: Median colour (CIELAB chroma, 8-bit scale) above which the scan is a printed card (KTP and
#: BPJS cards are coloured edge to edge, 19-52; letters are black on white, 0-5).
_CARD_CHROMA = 12.0
#: Paper grey levels (90th percentile) of a capture whose colours can be trusted: below, too
#: dark; at the top, clipped white (both wash a card's colour out).
_PAPER_LEVELS = (110.0, 250.0)
#: How many times wider the opposite margin must be: a narrow border on both sides (a
#: certificate's frame) is the design, a narrow one on one side only is a cut.
_MARGIN_CONTRAST = 2.0
#: Longest long/short ratio of a scan's frame that can hold a whole document: ID-1 is 1.586,
#: F4 1.535, legal 1.647. A longer frame is a document with a part cut away.
_MAX_SCAN_ASPECT = 1.75
#: Share of a side a dark band covers to be a scanner lid, shadow or printed band
#: rather than cut text (such sides are not judged).
_BAND_COVER = 0.8


@dataclass(frozen=True)
class Outline:
    """The document's outline in an image, and what it says about the capture."""

    #: Corners as a (4, 2) float32 array, top-left, top-right, bottom-right, bottom-left, in the
    #: pixel coordinates of the image given to :func:`find_outline`.
    corners: np.ndarray
    #: True when a document outline was found on a background; False when the document fills
    #: the frame (a scan) and the corners are the frame's.
    found: bool
    #: Tilt of the document in degrees (positive: counter-clockwise), from the outline's edges
    #: or, for a scan, from its text lines.
    angle: float
    #: Share of the frame's border where the document is cut off (0 = every edge inside).
    cut_share: float
    #: Width and height of the image searched.
    frame_size: tuple[int, int]

    @property
    def width(self) -> float:
        """Width of the document (mean of top and bottom edges), in image pixels."""
        c = self.corners
        return float((np.linalg.norm(c[1] - c[0]) + np.linalg.norm(c[2] - c[3])) / 2)

    @property
    def height(self) -> float:
        """Height of the document (mean of left and right edges), in image pixels."""
        c = self.corners
        return float((np.linalg.norm(c[3] - c[0]) + np.linalg.norm(c[2] - c[1])) / 2)

    @property
    def aspect_ratio(self) -> float:
        """Long side over short side of the document (>= 1)."""
        w, h = max(self.width, 1.0), max(self.height, 1.0)
        return max(w, h) / min(w, h)

    @property
    def area_share(self) -> float:
        """Share of the frame the outline covers."""
        area = cv2.contourArea(self.corners.astype(np.float32))
        return float(area / (self.frame_size[0] * self.frame_size[1]))

    @property
    def document_size(self) -> tuple[int, int]:
        """Width and height of the straightened document :func:`normalise` makes of it."""
        return max(8, round(self.width)), max(8, round(self.height))

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        """``points`` ((n, 2), pixels of the straightened document) where they lie in the frame.

        The document is the frame itself when no outline was found: points stay where they are.
        """
        points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
        if not self.found:
            return points
        matrix = cv2.getPerspectiveTransform(_document_corners(self.document_size),
                                             self.corners.astype(np.float32))
        return cv2.perspectiveTransform(points.reshape(-1, 1, 2), matrix).reshape(-1, 2)


def _document_corners(size: tuple[int, int]) -> np.ndarray:
    width, height = size
    return np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                    dtype=np.float32)


def find_outline(image: np.ndarray) -> Outline:
    """Find the document in a BGR (or grey) image: corners, tilt and how much of it is cut off.

    The background is what the frame's border mostly shows; the document is the largest region
    clearly different from it *and brighter* (paper and cards are lighter than tables and
    hands), surrounded by it on most of the border. Anything else is a scan.
    """
    height, width = image.shape[:2]
    hull, ratio, doc_mask = _document_region(image)
    if hull is None:
        return scan_outline(image)
    corners = _order_corners(_quad_from_hull(hull) / ratio).astype(np.float32)
    return Outline(
        corners=corners,
        found=True,
        angle=_edge_angle(corners),
        cut_share=_border_share(doc_mask),
        frame_size=(width, height),
    )


def scan_outline(image: np.ndarray) -> Outline:
    """The frame of a BGR (or grey) image taken as the document itself, as a scan is.

    Tilted as its text lines are; cut where print meets the frame's edges.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape[:2]
    return Outline(
        corners=_document_corners((width, height)),
        found=False,
        angle=estimate_text_skew(gray),
        cut_share=_scan_cut_share(gray, _margin_unit(image, gray)),
        frame_size=(width, height),
    )


def _document_region(image: np.ndarray):
    """(hull, work ratio, filled mask) of the document on a background, or (None, ratio, None)."""
    height, width = image.shape[:2]
    ratio = min(1.0, _WORK_SIDE / max(height, width))
    small = cv2.resize(image, (max(1, round(width * ratio)), max(1, round(height * ratio))),
                       interpolation=cv2.INTER_AREA) if ratio < 1 else image
    if small.ndim == 2:
        small = cv2.cvtColor(small, cv2.COLOR_GRAY2BGR)
    lab = cv2.cvtColor(cv2.GaussianBlur(small, (5, 5), 0), cv2.COLOR_BGR2LAB).astype(np.float32)
    sh, sw = lab.shape[:2]
    depth = max(2, round(0.03 * min(sh, sw)))
    border = np.concatenate([lab[:depth].reshape(-1, 3), lab[-depth:].reshape(-1, 3),
                             lab[:, :depth].reshape(-1, 3), lab[:, -depth:].reshape(-1, 3)])
    background = np.median(border, axis=0)
    distance = np.linalg.norm(lab - background, axis=2)
    mask = (distance > _BACKGROUND_DISTANCE).astype(np.uint8) * 255
    # Text and photos inside the document differ from it: close them into one region.
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None, ratio, None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    share = cv2.contourArea(hull) / float(sw * sh)
    if not _MIN_AREA <= share <= _MAX_AREA:
        return None, ratio, None
    (_, _), (rw, rh), _ = cv2.minAreaRect(hull)
    # Cards (1.59), A4 (1.41) and F4 (1.54) are compact; a long strip is a band of a design.
    if max(rw, rh) / max(1.0, min(rw, rh)) > _MAX_ASPECT:
        return None, ratio, None
    doc_mask = np.zeros((sh, sw), np.uint8)
    cv2.drawContours(doc_mask, [hull], -1, 255, thickness=cv2.FILLED)
    inside = lab[:, :, 0][doc_mask > 0]
    # On a scan the "region" is the ink, darker than the paper around it; a band of a card
    # reaches across the frame. A document on a table is brighter and mostly surrounded.
    if float(np.median(inside)) - float(background[0]) < _MIN_BRIGHTER:
        return None, ratio, None
    if _border_share(doc_mask) > _MAX_CUT_SHARE:
        return None, ratio, None
    return hull, ratio, doc_mask


def _quad_from_hull(hull: np.ndarray) -> np.ndarray:
    perimeter = cv2.arcLength(hull, True)
    for eps in (0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
    # A cut or rounded outline is no clean quadrilateral: its rotated box is the best guess.
    return cv2.boxPoints(cv2.minAreaRect(hull)).astype(np.float32)


def _order_corners(points: np.ndarray) -> np.ndarray:
    """Order four points top-left, top-right, bottom-right, bottom-left."""
    center = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - center[1], points[:, 0] - center[0])
    ordered = points[np.argsort(angles)]  # clockwise in image coordinates, from the left
    # Start at the corner nearest the top-left (smallest x + y).
    start = int(np.argmin(ordered.sum(axis=1)))
    return np.roll(ordered, -start, axis=0)


def _edge_angle(corners: np.ndarray) -> float:
    angles = []
    for a, b in ((corners[0], corners[1]), (corners[3], corners[2])):
        dx, dy = b - a
        angles.append(np.degrees(np.arctan2(-dy, dx)))
    angle = float(np.mean(angles))
    # The quadrilateral's corner order makes any tilt beyond 45° a different corner order.
    return (angle + 45.0) % 90.0 - 45.0


def _border_share(doc_mask: np.ndarray) -> float:
    border = np.concatenate([doc_mask[:2].ravel(), doc_mask[-2:].ravel(),
                             doc_mask[:, :2].ravel(), doc_mask[:, -2:].ravel()])
    return float(np.count_nonzero(border) / border.size)


def _ink_mask(gray: np.ndarray) -> np.ndarray:
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # Otsu on a blank page splits noise; demand ink to be clearly darker than the paper.
    paper = float(np.percentile(gray, 90))
    ink[gray > paper - 40] = 0
    return ink


def _margin_unit(image: np.ndarray, gray: np.ndarray) -> float:
    """Length the top and bottom margins of a scan are measured against, in pixels.

    The frame's width for black print on well-exposed white paper (a letter). Otherwise the
    short side, the stricter unit: a coloured card keeps its text 2-3 mm from its edge, and on
    a dark or clipped-white capture a card's colour is gone and cannot tell it from paper.
    """
    height, width = gray.shape[:2]
    short = float(min(height, width))
    if image.ndim == 2:
        return short
    step = max(1, round(max(height, width) / 200))
    paper = float(np.percentile(gray[::step, ::step], 90))
    if not _PAPER_LEVELS[0] <= paper < _PAPER_LEVELS[1]:
        return short
    lab = cv2.cvtColor(np.ascontiguousarray(image[::step, ::step]), cv2.COLOR_BGR2LAB)
    chroma = np.hypot(lab[:, :, 1].astype(np.float32) - 128, lab[:, :, 2].astype(np.float32) - 128)
    return short if float(np.median(chroma)) > _CARD_CHROMA else float(width)


def _scan_cut_share(gray: np.ndarray, unit: float) -> float:
    """Share of the frame border where a scan's document is cut: ink run into the edge, or a
    text line left hard against the top or bottom edge (a cut between two lines).

    ``unit`` is the length margins are judged against (:func:`_margin_unit`).
    """
    height, width = gray.shape[:2]
    ink = _ink_mask(gray)
    depth = max(2, round(_EDGE_STRIP * max(height, width)))
    strips = [ink[:depth, :], ink[-depth:, :], ink[:, :depth].T, ink[:, -depth:].T]
    covered = []
    for strip in strips:
        side = np.count_nonzero(strip, axis=0) > 0
        # A dark band along a whole side is the scanner lid or a shadow, not cut text.
        covered.append(np.zeros_like(side) if side.mean() > _BAND_COVER else side)
    # A lid, shadow or printed band lies on the frame's very edge; a ruled line a few pixels
    # in (a letterhead cut just above its rule) is a text line against the edge.
    banded = [(np.count_nonzero(strip[:2], axis=0) > 0).mean() > _BAND_COVER
              for strip in strips[:2]]
    if not any(banded):
        for index, line in _thin_margin_lines(ink, depth, unit):
            covered[index] = covered[index] | line
    total = sum(side.size for side in covered)
    return sum(int(side.sum()) for side in covered) / total if total else 0.0


def _thin_margin_lines(ink: np.ndarray, depth: int,
                       unit: float) -> list[tuple[int, np.ndarray]]:
    """(side index, columns of the text line) for a top or bottom side cut between lines.

    Only top and bottom are judged: text lines run across the page, so a cut parallel to them
    can fall between two lines and touch no ink, while a cut down the page crosses nearly
    every line and the ink test sees it. Left-aligned text also ends raggedly on the right,
    which makes a side margin a poor witness.
    """
    height, width = ink.shape[:2]
    rows = np.count_nonzero(ink, axis=1)
    # A row of text holds more than a speck of dust.
    text = np.nonzero(rows >= max(3, 0.003 * width))[0]
    if text.size == 0:
        return []
    top, bottom = int(text[0]), int(height - 1 - text[-1])
    thin = _THIN_MARGIN * unit
    # A frame too wide for any document lost a strip along its top or bottom: the thinner.
    elongated = width > height and width / max(height, 1) > _MAX_SCAN_ASPECT
    found = []
    for index, margin, opposite in ((0, top, bottom), (1, bottom, top)):
        if (margin < thin and opposite >= _MARGIN_CONTRAST * max(margin, 1)) or (
                elongated and margin <= opposite):
            start = margin if index == 0 else height - margin - 2 * depth
            band = ink[max(0, start): start + 2 * depth, :]
            # The line along the cut is what is lost: its extent is the cut part of the border.
            found.append((index, np.count_nonzero(band, axis=0) > 0))
    return found


def estimate_text_skew(gray: np.ndarray, max_angle: float = 20.0) -> float:
    """Tilt of the text lines in degrees (positive: counter-clockwise), by projection profiles.

    Rotating the ink mask until its row sums are the most peaked finds the line direction; a
    coarse 1° sweep then a 0.1° refinement keeps it to a few dozen small warps.
    """
    height, width = gray.shape[:2]
    ratio = min(1.0, 700 / max(height, width))
    small = cv2.resize(gray, (max(1, round(width * ratio)), max(1, round(height * ratio))),
                       interpolation=cv2.INTER_AREA) if ratio < 1 else gray
    ink = _ink_mask(small).astype(np.float32) / 255.0
    if ink.sum() < 50:
        return 0.0
    sh, sw = ink.shape
    center = (sw / 2, sh / 2)

    def score(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(center, -angle, 1.0)
        rotated = cv2.warpAffine(ink, matrix, (sw, sh), flags=cv2.INTER_NEAREST)
        rows = rotated.sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    coarse = np.arange(-max_angle, max_angle + 0.5, 1.0)
    best = float(coarse[int(np.argmax([score(a) for a in coarse]))])
    fine = np.arange(best - 1.0, best + 1.01, 0.1)
    return round(float(fine[int(np.argmax([score(a) for a in fine]))]), 1)


#: How many times more peaked the column profile of the ink must be than the row profile for
#: the text lines to run down the frame (a capture turned 90° or 270°).
_SIDEWAYS_RATIO = 1.5


def _glyphs(ink: np.ndarray) -> np.ndarray:
    """0/1 mask of the glyph-sized ink components (photos, frames and bands dropped)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    limit = 0.08 * max(ink.shape)
    keep = (stats[:, cv2.CC_STAT_HEIGHT] <= limit) & (stats[:, cv2.CC_STAT_WIDTH] <= limit)
    keep[0] = False
    return keep[labels]


def is_sideways(gray: np.ndarray) -> bool:
    """True when the text lines run vertically: the capture is turned by 90° or 270°.

    Text lines make the ink's row sums alternate sharply (lines and gaps) while its column
    sums stay smooth; a sideways capture shows the opposite.
    """
    height, width = gray.shape[:2]
    ratio = min(1.0, 700 / max(height, width))
    small = cv2.resize(gray, (max(1, round(width * ratio)), max(1, round(height * ratio))),
                       interpolation=cv2.INTER_AREA) if ratio < 1 else gray
    ink = _glyphs(_ink_mask(small)).astype(np.float32)
    if ink.sum() < 50:
        return False
    rows = float(np.square(np.diff(ink.sum(axis=1))).sum()) / max(1, ink.shape[1])
    cols = float(np.square(np.diff(ink.sum(axis=0))).sum()) / max(1, ink.shape[0])
    return cols > _SIDEWAYS_RATIO * rows


def normalise(bgr: np.ndarray, outline: Outline) -> np.ndarray:
    """The document alone, straightened: perspective-corrected crop, or deskewed scan."""
    if outline.found:
        matrix = cv2.getPerspectiveTransform(outline.corners.astype(np.float32),
                                             _document_corners(outline.document_size))
        return cv2.warpPerspective(bgr, matrix, outline.document_size, flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_REPLICATE)
    if abs(outline.angle) < 0.3:
        return bgr
    height, width = bgr.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -outline.angle, 1.0)
    return cv2.warpAffine(bgr, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def draw_outline(bgr: np.ndarray, outline: Outline, scale: float = 1.0) -> np.ndarray:
    """A copy of ``bgr`` with the outline drawn (green, red when the document is cut off).

    ``scale`` maps the outline's coordinates to ``bgr``'s (e.g. thumbnail size / analysis size).
    """
    canvas = bgr.copy() if bgr.ndim == 3 else cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    if not outline.found:
        return canvas
    points = np.round(outline.corners * scale).astype(np.int32).reshape(-1, 1, 2)
    colour = (0, 0, 255) if outline.cut_share > 0 else (0, 200, 0)
    thickness = max(2, round(max(canvas.shape[:2]) / 200))
    cv2.polylines(canvas, [points], isClosed=True, color=colour, thickness=thickness)
    return canvas
