"""The commands: welcome, help, language, characters, reset, picture again, forget, stats."""

from __future__ import annotations

import statistics

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.downloads import load_photo
from bot.failures import failure_key
from bot.handlers.common import (
    Place,
    character_for_command,
    display_name,
    is_group_admin,
    remember_language,
    sender,
    speaks_for,
    user_language,
)
from bot.handlers.sharing import open_shared
from bot.rows import persona_of
from bot.sending.lines import SpokenLine, say
from bot.sending.pictures import draw_picture
from bot.services import services
from bot.texts import text
from inference.errors import InferenceError
from storage import queries
from storage.errors import NotFound

RECENT_CHARACTERS = 10


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: a welcome that says what to do; /start CODE opens a shared character."""
    message = update.effective_message
    assert message is not None
    if context.args:
        await open_shared(update, context, context.args[0])
        return
    lang = await user_language(update, context)
    await message.reply_text(text("group_welcome" if Place.of(update).group else "welcome", lang))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: the commands and how to use them."""
    assert update.effective_message is not None
    key = "help_group" if Place.of(update).group else "help"
    await update.effective_message.reply_text(text(key, await user_language(update, context)))


async def lang_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lang: buttons to choose Chinese or English (or /lang zh, /lang en)."""
    message = update.effective_message
    assert message is not None
    speaker = Place.of(update).user_id  # an anonymous admin chooses for its chat
    async with services(context).sessions() as session, session.begin():
        await queries.upsert_user(session, speaker, display_name(message))
    choice = (context.args or [""])[0].lower()
    if choice in ("zh", "en"):
        await _set_language(context, speaker, choice)
        await message.reply_text(text("lang_set", choice))  # type: ignore[arg-type]
        return
    # Whoever presses chooses for themself; an anonymous admin's buttons name its chat.
    suffix = "" if speaker == sender(update).id else f":{speaker}"
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("中文", callback_data=f"lang:zh{suffix}"),
                InlineKeyboardButton("English", callback_data=f"lang:en{suffix}"),
            ]
        ]
    )
    await message.reply_text("中文 / English?", reply_markup=keyboard)


async def _set_language(context: ContextTypes.DEFAULT_TYPE, speaker: int, lang: str) -> bool:
    """Store `speaker`'s choice; False when they are unknown (forgotten since /lang)."""
    try:
        async with services(context).sessions() as session, session.begin():
            await queries.set_user_language(session, speaker, lang)
    except NotFound:
        return False
    remember_language(context, speaker, lang)
    return True


async def new_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/new: ask for a new photo (in groups: with /talk, as a group makes characters)."""
    assert update.effective_message is not None
    key = "talk_needs_photo" if Place.of(update).group else "new_photo"
    await update.effective_message.reply_text(text(key, await user_language(update, context)))


async def characters_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/characters: the recent characters of this chat, as buttons to switch to."""
    message = update.effective_message
    assert message is not None
    lang = await user_language(update, context)
    async with services(context).sessions() as session:
        recent = await queries.recent_characters(
            session, Place.of(update).chat_id, RECENT_CHARACTERS
        )
    if not recent:
        key = "talk_needs_photo" if Place.of(update).group else "characters_empty"
        await message.reply_text(text(key, lang))
        return
    rows = [
        [InlineKeyboardButton(c.persona_name[:60], callback_data=f"use:{c.id}")] for c in recent
    ]
    await message.reply_text(
        text("characters_title", lang), reply_markup=InlineKeyboardMarkup(rows)
    )


async def reset_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reset: clear the current character's conversation (the creator or a group admin only)."""
    message = update.effective_message
    assert message is not None
    svc, place = services(context), Place.of(update)
    lang = await user_language(update, context)
    character = await character_for_command(update, context, lang)
    if character is None:
        return
    allowed = not place.group or await speaks_for(context.bot, place, character.owner_id)
    if not allowed and not await is_group_admin(context.bot, message, place):
        await message.reply_text(text("reset_not_allowed", lang))
        return
    async with svc.sessions() as session, session.begin():
        await queries.clear_history(session, character.id)
    svc.media.stop([character.id])  # no voice or video of the cleared lines comes after this
    await message.reply_text(text("reset_done", lang, name=character.persona_name))


