"""Untrusted photo bytes in, an upright RGB image out; the only place that decodes user images."""

from __future__ import annotations

import functools
import io
import logging
import warnings

from PIL import Image, ImageOps

from inference.errors import BadImage, ImageTooLarge, UnsupportedImage

log = logging.getLogger(__name__)

# A short allow-list keeps Pillow's rarer (and riskier) decoders, e.g. EPS via Ghostscript,
# away from user bytes. MPO is what many phones write for JPEG photos.
ALLOWED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "BMP", "TIFF")
# Formats whose extra frames are animation; MPO/TIFF extra frames are previews or pages.
_ANIMATED_FORMATS = {"GIF", "WEBP", "PNG"}
_WHITE = (255, 255, 255)


# Telegram shows photos at most 1280 px on the long side, and every stage works smaller (the
# painter at IMAGE_SIZE, captioners at their processor's size): a 40 MP file sent "as file"
# is shrunk once here instead of being carried through every stage, and the picture drawn
# from it stays within what sendPhoto accepts (width + height <= 10000).
WORKING_SIDE = 1280


def decode_image(data: bytes, max_pixels: int, max_side: int = WORKING_SIDE) -> Image.Image:
    """Decode user bytes safely: size checked before decoding, animation refused, RGB result
    at most `max_side` on its long side."""
    if not data:
        raise BadImage("empty file")
    with warnings.catch_warnings():
        # Pillow's own bomb check warns below its hard limit; treat that as "too large" too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=_allowed_formats())
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge(str(exc)) from exc
        except Exception as exc:  # Pillow raises many types for hostile input
            raise BadImage(f"not a readable image: {exc}") from exc
        width, height = image.size
        if width <= 0 or height <= 0:
            raise BadImage("image has no pixels")
        if width * height > max_pixels:
            raise ImageTooLarge(f"{width}x{height} is more than {max_pixels} pixels")
        if image.format in _ANIMATED_FORMATS and getattr(image, "n_frames", 1) > 1:
            raise UnsupportedImage(f"animated {image.format} is not supported")
        if image.format in ("JPEG", "MPO"):
            image.draft(None, (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale
        try:
            image.load()  # decode everything now: truncated or corrupt data fails here
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageTooLarge(str(exc)) from exc
        except Exception as exc:
            raise BadImage(f"corrupt or truncated image: {exc}") from exc
    return fit_within(to_rgb(_upright(image)), max_side)


@functools.cache
def _allowed_formats() -> tuple[str, ...]:
    # Pillow versions differ in which of these they register (newer ones read MPO as JPEG).
    Image.init()
    return tuple(fmt for fmt in ALLOWED_FORMATS if fmt in Image.ID)


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation phones record instead of rotating pixels."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception:  # broken EXIF should not cost the user their photo
        log.warning("ignoring unreadable EXIF orientation", exc_info=True)
        return image


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode to RGB: transparency on white, high bit depths scaled to 8 bits."""
    if image.mode == "RGB":
        return image
    if image.mode.startswith("I;16"):
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    elif image.mode in ("I", "F"):
        image = _stretch_to_8bit(image)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_WHITE, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as exc:  # e.g. LAB, which Pillow cannot convert directly
        raise UnsupportedImage(f"colour mode {image.mode} is not supported") from exc


def _stretch_to_8bit(image: Image.Image) -> Image.Image:
    """32-bit integer or float pixels have no fixed range: map their extrema to 0..255."""
    low, high = image.convert("F").getextrema()
    low_f, high_f = float(low), float(high)  # type: ignore[arg-type]
    scale = 255.0 / (high_f - low_f) if high_f > low_f else 0.0
    return image.convert("F").point(lambda v: v * scale - low_f * scale).convert("L")


def encode_jpeg(image: Image.Image, quality: int = 90) -> bytes:
    """JPEG bytes for sending back to Telegram."""
    buffer = io.BytesIO()
    to_rgb(image).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def fit_within(image: Image.Image, max_side: int) -> Image.Image:
    """Downscale (never upscale) so the longer side is at most `max_side`, keeping the aspect."""
    width, height = image.size
    longest = max(width, height)
    if longest <= max_side:
        return image
    scale = max_side / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)
