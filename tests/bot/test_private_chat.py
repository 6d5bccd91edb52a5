"""A private chat end to end: the real bot over HTTP, tiny real models, SQLite and PostgreSQL."""

from __future__ import annotations

import io
from typing import Any

import pytest
from bot_kit import BACKENDS, photo_bytes
from fake_telegram import FakeTelegram, FakeUser
from PIL import Image
from sqlalchemy import func, select

from bot.texts import TEXTS
from storage import queries
from storage.models import Character, Message, User

# The whole conversation on both databases the bot supports.
pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)


def is_text(key: str) -> Any:
    """A wait_for predicate: a sendMessage/edit whose text is one of TEXTS[key] (any language)."""
    options = set(TEXTS[key].values())
    return lambda call: call.ok and call.params.get("text") in options


async def meet(
    telegram: FakeTelegram, user: FakeUser, caption: str | None = None
) -> tuple[Any, Any]:
    """Send a photo; wait for the character's first line and the talking picture."""
    photo = telegram.send_photo(user, None, photo_bytes(), caption=caption)
    line = await telegram.wait_for(
        "sendMessage",
        lambda c: (
            c.ok
            and c.params.get("reply_parameters") is not None
            and c.message is not None
            and c.message.reply_to_message_id == photo.message_id
            and not c.params["text"].startswith("👀")
        ),
        timeout=60,
    )
    picture = await telegram.wait_for("sendPhoto", lambda c: c.ok, timeout=60)
    return line, picture


async def test_start_welcomes_in_the_users_language_and_registers_commands(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, li: FakeUser
) -> None:
    telegram.send_text(alice, None, "/start")
    english = await telegram.wait_for("sendMessage", lambda c: c.chat_id == alice.id)
    assert english.params["text"] == TEXTS["welcome"]["en"]
    telegram.send_text(li, None, "/start")
    chinese = await telegram.wait_for("sendMessage", lambda c: c.chat_id == li.id)
    assert chinese.params["text"] == TEXTS["welcome"]["zh"]
    assert "AI" in english.params["text"] and "AI" in chinese.params["text"]
    private = {"type": "all_private_chats"}
    names = [c["command"] for c in telegram.commands(private)]
    assert {"start", "help", "characters", "reset", "forget", "share"} <= set(names)
    zh = {c["command"]: c["description"] for c in telegram.commands(private, "zh")}
    assert zh["reset"] == TEXTS["cmd_reset"]["zh"]


