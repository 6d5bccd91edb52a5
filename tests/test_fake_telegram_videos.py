"""The fake Bot API's video methods, driven by the real python-telegram-bot client: uploads
are opened as Telegram would, so a bad video fails here as it would in production."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from fractions import Fraction

import av
import numpy as np
import pytest
from fake_telegram import FakeTelegram, FakeUser
from telegram import Bot
from telegram.error import BadRequest

ALICE = FakeUser(1001, "Alice", "alice")


def mp4(width: int, height: int, seconds: float = 1.0, sound: bool = False) -> bytes:
    """A real H.264 MP4 (grey frames), optionally with a silent AAC track."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as box:
        video = box.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = box.add_stream("aac", rate=16_000, layout="mono") if sound else None
        for _ in range(round(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(np.full((height, width, 3), 90, np.uint8), "rgb24")
            box.mux(video.encode(frame))
        box.mux(video.encode(None))
        if audio is not None:
            for start in range(0, round(seconds * 16_000), 1024):
                chunk = av.AudioFrame.from_ndarray(
                    np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
                )
                chunk.sample_rate, chunk.pts = 16_000, start
                chunk.time_base = Fraction(1, 16_000)
                box.mux(audio.encode(chunk))
            box.mux(audio.encode(None))
    return buffer.getvalue()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as client:
        yield client


async def test_a_square_video_note_is_taken_with_its_length_and_duration(
    bot: Bot, tg: FakeTelegram
) -> None:
    tg.send_text(ALICE, None, "hi")
    sent = await bot.send_video_note(ALICE.id, mp4(240, 240, 2.0), length=240, duration=2)
    assert sent.video_note is not None and sent.video_note.length == 240
    call = await tg.wait_for("sendVideoNote")
    assert call.message is not None and call.message.data["video_note"]["duration"] == 2
    stored = await bot.get_file(sent.video_note.file_id)
    assert bytes(await stored.download_as_bytearray()).startswith(mp4(240, 240, 2.0)[:8])


async def test_a_video_note_must_be_a_square_mp4(bot: Bot, tg: FakeTelegram) -> None:
    tg.send_text(ALICE, None, "hi")
    with pytest.raises(BadRequest, match=r"(?i)not_square"):
        await bot.send_video_note(ALICE.id, mp4(320, 240))
    with pytest.raises(BadRequest, match=r"(?i)video_file_invalid"):
        await bot.send_video_note(ALICE.id, b"\x00\x00\x00\x18ftypmp42 but not a video")
    with pytest.raises(BadRequest, match=r"(?i)too_long"):
        await bot.send_video_note(ALICE.id, mp4(704, 704))


async def test_videos_and_animations_report_their_size(bot: Bot, tg: FakeTelegram) -> None:
    tg.send_text(ALICE, None, "hi")
    video = await bot.send_video(ALICE.id, mp4(320, 240, sound=True), caption="talking")
    assert video.video is not None and (video.video.width, video.video.height) == (320, 240)
    assert video.caption == "talking"
    animation = await bot.send_animation(ALICE.id, mp4(160, 120))
    assert animation.animation is not None and animation.animation.width == 160
    with pytest.raises(BadRequest, match=r"(?i)video_file_invalid"):
        await bot.send_video(ALICE.id, b"GIF89a not really")
