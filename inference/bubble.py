"""The character's line drawn on the picture in a comic speech bubble, plus an "AI" label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw

from inference.fonts import Font, load_font
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


def layout_bubble(size: tuple[int, int], text: str, position: Position = "bottom") -> BubbleLayout:
    """Fit `text` into a bubble inside an image of `size`: shrink the font, then cut with "…"."""
    width, height = size
    text = _EMOJI.sub("", text).strip()
    short = min(width, height)
    margin = max(1, round(short * 0.03))

    # 1. the AI label, in the corner opposite the bubble
    label = "AI 生成" if has_cjk(text) else "AI-generated"
    label_size = max(MIN_FONT_SIZE, round(short * 0.03))
    label_font = load_font(label, label_size)
    label_pad = max(1, label_size // 4)
    if font_width(label_font, label) + 2 * label_pad > width * 0.4:
        label = "AI"
    label_w = round(font_width(label_font, label)) + 2 * label_pad
    label_h = _line_height(label_font) + 2 * label_pad
    label_top = margin if position == "bottom" else height - margin - label_h
    label_box = (width - margin - label_w, label_top, width - margin - 1, label_top + label_h - 1)

    # 2. the largest font size whose wrapped text fits the space left
    available = height - 3 * margin - label_h  # bubble + tail, never over the label
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

    # 3. the body, centred, against the top or bottom edge
    text_w = max((font_width(font, line) for line in lines), default=0)
    body_w = min(width - 2 * margin, round(text_w) + 2 * (padding + border))
    body_w = max(body_w, min(width - 2 * margin, 3 * font_size))
    body_h = len(lines) * line_h + 2 * (padding + border) if lines else 0
    left = (width - body_w) // 2
    top = height - margin - body_h if position == "bottom" else margin
    box = (left, top, left + body_w - 1, top + body_h - 1)
    radius = max(1, min(padding + font_size // 2, body_h // 2))

    # 4. the tail, pointing from the body towards the middle of the picture (the speaker)
    tail_h = max(0, min(round(font_size * 1.2), available - body_h))
    half_base = max(1, min(round(font_size * 0.6), body_w // 6))
    centre = width // 2
    if position == "bottom":
        base_y, tip_y = top + border + 1, top - tail_h
    else:
        base_y, tip_y = box[3] - border - 1, box[3] + tail_h
    tail = (
        (centre - half_base, base_y),
        (centre + half_base, base_y),
        (centre - half_base // 2, tip_y),
    )
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


def draw_speech_bubble(image: Image.Image, text: str, position: Position = "bottom") -> Image.Image:
    """A new RGB image: `image` with `text` in a bubble and a small "AI" label."""
    out = image.convert("RGB")  # always a new image; the caller's stays untouched
    layout = layout_bubble(out.size, text, position)
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
    return _draw_label(out, layout)


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


def _draw_label(image: Image.Image, layout: BubbleLayout) -> Image.Image:
    # Translucent, so it is visible on any photo without shouting.
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle(layout.label_box, fill=(0, 0, 0, 110))
    font = load_font(layout.label, layout.label_font_size)
    pad = max(1, layout.label_font_size // 4)
    draw.text(
        (layout.label_box[0] + pad, layout.label_box[1] + pad),
        layout.label,
        font=font,
        fill=(255, 255, 255, 210),
    )
    return Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
