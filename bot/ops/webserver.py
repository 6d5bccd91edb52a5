"""The bot's HTTP side: Telegram's webhook (secret checked), /healthz and /metrics, on one port
or (METRICS_LISTEN in webhook mode) the last two off the public one.

python-telegram-bot 22 has its own webhook server (`run_webhook`, tornado), but it serves the
webhook path only: adding /healthz and /metrics to it means reaching into its private
`telegram.ext._utils.webhookhandler`. So we follow PTB's documented "custom webhook bot"
pattern instead: a small aiohttp server that checks `X-Telegram-Bot-Api-Secret-Token` exactly as
PTB's does and puts each update on `application.update_queue`, where PTB takes over.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.ops.metrics import Health, Metrics
from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few KiB: anything bigger is not Telegram


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates (the path of TELEGRAM_WEBHOOK_URL) and the shared secret."""

    path: str
    secret: str


class BotServer:
    """Serves /healthz and /metrics when given `metrics` and `health`, and with a `webhook`
    the updates Telegram posts."""

    def __init__(
        self,
        application: Application,
        *,
        metrics: Metrics | None = None,
        health: Callable[[], Awaitable[Health]] | None = None,
        webhook: Webhook | None = None,
    ) -> None:
        self._application = application
        self._metrics = metrics
        self._health = health
        self._webhook = webhook
        self._accepting = False  # until the bot is ready (`start_accepting_updates`)
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        serves = []
        if self._health is not None:
            app.router.add_get("/healthz", self._healthz)
            serves.append("/healthz")
        if self._metrics is not None:
            app.router.add_get("/metrics", self._metrics_page)
            serves.append("/metrics")
        if self._webhook is not None:
            app.router.add_post(self._webhook.path, self._update)
            serves.append("the webhook")
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("listening on %s:%d (%s)", host, port, ", ".join(serves))

    def start_accepting_updates(self) -> None:
        """The models are ready: updates Telegram posts are taken from now on (before, it
        got 503 and kept them, so a stop while loading loses none)."""
        self._accepting = True

    def stop_accepting_updates(self) -> None:
        """From now on Telegram gets 503 and keeps the update for later: nothing is lost."""
        self._accepting = False

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _update(self, request: web.Request) -> web.Response:
        assert self._webhook is not None
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            log.warning("webhook: request without the secret token refused")
            return web.Response(status=401)
        if not hmac.compare_digest(given.encode(), self._webhook.secret.encode()):
            log.warning("webhook: request with a wrong secret token refused")
            return web.Response(status=403)
        if not self._accepting:
            return web.Response(status=503)  # Telegram retries later: the update is not lost
        try:
            update = Update.de_json(await request.json(), self._application.bot)
        except (json.JSONDecodeError, TypeError, KeyError, ValueError):
            return web.Response(status=400)
        await self._application.update_queue.put(update)
        return web.Response()

    async def _healthz(self, request: web.Request) -> web.Response:
        assert self._health is not None
        health = await self._health()
        body = {
            "status": health.status,
            "models": health.models,
            "worker": health.worker,
            "database": health.database,
        }
        return web.json_response(body, status=200 if health.status == "ok" else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        assert self._metrics is not None
        return web.Response(
            body=self._metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"}
        )


def host_and_port(listen: str) -> tuple[str, int]:
    """ "0.0.0.0:8080" → ("0.0.0.0", 8080); "[::]:8080" works too."""
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected host:port, got {listen!r}")
    return host.strip("[]"), int(port)


async def start_servers(
    application: Application,
    settings: Settings,
    metrics: Metrics,
    health: Callable[[], Awaitable[Health]],
) -> list[BotServer]:
    """The webhook on TELEGRAM_WEBHOOK_LISTEN; /healthz and /metrics on METRICS_LISTEN, or with
    a webhook and no address of their own, on the webhook's port. Updates are refused (503)
    until `start_accepting_updates`."""
    servers: list[tuple[str, BotServer]] = []
    if settings.telegram_webhook_url:
        assert settings.telegram_webhook_secret is not None  # cli refuses to start without
        path = urlsplit(settings.telegram_webhook_url).path or "/"
        webhook = Webhook(path, settings.telegram_webhook_secret.get_secret_value())
        apart = settings.metrics_listen not in ("", settings.telegram_webhook_listen)
        public = BotServer(
            application,
            webhook=webhook,
            metrics=None if apart else metrics,
            health=None if apart else health,
        )
        servers.append((settings.telegram_webhook_listen, public))
        if apart:
            private = BotServer(application, metrics=metrics, health=health)
            servers.append((settings.metrics_listen, private))
    elif settings.metrics_listen:
        servers.append(
            (settings.metrics_listen, BotServer(application, metrics=metrics, health=health))
        )
    for listen, server in servers:
        await server.start(*host_and_port(listen))
    return [server for _, server in servers]
