"""How fast characters speak and listen: speech speed (audio seconds per compute second), line →
voice, and recognition real-time factors, for Kokoro (the default voice) and Bark.

    python tests/bench/bench_voice.py --device cpu --models tiny
    python tests/bench/bench_voice.py --device cpu --models full-size --tts kokoro --no-recognition
    python tests/bench/bench_voice.py --device cuda --models full-size --json voice.json
    python tests/bench/bench_voice.py --device cuda --models default   # real weights, if cached

--models: tiny (the test checkpoints), full-size (Kokoro-82M's, bark-small's and
whisper-large-v3-turbo's architectures at their published sizes with random weights, built
locally from their real config values), default (the hub ids). --tts: which speech models.
Speech and recognition go through inference.Actor, as the bot uses them (worker queue,
batching, OGG/Opus encoding, audio decoding); the caption and dialogue models are the tiny
test ones in every mode (the voice stages never touch them).

Speed = seconds of audio per second of work (above 1 is faster than real time); recognition
RTF = seconds of work per second of audio (under 1 is faster than real time). Random weights:
Bark never emits its end token, so every piece is spoken to its token budget (upper bounds);
Kokoro's duration head is set to a natural pace (~3 frames a phoneme) since random weights
would hold each phoneme ~0.6 s; Whisper transcripts run to their length limit.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
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
    KOKORO_82M,
    build_english_tagger,
    build_kokoro_checkpoint,
    build_speech_checkpoint,
    build_transcriber_checkpoint,
    voice_note,
)

from bot.settings import DEFAULT_ASR_MODEL
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
    "zh long": (
        "我记得那天下午，阳光很柔和，街上很安静。我妹妹一直让我对着相机笑一笑，"
        "可我心里想的是刚收到的那封信。后来我们去了河边，一直坐到天黑。"
    ),
}
NOTE_SECONDS = (5, 15, 30, 60)
HUB_IDS = {"kokoro": "hexgrad/Kokoro-82M", "bark": "suno/bark-small"}
# bark-small (suno/bark-small config.json) and whisper-large-v3-turbo, at their real sizes.
BARK_SMALL = {"hidden": 768, "layers": 12, "heads": 12}
WHISPER_TURBO = {"d_model": 1280, "encoder_layers": 32, "decoder_layers": 4, "heads": 20,
                 "mel_bins": 128, "vocab_size": 51_866, "max_length": 128}  # fmt: skip
KOKORO_BENCH_VOICES = ("af_heart", "am_michael", "bf_emma", "zf_xiaoxiao", "zm_yunxi")


def p50_p95(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"p50": round(statistics.median(ordered), 3), "p95": round(p95, 3)}


def speech_folder(kind: str, models: str, root: Path) -> str:
    if models == "default":
        return HUB_IDS[kind]
    if kind == "kokoro":
        if models == "tiny":
            return str(build_kokoro_checkpoint(root / "kokoro"))
        folder = build_kokoro_checkpoint(
            root / "kokoro-82m",
            sizes=KOKORO_82M,
            voices=KOKORO_BENCH_VOICES,
            compact=False,
            frames_per_phoneme=3.0,
        )
        return str(folder)
    if models == "tiny":
        return str(build_speech_checkpoint(root / "bark"))
    folder = build_speech_checkpoint(
        root / "bark-small", **BARK_SMALL, codec={}, max_semantic_tokens=768, short_windows=False
    )
    return str(folder)


def english_tagger(root: Path) -> None:
    """Kokoro reads English with spaCy's en_core_web_sm: the real one when installed, else
    the tests' tiny tagger (its tags only pick how words are said, not how long it takes)."""
    import spacy

    if not spacy.util.is_package("en_core_web_sm"):
        sys.path.insert(0, str(build_english_tagger(root / "tagger")))
        importlib.invalidate_caches()


