"""The serving-engine path (LLM_API_BASE) against a real `transformers serve` process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import torch
from llm_server import LLMServer, free_port
from PIL import Image, ImageDraw
from tiny_checkpoints import TinyModels

from bot.settings import Settings
from inference.cleaning import looks_garbled
from inference.config import InferenceConfig
from inference.errors import EngineUnavailable
from inference.text import remote_engine as remote
from inference.text.dialogue import DialogueModel
from inference.text.lines import LineRequest, write_batch
from inference.text.remote_engine import RemoteEngine
from inference.types import ChatRequest, Persona, Retry

pytestmark = pytest.mark.serving

PERSONA = Persona("Anna", "warm, curious", "short and friendly", "a woman smiling in a park")
HELLO = ChatRequest(
    [
        {"role": "system", "content": "You are Anna, a woman in a photo."},
        {"role": "user", "content": "Hello! What is your name?"},
    ],
    max_new_tokens=16,
)


def engine_config(
    base_url: str, tiny_models: TinyModels, vlm: Path, **overrides: Any
) -> InferenceConfig:
    values: dict[str, Any] = {
        "caption_model": str(vlm),
        "dialogue_model": str(tiny_models.dialogue),
        "image_model": "",
        "device": "cpu",
        "llm_api_base": base_url,
    }
    return InferenceConfig(**(values | overrides))


def portrait(colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (96, 128), (40, 60, 90))
    ImageDraw.Draw(image).ellipse((20, 20, 76, 98), fill=colour)
    return image


async def test_a_reply_streams_into_drafts_and_equals_the_in_process_models(
    llm_server: LLMServer, tiny_models: TinyModels, tiny_chat_vlm: Path
) -> None:
    engine = RemoteEngine(engine_config(llm_server.base_url, tiny_models, tiny_chat_vlm))
    plain_drafts: list[str] = []
    drafts: list[str] = []
    try:
        text = await engine.write(HELLO, "chat", plain_drafts.append)
        line = await engine.write(LineRequest(HELLO, PERSONA, "reply"), "chat", drafts.append)
    finally:
        await engine.aclose()
    local = DialogueModel.load(str(tiny_models.dialogue), torch.device("cpu"), torch.float32)
    assert [text] == local.generate([HELLO])  # the same greedy tokens, served
    assert plain_drafts == []  # only a character's lines are shown while written
    # The line grew chunk by chunk; drafts show only text that passes the output checks.
    assert len(drafts) >= 2 and drafts[-1] == line == text
    assert not any(looks_garbled(draft) for draft in drafts)


async def test_the_photo_reaches_the_served_vlm(
    llm_server: LLMServer,
    tiny_models: TinyModels,
    tiny_chat_vlm: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers: list[str] = []
    monkeypatch.setattr(remote, "usable_description", lambda text: answers.append(text) or text)
    engine = RemoteEngine(engine_config(llm_server.base_url, tiny_models, tiny_chat_vlm))
    try:
        for colour in ((200, 160, 130), (30, 200, 60), (200, 160, 130)):
            await engine.describe(portrait(colour), "chat")
    finally:
        await engine.aclose()
    assert answers[0] == answers[2] != answers[1]  # the answer depends on the picture


async def test_character_lines_get_the_same_checks_as_in_process(
    llm_server: LLMServer, tiny_models: TinyModels, tiny_chat_vlm: Path
) -> None:
    first = ChatRequest([{"role": "user", "content": "你好！"}], max_new_tokens=12)
    jobs = [LineRequest(HELLO, PERSONA, "reply"), LineRequest(first, PERSONA, "first")]
    engine = RemoteEngine(engine_config(llm_server.base_url, tiny_models, tiny_chat_vlm))
    try:
        lines = [await engine.write(job, "chat", None) for job in jobs]
    finally:
        await engine.aclose()
    local = DialogueModel.load(str(tiny_models.dialogue), torch.device("cpu"), torch.float32)

    def in_process(job: LineRequest) -> Any:
        """What the worker answers: a garbled line runs once more (Retry), then is checked."""
        answer = write_batch(local.generate, [job])[0]
        return (
            write_batch(local.generate, [answer.payload])[0]
            if isinstance(answer, Retry)
            else answer
        )

    assert lines == [in_process(job) for job in jobs]


async def test_an_engine_that_is_down_is_retried_then_reported_once(
    tiny_models: TinyModels, tiny_chat_vlm: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setattr(remote, "FIRST_RETRY_DELAY_S", 0.01)
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    engine = RemoteEngine(engine_config(nobody, tiny_models, tiny_chat_vlm, llm_retries=3))
    attempts = 0
    real_stream = engine._stream

    async def counting(*args: Any) -> str:
        nonlocal attempts
        attempts += 1
        return await real_stream(*args)

    monkeypatch.setattr(engine, "_stream", counting)
    with caplog.at_level(logging.ERROR, logger="inference.text.remote_engine"):
        for _ in range(2):
            with pytest.raises(EngineUnavailable):
                await engine.write(HELLO, "chat", None)
    await engine.aclose()
    assert attempts == 6
    assert len(caplog.records) == 1 and "not answering" in caplog.records[0].getMessage()


def test_the_engine_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLM_API_BASE", " http://gpu-box:8000/v1 ")
    monkeypatch.setenv("LLM_API_KEY", "sk-secret")
    monkeypatch.setenv("LLM_DIALOGUE_MODEL", "photo-talk")
    config = Settings(_env_file=None).inference  # type: ignore[call-arg]
    assert config.llm_api_base == "http://gpu-box:8000/v1" and config.llm_api_key == "sk-secret"
    assert (config.llm_dialogue_model, config.llm_caption_model) == ("photo-talk", "")
    assert "sk-secret" not in repr(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.delenv("LLM_API_BASE")
    assert Settings(_env_file=None).inference.llm_api_base == ""  # type: ignore[call-arg]
