"""A character's line: generated in a batch, streamed as drafts, checked, retried once.

Checking inside the text lane's worker matters: a garbled line goes back to the front of its
queue (`Retry`) while the rest of its batch is answered at once; were it retried from the
event loop, the lane would meanwhile start the next queued caption and the reply would wait
for it too.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from inference.cleaning import looks_garbled
from inference.text.card import Introduction, parse_introduction
from inference.text.guard import quotes_instructions
from inference.text.prompts import fallback_line, first_line_request
from inference.text.streaming import TextListener
from inference.types import ChatRequest, Language, Persona, Retry

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


@dataclass(frozen=True)
class IntroductionRequest:
    """A new character's card and first words, asked in one generation (card.py)."""

    request: ChatRequest
    description: str
    language: Language
    on_draft: Callable[[str], None] | None = None
    # Set on the retry, when the card came back without usable first words: the card is
    # kept and only the first line is asked for, the usual way.
    persona: Persona | None = None


Job = ChatRequest | LineRequest | IntroductionRequest
# A serving engine's generation of one request, streaming to the listener (if any).
GenerateOne = Callable[[ChatRequest, TextListener | None], Awaitable[str]]


def write_batch(generate: Generate, jobs: Sequence[Job]) -> list[str | Introduction | Retry]:
    """Generate every job in one batch. A character line that comes out garbled is handed
    back as a `Retry` (nudged, once); a line still unusable, or one reciting the system
    prompt, becomes a stock line. Plain requests (warm-up) are returned as generated."""
    texts = generate([_request_of(job) for job in jobs], [_drafts_of(job) for job in jobs])
    return [_answer(text, job) for text, job in zip(texts, jobs, strict=True)]


async def write_one(generate: GenerateOne, job: Job) -> str | Introduction:
    """One job through an engine that batches by itself (a serving engine), with the same
    answers as `write_batch`; a `Retry` is asked again at once."""
    while True:
        answer = _answer(await generate(_request_of(job), _drafts_of(job)), job)
        if not isinstance(answer, Retry):
            return answer
        job = answer.payload


def _answer(text: str, job: Job) -> str | Introduction | Retry:
    """What one row of a batch answers (see `write_batch`)."""
    if isinstance(job, IntroductionRequest):
        return _introduced(text, job)
    if not isinstance(job, LineRequest):
        return text
    if looks_garbled(text) and not job.retried:
        log.info("a garbled %s line goes again", job.kind)
        return Retry(_nudged(job))
    return _checked(text, job)


def _introduced(text: str, job: IntroductionRequest) -> Introduction | Retry:
    """The card and its first words; first words unusable: the first line asked on its own
    (a `Retry`), and unusable again: a stock line."""
    if job.persona is not None:
        return Introduction(
            job.persona, _checked(text, LineRequest(job.request, job.persona, "first"))
        )
    introduction = parse_introduction(text, job.description, job.language)
    if _usable(introduction.first_line, job.request, introduction.persona):
        return introduction
    log.info("an introduction came without usable first words; asking for them alone")
    persona = introduction.persona
    return Retry(replace(job, request=first_line_request(persona), persona=persona))


def _usable(line: str, request: ChatRequest, persona: Persona) -> bool:
    return not looks_garbled(line) and not recites_instructions(line, request, persona)


def _request_of(job: Job) -> ChatRequest:
    return job if isinstance(job, ChatRequest) else job.request


def _drafts_of(job: Job) -> TextListener | None:
    """A listener that shows the line so far, unless it would not pass the final checks."""
    if isinstance(job, ChatRequest) or job.on_draft is None:
        return None
    on_draft = job.on_draft
    persona = job.persona
    # An introduction's answer opens with its card: only the first words are shown.
    card_first = isinstance(job, IntroductionRequest) and persona is None

    def show(text: str) -> bool:
        line, speaker = text, persona
        if card_first:
            assert isinstance(job, IntroductionRequest)
            so_far = parse_introduction(text, job.description, job.language)
            line, speaker = so_far.first_line, so_far.persona
        if not (line and speaker is not None and _usable(line, job.request, speaker)):
            return False
        on_draft(line)
        return True

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
