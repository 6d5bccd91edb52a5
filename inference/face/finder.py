"""Where the person's face, mouth and eyes are, so only the mouth is repainted and the bubble
points at it. OpenCV's Haar cascades ship inside the pip wheel: nothing is downloaded."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)
Point = tuple[int, int]

# The detector runs on a copy whose long side is at most this: faces smaller than a tenth of
# it are too small to animate anyway, and detection stays around 50 ms on a laptop CPU.
DETECT_SIDE = 640
MIN_FACE_FRACTION = 0.08  # of the image's short side
# Where a frontal Haar face box puts the features, as fractions of the box (measured on
# scikit-image's astronaut portrait): the mouth sits low in the box, the chin just below it.
MOUTH_CENTRE = (0.5, 0.81)
MOUTH_RADII = (0.28, 0.19)  # room for the jaw to drop when the mouth opens
EYES_CENTRE = (0.5, 0.39)
EYES_RADII = (0.36, 0.11)


@dataclass(frozen=True)
class Face:
    """The main face: its box, and the mouth and eye regions to repaint (all in pixels)."""

    box: Box
    mouth: Box
    eyes: Box

    @property
    def mouth_centre(self) -> Point:
        left, top, right, bottom = self.mouth
        return (left + right) // 2, (top + bottom) // 2


def find_face(image: Image.Image) -> Face | None:
    """The largest frontal face in `image`, or None (a landscape, a cat, a face in profile)."""
    grey = image.convert("L")
    scale = min(1.0, DETECT_SIDE / max(grey.size))
    if scale < 1.0:
        small = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(small, Image.Resampling.BILINEAR)
    pixels = cv2.equalizeHist(np.asarray(grey, dtype=np.uint8))
    min_side = max(24, round(min(grey.size) * MIN_FACE_FRACTION))
    found = _cascade().detectMultiScale(
        pixels, scaleFactor=1.1, minNeighbors=5, minSize=(min_side, min_side)
    )
    if len(found) == 0:
        return None
    x, y, w, h = (int(v) / scale for v in max(found, key=lambda f: int(f[2]) * int(f[3])))
    return face_in((round(x), round(y), round(x + w), round(y + h)), image.size)


def face_in(box: Box, size: tuple[int, int]) -> Face:
    """A face with its mouth and eyes where a frontal face box puts them."""
    return Face(
        box=box,
        mouth=_region(box, MOUTH_CENTRE, MOUTH_RADII, size),
        eyes=_region(box, EYES_CENTRE, EYES_RADII, size),
    )


def soft_mask(size: tuple[int, int], region: Box) -> Image.Image:
    """An ellipse filling `region`, feathered inwards: 0 outside `region`, 255 at its heart.

    Feathering inside the region (not across its edge) keeps every pixel outside it exactly
    the photo's, while the repainted part still fades in without a seam.
    """
    left, top, right, bottom = region
    mask = Image.new("L", size, 0)
    inset = max(1, round(min(right - left, bottom - top) * 0.12))
    ImageDraw.Draw(mask).ellipse(
        (left + inset, top + inset, right - 1 - inset, bottom - 1 - inset), fill=255
    )
    blurred = mask.filter(ImageFilter.GaussianBlur(radius=inset / 2))
    outside = Image.new("L", size, 0)
    outside.paste(255, region)  # clip what the blur spread outside the region
    return Image.composite(blurred, outside, outside)


def square_around(face: Face, size: tuple[int, int], zoom: float = 2.2) -> Box:
    """A square crop centred on the face, `zoom` times its size, kept inside the image."""
    width, height = size
    left, top, right, bottom = face.box
    side = min(width, height, round(max(right - left, bottom - top) * zoom))
    centre_x, centre_y = (left + right) // 2, (top + bottom) // 2
    x = min(max(0, centre_x - side // 2), width - side)
    y = min(max(0, centre_y - side // 2), height - side)
    return x, y, x + side, y + side


def _region(
    box: Box, centre: tuple[float, float], radii: tuple[float, float], size: tuple[int, int]
) -> Box:
    left, top, right, bottom = box
    w, h = right - left, bottom - top
    cx, cy = left + centre[0] * w, top + centre[1] * h
    rx, ry = radii[0] * w, radii[1] * h
    return (
        max(0, round(cx - rx)),
        max(0, round(cy - ry)),
        min(size[0], round(cx + rx)),
        min(size[1], round(cy + ry)),
    )


_local = threading.local()  # a CascadeClassifier must not be shared between threads


def _cascade() -> cv2.CascadeClassifier:
    cascade: cv2.CascadeClassifier | None = getattr(_local, "cascade", None)
    if cascade is None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        cascade = cv2.CascadeClassifier(path)
        if cascade.empty():
            raise RuntimeError(f"OpenCV could not read its face model at {path}")
        _local.cascade = cascade
    return cascade
