"""Replies through a serving engine (LLM_API_BASE): first draft vs whole reply, and replies/s
as users are added (a script, not a pytest test).

    python tests/bench/bench_serving.py [--base http://127.0.0.1:8000/v1 --model NAME]

Without --base it starts `transformers serve` on 127.0.0.1 with the tiny test checkpoint, on
CPU: then the figures show the plumbing (HTTP, SSE, drafts), not model speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from llm_server import transformers_serve
from tiny_checkpoints import build_dialogue_checkpoint

from inference.config import InferenceConfig
from inference.text.remote_engine import RemoteEngine
from inference.types import ChatRequest


def request(user: int, max_new_tokens: int) -> ChatRequest:
    return ChatRequest(
        [
            {"role": "system", "content": "You are Anna, the woman in a photo. Stay in character."},
            {"role": "user", "content": f"Hello! I am user {user}. How was your day?"},
        ],
        max_new_tokens=max_new_tokens,
    )


async def one_reply(engine: RemoteEngine, user: int, tokens: int) -> tuple[float, float]:
    """Seconds to the first draft and to the whole reply."""
    started = time.perf_counter()
    first: list[float] = []

    def on_draft(_: str) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    await engine.write(request(user, tokens), user, on_draft)
    total = time.perf_counter() - started
    return (first[0] if first else total), total


async def measure(base: str, model: str, rounds: int, tokens: int) -> None:
    config = InferenceConfig(model, model, llm_api_base=base, llm_dialogue_model=model)
    engine = RemoteEngine(config)
    await one_reply(engine, 0, tokens)  # the server loads the model on its first request
    singles = [await one_reply(engine, i, tokens) for i in range(rounds)]
    first = [s[0] * 1000 for s in singles]
    whole = [s[1] * 1000 for s in singles]
    print(f"one user, {rounds} replies of {tokens} tokens:")
    print(
        f"  first draft p50 {statistics.median(first):.0f} ms, whole reply p50 "
        f"{statistics.median(whole):.0f} ms"
    )
    base_rate = 0.0
    for users in (1, 4, 8, 16):
        started = time.perf_counter()
        await asyncio.gather(*(one_reply(engine, u, tokens) for u in range(users)))
        rate = users / (time.perf_counter() - started)
        base_rate = base_rate or rate
        print(f"  {users:2d} users at once: {rate:.1f} replies/s ({rate / base_rate:.1f}x)")
    await engine.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", help="an engine's LLM_API_BASE (default: start one)")
    parser.add_argument("--model", help="the served dialogue model's name")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    args = parser.parse_args()
    if args.base:
        asyncio.run(measure(args.base, args.model, args.rounds, args.max_new_tokens))
        return
    with tempfile.TemporaryDirectory() as folder:
        model = str(build_dialogue_checkpoint(Path(folder) / "dialogue"))
        started = time.perf_counter()
        with transformers_serve(Path(folder) / "serve.log") as server:
            print(f"transformers serve up in {time.perf_counter() - started:.1f} s (CPU)")
            asyncio.run(measure(server.base_url, model, args.rounds, args.max_new_tokens))


if __name__ == "__main__":
    main()