async def measure_speech(config: InferenceConfig, rounds: int, lines: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    actor = await asyncio.to_thread(Actor.load, config)
    results: dict[str, Any] = {"load_s": round(time.perf_counter() - started, 2)}
    try:
        voices = {
            "en": actor.voice_for("a smiling young woman in a red coat", "en"),
            "zh": actor.voice_for("一位穿红色外套、面带微笑的年轻女士", "zh"),
        }
        await actor.speak("Hello!", voices["en"])  # warm-up
        await actor.speak("你好！", voices["zh"])
        speech: dict[str, Any] = {}
        for name in lines:
            line = LINES[name]
            voice = voices["en" if name.startswith("en") else "zh"]
            seconds, audio = [], []
            for _ in range(rounds):
                t0 = time.perf_counter()
                spoken = await actor.speak(line, voice, chat_key=name)
                seconds.append(time.perf_counter() - t0)
                audio.append(spoken.duration_s)
            speech[name] = {
                "line_to_voice_s": p50_p95(seconds),
                "audio_s": round(statistics.median(audio), 2),
                "speed_x": p50_p95([a / s for s, a in zip(seconds, audio, strict=True)]),
                "rtf": p50_p95([s / a for s, a in zip(seconds, audio, strict=True)]),
            }
        results["speech"] = speech
        # Four lines at once: Bark batches the lines of one voice in one call (a call per
        # voice); Kokoro speaks piece after piece either way, in one stage call.
        for label, names in (
            ("4 lines, 1 voice", [voices["en"]] * 4),
            (
                "4 lines, 4 characters",
                [actor.voice_for(d, "en") for d in ("a man", "a woman", "a boy", "an old lady")],
            ),
        ):
            t0 = time.perf_counter()
            spoken_all = await asyncio.gather(
                *(actor.speak(LINES["en short"], v, chat_key=i) for i, v in enumerate(names))
            )
            took = time.perf_counter() - t0
            total_audio = sum(s.duration_s for s in spoken_all)
            results.setdefault("speech_concurrent", {})[label] = {
                "wall_s": round(took, 2), "audio_s": round(total_audio, 2),
                "speed_x": round(total_audio / took, 2),
            }  # fmt: skip
    finally:
        actor.close()
    return results


async def measure_recognition(config: InferenceConfig, rounds: int) -> dict[str, Any]:
    actor = await asyncio.to_thread(Actor.load, config)
    results: dict[str, Any] = {}
    try:
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
    return results


def print_table(results: dict[str, Any]) -> None:
    print(f"\nmodels: {results['models']}  device: {results['device']}")
    for kind, part in results.get("tts", {}).items():
        print(f"\n{kind} (load {part['load_s']} s)")
        header = f"{'speech':<24} {'audio s':>8} {'line→voice p50 s':>17} {'p95 s':>7}"
        print(f"{header} {'× real time p50':>16} {'RTF p50':>8}")
        for name, row in part["speech"].items():
            t = row["line_to_voice_s"]
            print(
                f"{name:<24} {row['audio_s']:>8} {t['p50']:>17} {t['p95']:>7}"
                f" {row['speed_x']['p50']:>16} {row['rtf']['p50']:>8}"
            )
        for name, row in part["speech_concurrent"].items():
            wall = "wall " + str(row["wall_s"])
            print(f"{name:<24} {row['audio_s']:>8} {wall:>17} {'':>7} {row['speed_x']:>16}")
    if "recognition" in results:
        print(f"\n{'recognition':<24} {'note→text p50 s':>17} {'p95 s':>7} {'RTF p50':>8}")
        for name, row in results["recognition"].items():
            t = row["note_to_text_s"]
            print(f"{name:<24} {t['p50']:>17} {t['p95']:>7} {row['rtf']['p50']:>8}")
        for name, row in results["recognition_concurrent"].items():
            print(f"{name:<24} {'wall ' + str(row['wall_s']):>17} {'':>7} {row['rtf']:>8}")
    print(f"peak RSS {results['peak_rss_mib']} MiB", end="")
    if "peak_cuda_mib" in results:
        print(f", peak CUDA memory {results['peak_cuda_mib']} MiB", end="")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--models", choices=["tiny", "full-size", "default"], default="tiny")
    parser.add_argument("--tts", nargs="+", choices=["kokoro", "bark"], default=["kokoro", "bark"])
    parser.add_argument("--no-recognition", action="store_true", help="speech only")
    parser.add_argument("--lines", nargs="+", choices=list(LINES), default=list(LINES))
    parser.add_argument("--rounds", type=int, default=5, help="repetitions per measurement")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "models": args.models,
        "device": args.device,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    if args.device == "cuda":
        results["gpu"] = torch.cuda.get_device_name()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        base = {
            "caption_model": str(build_caption_checkpoint(root / "caption")),
            "dialogue_model": str(build_dialogue_checkpoint(root / "dialogue")),
            "image_model": "",
            "device": args.device,
            # Random-weight Bark on a CPU speaks each piece to its full budget: minutes.
            "stage_timeout_s": 3600.0,
        }
        if "kokoro" in args.tts:
            english_tagger(root)
        for kind in args.tts:
            config = InferenceConfig(**base, tts_model=speech_folder(kind, args.models, root))
            part = asyncio.run(measure_speech(config, args.rounds, args.lines))
            results.setdefault("tts", {})[kind] = part
        if not args.no_recognition:
            if args.models == "default":
                asr = DEFAULT_ASR_MODEL
            elif args.models == "tiny":
                asr = str(build_transcriber_checkpoint(root / "transcriber"))
            else:
                asr = str(build_transcriber_checkpoint(root / "transcriber", **WHISPER_TURBO))
            config = InferenceConfig(**base, asr_model=asr)
            results |= asyncio.run(measure_recognition(config, args.rounds))
    results["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if torch.cuda.is_available() and args.device == "cuda":
        results["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
