"""Chat messages -> the character's words, batched, greedy and reproducible."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from inference.cleaning import clean_generation
from inference.text.fast_decoding import (
    PROMPT_BUCKET,
    STATIC_CACHE_TOKENS,
    batch_bucket,
    compile_error,
    pad_rows,
    use_eager,
    use_static_cache,
)
from inference.text.streaming import RowStreamer, TextListener
from inference.types import ChatRequest

if TYPE_CHECKING:
    from inference.text.captioner import Captioner

log = logging.getLogger(__name__)

MAX_CONTEXT_WINDOW = 8192  # longer contexts cost memory and latency a chat does not need
DEFAULT_CONTEXT_WINDOW = 2048
# End-of-turn markers of common chat templates, besides the tokenizer's own eos.
STOP_TOKENS = (
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<end_of_turn>",
    "<|end|>",
    "</s>",
    "<end_of_utterance>",  # SmolVLM, Idefics3
)


class DialogueModel:
    """A causal LM with a chat template that speaks for the characters."""

    def __init__(
        self,
        tokenizer: Any,
        model: Any,
        device: torch.device,
        content_parts: bool = False,
        tokenizer_lock: threading.Lock | None = None,
    ):
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError("the dialogue model's tokenizer has no chat_template")
        self.tokenizer = tokenizer
        self.model = model
        self.device = device
        # VLM templates read message content as a list of typed parts; some drop plain strings.
        self.content_parts = content_parts
        # Left padding: every row of a batch then ends where its generation starts.
        tokenizer.padding_side = "left"
        self.stop_ids = _stop_ids(tokenizer, model)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token or tokenizer.convert_ids_to_tokens(
                min(self.stop_ids)
            )
        self.pad_id: int = tokenizer.pad_token_id
        # A fast tokenizer's settings (padding) are mutable state in Rust: concurrent calls
        # from the worker and from request building raise "Already borrowed".
        self._tokenizer_lock = tokenizer_lock or threading.Lock()
        self.fast = False  # the static-cache, compiled decoding path (use_fast_decoding)
        self._cache_tokens = 0  # the static cache's tokens a row, on the fast path
        self._compiled_batches: set[int] = set()

    @classmethod
    def load(cls, model_id_or_path: str, device: torch.device, dtype: torch.dtype) -> DialogueModel:
        """Load from a Hugging Face id or a local folder; SDPA attention where the model has it."""
        tokenizer = AutoTokenizer.from_pretrained(model_id_or_path)
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                f"dialogue model {model_id_or_path!r} has no chat template: use a chat model"
            )
        model: Any
        try:
            model = AutoModelForCausalLM.from_pretrained(
                model_id_or_path, dtype=dtype, attn_implementation="sdpa"
            )
        except (ValueError, ImportError):
            log.info("%s does not support SDPA attention; using its default", model_id_or_path)
            model = AutoModelForCausalLM.from_pretrained(model_id_or_path, dtype=dtype)
        model.to(device).eval().requires_grad_(False)
        return cls(tokenizer, model, device)

    @classmethod
    def from_captioner(cls, captioner: Captioner) -> DialogueModel:
        """Talk with the caption VLM itself, so one checkpoint is loaded once."""
        if not captioner.chat_capable:
            raise ValueError("the caption model cannot chat (no chat template); set DIALOGUE_MODEL")
        tokenizer = captioner.processor.tokenizer
        if not getattr(tokenizer, "chat_template", None):
            # VLMs often keep the template on the processor only.
            tokenizer.chat_template = captioner.processor.chat_template
        return cls(
            tokenizer,
            captioner.model,
            captioner.device,
            content_parts=True,
            tokenizer_lock=captioner.tokenizer_lock,
        )

    @property
    def context_window(self) -> int:
        """How many tokens a prompt plus its reply may use: on the fast path what the static
        cache holds, less the padding a prompt may get (so the cache never grows)."""
        if self.fast:
            return self._cache_tokens - PROMPT_BUCKET
        return self._model_window()

    def _model_window(self) -> int:
        config = self.model.config.get_text_config()
        window = getattr(config, "max_position_embeddings", None) or DEFAULT_CONTEXT_WINDOW
        return int(min(window, MAX_CONTEXT_WINDOW))

    def count_tokens(self, messages: list[dict[str, str]]) -> int:
        """Prompt length of `messages` with the generation prompt, as `generate` would see it."""
        return len(self._encode([self._render(messages)])["input_ids"][0])

    def use_fast_decoding(self, cache_tokens: int = STATIC_CACHE_TOKENS) -> None:
        """Decode with a static cache of `cache_tokens` a row and a compiled step (CUDA), in
        bounded shapes; prompts are fitted to the cache from now on."""
        self._cache_tokens = min(cache_tokens, self._model_window())
        use_static_cache(self.model, self._cache_tokens)
        self.fast = True

    def generate(
        self,
        requests: list[ChatRequest],
        on_text: Sequence[TextListener | None] | None = None,
    ) -> list[str]:
        """Greedy replies for all requests in one `generate` call, cleaned for users;
        `on_text[i]` (worker thread) sees row i's text so far while it is generated."""
        rows = self.generate_tokens(requests, on_text)
        return [clean_generation(self._decode(tokens)) for tokens in rows]

    def generate_tokens(
        self,
        requests: list[ChatRequest],
        on_text: Sequence[TextListener | None] | None = None,
    ) -> list[list[int]]:
        """New token ids per request, cut at its budget and first stop token; row i equals
        an unbatched run of request i."""
        if not requests:
            return []
        # 1. render every conversation with the chat template, left-padded into one batch
        #    (on the fast path: padded up to a compiled batch size and prompt-length bucket)
        texts = [self._render(request.messages) for request in requests]
        inputs = self._encode(texts, PROMPT_BUCKET if self.fast else None)
        if self.fast:
            inputs = pad_rows(inputs, batch_bucket(len(requests)))
        prompt_length = inputs["input_ids"].shape[1]
        # 2. one greedy generate with the largest budget, streaming rows that have listeners
        budgets = [request.max_new_tokens for request in requests]
        listeners = list(on_text or [None] * len(requests))
        output = self._generate(inputs, budgets, listeners)
        # 3. each row cut at its own budget and at its first stop token
        rows = []
        new_tokens = output[: len(requests), prompt_length:].tolist()
        for row, request in zip(new_tokens, requests, strict=True):
            tokens = row[: request.max_new_tokens]
            stop = next((i for i, token in enumerate(tokens) if token in self.stop_ids), None)
            rows.append(tokens[:stop])
        return rows

    def _generate(
        self, inputs: Any, budgets: list[int], listeners: list[TextListener | None]
    ) -> Any:
        """`model.generate`; on the fast path, a batch size that fails to compile turns the
        fast path off for good and the call runs again eagerly. Other failures (out of memory:
        the worker tries smaller batches) leave it on."""
        batch = inputs["input_ids"].shape[0]
        try:
            output = self._greedy(inputs, budgets, listeners)
        except Exception as exc:
            if not self.fast or batch in self._compiled_batches or not compile_error(exc):
                raise
            use_eager(self.model, exc)
            self.fast = False
            return self._greedy(inputs, budgets, listeners)
        if self.fast:
            self._compiled_batches.add(batch)
        return output

    def _greedy(self, inputs: Any, budgets: list[int], listeners: list[TextListener | None]) -> Any:
        streamer = None
        if any(listeners):
            padding = inputs["input_ids"].shape[0] - len(listeners)
            streamer = RowStreamer(
                self._decode,
                listeners + [None] * padding,
                budgets + [0] * padding,
                self.stop_ids,
            )
        with torch.inference_mode():
            return self.model.generate(
                **inputs,
                max_new_tokens=max(budgets),
                do_sample=False,
                num_beams=1,
                pad_token_id=self.pad_id,
                eos_token_id=sorted(self.stop_ids),
                return_dict_in_generate=False,
                streamer=streamer,
            )

    def _decode(self, tokens: list[int]) -> str:
        with self._tokenizer_lock:
            text: str = self.tokenizer.decode(tokens, skip_special_tokens=True)
        return text

    def _render(self, messages: list[dict[str, str]]) -> str:
        try:
            text = self._apply_template(messages)
        except Exception:  # e.g. Gemma-style templates refuse a system role
            text = self._apply_template(_fold_system(messages))
        return text

    def _apply_template(self, messages: list[dict[str, str]]) -> str:
        chat: list[dict[str, Any]] = list(messages)
        if self.content_parts:
            chat = [
                {"role": m["role"], "content": [{"type": "text", "text": m["content"]}]}
                for m in messages
            ]
        text = self.tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        return str(text)

    def _encode(self, texts: list[str], pad_to_multiple_of: int | None = None) -> Any:
        # The template already holds any BOS; adding special tokens again would double it.
        with self._tokenizer_lock:
            inputs = self.tokenizer(
                texts,
                return_tensors="pt",
                padding=True,
                pad_to_multiple_of=pad_to_multiple_of,
                add_special_tokens=False,
            )
        return inputs.to(self.device)


def _fold_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Move system text into the first user message for templates without a system role."""
    system = "\n".join(m["content"] for m in messages if m["role"] == "system")
    rest = [dict(m) for m in messages if m["role"] != "system"]
    if system and rest and rest[0]["role"] == "user":
        rest[0]["content"] = f"{system}\n\n{rest[0]['content']}"
    elif system:
        rest.insert(0, {"role": "user", "content": system})
    return rest


def _stop_ids(tokenizer: Any, model: Any) -> set[int]:
    ids: set[int] = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (tokenizer.eos_token_id, configured):
        if isinstance(value, int):
            ids.add(value)
        elif isinstance(value, list):
            ids.update(v for v in value if isinstance(v, int))
    vocab = tokenizer.get_vocab()
    ids.update(vocab[token] for token in STOP_TOKENS if token in vocab)
    if not ids:
        raise ValueError("the dialogue tokenizer has no end-of-sequence token")
    return ids
