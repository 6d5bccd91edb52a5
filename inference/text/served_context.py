"""How much a served model can read, and how many tokens a prompt costs it.

A served model's context is whatever its operator set (vLLM's `--max-model-len` is often set
low to fit memory), so it is found out rather than assumed: the engine's own report
(`GET /v1/models`, vLLM and SGLang give `max_model_len`), else `LLM_CONTEXT_TOKENS`, else a
"too long" refusal, whose message carries the figure. Tokens are counted with the served
model's own tokenizer where it can be had (a local folder or the local Hugging Face cache,
else vLLM's `POST /tokenize`), else estimated on the high side.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import httpx

log = logging.getLogger(__name__)

# Where nothing else says: what the in-process dialogue model is capped at too.
DEFAULT_CONTEXT_TOKENS = 8192
TOKENIZE_TIMEOUT_S = 5.0
# "too long" refusals, as transformers serve, vLLM, SGLang and llama.cpp word them.
_LIMIT = re.compile(
    r"takes at most (\d+)"
    r"|maximum context length (?:is|of) (\d+)"
    r"|context size \((\d+) tokens\)"
    r"|max_model_len\D{0,12}(\d+)",
    re.IGNORECASE,
)
_PROMPT = re.compile(
    r"prompt has (\d+) tokens"
    r"|\((\d+) in the messages"
    r"|request has (\d+) input tokens"
    r"|(\d+) tokens from the input messages",
    re.IGNORECASE,
)


def refusal_limits(message: str) -> tuple[int, int | None] | None:
    """From a "too long" refusal: (the model's context, the prompt's tokens if said); None
    when the refusal is about something else."""
    limit = _first_number(_LIMIT, message)
    if limit is None:
        return None
    return limit, _first_number(_PROMPT, message)


def estimate_tokens(messages: list[dict[str, Any]]) -> int:
    """A count on the high side without the tokenizer: a token per 3 ASCII characters (English
    averages nearer 4) and 1.5 per other character (a Chinese character is one or two), plus
    the chat template's few per message."""
    total = 8
    for message in messages:
        content = message["content"] if isinstance(message["content"], str) else ""
        ascii_chars = sum(1 for ch in content if ch.isascii())
        total += 6 + ascii_chars // 3 + (3 * (len(content) - ascii_chars) + 1) // 2
    return total


class ServedContext:
    """The context of one served model and its token counter, learned as the bot goes."""

    def __init__(self, model: str, configured_tokens: int, root_url: str, headers: dict[str, str]):
        self.model = model
        self._configured = configured_tokens  # LLM_CONTEXT_TOKENS; 0: not set
        self._reported: int | None = None  # what GET /v1/models said
        self._learned: int | None = None  # what a refusal said: the engine's own word
        self._asked = False
        self._root_url = root_url  # the server's root: vLLM serves /tokenize there
        self._headers = headers
        self._lock = threading.Lock()  # count_tokens runs in worker threads
        self._tokenizer: Any = None
        self._looked_for_tokenizer = False
        self._remote_tokenize = True  # until the engine says it has no /tokenize

    def size(self) -> int:
        """Tokens a prompt plus its answer may use."""
        for tokens in (self._learned, self._reported, self._configured):
            if tokens:
                return min(tokens, DEFAULT_CONTEXT_TOKENS)
        return DEFAULT_CONTEXT_TOKENS

    async def ask(self, client: httpx.AsyncClient) -> None:
        """Ask the engine once what it serves (`GET models`); a failure leaves it unknown."""
        if self._asked:
            return
        self._asked = True
        try:
            response = await client.get("models")
            entries = response.json().get("data") or [] if response.status_code == 200 else []
        except (httpx.HTTPError, ValueError):
            return
        for entry in entries:
            if isinstance(entry, dict) and entry.get("id") == self.model:
                reported = entry.get("max_model_len") or entry.get("context_length")
                if isinstance(reported, int) and reported > 0:
                    self._reported = reported
                    log.info("served model %s reads %d tokens", self.model, reported)

    def learn(self, limit: int) -> None:
        """A refusal said how long the model's context is: believe it from now on."""
        if self._learned != limit:
            log.warning(
                "served model %s reads at most %d tokens; prompts are fitted", self.model, limit
            )
        self._learned = limit

    def count_tokens(self, messages: list[dict[str, Any]]) -> tuple[int, bool]:
        """The prompt's tokens with the generation prompt, and whether that is exact."""
        tokenizer = self._local_tokenizer()
        if tokenizer is not None:
            try:
                text = tokenizer.apply_chat_template(
                    messages, tokenize=False, add_generation_prompt=True
                )
                with self._lock:
                    ids = tokenizer(str(text), add_special_tokens=False)["input_ids"]
                return len(ids), True
            except Exception:  # a template that refuses these messages: count otherwise
                log.debug("the local tokenizer could not count a prompt", exc_info=True)
        if self._remote_tokenize:
            counted = self._tokenize_remotely(messages)
            if counted is not None:
                return counted, True
        return estimate_tokens(messages), False

    def _local_tokenizer(self) -> Any:
        with self._lock:
            if not self._looked_for_tokenizer:
                self._looked_for_tokenizer = True
                self._tokenizer = _cached_tokenizer(self.model)
            return self._tokenizer

    def _tokenize_remotely(self, messages: list[dict[str, Any]]) -> int | None:
        """vLLM's `POST /tokenize`; an engine without it is not asked again."""
        body = {"model": self.model, "messages": messages, "add_generation_prompt": True}
        try:
            response = httpx.post(
                self._root_url + "tokenize",
                json=body,
                headers=self._headers,
                timeout=TOKENIZE_TIMEOUT_S,
            )
        except httpx.HTTPError:
            return None
        if response.status_code in (404, 405):
            self._remote_tokenize = False
            return None
        try:
            count = response.json().get("count") if response.status_code == 200 else None
        except ValueError:
            return None
        return count if isinstance(count, int) else None


def _cached_tokenizer(model: str) -> Any:
    """The served model's tokenizer when its files are here (a folder, or the HF cache)."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(model, local_files_only=True)
    except Exception:  # not a local folder, not cached, or not a tokenizer: estimate instead
        return None
    if not getattr(tokenizer, "chat_template", None):
        return None
    log.info("counting prompt tokens with the local tokenizer of %s", model)
    return tokenizer


def _first_number(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text)
    if match is None:
        return None
    return int(next(group for group in match.groups() if group is not None))
