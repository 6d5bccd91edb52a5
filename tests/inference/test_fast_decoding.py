"""The fast decoding path's CPU-testable half: bounded shapes, unchanged tokens, and the fall
back to eager (one log line) when compiling fails."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import torch
from tiny_checkpoints import TinyModels
from torch._dynamo.exc import BackendCompilerFailed
from torch._inductor.exc import CppCompileError
from transformers import CompileConfig, StaticCache

from inference.config import InferenceConfig
from inference.serving.loading import load_models
from inference.text.dialogue import DialogueModel
from inference.text.fast_decoding import (
    PROMPT_BUCKET,
    STATIC_CACHE_TOKENS,
    batch_bucket,
    batch_buckets_up_to,
)
from inference.text.prompts import reply_request
from inference.types import ChatRequest, Persona, Turn

TEXTS = ["hi", "What did you do in the park today, and was it sunny?", "你好，你叫什么名字？"]


def _requests() -> list[ChatRequest]:
    return [ChatRequest([{"role": "user", "content": text}], 10) for text in TEXTS]


def _load(tiny_models: TinyModels) -> DialogueModel:
    return DialogueModel.load(str(tiny_models.dialogue), torch.device("cpu"), torch.float32)


def test_batch_sizes_round_up_to_a_few_compiled_shapes() -> None:
    assert [batch_bucket(n) for n in (1, 2, 3, 5, 8, 9)] == [1, 2, 4, 8, 8, 16]
    assert batch_buckets_up_to(8) == [1, 2, 4, 8]
    assert batch_buckets_up_to(6) == [1, 2, 4, 8]
    assert batch_buckets_up_to(1) == [1]


def test_the_fast_path_pads_to_buckets_and_changes_no_token(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    dialogue = _load(tiny_models)
    expected = dialogue.generate_tokens(_requests())
    dialogue.use_fast_decoding()
    shapes: list[tuple[int, ...]] = []
    generate = dialogue.model.generate

    def recording(**kwargs: Any) -> Any:
        shapes.append(tuple(kwargs["input_ids"].shape))
        return generate(**kwargs)

    monkeypatch.setattr(dialogue.model, "generate", recording)
    caches = record_caches(dialogue, monkeypatch)
    assert dialogue.generate_tokens(_requests()) == expected
    [(rows, length)] = shapes
    assert rows == 4 and length % PROMPT_BUCKET == 0
    # It decoded with a static cache of the bounded size (what CUDA then compiles).
    assert {type(cache) for cache in caches} == {StaticCache}
    assert {cache.get_max_length() for cache in caches} == {STATIC_CACHE_TOKENS}


def record_caches(dialogue: DialogueModel, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The KV cache of every forward pass `generate` makes."""
    caches: list[Any] = []
    forward = dialogue.model.forward

    def recording(*args: Any, **kwargs: Any) -> Any:
        caches.append(kwargs.get("cache", kwargs.get("past_key_values")))
        return forward(*args, **kwargs)

    monkeypatch.setattr(dialogue.model, "forward", recording)
    return caches


def test_the_static_cache_never_grows_past_its_size(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long chat is fitted to the cache (STATIC_CACHE_TOKENS), not the cache to the chat."""
    dialogue = _load(tiny_models)
    dialogue.use_fast_decoding(cache_tokens=1024)
    assert dialogue.context_window == 1024 - PROMPT_BUCKET  # room for a prompt's padding
    history = [
        Turn("user" if i % 2 else "character", f"Line {i}: " + "words " * 20) for i in range(30)
    ]
    persona = Persona("Anna", "warm", "short", "a woman smiling in a park")
    request = reply_request(
        persona, history, "And then?", None, dialogue.count_tokens, dialogue.context_window, 16
    )
    fitted = dialogue.count_tokens(request.messages)
    assert fitted <= dialogue.context_window - 16
    assert len(request.messages) < 1 + len(history)  # older lines were left out to fit
    caches = record_caches(dialogue, monkeypatch)
    dialogue.generate([request])
    assert {cache.get_max_length() for cache in caches} == {1024}


def test_a_compile_that_fails_falls_back_to_eager_with_one_log_line(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dialogue = _load(tiny_models)
    expected = dialogue.generate(_requests())
    dialogue.use_fast_decoding()
    # Make transformers compile on CPU too, and the compiler fail as it might on a GPU.
    compile_config = CompileConfig()
    compile_config._compile_all_devices = True
    dialogue.model.generation_config.compile_config = compile_config
    attempts: list[object] = []

    def broken_compile(function: Any, *args: Any, **kwargs: Any) -> Any:
        """Compiling is lazy: like Inductor, it fails when the compiled step first runs."""
        attempts.append(function)

        def first_use(*call_args: Any, **call_kwargs: Any) -> Any:
            raise BackendCompilerFailed(function, CppCompileError(["g++"], "no compiler"), None)

        return first_use

    monkeypatch.setattr(torch, "compile", broken_compile)
    with caplog.at_level(logging.WARNING, logger="inference.text.fast_decoding"):
        assert dialogue.generate(_requests()) == expected
        assert dialogue.generate(_requests()) == expected
    assert attempts, "the fast path never tried to compile"
    assert not dialogue.fast
    [warning] = [r.getMessage() for r in caplog.records if "eagerly" in r.getMessage()]
    assert warning.startswith("compiling the dialogue model failed (BackendCompilerFailed")
    assert warning.endswith("; decoding eagerly from now on")


def test_running_out_of_memory_leaves_the_fast_path_on(
    tiny_models: TinyModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only compile errors turn it off: out of memory, the worker tries a smaller batch."""
    dialogue = _load(tiny_models)
    dialogue.use_fast_decoding()

    def out_of_memory(**kwargs: Any) -> Any:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(dialogue.model, "generate", out_of_memory)
    with pytest.raises(torch.OutOfMemoryError):
        dialogue.generate(_requests())
    assert dialogue.fast
    assert dialogue.model.generation_config.cache_implementation == "static"


def test_torch_compile_auto_means_eager_on_cpu(tiny_models: TinyModels) -> None:
    config = InferenceConfig(str(tiny_models.caption), str(tiny_models.dialogue), device="cpu")
    assert config.torch_compile == "auto"
    models = load_models(config)
    assert not models.dialogue.fast
    assert models.dialogue.model.generation_config.cache_implementation is None
