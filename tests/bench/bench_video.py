"""How fast a face starts talking: face detection, mouth states, encoding, photo -> video note.

    python tests/bench/bench_video.py --device cpu --models tiny
    python tests/bench/bench_video.py --device cuda --models full-size --json video.json
    python tests/bench/bench_video.py --device cpu --models full-size --scale 0.05  # smoke

--models: tiny (the test image checkpoint), full-size (sd-turbo's architecture at its real size
with random weights, see full_size_checkpoints.py). Caption and dialogue are the tiny test
checkpoints either way: no stage measured here uses them. The photo is scikit-image's
astronaut (512 x 512, one face); the voice a 5 s synthetic one at 24 kHz.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

import numpy as np
import torch
from bench_pipeline import percentiles
from sample_photos import photo
from tiny_checkpoints import build_caption_checkpoint, build_dialogue_checkpoint
from tiny_checkpoints import build_image_checkpoint as build_tiny_image

from inference.actor import Actor
from inference.config import InferenceConfig
from inference.face.finder import find_face
from inference.face.video import render_video
from inference.types import Persona, Speech

SPEECH_S = 5.0
RATE = 24_000


def voice(seconds: float = SPEECH_S) -> Speech:
    """Syllable-like bursts of a 180 Hz tone: loud, quiet, loud, as speech goes."""
    t = np.arange(int(seconds * RATE)) / RATE
    envelope = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None)
    samples = (0.6 * envelope * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    return Speech(ogg_opus=b"", samples=samples, sample_rate=RATE)


async def clocked(rounds: int, action: Callable[[int], Any]) -> dict[str, float]:
    """Run `action` off the main thread, as the product does (worker thread, to_thread):
    with few cores, torch on the main thread measured several times slower here."""

    def run() -> list[float]:
        seconds = []
        for i in range(rounds):
            started = time.perf_counter()
            action(i)
            seconds.append(time.perf_counter() - started)
        return seconds

    return percentiles(await asyncio.to_thread(run))


async def measure(config: InferenceConfig, rounds: int, device: str) -> dict[str, Any]:
    started = time.perf_counter()
    actor = Actor.load(config)
    results: dict[str, Any] = {"load_s": round(time.perf_counter() - started, 2)}
    painter = actor._models.painter
    assert painter is not None
    astronaut, speech = photo("astronaut"), voice()
    face = find_face(astronaut)
    assert face is not None
    persona = Persona("Eileen", "calm", "short", "a woman in an orange space suit")
    stages: dict[str, Any] = {}
    try:
        await clocked(1, lambda i: painter.paint_states(astronaut, face, "warm-up", i))
        stages["face detection"] = await clocked(rounds, lambda i: find_face(astronaut))
        stages["mouth states (4 in one call)"] = await clocked(
            rounds, lambda i: painter.paint_states(astronaut, face, persona.description, i)
        )
        states = painter.paint_states(astronaut, face, persona.description, 0)
        note = render_video(astronaut, states, "", speech, square=True)
        stages["encode 5 s video note"] = await clocked(
            rounds, lambda i: render_video(astronaut, states, "", speech, square=True)
        )
        stages["encode 5 s group video"] = await clocked(
            rounds, lambda i: render_video(astronaut, states, "", speech, square=False)
        )
        e2e = []
        for i in range(rounds):
            fresh = Persona("Eileen", "calm", "short", f"{persona.description} {i}")  # no cache
            began = time.perf_counter()
            video = await actor.talking_video(astronaut, fresh, "Hello!", speech, square=True)
            e2e.append(time.perf_counter() - began)
            assert video is not None
        stages["photo -> video note (uncached)"] = percentiles(e2e)
        cached = []
        for _ in range(rounds):
            began = time.perf_counter()
            await actor.talking_video(astronaut, persona, "Hello!", speech, square=True)
            cached.append(time.perf_counter() - began)
        stages["next line -> video note (cached mouths)"] = percentiles(cached)
        results["video_note_bytes"] = len(note.mp4)
    finally:
        actor.close()
    results["stages"] = stages
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if device.startswith("cuda"):
        results["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", choices=["tiny", "full-size"], default="tiny")
    parser.add_argument("--scale", type=float, default=1.0, help="full-size only: shrink it")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--image-size", type=int, default=512)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-video-") as folder:
        root = Path(folder)
        if args.models == "tiny":
            image = build_tiny_image(root / "image")
            size = 64
        else:
            from full_size_checkpoints import build_image

            dtype = torch.bfloat16 if args.scale >= 1 else torch.float32
            with torch.device(args.device):
                image = build_image(root / "image-turbo", args.scale, dtype)
            size = args.image_size
        config = InferenceConfig(
            caption_model=str(build_caption_checkpoint(root / "caption")),
            dialogue_model=str(build_dialogue_checkpoint(root / "dialogue")),
            image_model=str(image),
            device=args.device,
            image_size=size,
        )
        results = asyncio.run(measure(config, args.rounds, args.device))
    results |= {"device": args.device, "models": args.models, "scale": args.scale}
    width = max(len(name) for name in results["stages"])
    for name, row in results["stages"].items():
        print(f"{name:<{width}}  p50 {row['p50_ms']:>8.1f} ms  p95 {row['p95_ms']:>8.1f} ms")
    print({k: v for k, v in results.items() if k != "stages"})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
