"""Groups end to end: shared characters, reply routing, admin rules, share links, group life.

The fake server runs in privacy mode (as a bot added by a user, not made admin), so each test
also proves the bot works with what Telegram really delivers to it in a group.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bot_kit import BACKENDS, photo_bytes
from fake_telegram import FakeChat, FakeMessage, FakeTelegram, FakeUser
from sqlalchemy import select

from bot.handlers import sharing
from bot.texts import TEXTS
from storage import queries
from storage.models import Character, Message

# The whole conversation on both databases the bot supports.
pytestmark = pytest.mark.parametrize("backend", BACKENDS, indirect=True)

BOT = "photo_talk_test_bot"
FAMILY = FakeChat.supergroup(-1001234567890, "Family")
CLUB = FakeChat.supergroup(-1009876543210, "Book club")


@pytest.fixture
async def telegram(request: pytest.FixtureRequest) -> AsyncIterator[FakeTelegram]:
    """The fake Bot API with group privacy on (parametrize with False to switch it off)."""
    async with FakeTelegram(privacy_mode=getattr(request, "param", True)) as server:
        yield server


@pytest.fixture
def bob() -> FakeUser:
    return FakeUser(1003, "Bob", "bob", language_code="en")


def is_text(key: str, **values: Any) -> Any:
    """A wait_for predicate: a call whose text is TEXTS[key] in any language."""
    options = {t.format(**values) if values else t for t in TEXTS[key].values()}
    return lambda call: call.ok and call.params.get("text") in options


def is_reset_done(call: Any) -> bool:
    """A wait_for predicate: "The conversation with … is cleared." (English speakers here)."""
    return call.ok and call.params["text"].startswith(TEXTS["reset_done"]["en"].split("{")[0])


def answers(message: FakeMessage) -> Any:
    """A wait_for predicate: the bot's message replying to `message`, in its chat."""
    return lambda call: (
        call.ok
        and call.message is not None
        and call.message.chat_id == message.chat_id
        and call.message.reply_to_message_id == message.message_id
        and not str(call.params.get("text", "")).startswith(("👀", "💭", "🎨", "✅"))
    )


async def spoken(telegram: FakeTelegram, message: FakeMessage) -> FakeMessage:
    """The character's line answering `message` (a photo, a caption's words, a reply)."""
    call = await telegram.wait_for("sendMessage", answers(message), timeout=60)
    assert call.message is not None and call.params["text"].strip()
    return call.message


async def meet_in(telegram: FakeTelegram, user: FakeUser, chat: FakeChat, caption: str) -> Any:
    """`user` sends a photo captioned `caption` in `chat`; returns the character's first line."""
    photo = telegram.send_photo(user, chat, photo_bytes(), caption=caption)
    return await spoken(telegram, photo)


def record_calls(monkeypatch: Any, actor: Any, name: str) -> list[tuple[tuple[Any, ...], Any]]:
    """Wrap `actor.<name>` so every call's arguments are recorded, then run for real."""
    seen: list[tuple[tuple[Any, ...], Any]] = []
    real = getattr(actor, name)

    async def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append((args, kwargs))
        return await real(*args, **kwargs)

    monkeypatch.setattr(actor, name, recording)
    return seen


async def group_turns(sessions: Any, chat: FakeChat) -> list[Message]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Message).where(Message.chat_id == chat.id).order_by(Message.id)
        )
        return list(rows)


async def characters_in(sessions: Any, chat_id: int) -> list[Character]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Character).where(Character.chat_id == chat_id).order_by(Character.id)
        )
        return list(rows)


def sent_to(telegram: FakeTelegram, chat: FakeChat, method: str = "sendMessage") -> list[Any]:
    return [c for c in telegram.calls_to(method) if c.chat_id == chat.id]


