"""The fake Bot API server, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
from collections.abc import AsyncIterator

import httpx
import pytest
from fake_telegram import FakeChat, FakeTelegram, FakeUser
from fake_telegram.methods import HANDLERS
from fake_telegram.spec import SHARED_SPEC, VENDORED_SPEC, load_methods
from PIL import Image
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes

ALICE = FakeUser(1001, "Alice", "alice")
BOB = FakeUser(1002, "Bob", language_code="zh-hans")
GROUP = FakeChat.supergroup(-1001234567890, "Photo club")


def image_bytes(width: int = 1000, height: int = 700) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as client:
        yield client


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(d, callback_data=d) for d in data]])


async def test_get_me_answers_the_configured_bot(bot: Bot, tg: FakeTelegram) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (tg.bot.id, "photo_talk_test_bot", True)
    assert tg.base_url.startswith("http://127.0.0.1:")


async def test_polling_delivers_updates_until_confirmed(bot: Bot, tg: FakeTelegram) -> None:
    sent = tg.send_text(ALICE, None, "/start hello")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["/start hello"]
    message = updates[0].message
    assert message is not None and message.message_id == sent.message_id
    assert message.chat.type == "private" and message.from_user is not None
    assert (message.from_user.id, message.from_user.language_code) == (ALICE.id, "en")
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6
    assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet: delivered again
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
    assert tg.pending_updates == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(bot: Bot, tg: FakeTelegram) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    loop.call_later(0.2, tg.send_text, BOB, GROUP, "hi all")
    updates = await bot.get_updates(timeout=5)
    assert [u.message.text for u in updates if u.message] == ["hi all"]
    assert loop.time() - started < 2


async def test_allowed_updates_filter_and_limit(bot: Bot, tg: FakeTelegram) -> None:
    for text in ("one", "two", "three"):
        tg.send_text(ALICE, None, text)
    tg.edit_text(tg.messages(ALICE.id)[0], "one!")
    updates = await bot.get_updates(timeout=0, limit=2, allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["one", "two"]
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in updates if u.message] == ["three"]  # edit never delivered


async def test_send_message_is_recorded_with_reply_and_keyboard(bot: Bot, tg: FakeTelegram) -> None:
    incoming = tg.send_text(ALICE, None, "hello")
    reply = await bot.send_message(
        ALICE.id,
        "<b>Hi</b> Alice",
        parse_mode="HTML",
        reply_parameters=ReplyParameters(incoming.message_id),
        reply_markup=keyboard("more"),
    )
    assert reply.text == "Hi Alice" and reply.entities[0].type == "bold"
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == incoming.message_id
    call = await tg.wait_for("sendMessage", lambda c: c.chat_id == ALICE.id)
    assert call.message is not None and call.message.button_data == ["more"]
    assert [m.message_id for m in tg.messages(ALICE.id)] == [1, 2]
    assert tg.bot_messages(ALICE.id)[0].reply_to_message_id == incoming.message_id


async def test_edits_and_deletions_apply_to_the_chat(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    first = await bot.send_message(ALICE.id, "thinking…", reply_markup=keyboard("stop"))
    second = await bot.send_message(ALICE.id, "bye")
    await bot.edit_message_text("Done.", ALICE.id, first.message_id)
    await bot.delete_message(ALICE.id, second.message_id)
    [message] = tg.bot_messages(ALICE.id)
    assert (message.text, message.reply_markup) == ("Done.", None)  # edit drops the keyboard
    assert [e["text"] for e in message.edits] == ["thinking…"]


async def test_photo_upload_keeps_the_bytes(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(GROUP, ALICE)
    data = image_bytes(1000, 700)
    sent = await bot.send_photo(GROUP.id, data, caption="you, talking")
    assert sent.caption == "you, talking"
    assert (sent.photo[-1].width, sent.photo[-1].height) == (1000, 700)
    call = await tg.wait_for("sendPhoto")
    assert call.message is not None and call.message.file_bytes == data
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(GROUP.id, b"not an image")


async def test_user_photo_downloads_through_get_file(bot: Bot, tg: FakeTelegram) -> None:
    data = image_bytes(2000, 1500)
    message = tg.send_photo(ALICE, None, data, caption="who am I?")
    [update] = await bot.get_updates(timeout=0)
    assert update.message is not None
    sizes = update.message.photo
    assert [s.width for s in sizes] == [90, 320, 800, 2000] and message.file_bytes == data
    largest = await (await bot.get_file(sizes[-1].file_id)).download_as_bytearray()
    smallest = await (await bot.get_file(sizes[0].file_id)).download_as_bytearray()
    assert bytes(largest) == data
    assert Image.open(io.BytesIO(bytes(smallest))).size == (90, 68)


async def test_get_file_rejects_unknown_and_too_big_files(bot: Bot, tg: FakeTelegram) -> None:
    huge = tg.register_file(b"tiny", file_size=21 * 1024 * 1024)
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(huge.file_id)
    with pytest.raises(BadRequest, match="Invalid file_id"):
        await bot.get_file("AgACAgIAAxkBAAnope")


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("<b>bold", "HTML", 'find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", "HTML", 'Unsupported start tag "blink" at byte offset 0'),
        ("<b>x</i>", "HTML", 'expected "</b>", found "</i>"'),
        ("Hello.", "MarkdownV2", "Character '.' is reserved"),
        ("*bold", "MarkdownV2", "find end of Bold entity at byte offset 0"),
        ("x" * 4097, None, "Bad Request: message is too long"),
        ("<b>" + "x" * 4096 + "</b>", "HTML", None),  # tags don't count
        ("   ", None, "Bad Request: message text is empty"),
    ],
)
async def test_send_message_fails_like_telegram(
    bot: Bot, tg: FakeTelegram, text: str, parse_mode: str | None, error: str | None
) -> None:
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    if error is None:
        sent = await bot.send_message(ALICE.id, text, parse_mode=parse_mode)
        assert sent.text == "x" * 4096
        return
    with pytest.raises(BadRequest):
        await bot.send_message(ALICE.id, text, parse_mode=parse_mode)
    assert error in (tg.calls[-1].error or "")  # Telegram's exact wording
    assert tg.bot_messages(ALICE.id) == []


async def test_message_errors_on_edit_reply_and_caption(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    sent = await bot.send_message(ALICE.id, "same", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message is not modified: specified new message"):
        await bot.edit_message_text("same", ALICE.id, sent.message_id, reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("new", ALICE.id, 999)
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(ALICE.id, "re", reply_parameters=ReplyParameters(999))
    lenient = ReplyParameters(999, allow_sending_without_reply=True)
    assert (await bot.send_message(ALICE.id, "re", reply_parameters=lenient)).text == "re"
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_photo(ALICE.id, image_bytes(), caption="c" * 1025)


async def test_injected_errors_surface_as_ptb_exceptions(
    bot: Bot, tg: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(ALICE.id, "x")
    assert flood.value.retry_after == dtm.timedelta(seconds=3)
    tg.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(ALICE.id, "x")
    tg.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(ALICE.id, "x")
    tg.delay_next("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(ALICE.id, "slow", read_timeout=0.2)
    tg.set_offline(True)
    with pytest.raises(NetworkError, match="disconnected"):
        await bot.send_message(ALICE.id, "x")
    tg.set_offline(False)
    assert (await bot.send_message(ALICE.id, "back")).text == "back"
    # A timed-out send was still carried out, as on Telegram.
    assert [m.text for m in tg.bot_messages(ALICE.id)] == ["slow", "back"]
    assert [c.error is None for c in tg.calls if c.method == "sendMessage"] == [
        False, False, False, True, True,
    ]  # fmt: skip


async def test_wrong_token_and_unknown_method(bot: Bot, tg: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("123:wrong", base_url=tg.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": 1})


async def test_parameters_are_validated_against_the_spec(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    with pytest.raises(BadRequest, match="Action is empty"):
        await bot.send_chat_action(ALICE.id, "")
    with pytest.raises(BadRequest, match="Message_id must be a valid integer"):
        await bot.delete_message(ALICE.id, "first")  # type: ignore[arg-type]
    url = f"{tg.base_url}{tg.token}/sendMessage"
    async with httpx.AsyncClient() as client:
        answer = await client.post(url, json={"chat_id": ALICE.id, "text": "json", "foo": 1})
        missing = await client.post(url, data={"chat_id": str(ALICE.id)})
    assert answer.json()["result"]["text"] == "json"  # JSON body, unknown field tolerated
    assert missing.status_code == 400
    assert missing.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }


async def test_callback_query_round_trip(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    sent = await bot.send_message(ALICE.id, "pick", reply_markup=keyboard("yes", "no"))
    [message] = tg.bot_messages(ALICE.id)
    query_id = tg.press_button(ALICE, None, message, "yes")
    [update] = await bot.get_updates(timeout=0)
    assert update.callback_query is not None and update.callback_query.data == "yes"
    assert update.callback_query.message.message_id == sent.message_id  # type: ignore[union-attr]
    assert await bot.answer_callback_query(query_id, text="ok")
    assert tg.callback_answer(query_id) == {"callback_query_id": query_id, "text": "ok"}
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)


async def test_commands_are_kept_per_scope_and_language(bot: Bot, tg: FakeTelegram) -> None:
    await bot.set_my_commands([("start", "Start"), ("talk", "Talk")])
    await bot.set_my_commands([("start", "开始")], language_code="zh")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "talk"]
    assert tg.commands(language_code="zh") == [{"command": "start", "description": "开始"}]
    await bot.delete_my_commands(language_code="zh")
    assert await bot.get_my_commands(language_code="zh") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([("Bad Command", "x")])


async def test_group_membership_migration_and_sender_chat(bot: Bot, tg: FakeTelegram) -> None:
    group = FakeChat.group(-4001, "Family")
    tg.my_chat_member(ALICE, group, "left", "member")
    tg.set_member(group, BOB, "administrator")
    assert (await bot.get_chat_member(group.id, BOB.id)).status == "administrator"
    assert (await bot.get_chat_member(group.id, ALICE.id)).status == "member"
    assert (await bot.get_chat(group.id)).title == "Family"
    tg.send_text(ALICE, group, "anonymous", sender_chat=group)
    supergroup = tg.migrate_chat(group, -1009876543210, by=ALICE)
    updates = await bot.get_updates(timeout=0)
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "member"
    assert updates[1].message.new_chat_members[0].id == tg.bot.id  # type: ignore[union-attr]
    anonymous = updates[2].message
    assert anonymous is not None and anonymous.sender_chat is not None
    assert anonymous.from_user is not None and anonymous.from_user.username == "GroupAnonymousBot"
    assert updates[3].message.migrate_to_chat_id == supergroup.id  # type: ignore[union-attr]
    assert updates[4].message.migrate_from_chat_id == group.id  # type: ignore[union-attr]
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(group.id, "hello?")
    assert migrated.value.new_chat_id == supergroup.id
    assert await bot.leave_chat(supergroup.id)
    with pytest.raises(Forbidden, match="not a member of the supergroup chat"):
        await bot.send_message(supergroup.id, "still here?")


async def test_privacy_mode_hides_group_chatter() -> None:
    async with (
        FakeTelegram(privacy_mode=True) as private_tg,
        Bot(private_tg.token, base_url=private_tg.base_url) as private_bot,
    ):
        assert not (await private_bot.get_me()).can_read_all_group_messages
        private_tg.send_text(ALICE, GROUP, "just chatting")
        private_tg.send_text(ALICE, GROUP, "/talk")
        private_tg.send_text(ALICE, GROUP, "hey @photo_talk_test_bot")
        bot_line = await private_bot.send_message(GROUP.id, "I am here")
        [own] = [m for m in private_tg.messages(GROUP) if m.message_id == bot_line.message_id]
        private_tg.send_text(BOB, GROUP, "answer", reply_to=own)
        updates = await private_bot.get_updates(timeout=0)
        assert [u.message.text for u in updates if u.message] == [
            "/talk", "hey @photo_talk_test_bot", "answer",
        ]  # fmt: skip
        assert len(private_tg.messages(GROUP)) == 5  # the chatter exists, unseen by the bot


async def test_message_drafts_go_to_private_chats_only(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    tg.add_chat(GROUP, ALICE)
    assert await bot.send_message_draft(ALICE.id, 7, "Hel") is True
    assert await bot.send_message_draft(ALICE.id, 7, "Hello <b>there</b>", parse_mode="HTML")
    assert tg.drafts(ALICE.id) == [(7, "Hel"), (7, "Hello there")]
    assert tg.bot_messages(ALICE.id) == []  # a draft is no message
    with pytest.raises(BadRequest, match="private chats"):
        await bot.send_message_draft(GROUP.id, 7, "Hello")
    with pytest.raises(BadRequest, match="non-zero"):
        await bot.send_message_draft(ALICE.id, 0, "Hello")
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message_draft(ALICE.id, 7, "x" * 4097)
    assert tg.drafts(GROUP.id) == [] and len(tg.drafts(ALICE.id)) == 2


async def test_blocked_bot_is_forbidden(bot: Bot, tg: FakeTelegram) -> None:
    tg.my_chat_member(BOB, FakeChat.private(BOB), "member", "kicked")
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_chat_action(BOB.id, "typing")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeats the command's arguments."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(" ".join(context.args or []) or "nothing")


async def test_application_polls_and_answers(tg: FakeTelegram) -> None:
    application = (
        Application.builder()
        .token(tg.token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("echo", echo))
    tasks_before = asyncio.all_tasks()
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=2))
    asked = tg.send_text(ALICE, GROUP, "/echo hello there")
    call = await tg.wait_for("sendMessage")
    await tg.wait_idle()
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    assert call.text == "hello there" and call.chat_id == GROUP.id
    assert call.message is not None and call.message.reply_to_message_id == asked.message_id
    assert [c.method for c in tg.calls] == ["getMe", "deleteWebhook", "sendMessage"]
    # Only the server's idle keep-alive connections may outlive the application.
    left = [t for t in asyncio.all_tasks() - tasks_before if "RequestHandler" not in repr(t)]
    assert left == []


async def test_media_updates_parse_in_ptb(bot: Bot, tg: FakeTelegram) -> None:
    tg.send_document(ALICE, None, b"%PDF-1.4", "cv.pdf", "application/pdf", caption="my cv")
    tg.send_sticker(ALICE, None, emoji="🐱")
    tg.send_voice(ALICE, None, b"OggS-voice", duration=4)
    tg.send_video(ALICE, None, b"mp4-bytes", caption="clip")
    messages = [u.message for u in await bot.get_updates(timeout=0) if u.message]
    document, sticker, voice, video = messages
    assert document.document is not None and document.document.file_name == "cv.pdf"
    assert sticker.sticker is not None and sticker.sticker.emoji == "🐱"
    assert voice.voice is not None and voice.voice.mime_type == "audio/ogg"
    assert video.video is not None and video.caption == "clip"
    downloaded = await (await bot.get_file(voice.voice.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"OggS-voice"


async def test_other_bot_methods_are_recorded(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(GROUP, ALICE)
    await bot.send_chat_action(GROUP.id, "upload_photo")
    doc = await bot.send_document(GROUP.id, b"hello", filename="talk.txt")
    await bot.set_message_reaction(GROUP.id, doc.message_id, "👍")
    marked = await bot.edit_message_reply_markup(
        GROUP.id, doc.message_id, reply_markup=keyboard("again")
    )
    assert isinstance(marked, type(doc)) and marked.reply_markup == keyboard("again")
    [message] = await tg.wait_for_messages(GROUP, 1)
    assert message.file_bytes == b"hello" and message.data["document"]["file_name"] == "talk.txt"
    assert message.reactions == [{"type": "emoji", "emoji": "👍"}]
    assert message.button_data == ["again"]
    assert tg.chat_actions == [(GROUP.id, "upload_photo")]
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(GROUP.id, "dancing")


async def test_wait_for_returns_each_call_once(bot: Bot, tg: FakeTelegram) -> None:
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    await bot.send_message(ALICE.id, "first")
    await bot.send_message(ALICE.id, "second")
    assert (await tg.wait_for("sendMessage")).text == "first"
    assert (await tg.wait_for("sendMessage")).text == "second"
    with pytest.raises(AssertionError, match="waiting for a sendMessage call"):
        await tg.wait_for("sendMessage", timeout=0.05)


@pytest.mark.parametrize(
    ("text", "parse_mode", "plain", "types"),
    [
        (
            "Hi *you*\\. [site](https://example.com)",
            "MarkdownV2",
            "Hi you. site",
            ["bold", "text_link"],
        ),
        ("a &lt; b &amp;&amp; <i>c</i>", "HTML", "a < b && c", ["italic"]),
        ("||secret|| __under__", "MarkdownV2", "secret under", ["spoiler", "underline"]),
        ("*old* style", "Markdown", "old style", ["bold"]),
    ],
)
async def test_parse_modes_produce_plain_text_and_entities(
    bot: Bot, tg: FakeTelegram, text: str, parse_mode: str, plain: str, types: list[str]
) -> None:
    tg.add_chat(FakeChat.private(ALICE), ALICE)
    sent = await bot.send_message(ALICE.id, text, parse_mode=parse_mode)
    assert sent.text == plain
    assert [e.type for e in sent.entities] == types


def test_vendored_spec_covers_every_implemented_method() -> None:
    vendored = load_methods(VENDORED_SPEC)
    assert {m.name for m in vendored.values()} == set(HANDLERS)
    if SHARED_SPEC.is_file():  # the vendored copy is current with the shared spec
        shared = load_methods(SHARED_SPEC)
        assert all(shared[key] == spec for key, spec in vendored.items())
