"""The composition root: the whole bot assembled in one place, and its life from start to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import (
    Update,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import recovery
from bot.chat_queues import ChatQueues
from bot.handlers import (
    arrivals,
    commands,
    gate,
    groups,
    other_media,
    photos,
    sharing,
    switches,
    text_messages,
    voice_notes,
)
from bot.limits import UserLimits
from bot.menus import register_commands
from bot.ops.metrics import Health, HealthCheck, Metrics, database_reachable
from bot.ops.webserver import start_servers
from bot.sending.bot_api import RetryingRateLimiter
from bot.services import Services, services
from bot.settings import Settings
from bot.startup import ready_actor
from inference.actor import Actor
from storage import queries
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade_database_async

log = logging.getLogger(__name__)


def build_application(settings: Settings, *, actor: Actor | None = None) -> Application:
    """Every handler the bot has, in the order they are tried. `actor`: an already loaded
    one to use (tests, benchmarks); by default the models are loaded at start."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    metrics = Metrics()
    application = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .rate_limiter(RetryingRateLimiter(max_retries=3, on_sent=metrics.count_sent))
        .concurrent_updates(True)
        .post_init(_start_services)
        .post_stop(_after_stop)
        .post_shutdown(_stop_services)
        .build()
    )
    application.bot_data["settings"] = settings
    application.bot_data["injected_actor"] = actor
    application.bot_data["metrics"] = metrics

    application.add_handler(TypeHandler(Update, gate.count_update), group=-3)
    application.add_handler(
        MessageHandler(filters.UpdateType.CHANNEL_POSTS | filters.UpdateType.EDITED, gate.skip),
        group=-2,
    )
    application.add_handler(TypeHandler(Update, gate.allow_list), group=-1)
    application.add_handler(
        ChatMemberHandler(groups.on_my_membership, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, groups.on_migration))
    application.add_handler(CommandHandler("start", commands.start))
    application.add_handler(CommandHandler("help", commands.help_command))
    application.add_handler(CommandHandler("lang", commands.lang_command))
    application.add_handler(CommandHandler("new", commands.new_command))
    application.add_handler(CommandHandler("characters", commands.characters_command))
    application.add_handler(CommandHandler("reset", commands.reset_command))
    application.add_handler(CommandHandler("image", commands.image_command))
    application.add_handler(CommandHandler("video", switches.video_command))
    application.add_handler(CommandHandler("share", sharing.share_command))
    application.add_handler(CommandHandler("voice", switches.voice_command))
    application.add_handler(CommandHandler("forget", commands.forget_command))
    application.add_handler(CommandHandler("talk", photos.talk_command))
    application.add_handler(CommandHandler("stats", commands.stats_command))
    application.add_handler(CallbackQueryHandler(commands.on_button))
    application.add_handler(MessageHandler(filters.PHOTO | filters.Document.IMAGE, photos.on_photo))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text_messages.on_text))
    application.add_handler(
        MessageHandler(
            filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE, voice_notes.on_voice_note
        )
    )
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, commands.help_command)
    )
    application.add_handler(
        MessageHandler(
            ~filters.COMMAND & ~filters.StatusUpdate.ALL & ~filters.TEXT, other_media.on_other_media
        )
    )
    application.add_error_handler(gate.on_error)
    return application


async def _start_services(application: Application) -> None:
    """post_init: database (migrated), models, limits, commands, the retention job, HTTP."""
    if "on_signal" in application.bot_data:  # `photo-talk run`, not a test
        _stop_on_signals(application)
    settings: Settings = application.bot_data["settings"]
    # At head already (e.g. after `photo-talk db upgrade`) this is a no-op; on PostgreSQL the
    # DDL is transactional, so a failed upgrade leaves the schema as it was.
    await upgrade_database_async(settings.database)
    engine = create_engine(settings.database)
    application.bot_data["engine"] = engine
    await _start_http(application, settings, engine)  # /healthz says "starting" meanwhile
    actor = application.bot_data["injected_actor"]
    started = time.perf_counter()
    if actor is None:
        actor = await ready_actor(application, settings)
        if actor is None:
            return  # stopped while loading: PTB ends the run after post_init
    application.bot_data["services"] = Services(
        settings=settings,
        actor=actor,
        sessions=create_session_factory(engine),
        limits=UserLimits(
            photos_per_hour=settings.max_photos_per_hour, jobs_per_user=settings.max_jobs_per_user
        ),
        chats=ChatQueues(arrivals.answer_arrivals, keep=recovery.keep, settle=recovery.settle),
        bot_username=application.bot.username,
    )
    # What a killed process took and never answered is handled first (or asked for again).
    await recovery.recover(application, application.bot_data["services"])
    await register_commands(application)
    if settings.history_retention_days > 0 and application.job_queue is not None:
        application.job_queue.run_repeating(_prune_history, interval=timedelta(days=1), first=5)
    metrics: Metrics = application.bot_data["metrics"]
    metrics.watch(lambda: actor.queue_depth, actor.memory_in_use)
    actor.observe_stages(metrics.observe_stage)
    for server in application.bot_data["http"]:
        server.start_accepting_updates()
    if settings.telegram_webhook_url:  # ready: Telegram may post now
        assert settings.telegram_webhook_secret is not None  # cli refuses to start without
        await application.bot.set_webhook(
            settings.telegram_webhook_url,
            secret_token=settings.telegram_webhook_secret.get_secret_value(),
            allowed_updates=Update.ALL_TYPES,
        )
    log.info(
        "photo-talk is ready as @%s (%s), models loaded in %.1f s: %s",
        application.bot.username,
        "webhook" if settings.telegram_webhook_url else "long polling",
        time.perf_counter() - started,
        settings.models_in_use(),
    )


