"""The fast decoding path's CPU-testable half: bounded shapes, unchanged tokens, and the fall
back to eager (one log line) when compiling fails."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import torch
from tiny_checkpoints import TinyModels
from transformers import CompileConfig

from inference.config import InferenceConfig
from inference.serving.loading import load_models
from inference.text.dialogue import DialogueModel
from inference.text.fast_decoding import PROMPT_BUCKET, batch_bucket, batch_buckets_up_to
from inference.types import ChatRequest

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
    assert dialogue.generate_tokens(_requests()) == expected
    [(rows, length)] = shapes
    assert rows == 4 and length % PROMPT_BUCKET == 0
    assert dialogue.model.generation_config.cache_implementation == "static"


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

    def broken_compile(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise RuntimeError("inductor: no working C++ compiler")

    monkeypatch.setattr(torch, "compile", broken_compile)
    with caplog.at_level(logging.WARNING, logger="inference.text.fast_decoding"):
        assert dialogue.generate(_requests()) == expected
        assert dialogue.generate(_requests()) == expected
    assert attempts, "the fast path never tried to compile"
    assert not dialogue.fast
    assert [r.getMessage() for r in caplog.records if "eagerly" in r.getMessage()] == [
        "compiling the dialogue model failed (RuntimeError: inductor: no working C++ compiler);"
        " decoding eagerly from now on"
    ]


def test_torch_compile_auto_means_eager_on_cpu(tiny_models: TinyModels) -> None:
    config = InferenceConfig(str(tiny_models.caption), str(tiny_models.dialogue), device="cpu")
    assert config.torch_compile == "auto"
    models = load_models(config)
    assert not models.dialogue.fast
    assert models.dialogue.model.generation_config.cache_implementation is None
