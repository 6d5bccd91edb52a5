"""The character's line drawn on the picture in a comic speech bubble, plus an "AI" label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw

from inference.face.finder import Face
from inference.face.fonts import Font, load_font
from inference.writing import CJK, has_cjk

Box = tuple[int, int, int, int]  # left, top, right, bottom (inclusive pixels)
Point = tuple[int, int]
Position = Literal["top", "bottom"]

MIN_FONT_SIZE = 6
MAX_FONT_SIZE = 72
MAX_LINE_EMS = 28  # very wide lines are hard to read even on wide images
ELLIPSIS = "…"
INK = (17, 17, 17)
OUTLINE = (40, 40, 40)
PAPER = (255, 255, 255)

# A unit is a run of spaces, one CJK character, or a Latin word with its punctuation.
_UNITS = re.compile(rf"\s+|[{CJK}]|[^\s{CJK}]+")
# Our fonts have no emoji glyphs; drawing them would show empty boxes.
_EMOJI = re.compile(r"[\U0001f000-\U0001faff\ufe0e\ufe0f\u200d]")
_NO_LINE_START = set("，。！？、；：」』）》〉…,.!?;:)")
# With a face, the bubble needs at least this share of the height beside it, or the picture
# gets a paper strip below the photo for it: the bubble never covers the face.
MIN_ROOM = 0.3


@dataclass(frozen=True)
class BubbleLayout:
    """Where everything goes; `bounds` is what the bubble covers (body and tail)."""

    box: Box
    tail: tuple[Point, Point, Point]
    lines: tuple[str, ...]
    font_size: int
    line_height: int
    padding: int
    border: int
    radius: int
    label: str
    label_box: Box
    label_font_size: int

    @property
    def bounds(self) -> Box:
        xs = [self.box[0], self.box[2], *(x for x, _ in self.tail)]
        ys = [self.box[1], self.box[3], *(y for _, y in self.tail)]
        return min(xs), min(ys), max(xs), max(ys)


def wrap_text(text: str, font: Font, max_width: float) -> list[str]:
    """Greedy wrap by measured width: CJK breaks between characters, Latin between words,
    and a word wider than a line is broken by characters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for unit in _UNITS.findall(paragraph):
            if unit.isspace():
                current += " " if current else ""
                continue
            if font.getlength(current + unit) <= max_width:
                current += unit
            elif unit in _NO_LINE_START and len(current.rstrip()) > 1:
                # Keep closing punctuation off the start of a line: carry one char with it.
                lines.append(current.rstrip()[:-1])
                current = current.rstrip()[-1] + unit
            else:
                if current.strip():
                    lines.append(current.rstrip())
                current = ""
                for char in unit:  # breaks only words wider than a whole line
                    if current and font.getlength(current + char) > max_width:
                        lines.append(current)
                        current = ""
                    current += char
        if current.strip():
            lines.append(current.rstrip())
    return lines


def _truncate(line: str, font: Font, max_width: float) -> str:
    while line and font.getlength(line + ELLIPSIS) > max_width:
        line = line[:-1]
    return line.rstrip() + ELLIPSIS


def _line_height(font: Font) -> int:
    if hasattr(font, "getmetrics"):
        ascent, descent = font.getmetrics()
        return int(ascent + descent)
    _, top, _, bottom = font.getbbox("Ág国y")
    return int(bottom - top)