async def test_a_group_character_hears_everyone_by_name(
    telegram: FakeTelegram,
    bot: Any,
    alice: FakeUser,
    li: FakeUser,
    bob: FakeUser,
    sessions: Any,
    tiny_actor: Any,
    monkeypatch: Any,
) -> None:
    replies = record_calls(monkeypatch, tiny_actor, "reply")
    first = await meet_in(telegram, alice, FAMILY, f"/talk@{BOT} Grandpa, is that you?")
    picture = await telegram.wait_for("sendPhoto", lambda c: c.chat_id == FAMILY.id, timeout=60)
    assert picture.message is not None and picture.message.reply_to_message_id == first.message_id
    # Replying to the talking picture is talking to the character, too.
    from_li = telegram.send_text(li, FAMILY, "爷爷好！", reply_to=picture.message)
    second = await spoken(telegram, from_li)
    from_bob = telegram.send_text(bob, FAMILY, "Tell us a story.", reply_to=second)
    await spoken(telegram, from_bob)

    stored = await group_turns(sessions, FAMILY)
    assert [(t.role, t.author_name, t.author_id) for t in stored] == [
        ("user", "Alice", alice.id),
        ("character", stored[1].author_name, None),
        ("user", "李雷", li.id),
        ("character", stored[1].author_name, None),
        ("user", "Bob", bob.id),
        ("character", stored[1].author_name, None),
    ]
    assert stored[0].text == "Grandpa, is that you?"  # the caption without the command
    # The model was told who said what, and who speaks now.
    assert [kwargs["speaker"] for _, kwargs in replies] == ["Alice", "李雷", "Bob"]
    assert all(kwargs["chat_key"] == FAMILY.id for _, kwargs in replies)
    history = replies[-1][0][1]
    assert [(t.speaker, t.text) for t in history] == [
        ("Alice", "Grandpa, is that you?"),
        (None, stored[1].text),
        ("李雷", "爷爷好！"),
        (None, stored[3].text),
    ]
    assert len(await characters_in(sessions, FAMILY.id)) == 1

    # /forget in a group removes only the asker's own turns there.
    telegram.send_text(li, FAMILY, "/forget")
    confirm = await telegram.wait_for("sendMessage", is_text("forget_group_confirm"))
    assert confirm.message is not None
    telegram.press_button(li, FAMILY, confirm.message, f"forget:yes:{li.id}")
    await telegram.wait_for("editMessageText", is_text("forget_group_done"))
    authors = [t.author_id for t in await group_turns(sessions, FAMILY)]
    assert li.id not in authors and alice.id in authors and bob.id in authors


async def test_several_characters_in_one_group_are_chosen_by_reply(
    telegram: FakeTelegram,
    bot: Any,
    alice: FakeUser,
    li: FakeUser,
    bob: FakeUser,
    sessions: Any,
) -> None:
    grandpa_line = await meet_in(telegram, alice, FAMILY, f"@{BOT}")
    # A photo nobody addressed to the bot; then /talk in reply to it.
    photo = telegram.send_photo(bob, FAMILY, photo_bytes((200, 170, 150)))
    talk = telegram.send_text(li, FAMILY, f"/talk@{BOT}", reply_to=photo)
    aunt_line = await spoken(telegram, talk)
    grandpa, aunt = await characters_in(sessions, FAMILY.id)
    assert (grandpa.owner_id, aunt.owner_id) == (alice.id, li.id)
    # Bob posted the aunt's photo: his /forget finds her (README, privacy).
    assert (grandpa.photo_author_id, aunt.photo_author_id) == (alice.id, bob.id)
    assert aunt.photo_file_id == photo.data["photo"][-1]["file_id"]

    to_grandpa = telegram.send_text(bob, FAMILY, "Grandpa, how are you?", reply_to=grandpa_line)
    await spoken(telegram, to_grandpa)
    to_aunt = telegram.send_text(bob, FAMILY, "Auntie, and you?", reply_to=aunt_line)
    await spoken(telegram, to_aunt)
    async with sessions() as session:
        grandpa_texts = [t.text for t in await queries.last_turns(session, grandpa.id, 10)]
        aunt_texts = [t.text for t in await queries.last_turns(session, aunt.id, 10)]
    assert "Grandpa, how are you?" in grandpa_texts and "Auntie, and you?" not in grandpa_texts
    assert "Auntie, and you?" in aunt_texts and "Grandpa, how are you?" not in aunt_texts

    # /characters lists this group's characters only.
    telegram.send_text(alice, None, "/characters")
    await telegram.wait_for("sendMessage", is_text("characters_empty"))
    telegram.send_text(alice, FAMILY, f"/characters@{BOT}")
    listing = await telegram.wait_for("sendMessage", is_text("characters_title"))
    assert listing.message is not None
    assert listing.message.button_data == [f"use:{aunt.id}", f"use:{grandpa.id}"]


