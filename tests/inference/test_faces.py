"""The face, its landmarks and its mouth found on real photos that ship with scikit-image."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image
from sample_photos import group_photo, photo

from inference.face.finder import face_in, find_face, find_faces, soft_mask, square_around


def test_the_astronauts_mouth_is_between_her_lips_and_her_eyes_on_her_eyes() -> None:
    face = find_face(photo("astronaut"))
    assert face is not None and face.score > 0.99
    # Seen in the 512 x 512 portrait: her lips span x 200-245, y 137-153; her eyes are at
    # about (204, 101) and (246, 103).
    x, y = face.mouth_centre
    assert 200 < x < 245 and 137 <= y <= 153
    marks = face.landmarks
    assert 195 < marks.mouth_left[0] < 210 and 235 < marks.mouth_right[0] < 250
    for (ex, ey), (tx, ty) in [(marks.left_eye, (204, 101)), (marks.right_eye, (246, 103))]:
        assert abs(ex - tx) <= 6 and abs(ey - ty) <= 6
    assert marks.left_eye[1] < marks.nose[1] < marks.mouth_left[1]
    # The regions to repaint hold what they are named after, and the mouth's not the nose.
    left, top, right, bottom = face.mouth
    assert left < 200 and right > 245 and top <= 137 and bottom > 153
    assert top > marks.nose[1]
    assert face.eyes[1] < 101 < face.eyes[3] and face.eyes[0] < 204 and face.eyes[2] > 246
    assert face.eyes[3] < top


@pytest.mark.parametrize("name", ["chelsea", "coffee"])
def test_no_face_on_a_cat_or_a_cup(name: str) -> None:
    assert find_faces(photo(name)) == []


def test_the_cameraman_looking_into_his_camera_is_found_with_his_mouth() -> None:
    face = find_face(photo("camera"))
    assert face is not None
    # His face is turned to the camera on the right; mouth at about (236, 182).
    x, y = face.mouth_centre
    assert 225 < x < 250 and 172 < y < 192


def test_the_suit_and_the_helmet_are_no_faces() -> None:
    assert len(find_faces(photo("astronaut"))) == 1


def test_every_face_of_a_group_is_found_and_the_largest_is_chosen() -> None:
    group, tiles = group_photo()
    faces = find_faces(group)
    assert len(faces) == len(tiles)
    for left, top, right, bottom in tiles:
        inside = [
            f
            for f in faces
            if left <= f.mouth_centre[0] < right and top <= f.mouth_centre[1] < bottom
        ]
        assert len(inside) == 1
    largest = max(tiles, key=lambda t: (t[2] - t[0]) * (t[3] - t[1]))
    chosen = find_face(group)
    assert chosen == faces[0]
    assert largest[0] <= chosen.mouth_centre[0] < largest[2]


def test_of_two_people_the_larger_face_is_chosen() -> None:
    astronaut = photo("astronaut")
    group = Image.new("RGB", (1024, 512), (200, 200, 200))
    group.paste(astronaut.resize((256, 256)), (0, 128))  # a small face on the left
    group.paste(astronaut, (512, 0))  # the same face, twice as large, on the right
    face = find_face(group)
    assert face is not None and face.box[0] > 512


def test_a_large_photo_is_searched_at_a_smaller_size_and_points_scale_back() -> None:
    small = find_face(photo("astronaut"))
    large = find_face(photo("astronaut").resize((2048, 2048)))
    assert small is not None and large is not None
    for a, b in zip(small.box, large.box, strict=True):
        assert abs(a * 4 - b) <= 4 * 4
    assert abs(small.mouth_centre[1] * 4 - large.mouth_centre[1]) <= 4 * 3


def test_threads_each_get_their_own_detector() -> None:
    """OpenCV's DNN networks must not be shared between threads (it crashed the process)."""
    pictures = [photo(n) for n in ("astronaut", "coffee", "camera")] * 3
    alone = [find_face(p) for p in pictures]
    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(find_face, pictures)) == alone


def test_a_box_without_landmarks_gets_a_frontal_faces_regions() -> None:
    face = face_in((20, 20, 76, 98), (96, 128))
    assert 20 < face.mouth_centre[0] < 76 and 60 < face.mouth_centre[1] < 98
    assert face.eyes[3] <= face.mouth[1]


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
