"""Fitting prompts to a served model: its context found out, its tokens counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from tiny_checkpoints import TinyModels

from inference.config import InferenceConfig
from inference.text.remote_engine import RemoteEngine
from inference.text.served_context import (
    DEFAULT_CONTEXT_TOKENS,
    ServedContext,
    estimate_tokens,
    refusal_limits,
)

MESSAGES = [
    {"role": "system", "content": "You are Anna, a woman in a photo."},
    {"role": "user", "content": "Hello! 你好！"},
]


@pytest.mark.parametrize(
    ("refusal", "limits"),
    [
        (  # transformers serve 5.25
            "The prompt has 683 tokens, but the model takes at most 512, prompt and answer "
            "(`--max-model-len`).",
            (512, 683),
        ),
        (  # vLLM, older wording
            "This model's maximum context length is 4096 tokens. However, you requested 5000 "
            "tokens (4000 in the messages, 1000 in the completion).",
            (4096, 4000),
        ),
        (  # vLLM, newer wording
            "'max_tokens' or 'max_completion_tokens' is too large: 1000. This model's maximum "
            "context length is 4096 tokens and your request has 3500 input tokens "
            "(1000 > 4096 - 3500).",
            (4096, 3500),
        ),
        (  # SGLang
            "Requested token count exceeds the model's maximum context length of 8192 tokens. "
            "You requested a total of 9000 tokens: 8000 tokens from the input messages and "
            "1000 tokens for the completion.",
            (8192, 8000),
        ),
        (  # llama.cpp
            "the request exceeds the available context size (2048 tokens), try increasing it",
            (2048, None),
        ),
    ],
)
def test_every_engines_too_long_refusal_names_its_context(
    refusal: str, limits: tuple[int, int | None]
) -> None:
    assert refusal_limits(refusal) == limits


@pytest.mark.parametrize(
    "refusal", ["The model `x` does not exist.", "Unexpected fields in the request: {'foo'}", ""]
)
def test_other_refusals_are_not_about_length(refusal: str) -> None:
    assert refusal_limits(refusal) is None


def test_the_estimate_counts_chinese_dearer_than_english() -> None:
    english = estimate_tokens([{"role": "user", "content": "hello there " * 10}])
    chinese = estimate_tokens([{"role": "user", "content": "你好" * 10}])
    empty = estimate_tokens([{"role": "user", "content": ""}])
    # 120 ASCII characters are ~30 real tokens, 20 Chinese characters 20 to 30: on the high side.
    assert english - empty >= 40 and chinese - empty >= 30


def test_the_served_models_own_tokenizer_counts_when_it_is_here(tiny_models: TinyModels) -> None:
    from transformers import AutoTokenizer

    context = ServedContext(str(tiny_models.dialogue), 0, "http://127.0.0.1:9/", {})
    counted, exact = context.count_tokens(MESSAGES)
    tokenizer = AutoTokenizer.from_pretrained(tiny_models.dialogue)
    prompt = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    assert exact and counted == len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert context.size() == DEFAULT_CONTEXT_TOKENS  # nothing said it yet


class VllmLike:
    """What a vLLM server answers to `GET /v1/models` and `POST /tokenize` (the unit under
    test is our client; a real engine is used in tests/bot/test_streaming_and_serving.py)."""

    def __init__(self) -> None:
        self.tokenized: list[dict[str, Any]] = []

    async def models(self, request: web.Request) -> web.Response:
        entry = {"id": "photo-talk", "object": "model", "max_model_len": 3072}
        return web.json_response({"object": "list", "data": [entry]})

    async def tokenize(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.tokenized.append(body)
        return web.json_response({"count": 77, "max_model_len": 3072, "tokens": []})


@pytest.fixture
async def vllm_like() -> AsyncIterator[tuple[str, VllmLike]]:
    server = VllmLike()
    app = web.Application()
    app.router.add_get("/v1/models", server.models)
    app.router.add_post("/tokenize", server.tokenize)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/v1", server
    await runner.cleanup()


async def test_an_engine_that_reports_its_context_is_believed(
    vllm_like: tuple[str, VllmLike],
) -> None:
    base_url, server = vllm_like
    config = InferenceConfig(
        "photo-talk", "photo-talk", llm_api_base=base_url, llm_context_tokens=1000
    )
    engine = RemoteEngine(config)
    try:
        assert await engine.context_window() == 3072  # the engine's word beats the setting
        assert await asyncio.to_thread(engine.count_tokens, MESSAGES) == 77
    finally:
        await engine.aclose()
    assert server.tokenized[0]["model"] == "photo-talk"
    assert server.tokenized[0]["messages"] == MESSAGES


async def test_without_a_report_the_setting_then_a_refusal_decide() -> None:
    config = InferenceConfig(
        "x", "someone/not-here", llm_api_base="http://127.0.0.1:9/v1", llm_context_tokens=1000
    )
    engine = RemoteEngine(config)
    try:
        assert await engine.context_window() == 1000  # the engine did not answer: the setting
        engine._context.learn(600)
        assert await engine.context_window() == 600  # a refusal said so: believed from now on
    finally:
        await engine.aclose()
