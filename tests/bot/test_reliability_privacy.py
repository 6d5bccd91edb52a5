"""Privacy and safety: /forget, retention, no token or message text in logs, withheld pictures."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from bot_kit import BACKENDS, bot_settings, free_port
from fake_telegram import FakeTelegram, FakeUser
from reliability_kit import (
    answer_to,
    bot_running,
    exchange,
    replies_to,
    seed_character,
    shown_after,
    text_is,
)
from sample_photos import jpeg
from sqlalchemy import select, update
from tiny_checkpoints import TinyModels

from bot.app import _prune_history
from bot.ops.logs import configure_logging
from bot.texts import TEXTS
from inference.actor import Actor
from storage import queries
from storage.models import (
    ActiveCharacter,
    Character,
    ChatSettings,
    Message,
    SentMessage,
    User,
)


def every_cell(database: Path) -> list[tuple[str, object]]:
    """(table, value) for every cell of every table in the SQLite file."""
    with sqlite3.connect(database) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [
            (table, value)
            for table in tables
            for row in db.execute(f'SELECT * FROM "{table}"')
            for value in row
        ]


async def test_forget_leaves_nothing_of_the_user_in_any_table(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, li: FakeUser, sessions: Any, database: Path
) -> None:
    secrets = ["my secret is 7D9F-QUOKKA", "and my cat is called Zebulon"]
    shared = await seed_character(sessions, alice, file_id="AgAC-alice-photo", name="Aurora")
    await seed_character(sessions, li, file_id="AgAC-li-photo", name="小雨")
    for said in secrets:
        await answer_to(telegram, telegram.send_text(alice, None, said))
    await answer_to(telegram, telegram.send_text(li, None, "你好，我是李雷"))
    # Li opens Alice's /share link: a copy made from Alice's photo, Li's own conversation.
    async with sessions() as session, session.begin():
        await queries.set_share_code(session, shared.id, "alice-code")
    telegram.send_text(li, None, "/start alice-code")
    await telegram.wait_for(
        "sendMessage", lambda c: c.chat_id == li.id and "Aurora" in (c.text or "")
    )
    await answer_to(telegram, telegram.send_text(li, None, "Aurora, where are you from?"))
    assert any(value == alice.id for _, value in every_cell(database))

    confirm = await exchange(telegram, alice, "/forget")
    assert confirm.params["text"] == TEXTS["forget_confirm"]["en"]
    assert "/share" in confirm.params["text"]  # said before the button is pressed
    assert confirm.message is not None
    telegram.press_button(alice, None, confirm.message, confirm.message.button_data[0])
    await telegram.wait_for("editMessageText", text_is("forget_done", "en", alice.id))

    cells = every_cell(database)
    for table, value in cells:
        assert value != alice.id and value != str(alice.id), table
        if isinstance(value, str):
            assert "Alice" not in value and "AgAC-alice-photo" not in value, table
            assert "Aurora" not in value, table  # the persona made from her photo, copies too
            assert not any(secret in value for secret in secrets), table
    said_by_li = [value for _, value in cells]
    assert "你好，我是李雷" in said_by_li  # li keeps his own character's conversation
    assert "Aurora, where are you from?" not in said_by_li  # it went with Alice's photo


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
async def test_retention_removes_old_turns_and_whatever_they_leave_behind(
    telegram: FakeTelegram, bot: Any, alice: FakeUser, li: FakeUser, sessions: Any
) -> None:
    """HISTORY_RETENTION_DAYS: turns older than that go, and so do the characters (with their
    photo's file id, share code and active-character rows) and the users they leave without
    a single turn (README, Limits and privacy)."""
    bob = FakeUser(1003, "Bob", "bob", language_code="en")
    long_ago = datetime.now(UTC) - timedelta(days=40)
    anna = await seed_character(sessions, alice, file_id="AgAC-anna", name="Anna")
    bea = await seed_character(sessions, bob, file_id="AgAC-bea", name="Bea")
    fresh = await seed_character(sessions, li, file_id="AgAC-fresh", name="小雨")  # no turns yet
    async with sessions() as session, session.begin():
        await queries.set_share_code(session, anna.id, "anna-code")
        await queries.set_chat_voice(session, alice.id, True)
        copy = await queries.create_character(
            session,
            chat_id=bob.id,
            owner_id=bob.id,
            photo_file_id="AgAC-anna",
            description="a copy",
            persona_name="Anna",
            persona_traits="warm",
            persona_style="short",
            language="en",
            source_character_id=anna.id,
        )
        turns = {}
        for character, author, said in (
            (anna, alice.id, "an old secret"),
            (anna, None, "an old answer"),
            (bea, bob.id, "old words to Bea"),
            (bea, bob.id, "new words to Bea"),
            (copy, bob.id, "new words to the copy"),
        ):
            turns[said] = await queries.add_message(
                session,
                character_id=character.id,
                chat_id=character.chat_id,
                author_id=author,
                author_name="someone",
                role="user" if author else "character",
                text=said,
            )
        await queries.add_sent_messages(session, turns["an old answer"].id, "voice", [41])
        old = [turns[s].id for s in ("an old secret", "an old answer", "old words to Bea")]
        await session.execute(
            update(Message).where(Message.id.in_(old)).values(created_at=long_ago)
        )
        made_long_ago = [anna.id, bea.id, copy.id]
        await session.execute(
            update(Character).where(Character.id.in_(made_long_ago)).values(created_at=long_ago)
        )
        await session.execute(
            update(User).where(User.id.in_([alice.id, bob.id])).values(created_at=long_ago)
        )
    services = SimpleNamespace(
        settings=SimpleNamespace(history_retention_days=30), sessions=sessions
    )
    await _prune_history(SimpleNamespace(bot_data={"services": services}))  # type: ignore[arg-type]

    async with sessions() as session:
        texts = (await session.scalars(select(Message.text).order_by(Message.id))).all()
        characters = (await session.scalars(select(Character).order_by(Character.id))).all()
        users = (await session.scalars(select(User.id).order_by(User.id))).all()
        active = (await session.execute(select(ActiveCharacter.character_id))).scalars().all()
        sent = (await session.scalars(select(SentMessage.telegram_message_id))).all()
        settings = (await session.scalars(select(ChatSettings.chat_id))).all()
        assert await queries.character_by_share_code(session, "anna-code") is None
    assert texts == ["new words to Bea", "new words to the copy"]
    assert [c.id for c in characters] == [bea.id, fresh.id, copy.id]
    assert "AgAC-anna" not in {c.photo_file_id for c in characters if c.id != copy.id}
    assert characters[-1].source_character_id is None  # its source is gone
    assert users == sorted([bob.id, li.id])
    assert sorted(active) == sorted([bea.id, fresh.id])
    assert sent == [] and settings == []


@pytest.mark.parametrize("days", [0, 7])
async def test_retention_job_is_scheduled_daily_only_when_set(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    days: int,
) -> None:
    settings = bot_settings(telegram, database, tiny_models, history_retention_days=days)
    async with bot_running(settings, tiny_actor) as app:
        jobs = [j for j in app.job_queue.jobs() if j.callback is _prune_history]
    if days == 0:
        assert jobs == []
    else:
        [job] = jobs
        assert job.trigger.interval == timedelta(days=1)


@pytest.fixture
def log_output() -> Iterator[Any]:
    """Everything logged, as text, through the bot's own logging set-up (call `setup`)."""
    root = logging.getLogger()
    names = ["", "httpx", "httpcore", "apscheduler", "telegram.Bot", "telegram.ext.ExtBot"]
    names += ["telegram.ext.Application", "aiosqlite", "sqlalchemy.engine"]
    levels = {name: logging.getLogger(name).level for name in names}
    handlers = list(root.handlers)
    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def setup(secrets: list[str], *, message_text: bool = False) -> io.StringIO:
        root.addHandler(capture)
        configure_logging("DEBUG", secrets, message_text=message_text)
        root.setLevel(logging.DEBUG)
        return stream

    yield setup
    root.removeHandler(capture)
    for handler in handlers:
        for found in [f for f in handler.filters if type(f).__name__ == "RedactSecrets"]:
            handler.removeFilter(found)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


async def test_the_token_never_reaches_the_logs(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    alice: FakeUser,
    log_output: Any,
) -> None:
    token = telegram.token
    # Loud on purpose: PTB's and httpx's request logs carry the token in every URL, and file
    # downloads carry it percent-encoded.
    stream = log_output([token], message_text=True)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    settings = bot_settings(telegram, database, tiny_models)
    async with bot_running(settings, tiny_actor):
        since = len(telegram.calls)
        telegram.send_photo(alice, None, b"\xff\xd8\xff not really a jpeg")
        await shown_after(telegram, since, text_is("not_an_image", "en", alice.id))
        try:
            raise RuntimeError(f"request to {telegram.base_url}{token}/getMe failed")
        except RuntimeError:
            logging.getLogger("telegram.ext.Updater").exception("a failure with a traceback")
    output = stream.getvalue()
    assert "HTTP Request" in output and "/file/bot" in output and "Traceback" in output
    assert "[REDACTED]" in output
    secret_part = token.split(":", 1)[1]
    assert secret_part not in output


async def test_message_text_is_logged_only_when_asked(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    tiny_actor: Actor,
    sessions: Any,
    alice: FakeUser,
    log_output: Any,
) -> None:
    stream = log_output([telegram.token])
    async with bot_running(bot_settings(telegram, database, tiny_models), tiny_actor):
        await seed_character(sessions, alice)
        said = "my distinctive words: periwinkle-saxophone-42"
        answer = await answer_to(telegram, telegram.send_text(alice, None, said))
    quiet = stream.getvalue()
    assert "DEBUG" in quiet  # plenty was logged, only not what people wrote
    assert "periwinkle-saxophone" not in quiet
    assert answer.params["text"] not in quiet

    settings = bot_settings(telegram, database, tiny_models, log_message_text=True)
    stream.seek(0)
    stream.truncate()
    async with bot_running(settings, tiny_actor):
        await answer_to(telegram, telegram.send_text(alice, None, "again: periwinkle-saxophone"))
    assert "periwinkle-saxophone" in stream.getvalue()


async def test_a_picture_the_safety_checker_flags_is_withheld(
    telegram: FakeTelegram,
    alice: FakeUser,
    database: Path,
    tiny_models: TinyModels,
    tiny_safety_checkers: dict[str, Path],
) -> None:
    # The tiny image pipeline, like sd-turbo, has no checker: SAFETY_MODEL gives it one.
    settings = bot_settings(
        telegram, database, tiny_models, safety_model=str(tiny_safety_checkers["flags"])
    )
    async with bot_running(settings, None):
        photo = telegram.send_photo(alice, None, jpeg("astronaut"))  # a face: a mouth is painted
        await telegram.wait_for(
            "sendMessage", text_is("picture_withheld", "en", alice.id), timeout=60
        )
        await telegram.wait_for("editMessageText", lambda c: c.params["text"].startswith("✅"))
        await telegram.wait_idle(quiet=1.0, timeout=60)
    assert not telegram.calls_to("sendVideoNote")  # nor is it shown moving
    assert not [c for c in telegram.calls if c.method == "sendPhoto"]
    line = [c for c in telegram.calls if c.method == "sendMessage" and replies_to(photo)(c)]
    assert line[-1].params["text"] != TEXTS["status_looking"]["en"]  # the words still came


async def test_a_picture_the_safety_checker_passes_is_sent(
    telegram: FakeTelegram,
    alice: FakeUser,
    database: Path,
    tiny_models: TinyModels,
    tiny_safety_checkers: dict[str, Path],
) -> None:
    settings = bot_settings(
        telegram, database, tiny_models, safety_model=str(tiny_safety_checkers["passes"])
    )
    async with bot_running(settings, None):
        telegram.send_photo(alice, None, jpeg("astronaut"))
        await telegram.wait_for("sendPhoto", lambda c: c.ok and c.chat_id == alice.id, timeout=60)
    assert not [
        c for c in telegram.calls if c.params.get("text") == TEXTS["picture_withheld"]["en"]
    ]


@contextlib.asynccontextmanager
async def echoing_engine() -> AsyncIterator[str]:
    """An OpenAI-compatible engine on 127.0.0.1 (its /v1 URL): it answers every reply with
    one line, except a request whose last words contain "REFUSE": that gets a 400 whose body
    quotes the request and its key back, as real engines' error messages may."""

    async def complete(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        said = body["messages"][-1]["content"]
        if "REFUSE" in str(said):
            key = request.headers.get("Authorization", "")
            message = f"Invalid request {said!r} (sent with {key}). Check the request body."
            error = {"message": message, "type": "BadRequestError", "code": 400}
            return web.json_response({"object": "error", **error}, status=400)
        line = "Nice to meet you! I love this park in the spring."
        if not body.get("stream"):
            return web.json_response({"choices": [{"message": {"content": line}}]})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for word in line.split(" "):
            chunk = {"choices": [{"delta": {"content": word + " "}}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", complete)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


async def test_a_conversation_leaves_no_words_and_no_secret_in_the_logs(
    telegram: FakeTelegram,
    tiny_models: TinyModels,
    database: Path,
    sessions: Any,
    alice: FakeUser,
    log_output: Any,
) -> None:
    """LOG_MESSAGE_TEXT=false at LOG_LEVEL=DEBUG, in webhook mode with a serving engine that
    needs a key: the whole log holds nothing a user wrote and none of the three secrets, not
    even when the engine's error quotes them."""
    port = free_port()
    async with echoing_engine() as engine_url:
        settings = bot_settings(
            telegram,
            database,
            tiny_models,
            image_model="",
            llm_api_base=engine_url,
            llm_api_key="sk-llm-key-4d9f1c",
            telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
            telegram_webhook_secret="webhook-secret-7e2b",
            telegram_webhook_listen=f"127.0.0.1:{port}",
        )
        stream = log_output(settings.secrets())
        async with bot_running(settings, None):
            await seed_character(sessions, alice)
            answer = await exchange(telegram, alice, "my words: periwinkle-saxophone-42", 60)
            told = await exchange(telegram, alice, "REFUSE this: zebra-quokka-77", 60)
    assert told.params["text"] == TEXTS["try_again"]["en"]
    output = stream.getvalue()
    for private in ("periwinkle-saxophone", "zebra-quokka", answer.params["text"]):
        assert private not in output
    for secret in (telegram.token.split(":", 1)[1], "webhook-secret-7e2b", "sk-llm-key-4d9f1c"):
        assert secret not in output
    assert "DEBUG" in output and "HTTP 400, BadRequestError" in output  # still useful
