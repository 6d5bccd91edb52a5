"""Caption and dialogue served by an OpenAI-compatible engine (vLLM, SGLang, `transformers
serve`) at LLM_API_BASE. The engine batches across users itself, so these calls bypass our
worker; replies stream (server-sent events) into the caller's draft callback."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import replace
from typing import Any

import httpx
from PIL import Image

from inference.cleaning import clean_generation
from inference.config import InferenceConfig
from inference.errors import EngineRefused
from inference.images import encode_jpeg, fit_within
from inference.retrying import FIRST_RETRY_DELAY_S, RETRY_STATUSES, Overloaded, Server
from inference.text.captioner import MAX_IMAGE_SIDE, PERSONA_QUESTION, usable_description
from inference.text.lines import IntroductionRequest, Job, LineRequest, write_one
from inference.text.served_context import ServedContext, refusal_limits
from inference.text.streaming import TextListener
from inference.types import ChatRequest, DraftCallback

log = logging.getLogger(__name__)

CAPTION_MAX_TOKENS = 96


class PromptTooLong(EngineRefused):
    """The prompt leaves no room for an answer in the served model's context (now known):
    a reply can be fitted again, shorter. `room`: the answer tokens that would still fit."""

    def __init__(self, message: str, room: int | None = None) -> None:
        super().__init__(message)
        self.room = room


class RemoteEngine:
    """An OpenAI-compatible chat-completions server: the photo goes to the VLM as a data URL,
    replies stream; unreachable servers are retried with backoff, then `EngineUnavailable`."""

    def __init__(self, config: InferenceConfig) -> None:
        self._server = Server(
            config.llm_api_base,
            key=config.llm_api_key,
            attempts=config.llm_retries,
            timeout_s=config.stage_timeout_s,
            serves="captions and replies",
            log=log,
        )
        self._base = self._server.base
        self._headers = self._server.headers
        self._caption_model = config.llm_caption_model or config.caption_model
        self._dialogue_model = config.llm_dialogue_model or config.dialogue_model
        root = self._base.removesuffix("v1/")
        self._context = ServedContext(
            self._dialogue_model, config.llm_context_tokens, root, self._headers
        )

    async def context_window(self) -> int:
        """How many tokens the served dialogue model reads, prompt and answer (asked once)."""
        await self._context.ask(self._http())
        return self._context.size()

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        """The prompt's tokens as the served model counts them, or an over-estimate."""
        return self._context.count_tokens(messages)[0]

    async def describe(self, image: Image.Image, chat_key: Hashable) -> str:
        """What the served VLM sees in the photo (the same question the in-process one gets)."""
        jpeg = await asyncio.to_thread(_jpeg_for_upload, image)
        url = "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")
        content = [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": PERSONA_QUESTION},
        ]
        messages = [{"role": "user", "content": content}]
        body = _body(self._caption_model, messages, CAPTION_MAX_TOKENS)
        return usable_description(await self._asking(body, self._complete))

    async def write(self, job: Job, chat_key: Hashable, on_draft: DraftCallback | None) -> Any:
        """A checked line, an introduction or a plain answer; a line's text so far goes to
        `on_draft` (here on the event loop) while it streams, when it would pass the checks."""
        if isinstance(job, LineRequest | IntroductionRequest):
            job = replace(job, on_draft=on_draft)

        async def generate(request: ChatRequest, listener: TextListener | None) -> str:
            max_tokens = await asyncio.to_thread(self._answer_room, request)
            body = _body(self._dialogue_model, request.messages, max_tokens)
            return clean_generation(await self._asking(body, lambda b: self._stream(b, listener)))

        return await write_one(generate, job)

    async def _asking(
        self, body: dict[str, Any], send: Callable[[dict[str, Any]], Awaitable[str]]
    ) -> str:
        """`send(body)`, tried again while the engine cannot answer; refused because the
        prompt fits but its answer does not, asked once more for an answer that fits."""
        try:
            return await self._retrying(lambda: send(body))
        except PromptTooLong as refused:
            if refused.room is None:
                raise
            body["max_tokens"] = refused.room
            return await self._retrying(lambda: send(body))

    def _answer_room(self, request: ChatRequest) -> int:
        """The request's answer budget, cut to what the context leaves after an exactly
        counted prompt (an engine such as vLLM refuses prompt + max_tokens past its context)."""
        prompt, exact = self._context.count_tokens(request.messages)
        room = self._context.size() - prompt
        if not exact or room >= request.max_new_tokens:
            return request.max_new_tokens
        if room < 1:
            raise PromptTooLong(f"the prompt has {prompt} tokens, the model reads {room + prompt}")
        return room

    async def aclose(self) -> None:
        await self._server.aclose()

    # --- HTTP -----------------------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        return self._server.client()

    async def _complete(self, body: dict[str, Any]) -> str:
        response = await self._http().post("chat/completions", json=body)
        self._raise_for_status(response.status_code, response.text)
        choices = response.json().get("choices") or [{}]
        return str((choices[0].get("message") or {}).get("content") or "")

    async def _stream(self, body: dict[str, Any], on_draft: TextListener | None) -> str:
        """The streamed answer; each chunk's text so far goes to `on_draft`."""
        text, shown = "", ""
        request = self._http().stream("POST", "chat/completions", json=body | {"stream": True})
        async with request as response:
            if response.status_code >= 400:
                self._raise_for_status(response.status_code, (await response.aread()).decode())
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    break
                chunk = json.loads(data)
                if "error" in chunk:
                    raise EngineRefused(f"the engine failed mid-answer: {chunk['error']}")
                choices = chunk.get("choices") or []  # the closing chunk may carry none
                delta = "".join((c.get("delta") or {}).get("content") or "" for c in choices)
                if delta:
                    text += delta
                    draft = clean_generation(text)
                    if on_draft is not None and draft and draft != shown:
                        on_draft(draft)
                        shown = draft
        return text

    def _raise_for_status(self, status: int, detail: str) -> None:
        """Overloaded: `Overloaded` (tried again); too long: `PromptTooLong`, and the
        context it names is remembered; anything else: `EngineRefused`."""
        if status in RETRY_STATUSES:
            raise Overloaded(f"HTTP {status}")
        if status < 400:
            return
        limits = refusal_limits(detail) if status in (400, 413, 422) else None
        if limits is not None:
            limit, prompt = limits
            self._context.learn(limit)
            room = limit - prompt if prompt is not None and prompt < limit else None
            raise PromptTooLong(f"HTTP {status}: the prompt is too long for {limit} tokens", room)
        log.error("serving engine refused a request: HTTP %d, %s", status, refusal_reason(detail))
        raise EngineRefused(f"HTTP {status}")

    async def _retrying(self, call: Any) -> str:
        """`call()` again after a connection failure, a timeout or an overloaded answer, with a
        doubling pause; then `EngineUnavailable`. Logs once when the engine goes and comes back."""
        result: str = await self._server.call(call, first_delay=FIRST_RETRY_DELAY_S)
        return result


