"""Voice both ways, end to end: the real bot over HTTP, tiny Kokoro (the default voice) and
Whisper, a SQLite file.

The fake Bot API server checks every sent voice is OGG with an Opus stream (PyAV probes it).
The tiny Kokoro gives every phoneme one frame, so a voice's length says what it spoke.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bot_kit import bot_settings, photo_bytes, tiny_inference_config
from fake_telegram import FakeChat, FakeTelegram, FakeUser
from reliability_kit import exchange, text_is
from sqlalchemy import select
from tiny_checkpoints import TinyModels
from tiny_voice_checkpoints import (
    TINY_KOKORO_VOICES,
    TinyVoiceModels,
    tiny_kokoro_samples,
    voice_note,
)

from bot.app import build_application, running
from bot.texts import TEXTS
from inference.actor import Actor
from inference.serving.loading import Models, load_models
from inference.voice.codecs import decode_audio
from inference.voice.kokoro_tts import KokoroSpeech
from storage.models import Character, Message

MAX_SECONDS = 20
MIXED = "我昨天去了 Central Park，天气 really nice，你也应该去看看。"


@pytest.fixture(scope="module")
def voice_models(tiny_models: TinyModels, tiny_voice_models: TinyVoiceModels) -> Models:
    """Tiny Kokoro (speech) and Whisper (recognition), loaded by the product's loader."""
    return load_models(voice_config(tiny_models, tiny_voice_models))


@pytest.fixture(scope="module")
def voice_actor(
    tiny_models: TinyModels, tiny_voice_models: TinyVoiceModels, voice_models: Models
) -> Iterator[Actor]:
    """An actor that also speaks and listens; no image model."""
    actor = Actor(voice_models, voice_config(tiny_models, tiny_voice_models))
    yield actor
    actor.close()


def voice_config(tiny_models: TinyModels, tiny_voice_models: TinyVoiceModels) -> Any:
    return tiny_inference_config(
        tiny_models,
        image_model="",
        tts_model=str(tiny_voice_models.speech),
        asr_model=str(tiny_voice_models.transcriber),
        max_voice_seconds=MAX_SECONDS,
    )


@pytest.fixture
async def voice_bot(
    telegram: FakeTelegram, database: Path, tiny_models: TinyModels, voice_actor: Actor
) -> AsyncIterator[Any]:
    settings = bot_settings(
        telegram, database, tiny_models, image_model="", max_voice_seconds=MAX_SECONDS
    )
    async with running(build_application(settings, actor=voice_actor), poll_timeout=1) as app:
        yield app


def says(key: str) -> Any:
    options = set(TEXTS[key].values())
    return lambda call: call.ok and call.params.get("text") in options


def replies_to(message_id: int) -> Any:
    return lambda c: c.ok and c.message is not None and c.message.reply_to_message_id == message_id


async def meet(telegram: FakeTelegram, user: FakeUser) -> Any:
    """Send a photo; the character's first line, its voice (a reply to it), and the picture."""
    photo = telegram.send_photo(user, None, photo_bytes())
    line = await telegram.wait_for(
        "sendMessage",
        lambda c: replies_to(photo.message_id)(c) and not c.params["text"].startswith("👀"),
        timeout=60,
    )
    voice = await telegram.wait_for("sendVoice", replies_to(line.message.message_id), timeout=120)
    await telegram.wait_for("sendPhoto", timeout=60)
    return line, voice


async def test_first_line_is_spoken_as_a_voice_replying_to_it(
    telegram: FakeTelegram, voice_bot: Any, alice: FakeUser, sessions: Any
) -> None:
    line, voice = await meet(telegram, alice)
    sent = voice.message.data["voice"]
    assert sent["mime_type"] == "audio/ogg" and sent["duration"] >= 1
    assert voice.params["duration"] >= 1  # set by the bot, not guessed by Telegram
    # Text first, never held back for the audio.
    assert telegram.calls.index(line) < telegram.calls.index(voice)
    async with sessions() as session:
        character = (await session.scalars(select(Character))).one()
    assert character.voice in TINY_KOKORO_VOICES  # chosen once and kept with the character