def layout_bubble(
    size: tuple[int, int],
    text: str,
    position: Position | None = None,
    *,
    face: Face | None = None,
) -> BubbleLayout:
    """Fit `text` into a bubble inside an image of `size`: shrink the font, then cut with "…".

    With a `face`, the bubble goes above or below it (where there is more room, unless
    `position` says), never over it, and its tail points at the mouth.
    """
    width, height = size
    text = _EMOJI.sub("", text).strip()
    short = min(width, height)
    margin = max(1, round(short * 0.03))
    if position is None:
        position = roomier_side(size, face)

    # 1. the AI label, in the corner opposite the bubble
    label = label_for(text)
    label_size = max(MIN_FONT_SIZE, round(short * 0.03))
    label_font = load_font(label, label_size)
    label_pad = max(1, label_size // 4)
    if font_width(label_font, label) + 2 * label_pad > width * 0.4:
        label = "AI"
    label_w = round(font_width(label_font, label)) + 2 * label_pad
    label_h = _line_height(label_font) + 2 * label_pad
    label_top = margin if position == "bottom" else height - margin - label_h
    label_box = (width - margin - label_w, label_top, width - margin - 1, label_top + label_h - 1)

    # The rows the bubble and its tail may use: never over the label, never over the face.
    if position == "bottom":
        band_top, band_bottom = 2 * margin + label_h, height - margin
        if face is not None:
            band_top = max(band_top, face.box[3] + margin)
    else:
        band_top, band_bottom = margin, height - 2 * margin - label_h
        if face is not None:
            band_bottom = min(band_bottom, face.box[1] - margin)
    available = max(0, band_bottom - band_top)

    # 2. the largest font size whose wrapped text fits the space left
    max_body_h = int(available * 0.6)
    font_size = min(MAX_FONT_SIZE, max(MIN_FONT_SIZE, round(short * 0.055)))
    while True:
        font = load_font(text, font_size)
        padding = max(2, round(font_size * 0.5))
        border = max(1, round(font_size / 12))
        line_h = _line_height(font) + max(1, round(font_size * 0.15))
        max_text_w = max(1, min(width - 2 * (margin + padding + border), font_size * MAX_LINE_EMS))
        lines = wrap_text(text, font, max_text_w)
        inner = max_body_h - 2 * (padding + border)
        if len(lines) * line_h <= inner or font_size == MIN_FONT_SIZE:
            break
        font_size = max(MIN_FONT_SIZE, int(font_size * 0.9))
    max_lines = max(0, inner // line_h)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        if lines:
            lines[-1] = _truncate(lines[-1], font, max_text_w)

    # 3. the body: under the speaker (or centred), against the edge or, with a face, beside it
    text_w = max((font_width(font, line) for line in lines), default=0)
    body_w = min(width - 2 * margin, round(text_w) + 2 * (padding + border))
    body_w = max(body_w, min(width - 2 * margin, 3 * font_size))
    body_h = len(lines) * line_h + 2 * (padding + border) if lines else 0
    speaker_x = face.mouth_centre[0] if face is not None else width // 2
    left = min(max(margin, speaker_x - body_w // 2), width - margin - body_w)
    if face is None:
        left = (width - body_w) // 2
    tail_h = max(0, min(round(font_size * 1.2), available - body_h))
    if position == "bottom":
        top = band_top + tail_h if face is not None else height - margin - body_h
    else:
        top = band_bottom - tail_h - body_h if face is not None else margin
    box = (left, top, left + body_w - 1, top + body_h - 1)
    radius = max(1, min(padding + font_size // 2, body_h // 2))

    # 4. the tail, from the body towards the mouth (or the middle of the picture)
    half_base = max(1, min(round(font_size * 0.6), body_w // 6))
    inner = padding + border
    base_x = min(max(left + inner + half_base, speaker_x), box[2] - inner - half_base)
    base_x = max(base_x, left + half_base)
    tip_x = min(max(left, speaker_x), box[2]) if face is not None else base_x - half_base // 2
    if position == "bottom":
        base_y, tip_y = top + border + 1, top - tail_h
    else:
        base_y, tip_y = box[3] - border - 1, box[3] + tail_h
    tail = ((base_x - half_base, base_y), (base_x + half_base, base_y), (tip_x, tip_y))
    return BubbleLayout(
        box=box,
        tail=tail,
        lines=tuple(lines),
        font_size=font_size,
        line_height=line_h,
        padding=padding,
        border=border,
        radius=radius,
        label=label,
        label_box=label_box,
        label_font_size=label_size,
    )


def font_width(font: Font, text: str) -> float:
    """Advance width of `text` in pixels."""
    return float(font.getlength(text))


def roomier_side(size: tuple[int, int], face: Face | None) -> Position:
    """Below the face when there is as much room there as above it; bottom without a face."""
    if face is None:
        return "bottom"
    return "bottom" if size[1] - face.box[3] >= face.box[1] else "top"


def make_room(image: Image.Image, face: Face | None) -> Image.Image:
    """The image, with a paper strip added below it when the face leaves no room for a bubble."""
    if face is None:
        return image
    width, height = image.size
    room = max(face.box[1], height - face.box[3])
    if room >= height * MIN_ROOM:
        return image
    extra = round(height * MIN_ROOM) - (height - face.box[3])
    canvas = Image.new("RGB", (width, height + extra), PAPER)
    canvas.paste(image, (0, 0))
    return canvas


def draw_speech_bubble(
    image: Image.Image,
    text: str,
    position: Position | None = None,
    *,
    face: Face | None = None,
) -> Image.Image:
    """A new RGB image: `image` with `text` in a bubble and a small "AI" label; with a `face`,
    the bubble stays off it (a strip is added below a photo that is all face)."""
    out = make_room(image.convert("RGB"), face)  # always a new image; the caller's stays
    layout = layout_bubble(out.size, text, position, face=face)
    draw = ImageDraw.Draw(out)
    if layout.lines:
        _draw_bubble(draw, layout)
        font = load_font(text, layout.font_size)
        inner_left, inner_right = layout.box[0] + layout.border, layout.box[2] - layout.border
        y = layout.box[1] + layout.border + layout.padding
        for line in layout.lines:
            x = (inner_left + inner_right + 1 - font_width(font, line)) / 2
            draw.text((x, y), line, font=font, fill=INK)
            y += layout.line_height
    return draw_label(out, layout.label, layout.label_box, layout.label_font_size)


def label_for(text: str) -> str:
    """The AI label, in the language of what the character says."""
    return "AI 生成" if has_cjk(text) else "AI-generated"


def draw_centred_label(image: Image.Image, text: str) -> Image.Image:
    """The AI label centred near the bottom, where a round video note still shows it."""
    width, height = image.size
    label = label_for(text)
    size = max(MIN_FONT_SIZE, round(min(width, height) * 0.04))
    font = load_font(label, size)
    pad = max(1, size // 4)
    label_w = round(font_width(font, label)) + 2 * pad
    label_h = _line_height(font) + 2 * pad
    left, top = (width - label_w) // 2, round(height * 0.9) - label_h
    return draw_label(image, label, (left, top, left + label_w - 1, top + label_h - 1), size)


def _draw_bubble(draw: ImageDraw.ImageDraw, layout: BubbleLayout) -> None:
    # An outline-coloured shape, then the same shape inset in white: a clean joined border.
    b = layout.border
    draw.polygon(layout.tail, fill=OUTLINE)
    draw.rounded_rectangle(layout.box, radius=layout.radius, fill=OUTLINE)
    (x1, base_y), (x2, _), (tip_x, tip_y) = layout.tail
    inward = 2 * b if tip_y < base_y else -2 * b  # the tip moves towards the body
    if abs(tip_y - base_y) > 2 * b and x2 - x1 > 2 * b:
        draw.polygon(((x1 + b, base_y), (x2 - b, base_y), (tip_x, tip_y + inward)), fill=PAPER)
    left, top, right, bottom = layout.box
    inner = (left + b, top + b, right - b, bottom - b)
    if inner[2] > inner[0] and inner[3] > inner[1]:
        draw.rounded_rectangle(inner, radius=max(0, layout.radius - b), fill=PAPER)


def draw_label(image: Image.Image, label: str, box: Box, font_size: int) -> Image.Image:
    """`label` in `box`, translucent, so it is visible on any photo without shouting."""
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle(box, fill=(0, 0, 0, 110))
    font = load_font(label, font_size)
    pad = max(1, font_size // 4)
    draw.text((box[0] + pad, box[1] + pad), label, font=font, fill=(255, 255, 255, 210))
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