@pytest.mark.parametrize(
    "telegram", [False, True], ids=["privacy-off", "privacy-on"], indirect=True
)
async def test_messages_not_addressed_to_the_bot_are_ignored(
    telegram: FakeTelegram,
    bot: Any,
    alice: FakeUser,
    li: FakeUser,
    sessions: Any,
    tiny_actor: Any,
    monkeypatch: Any,
) -> None:
    line = await meet_in(telegram, alice, FAMILY, f"/talk@{BOT}")
    await telegram.wait_for("sendPhoto", lambda c: c.chat_id == FAMILY.id, timeout=60)
    await telegram.wait_idle()
    before = len(sent_to(telegram, FAMILY))
    models = record_calls(monkeypatch, tiny_actor, "reply")
    models += record_calls(monkeypatch, tiny_actor, "describe")

    telegram.send_text(li, FAMILY, "Hello everyone, lunch at noon?")
    mine = telegram.send_text(alice, FAMILY, "Lovely photo")
    telegram.send_text(li, FAMILY, "Agreed!", reply_to=mine)
    telegram.send_photo(li, FAMILY, photo_bytes(), caption="Look at this one")
    telegram.send_photo(li, FAMILY, photo_bytes())
    telegram.send_photo(li, FAMILY, photo_bytes(), caption="/talk@another_bot")
    telegram.send_text(li, FAMILY, "@another_bot hi")
    telegram.send_text(li, FAMILY, "/help@another_bot")
    telegram.send_sticker(li, FAMILY)
    telegram.send_text(li, FAMILY, "/unknown_command")
    await telegram.wait_idle(quiet=0.3)

    assert len(sent_to(telegram, FAMILY)) == before
    assert sent_to(telegram, FAMILY, "sendPhoto")[1:] == []
    assert models == []
    assert len(await group_turns(sessions, FAMILY)) == 1
    # ... while a reply to the character is still answered.
    reply = telegram.send_text(li, FAMILY, "Who are you?", reply_to=line)
    await spoken(telegram, reply)


async def test_a_share_link_opens_the_same_character_for_someone_else(
    telegram: FakeTelegram,
    bot: Any,
    alice: FakeUser,
    li: FakeUser,
    bob: FakeUser,
    sessions: Any,
    tiny_actor: Any,
    monkeypatch: Any,
) -> None:
    await meet_in(telegram, alice, alice.private_chat(), "Hello!")
    telegram.send_text(alice, None, "/share")
    shared = await telegram.wait_for("sendMessage", lambda c: "?start=" in c.params["text"])
    code = re.search(r"https://t\.me/photo_talk_test_bot\?start=([\w-]+)", shared.params["text"])
    assert code is not None
    code_value = code.group(1)
    assert len(code_value) >= 16
    assert f"https://t.me/{BOT}?startgroup={code_value}" in shared.params["text"]
    [original] = await characters_in(sessions, alice.id)
    described = record_calls(monkeypatch, tiny_actor, "describe")

    # Li opens the link in private: the same persona and photo, a fresh conversation.
    telegram.send_text(li, None, f"/start {code_value}")
    await telegram.wait_for("sendMessage", is_text("share_opened", name=original.persona_name))
    await telegram.wait_for("sendMessage", lambda c: c.chat_id == li.id, timeout=60)
    [copy] = await characters_in(sessions, li.id)
    assert (copy.persona_name, copy.persona_traits, copy.persona_style) == (
        original.persona_name,
        original.persona_traits,
        original.persona_style,
    )
    assert copy.photo_file_id == original.photo_file_id
    assert (copy.owner_id, copy.source_character_id) == (li.id, original.id)
    async with sessions() as session:
        fresh = await queries.last_turns(session, copy.id, 10)
    assert [t.role for t in fresh] == ["character"]  # none of Alice's conversation
    await telegram.wait_for("sendPhoto", lambda c: c.chat_id == li.id, timeout=60)

    # The group link: Telegram adds the bot, then delivers /start@bot CODE in the group.
    telegram.my_chat_member(bob, CLUB, "left", "member")
    await telegram.wait_for("sendMessage", lambda c: c.chat_id == CLUB.id)  # the greeting
    telegram.send_text(bob, CLUB, f"/start@{BOT} {code_value}")
    await telegram.wait_for("sendMessage", is_text("share_opened", name=original.persona_name))
    [in_club] = await characters_in(sessions, CLUB.id)
    assert (in_club.persona_name, in_club.owner_id) == (original.persona_name, bob.id)
    first_words = await telegram.wait_for("sendMessage", lambda c: c.chat_id == CLUB.id, timeout=60)
    club_line = first_words.message
    assert club_line is not None
    # Anyone in the club can talk to it, and its creator can share it from the group.
    question = telegram.send_text(li, CLUB, "Where are you from?", reply_to=club_line)
    await spoken(telegram, question)
    telegram.send_text(bob, CLUB, f"/share@{BOT}", reply_to=club_line)
    club_share = await telegram.wait_for(
        "sendMessage", lambda c: "?startgroup=" in c.params["text"]
    )
    assert club_share.chat_id == CLUB.id
    assert described == []  # no caption model call for any copy

    # A new code never collides: a taken one is replaced by another.
    codes = iter([code_value, "a-fresh-unguessable-code"])
    monkeypatch.setattr(sharing, "new_share_code", lambda: next(codes))
    telegram.send_text(li, None, "/share")
    li_share = await telegram.wait_for("sendMessage", lambda c: "?start=" in c.params["text"])
    assert "?start=a-fresh-unguessable-code" in li_share.params["text"]

    # /share off: the link no longer opens anything.
    telegram.send_text(alice, None, "/share off")
    await telegram.wait_for("sendMessage", is_text("share_off", name=original.persona_name))
    telegram.send_text(bob, None, f"/start {code_value}")
    invalid = await telegram.wait_for("sendMessage", is_text("share_invalid"))
    assert invalid.chat_id == bob.id
    assert await characters_in(sessions, bob.id) == []


