"""The slow part of a start: the models loaded and warmed up, given up at once when a stop
signal comes first (a first download or a large checkpoint can take minutes)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, TypeVar

from telegram.ext import Application

from bot.settings import Settings
from inference.actor import Actor

log = logging.getLogger(__name__)
T = TypeVar("T")


async def ready_actor(application: Application, settings: Settings) -> Actor | None:
    """Load and warm up the models; None when a stop signal (`bot_data["stop_requested"]`)
    comes first. Loading runs on a daemon thread of its own, which the process leaves
    behind when it exits: SIGTERM does not wait for it."""
    log.info(
        "loading models (caption %s, dialogue %s, image %s)",
        settings.caption_model,
        settings.dialogue_model,
        settings.image_model or "none",
    )
    loop = asyncio.get_running_loop()
    loaded: asyncio.Future[Actor] = loop.create_future()

    def load() -> None:
        try:
            actor = Actor.load(settings.inference)
        except BaseException as exc:  # handed to the event loop, raised there
            loop.call_soon_threadsafe(_settle, loaded, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, loaded, actor, None)

    threading.Thread(target=load, name="load-models", daemon=True).start()
    actor = await _unless_stopped(application, loaded)
    if actor is None or not settings.warm_up:
        return actor
    warm = await _unless_stopped(application, asyncio.ensure_future(actor.warm_up()))
    if warm is None:
        await asyncio.to_thread(actor.close, settings.shutdown_grace_s)
        await actor.aclose()
        return None
    log.info("warmed up in %.1f s", warm)
    return actor


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():  # given up on: the process is stopping
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


async def _unless_stopped(application: Application, work: asyncio.Future[T]) -> T | None:
    """`work`'s result, or None (and `work` cancelled) once a stop signal came."""
    stop: asyncio.Event | None = application.bot_data.get("stop_requested")
    if stop is None:  # no signal handlers (tests): nothing can stop it
        return await work
    stopped = asyncio.ensure_future(stop.wait())
    either: list[asyncio.Future[Any]] = [work, stopped]
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if not work.done():
        work.cancel()
        log.info("stopped while starting")
        return None
    return work.result()
