"""`photo-talk chat PHOTO`: the whole actor in a terminal, no Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from bot.cli.progress import progress
from bot.failures import failure_key
from bot.settings import Settings
from bot.texts import text
from inference.actor import Actor
from inference.errors import AudioTooLong, BadAudio, BadImage, InferenceError, Unheard
from inference.images import decode_image
from inference.language import detect_language, language_from_code
from inference.types import Language, Speech, Turn
from inference.voice.asr import Transcript


@dataclass(frozen=True)
class ChatOptions:
    photo: Path
    lang: Language | None = None  # None: follow the user's writing
    out_dir: Path | None = None  # default: next to the photo
    draw: bool = True
    voice: bool = False  # write each spoken line as an .ogg next to the pictures
    video: bool = False  # also the talking video of the first line (needs an image model)

    @property
    def folder(self) -> Path:
        return self.out_dir or self.photo.parent


def run_chat(settings: Settings, options: ChatOptions) -> int:
    """Run the terminal chat; returns the process exit code."""
    try:
        return asyncio.run(_chat(settings, options))
    except KeyboardInterrupt:  # Ctrl-C: leave at once, without a traceback
        print()
        return 130


async def _chat(settings: Settings, options: ChatOptions) -> int:
    ui: Language = options.lang or language_from_code(os.environ.get("LANG"))
    if not options.photo.is_file():
        print(text("cli_no_photo", ui, path=options.photo), file=sys.stderr)
        return 2
    config = settings.inference
    if not options.draw:  # no picture, no video: neither model is loaded
        config = replace(config, image_model="", lipsync_model="")
    if not options.voice:  # the speech model is only loaded when it will speak
        config = replace(config, tts_model="")
    # Check the photo before loading the models: a bad file should not cost a minute's wait.
    data = await asyncio.to_thread(options.photo.read_bytes)
    try:
        image = await asyncio.to_thread(decode_image, data, config.max_image_pixels)
    except BadImage as exc:
        print(text(failure_key(exc), ui), file=sys.stderr)
        return 2
    async with progress(text("cli_loading", ui)):
        actor = await asyncio.to_thread(Actor.load, config)
    try:
        return await _converse(actor, image, options, ui)
    finally:
        actor.close()


async def _converse(actor: Actor, image: Image.Image, options: ChatOptions, ui: Language) -> int:
    try:
        async with progress(text("cli_looking", ui)):
            description = await actor.describe(image)
        print(text("cli_sees", ui, description=description))
        async with progress(text("cli_thinking", ui)):  # card and first line: one generation
            introduction = await actor.introduce(description, ui)
        persona, line = introduction.persona, introduction.first_line
        print(
            text(
                "cli_persona",
                ui,
                name=persona.name,
                traits=persona.traits,
                style=persona.speaking_style,
            )
        )
        print(f"{persona.name}: {line}", flush=True)
        voice = actor.voice_for(description, persona.language)
        spoken = Voice(actor, options, voice, ui)
        speech = await spoken.say(line)
        if options.draw:
            async with progress(text("cli_drawing", ui)):
                picture = await actor.talking_image(image, persona, line, speech=speech)
            if picture.flagged:
                print(text("cli_withheld", ui))
            else:
                path = await _save(options, "jpg", picture.jpeg)
                print(text("cli_saved", ui, path=path), flush=True)
        if options.draw and options.video:
            async with progress(text("cli_filming", ui)):
                video = await actor.talking_video(image, persona, line, speech)
            if video is None:
                print(text("cli_no_video", ui))
            else:
                path = await _save(options, "mp4", video.mp4)
                print(text("cli_video_saved", ui, path=path), flush=True)
    except InferenceError as exc:
        print(text(failure_key(exc), ui), file=sys.stderr)
        return 1

    print(text("cli_hint", ui), flush=True)
    history: list[Turn] = [Turn("character", line)]
    while True:
        print("> ", end="", flush=True)
        raw = await _read_line()
        if not raw:  # Ctrl-D
            print()
            break
        said = raw.strip()
        if said == "/quit":
            break
        if not said:
            continue
        forced = options.lang
        if said.startswith("/say "):  # an audio file as the user's turn
            heard = await _hear(actor, Path(said[5:].strip()), ui)
            if heard is None:
                continue
            said, forced = heard.text, options.lang or heard.language
        language = forced or detect_language(said) or ui
        try:
            async with progress(text("cli_replying", language, name=persona.name)):
                answer = await actor.reply(persona, history, said, language=forced)
        except InferenceError as exc:
            print(text(failure_key(exc), language), file=sys.stderr)
            continue
        print(f"{persona.name}: {answer}", flush=True)
        await spoken.say(answer)
        history += [Turn("user", said), Turn("character", answer)]
    print(text("cli_bye", ui))
    return 0


async def _save(options: ChatOptions, extension: str, data: bytes) -> Path:
    """Write `PHOTO.talking.<extension>` into the output folder (default: beside the photo)."""
    options.folder.mkdir(parents=True, exist_ok=True)
    path = options.folder / f"{options.photo.stem}.talking.{extension}"
    await asyncio.to_thread(path.write_bytes, data)
    return path


class Voice:
    """--voice: each line the character says, spoken into <photo>.line-N.ogg."""

    def __init__(self, actor: Actor, options: ChatOptions, voice: str, ui: Language) -> None:
        self._actor, self._options, self._voice, self._ui = actor, options, voice, ui
        self._count = 0

    async def say(self, line: str) -> Speech | None:
        """The line spoken and saved; the Speech (for the talking video), or None."""
        if not (self._options.voice and self._actor.can_speak):
            return None
        self._count += 1
        try:
            speech = await self._actor.speak(line, self._voice)
        except InferenceError as exc:
            print(text(failure_key(exc), self._ui), file=sys.stderr)
            return None
        self._options.folder.mkdir(parents=True, exist_ok=True)
        path = self._options.folder / f"{self._options.photo.stem}.line-{self._count}.ogg"
        await asyncio.to_thread(path.write_bytes, speech.ogg_opus)
        print(text("cli_voice_saved", self._ui, path=path), flush=True)
        return speech


async def _hear(actor: Actor, path: Path, ui: Language) -> Transcript | None:
    """/say FILE: what is said in an audio file (printed), or None with the reason printed."""
    if not await asyncio.to_thread(path.is_file):
        print(text("cli_no_audio", ui, path=path), file=sys.stderr)
        return None
    if not actor.can_listen:
        print(text("voice", ui), file=sys.stderr)
        return None
    try:
        heard = await actor.transcribe(await asyncio.to_thread(path.read_bytes))
    except AudioTooLong:
        print(text("voice_too_long", ui, seconds=round(actor.max_voice_seconds)), file=sys.stderr)
        return None
    except (BadAudio, Unheard) as exc:
        key = "voice_unheard" if isinstance(exc, Unheard) else "voice_unreadable"
        print(text(key, ui), file=sys.stderr)
        return None
    except InferenceError as exc:
        print(text(failure_key(exc), ui), file=sys.stderr)
        return None
    print(text("cli_heard", ui, text=heard.text), flush=True)
    return heard


async def _read_line() -> str:
    """One line of stdin ("" at its end) from a daemon thread: unlike the default executor,
    which asyncio.run joins on exit, it cannot keep Ctrl-C waiting for the Enter key."""
    loop = asyncio.get_running_loop()
    line: asyncio.Future[str] = loop.create_future()

    def resolve(value: str) -> None:
        if not line.done():
            line.set_result(value)

    def read() -> None:
        value = sys.stdin.readline()
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(resolve, value)

    threading.Thread(target=read, name="photo-talk-stdin", daemon=True).start()
    return await line
