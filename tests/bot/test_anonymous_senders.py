"""Anonymous admins and channels write as Telegram's service accounts, shared by every group:
they are known by the chat they write for (issue 12, item 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot_kit import bot_settings, photo_bytes
from fake_telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser, SentCall
from reliability_kit import bot_running
from sqlalchemy import select
from tiny_checkpoints import TinyModels

from bot.texts import TEXTS
from inference.actor import Actor
from storage.models import Character, Message, User

FAMILY = FakeChat.supergroup(-1001234567890, "Family")
CLUB = FakeChat.supergroup(-1009876543210, "Book club")


def reply_to(message: FakeMessage) -> Any:
    chat_id, message_id = message.chat_id, message.message_id
    return lambda c: c.ok and c.chat_id == chat_id and c.message.reply_to_message_id == message_id


async def made_by_anonymous_admin(
    telegram: FakeTelegram, user: FakeUser, chat: FakeChat
) -> SentCall:
    """An anonymous admin of `chat` sends a photo with /talk; the character's first line."""
    photo = telegram.send_photo(user, chat, photo_bytes(), caption="/talk", sender_chat=chat)
    return await telegram.wait_for("sendMessage", reply_to(photo), timeout=60)


async def test_an_anonymous_admin_is_limited_per_group_not_everywhere(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
) -> None:
    settings = bot_settings(telegram, database, tiny_models, max_photos_per_hour=1)
    async with bot_running(settings, tiny_actor):
        await made_by_anonymous_admin(telegram, alice, FAMILY)
        line = await made_by_anonymous_admin(telegram, alice, CLUB)
    assert line.params["text"] != TEXTS["photo_limit"]["en"]
    async with sessions() as session:
        made = (await session.execute(select(Character.owner_id, Character.photo_author_id))).all()
    # Made by each group, from each group's photo (for /forget), not by GroupAnonymousBot.
    assert sorted(tuple(row) for row in made) == sorted([(FAMILY.id,) * 2, (CLUB.id,) * 2])


async def test_the_groups_real_admins_own_what_its_anonymous_admin_made(
    telegram: FakeTelegram, bot: Any, sessions: Any, alice: FakeUser, li: FakeUser
) -> None:
    bob = FakeUser(1003, "Bob", "bob", language_code="en")
    telegram.add_chat(FAMILY, alice, li, bob)
    telegram.set_member(FAMILY, alice, "administrator")
    line = await made_by_anonymous_admin(telegram, alice, FAMILY)
    assert line.message is not None
    said = telegram.send_text(bob, FAMILY, "/share", reply_to=line.message)
    refused = await telegram.wait_for("sendMessage", reply_to(said))
    assert refused.params["text"] == TEXTS["share_not_owner"]["en"]
    said = telegram.send_text(alice, FAMILY, "/share", reply_to=line.message)
    shared = await telegram.wait_for("sendMessage", reply_to(said))
    assert "https://t.me/" in shared.params["text"]

    # The anonymous admin's /forget button: a member's press does nothing, an admin's works.
    hello = telegram.send_text(alice, FAMILY, "hello", reply_to=line.message, sender_chat=FAMILY)
    await telegram.wait_for("sendMessage", reply_to(hello), timeout=60)
    forget = telegram.send_text(alice, FAMILY, "/forget", sender_chat=FAMILY)
    confirm = await telegram.wait_for("sendMessage", reply_to(forget))
    assert confirm.message is not None
    assert confirm.message.button_data[0] == f"forget:yes:{FAMILY.id}"
    telegram.press_button(bob, FAMILY, confirm.message, f"forget:yes:{FAMILY.id}")
    await telegram.wait_for("answerCallbackQuery")
    assert not telegram.calls_to("editMessageText")
    telegram.press_button(alice, FAMILY, confirm.message, f"forget:yes:{FAMILY.id}")
    done = await telegram.wait_for("editMessageText")
    assert done.params["text"] == TEXTS["forget_group_done"]["en"]
    async with sessions() as session:
        left = (await session.scalars(select(Message).filter_by(author_id=FAMILY.id))).all()
    assert left == []


async def test_an_anonymous_admins_language_is_the_groups_not_every_groups(
    telegram: FakeTelegram, bot: Any, sessions: Any, alice: FakeUser
) -> None:
    """/lang by an anonymous admin sets the language of the group it speaks for: not of
    GroupAnonymousBot, which every group's anonymous admins share (issue 19, item 17)."""
    bob = FakeUser(1003, "Bob", "bob", language_code="en")
    for group in (FAMILY, CLUB):
        telegram.add_chat(group, alice, bob)
        telegram.set_member(group, alice, "administrator")

    async def answer(chat: FakeChat, said: str, *, anonymous: bool = True) -> SentCall:
        message = telegram.send_text(alice, chat, said, sender_chat=chat if anonymous else None)
        return await telegram.wait_for("sendMessage", reply_to(message))

    assert (await answer(FAMILY, "/lang zh")).params["text"] == TEXTS["lang_set"]["zh"]
    assert (await answer(FAMILY, "/help")).params["text"] == TEXTS["help_group"]["zh"]
    assert (await answer(CLUB, "/help")).params["text"] == TEXTS["help_group"]["en"]
    assert (await answer(FAMILY, "/help", anonymous=False)).params["text"] == (
        TEXTS["help_group"]["en"]  # Alice herself chose nothing
    )
    # The buttons of an anonymous admin's /lang: a member's press does nothing, an admin's
    # chooses for the group.
    buttons = await answer(CLUB, "/lang")
    assert buttons.message is not None
    choice = buttons.message.button_data[0]
    telegram.press_button(bob, CLUB, buttons.message, choice)
    await telegram.wait_for("answerCallbackQuery")
    assert not telegram.calls_to("editMessageText")
    telegram.press_button(alice, CLUB, buttons.message, choice)
    done = await telegram.wait_for("editMessageText")
    assert done.params["text"] == TEXTS["lang_set"]["zh"]
    assert (await answer(CLUB, "/help")).params["text"] == TEXTS["help_group"]["zh"]
    assert (await answer(CLUB, "/help", anonymous=False)).params["text"] == (
        TEXTS["help_group"]["en"]
    )
    async with sessions() as session:
        users = dict((await session.execute(select(User.id, User.language))).tuples().all())
    assert users == {FAMILY.id: "zh", CLUB.id: "zh"}  # no row for GroupAnonymousBot
