"""The lip-synced video and picture, CPU work around `LipSync.generate`: the face crop it
repaints, and its mouths blended back with a feathered lower-face mask. Outside that mask every
pixel is the photo's, except the eyes of a blink."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from inference.face.bubble import draw_centred_label
from inference.face.finder import Box, Face, soft_mask, square_around
from inference.face.lipsync import CROP_SIDE, LipSync, LipSyncJob
from inference.face.video import FPS, TalkingVideo, blinks, encode_mp4, output_size
from inference.types import Speech

# How far below the chin the crop reaches, as a fraction of the eyes-to-chin height (MuseTalk
# crops 10 px below it), so the jaw can drop inside the repainted half.
CHIN_MARGIN = 0.05
# The lower-face mask: an ellipse over the crop's lower half, this much narrower on each side
# (the cheeks' edges stay the photo's).
MASK_SIDE_INSET = 0.08


def sync_box(face: Face, size: tuple[int, int]) -> Box:
    """The face crop MuseTalk repaints, from the landmarks: its lower half runs from the
    nose's bridge to just below the chin, its upper half is as tall, its width the face's."""
    marks = face.landmarks
    eyes_y = (marks.left_eye[1] + marks.right_eye[1]) / 2
    mouth_y = (marks.mouth_left[1] + marks.mouth_right[1]) / 2
    middle = eyes_y + 2 / 3 * (marks.nose[1] - eyes_y)  # between the bridge and the tip
    # MTCNN's box often ends above the chin; the chin is about as far below the mouth
    # corners as they are below the eyes (a little less, but a crop that cuts it is worse).
    chin = max(face.box[3], mouth_y + (mouth_y - eyes_y))
    bottom = chin + CHIN_MARGIN * (chin - eyes_y)
    top = 2 * middle - bottom
    left, right = face.box[0], face.box[2]
    return (
        max(0, round(left)),
        max(0, round(top)),
        min(size[0], round(right)),
        min(size[1], round(bottom)),
    )


def face_crop(photo: Image.Image, box: Box) -> np.ndarray:
    """The box stretched to CROP_SIDE x CROP_SIDE, RGB uint8 (what MuseTalk was trained on)."""
    crop = photo.convert("RGB").crop(box).resize((CROP_SIDE, CROP_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(crop, dtype=np.uint8)


def lip_sync_job(
    lipsync: LipSync,
    photo: Image.Image,
    face: Face,
    voice: np.ndarray,
    frames: tuple[int, ...] | None = None,
) -> LipSyncJob:
    """CPU work: the face crop and the voice's features (`voice` at `lipsync.sample_rate`)."""
    return lipsync.prepare(face_crop(photo, sync_box(face, photo.size)), voice, FPS, frames)


