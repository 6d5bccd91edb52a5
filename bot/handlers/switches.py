"""/voice on|off and /video on|off: whether characters in this chat also speak and move."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.handlers.common import Place, is_group_admin, user_language
from bot.sending.videos import video_wanted
from bot.sending.voices import voice_is_on
from bot.services import services
from bot.texts import text
from storage import queries

SWITCH = {"on": True, "off": False, "开": True, "关": False}


async def video_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/video on|off: talking videos on or off for this chat (in groups, admins only)."""
    message = update.effective_message
    assert message is not None
    svc, place = services(context), Place.of(update)
    lang = await user_language(update, context)
    if not svc.settings.animates:
        await message.reply_text(text("video_unavailable", lang))
        return
    choice = SWITCH.get((context.args or [""])[0].lower())
    if choice is None:
        on = await video_wanted(svc, place.chat_id, group=place.group)
        await message.reply_text(text("video_is_on" if on else "video_is_off", lang))
        return
    if place.group and not await is_group_admin(context.bot, message, place):
        await message.reply_text(text("video_admins_only", lang))
        return
    async with svc.sessions() as session, session.begin():
        await queries.set_chat_video(session, place.chat_id, choice)
    await message.reply_text(text("video_turned_on" if choice else "video_turned_off", lang))


async def voice_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/voice on|off: whether characters in this chat also speak (group admins decide)."""
    message = update.effective_message
    assert message is not None
    svc, place = services(context), Place.of(update)
    lang = await user_language(update, context)
    if not svc.actor.can_speak:
        await message.reply_text(text("voice_unavailable", lang))
        return
    choice = (context.args or [""])[0].lower()
    if choice not in ("on", "off"):
        async with svc.sessions() as session:
            chosen = await queries.get_chat_settings(session, place.chat_id)
        state = text(
            "voice_state_on" if voice_is_on(chosen, group=place.group) else "voice_state_off", lang
        )
        await message.reply_text(text("voice_usage", lang, state=state))
        return
    if place.group and not await is_group_admin(context.bot, message, place):
        await message.reply_text(text("voice_admins_only", lang))
        return
    async with svc.sessions() as session, session.begin():
        await queries.set_chat_voice(session, place.chat_id, choice == "on")
    await message.reply_text(text(f"voice_{choice}", lang))
