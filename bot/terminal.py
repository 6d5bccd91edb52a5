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

from bot.failures import failure_key
from bot.progress import progress
from bot.settings import Settings
from bot.texts import Lang, text
from inference.actor import Actor
from inference.errors import BadImage, InferenceError
from inference.images import decode_image
from inference.language import detect_language, language_from_code
from inference.types import Turn


@dataclass(frozen=True)
class ChatOptions:
    photo: Path
    lang: Lang | None = None  # None: follow the user's writing
    out_dir: Path | None = None  # default: next to the photo
    draw: bool = True


def run_chat(settings: Settings, options: ChatOptions) -> int:
    """Run the terminal chat; returns the process exit code."""
    try:
        return asyncio.run(_chat(settings, options))
    except KeyboardInterrupt:  # Ctrl-C: leave at once, without a traceback
        print()
        return 130


async def _chat(settings: Settings, options: ChatOptions) -> int:
    ui: Lang = options.lang or language_from_code(os.environ.get("LANG"))
    if not options.photo.is_file():
        print(text("cli_no_photo", ui, path=options.photo), file=sys.stderr)
        return 2
    config = settings.inference if options.draw else replace(settings.inference, image_model="")
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


async def _converse(actor: Actor, image: Image.Image, options: ChatOptions, ui: Lang) -> int:
    try:
        async with progress(text("cli_looking", ui)):
            description = await actor.describe(image)
        print(text("cli_sees", ui, description=description))
        async with progress(text("cli_thinking", ui)):
            persona = await actor.create_persona(description, ui)
        print(
            text(
                "cli_persona",
                ui,
                name=persona.name,
                traits=persona.traits,
                style=persona.speaking_style,
            )
        )
        async with progress(text("cli_speaking", ui)):
            line = await actor.first_line(persona)
        print(f"{persona.name}: {line}", flush=True)
        if options.draw:
            async with progress(text("cli_drawing", ui)):
                picture = await actor.talking_image(image, persona, line)
            if picture.flagged:
                print(text("cli_withheld", ui))
            else:
                out_dir = options.out_dir or options.photo.parent
                out_dir.mkdir(parents=True, exist_ok=True)
                path = out_dir / f"{options.photo.stem}.talking.jpg"
                await asyncio.to_thread(path.write_bytes, picture.jpeg)
                print(text("cli_saved", ui, path=path), flush=True)
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
        language = options.lang or detect_language(said) or ui
        try:
            async with progress(text("cli_replying", language, name=persona.name)):
                answer = await actor.reply(persona, history, said, language=options.lang)
        except InferenceError as exc:
            print(text(failure_key(exc), language), file=sys.stderr)
            continue
        print(f"{persona.name}: {answer}", flush=True)
        history += [Turn("user", said), Turn("character", answer)]
    print(text("cli_bye", ui))
    return 0


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