async def test_reset_in_a_group_is_for_the_creator_and_admins(
    telegram: FakeTelegram,
    bot: Any,
    alice: FakeUser,
    li: FakeUser,
    bob: FakeUser,
    sessions: Any,
) -> None:
    telegram.set_member(FAMILY, bob, "administrator")
    line = await meet_in(telegram, alice, FAMILY, f"/talk@{BOT} hi all")
    telegram.send_text(li, FAMILY, f"/reset@{BOT}", reply_to=line)
    await telegram.wait_for("sendMessage", is_text("reset_not_allowed"))
    assert len(await group_turns(sessions, FAMILY)) == 2
    assert any(c.params["user_id"] == li.id for c in telegram.calls_to("getChatMember"))

    telegram.send_text(bob, FAMILY, f"/reset@{BOT}")
    await telegram.wait_for("sendMessage", is_reset_done)
    assert await group_turns(sessions, FAMILY) == []

    question = telegram.send_text(li, FAMILY, "Hello again", reply_to=line)
    await spoken(telegram, question)
    telegram.send_text(alice, FAMILY, f"/reset@{BOT}")
    await telegram.wait_for("sendMessage", is_reset_done)
    assert await group_turns(sessions, FAMILY) == []
    assert len(await characters_in(sessions, FAMILY.id)) == 1


async def test_history_follows_a_group_that_becomes_a_supergroup(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, li: FakeUser, sessions: Any
) -> None:
    old = FakeChat.group(-4012345, "Cousins")
    await meet_in(telegram, alice, old, f"/talk@{BOT} Hi cousins")
    await telegram.wait_for("sendPhoto", lambda c: c.chat_id == old.id, timeout=60)
    new = telegram.migrate_chat(old, -1004012345)
    await telegram.wait_idle(quiet=0.3)

    assert await group_turns(sessions, old) == []
    assert await characters_in(sessions, old.id) == []
    [character] = await characters_in(sessions, new.id)
    assert [t.role for t in await group_turns(sessions, new)] == ["user", "character"]
    # The group's character still answers there, with its history.
    hello = telegram.send_text(li, new, f"@{BOT} do you remember us?")
    await spoken(telegram, hello)
    async with sessions() as session:
        turns = await queries.last_turns(session, character.id, 10)
    assert [t.author_name for t in turns if t.role == "user"] == ["Alice", "李雷"]
    telegram.send_text(li, new, f"/image@{BOT}")
    await telegram.wait_for("sendPhoto", lambda c: c.chat_id == new.id, timeout=60)


