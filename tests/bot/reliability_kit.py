"""Shared steps of the reliability tests: run a bot, seed a character, wait for an answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from bot_kit import photo_bytes
from fake_telegram import FakeTelegram, FakeUser, SentCall

from bot.app import build_application, running
from bot.settings import Settings
from bot.texts import TEXTS
from inference.actor import Actor
from inference.types import Language
from storage import queries
from storage.records import CharacterRecord

__all__ = ["photo_bytes"]


@contextlib.asynccontextmanager
async def bot_running(settings: Settings, actor: Actor | None) -> AsyncIterator[Any]:
    """The bot polling the fake server; `actor` None loads models from `settings`."""
    async with running(build_application(settings, actor=actor), poll_timeout=1) as app:
        yield app


async def seed_character(
    sessions: Any,
    user: FakeUser,
    *,
    file_id: str = "AgAC-seeded",
    name: str = "Anna",
    description: str = "a woman smiling, wearing a red coat, in a park",
) -> CharacterRecord:
    """A character made by `user` in their private chat, straight into the database (the
    photo flow is tested elsewhere; here it would only cost time)."""
    lang = "zh" if (user.language_code or "").startswith("zh") else "en"
    async with sessions() as session, session.begin():
        await queries.upsert_user(session, user.id, user.first_name)  # no /lang choice
        character = await queries.create_character(
            session,
            chat_id=user.id,
            owner_id=user.id,
            photo_file_id=file_id,
            description=description,
            persona_name=name,
            persona_traits="warm, curious",
            persona_style="short and friendly",
            language=lang,
        )
        await queries.set_active_character(session, user.id, user.id, character.id)
    return character


def text_is(key: str, lang: Language, chat_id: int) -> Callable[[SentCall], bool]:
    """A wait_for predicate: TEXTS[key] in `lang`, sent to or edited in `chat_id`."""
    wanted = TEXTS[key][lang]
    return lambda c: c.ok and c.chat_id == chat_id and c.params.get("text") == wanted


def replies_to(message: Any) -> Callable[[SentCall], bool]:
    """A wait_for predicate: a message sent in reply to `message`."""
    return lambda c: (
        c.ok
        and c.message is not None
        and c.chat_id == message.chat_id
        and c.message.reply_to_message_id == message.message_id
    )


async def answer_to(telegram: FakeTelegram, message: Any, timeout: float = 30) -> SentCall:  # noqa: ASYNC109
    """The bot's sendMessage replying to `message`."""
    return await telegram.wait_for("sendMessage", replies_to(message), timeout=timeout)


def sent_texts(telegram: FakeTelegram) -> list[str]:
    """Every text and caption the bot sent or edited in, over the whole test."""
    found = []
    for call in telegram.calls:
        for key in ("text", "caption"):
            value = call.params.get(key)
            if isinstance(value, str):
                found.append(value)
    return found


async def shown_after(
    telegram: FakeTelegram,
    since: int,
    predicate: Callable[[SentCall], bool],
    timeout: float = 30,  # noqa: ASYNC109
) -> SentCall:
    """The first text the bot sent or edited in after call number `since` that matches (photos
    answer by editing their status message, everything else with a new message)."""
    async with asyncio.timeout(timeout):
        while True:
            for call in telegram.calls[since:]:
                if call.method in ("sendMessage", "editMessageText") and predicate(call):
                    return call
            await asyncio.sleep(0.02)


async def exchange(
    telegram: FakeTelegram,
    user: FakeUser,
    said: str,
    timeout: float = 30,  # noqa: ASYNC109
) -> SentCall:
    """`user` writes `said` in their private chat; the bot's next message there."""
    since = len(telegram.calls)
    telegram.send_text(user, None, said)
    return await shown_after(
        telegram,
        since,
        lambda c: c.ok and c.method == "sendMessage" and c.chat_id == user.id,
        timeout,
    )


async def eventually(condition: Callable[[], Any], timeout: float = 30) -> None:  # noqa: ASYNC109
    """Wait until `condition()` is true (checked every 50 ms)."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"still not true after {timeout} s")
