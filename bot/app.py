"""The composition root: the whole bot assembled in one place, and its life from start to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.chat_queues import ChatQueues
from bot.handlers import (
    arrivals,
    commands,
    groups,
    media,
    photos,
    sharing,
    text_messages,
    voice,
)
from bot.handlers.common import Place, user_language
from bot.limits import UserLimits
from bot.sending import RetryingRateLimiter, send_text
from bot.services import Services, services
from bot.settings import Settings
from bot.texts import TEXTS, text
from inference.actor import Actor
from storage import queries
from storage.engine import create_engine, create_session_factory
from storage.migrate import upgrade_database_async

log = logging.getLogger(__name__)

# The command menus, per place: photos are simply sent in private, /talk'd in groups.
PRIVATE_COMMANDS = [
    "start",
    "help",
    "characters",
    "new",
    "reset",
    "image",
    "share",
    "lang",
    "voice",
    "forget",
]
GROUP_COMMANDS = [
    "talk", "help", "characters", "reset", "image", "share", "lang", "voice", "forget",
]  # fmt: skip


def build_application(settings: Settings, *, actor: Actor | None = None) -> Application:
    """Every handler the bot has, in the order they are tried. `actor`: an already loaded
    one to use (tests, benchmarks); by default the models are loaded at start."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    application = (
        Application.builder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .rate_limiter(RetryingRateLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(_start_services)
        .post_shutdown(_stop_services)
        .build()
    )
    application.bot_data["settings"] = settings
    application.bot_data["injected_actor"] = actor

    application.add_handler(
        MessageHandler(filters.UpdateType.CHANNEL_POSTS | filters.UpdateType.EDITED, _skip),
        group=-2,
    )
    application.add_handler(TypeHandler(Update, _allow_list), group=-1)
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
    application.add_handler(CommandHandler("share", sharing.share_command))
    application.add_handler(CommandHandler("voice", voice.voice_command))
    application.add_handler(CommandHandler("forget", commands.forget_command))
    application.add_handler(CommandHandler("talk", photos.talk_command))
    application.add_handler(CommandHandler("stats", commands.stats_command))
    application.add_handler(CallbackQueryHandler(commands.on_button))
    application.add_handler(MessageHandler(filters.PHOTO | filters.Document.IMAGE, photos.on_photo))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, text_messages.on_text))
    application.add_handler(
        MessageHandler(filters.VOICE | filters.AUDIO | filters.VIDEO_NOTE, voice.on_voice_note)
    )
    application.add_handler(
        MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, commands.help_command)
    )
    application.add_handler(
        MessageHandler(
            ~filters.COMMAND & ~filters.StatusUpdate.ALL & ~filters.TEXT, media.on_other_media
        )
    )
    application.add_error_handler(_on_error)
    return application


async def _start_services(application: Application) -> None:
    """post_init: database (migrated), models, limits, commands, the daily retention job."""
    settings: Settings = application.bot_data["settings"]
    # At head already (e.g. after `photo-talk db upgrade`) this is a no-op; on PostgreSQL the
    # DDL is transactional, so a failed upgrade leaves the schema as it was.
    await upgrade_database_async(settings.database_url)
    engine = create_engine(settings.database_url)
    actor = application.bot_data["injected_actor"]
    if actor is None:
        log.info(
            "loading models (caption %s, dialogue %s, image %s)",
            settings.caption_model,
            settings.dialogue_model,
            settings.image_model or "none",
        )
        actor = await asyncio.to_thread(Actor.load, settings.inference)
        if settings.warm_up:
            log.info("warmed up in %.1f s", await actor.warm_up())
    application.bot_data["engine"] = engine
    application.bot_data["services"] = Services(
        settings=settings,
        actor=actor,
        sessions=create_session_factory(engine),
        limits=UserLimits(
            photos_per_hour=settings.max_photos_per_hour, jobs_per_user=settings.max_jobs_per_user
        ),
        chats=ChatQueues(arrivals.answer_arrivals),
        bot_username=application.bot.username,
    )
    await _register_commands(application)
    if settings.history_retention_days > 0 and application.job_queue is not None:
        application.job_queue.run_repeating(_prune_history, interval=timedelta(days=1), first=5)


