"""A character's line: generated in a batch, streamed as drafts, checked, retried once.

Checking inside the worker matters: a garbled line goes back to the front of the worker's
queue (`Retry`) while the rest of its batch is answered at once; were it retried from the
event loop, the worker would meanwhile start the next queued picture and the reply would
wait for it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from inference.cleaning import looks_garbled
from inference.guard import quotes_instructions
from inference.prompts import fallback_line
from inference.streaming import TextListener
from inference.types import ChatRequest, Language, Persona
from inference.worker import Retry

log = logging.getLogger(__name__)


class Generate(Protocol):
    """DialogueModel.generate: texts for a batch, rows with a listener streamed to it."""

    def __call__(
        self, requests: list[ChatRequest], on_text: Sequence[TextListener | None] | None = None
    ) -> list[str]: ...


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
    # Called on the worker thread with the displayable line so far (the Actor forwards it to
    # the event loop); only text that passes the checks below is shown.
    on_draft: Callable[[str], None] | None = None
    retried: bool = False


def speak_batch(generate: Generate, jobs: Sequence[ChatRequest | LineRequest]) -> list[str | Retry]:
    """Generate every job in one batch. A character line that comes out garbled is handed
    back as a `Retry` (nudged, once); a line still unusable, or one reciting the system
    prompt, becomes a stock line. Plain requests (warm-up) are returned as generated."""
    texts = generate([_request_of(job) for job in jobs], [_drafts_of(job) for job in jobs])
    results: list[str | Retry] = []
    for text, job in zip(texts, jobs, strict=True):
        if not isinstance(job, LineRequest):
            results.append(text)
        elif looks_garbled(text) and not job.retried:
            log.info("a garbled %s line goes again", job.kind)
            results.append(Retry(_nudged(job)))
        else:
            results.append(_checked(text, job))
    return results


def _request_of(job: ChatRequest | LineRequest) -> ChatRequest:
    return job.request if isinstance(job, LineRequest) else job


def _drafts_of(job: ChatRequest | LineRequest) -> TextListener | None:
    """A listener that shows the line so far, unless it would not pass the final checks."""
    if not isinstance(job, LineRequest) or job.on_draft is None:
        return None
    on_draft = job.on_draft

    def show(text: str) -> None:
        if not looks_garbled(text) and not recites_instructions(text, job.request, job.persona):
            on_draft(text)

    return show


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


def _nudged(line: LineRequest) -> LineRequest:
    """The line asked again, with "answer briefly, in character" added to its last user turn."""
    language: Language = line.persona.language
    messages = [dict(m) for m in line.request.messages]
    for message in reversed(messages):
        if message["role"] == "user":
            message["content"] += _RETRY_NUDGE[language]
            break
    return replace(line, request=replace(line.request, messages=messages), retried=True)
