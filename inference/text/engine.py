"""Who reads the photo and writes the character's words: this process's own models (run on the
worker) or an OpenAI-compatible serving engine (`inference.text.remote_engine`). The Actor sees only
`Engine`, so the rest of the pipeline is the same either way."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import replace
from typing import Any, Protocol

from PIL import Image

from inference.text.dialogue import DialogueModel
from inference.text.lines import IntroductionRequest, Job, LineRequest
from inference.types import DraftCallback

Submit = Callable[[str, object, Hashable], Awaitable[Any]]


class Engine(Protocol):
    """Caption and dialogue: a description of a photo, and checked lines (`LineRequest`s come
    back retried if garbled, else a stock line) or plain text (`ChatRequest`s)."""

    async def context_window(self) -> int:
        """How many tokens a prompt plus its reply may use."""
        ...

    def count_tokens(self, messages: list[dict[str, str]]) -> int: ...

    async def describe(self, image: Image.Image, chat_key: Hashable) -> str: ...

    async def write(self, job: Job, chat_key: Hashable, on_draft: DraftCallback | None) -> Any:
        """The answer to `job` (an `Introduction` for an `IntroductionRequest`, else text);
        `on_draft`, if given, sees a line so far while it grows."""
        ...

    async def aclose(self) -> None: ...


class LocalEngine:
    """The caption and dialogue models of this process, run as 'caption' and 'text' jobs on
    the shared worker (which batches and checks lines: `lines.write_batch`)."""

    def __init__(self, submit: Submit, dialogue: DialogueModel) -> None:
        self._submit = submit
        self._dialogue = dialogue

    async def context_window(self) -> int:
        return self._dialogue.context_window

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        return self._dialogue.count_tokens(messages)

    async def describe(self, image: Image.Image, chat_key: Hashable) -> str:
        description: str = await self._submit("caption", image, chat_key)
        return description

    async def write(self, job: Job, chat_key: Hashable, on_draft: DraftCallback | None) -> Any:
        if isinstance(job, LineRequest | IntroductionRequest) and on_draft is not None:
            job = replace(job, on_draft=_from_worker(on_draft))
        return await self._submit("text", job, chat_key)

    async def aclose(self) -> None:
        """Nothing to close: the Actor stops the worker."""


def _from_worker(on_draft: DraftCallback) -> Callable[[str], None]:
    """`on_draft` made callable from the worker thread: each call runs on this event loop,
    in order, before the line's result (both go through call_soon_threadsafe)."""
    loop = asyncio.get_running_loop()

    def forward(text: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is reading
            loop.call_soon_threadsafe(on_draft, text)

    return forward