def spoke(speech: KokoroSpeech, voice_call: Any, line: str, voice: str) -> bool:
    """The sent voice message says `line`: as long as the tiny Kokoro's phonemes of it."""
    heard = decode_audio(voice_call.message.file_bytes, 24_000, 60)
    return abs(len(heard) - tiny_kokoro_samples(speech, line, voice)) <= 0.03 * 24_000


async def test_a_character_speaks_chinese_english_and_mixed_lines(
    telegram: FakeTelegram,
    voice_bot: Any,
    voice_actor: Actor,
    voice_models: Models,
    alice: FakeUser,
    sessions: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speech = voice_models.speech
    assert isinstance(speech, KokoroSpeech)
    line, voice = await meet(telegram, alice)
    async with sessions() as session:
        own_voice = (await session.scalars(select(Character.voice))).one()
    assert own_voice is not None and spoke(speech, voice, line.params["text"], own_voice)
    # The tiny dialogue model writes nonsense: here it says what the test needs it to say.
    answers = ["你好，很高兴认识你。今天的天气真好！", "Nice to meet you! I read 42 books.", MIXED]
    for said, answer in zip(["你好", "Hello", "Mixed?"], answers, strict=True):

        async def reply(*args: Any, answer: str = answer, **kwargs: Any) -> str:
            return answer

        monkeypatch.setattr(voice_actor, "reply", reply)
        message = telegram.send_text(alice, None, said)
        sent = await telegram.wait_for("sendMessage", replies_to(message.message_id), timeout=60)
        assert sent.params["text"] == answer
        spoken = await telegram.wait_for(
            "sendVoice", replies_to(sent.message.message_id), timeout=120
        )
        assert spoke(speech, spoken, answer, own_voice), answer
        assert spoken.params["duration"] >= 1


async def test_a_voice_note_is_transcribed_stored_as_spoken_and_answered(
    telegram: FakeTelegram, voice_bot: Any, voice_actor: Actor, alice: FakeUser, sessions: Any
) -> None:
    await meet(telegram, alice)
    note = voice_note(2.0)
    heard = await voice_actor.transcribe(note)
    message = telegram.send_voice(alice, None, note, duration=2)
    answer = await telegram.wait_for("sendMessage", replies_to(message.message_id), timeout=60)
    await telegram.wait_for("sendVoice", replies_to(answer.message.message_id), timeout=120)
    async with sessions() as session:
        turn = (
            await session.scalars(
                select(Message).where(Message.telegram_message_id == message.message_id)
            )
        ).one()
        character = (await session.scalars(select(Character))).one()
    assert turn.role == "user" and turn.spoken and turn.text == heard.text
    assert character.voice is not None
    # The same character keeps its voice for every line.
    async with sessions() as session:
        assert (await session.scalars(select(Character.voice))).one() == character.voice


async def test_a_voice_note_keeps_its_place_before_a_text_sent_after_it(
    telegram: FakeTelegram,
    voice_bot: Any,
    voice_actor: Actor,
    alice: FakeUser,
    sessions: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Transcribing takes a while; a text sent meanwhile waits its turn behind the note."""
    await meet(telegram, alice)
    hearing, heard = asyncio.Event(), asyncio.Event()
    transcribe = voice_actor.transcribe

    async def slow_transcribe(*args: Any, **kwargs: Any) -> Any:
        hearing.set()
        await heard.wait()
        return await transcribe(*args, **kwargs)

    monkeypatch.setattr(voice_actor, "transcribe", slow_transcribe)
    note = telegram.send_voice(alice, None, voice_note(1.5), duration=2)
    await asyncio.wait_for(hearing.wait(), 30)
    after = telegram.send_text(alice, None, "And another thing!")
    await asyncio.sleep(0.5)  # the text has reached the bot; the note is still being heard
    heard.set()
    to_note = await telegram.wait_for("sendMessage", replies_to(note.message_id), timeout=60)
    to_text = await telegram.wait_for("sendMessage", replies_to(after.message_id), timeout=60)
    assert telegram.calls.index(to_note) < telegram.calls.index(to_text)
    async with sessions() as session:
        turns = (
            await session.scalars(
                select(Message.telegram_message_id)
                .where(Message.role == "user")
                .order_by(Message.id)
            )
        ).all()
    assert turns[-2:] == [note.message_id, after.message_id]  # stored in the order sent


@pytest.mark.parametrize("kind", ["audio", "video_note"])
async def test_audio_files_and_video_notes_are_heard_too(
    telegram: FakeTelegram, voice_bot: Any, alice: FakeUser, kind: str, sessions: Any
) -> None:
    await meet(telegram, alice)
    data = voice_note(1.5, fmt="mp4")
    if kind == "audio":
        message = telegram.send_audio(alice, None, data, duration=2)
    else:
        message = telegram.send_video_note(alice, None, data, duration=2)
    await telegram.wait_for("sendMessage", replies_to(message.message_id), timeout=60)
    async with sessions() as session:
        spoken = (await session.scalars(select(Message).where(Message.spoken))).all()
    assert [m.telegram_message_id for m in spoken] == [message.message_id]


async def test_voice_off_and_on_again(
    telegram: FakeTelegram, voice_bot: Any, alice: FakeUser
) -> None:
    await meet(telegram, alice)
    telegram.send_text(alice, None, "/voice off")
    await telegram.wait_for("sendMessage", says("voice_off"))
    said = telegram.send_text(alice, None, "Tell me more.")
    await telegram.wait_for("sendMessage", replies_to(said.message_id), timeout=60)
    await telegram.wait_idle(quiet=0.5, timeout=60)
    assert len(telegram.calls_to("sendVoice")) == 1  # only the first line's
    telegram.send_text(alice, None, "/voice")
    usage = TEXTS["voice_usage"]["en"].format(state=TEXTS["voice_state_off"]["en"])
    await telegram.wait_for("sendMessage", lambda c: c.ok and c.params["text"] == usage)
    telegram.send_text(alice, None, "/voice on")
    await telegram.wait_for("sendMessage", says("voice_on"))
    said = telegram.send_text(alice, None, "And now?")
    answer = await telegram.wait_for("sendMessage", replies_to(said.message_id), timeout=60)
    await telegram.wait_for("sendVoice", replies_to(answer.message.message_id), timeout=120)


async def test_in_groups_voice_is_off_until_an_admin_turns_it_on(
    telegram: FakeTelegram, voice_bot: Any, alice: FakeUser, li: FakeUser
) -> None:
    group = telegram.add_chat(FakeChat.group(-100), alice, li)
    telegram.set_member(group, alice, "administrator")
    photo = telegram.send_photo(li, group, photo_bytes(), caption="/talk")
    line = await telegram.wait_for("sendMessage", replies_to(photo.message_id), timeout=60)
    await telegram.wait_for("sendPhoto", timeout=60)
    assert telegram.calls_to("sendVoice") == []  # off by default in groups
    telegram.send_text(li, group, "/voice on")
    await telegram.wait_for("sendMessage", says("voice_admins_only"))
    telegram.send_text(alice, group, "/voice on")
    await telegram.wait_for("sendMessage", says("voice_on"))
    said = telegram.send_text(li, group, "Hello!", reply_to=line.message)
    answer = await telegram.wait_for("sendMessage", replies_to(said.message_id), timeout=60)
    await telegram.wait_for("sendVoice", replies_to(answer.message.message_id), timeout=120)
    # Voice notes in a group: only those replying to a character are heard.
    aside = telegram.send_voice(alice, group, voice_note(1.0), 1)
    note = telegram.send_voice(li, group, voice_note(1.5), 2, reply_to=line.message)
    answer = await telegram.wait_for("sendMessage", replies_to(note.message_id), timeout=60)
    await telegram.wait_for("sendVoice", replies_to(answer.message.message_id), timeout=120)
    await telegram.wait_idle(quiet=0.3, timeout=60)
    assert not [c for c in telegram.calls if replies_to(aside.message_id)(c)]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("declared too long", "voice_too_long"),
        ("too big", "voice_too_big"),
        ("corrupt", "voice_unreadable"),
        ("silence", "voice_unheard"),
        ("longer than declared", "voice_too_long"),
    ],
)
async def test_bad_audio_gets_a_friendly_answer_and_the_bot_keeps_serving(
    telegram: FakeTelegram, voice_bot: Any, li: FakeUser, sessions: Any, case: str, expected: str
) -> None:
    send = {
        "declared too long": lambda: telegram.send_voice(
            li, None, voice_note(1.0), MAX_SECONDS + 1
        ),
        "too big": lambda: telegram.send_voice(li, None, voice_note(1.0), 1, file_size=50 << 20),
        "corrupt": lambda: telegram.send_voice(li, None, b"OggS" + bytes(range(256)) * 8, 2),
        "silence": lambda: telegram.send_voice(li, None, voice_note(2.0, loud=False), 2),
        "longer than declared": lambda: telegram.send_voice(
            li, None, voice_note(MAX_SECONDS + 3), 3
        ),
    }[case]
    send()
    wanted = TEXTS[expected]["zh"].format(seconds=MAX_SECONDS)
    answer = await telegram.wait_for("sendMessage", lambda c: c.params["text"] == wanted, 60)
    assert answer.chat_id == li.id
    if case in ("declared too long", "too big"):
        assert telegram.calls_to("getFile") == []  # declined before any download
    async with sessions() as session:
        assert (await session.scalars(select(Message))).all() == []  # nothing stored
    telegram.send_text(li, None, "/voice")
    await telegram.wait_for(
        "sendMessage", lambda c: c.ok and c.chat_id == li.id and "/voice on" in c.params["text"]
    )


async def test_without_recognition_model_voice_notes_ask_for_text(
    telegram: FakeTelegram, bot: Any, li: FakeUser
) -> None:
    telegram.send_voice(li, None, voice_note(1.0), 1)
    answer = await telegram.wait_for("sendMessage", says("voice"))
    assert answer.chat_id == li.id and answer.params["text"] == TEXTS["voice"]["zh"]
    telegram.send_text(li, None, "/voice on")
    await telegram.wait_for("sendMessage", says("voice_unavailable"))


async def test_a_shared_copy_speaks_with_the_originals_voice(
    telegram: FakeTelegram, voice_bot: Any, alice: FakeUser, li: FakeUser, sessions: Any
) -> None:
    await meet(telegram, alice)
    async with sessions() as session, session.begin():
        original = (await session.scalars(select(Character))).one()
        original.voice = "bf_emma"  # not what a Chinese copy would pick
        original.share_code = "alice-code"
    telegram.send_text(li, None, "/start alice-code")

    def in_lis_chat(call: Any) -> bool:
        return bool(call.chat_id == li.id)

    await telegram.wait_for("sendMessage", in_lis_chat)  # "you are now talking with …"
    line = await telegram.wait_for("sendMessage", in_lis_chat, timeout=60)  # its first line
    await telegram.wait_for("sendVoice", replies_to(line.message.message_id), timeout=120)
    async with sessions() as session:
        copy = (await session.scalars(select(Character).where(Character.chat_id == li.id))).one()
    assert copy.source_character_id == original.id and copy.voice == "bf_emma"


async def test_the_audio_is_never_stored_and_forget_removes_the_transcript(
    telegram: FakeTelegram, voice_bot: Any, alice: FakeUser, sessions: Any, database: Path
) -> None:
    await meet(telegram, alice)
    note = voice_note(2.0)
    message = telegram.send_voice(alice, None, note, duration=2)
    await telegram.wait_for("sendMessage", replies_to(message.message_id), timeout=60)
    async with sessions() as session:
        assert (await session.scalars(select(Message).where(Message.spoken))).all()
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        cells = [v for t in tables for row in db.execute(f'SELECT * FROM "{t}"') for v in row]
    assert not any(isinstance(v, bytes) and note[100:140] in v for v in cells)
    confirm = await exchange(telegram, alice, "/forget")
    telegram.press_button(alice, None, confirm.message, confirm.message.button_data[0])
    await telegram.wait_for("editMessageText", text_is("forget_done", "en", alice.id))
    async with sessions() as session:
        assert (await session.scalars(select(Message))).all() == []