async def test_a_photo_gets_status_first_line_then_picture_replying_to_it(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    status = await_status = telegram.send_photo(alice, None, photo_bytes())
    first = await telegram.wait_for("sendMessage", lambda c: c.chat_id == alice.id, timeout=30)
    assert first.params["text"] == TEXTS["status_looking"]["en"]
    assert (
        first.message is not None and first.message.reply_to_message_id == await_status.message_id
    )
    assert await telegram.wait_for("sendChatAction", timeout=30)
    line = await telegram.wait_for(
        "sendMessage",
        lambda c: c.chat_id == alice.id and c.message.reply_to_message_id == status.message_id,
        timeout=60,
    )
    assert line.params["text"].strip()
    picture = await telegram.wait_for("sendPhoto", timeout=60)
    assert picture.message is not None
    assert picture.message.reply_to_message_id == line.message.message_id
    jpeg = picture.message.file_bytes
    assert jpeg is not None
    assert Image.open(io.BytesIO(jpeg)).size == (96, 128)  # drawn at the photo's own size
    done = await telegram.wait_for("editMessageText", is_text_prefix("✅"), timeout=30)
    assert done.params["message_id"] == first.message.message_id

    async with sessions() as session:
        characters = (await session.scalars(select(Character))).all()
        assert len(characters) == 1 and characters[0].owner_id == alice.id
        turns = await queries.last_turns(session, characters[0].id, 10)
        routed = await queries.character_for_telegram_message(
            session, alice.id, picture.message.message_id
        )
    assert [(t.role, t.text, t.telegram_message_id) for t in turns] == [
        ("character", line.params["text"], line.message.message_id)
    ]
    assert routed is not None and routed.id == characters[0].id  # replies to the picture route


def is_text_prefix(prefix: str) -> Any:
    return lambda call: call.ok and str(call.params.get("text", "")).startswith(prefix)


async def test_a_caption_is_the_users_first_words(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    line, _ = await meet(telegram, alice, caption="Grandpa, where was this taken?")
    async with sessions() as session:
        [character] = (await session.scalars(select(Character))).all()
        turns = await queries.last_turns(session, character.id, 10)
    assert [(t.role, t.text) for t in turns] == [
        ("user", "Grandpa, where was this taken?"),
        ("character", line.params["text"]),
    ]


async def test_conversation_continues_with_history_from_the_database(
    telegram: FakeTelegram,
    bot: Any,
    alice: FakeUser,
    sessions: Any,
    tiny_actor: Any,
    monkeypatch: Any,
) -> None:
    await meet(telegram, alice)
    seen: list[list[str]] = []
    real_reply = tiny_actor.reply

    async def recording_reply(persona: Any, history: Any, text: str, **kwargs: Any) -> str:
        seen.append([t.text for t in history])
        return await real_reply(persona, history, text, **kwargs)

    monkeypatch.setattr(tiny_actor, "reply", recording_reply)
    answers = []
    for said in ("Hello there!", "What is your name?", "你好，今天天气怎么样？"):
        message = telegram.send_text(alice, None, said)
        answer = await telegram.wait_for(
            "sendMessage",
            lambda c, m=message: c.ok and c.message.reply_to_message_id == m.message_id,
            timeout=60,
        )
        assert answer.params["text"].strip()
        answers.append(answer.params["text"])
    # Each reply saw everything said before it.
    assert len(seen[2]) == 5 and seen[2][1:] == [
        "Hello there!",
        answers[0],
        "What is your name?",
        answers[1],
    ]
    async with sessions() as session:
        [character] = (await session.scalars(select(Character))).all()
        turns = await queries.last_turns(session, character.id, 20)
    assert [t.role for t in turns] == ["character"] + ["user", "character"] * 3


async def test_text_before_any_photo_asks_for_one(
    telegram: FakeTelegram, bot: Any, li: FakeUser
) -> None:
    telegram.send_text(li, None, "你好")
    answer = await telegram.wait_for("sendMessage")
    assert answer.params["text"] == TEXTS["no_character"]["zh"]


async def test_replying_to_an_older_character_continues_with_it(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    first_line, _ = await meet(telegram, alice)
    await telegram.wait_for("editMessageText", is_text_prefix("✅"), timeout=30)
    await meet(telegram, alice)
    message = telegram.send_text(
        alice, None, "Back to you, first one.", reply_to=first_line.message
    )
    await telegram.wait_for(
        "sendMessage",
        lambda c: c.ok and c.message.reply_to_message_id == message.message_id,
        timeout=60,
    )
    async with sessions() as session:
        first, second = (await session.scalars(select(Character).order_by(Character.id))).all()
        first_turns = await queries.last_turns(session, first.id, 10)
        second_turns = await queries.last_turns(session, second.id, 10)
    assert "Back to you, first one." in [t.text for t in first_turns]
    assert "Back to you, first one." not in [t.text for t in second_turns]


async def test_characters_lists_and_switches_by_button(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    await meet(telegram, alice)
    await telegram.wait_for("editMessageText", is_text_prefix("✅"), timeout=30)
    await meet(telegram, alice)
    await telegram.wait_for("editMessageText", is_text_prefix("✅"), timeout=30)
    telegram.send_text(alice, None, "/characters")
    listing = await telegram.wait_for("sendMessage", is_text("characters_title"))
    assert listing.message is not None
    buttons = listing.message.button_data
    assert len(buttons) == 2
    async with sessions() as session:
        first, second = (await session.scalars(select(Character).order_by(Character.id))).all()
    assert buttons == [f"use:{second.id}", f"use:{first.id}"]  # newest first
    telegram.press_button(alice, None, listing.message, f"use:{first.id}")
    switched = await telegram.wait_for(
        "editMessageText", lambda c: c.params["message_id"] == listing.message.message_id
    )
    assert switched.params["text"] == TEXTS["switched"]["en"].format(name=first.persona_name)
    async with sessions() as session:
        active = await queries.get_active_character(session, alice.id, alice.id)
    assert active is not None and active.id == first.id


async def test_reset_clears_history_but_keeps_the_character(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    await meet(telegram, alice, caption="hi")
    telegram.send_text(alice, None, "/reset")
    done = await telegram.wait_for("sendMessage", is_text_prefix("The conversation with"))
    assert done.ok
    async with sessions() as session:
        [character] = (await session.scalars(select(Character))).all()
        assert await queries.last_turns(session, character.id, 10) == []


async def test_forget_deletes_everything_about_the_user_after_confirmation(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, li: FakeUser, sessions: Any
) -> None:
    await meet(telegram, alice, caption="hello")
    await meet(telegram, li, caption="你好")
    telegram.send_text(alice, None, "/forget")
    confirm = await telegram.wait_for("sendMessage", is_text("forget_confirm"))
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Character)) == 2
    telegram.press_button(alice, None, confirm.message, confirm.message.button_data[0])
    await telegram.wait_for("editMessageText", is_text("forget_done"))
    async with sessions() as session:
        users = (await session.scalars(select(User.id))).all()
        owners = (await session.scalars(select(Character.owner_id))).all()
        authors = (await session.scalars(select(Message.author_id))).all()
        texts = (await session.scalars(select(Message.text))).all()
    assert users == [li.id] and owners == [li.id]
    assert alice.id not in authors and "hello" not in texts and "你好" in texts


async def test_other_media_get_a_short_explanation(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    cases = [
        (telegram.send_sticker, "sticker"),
        (telegram.send_voice, "voice"),
        (telegram.send_video, "animated"),
    ]
    for send, key in cases:
        send(alice, None)
        answer = await telegram.wait_for("sendMessage")
        assert answer.params["text"] == TEXTS[key]["en"]
    telegram.send_document(alice, None, b"%PDF-1.4 not a photo", "letter.pdf", "application/pdf")
    answer = await telegram.wait_for("sendMessage")
    assert answer.params["text"] == TEXTS["unsupported_media"]["en"]


async def test_a_restart_keeps_the_conversation(
    telegram: FakeTelegram, settings: Any, tiny_actor: Any, alice: FakeUser, sessions: Any
) -> None:
    from bot.app import build_application, running

    async with running(build_application(settings, actor=tiny_actor), poll_timeout=1):
        await meet(telegram, alice, caption="Remember me?")
        await telegram.wait_for("editMessageText", is_text_prefix("✅"), timeout=30)
    async with running(build_application(settings, actor=tiny_actor), poll_timeout=1):
        message = telegram.send_text(alice, None, "It's me again.")
        await telegram.wait_for(
            "sendMessage",
            lambda c: c.ok and c.message.reply_to_message_id == message.message_id,
            timeout=60,
        )
    async with sessions() as session:
        [character] = (await session.scalars(select(Character))).all()
        turns = await queries.last_turns(session, character.id, 10)
    assert turns[0].text == "Remember me?"
    assert [t.role for t in turns] == ["user", "character", "user", "character"]


async def test_image_draws_the_current_character_saying_its_last_line_again(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    await meet(telegram, alice)
    message = telegram.send_text(alice, None, "How are you?")
    answer = await telegram.wait_for(
        "sendMessage",
        lambda c: c.ok and c.message.reply_to_message_id == message.message_id,
        timeout=60,
    )
    command = telegram.send_text(alice, None, "/image")
    picture = await telegram.wait_for("sendPhoto", timeout=60)
    assert picture.message is not None and picture.message.file_bytes
    assert picture.message.reply_to_message_id == command.message_id
    async with sessions() as session:
        [character] = (await session.scalars(select(Character))).all()
        last = await queries.last_character_turn(session, character.id)
        first_picture = telegram.calls_to("sendPhoto")[0].message
        assert first_picture is not None and first_picture is not picture.message
        routes = [
            await queries.character_for_telegram_message(session, alice.id, m.message_id)
            for m in (first_picture, picture.message)
        ]
    assert last is not None and last.text == answer.params["text"]
    # Replies to the new picture and to the older one both reach the character.
    assert [r.id if r else None for r in routes] == [character.id, character.id]


async def test_lang_switches_the_bots_language(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    telegram.send_text(alice, None, "/lang")
    choice = await telegram.wait_for("sendMessage")
    assert choice.message is not None and choice.message.button_data == ["lang:zh", "lang:en"]
    telegram.press_button(alice, None, choice.message, "lang:zh")
    await telegram.wait_for("editMessageText", is_text("lang_set"))
    telegram.send_text(alice, None, "/help")
    help_text = await telegram.wait_for("sendMessage", lambda c: c.ok and c.chat_id == alice.id)
    assert help_text.params["text"] == TEXTS["help"]["zh"]
    telegram.send_text(alice, None, "/lang en")
    confirmed = await telegram.wait_for("sendMessage", lambda c: c.ok and c.chat_id == alice.id)
    assert confirmed.params["text"] == TEXTS["lang_set"]["en"]


async def test_an_image_sent_as_a_file_makes_a_character(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    png = io.BytesIO()
    Image.new("RGBA", (80, 100), (200, 150, 120, 255)).save(png, format="PNG")
    telegram.send_document(alice, None, png.getvalue(), "grandma.png", "image/png")
    picture = await telegram.wait_for("sendPhoto", timeout=60)
    assert picture.message is not None
    assert Image.open(io.BytesIO(picture.message.file_bytes or b"")).size == (80, 100)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Character)) == 1


async def test_an_unknown_command_in_private_gets_the_help(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    telegram.send_text(alice, None, "/dance")
    answer = await telegram.wait_for("sendMessage")
    assert answer.params["text"] == TEXTS["help"]["en"]


async def test_an_edited_message_is_not_answered_again(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    await meet(telegram, alice)
    message = telegram.send_text(alice, None, "How old are you?")
    await telegram.wait_for(
        "sendMessage",
        lambda c: c.ok and c.message.reply_to_message_id == message.message_id,
        timeout=60,
    )
    telegram.edit_text(message, "How old are you really?")
    await telegram.wait_idle(quiet=1.0, timeout=30)
    async with sessions() as session:
        texts = (await session.scalars(select(Message.text))).all()
    assert "How old are you?" in texts and "How old are you really?" not in texts
