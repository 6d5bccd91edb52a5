"""Run for many people: webhooks with a secret, /healthz and /metrics, a clean stop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from bot_kit import bot_settings, free_port
from fake_telegram import FakeTelegram, FakeUser
from postgres_cluster import PostgresCluster
from prometheus_client.parser import text_string_to_metric_families
from reliability_kit import answer_to, bot_running, photo_bytes, seed_character
from sqlalchemy import event
from tiny_checkpoints import TinyModels

from bot.app import stop_taking_work
from bot.services import Services
from bot.texts import TEXTS
from inference.actor import Actor

SECRET = "s3cret_token-for-tests"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def webhook_bot(
    telegram: FakeTelegram,
    database_url: str,
    tiny_models: TinyModels,
    tiny_actor: Actor,
    port: int,
) -> AsyncIterator[Any]:
    settings = bot_settings(
        telegram,
        database_url,
        tiny_models,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
        telegram_webhook_secret=SECRET,
        telegram_webhook_listen=f"127.0.0.1:{port}",
    )
    async with bot_running(settings, tiny_actor) as app:
        yield app


async def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample on /metrics, keyed by name and labels."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as r:
        assert r.status == 200
        page = await r.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


HEALTHY = {"status": "ok", "models": True, "worker": True, "database": True}


async def health(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as r:
        return r.status, await r.json()


async def health_becomes(port: int, status: int, timeout: float = 60) -> dict[str, Any]:  # noqa: ASYNC109
    """/healthz's body once it answers `status` (it answers from a cache, renewed each second;
    before the server listens, connections are refused)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                got, body = await health(port)
            except aiohttp.ClientConnectionError:
                got, body = 0, {}
            if got == status:
                return body
            await asyncio.sleep(0.1)


async def test_a_conversation_over_the_webhook_moves_the_metrics(
    telegram: FakeTelegram, webhook_bot: Any, alice: FakeUser, port: int
) -> None:
    [registered] = telegram.calls_to("setWebhook")
    assert registered.params["url"] == f"http://127.0.0.1:{port}/telegram"
    assert registered.params["secret_token"] == SECRET
    before = await scrape(port)

    photo = telegram.send_photo(alice, None, photo_bytes())
    await telegram.wait_for("sendPhoto", lambda c: c.chat_id == photo.chat_id, timeout=60)
    await answer_to(telegram, telegram.send_text(alice, None, "Where are you?"), 60)
    await telegram.wait_idle()

    # Telegram posted both updates (and got 200), and the bot never polled.
    assert [d.status for d in telegram.webhook_deliveries] == [200, 200]
    assert not telegram.pending_updates
    after = await scrape(port)

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert moved("photo_talk_updates_total", kind="photo") == 1
    assert moved("photo_talk_updates_total", kind="text") == 1
    assert moved("photo_talk_answers_sent_total", method="sendPhoto") == 1
    assert moved("photo_talk_answers_sent_total", method="sendMessage") >= 2
    assert moved("photo_talk_stage_seconds_count", stage="caption") == 1
    assert moved("photo_talk_stage_seconds_count", stage="text") >= 2  # card + line, reply
    # A drawn oval has no face: the bubble goes on the photo, no mouth is painted, no video.
    assert moved("photo_talk_stage_seconds_count", stage="mouths") == 0
    assert ("photo_talk_queue_depth", ()) in after
    assert await health(port) == (200, HEALTHY)