async def _register_commands(application: Application) -> None:
    """setMyCommands per place (private chats, groups) in English (the default) and Chinese."""
    menus = (
        (BotCommandScopeAllPrivateChats(), PRIVATE_COMMANDS),
        (BotCommandScopeAllGroupChats(), GROUP_COMMANDS),
    )
    for scope, names in menus:
        place = "_group" if names is GROUP_COMMANDS else ""
        for lang, code in (("en", None), ("zh", "zh")):
            commands = [
                BotCommand(name, TEXTS.get(f"cmd_{name}{place}", TEXTS[f"cmd_{name}"])[lang])  # type: ignore[index]
                for name in names
            ]
            try:
                await application.bot.set_my_commands(commands, scope=scope, language_code=code)
            except Exception:
                log.warning("could not register the command menu", exc_info=True)


async def _stop_services(application: Application) -> None:
    """post_shutdown: stop the worker (unless it was lent to us) and close the database."""
    found: Services | None = application.bot_data.get("services")
    if found is not None and application.bot_data["injected_actor"] is None:
        await asyncio.to_thread(found.actor.close)
    engine = application.bot_data.get("engine")
    if engine is not None:
        await engine.dispose()


async def _prune_history(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Daily: delete messages older than HISTORY_RETENTION_DAYS."""
    svc = services(context)
    cutoff = datetime.now(UTC) - timedelta(days=svc.settings.history_retention_days)
    async with svc.sessions() as session, session.begin():
        removed = await queries.prune_messages_before(session, cutoff)
    log.info("retention: removed %d messages older than %s", removed, cutoff.date())


async def _skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Channel posts (a channel is no conversation) and edits (the original was answered)."""
    raise ApplicationHandlerStop


async def _allow_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """With ALLOWED_USER_IDS / ALLOWED_CHAT_IDS set, everyone else is politely turned away."""
    settings = services(context).settings
    if not settings.allowed_user_ids and not settings.allowed_chat_ids:
        return
    user, chat = update.effective_user, update.effective_chat
    if (user is not None and user.id in settings.allowed_user_ids) or (
        chat is not None and chat.id in settings.allowed_chat_ids
    ):
        return
    if chat is not None and chat.type == "private" and update.effective_message is not None:
        await update.effective_message.reply_text(
            text("not_allowed", await user_language(update, context))
        )
    raise ApplicationHandlerStop


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (without message text) and tell the user to try again."""
    log.error("update failed: %s", type(context.error).__name__, exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        lang = await user_language(update, context)
        reply_to = update.effective_message.message_id if update.effective_message else None
        if Place.of(update).group and reply_to is None:
            return
        await send_text(
            context.bot, update.effective_chat.id, text("try_again", lang), reply_to=reply_to
        )
    except Exception:
        log.warning("could not tell the user about an error", exc_info=True)


@contextlib.asynccontextmanager
async def running(
    application: Application, *, poll_timeout: float = 10.0
) -> AsyncIterator[Application]:
    """The bot started (services, polling, handlers) for the body; stopped cleanly after."""
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0.0, timeout=int(poll_timeout), allowed_updates=Update.ALL_TYPES
        )
        await application.start()
        try:
            yield application
        finally:
            await application.updater.stop()
            found: Services | None = application.bot_data.get("services")
            if found is not None and application.bot_data["injected_actor"] is None:
                # Cancel queued model work so in-flight updates end now, not after the queue.
                await asyncio.to_thread(found.actor.close)
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def run_bot(settings: Settings) -> int:
    """`photo-talk run`: poll until SIGINT/SIGTERM, then stop cleanly and exit 0."""
    return asyncio.run(_serve(build_application(settings)))


async def _serve(application: Application) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with running(application):
        log.info("photo-talk is running as @%s", application.bot.username)
        await stop.wait()
        log.info("stopping")
    return 0
