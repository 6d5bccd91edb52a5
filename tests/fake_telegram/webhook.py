"""Webhook delivery as Telegram does it: after setWebhook, each update is POSTed to the URL.

The secret given to setWebhook travels in ``X-Telegram-Bot-Api-Secret-Token``; an answer other
than 2xx (or no answer) keeps the update and it is posted again a little later, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .models import ApiError
from .world import World

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
RETRY_AFTER_S = 0.2  # Telegram waits longer between attempts; tests need not


@dataclass
class Delivery:
    """One POST of one update to the bot: what it answered (None: no answer at all)."""

    update_id: int
    status: int | None


@dataclass
class WebhookTarget:
    url: str
    secret: str | None
    deliveries: list[Delivery] = field(default_factory=list)


async def set_webhook(world: World, params: dict[str, Any]) -> Any:
    url = params["url"]
    if not url:  # an empty URL removes the webhook, as deleteWebhook does
        world.webhook = None
        return True
    if not url.startswith(("http://127.0.0.1", "https://127.0.0.1")):
        # Telegram wants public HTTPS; the fake only ever reaches this machine's loopback.
        raise ApiError(400, "Bad Request: bad webhook: the fake delivers to 127.0.0.1 only")
    secret = params.get("secret_token")
    if secret is not None and not (1 <= len(secret) <= 256):
        raise ApiError(400, "Bad Request: secret token is invalid")
    if params.get("drop_pending_updates"):
        world.pending_updates.clear()
    if params.get("allowed_updates") is not None:
        world.allowed_updates = params["allowed_updates"]
    world.webhook = WebhookTarget(url, secret)
    world.wake_up()
    return True


async def get_webhook_info(world: World, params: dict[str, Any]) -> Any:
    target = world.webhook
    info: dict[str, Any] = {
        "url": target.url if target else "",
        "has_custom_certificate": False,
        "pending_update_count": len(world.pending_updates),
    }
    failed = [d for d in target.deliveries if d.status != 200] if target else []
    if failed:
        info["last_error_date"] = 0
        info["last_error_message"] = f"Wrong response from the webhook: {failed[-1].status}"
    return info


class WebhookSender:
    """Posts pending updates to the webhook, one at a time, while one is set."""

    def __init__(self, world: World, on_delivery: Callable[[], None]) -> None:
        self._world = world
        self._on_delivery = on_delivery  # lets tests waiting on the fake see the change
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                target = self._world.webhook
                ready = self._world.deliverable(1) if target else []
                if target is None or not ready:
                    await self._world.wait_for_change()
                    continue
                if not await self._post(session, target, ready[0]):
                    await asyncio.sleep(RETRY_AFTER_S)

    async def _post(
        self, session: aiohttp.ClientSession, target: WebhookTarget, update: dict[str, Any]
    ) -> bool:
        headers = {SECRET_HEADER: target.secret} if target.secret else {}
        status: int | None = None
        try:
            async with session.post(
                target.url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("webhook delivery failed: %s", type(exc).__name__)
        target.deliveries.append(Delivery(update["update_id"], status))
        delivered = status is not None and 200 <= status < 300
        if delivered:
            self._world.confirm(update["update_id"])
        self._on_delivery()
        return delivered
