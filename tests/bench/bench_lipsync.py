"""How fast the lips follow the voice: video frames per second of lip sync, against today's
painted mouth shapes, and how long a 5 s line's video takes once its voice is ready.

    python tests/bench/bench_lipsync.py --device cpu --models tiny
    python tests/bench/bench_lipsync.py --device cuda --models full-size --batch 16 32 \\
        --json lipsync.json
    python tests/bench/bench_lipsync.py --device cpu --models full-size --scale 0.1 \\
        --rounds 1 --batch 4  # a smoke run: its figures mean nothing

--models: tiny (the tests' checkpoint, tests/tiny_lipsync_checkpoints.py) or full-size
(MuseTalk 1.5's UNet, sd-vae-ft-mse and whisper-tiny at their real sizes with random weights,
full_size_checkpoints.py: speed depends on shapes, not on what the weights say). fp16 on CUDA,
fp32 on CPU, as the bot loads them. The photo is scikit-image's astronaut (512 x 512); the
voice 5 s of syllable-like bursts at 24 kHz (the speech model's rate).

Rows: the painted shapes' video (compose + H.264, the mouths cached per photo as in the bot);
lip sync's model work alone (Whisper, VAE encoder, UNet, VAE decoder) for one line and for
four lines at once (their frames share UNet calls), per batch size; its compose + H.264; and
the whole line -> video after the voice (prepare, model, compose, encode).
"""

from __future__ import annotations

import argparse
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
from bench_video import SPEECH_S, voice
from PIL import Image
from sample_photos import photo
from tiny_lipsync_checkpoints import build_lipsync_checkpoint

from inference.config import InferenceConfig
from inference.face.finder import find_face
from inference.face.lipsync import LipSync
from inference.face.painter import MouthStates
from inference.face.synced_video import lip_sync_job, render_synced_video
from inference.face.video import FPS, render_video
from inference.serving.device import resolve_device
from inference.serving.loading import lipsync_files
from inference.voice.codecs import resample

LINES_AT_ONCE = 4


def prepare_lip_sync(lipsync: LipSync, image: Image.Image, face: Any, speech: Any) -> Any:
    """What the Actor's CPU pool does before the lip-sync stage (face/talking.py)."""
    voice = resample(speech.samples, speech.sample_rate, lipsync.sample_rate)
    return lip_sync_job(lipsync, image, face, voice, None)


def clocked(rounds: int, action: Callable[[], Any]) -> float:
    """The median seconds of `rounds` runs of `action`."""
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    return float(np.median(seconds))


def row(name: str, seconds: float, frames: int) -> dict[str, Any]:
    return {"stage": name, "ms": round(seconds * 1000, 1), "fps": round(frames / seconds, 1)}


def measure(lipsync: LipSync, batches: list[int], rounds: int) -> dict[str, Any]:
    astronaut, speech = photo("astronaut"), voice()
    face = find_face(astronaut)
    assert face is not None
    frames = int(SPEECH_S * FPS)
    # Today's video: the painted states are made once per photo and cached, so a line costs
    # composing and encoding; any patches time the same as painted ones.
    size = (face.mouth[2] - face.mouth[0], face.mouth[3] - face.mouth[1])
    patches = {
        m: Image.new("RGB", size, c) for m, c in [("half", 90), ("open", 160), ("round", 40)]
    }
    eyes = (face.eyes[2] - face.eyes[0], face.eyes[3] - face.eyes[1])
    states = MouthStates(face, patches, Image.new("RGB", eyes, 120))
    render_video(astronaut, states, "", speech, square=True)
    rows = [row("painted shapes: compose + encode", clocked(rounds, lambda: render_video(
        astronaut, states, "", speech, square=True)), frames)]  # fmt: skip
    job = prepare_lip_sync(lipsync, astronaut, face, speech)
    assert len(job.frames) == frames
    for batch in batches:
        lipsync.batch_size = batch
        lipsync.generate([job])  # first call: cuDNN picks its kernels
        one = clocked(rounds, lambda: lipsync.generate([job]))
        many = clocked(rounds, lambda: lipsync.generate([job] * LINES_AT_ONCE))
        rows.append(row(f"lip sync model, 1 line, batch {batch}", one, frames))
        rows.append(row(f"lip sync model, {LINES_AT_ONCE} lines, batch {batch}", many,
                        LINES_AT_ONCE * frames))  # fmt: skip
    (mouths,) = lipsync.generate([job])
    compose = clocked(rounds, lambda: render_synced_video(astronaut, face, mouths, speech, "",
                                                          square=True))  # fmt: skip
    rows.append(row("lip sync: compose + encode", compose, frames))

    def line_to_video() -> None:
        prepared = prepare_lip_sync(lipsync, astronaut, face, speech)
        (made,) = lipsync.generate([prepared])
        render_synced_video(astronaut, face, made, speech, "", square=True)

    whole = clocked(rounds, line_to_video)
    rows.append(row(f"{SPEECH_S:.0f} s line -> video note (after its voice)", whole, frames))
    results: dict[str, Any] = {"rows": rows, "frames": frames}
    results["lip_sync_vs_painted"] = round(rows[-1]["fps"] / rows[0]["fps"], 3)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if torch.cuda.is_available():
        results["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
        results["gpu"] = torch.cuda.get_device_name()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", choices=["tiny", "full-size"], default="tiny")
    parser.add_argument("--scale", type=float, default=1.0, help="full-size only: shrink it")
    parser.add_argument("--batch", type=int, nargs="+", default=[16, 32], help="frames a call")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = resolve_device(args.device)
    dtype = torch.float16 if device.type == "cuda" else torch.float32
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-lipsync-") as folder:
        root = Path(folder)
        if args.models == "tiny":
            build_lipsync_checkpoint(root)
        else:
            from full_size_checkpoints import build_lipsync

            with torch.device(device):  # random init of 0.9 B weights is minutes on a CPU
                build_lipsync(root, args.scale, dtype)
        sources = lipsync_files(InferenceConfig("-", "-", lipsync_model=str(root)))
        lipsync = LipSync.load(*sources, device, dtype)
    results = {"build_and_load_s": round(time.perf_counter() - started, 1)}
    results |= measure(lipsync, args.batch, args.rounds)
    results |= {"device": str(device), "models": args.models, "scale": args.scale}
    width = max(len(r["stage"]) for r in results["rows"])
    print(f"{'stage':<{width}}  {'ms':>9}  {'frames/s':>9}")
    for r in results["rows"]:
        print(f"{r['stage']:<{width}}  {r['ms']:>9.1f}  {r['fps']:>9.1f}")
    print({k: v for k, v in results.items() if k != "rows"})
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
