"""Untrusted photo bytes: every way they can be bad, and the odd modes good photos come in."""

from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from PIL import Image, ImageFile

from inference.errors import BadImage, ImageTooLarge, UnsupportedImage
from inference.images import WORKING_SIDE, decode_image, encode_jpeg, fit_within

LIMIT = 40_000_000


def save(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def noise(size: tuple[int, int]) -> Image.Image:
    return Image.effect_noise(size, 64).convert("RGB")


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`x`height` but whose data is a few bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def animated(fmt: str) -> bytes:
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue", "green")]
    return save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is not a photo",
        b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20,
        b"\xff\xd8\xff\xe0" + b"\x13" * 200,  # a JPEG start, then nonsense
    ],
    ids=["empty", "text", "corrupt-png", "corrupt-jpeg"],
)
def test_unreadable_bytes_are_bad_images(data: bytes) -> None:
    with pytest.raises(BadImage):
        decode_image(data, LIMIT)


def test_truncated_jpeg_is_refused_not_half_decoded() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    data = save(noise((128, 128)), "JPEG", quality=95)
    with pytest.raises(BadImage) as caught:
        decode_image(data[: len(data) // 2], LIMIT)
    assert not isinstance(caught.value, ImageTooLarge)


def test_formats_outside_the_allow_list_are_refused() -> None:
    data = save(Image.new("RGB", (16, 16), "red"), "PCX")
    assert Image.open(io.BytesIO(data)).format == "PCX"  # Pillow itself would read it
    with pytest.raises(BadImage):
        decode_image(data, LIMIT)


def test_huge_declared_size_is_refused_before_decoding() -> None:
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge):
        decode_image(png_declaring(30_000, 30_000), LIMIT)
    assert time.perf_counter() - started < 1.0


def test_our_pixel_limit_applies_below_pillows_own() -> None:
    data = png_declaring(2_000, 1_000)
    with pytest.raises(ImageTooLarge):
        decode_image(data, max_pixels=1_000_000)
    # Within the limit the same lie is caught when the data runs out instead.
    with pytest.raises(BadImage) as caught:
        decode_image(data, max_pixels=10_000_000)
    assert not isinstance(caught.value, ImageTooLarge)


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "PNG"])
def test_animations_are_unsupported(fmt: str) -> None:
    with pytest.raises(UnsupportedImage):
        decode_image(animated(fmt), LIMIT)


def test_single_frame_gif_is_fine() -> None:
    image = decode_image(save(Image.new("RGB", (16, 8), "red"), "GIF"), LIMIT)
    assert image.mode == "RGB" and image.size == (16, 8)
    assert image.getpixel((3, 3)) == (255, 0, 0)


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG", quality=95)
    image = decode_image(data, LIMIT)
    assert image.mode == "RGB"
    red, green, blue = image.getpixel((8, 8))  # type: ignore[misc]
    assert red > 200 and green < 60 and blue < 60


def test_16_bit_png_is_scaled_not_clipped() -> None:
    data = save(Image.new("I;16", (8, 8), 32768), "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    image = decode_image(data, LIMIT)
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == (128, 128, 128)  # clipping would give white


def test_float_tiff_is_stretched_to_full_range() -> None:
    gradient = Image.linear_gradient("L").resize((16, 16)).convert("F")
    image = decode_image(save(gradient.point(lambda v: v * 0.01 + 3.0), "TIFF"), LIMIT)
    assert image.mode == "RGB"
    assert image.convert("L").getextrema() == (0, 255)


def test_paletted_png_transparency_is_white() -> None:
    paletted = Image.new("P", (8, 8), 1)
    paletted.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    paletted.putpixel((0, 0), 0)
    data = save(paletted, "PNG", transparency=0)
    image = decode_image(data, LIMIT)
    assert image.mode == "RGB"
    assert image.getpixel((0, 0)) == (255, 255, 255)  # transparent black shows as white
    assert image.getpixel((4, 4)) == (255, 0, 0)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_is_composited_on_white(mode: str) -> None:
    source = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    source.putpixel((1, 1), (0, 0, 0, 255))
    image = decode_image(save(source.convert(mode), "PNG"), LIMIT)
    assert image.getpixel((5, 5)) == (255, 255, 255)
    assert image.getpixel((1, 1)) == (0, 0, 0)


def test_exif_rotated_jpeg_comes_out_upright() -> None:
    stored = Image.new("RGB", (40, 20), "red")
    stored.paste((0, 0, 255), (20, 0, 40, 20))  # left red, right blue, as the sensor saw it
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    image = decode_image(save(stored, "JPEG", exif=exif, quality=95), LIMIT)
    assert image.size == (20, 40)
    top, bottom = image.getpixel((10, 5)), image.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60  # type: ignore[index]
    assert bottom[2] > 200 and bottom[0] < 60  # type: ignore[index]


def test_encode_jpeg_round_trips() -> None:
    data = encode_jpeg(Image.new("RGBA", (10, 6), (0, 128, 0, 255)))
    image = decode_image(data, LIMIT)
    assert data[:2] == b"\xff\xd8" and image.size == (10, 6)


def test_fit_within_downscales_keeping_aspect_and_never_upscales() -> None:
    assert fit_within(Image.new("RGB", (4000, 1000)), 1000).size == (1000, 250)
    assert fit_within(Image.new("RGB", (300, 900)), 600).size == (200, 600)
    small = Image.new("RGB", (50, 40))
    assert fit_within(small, 600).size == (50, 40)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_large_photo_is_shrunk_to_the_working_size_right_after_decoding(fmt: str) -> None:
    source = Image.new("RGB", (6100, 4000), (200, 150, 120))
    source.paste((20, 40, 60), (0, 0, 3050, 2000))  # a dark quarter: the content is kept
    image = decode_image(save(source, fmt), LIMIT)
    assert image.size == (WORKING_SIDE, round(4000 * WORKING_SIDE / 6100))
    assert image.getpixel((100, 100))[0] < 60 and image.getpixel((1200, 800))[0] > 150  # type: ignore[index]


def test_a_small_photo_keeps_its_size() -> None:
    assert decode_image(save(Image.new("RGB", (96, 128)), "JPEG"), LIMIT).size == (96, 128)
