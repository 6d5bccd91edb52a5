"""Photos sent as large files still get their talking picture, and a picture Telegram refuses
is said, not only logged (issue 12, item 5)."""

from __future__ import annotations

import io
from typing import Any

from fake_telegram import FakeTelegram, FakeUser
from PIL import Image
from reliability_kit import text_is

from bot.texts import TEXTS


def png(size: tuple[int, int]) -> bytes:
    image = Image.new("RGB", size, (40, 60, 90))
    image.paste((180, 140, 120), (size[0] // 3, size[1] // 4, 2 * size[0] // 3, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_6100x4000_png_sent_as_a_file_gets_its_picture(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    telegram.send_document(alice, None, png((6100, 4000)), "scan.png", "image/png")
    picture = await telegram.wait_for("sendPhoto", timeout=120)
    assert picture.message is not None and picture.message.file_bytes is not None
    width, height = Image.open(io.BytesIO(picture.message.file_bytes)).size
    assert width + height <= 10_000 and max(width, height) <= 1280
    done = await telegram.wait_for("editMessageText", lambda c: c.params["text"].startswith("✅"))
    assert done.ok


async def test_a_picture_telegram_refuses_is_said_and_the_note_is_not_stuck(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    # 21:1 stays 21:1 when shrunk: sendPhoto refuses it (PHOTO_INVALID_DIMENSIONS).
    telegram.send_document(alice, None, png((2100, 100)), "banner.png", "image/png")
    told = await telegram.wait_for(
        "editMessageText", text_is("picture_not_sent", "en", alice.id), timeout=120
    )
    assert told.params["text"] == TEXTS["picture_not_sent"]["en"]
    refused = [c for c in telegram.calls if c.method == "sendPhoto" and not c.ok]
    assert refused and "PHOTO_INVALID_DIMENSIONS" in str(refused[0].error)
