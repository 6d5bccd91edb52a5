"""/reset or /forget while a talking picture is being drawn: no crash, the drawing stops (no
picture of the cleared conversation arrives), the status note ends (issue 12, item 6; issue
19, item 5)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from fake_telegram import FakeTelegram, FakeUser
from reliability_kit import exchange, photo_bytes, text_is

from bot.texts import TEXTS
from inference.actor import Actor


def held_drawing(
    actor: Actor, monkeypatch: pytest.MonkeyPatch
) -> tuple[asyncio.Event, asyncio.Event, asyncio.Event]:
    """(started, release, resumed): the talking picture waits for `release` once drawing
    started; `resumed` is set if it goes on after that (it must not once stopped)."""
    started, release, resumed = asyncio.Event(), asyncio.Event(), asyncio.Event()
    real = actor.talking_image

    async def talking_image(*args: Any, **kwargs: Any) -> Any:
        started.set()
        await release.wait()
        resumed.set()
        return await real(*args, **kwargs)

    monkeypatch.setattr(actor, "talking_image", talking_image)
    return started, release, resumed


@pytest.mark.parametrize("command", ["/reset", "/forget"])
async def test_clearing_while_drawing_ends_the_status_note_and_the_bot_keeps_serving(
    command: str,
    telegram: FakeTelegram,
    bot: Any,
    tiny_actor: Actor,
    alice: FakeUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    started, release, resumed = held_drawing(tiny_actor, monkeypatch)
    telegram.send_photo(alice, None, photo_bytes())
    await asyncio.wait_for(started.wait(), 60)
    confirm = await exchange(telegram, alice, command)
    if command == "/forget":
        assert confirm.message is not None
        telegram.press_button(alice, None, confirm.message, f"forget:yes:{alice.id}")
        await telegram.wait_for("editMessageText", text_is("forget_done", "en", alice.id))
    else:
        assert confirm.params["text"].endswith(TEXTS["reset_done"]["en"].split("{name}")[1])
    with caplog.at_level(logging.ERROR):
        status = await telegram.wait_for(
            "editMessageText", text_is("status_stopped", "en", alice.id), timeout=30
        )
        release.set()  # were the drawing still running, its picture would now be sent
        assert (await exchange(telegram, alice, "/help")).params["text"] == TEXTS["help"]["en"]
    assert status.ok
    assert not resumed.is_set() and telegram.calls_to("sendPhoto") == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
