"""Where the document is in the frame: outline, tilt, cut edges, and the straightened crop.

Two kinds of capture reach us. A *photo* shows the document on a darker background (a table,
a hand): the outline is the bright region's quadrilateral, and the document is cut when that
region reaches the frame. A *scan* is the paper itself, edge to edge: there is no outline, the
tilt is read from the text lines, and the document is cut when ink runs into the frame.
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
    "normalise",
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


def find_outline(image: np.ndarray) -> Outline:
    """Find the document in a BGR (or grey) image: corners, tilt and how much of it is cut off.

    The background is what the frame's border mostly shows; the document is the largest region
    clearly different from it *and brighter* (paper and cards are lighter than tables and
    hands), surrounded by it on most of the border. Anything else is a scan.
    """
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    height, width = gray.shape[:2]
    frame = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                     dtype=np.float32)
    hull, ratio, doc_mask = _document_region(image)
    if hull is None:
        return Outline(
            corners=frame,
            found=False,
            angle=estimate_text_skew(gray),
            cut_share=_ink_cut_share(gray),
            frame_size=(width, height),
        )
    corners = _order_corners(_quad_from_hull(hull) / ratio).astype(np.float32)
    return Outline(
        corners=corners,
        found=True,
        angle=_edge_angle(corners),
        cut_share=_border_share(doc_mask),
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


def _ink_cut_share(gray: np.ndarray) -> float:
    """Share of the frame border where ink runs into the edge (text cut off by the frame)."""
    height, width = gray.shape[:2]
    ink = _ink_mask(gray)
    depth = max(2, round(_EDGE_STRIP * max(height, width)))
    strips = (ink[:depth, :], ink[-depth:, :], ink[:, :depth].T, ink[:, -depth:].T)
    touched = 0
    total = 0
    for strip in strips:
        covered = np.count_nonzero(strip, axis=0) > 0
        # A dark band along a whole side is the scanner lid or a shadow, not cut text.
        if covered.mean() > 0.8:
            covered = np.zeros_like(covered)
        touched += int(covered.sum())
        total += covered.size
    return touched / total if total else 0.0


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


def normalise(bgr: np.ndarray, outline: Outline) -> np.ndarray:
    """The document alone, straightened: perspective-corrected crop, or deskewed scan."""
    if outline.found:
        width = max(8, round(outline.width))
        height = max(8, round(outline.height))
        target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]],
                          dtype=np.float32)
        matrix = cv2.getPerspectiveTransform(outline.corners.astype(np.float32), target)
        return cv2.warpPerspective(bgr, matrix, (width, height), flags=cv2.INTER_LINEAR,
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
