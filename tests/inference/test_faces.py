"""The face and the mouth found on real photos that ship with scikit-image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from sample_photos import photo

from inference.face.finder import face_in, find_face, soft_mask, square_around


def test_the_astronauts_mouth_is_in_the_lower_half_of_her_face() -> None:
    face = find_face(photo("astronaut"))
    assert face is not None
    left, top, right, bottom = face.box
    # Her face is in the upper third of the 512 x 512 portrait, around x = 225.
    assert 150 < (left + right) / 2 < 300 and bottom < 512 / 2
    mouth_x, mouth_y = face.mouth_centre
    assert left < mouth_x < right
    assert (top + bottom) / 2 < mouth_y < bottom  # the lower half of the face box
    assert face.eyes[3] < face.mouth_centre[1]  # eyes above the mouth
    assert face.mouth[0] >= left and face.mouth[2] <= right


@pytest.mark.parametrize("name", ["camera", "chelsea", "coffee"])
def test_no_face_in_a_turned_away_man_a_cat_or_a_cup(name: str) -> None:
    assert find_face(photo(name)) is None


def test_of_several_people_the_largest_face_is_chosen() -> None:
    astronaut = photo("astronaut")
    group = Image.new("RGB", (1024, 512), (200, 200, 200))
    group.paste(astronaut.resize((256, 256)), (0, 128))  # a small face on the left
    group.paste(astronaut, (512, 0))  # the same face, twice as large, on the right
    face = find_face(group)
    assert face is not None and face.box[0] > 512


def test_a_large_photo_is_searched_at_a_smaller_size_and_boxes_scale_back() -> None:
    small = find_face(photo("astronaut"))
    large = find_face(photo("astronaut").resize((2048, 2048)))
    assert small is not None and large is not None
    for a, b in zip(small.box, large.box, strict=True):
        assert abs(a * 4 - b) <= 4 * 8


def test_the_soft_mask_is_zero_outside_its_region_and_full_inside() -> None:
    region = (40, 50, 100, 90)
    mask = soft_mask((160, 120), region)
    pixels = np.asarray(mask)
    assert pixels[70, 70] == 255
    inside = np.zeros_like(pixels, dtype=bool)
    inside[50:90, 40:100] = True
    assert not pixels[~inside].any()


def test_the_square_around_a_face_holds_it_and_stays_in_the_photo() -> None:
    size = (300, 200)
    for box in [(0, 0, 60, 60), (240, 140, 300, 200), (100, 50, 160, 110), (50, 0, 250, 200)]:
        left, top, right, bottom = square_around(face_in(box, size), size)
        assert right - left == bottom - top <= 200
        assert min(left, top) >= 0 and right <= 300 and bottom <= 200
        assert left <= box[0] and top <= box[1] and right >= box[2] and bottom >= box[3]
