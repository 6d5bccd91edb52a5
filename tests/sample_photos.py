"""Real photos that ship inside scikit-image: faces and no faces, for the face and video tests.

astronaut: one frontal face in the upper third; camera: a man looking down at his camera
(face turned away); chelsea: a cat; coffee: a cup, nobody.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps
from skimage import data


def photo(name: str) -> Image.Image:
    """One of scikit-image's sample photos as an RGB Pillow image."""
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def jpeg(name: str, quality: int = 90) -> bytes:
    """The same photo as JPEG bytes, as a user would send it."""
    buffer = io.BytesIO()
    photo(name).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def group_photo() -> tuple[Image.Image, list[tuple[int, int, int, int]]]:
    """Seven real faces on one canvas, and the tile each was pasted in: the astronaut's head
    and six people of scikit-image's LFW subset (25 x 25 grey face crops, enlarged to
    different sizes, with a grey border so each face has some surroundings)."""
    canvas = Image.new("RGB", (1260, 800), (200, 200, 195))
    head = photo("astronaut").crop((130, 40, 330, 260))
    canvas.paste(head, (40, 40))
    tiles = [(40, 40, 40 + head.width, 40 + head.height)]
    people = data.lfw_subset()  # the first 100 are faces, the rest are not
    people_and_sides = zip([0, 7, 15, 30, 55, 80], [100, 130, 200, 90, 130, 110], strict=True)
    for i, (index, side) in enumerate(people_and_sides):
        face = Image.fromarray((people[index] * 255).astype("uint8")).convert("RGB")
        tile = ImageOps.expand(
            face.resize((side, side), Image.Resampling.BICUBIC), side // 4, (128, 128, 128)
        )
        x, y = 300 + (i % 3) * 300, 60 if i < 3 else 420
        canvas.paste(tile, (x, y))
        tiles.append((x, y, x + tile.width, y + tile.height))
    return canvas, tiles
