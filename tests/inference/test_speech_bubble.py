"""The speech bubble: wrapped by measured width, always inside the picture, with an AI label."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont
from sample_photos import photo

from inference.face.bubble import (
    ELLIPSIS,
    Box,
    Position,
    draw_speech_bubble,
    font_width,
    layout_bubble,
    make_room,
    roomier_side,
    wrap_text,
)
from inference.face.finder import face_in, find_face
from inference.face.fonts import find_font, load_font

SHORT_EN = "Hi! I'm Anna."
LONG_EN = (
    "Oh, hello there! I was just thinking about the afternoon I spent in this park, the light "
    "through the trees, the smell of rain on the grass, and how strange it is that a single "
    "photo can hold all of that. What brings you here today? Tell me everything, slowly."
)
SHORT_ZH = "你好，我是小雨！"
LONG_ZH = (
    "你好呀！我刚才还在想那天下午在公园里的时光，阳光透过树叶洒下来，草地上还有雨后的味道。"
    "一张照片居然能装下这么多回忆，真是奇妙。你今天为什么会来这里？慢慢告诉我吧，我有的是时间。"
)
SIZES = [(64, 64), (2000, 300), (300, 2000), (512, 512), (1280, 960), (4000, 3000)]
TEXTS = [SHORT_EN, LONG_EN, SHORT_ZH, LONG_ZH, LONG_EN * 6, "Supercalifragilistic" * 12]


def inside(inner: Box, size: tuple[int, int]) -> bool:
    left, top, right, bottom = inner
    return 0 <= left <= right < size[0] and 0 <= top <= bottom < size[1]


def overlap(a: Box, b: Box) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def test_a_cjk_capable_font_is_found() -> None:
    path = find_font("你好")
    assert path is not None and Path(path).is_file()
    font = load_font("你好", 24)
    assert isinstance(font, ImageFont.FreeTypeFont)
    assert str(font.getname()[0]).startswith("Noto Sans CJK")
    assert font_width(font, "你") > font_width(font, "i")


def test_chinese_wraps_between_characters() -> None:
    font = load_font(LONG_ZH, 20)
    lines = wrap_text(LONG_ZH, font, 200)
    assert len(lines) > 3
    assert all(font_width(font, line) <= 200 for line in lines)
    assert "".join(lines) == LONG_ZH  # nothing lost, nothing added
    assert not any(line[0] in "，。！？" for line in lines)  # no punctuation starts a line


def test_english_wraps_between_words_and_breaks_only_overlong_words() -> None:
    font = load_font(LONG_EN, 20)
    lines = wrap_text(LONG_EN, font, 300)
    assert len(lines) > 3
    assert all(font_width(font, line) <= 300 for line in lines)
    assert " ".join(lines) == LONG_EN  # every break was at a space
    word = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 3
    broken = wrap_text(f"a {word} b", font, 150)
    assert all(font_width(font, line) <= 150 for line in broken)
    assert "".join(broken).replace(" ", "") == f"a{word}b"


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("text", TEXTS)
def test_layout_stays_inside_the_image(size: tuple[int, int], text: str) -> None:
    positions: tuple[Position, ...] = ("top", "bottom")
    for position in positions:
        layout = layout_bubble(size, text, position)
        assert layout.lines
        assert inside(layout.bounds, size)
        assert inside(layout.label_box, size)
        assert not overlap(layout.bounds, layout.label_box)
        text_height = len(layout.lines) * layout.line_height
        assert text_height <= layout.box[3] - layout.box[1] + 1 - 2 * layout.padding
        font = load_font(text, layout.font_size)
        inner_width = layout.box[2] - layout.box[0] + 1 - 2 * (layout.padding + layout.border)
        assert all(font_width(font, line) <= inner_width + 1 for line in layout.lines)


def test_short_text_is_whole_and_long_text_is_cut_with_an_ellipsis() -> None:
    assert layout_bubble((512, 512), SHORT_EN).lines == (SHORT_EN,)
    squeezed = layout_bubble((64, 64), LONG_EN)
    assert squeezed.lines[-1].endswith(ELLIPSIS)
    roomy = layout_bubble((1280, 960), LONG_EN)
    assert not roomy.lines[-1].endswith(ELLIPSIS)
    assert " ".join(roomy.lines) == LONG_EN


def test_font_scales_with_the_image() -> None:
    small = layout_bubble((256, 256), SHORT_EN).font_size
    large = layout_bubble((2048, 2048), SHORT_EN).font_size
    assert small < large


def test_label_speaks_the_text_language() -> None:
    assert layout_bubble((512, 512), SHORT_ZH).label == "AI 生成"
    assert layout_bubble((512, 512), SHORT_EN).label == "AI-generated"
    assert layout_bubble((64, 64), SHORT_EN).label == "AI"  # no room for more


@pytest.mark.parametrize("size", [(64, 64), (2000, 300), (640, 480)])
@pytest.mark.parametrize("text", [SHORT_EN, LONG_ZH])
def test_drawing_changes_only_the_bubble_and_the_label(size: tuple[int, int], text: str) -> None:
    photo = Image.effect_noise(size, 40).convert("RGB")
    result = draw_speech_bubble(photo, text)
    assert result is not photo and result.mode == "RGB" and result.size == size
    layout = layout_bubble(size, text)
    changed = ImageChops.difference(result, photo).convert("L").point(lambda v: 255 if v else 0)
    allowed = Image.new("L", size, 0)
    draw = ImageDraw.Draw(allowed)
    draw.rectangle(layout.bounds, fill=255)
    draw.rectangle(layout.label_box, fill=255)
    assert ImageChops.subtract(changed, allowed).getbbox() is None
    # The bubble is really there: white paper with dark ink in its middle row of text.
    left, top, right, bottom = layout.box
    crop = result.crop((left, top, right + 1, bottom + 1)).convert("L")
    histogram = crop.histogram()
    assert histogram[255] > 0  # white paper
    assert sum(histogram[:80]) > 0  # dark ink


def test_rgba_and_grey_inputs_work_and_are_not_modified() -> None:
    for mode in ("RGBA", "L", "P"):
        photo = Image.new(mode, (200, 150))
        before = photo.tobytes()
        result = draw_speech_bubble(photo, SHORT_ZH)
        assert result.mode == "RGB" and result.size == (200, 150)
        assert photo.tobytes() == before


def test_emoji_are_dropped_rather_than_drawn_as_boxes() -> None:
    assert layout_bubble((512, 512), "Hi 😊").lines == ("Hi",)


# --- with a face: never over it, the tail at the mouth --------------------------------------

FACES = [  # (image size, face box): top, middle, bottom, left edge, a close-up, a wide photo
    ((512, 512), (177, 67, 270, 160)),
    ((480, 640), (140, 220, 340, 420)),
    ((640, 480), (250, 330, 350, 430)),
    ((640, 480), (0, 100, 120, 220)),
    ((400, 400), (40, 30, 360, 370)),
    ((2000, 300), (900, 20, 1100, 220)),
]


@pytest.mark.parametrize(("size", "box"), FACES)
@pytest.mark.parametrize("text", [SHORT_EN, LONG_ZH])
def test_the_bubble_never_covers_the_face_and_its_tail_points_at_the_mouth(
    size: tuple[int, int], box: Box, text: str
) -> None:
    face = face_in(box, size)
    canvas = make_room(Image.new("RGB", size), face)
    assert canvas.width == size[0] and canvas.height >= size[1]  # a strip below, if any
    layout = layout_bubble(canvas.size, text, face=face)
    assert layout.lines  # there was room for the words
    assert inside(layout.bounds, canvas.size)
    assert not overlap(layout.bounds, (box[0], box[1], box[2] - 1, box[3] - 1))
    (x1, base_y), (x2, _), (tip_x, tip_y) = layout.tail
    mouth_x, mouth_y = face.mouth_centre
    below = layout.box[1] > box[1]
    assert below == (tip_y < base_y)  # the tail leaves the body towards the face
    assert abs(tip_x - mouth_x) <= max(2, abs((x1 + x2) / 2 - mouth_x))  # aimed at the mouth
    assert abs(tip_y - mouth_y) < abs(base_y - mouth_y)


def test_the_bubble_goes_where_there_is_room() -> None:
    assert roomier_side((512, 512), face_in((177, 67, 270, 160), (512, 512))) == "bottom"
    assert roomier_side((512, 512), face_in((177, 350, 270, 443), (512, 512))) == "top"
    assert roomier_side((512, 512), None) == "bottom"


def test_on_the_astronaut_the_bubble_is_drawn_below_her_face_only() -> None:
    astronaut = photo("astronaut")
    face = find_face(astronaut)
    assert face is not None
    result = draw_speech_bubble(astronaut, SHORT_EN, face=face)
    assert result.size == astronaut.size  # room enough: no strip added
    before = astronaut.crop(face.box).tobytes()
    assert result.crop(face.box).tobytes() == before  # her face is untouched
    assert layout_bubble(astronaut.size, SHORT_EN, face=face).box[1] > face.box[3]