# Refusals worth naming, found in the engine's error message and logged in these words only.
_KNOWN_REFUSALS = (
    (("context length", "maximum context", "too long"), "the prompt is longer than its context"),
    (("does not exist", "not found", "unknown model"), "no such model (or path) is served"),
    (("api key", "unauthorized", "authentication"), "the LLM_API_KEY was refused"),
    (("image", "multimodal", "mm_"), "it does not take the photo as sent"),
)
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,47}")
_NUMBER = re.compile(r"\d+")


def refusal_reason(detail: str) -> str:
    """What to log of an engine's error answer: its error type and, for refusals it knows,
    the reason in its own words with the figures of the first sentence (token counts).
    Never the message itself: an engine may quote the request, i.e. what users wrote."""
    try:
        body = json.loads(detail)
    except ValueError:
        body = None
    # OpenAI and vLLM: {"error": {...}} or {"message", "type"}; FastAPI: {"detail"}; or HTML.
    error = body.get("error", body) if isinstance(body, dict) else {"message": detail}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    kinds = [str(error.get(key, "")) for key in ("type", "code")]
    kind = next((k for k in kinds if _IDENTIFIER.fullmatch(k)), "error of no known type")
    message = str(error.get("message") or error.get("detail") or "").lower()
    first = re.split(r"(?<=[.!?])\s", message, maxsplit=1)[0]
    for words, reason in _KNOWN_REFUSALS:
        if any(word in message for word in words):
            figures = ", ".join(_NUMBER.findall(first)[:4]) if words[0] == "context length" else ""
            return f"{kind}: {reason}" + (f" ({figures})" if figures else "")
    return kind


def _body(model: str, messages: list[dict[str, Any]], max_tokens: int) -> dict[str, Any]:
    """Greedy, like the in-process models; only fields every engine accepts."""
    return {"model": model, "messages": messages, "max_tokens": max_tokens, "temperature": 0.0}


def _jpeg_for_upload(image: Image.Image) -> bytes:
    return encode_jpeg(fit_within(image.convert("RGB"), MAX_IMAGE_SIDE))