async def image_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/image: draw the current character saying its last line again."""
    message = update.effective_message
    assert message is not None
    svc, place = services(context), Place.of(update)
    lang = await user_language(update, context)
    character = await character_for_command(update, context, lang)
    if character is None:
        return
    async with svc.sessions() as session:
        last = await queries.last_character_turn(session, character.id)
    async with svc.limits.job(place.user_id):
        try:
            image = await load_photo(context.bot, svc.actor, character.photo_file_id)
            if last is None:
                line = await svc.actor.first_line(persona_of(character), chat_key=place.chat_id)
                said = await say(svc, context.bot, character, line, reply_to=message.message_id)
                if said is None:
                    return  # forgotten meanwhile
                spoken = said
            else:
                spoken = SpokenLine(last.id, last.text, None)
            if spoken.message is None:
                # An earlier line is drawn again: the picture answers the command, with the line.
                spoken = SpokenLine(spoken.turn_id, spoken.text, message)
            await draw_picture(svc, context.bot, character, image, spoken, lang=lang)
        except InferenceError as exc:
            await message.reply_text(text(failure_key(exc), lang))


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: after a confirmation, delete what is stored about the user."""
    message = update.effective_message
    assert message is not None
    place = Place.of(update)
    lang = await user_language(update, context)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    text("forget_yes", lang), callback_data=f"forget:yes:{place.user_id}"
                ),
                InlineKeyboardButton(
                    text("forget_no", lang), callback_data=f"forget:no:{place.user_id}"
                ),
            ]
        ]
    )
    key = "forget_group_confirm" if place.group else "forget_confirm"
    await message.reply_text(text(key, lang), reply_markup=keyboard)


async def stats_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats (admins only): users, characters, messages, queue depth, latency percentiles."""
    svc = services(context)
    message = update.effective_message
    if message is None or sender(update).id not in svc.settings.admin_user_ids:
        return  # admin commands give nothing away to anyone else
    async with svc.sessions() as session:
        counts = await queries.stats(session)
    lines = [
        f"users: {counts.users}",
        f"characters: {counts.characters}",
        f"messages: {counts.messages}",
        f"queue: {svc.actor.queue_depth}",
    ]
    for kind in ("text", "caption", "mouths", "video"):
        lines.append(f"{kind}: {_percentiles(svc.actor.latencies(kind))}")
    await message.reply_text("\n".join(lines))


def _percentiles(samples: list[float]) -> str:
    """'p50 0.12 s · p95 0.40 s (n=37)', or '-' with no samples yet."""
    if not samples:
        return "-"
    if len(samples) == 1:
        return f"p50 {samples[0]:.2f} s (n=1)"
    cuts = statistics.quantiles(samples, n=20, method="inclusive")
    return f"p50 {cuts[9]:.2f} s · p95 {cuts[18]:.2f} s (n={len(samples)})"


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Inline buttons: switch character, choose language, confirm /forget."""
    query = update.callback_query
    assert query is not None and query.data is not None
    svc, place = services(context), Place.of(update)
    kind, _, value = query.data.partition(":")
    if kind == "lang":
        choice, _, speaker_text = value.partition(":")
        speaker = int(speaker_text) if speaker_text else place.user_id
        if speaker == place.user_id:  # their own choice: a row for it, whatever happened since
            async with svc.sessions() as session, session.begin():
                await queries.upsert_user(session, speaker, sender(update).full_name)
        # An anonymous admin's buttons are pressed by a real admin of the chat it spoke for.
        chosen = (
            choice in ("zh", "en")
            and await speaks_for(context.bot, place, speaker)
            and await _set_language(context, speaker, choice)
        )
        await query.answer()
        if chosen:
            await query.edit_message_text(text("lang_set", choice))  # type: ignore[arg-type]
        return
    lang = await user_language(update, context)
    if kind == "use":
        async with svc.sessions() as session, session.begin():
            character = await queries.get_character(session, int(value))
            if character is None or character.chat_id != place.chat_id:
                await query.answer(text("character_gone", lang), show_alert=True)
                return
            await queries.set_active_character(session, *place.active, character.id)
        await query.answer()
        await query.edit_message_text(text("switched", lang, name=character.persona_name))
        return
    if kind == "forget":
        answer, _, owner_text = value.partition(":")
        owner = int(owner_text)
        # An anonymous admin's button is pressed by a real admin of the chat it spoke for.
        if not await speaks_for(context.bot, place, owner):
            await query.answer()  # someone else's confirmation button
            return
        if answer == "yes":
            erased = []
            # A photo of theirs being described right now is not kept either.
            svc.forgotten.mark(owner, place.chat_id if place.group else None)
            async with svc.sessions() as session, session.begin():
                if place.group:
                    await queries.forget_user_in_chat(session, owner, place.chat_id)
                else:
                    erased = await queries.forget_user(session, owner)
            # Nothing of the erased characters arrives afterwards, nor stays in memory.
            svc.media.stop([character.id for character in erased])
            svc.actor.forget_faces([character.description for character in erased])
            for character in erased:
                svc.faceless.discard(character.photo_file_id)
            if context.user_data is not None:
                context.user_data.clear()
        done = "forget_group_done" if place.group else "forget_done"
        await query.answer()
        await query.edit_message_text(text(done if answer == "yes" else "forget_cancelled", lang))
        return
    await query.answer()
