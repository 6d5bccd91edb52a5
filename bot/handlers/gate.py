"""What every update meets first: counted, skipped when it is no conversation, turned away
when the bot is private; and what happens when a handler fails."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.handlers.common import Place, user_language
from bot.recovery import seen_before
from bot.sending.bot_api import send_text
from bot.services import services
from bot.texts import text

log = logging.getLogger(__name__)


async def count_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every update, before anything else looks at it: counted for /metrics; one handled
    again after a restart and delivered by Telegram once more goes no further."""
    context.bot_data["metrics"].count_update(update)
    found = context.bot_data.get("services")
    if found is not None and seen_before(found, update):
        raise ApplicationHandlerStop


async def skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Channel posts (a channel is no conversation) and edits (the original was answered)."""
    raise ApplicationHandlerStop


async def allow_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """With ALLOWED_USER_IDS / ALLOWED_CHAT_IDS set, everyone else is politely turned away."""
    settings = services(context).settings
    if not settings.allowed_user_ids and not settings.allowed_chat_ids:
        return
    user, chat = update.effective_user, update.effective_chat
    if (user is not None and user.id in settings.allowed_user_ids) or (
        chat is not None and chat.id in settings.allowed_chat_ids
    ):
        return
    # The id an operator would add to ALLOWED_USER_IDS (or the chat's, ALLOWED_CHAT_IDS).
    log.info(
        "turned away user %s in chat %s (not in ALLOWED_USER_IDS / ALLOWED_CHAT_IDS)",
        user.id if user is not None else "-",
        chat.id if chat is not None else "-",
    )
    if chat is not None and chat.type == "private" and update.effective_message is not None:
        await update.effective_message.reply_text(
            text("not_allowed", await user_language(update, context))
        )
    raise ApplicationHandlerStop


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure (without message text) and tell the user to try again."""
    context.bot_data["metrics"].count_error(context.error)
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
