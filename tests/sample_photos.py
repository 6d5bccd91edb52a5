"""Real photos that ship inside scikit-image: faces and no faces, for the face and video tests.

astronaut: one frontal face in the upper third; camera: a man looking down at his camera
(face turned away); chelsea: a cat; coffee: a cup, nobody.
"""

from __future__ import annotations

import io

from PIL import Image
from skimage import data


def photo(name: str) -> Image.Image:
    """One of scikit-image's sample photos as an RGB Pillow image."""
    return Image.fromarray(getattr(data, name)()).convert("RGB")


def jpeg(name: str, quality: int = 90) -> bytes:
    """The same photo as JPEG bytes, as a user would send it."""
    buffer = io.BytesIO()
    photo(name).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
