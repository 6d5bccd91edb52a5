"""A character's line: generated in a batch, checked, and retried once in the same worker turn.

Checking inside the worker matters: were a garbled line retried from the event loop, the
worker would meanwhile start the next queued picture and the reply would wait for it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from inference.cleaning import looks_garbled
from inference.guard import quotes_instructions
from inference.prompts import fallback_line
from inference.types import ChatRequest, Language, Persona

log = logging.getLogger(__name__)

Generate = Callable[[list[ChatRequest]], list[str]]

_RETRY_NUDGE = {
    "en": " (Answer in one or two short sentences, in character.)",
    "zh": "（请以角色身份用一两句话回答。）",
}


@dataclass(frozen=True)
class LineRequest:
    """A request whose answer a user will read as the character's words."""

    request: ChatRequest
    persona: Persona
    kind: Literal["first", "reply"]


def speak_batch(generate: Generate, jobs: Sequence[ChatRequest | LineRequest]) -> list[str]:
    """Generate every job in one batch; character lines that come out garbled are retried
    once (together), and a line still unusable, or one reciting the system prompt, becomes a
    stock line. Plain requests (persona cards, warm-up) are returned as generated."""
    texts = generate([_request_of(job) for job in jobs])
    garbled = [
        i for i, job in enumerate(jobs) if isinstance(job, LineRequest) and looks_garbled(texts[i])
    ]
    if garbled:
        log.info("retrying %d garbled line(s) once", len(garbled))
        retries = [_nudged(_line(jobs[i])) for i in garbled]
        for i, text in zip(garbled, generate(retries), strict=True):
            texts[i] = text
    return [
        _checked(text, job) if isinstance(job, LineRequest) else text
        for text, job in zip(texts, jobs, strict=True)
    ]


def _request_of(job: ChatRequest | LineRequest) -> ChatRequest:
    return job.request if isinstance(job, LineRequest) else job


def _line(job: ChatRequest | LineRequest) -> LineRequest:
    assert isinstance(job, LineRequest)
    return job


def _checked(text: str, line: LineRequest) -> str:
    """The line itself, or a stock line when it is garbled or quotes the instructions."""
    if recites_instructions(text, line.request, line.persona):
        log.warning("a %s line quoted the system prompt; using a stock line", line.kind)
    elif not looks_garbled(text):
        return text
    return fallback_line(line.persona, line.kind)


def recites_instructions(text: str, request: ChatRequest, persona: Persona) -> bool:
    """Whether `text` quotes the request's system prompt beyond the persona's own facts."""
    system = "\n".join(m["content"] for m in request.messages if m["role"] == "system")
    allowed = (persona.name, persona.description, persona.traits, persona.speaking_style)
    return bool(system) and quotes_instructions(text, system, allowed)


def _nudged(line: LineRequest) -> ChatRequest:
    """The request with a short "answer briefly, in character" added to its last user turn."""
    language: Language = line.persona.language
    messages = [dict(m) for m in line.request.messages]
    for message in reversed(messages):
        if message["role"] == "user":
            message["content"] += _RETRY_NUDGE[language]
            break
    return replace(line.request, messages=messages)
