"""How fast characters speak and listen: speech and recognition real-time factors, line → voice.

    python tests/bench/bench_voice.py --device cpu --models tiny
    python tests/bench/bench_voice.py --device cuda --models full-size --json voice.json
    python tests/bench/bench_voice.py --device cuda --models default   # real weights, if cached

--models: tiny (the test checkpoints), full-size (bark-small's and whisper-large-v3-turbo's
architectures at their published sizes with random weights, built locally), default (the hub
ids from bot/settings.py). Speech and recognition go through inference.Actor, as the bot uses
them (worker queue, batching, OGG/Opus encoding, audio decoding); the caption and dialogue
models are the tiny test ones in every mode (the voice stages never touch them).

Real-time factor (RTF) = seconds of work / seconds of audio: under 1 is faster than real time.
Random weights never emit an end token, so each piece is spoken to its token budget and each
transcript runs to its length limit: the full-size figures are upper bounds.
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

import torch
from tiny_checkpoints import build_caption_checkpoint, build_dialogue_checkpoint
from tiny_voice_checkpoints import (
    build_speech_checkpoint,
    build_transcriber_checkpoint,
    voice_note,
)

from bot.settings import DEFAULT_ASR_MODEL, DEFAULT_TTS_MODEL
from inference.actor import Actor
from inference.config import InferenceConfig

LINES = {
    "en short": "Hello! It is so nice to meet you.",
    "zh short": "你好！很高兴认识你。",
    "mixed": "我昨天去了 Central Park，天气 really nice，你也应该去看看。",
    "en long": (
        "I remember that afternoon very well. The light was soft, the street was quiet, and "
        "my sister kept telling me to smile for the camera. I was thinking about the letter "
        "I had just received."
    ),
}
NOTE_SECONDS = (5, 15, 30, 60)
# bark-small (suno/bark-small config.json) and whisper-large-v3-turbo, at their real sizes.
BARK_SMALL = {"hidden": 768, "layers": 12, "heads": 12}
WHISPER_TURBO = {"d_model": 1280, "encoder_layers": 32, "decoder_layers": 4, "heads": 20,
                 "mel_bins": 128, "vocab_size": 51_866, "max_length": 128}  # fmt: skip


def p50_p95(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 3), "p95": round(p95, 3)}


def model_folders(kind: str, root: Path) -> tuple[str, str, str, str]:
    caption = str(build_caption_checkpoint(root / "caption"))
    dialogue = str(build_dialogue_checkpoint(root / "dialogue"))
    if kind == "default":
        return caption, dialogue, DEFAULT_TTS_MODEL, DEFAULT_ASR_MODEL
    if kind == "tiny":
        speech = build_speech_checkpoint(root / "speech")
        heard = build_transcriber_checkpoint(root / "transcriber")
    else:
        speech = build_speech_checkpoint(
            root / "speech", **BARK_SMALL, codec={}, max_semantic_tokens=768, short_windows=False
        )
        heard = build_transcriber_checkpoint(root / "transcriber", **WHISPER_TURBO)
    return caption, dialogue, str(speech), str(heard)


async def measure(config: InferenceConfig, rounds: int, results: dict[str, Any]) -> None:
    started = time.perf_counter()
    actor = await asyncio.to_thread(Actor.load, config)
    results["load_s"] = round(time.perf_counter() - started, 2)
    try:
        voice = actor.voice_for("a smiling young woman in a red coat", "en")
        await actor.speak("Hello!", voice)  # warm-up
        speech: dict[str, Any] = {}
        for name, line in LINES.items():
            seconds, audio = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                spoken = await actor.speak(line, voice, chat_key=name)
                seconds.append(time.perf_counter() - t0)
                audio.append(spoken.duration_s)
            rtf = [s / a for s, a in zip(seconds, audio, strict=True)]
            speech[name] = {
                "line_to_voice_s": p50_p95(seconds),
                "audio_s": round(statistics.median(audio), 2),
                "rtf": p50_p95(rtf),
            }
        results["speech"] = speech
        # Four characters' lines at once: one voice per Bark call, so four voices = four calls;
        # four lines of one voice = one batched call.
        for label, voices in (("4 lines, 1 voice", [voice] * 4), ("4 lines, 4 characters", None)):
            names = voices or [
                actor.voice_for(d, "en") for d in ("a man", "a woman", "a boy", "an old lady")
            ]
            t0 = time.perf_counter()
            spoken_all = await asyncio.gather(
                *(actor.speak(LINES["en short"], v, chat_key=i) for i, v in enumerate(names))
            )
            took = time.perf_counter() - t0
            total_audio = sum(s.duration_s for s in spoken_all)
            results.setdefault("speech_concurrent", {})[label] = {
                "wall_s": round(took, 2), "audio_s": round(total_audio, 2),
                "rtf": round(took / total_audio, 3),
            }  # fmt: skip

        notes = {s: voice_note(float(s)) for s in NOTE_SECONDS}
        await actor.transcribe(notes[5])  # warm-up
        heard: dict[str, Any] = {}
        for s, data in notes.items():
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                await actor.transcribe(data, chat_key=f"note-{s}")
                times.append(time.perf_counter() - t0)
            heard[f"{s} s note"] = {
                "note_to_text_s": p50_p95(times),
                "rtf": p50_p95([t / s for t in times]),
            }
        results["recognition"] = heard
        t0 = time.perf_counter()
        await asyncio.gather(*(actor.transcribe(notes[15], chat_key=i) for i in range(8)))
        took = time.perf_counter() - t0
        results["recognition_concurrent"] = {
            "8 notes of 15 s": {"wall_s": round(took, 2), "rtf": round(took / 120, 4)}
        }
    finally:
        actor.close()
    results["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if torch.cuda.is_available() and config.device.startswith("cuda"):
        results["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)


def print_table(results: dict[str, Any]) -> None:
    print(f"\nmodels: {results['models']}  device: {results['device']}  load {results['load_s']} s")
    print(f"{'speech':<20} {'audio s':>8} {'line→voice p50 s':>17} {'p95 s':>7} {'RTF p50':>8}")
    for name, row in results["speech"].items():
        t = row["line_to_voice_s"]
        print(f"{name:<20} {row['audio_s']:>8} {t['p50']:>17} {t['p95']:>7} {row['rtf']['p50']:>8}")
    for name, row in results["speech_concurrent"].items():
        print(
            f"{name:<20} {row['audio_s']:>8} {'wall ' + str(row['wall_s']):>17} {'':>7}"
            f" {row['rtf']:>8}"
        )
    print(f"{'recognition':<20} {'note→text p50 s':>17} {'p95 s':>7} {'RTF p50':>8}")
    for name, row in results["recognition"].items():
        t = row["note_to_text_s"]
        print(f"{name:<20} {t['p50']:>17} {t['p95']:>7} {row['rtf']['p50']:>8}")
    for name, row in results["recognition_concurrent"].items():
        print(f"{name:<20} {'wall ' + str(row['wall_s']):>17} {'':>7} {row['rtf']:>8}")
    print(f"peak RSS {results['peak_rss_mib']} MiB", end="")
    if "peak_cuda_mib" in results:
        print(f", peak CUDA memory {results['peak_cuda_mib']} MiB", end="")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--models", choices=["tiny", "full-size", "default"], default="tiny")
    parser.add_argument("--rounds", type=int, default=5, help="repetitions per measurement")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        caption, dialogue, tts, asr = model_folders(args.models, Path(folder))
        config = InferenceConfig(
            caption_model=caption,
            dialogue_model=dialogue,
            device=args.device,
            tts_model=tts,
            asr_model=asr,
        )
        results: dict[str, Any] = {
            "models": args.models,
            "device": args.device,
            "torch": torch.__version__,
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
