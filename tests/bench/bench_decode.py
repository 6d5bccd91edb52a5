"""Decoding speed of the dialogue model through the product's DialogueModel: ms per decoding
step at batch 1 and 8, eager vs. the fast path (static cache + compile), time to the first
token, compile (warm-up) time and peak memory.

    python tests/bench/bench_decode.py --device cuda              # Qwen3-4B shape, random weights
    python tests/bench/bench_decode.py --device cpu --scale 0.02  # smoke: figures mean nothing

A step's time is (T(n + steps) - T(n)) / steps for two generations of the same batch, so the
prompt's prefill cancels out. Random weights seldom stop early; every row runs its budget.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/

import torch

from inference.text.dialogue import DialogueModel
from inference.text.prompts import first_line_request
from inference.types import ChatRequest, Persona

PERSONA = Persona("Anna", "warm, curious", "short and friendly", "a woman in a red coat", "en")


def _seconds(dialogue: DialogueModel, batch: int, new_tokens: int, repeats: int) -> float:
    request = first_line_request(PERSONA, max_new_tokens=new_tokens)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        dialogue.generate_tokens([request] * batch)  # .tolist() inside: the device is synced
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(
    dialogue: DialogueModel, batches: list[int], steps: int, label: str = ""
) -> dict[str, Any]:
    """Per batch size: the first call (compiles on the fast path), ms/step, first token."""
    rows: dict[str, Any] = {}
    for batch in batches:
        started = time.perf_counter()
        dialogue.generate_tokens([ChatRequest([{"role": "user", "content": "Hi"}], 4)] * batch)
        first_call_s = time.perf_counter() - started
        _seconds(dialogue, batch, 8, 1)  # CUDA graphs record on the first runs of a shape
        short = _seconds(dialogue, batch, 8, 3)
        long = _seconds(dialogue, batch, 8 + steps, 3)
        rows[str(batch)] = {
            "first_call_s": round(first_call_s, 2),
            "ms_per_step": round((long - short) / steps * 1000, 2),
            "first_token_ms": round(_seconds(dialogue, batch, 1, 3) * 1000, 1),
        }
        # Printed as measured: a run cut short by its time limit still shows what it had.
        print(f"{label} batch {batch}: {rows[str(batch)]}", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the model (smoke runs)")
    parser.add_argument("--batches", default="1,8")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from full_size_checkpoints import build_dialogue

    device = torch.device(args.device)
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    batches = [int(b) for b in args.batches.split(",")]
    results: dict[str, Any] = {"device": args.device, "scale": args.scale}
    if args.device == "cuda":
        results["gpu"] = torch.cuda.get_device_name()
    with tempfile.TemporaryDirectory() as folder:
        with torch.device(args.device):
            path = build_dialogue(Path(folder) / "dialogue", args.scale, dtype)
        for mode in ("eager", "fast"):
            dialogue = DialogueModel.load(str(path), device, dtype)
            if mode == "fast":
                dialogue.use_fast_decoding()
            results[mode] = measure(dialogue, batches, args.steps, mode)
            results[mode]["fell_back_to_eager"] = mode == "fast" and not dialogue.fast
            del dialogue
            if args.device == "cuda":
                results[f"peak_cuda_mib_{mode}"] = round(torch.cuda.max_memory_allocated() / 2**20)
                torch.cuda.empty_cache()
    print(f"\ndecode, {results.get('gpu', args.device)} (scale {args.scale})")
    print(f"{'path':<6} {'batch':>5} {'ms/step':>8} {'1st token ms':>12} {'1st call s':>10}")
    for mode in ("eager", "fast"):
        for batch in batches:
            row = results[mode][str(batch)]
            print(
                f"{mode:<6} {batch:>5} {row['ms_per_step']:>8} {row['first_token_ms']:>12} "
                f"{row['first_call_s']:>10}"
            )
    if results["fast"]["fell_back_to_eager"]:
        print("the fast path failed to compile and fell back to eager")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
