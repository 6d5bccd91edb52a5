"""Serving speed without changing what anyone reads: batching through the worker, warm-up,
and the TORCH_COMPILE static cache, on the tiny real checkpoints."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import torch
from tiny_checkpoints import TinyModels

from inference.actor import Actor
from inference.config import InferenceConfig
from inference.serving.loading import Models, compile_for_speed, load_models
from inference.types import ChatRequest, Persona

PERSONA = Persona("Anna", "warm, curious", "short and friendly", "a woman in a park", "en")
# Different lengths and both languages, so left padding really happens inside the batch.
MESSAGES = [
    "hi",
    "What did you do in the park today, and was it sunny?",
    "你好，你叫什么名字？",
    "Tell me about your red coat.",
]


class CountingGenerate:
    """Wraps DialogueModel.generate: records each batch; the first call can be held."""

    def __init__(self, generate: Any) -> None:
        self.generate = generate
        self.batches: list[int] = []
        self.hold_first = threading.Event()  # set: the first call has started and waits
        self.release = threading.Event()

    def __call__(self, requests: list[ChatRequest], on_text: Any = None) -> list[str]:
        self.batches.append(len(requests))
        if len(self.batches) == 1:
            self.hold_first.set()
            self.release.wait(30)
        result: list[str] = self.generate(requests, on_text)
        return result


@pytest.fixture(scope="module")
def config(tiny_models: TinyModels) -> InferenceConfig:
    return InferenceConfig(
        caption_model=str(tiny_models.caption),
        dialogue_model=str(tiny_models.dialogue),
        device="cpu",
        max_new_tokens=24,
        max_batch_size=8,
    )


@pytest.fixture(scope="module")
def models(config: InferenceConfig) -> Models:
    return load_models(config)


@pytest.fixture
def counted(
    models: Models, config: InferenceConfig, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Actor, CountingGenerate]]:
    """A actor whose text stage counts the batches it runs (wrapped before the worker)."""
    counter = CountingGenerate(models.dialogue.generate)
    monkeypatch.setattr(models.dialogue, "generate", counter)
    actor = Actor(models, config)
    yield actor, counter
    actor.close()


async def test_concurrent_replies_are_batched_and_match_one_at_a_time(
    counted: tuple[Actor, CountingGenerate],
) -> None:
    actor, counter = counted
    # 1. hold the worker on a first reply, so the four users' replies queue up behind it
    held = asyncio.create_task(actor.reply(PERSONA, [], "hold on", chat_key="holder"))
    assert await asyncio.to_thread(counter.hold_first.wait, 30)
    together = [
        asyncio.create_task(actor.reply(PERSONA, [], text, chat_key=f"user-{i}"))
        for i, text in enumerate(MESSAGES)
    ]
    for _ in range(1000):  # each task builds its request (in a thread), then queues its job
        if actor.queue_depth == 1 + len(MESSAGES):
            break
        await asyncio.sleep(0.01)
    assert actor.queue_depth == 1 + len(MESSAGES)
    counter.release.set()
    await held
    batched = await asyncio.gather(*together)
    # 2. the four replies went into one generate call (retries of garbled text: one more)
    assert counter.batches[:2] == [1, len(MESSAGES)]
    calls_together = len(counter.batches) - 1
    # 3. the same replies, one user at a time
    counter.batches.clear()
    alone = [
        await actor.reply(PERSONA, [], text, chat_key=f"user-{i}")
        for i, text in enumerate(MESSAGES)
    ]
    assert set(counter.batches) == {1}
    assert calls_together < len(counter.batches)
    assert batched == alone
    assert all(answer.strip() for answer in batched)


async def test_warm_up_runs_each_stage_once_through_the_worker(
    counted: tuple[Actor, CountingGenerate],
) -> None:
    actor, counter = counted
    counter.release.set()
    seconds = await actor.warm_up()
    assert seconds > 0
    assert counter.batches == [1]
    assert len(actor.latencies("caption")) == 1
    assert actor.queue_depth == 0


def test_torch_compile_is_ignored_on_cpu(config: InferenceConfig) -> None:
    models = load_models(replace(config, torch_compile=True))
    assert models.dialogue.model.generation_config.cache_implementation is None


@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
def test_compiled_static_cache_gives_the_same_replies(
    config: InferenceConfig, tiny_models: TinyModels
) -> None:
    """compile_for_speed's static KV cache (compiled on CUDA) must not change any token."""
    requests = [ChatRequest([{"role": "user", "content": text}], 12) for text in MESSAGES]
    plain = load_models(replace(config, image_model=str(tiny_models.image)))
    expected = plain.dialogue.generate_tokens(requests)
    assert plain.painter is not None
    unet_before = plain.painter.pipeline.unet
    compile_for_speed(plain)
    assert plain.dialogue.model.generation_config.cache_implementation == "static"
    assert isinstance(plain.painter.pipeline.unet, torch.nn.Module)
    assert plain.painter.pipeline.unet is not unet_before  # wrapped, compiled on first use
    assert plain.dialogue.generate_tokens(requests) == expected
