"""How a character's words and pictures reach the chat, stored first so nothing is lost."""

from __future__ import annotations

import contextlib
import logging
import math
from dataclasses import dataclass

from PIL import Image
from telegram import Bot, Message, ReplyParameters
from telegram.constants import ChatAction
from telegram.error import TelegramError

from bot.conversation import persona_of
from bot.downloads import load_photo
from bot.failures import failure_key
from bot.sending import StatusMessage, action_while_slow, send_picture, send_text, send_voice
from bot.services import Services
from bot.texts import text
from inference.errors import InferenceError
from inference.types import Language, Speech
from inference.video import TalkingVideo
from storage import queries
from storage.errors import NotFound
from storage.records import CharacterRecord, ChatSettingsRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpokenLine:
    """A stored character turn and, when Telegram took it, the message that carries it."""

    turn_id: int
    text: str
    message: Message | None

    @property
    def message_id(self) -> int | None:
        return self.message.message_id if self.message is not None else None


async def say(
    svc: Services, bot: Bot, character: CharacterRecord, line: str, *, reply_to: int | None
) -> SpokenLine | None:
    """Store the character's turn, send it, then remember its Telegram id for reply routing.

    The turn is committed before sending: if Telegram fails for good, the conversation is
    still whole and the line can be drawn again with /image. None when the character was
    forgotten (/forget) while its line was being written: nothing is stored or sent.
    """
    try:
        async with svc.sessions() as session, session.begin():
            turn = await queries.add_message(
                session,
                character_id=character.id,
                chat_id=character.chat_id,
                author_id=None,
                author_name=character.persona_name,
                role="character",
                text=line,
            )
    except NotFound:
        log.info("character %d was forgotten before its line was said", character.id)
        return None
    try:
        sent = await send_text(bot, character.chat_id, line, reply_to=reply_to)
    except TelegramError:
        log.exception("could not send character %d's line; it is stored", character.id)
        return SpokenLine(turn.id, line, None)
    with contextlib.suppress(NotFound):  # cleared by /reset meanwhile: nothing to link
        async with svc.sessions() as session, session.begin():
            await queries.set_telegram_message_id(session, turn.id, sent.message_id)
    return SpokenLine(turn.id, line, sent)


async def draw_picture(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    image: Image.Image,
    line: SpokenLine,
    *,
    lang: Language,
    status: StatusMessage | None = None,
) -> None:
    """Draw the character saying `line` and send it as a reply to the line's message.

    Whatever happens, the status note ends ("done", or what went wrong): /reset or /forget
    meanwhile only means the picture is not linked to a turn that no longer exists.
    """
    chat_id, reply_to = character.chat_id, line.message_id
    if status is None:
        status = StatusMessage(bot, chat_id, None, reply_to)
    try:
        await status.update(text("status_drawing", lang))
        async with action_while_slow(bot, chat_id, ChatAction.UPLOAD_PHOTO, after_s=0):
            picture = await svc.actor.talking_image(
                image, persona_of(character), line.text, chat_key=chat_id
            )
        if picture.flagged:
            await send_text(bot, chat_id, text("picture_withheld", lang), reply_to=reply_to)
        else:
            sent = await send_picture(bot, chat_id, picture.jpeg, reply_to=reply_to)
            try:
                async with svc.sessions() as session, session.begin():
                    await queries.add_picture(session, line.turn_id, sent.message_id)
            except NotFound:
                log.info("turn %d was cleared while its picture was drawn", line.turn_id)
        await status.update(text("status_done", lang, name=character.persona_name))
    except InferenceError as exc:
        log.warning("talking picture failed: %s", exc)
        await status.fail(text(failure_key(exc), lang))
    except TelegramError as exc:
        log.warning("could not send the talking picture of character %d: %s", character.id, exc)
        await status.fail(text("picture_not_sent", lang))


async def video_wanted(svc: Services, chat_id: int, *, group: bool) -> bool:
    """/video's choice for the chat; never chosen: on in private chats, off in groups."""
    if not svc.settings.image_model.strip():
        return False  # no image model, no mouth to move
    async with svc.sessions() as session:
        choice = (await queries.get_chat_settings(session, chat_id)).video
    return not group if choice is None else choice


