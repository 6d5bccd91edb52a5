"""The talking picture says it is AI-generated: a visible label, whatever the photo looks like."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageStat

from inference.face.bubble import draw_speech_bubble, layout_bubble


@pytest.mark.parametrize(
    ("colour", "size", "line"),
    [
        ((0, 0, 0), (512, 512), "Hello there!"),
        ((255, 255, 255), (640, 480), "你好，很高兴认识你。"),
        ((120, 90, 60), (96, 128), "Hi"),
    ],
)
def test_the_label_region_is_visibly_marked(
    colour: tuple[int, int, int], size: tuple[int, int], line: str
) -> None:
    photo = Image.new("RGB", size, colour)
    labelled = draw_speech_bubble(photo, line)
    box = layout_bubble(size, line).label_box
    region = (box[0], box[1], box[2] + 1, box[3] + 1)
    difference = ImageChops.difference(photo.crop(region), labelled.crop(region))
    # Not a stray pixel: on average every channel of the label area changed noticeably.
    assert min(ImageStat.Stat(difference).mean) > 10