async def _start_http(application: Application, settings: Settings, engine: AsyncEngine) -> None:
    """/healthz, /metrics and the webhook, before the models load (see `start_servers`)."""

    async def probe() -> Health:
        found: Services | None = application.bot_data.get("services")
        return Health(
            models=found is not None,
            worker=found is not None and found.actor.working and not found.actor.stuck,
            database=await database_reachable(engine),
        )

    metrics: Metrics = application.bot_data["metrics"]
    servers = await start_servers(application, settings, metrics, HealthCheck(probe))
    application.bot_data["http"] = servers


async def stop_taking_work(application: Application) -> None:
    """The first step of a clean stop, before PTB's own: no new updates are taken (Telegram
    keeps them), queued model jobs fail at once with `ShuttingDown` so their handlers tell the
    users to send again, and running ones get SHUTDOWN_GRACE_S to finish. Runs once."""
    if application.bot_data.get("stopping"):
        return
    application.bot_data["stopping"] = True
    for server in application.bot_data.get("http", []):
        server.stop_accepting_updates()
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    found: Services | None = application.bot_data.get("services")
    if found is not None and application.bot_data["injected_actor"] is None:
        await asyncio.to_thread(found.actor.close, found.settings.shutdown_grace_s)
        await found.actor.aclose()


async def _after_stop(application: Application) -> None:
    """post_stop: every update was handled; /healthz and /metrics go last."""
    for server in application.bot_data.pop("http", []):
        await server.stop()


async def _stop_services(application: Application) -> None:
    """post_shutdown: the worker (if a failed start skipped the clean stop) and the database."""
    await stop_taking_work(application)  # does nothing when it already ran
    await _after_stop(application)
    engine = application.bot_data.get("engine")
    if engine is not None:
        await engine.dispose()


async def _prune_history(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Daily: delete turns older than HISTORY_RETENTION_DAYS, and the characters and users
    they leave without any turn."""
    svc = services(context)
    cutoff = datetime.now(UTC) - timedelta(days=svc.settings.history_retention_days)
    async with svc.sessions() as session, session.begin():
        pruned = await queries.prune_history(session, cutoff)
    log.info(
        "retention: removed %d messages older than %s, %d characters and %d users left without any",
        pruned.messages,
        cutoff.date(),
        pruned.characters,
        pruned.users,
    )


@contextlib.asynccontextmanager
async def running(
    application: Application, *, poll_timeout: float = 10.0
) -> AsyncIterator[Application]:
    """The bot running for the body, through the same hooks in the same order as PTB's
    `run_polling`: tests need it inside their own event loop, and webhook mode needs it
    because it serves updates itself (see bot/ops/webserver.py for why)."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        if not application.bot_data["settings"].telegram_webhook_url:
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0.0, timeout=int(poll_timeout), allowed_updates=Update.ALL_TYPES
            )
        await application.start()
        try:
            yield application
        finally:
            await stop_taking_work(application)
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def run_bot(settings: Settings) -> int:
    """`photo-talk run`: serve until SIGINT/SIGTERM, then stop cleanly (nothing lost), exit 0.

    PTB's own signal handling would stop fetching and then wait for every handler, including
    those whose model jobs are still queued; ours first fails those jobs (`stop_taking_work`),
    so their users hear "send again" and the stop stays within the grace period."""
    application = build_application(settings)
    if settings.telegram_webhook_url:
        return asyncio.run(_serve_webhook(application))
    application.bot_data["on_signal"] = application.stop_running
    application.run_polling(allowed_updates=Update.ALL_TYPES, stop_signals=None)
    return 0


async def _serve_webhook(application: Application) -> int:
    stop = asyncio.Event()
    application.bot_data["on_signal"] = stop.set
    async with running(application):
        await stop.wait()
    return 0


def _stop_on_signals(application: Application) -> None:
    """SIGINT/SIGTERM: stop taking work, then let the run end (`bot_data["on_signal"]`)."""
    loop = asyncio.get_running_loop()
    stop_requested = application.bot_data["stop_requested"] = asyncio.Event()

    def on_signal() -> None:
        log.info("stopping")
        stop_requested.set()  # models still loading: given up (bot/startup.py)
        task = loop.create_task(stop_taking_work(application))
        task.add_done_callback(lambda _: application.bot_data["on_signal"]())
        application.bot_data["stop_task"] = task  # keep a reference until it is done

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
