"""How fast the AI core serves: load, each stage, photo to picture, priority, batching, loop lag.

    python tests/bench/bench_pipeline.py --device cpu --models tiny
    python tests/bench/bench_pipeline.py --device cuda --models full-size --json speed.json
    python tests/bench/bench_pipeline.py --device cpu --models full-size --scale 0.02  # smoke

--models: tiny (the test checkpoints, built in a temp folder), default (the real hub ids from
bot/settings.py, for a machine that has them cached), full-size (the default architectures at
their real sizes with random weights, built locally; see full_size_checkpoints.py).
Everything goes through inference.Actor, exactly as the bot uses it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

import torch
from PIL import Image, ImageDraw

from bot.settings import DEFAULT_CAPTION_MODEL, DEFAULT_DIALOGUE_MODEL, DEFAULT_IMAGE_MODEL
from inference.actor import Actor
from inference.config import InferenceConfig
from inference.serving.loading import load_models
from inference.types import ChatRequest, Persona

LOOP_LAG_TARGET_MS = 50.0
TICK_S = 0.010
USERS = (1, 4, 8, 16)
MESSAGES = [
    "Hello! Where was this photo taken?",
    "你好，你今天心情怎么样？",
    "What were you thinking about at that moment?",
    "你穿的这件衣服是在哪里买的？",
]


class LoopLag:
    """A 10 ms asyncio ticker: how late it wakes is how long the event loop was blocked."""

    def __init__(self) -> None:
        self.worst_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + TICK_S
            await asyncio.sleep(TICK_S)
            self.worst_ms = max(self.worst_ms, (loop.time() - due) * 1000)

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


class CountingGenerate:
    """Counts text generations (a garbled line is retried once: random weights always are)."""

    def __init__(self, generate: Callable[[list[ChatRequest]], list[str]]) -> None:
        self.generate = generate
        self.calls = 0
        self.rows = 0

    def __call__(self, requests: list[ChatRequest], on_text: Any = None) -> list[str]:
        self.calls += 1
        self.rows += len(requests)
        return self.generate(requests, on_text)


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
    }


async def timed(rounds: int, action: Callable[[int], Awaitable[Any]]) -> list[float]:
    durations = []
    for i in range(rounds):
        started = time.perf_counter()
        await action(i)
        durations.append(time.perf_counter() - started)
    return durations


def portrait() -> Image.Image:
    image = Image.new("RGB", (768, 1024), (40, 60, 90))
    ImageDraw.Draw(image).ellipse((180, 160, 590, 760), fill=(180, 140, 120))
    return image


def model_folders(kind: str, root: Path, scale: float, device: str) -> tuple[str, str, str]:
    if kind == "default":
        return DEFAULT_CAPTION_MODEL, DEFAULT_DIALOGUE_MODEL, DEFAULT_IMAGE_MODEL
    if kind == "tiny":
        from tiny_checkpoints import build_all

        folders = build_all(root)
    else:
        from full_size_checkpoints import build_full_size

        folders = build_full_size(root, scale, device)
    return str(folders.caption), str(folders.dialogue), str(folders.image)


async def measure(config: InferenceConfig, rounds: int, results: dict[str, Any]) -> None:
    lag = LoopLag()
    lag.start()
    stages: dict[str, Any] = {}
    results["stages"] = stages
    # 1. load (off the loop, as the bot does), then the warm-up the bot runs at start
    started = time.perf_counter()
    models = await asyncio.to_thread(load_models, config)
    counter = CountingGenerate(models.dialogue.generate)
    models.dialogue.generate = counter  # type: ignore[method-assign]
    actor = Actor(models, config)
    results["load_s"] = round(time.perf_counter() - started, 2)
    results["warm_up_s"] = round(await actor.warm_up(), 2)
    results["fast_decoding"] = models.dialogue.fast  # False after a failed compile, or on CPU
    try:
        photo = portrait()
        # 2. each stage alone, one user
        description = await actor.describe(photo)
        stages["caption"] = percentiles(await timed(rounds, lambda i: actor.describe(photo)))
        persona: Persona = await actor.create_persona(description, "en")

        async def meet(i: int) -> None:
            await actor.introduce(description, "en")

        stages["card + first line"] = percentiles(await timed(rounds, meet))
        before = counter.calls
        reply_s = await timed(
            rounds, lambda i: actor.reply(persona, [], MESSAGES[i % len(MESSAGES)])
        )
        stages["reply"] = percentiles(reply_s)
        results["generations_per_reply"] = round((counter.calls - before) / rounds, 2)
        results["first_draft"] = await first_drafts(actor, persona, rounds)
        line = await actor.first_line(persona)
        if models.painter is not None:
            stages["image"] = percentiles(
                await timed(rounds, lambda i: actor.talking_image(photo, persona, line))
            )
        # 3. photo -> first line -> picture, as a new user sees it
        to_line, to_picture = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            seen = await actor.describe(photo)
            introduction = await actor.introduce(seen, "en")  # as bot/handlers/photos.py
            to_line.append(time.perf_counter() - started)
            await actor.talking_image(photo, introduction.persona, introduction.first_line)
            to_picture.append(time.perf_counter() - started)
        stages["e2e photo->first line"] = percentiles(to_line)
        stages["e2e photo->picture"] = percentiles(to_picture)
        # 4. priority: a reply while 4 pictures wait in the queue
        if models.painter is not None:
            busy = []
            for _ in range(rounds):
                pictures = [
                    asyncio.create_task(
                        actor.talking_image(photo, persona, line, chat_key=f"painter-{n}")
                    )
                    for n in range(4)
                ]
                await asyncio.sleep(0)  # all four queued
                started = time.perf_counter()
                await actor.reply(persona, [], MESSAGES[0], chat_key="talker")
                busy.append(time.perf_counter() - started)
                await asyncio.gather(*pictures)
            stages["reply with 4 images queued"] = percentiles(busy)
        # 5. batching: N users at once (distinct chats) vs one at a time
        results["batching"] = await batching(actor, persona, rounds)
    finally:
        lag.stop()
        actor.close()
    results["event_loop_lag_max_ms"] = round(lag.worst_ms, 1)
    results["event_loop_lag_target_ms"] = LOOP_LAG_TARGET_MS
    results["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if torch.cuda.is_available() and config.device.startswith("cuda"):
        results["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)


async def first_drafts(actor: Actor, persona: Persona, rounds: int) -> dict[str, Any] | str:
    """Seconds from asking for a reply to its first draft on the event loop (streaming)."""
    waits = []
    for i in range(rounds):
        started = time.perf_counter()
        first: list[float] = []

        def on_draft(text: str, first: list[float] = first, started: float = started) -> None:
            if not first:
                first.append(time.perf_counter() - started)

        await actor.reply(persona, [], MESSAGES[i % len(MESSAGES)], on_draft=on_draft)
        waits.extend(first)
    if not waits:  # random weights: text the output checks reject is never shown
        return "none shown (the text was rejected by the output checks)"
    return percentiles(waits)


async def batching(actor: Actor, persona: Persona, rounds: int) -> dict[str, Any]:
    rates: dict[str, Any] = {}
    for users in USERS:
        started = time.perf_counter()
        for _ in range(rounds):
            await asyncio.gather(
                *(
                    actor.reply(persona, [], MESSAGES[u % len(MESSAGES)], chat_key=f"user-{u}")
                    for u in range(users)
                )
            )
        seconds = time.perf_counter() - started
        rates[str(users)] = {"replies_per_s": round(users * rounds / seconds, 2)}
    sequential = rates["1"]["replies_per_s"]
    for row in rates.values():
        row["speed_up"] = round(row["replies_per_s"] / sequential, 2)
    return rates


def print_table(results: dict[str, Any]) -> None:
    print(f"\nmodels: {results['models']}  device: {results['device']}")
    print(f"load {results['load_s']} s, warm-up {results['warm_up_s']} s", end=", ")
    print("fast decoding path" if results["fast_decoding"] else "eager decoding")
    print(f"{'stage':<30} {'p50 ms':>9} {'p95 ms':>9}")
    for name, row in results["stages"].items():
        print(f"{name:<30} {row['p50_ms']:>9} {row['p95_ms']:>9}")
    print(f"text generations per reply: {results['generations_per_reply']}")
    print(f"first draft: {results['first_draft']}")
    print(f"{'concurrent users':<18} {'replies/s':>10} {'speed-up':>9}")
    for users, row in results["batching"].items():
        print(f"{users:<18} {row['replies_per_s']:>10} {row['speed_up']:>9}")
    lag = results["event_loop_lag_max_ms"]
    verdict = "within" if lag <= LOOP_LAG_TARGET_MS else "OVER"
    print(f"event-loop lag max {lag} ms ({verdict} the {LOOP_LAG_TARGET_MS:.0f} ms target)")
    print(f"peak RSS {results['peak_rss_mib']} MiB", end="")
    if "peak_cuda_mib" in results:
        print(f", peak CUDA memory {results['peak_cuda_mib']} MiB", end="")
    print()


def _compile_setting(value: str) -> bool | Literal["auto"]:
    return "auto" if value == "auto" else value == "true"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--models", choices=["tiny", "default", "full-size"], default="tiny")
    parser.add_argument("--scale", type=float, default=1.0, help="full-size only: shrink it")
    parser.add_argument("--rounds", type=int, default=5, help="repetitions per measurement")
    parser.add_argument("--image-size", type=int, default=512)
    parser.add_argument("--max-new-tokens", type=int, default=160)
    parser.add_argument("--max-batch-size", type=int, default=8)
    parser.add_argument("--torch-compile", choices=["auto", "true", "false"], default="auto")
    parser.add_argument("--no-pictures", action="store_true", help="IMAGE_MODEL empty")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        caption, dialogue, image = model_folders(args.models, Path(folder), args.scale, args.device)
        built_s = time.perf_counter() - started
        config = InferenceConfig(
            caption_model=caption,
            dialogue_model=dialogue,
            image_model="" if args.no_pictures else image,
            device=args.device,
            image_size=args.image_size,
            max_new_tokens=args.max_new_tokens,
            max_batch_size=args.max_batch_size,
            torch_compile=_compile_setting(args.torch_compile),
        )
        results: dict[str, Any] = {
            "models": args.models + (f" (scale {args.scale})" if args.scale < 1 else ""),
            "device": args.device,
            "torch": torch.__version__,
            "config": {k: v for k, v in vars(config).items() if not k.endswith("_model")},
            "build_s": round(built_s, 1),
        }
        if args.device == "cuda":
            results["gpu"] = torch.cuda.get_device_name()
        asyncio.run(measure(config, args.rounds, results))
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
