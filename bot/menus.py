"""The command menus Telegram shows, per place (private chats, groups) and language."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.ext import Application

from bot.texts import TEXTS

log = logging.getLogger(__name__)

# The command menus, per place: photos are simply sent in private, /talk'd in groups.
PRIVATE_COMMANDS = [
    "start",
    "help",
    "characters",
    "new",
    "reset",
    "image",
    "video",
    "share",
    "lang",
    "voice",
    "forget",
]
GROUP_COMMANDS = [
    "talk",
    "help",
    "characters",
    "reset",
    "image",
    "video",
    "share",
    "lang",
    "voice",
    "forget",
]


async def register_commands(application: Application) -> None:
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
