"""Text never waits for media: reply times with voices and videos being made, and without.

    python tests/bench/bench_lanes.py --device cpu --models tiny
    python tests/bench/bench_lanes.py --device cuda --models full-size --json lanes.json

Through inference.Actor, as the bot uses it (each reply's voice and video follow it in the
background, as bot/sending/media_order.py starts them). Measures:
1. 8 users each sending `--rounds` messages at once: reply p50/p95 with media off (replies
   only) and on (every reply spoken and filmed, the default configuration);
2. one user's reply while another user's long voice (a line of ~15 s of speech) is being made,
   against the same reply on an idle actor.
Ratios are what to read on a shared or small machine: on two CPU cores media competes with
text for the same cores, so a ratio near 1 is for a GPU; what must not happen anywhere is a
reply queued until a voice is done (that would be a ratio of the voice's whole time).
--models: tiny (the test checkpoints), full-size (the default architectures with random
weights: see full_size_checkpoints.py, and bench_voice.py for the speech model's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

import torch
from PIL import Image

from inference.actor import Actor
from inference.config import InferenceConfig
from inference.types import Persona

USERS = 8
PERSONA = Persona("Anna", "warm, curious", "short and friendly", "a woman smiling in a park")
MESSAGE = "Hello! Where was this photo taken?"
# About 15 seconds of speech at a calm pace (some 40 words).
LONG_LINE = (
    "Well, that was the summer we drove all the way to the coast in my father's old car, "
    "singing every song we knew, stopping at every little village on the way, and I still "
    "remember how the sea smelled the morning we finally arrived."
)


def portrait() -> Image.Image:
    """A real face (scikit-image's astronaut), so every reply also gets its video."""
    from sample_photos import photo

    return photo("astronaut")


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50_s": round(statistics.median(ordered), 3), "p95_s": round(p95, 3)}


async def media_after(actor: Actor, photo: Image.Image, line: str, user: int) -> None:
    """What the bot makes after a reply: its voice, then its video with that voice."""
    speech = await actor.speak(line, actor.voice_for(PERSONA.description, "en"), chat_key=user)
    await actor.talking_video(photo, PERSONA, line, speech, chat_key=user)


async def replies(actor: Actor, rounds: int, media: bool) -> dict[str, Any]:
    """USERS users at once, each writing as soon as its previous reply arrived."""
    photo, times, background = portrait(), [], []

    async def user(number: int) -> None:
        for _ in range(rounds):
            started = time.perf_counter()
            line = await actor.reply(PERSONA, [], MESSAGE, chat_key=number)
            times.append(time.perf_counter() - started)
            if media:
                background.append(asyncio.create_task(media_after(actor, photo, line, number)))

    started = time.perf_counter()
    await asyncio.gather(*(user(n) for n in range(USERS)))
    replies_done = time.perf_counter() - started
    await asyncio.gather(*background)
    return {
        **percentiles(times),
        "replies_s": round(replies_done, 2),
        "with_media_s": round(time.perf_counter() - started, 2),
    }


async def reply_beside_a_voice(actor: Actor, rounds: int) -> dict[str, Any]:
    """One reply while another user's long voice is made, against the same reply idle."""
    voice = actor.voice_for(PERSONA.description, "en")
    idle, busy, voices = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        await actor.reply(PERSONA, [], MESSAGE, chat_key="talker")
        idle.append(time.perf_counter() - started)
    for _ in range(rounds):
        speaking = asyncio.create_task(actor.speak(LONG_LINE, voice, chat_key="speaker"))
        await asyncio.sleep(0.05)  # the voice has started on the media lane
        started = time.perf_counter()
        await actor.reply(PERSONA, [], MESSAGE, chat_key="talker")
        busy.append(time.perf_counter() - started)
        voice_started = time.perf_counter()
        speech = await speaking
        voices.append((speech.duration_s, time.perf_counter() - voice_started))
    idle_p50, busy_p50 = statistics.median(idle), statistics.median(busy)
    return {
        "idle": percentiles(idle),
        "beside_a_voice": percentiles(busy),
        "ratio_p50": round(busy_p50 / idle_p50, 2),
        "voice_audio_s": round(statistics.median(v[0] for v in voices), 1),
    }


def speech_folder(tts: str, kind: str, root: Path) -> Path:
    """The speech checkpoint: Kokoro (the default voice) or Bark, tiny or at full size."""
    from tiny_voice_checkpoints import (
        KOKORO_82M,
        build_english_tagger,
        build_kokoro_checkpoint,
        build_speech_checkpoint,
    )

    if tts == "bark":
        if kind == "tiny":  # seconds a voice: the long voice the second measure needs
            return build_speech_checkpoint(root / "speech", max_semantic_tokens=60)
        return build_speech_checkpoint(  # bark-small's sizes
            root / "speech", hidden=768, layers=12, heads=12, max_semantic_tokens=256
        )
    sys.path.insert(0, str(build_english_tagger(root / "english_tagger")))  # en_core_web_sm
    if kind == "tiny":
        return build_kokoro_checkpoint(root / "speech")
    return build_kokoro_checkpoint(root / "speech", sizes=KOKORO_82M, frames_per_phoneme=3)


def folders(kind: str, root: Path, device: str, tts: str) -> dict[str, str]:
    if kind == "tiny":
        from tiny_checkpoints import build_all

        models = build_all(root)
        speech = speech_folder(tts, kind, root)
        return {
            "caption_model": str(models.caption),
            "dialogue_model": str(models.dialogue),
            "image_model": str(models.image),
            "tts_model": str(speech),
        }
    from full_size_checkpoints import build_full_size

    models = build_full_size(root, 1.0, device)
    speech = speech_folder(tts, kind, root)  # bench_voice.py reports its own speed
    return {
        "caption_model": str(models.caption),
        "dialogue_model": str(models.dialogue),
        "image_model": str(models.image),
        "tts_model": str(speech),
    }


async def measure(config: InferenceConfig, rounds: int) -> dict[str, Any]:
    actor = Actor.load(config)
    try:
        await actor.warm_up()
        off = await replies(actor, rounds, media=False)
        on = await replies(actor, rounds, media=True)
        beside = await reply_beside_a_voice(actor, rounds)
    finally:
        actor.close()
    results: dict[str, Any] = {
        "users": USERS,
        "media_off": off,
        "media_on": on,
        "ratio_p50": round(on["p50_s"] / off["p50_s"], 2),
        "ratio_p95": round(on["p95_s"] / off["p95_s"], 2),
        "one_reply": beside,
    }
    if torch.cuda.is_available() and config.device.startswith("cuda"):
        results["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--models", choices=["tiny", "full-size"], default="tiny")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--tts", choices=["kokoro", "bark"], default="kokoro", help="kokoro: the default voice"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        config = InferenceConfig(
            **folders(args.models, Path(root), args.device, args.tts),
            device=args.device,
            image_size=64 if args.models == "tiny" else 512,
            max_new_tokens=24 if args.models == "tiny" else 96,
        )
        results = asyncio.run(measure(config, args.rounds))
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