async def test_being_removed_from_a_group_is_taken_quietly(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, li: FakeUser
) -> None:
    telegram.my_chat_member(alice, CLUB, "left", "member")
    greeting = await telegram.wait_for("sendMessage", lambda c: c.chat_id == CLUB.id)
    assert greeting.params["text"] == TEXTS["group_welcome"]["en"]
    telegram.my_chat_member(alice, CLUB, "member", "left")
    telegram.my_chat_member(li, li.private_chat(), "member", "kicked")  # li blocks the bot
    await telegram.wait_idle(quiet=0.3)
    assert len(sent_to(telegram, CLUB)) == 1
    assert [c for c in telegram.calls if not c.ok] == []

    telegram.send_text(alice, None, "/start")
    await telegram.wait_for("sendMessage", is_text("welcome"))


async def test_anonymous_admins_and_channels_can_talk_to_a_character(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    channel = FakeChat(-1005550001, "channel", title="Family News")
    line = await meet_in(telegram, alice, FAMILY, f"/talk@{BOT}")
    # The sender is GroupAnonymousBot, posting as the group itself.
    as_group = telegram.send_text(alice, FAMILY, "Admins say hi", reply_to=line, sender_chat=FAMILY)
    await spoken(telegram, as_group)
    as_channel = telegram.send_text(
        alice, FAMILY, "The channel too", reply_to=line, sender_chat=channel
    )
    await spoken(telegram, as_channel)
    stored = await group_turns(sessions, FAMILY)
    assert [(t.author_name, t.text) for t in stored if t.role == "user"] == [
        ("Family", "Admins say hi"),
        ("Family News", "The channel too"),
    ]
    # An anonymous admin is an admin: /reset is allowed.
    telegram.send_text(alice, FAMILY, f"/reset@{BOT}", reply_to=line, sender_chat=FAMILY)
    await telegram.wait_for("sendMessage", is_reset_done)
    assert await group_turns(sessions, FAMILY) == []


async def test_a_channel_gets_no_greeting_and_its_posts_no_answers(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, sessions: Any
) -> None:
    channel = FakeChat(-1005550002, "channel", title="Photo of the day")
    telegram.my_chat_member(alice, channel, "left", "member")  # the fake builds no admin JSON
    for body in ({"text": "Good morning"}, {"text": f"/talk@{BOT}"}, {"caption": "/talk"}):
        if "caption" in body:
            body = {**body, "photo": telegram.world.store_photo(photo_bytes(), strict=False)[0]}
        post = telegram.world.add_message(
            channel, {"sender_chat": channel.to_json(), **body}, sender=alice
        )
        post.data.pop("from")  # channel posts have no sender user
        telegram.world.enqueue("channel_post", dict(post.data))
    await telegram.wait_idle(quiet=0.3)
    assert sent_to(telegram, channel) == [] and sent_to(telegram, channel, "sendPhoto") == []
    assert await characters_in(sessions, channel.id) == []
    assert [c for c in telegram.calls if not c.ok] == []


async def test_a_group_gets_no_progress_notes_but_hears_about_failures(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    telegram.add_chat(FAMILY, alice)
    photo = telegram.send_photo(alice, FAMILY, photo_bytes(), caption="/talk")
    await telegram.wait_for("sendPhoto", lambda c: c.chat_id == FAMILY.id, timeout=60)
    notes = [
        c
        for c in sent_to(telegram, FAMILY) + sent_to(telegram, FAMILY, "editMessageText")
        if str(c.params.get("text", "")).startswith(("👀", "💭", "🎨", "✅"))
    ]
    assert notes == []  # progress shows as "typing…" / "sending photo…" only
    assert sent_to(telegram, FAMILY, "sendChatAction")
    assert [c.message.reply_to_message_id for c in sent_to(telegram, FAMILY)] == [photo.message_id]

    broken = telegram.send_document(
        alice, FAMILY, b"not a picture", "x.png", "image/png", caption="/talk"
    )
    failure = await telegram.wait_for("sendMessage", is_text("not_an_image"), timeout=60)
    assert failure.message is not None and failure.message.reply_to_message_id == broken.message_id