def loudest_frame(samples: np.ndarray, sample_rate: int, fps: int = FPS) -> int:
    """The video frame where the voice is loudest: a vowel, the mouth open."""
    hop = max(1, sample_rate // fps)
    frames = max(1, len(samples) // hop)
    windows = np.asarray(samples[: frames * hop], dtype=np.float32).reshape(frames, -1)
    return int(np.argmax(np.mean(np.square(windows), axis=1))) if windows.size else 0


@dataclass(frozen=True, eq=False)
class Canvas:
    """A view of the photo at an output size that repainted mouths are blended into."""

    base: np.ndarray  # the view, H x W x 3 uint8
    blink: np.ndarray | None  # the same with the eyes closed (a painted blink), or None
    target: Box  # where the crop's lower half lands, in output pixels, clipped to the view
    mouth_part: Box  # the part of a resized lower half that falls inside the view
    alpha: np.ndarray  # the feathered lower-face mask over `target`, 0-255 (h x w x 1, uint16)
    size: tuple[int, int]  # the lower half's size in output pixels before clipping
    label: tuple[np.ndarray, np.ndarray] | None  # label pixels (where, what) drawn last


def make_canvas(
    photo: Image.Image,
    box: Box,
    region: Box,
    out_size: tuple[int, int],
    *,
    label_text: str | None = None,
    blink_photo: Image.Image | None = None,
) -> Canvas:
    """Everything per video that is the same for each frame, computed once."""
    width, height = out_size
    sx, sy = width / (region[2] - region[0]), height / (region[3] - region[1])
    view = photo.convert("RGB").crop(region).resize(out_size, Image.Resampling.LANCZOS)
    base = np.asarray(view, dtype=np.uint8)
    blink = None
    if blink_photo is not None:
        closed = blink_photo.convert("RGB").crop(region).resize(out_size, Image.Resampling.LANCZOS)
        blink = np.asarray(closed, dtype=np.uint8)
    label = None
    if label_text is not None:
        drawn = np.asarray(draw_centred_label(view, label_text), dtype=np.uint8)
        where = np.any(drawn != base, axis=2)
        label = (where, drawn[where])
    # The crop's lower half, in output pixels (rows from the crop's middle to its bottom).
    left = math.floor((box[0] - region[0]) * sx)
    right = math.ceil((box[2] - region[0]) * sx)
    middle = round((box[1] + (box[3] - box[1]) / 2 - region[1]) * sy)
    bottom = math.ceil((box[3] - region[1]) * sy)
    half_w, half_h = max(1, right - left), max(1, bottom - middle)
    inset = round(half_w * MASK_SIDE_INSET)
    mask = np.asarray(soft_mask((half_w, half_h), (inset, 0, half_w - inset, half_h)))
    target = (max(0, left), max(0, middle), min(width, right), min(height, bottom))
    part = (target[0] - left, target[1] - middle, target[2] - left, target[3] - middle)
    alpha = mask[part[1] : part[3], part[0] : part[2], None].astype(np.uint16)
    return Canvas(base, blink, target, part, alpha, (half_w, half_h), label)


def blend(canvas: Canvas, mouth: np.ndarray, *, blink: bool = False) -> np.ndarray:
    """One frame: the repainted lower half (as `LipSync.generate` gives it) blended in."""
    frame = (canvas.blink if blink and canvas.blink is not None else canvas.base).copy()
    left, top, right, bottom = canvas.target
    if right > left and bottom > top:
        scaled = cv2.resize(mouth, canvas.size, interpolation=cv2.INTER_AREA)
        p = canvas.mouth_part
        new = scaled[p[1] : p[3], p[0] : p[2]].astype(np.uint16)
        old = frame[top:bottom, left:right].astype(np.uint16)
        a = canvas.alpha
        # Integer blending: where the mask is 0 the photo's pixel comes back exactly.
        frame[top:bottom, left:right] = ((old * (255 - a) + new * a + 127) // 255).astype(np.uint8)
    if canvas.label is not None:
        where, pixels = canvas.label
        frame[where] = pixels
    return frame


def synced_frames(
    canvas: Canvas, mouths: np.ndarray, closed_eyes: set[int] | frozenset[int] = frozenset()
) -> Iterator[np.ndarray]:
    """The video's frames one by one (a 20 s video is never all in memory)."""
    for i, mouth in enumerate(mouths):
        yield blend(canvas, mouth, blink=i in closed_eyes)


def render_synced_video(
    photo: Image.Image,
    face: Face,
    mouths: np.ndarray,
    speech: Speech,
    text: str,
    *,
    square: bool,
    seed: int = 0,
    blink_photo: Image.Image | None = None,
) -> TalkingVideo:
    """Compose the lip-synced frames and encode them with the voice as sound track."""
    region = square_around(face, photo.size) if square else (0, 0, *photo.size)
    out = output_size(region, square=square)
    canvas = make_canvas(
        photo, sync_box(face, photo.size), region, out, label_text=text, blink_photo=blink_photo
    )
    closed = blinks(len(mouths), seed=seed) if blink_photo is not None else set()
    mp4 = encode_mp4(synced_frames(canvas, mouths, closed), FPS, speech)
    return TalkingVideo(
        mp4=mp4, width=out[0], height=out[1], duration_s=len(mouths) / FPS, has_sound=True
    )


def synced_picture(photo: Image.Image, face: Face, mouth: np.ndarray) -> Image.Image:
    """The photo, at its own size, with one repainted mouth (for the talking picture)."""
    region = (0, 0, *photo.size)
    canvas = make_canvas(photo, sync_box(face, photo.size), region, photo.size)
    return Image.fromarray(blend(canvas, mouth))