async def test_updates_without_the_right_secret_are_refused_and_not_answered(
    telegram: FakeTelegram, webhook_bot: Any, alice: FakeUser, port: int
) -> None:
    mallory = FakeUser(666, "Mallory", "mallory", language_code="en")
    forged = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": mallory.id, "type": "private", "first_name": mallory.first_name},
            "from": mallory.to_json(),
            "text": "/start",
        },
    }
    url = f"http://127.0.0.1:{port}/telegram"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=forged) as response:
            assert response.status == 401
        wrong = {"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
        async with http.post(url, json=forged, headers=wrong) as response:
            assert response.status == 403

    # A real update after the forged ones is answered; by then a forged one would have been too.
    telegram.send_text(alice, None, "/help")
    await telegram.wait_for("sendMessage", lambda c: c.chat_id == alice.id, timeout=30)
    await telegram.wait_idle()
    assert not [c for c in telegram.calls if c.params.get("chat_id") == mallory.id]


async def test_healthz_turns_unhealthy_when_the_database_is_gone(
    telegram: FakeTelegram,
    postgres: PostgresCluster,
    tiny_models: TinyModels,
    tiny_actor: Actor,
    port: int,
) -> None:
    """Polling mode with METRICS_LISTEN, on PostgreSQL: the database dropped under the bot."""
    url = postgres.migrated_database()
    settings = bot_settings(telegram, url, tiny_models, metrics_listen=f"127.0.0.1:{port}")
    async with bot_running(settings, tiny_actor):
        assert await health(port) == (200, HEALTHY)
        postgres.drop_database(url)
        await health_becomes(port, 503)
        assert await health(port) == (503, HEALTHY | {"status": "unhealthy", "database": False})


async def test_a_clean_stop_finishes_running_work_and_asks_queued_users_to_send_again(
    telegram: FakeTelegram,
    database_url: str,
    tiny_models: TinyModels,
    sessions: Any,
    alice: FakeUser,
    li: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12 item 3: what runs at the stop is answered, what waits is told "send again"."""
    settings = bot_settings(
        telegram, database_url, tiny_models, image_model="", warm_up=False, max_batch_size=1
    )
    async with bot_running(settings, None) as app:  # the bot loads (and owns) its own actor
        found: Services = app.bot_data["services"]
        dialogue = found.actor._models.dialogue
        release, started = threading.Event(), threading.Event()
        generate = dialogue.generate

        def held_generate(*args: Any, **kwargs: Any) -> Any:
            started.set()
            release.wait(30)  # a long generation, running when the stop begins
            return generate(*args, **kwargs)

        monkeypatch.setattr(dialogue, "generate", held_generate)
        await seed_character(sessions, alice)
        await seed_character(sessions, li)
        telegram.send_text(alice, None, "Tell me a story.")
        assert await asyncio.to_thread(started.wait, 30), f"no generation: {telegram.calls}"
        telegram.send_text(li, None, "你好")
        for _ in range(300):
            if found.actor.queue_depth == 2:
                break
            await asyncio.sleep(0.05)
        assert found.actor.queue_depth == 2

        stopping = asyncio.create_task(stop_taking_work(app))
        told = await telegram.wait_for("sendMessage", lambda c: c.chat_id == li.id, timeout=15)
        assert told.params["text"] == TEXTS["restarting"]["zh"]
        assert not stopping.done()  # the running reply still has its grace period
        release.set()
        answered = await telegram.wait_for(
            "sendMessage", lambda c: c.chat_id == alice.id, timeout=15
        )
        await stopping
    # The character's own line, not one of the bot's stock sentences ("try again", ...).
    assert answered.params["text"] not in {t["en"] for t in TEXTS.values() if "en" in t}


async def test_healthz_says_starting_until_the_models_are_loaded(
    telegram: FakeTelegram,
    database: Path,
    tiny_models: TinyModels,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A load balancer or `docker compose` must not send users to a bot still loading."""
    release = threading.Event()
    load = Actor.load

    def slow_load(config: Any) -> Actor:
        release.wait(60)
        return load(config)

    monkeypatch.setattr(Actor, "load", slow_load)
    settings = bot_settings(
        telegram, database, tiny_models, image_model="", metrics_listen=f"127.0.0.1:{port}"
    )
    ready, done = asyncio.Event(), asyncio.Event()

    async def serve() -> None:
        async with bot_running(settings, None):
            ready.set()
            await done.wait()

    serving = asyncio.create_task(serve())
    try:
        body = await health_becomes(port, 503)
        assert body == {"status": "starting", "models": False, "worker": False, "database": True}
        assert not ready.is_set()
        release.set()
        await asyncio.wait_for(ready.wait(), 120)
        assert await health_becomes(port, 200) == HEALTHY
    finally:
        release.set()
        done.set()
        await serving


async def test_healthz_is_unhealthy_while_a_model_job_runs_past_the_stage_timeout(
    telegram: FakeTelegram,
    database: Path,
    tiny_models: TinyModels,
    sessions: Any,
    alice: FakeUser,
    port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hung GPU: the user was told to try again, but the job still holds the worker."""
    settings = bot_settings(
        telegram,
        database,
        tiny_models,
        image_model="",
        warm_up=False,
        stage_timeout_s=1.0,
        metrics_listen=f"127.0.0.1:{port}",
    )
    release = threading.Event()
    async with bot_running(settings, None) as app:
        await seed_character(sessions, alice)
        model = app.bot_data["services"].actor._models.dialogue.model
        generate = model.generate

        def hung(*args: Any, **kwargs: Any) -> Any:
            release.wait(60)
            return generate(*args, **kwargs)

        monkeypatch.setattr(model, "generate", hung)
        assert await health(port) == (200, HEALTHY)
        try:
            telegram.send_text(alice, None, "Hello?")
            body = await health_becomes(port, 503)
            assert body == HEALTHY | {"status": "unhealthy", "worker": False}
        finally:
            release.set()
        assert await health_becomes(port, 200) == HEALTHY  # the job ended: healthy again


async def test_healthz_asks_the_database_at_most_once_a_second(
    telegram: FakeTelegram, database: Path, tiny_models: TinyModels, tiny_actor: Actor, port: int
) -> None:
    settings = bot_settings(telegram, database, tiny_models, metrics_listen=f"127.0.0.1:{port}")
    async with bot_running(settings, tiny_actor) as app:
        asked = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "alembic_version" in statement:
                asked.append(statement)

        engine = app.bot_data["engine"].sync_engine
        event.listen(engine, "before_cursor_execute", count)
        loop = asyncio.get_running_loop()
        began = loop.time()
        answers = await asyncio.gather(*(health(port) for _ in range(20)))
        seconds = loop.time() - began
        event.remove(engine, "before_cursor_execute", count)
    assert answers == [(200, HEALTHY)] * 20
    assert 1 <= len(asked) <= 1 + int(seconds)  # a load balancer polling hard costs no more


async def test_in_webhook_mode_metrics_listen_keeps_metrics_off_the_public_port(
    telegram: FakeTelegram,
    database: Path,
    tiny_models: TinyModels,
    tiny_actor: Actor,
    alice: FakeUser,
    port: int,
) -> None:
    private = free_port()
    settings = bot_settings(
        telegram,
        database,
        tiny_models,
        telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
        telegram_webhook_secret=SECRET,
        telegram_webhook_listen=f"127.0.0.1:{port}",
        metrics_listen=f"127.0.0.1:{private}",
    )
    async with bot_running(settings, tiny_actor):
        telegram.send_text(alice, None, "/help")
        await telegram.wait_for("sendMessage", lambda c: c.chat_id == alice.id, timeout=30)
        assert ("photo_talk_updates_total", (("kind", "command"),)) in await scrape(private)
        assert await health(private) == (200, HEALTHY)
        async with aiohttp.ClientSession() as http:
            for page in ("/metrics", "/healthz"):
                async with http.get(f"http://127.0.0.1:{port}{page}") as response:
                    assert response.status == 404
    assert [d.status for d in telegram.webhook_deliveries] == [200]
