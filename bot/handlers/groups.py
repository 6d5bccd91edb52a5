"""Group life: being added or removed, and a group becoming a supergroup."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.ext import ContextTypes

from bot.handlers.common import is_group, user_language
from bot.sending.bot_api import send_text
from bot.services import services
from bot.texts import text
from storage import queries

log = logging.getLogger(__name__)


async def on_my_membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was added to or removed from a chat: greet the group, or just take note."""
    change = update.my_chat_member
    assert change is not None
    was = change.old_chat_member.status
    now = change.new_chat_member.status
    present = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED)
    if now in present and was not in present and is_group(change.chat):  # not a channel
        lang = await user_language(update, context)
        await send_text(context.bot, change.chat.id, text("group_welcome", lang))
    elif now in (ChatMember.LEFT, ChatMember.BANNED):
        # The chat's characters stay: the bot may be added back, and /forget still works.
        log.info("removed from chat %d", change.chat.id)


async def on_migration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its characters and history follow the new chat id."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id is not None:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    async with services(context).sessions() as session, session.begin():
        await queries.migrate_chat(session, old, new)
    log.info("chat %d migrated to %d", old, new)