async def send_talking_video(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    line: SpokenLine,
    *,
    group: bool,
    speech: Speech | None = None,
    image: Image.Image | None = None,
) -> None:
    """The character saying `line`: a round video note in private chats, a video (with the
    voice) or a silent animation in groups. Comes last and never raises: a video that cannot
    be made costs nothing already sent. `image`: the photo, downloaded again when None."""
    chat_id = character.chat_id
    try:
        if not await video_wanted(svc, chat_id, group=group):
            return
        action = ChatAction.RECORD_VIDEO if group else ChatAction.RECORD_VIDEO_NOTE
        async with action_while_slow(bot, chat_id, action, after_s=0):
            if image is None:
                image = await load_photo(bot, svc.actor, character.photo_file_id)
            video = await svc.actor.talking_video(
                image, persona_of(character), line.text, speech, square=not group, chat_key=chat_id
            )
        if video is not None:  # None: no face in the photo, nothing to animate
            await _send_video(bot, chat_id, video, note=not group, reply_to=line.message_id)
    except InferenceError as exc:
        log.warning("talking video of character %d failed: %s", character.id, exc)
    except TelegramError:
        log.exception("could not send the talking video of character %d", character.id)


async def _send_video(
    bot: Bot, chat_id: int, video: TalkingVideo, *, note: bool, reply_to: int | None
) -> Message:
    reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
    duration = max(1, math.ceil(video.duration_s))
    if note:
        return await bot.send_video_note(
            chat_id,
            video.mp4,
            duration=duration,
            length=video.width,
            filename="talking.mp4",
            reply_parameters=reply,
        )
    send = bot.send_video if video.has_sound else bot.send_animation  # silent: a GIF-like loop
    return await send(
        chat_id,
        video.mp4,
        duration=duration,
        width=video.width,
        height=video.height,
        filename="talking.mp4",
        reply_parameters=reply,
    )


def voice_is_on(chosen: ChatSettingsRecord, *, group: bool) -> bool:
    """/voice as the chat chose it; never chosen: on in private chats, off in groups."""
    return chosen.voice if chosen.voice is not None else not group


async def speak_line(
    svc: Services, bot: Bot, character: CharacterRecord, line: SpokenLine, *, group: bool
) -> Speech | None:
    """After the text line: the character says it, as a voice message replying to the line.

    Returns the Speech it sent (the talking video reuses it), or None when the chat has voice
    off, there is no speech model, or it failed (the text is already there: nothing is lost).
    """
    if not svc.actor.can_speak or not any(ch.isalnum() for ch in line.text):
        return None
    async with svc.sessions() as session:
        chosen = await queries.get_chat_settings(session, character.chat_id)
    if not voice_is_on(chosen, group=group):
        return None
    voice = character.voice
    if voice is None:  # chosen once, from what the caption model saw, then kept
        voice = svc.actor.voice_for(character.description, persona_of(character).language)
        try:
            async with svc.sessions() as session, session.begin():
                await queries.set_character_voice(session, character.id, voice)
        except NotFound:  # forgotten (/forget) meanwhile: nothing to say it with
            return None
    try:
        async with action_while_slow(bot, character.chat_id, ChatAction.RECORD_VOICE, after_s=0):
            speech = await svc.actor.speak(line.text, voice, chat_key=character.chat_id)
        await send_voice(
            bot, character.chat_id, speech.ogg_opus, duration_s=speech.duration_s,
            reply_to=line.message_id,
        )  # fmt: skip
    except InferenceError as exc:
        log.warning("character %d's voice failed: %s", character.id, exc)
        return None
    except TelegramError:
        log.exception("could not send character %d's voice", character.id)
        return None
    return speech


async def voice_picture_video(
    svc: Services,
    bot: Bot,
    character: CharacterRecord,
    image: Image.Image,
    line: SpokenLine,
    *,
    lang: Language,
    group: bool,
    status: StatusMessage | None = None,
) -> None:
    """After a first line: its voice, the talking picture, then the talking video (with that
    voice as its sound), each sent when ready."""
    speech = await speak_line(svc, bot, character, line, group=group)
    await draw_picture(svc, bot, character, image, line, lang=lang, status=status)
    await send_talking_video(svc, bot, character, line, group=group, speech=speech, image=image)
