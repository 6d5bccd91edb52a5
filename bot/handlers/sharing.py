"""/share links: the same character (persona and photo) for someone else, with fresh history."""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.downloads import load_photo
from bot.failures import failure_key
from bot.handlers.common import (
    Place,
    character_for_command,
    display_name,
    speaks_for,
    user_language,
)
from bot.rows import persona_of
from bot.sending.lines import say, voice_picture_video
from bot.services import services
from bot.texts import text
from inference.errors import InferenceError
from inference.types import Language
from storage import queries
from storage.errors import ShareCodeTaken

log = logging.getLogger(__name__)
SHARE_CODE_ATTEMPTS = 5


def new_share_code() -> str:
    """An unguessable code (96 random bits) that fits Telegram's 64-character start payload."""
    return secrets.token_urlsafe(12)


def share_links(bot_username: str, code: str) -> tuple[str, str]:
    """The deep link that opens the character, and the one that adds it to a group."""
    base = f"https://t.me/{bot_username}"
    return f"{base}?start={code}", f"{base}?startgroup={code}"


async def share_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/share: links to this character for others; /share off revokes them."""
    message = update.effective_message
    assert message is not None
    svc, place = services(context), Place.of(update)
    lang = await user_language(update, context)
    character = await character_for_command(update, context, lang)
    if character is None:
        return
    if not await speaks_for(context.bot, place, character.owner_id):
        await message.reply_text(text("share_not_owner", lang))
        return
    async with svc.sessions() as session, session.begin():
        if (context.args or [""])[0].lower() == "off":
            await queries.set_share_code(session, character.id, None)
            reply = text("share_off", lang, name=character.persona_name)
        else:
            code = character.share_code or await _new_code_for(session, character.id)
            link, group_link = share_links(svc.bot_username, code)
            reply = text(
                "share_link", lang, name=character.persona_name, link=link, group_link=group_link
            )
    await message.reply_text(reply)


async def _new_code_for(session: AsyncSession, character_id: int) -> str:
    """Give the character a fresh share code; one already taken (never in practice) is redrawn."""
    for _ in range(SHARE_CODE_ATTEMPTS):
        code = new_share_code()
        try:
            await queries.set_share_code(session, character_id, code)
        except ShareCodeTaken:
            log.warning("share code collision, drawing another")
            continue
        return code
    raise ShareCodeTaken(f"{SHARE_CODE_ATTEMPTS} codes in a row were taken")


async def open_shared(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str) -> None:
    """A share link was opened: a copy of the character here, fresh history, it speaks first."""
    message = update.effective_message
    assert message is not None
    svc, place = services(context), Place.of(update)
    lang = await user_language(update, context)
    # A shared character costs what a photo costs (a first line and a picture): same limits.
    if not svc.limits.may_take_photo(place.user_id):
        await message.reply_text(text("photo_limit", lang))
        return
    async with svc.limits.job(place.user_id):
        await _open_shared(update, context, code, lang)


async def _open_shared(
    update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, lang: Language
) -> None:
    message = update.effective_message
    assert message is not None
    svc, place, bot = services(context), Place.of(update), context.bot
    async with svc.sessions() as session, session.begin():
        source = await queries.character_by_share_code(session, code)
        if source is None:
            await message.reply_text(text("share_invalid", lang))
            return
        svc.limits.take_photo(place.user_id)
        await queries.upsert_user(session, place.user_id, display_name(message))
        character = await queries.create_character(
            session,
            chat_id=place.chat_id,
            owner_id=place.user_id,
            photo_file_id=source.photo_file_id,
            photo_author_id=source.photo_author_id,
            description=source.description,
            persona_name=source.persona_name,
            persona_traits=source.persona_traits,
            persona_style=source.persona_style,
            language=source.language,
            source_character_id=source.id,
            voice=source.voice,  # a copy sounds like the original
        )
        await queries.set_active_character(session, *place.active, character.id)
    await message.reply_text(text("share_opened", lang, name=character.persona_name))
    try:
        line = await svc.actor.first_line(persona_of(character), chat_key=place.chat_id)
        spoken = await say(svc, bot, character, line, reply_to=None)
        if spoken is None:
            return  # forgotten meanwhile
        image = await load_photo(bot, svc.actor, character.photo_file_id)
    except InferenceError as exc:
        await message.reply_text(text(failure_key(exc), lang))
        return
    except TelegramError:
        log.warning("could not fetch the shared character's photo", exc_info=True)
        return
    svc.media.follow(
        context.application,
        place.chat_id,
        character.id,
        lambda ticket: voice_picture_video(
            svc, bot, character, image, spoken, ticket, lang=lang, group=place.group
        ),
    )
