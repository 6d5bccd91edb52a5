"""The talking video end to end: a real portrait sent to the real bot over the fake Bot API,
which opens every uploaded video as Telegram would."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from bot_kit import bot_settings, tiny_inference_config
from fake_telegram import FakeChat, FakeTelegram, FakeUser, UploadedFile
from sample_photos import jpeg
from sqlalchemy import select
from tiny_checkpoints import TinyModels
from tiny_voice_checkpoints import TinyVoiceModels

from bot.app import build_application, running
from bot.texts import TEXTS
from inference.actor import Actor
from storage.models import Character, Message

FAMILY = FakeChat.supergroup(-1001234567890, "Family")
BOT = "photo_talk_test_bot"


@pytest.fixture(scope="module")
def speaking_actor(tiny_models: TinyModels, tiny_voice_models: TinyVoiceModels) -> Iterator[Actor]:
    """An actor with an image model and a voice (tiny Stable Diffusion and tiny Kokoro)."""
    actor = Actor.load(tiny_inference_config(tiny_models, tts_model=str(tiny_voice_models.speech)))
    yield actor
    actor.close()


@pytest.fixture(scope="module")
def lip_syncing_actor(
    tiny_models: TinyModels, tiny_voice_models: TinyVoiceModels, tiny_lipsync: Path
) -> Iterator[Actor]:
    """An actor whose lips follow its voice (tiny MuseTalk layout and tiny Bark), with no
    image model at all."""
    config = tiny_inference_config(
        tiny_models,
        image_model="",
        lipsync_model=str(tiny_lipsync),
        tts_model=str(tiny_voice_models.speech),
    )
    actor = Actor.load(config)
    yield actor
    actor.close()


@pytest.fixture
async def lip_syncing_bot(
    telegram: FakeTelegram,
    database: Path,
    tiny_models: TinyModels,
    tiny_lipsync: Path,
    lip_syncing_actor: Actor,
) -> AsyncIterator[Any]:
    settings = bot_settings(
        telegram, database, tiny_models, image_model="", lipsync_model=str(tiny_lipsync)
    )
    application = build_application(settings, actor=lip_syncing_actor)
    async with running(application, poll_timeout=1) as app:
        yield app


@pytest.fixture
async def speaking_bot(
    telegram: FakeTelegram, database: Path, tiny_models: TinyModels, speaking_actor: Actor
) -> AsyncIterator[Any]:
    settings = bot_settings(telegram, database, tiny_models)
    async with running(build_application(settings, actor=speaking_actor), poll_timeout=1) as app:
        yield app


def replies_to(message_id: int) -> Any:
    return lambda call: call.message is not None and call.message.reply_to_message_id == message_id


def is_line(photo_message_id: int) -> Any:
    """The character's first line: a text replying to the photo (not a status message)."""
    return lambda call: (
        replies_to(photo_message_id)(call)
        and not call.params["text"].startswith(("👀", "💭", "🎨", "✅"))
    )


def says(key: str) -> Any:
    """A text message saying TEXTS[key], in either language."""
    return lambda call: call.params.get("text") in TEXTS[key].values()


def streams(upload: UploadedFile) -> tuple[list[str], int, int, int]:
    """Stream kinds, width, height and frame count of an uploaded MP4."""
    with av.open(io.BytesIO(upload.data)) as container:
        kinds = sorted(s.type for s in container.streams)
        video = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return kinds, video.codec_context.width, video.codec_context.height, frames


def seconds_of(upload: UploadedFile) -> float:
    """How long the sound of an uploaded voice note is, decoded."""
    with av.open(io.BytesIO(upload.data)) as container:
        frames = list(container.decode(audio=0))
    return sum(f.samples for f in frames) / frames[0].sample_rate


async def test_a_portrait_in_a_private_chat_gets_a_round_video_note_after_its_line(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    photo = telegram.send_photo(alice, None, jpeg("astronaut"))
    line = await telegram.wait_for("sendMessage", is_line(photo.message_id), timeout=60)
    assert line.message is not None
    picture = await telegram.wait_for("sendPhoto", timeout=60)
    note = await telegram.wait_for(
        "sendVideoNote", replies_to(line.message.message_id), timeout=120
    )
    calls = telegram.calls
    assert calls.index(line) < calls.index(picture) < calls.index(note)  # text, picture, video
    upload = note.params["video_note"]
    assert isinstance(upload, UploadedFile)
    kinds, width, height, frames = streams(upload)
    assert kinds == ["video"] and width == height == note.params["length"]  # no voice: silent
    assert 0 < note.params["duration"] < 60 and frames >= 5
    assert "record_video_note" in (a for _, a in telegram.chat_actions)

    # A reply is spoken in a video note too (the photo is fetched again from Telegram).
    question = telegram.send_text(alice, None, "Where have you been?")
    answer = await telegram.wait_for("sendMessage", replies_to(question.message_id), timeout=60)
    assert answer.message is not None
    await telegram.wait_for("sendVideoNote", replies_to(answer.message.message_id), timeout=120)


async def test_no_face_means_a_picture_and_no_video(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    telegram.send_photo(alice, None, jpeg("coffee"))
    await telegram.wait_for("sendPhoto", timeout=60)
    await telegram.wait_idle(quiet=1.0, timeout=60)
    assert not telegram.calls_to("sendVideoNote")
    # The photo is remembered as faceless: later lines neither download nor search it again.
    downloads = len(telegram.calls_to("getFile"))
    for words in ("Hello?", "Anyone there?"):
        question = telegram.send_text(alice, None, words)
        await telegram.wait_for("sendMessage", replies_to(question.message_id), timeout=60)
        await telegram.wait_idle(quiet=1.0, timeout=60)
    assert len(telegram.calls_to("getFile")) == downloads
    assert not telegram.calls_to("sendVideoNote")


async def test_video_off_in_a_private_chat(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    telegram.send_text(alice, None, "/video off")
    await telegram.wait_for("sendMessage", says("video_turned_off"))
    telegram.send_text(alice, None, "/video")
    await telegram.wait_for("sendMessage", says("video_is_off"))
    telegram.send_photo(alice, None, jpeg("astronaut"))
    await telegram.wait_for("sendPhoto", timeout=60)
    await telegram.wait_idle(quiet=1.0, timeout=60)
    assert not telegram.calls_to("sendVideoNote")


async def test_in_a_group_admins_turn_videos_on_and_the_character_moves_in_a_video(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, li: FakeUser
) -> None:
    telegram.set_member(FAMILY, alice, "administrator")
    telegram.send_text(li, FAMILY, f"/video@{BOT} on")
    await telegram.wait_for("sendMessage", says("video_admins_only"))
    telegram.send_text(alice, FAMILY, f"/video@{BOT} on")
    await telegram.wait_for("sendMessage", says("video_turned_on"))
    photo = telegram.send_photo(alice, FAMILY, jpeg("astronaut"), caption=f"/talk@{BOT}")
    line = await telegram.wait_for("sendMessage", is_line(photo.message_id), timeout=60)
    assert line.message is not None
    # No voice: a silent animation of the whole photo (with a voice it is a video with sound).
    clip = await telegram.wait_for(
        "sendAnimation", replies_to(line.message.message_id), timeout=120
    )
    upload = clip.params["animation"]
    assert isinstance(upload, UploadedFile)
    kinds, width, height, _ = streams(upload)
    assert kinds == ["video"] and (width, height) == (512, 512)
    assert not telegram.calls_to("sendVideoNote")


async def test_with_a_voice_the_video_note_comes_after_it_and_speaks_with_it(
    telegram: FakeTelegram, speaking_bot: Any, alice: FakeUser
) -> None:
    photo = telegram.send_photo(alice, None, jpeg("astronaut"))
    line = await telegram.wait_for("sendMessage", is_line(photo.message_id), timeout=60)
    assert line.message is not None
    voice = await telegram.wait_for("sendVoice", replies_to(line.message.message_id), timeout=120)
    note = await telegram.wait_for(
        "sendVideoNote", replies_to(line.message.message_id), timeout=120
    )
    assert telegram.calls.index(voice) < telegram.calls.index(note)  # text, voice, video
    kinds, width, height, frames = streams(note.params["video_note"])
    assert kinds == ["audio", "video"] and width == height  # the voice is its sound track
    assert abs(frames / 25 - voice.params["duration"]) <= 1.5  # as long as the voice


async def test_with_lip_sync_the_video_note_follows_the_voice_it_carries(
    telegram: FakeTelegram, lip_syncing_bot: Any, alice: FakeUser
) -> None:
    photo = telegram.send_photo(alice, None, jpeg("astronaut"))
    line = await telegram.wait_for("sendMessage", is_line(photo.message_id), timeout=60)
    assert line.message is not None
    voice = await telegram.wait_for("sendVoice", replies_to(line.message.message_id), timeout=120)
    picture = await telegram.wait_for("sendPhoto", timeout=120)
    note = await telegram.wait_for(
        "sendVideoNote", replies_to(line.message.message_id), timeout=180
    )
    calls = telegram.calls
    assert calls.index(voice) < calls.index(picture) < calls.index(note)
    kinds, width, height, frames = streams(note.params["video_note"])
    assert kinds == ["audio", "video"] and width == height
    assert abs(frames - seconds_of(voice.params["voice"]) * 25) <= 1  # a frame per 25th of it


async def test_in_a_group_with_a_voice_the_video_has_sound(
    telegram: FakeTelegram, speaking_bot: Any, alice: FakeUser
) -> None:
    telegram.set_member(FAMILY, alice, "administrator")
    for command in (f"/video@{BOT} on", f"/voice@{BOT} on"):
        telegram.send_text(alice, FAMILY, command)
        await telegram.wait_idle(quiet=0.5, timeout=30)
    photo = telegram.send_photo(alice, FAMILY, jpeg("astronaut"), caption=f"/talk@{BOT}")
    line = await telegram.wait_for("sendMessage", is_line(photo.message_id), timeout=60)
    assert line.message is not None
    clip = await telegram.wait_for("sendVideo", replies_to(line.message.message_id), timeout=120)
    kinds, width, height, _ = streams(clip.params["video"])
    assert kinds == ["audio", "video"] and (width, height) == (512, 512)  # the whole photo


async def test_replying_to_a_characters_voice_or_video_talks_to_that_character(
    telegram: FakeTelegram,
    speaking_bot: Any,
    alice: FakeUser,
    li: FakeUser,
    sessions: Any,
) -> None:
    """Two characters in a group; the newer one is the group's active one. A reply to the
    older one's voice or video is for the older one (issue 19, item 4)."""
    bob = FakeUser(1003, "Bob", "bob", language_code="en")
    telegram.add_chat(FAMILY, alice, li, bob)
    telegram.set_member(FAMILY, alice, "administrator")
    for command in (f"/video@{BOT} on", f"/voice@{BOT} on"):
        telegram.send_text(alice, FAMILY, command)
        await telegram.wait_idle(quiet=0.5, timeout=30)
    media = {}
    for user in (alice, li):
        photo = telegram.send_photo(user, FAMILY, jpeg("astronaut"), caption=f"/talk@{BOT}")
        line = await telegram.wait_for("sendMessage", is_line(photo.message_id), timeout=60)
        assert line.message is not None
        for method in ("sendVoice", "sendVideo"):
            sent = await telegram.wait_for(method, replies_to(line.message.message_id), timeout=120)
            assert sent.message is not None
            media[user.id, method] = sent.message
    await telegram.wait_idle(quiet=0.5, timeout=60)
    async with sessions() as session:
        first, second = (await session.scalars(select(Character).order_by(Character.id))).all()
    for method in ("sendVoice", "sendVideo"):
        said = f"Bob answers your {method}"
        reply = telegram.send_text(bob, FAMILY, said, reply_to=media[alice.id, method])
        await telegram.wait_for("sendMessage", replies_to(reply.message_id), timeout=60)
        async with sessions() as session:
            turn = (await session.scalars(select(Message).filter_by(text=said))).one()
        assert turn.character_id == first.id != second.id
