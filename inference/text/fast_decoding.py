"""The fast decoding path for CUDA: a static KV cache that transformers decodes with a
`torch.compile`d step (CUDA graphs under "reduce-overhead"), fed only bounded shapes.

Each new batch size compiles (seconds) and the compiled step is cached per shape, so batches
are padded up to a few sizes (`BATCH_BUCKETS`) and prompts to a multiple of `PROMPT_BUCKET`;
`Actor.warm_up` compiles every batch size before the first user arrives.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

log = logging.getLogger(__name__)

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
PROMPT_BUCKET = 64  # prompt lengths are padded to a multiple of this many tokens
# The static cache holds this many tokens (STATIC_CACHE_TOKENS): a long chat's prompt plus a
# reply, one shape for every call. Prompts are fitted to it (DialogueModel.context_window),
# so it never grows: its memory is known at start. The whole context window would make
# every decoding step read a mostly empty cache, and cost memory for nothing.
STATIC_CACHE_TOKENS = 2048


def batch_bucket(rows: int) -> int:
    """The compiled batch size that holds `rows` rows."""
    return next((size for size in BATCH_BUCKETS if size >= rows), rows)


def batch_buckets_up_to(max_batch: int) -> list[int]:
    """Every batch size the worker can hand the dialogue model, as compiled shapes."""
    return sorted({batch_bucket(rows) for rows in range(1, max_batch + 1)})


def pad_rows(inputs: Any, rows: int) -> Any:
    """`inputs` grown to `rows` rows by repeating its last row (its output is dropped).

    A copy of a real row, not an all-padding row: a fully masked row makes attention NaN."""
    missing = rows - inputs["input_ids"].shape[0]
    if missing <= 0:
        return inputs
    for key in ("input_ids", "attention_mask"):
        last = inputs[key][-1:]
        inputs[key] = torch.cat([inputs[key], last.expand(missing, -1)], dim=0)
    return inputs


def use_static_cache(model: Any, cache_tokens: int) -> None:
    """Let `generate` decode with a static cache of `cache_tokens` tokens a row, which
    transformers compiles on CUDA."""
    model.generation_config.cache_implementation = "static"
    model.generation_config.max_cache_len = cache_tokens
    model.generation_config.disable_compile = False


def compile_error(error: BaseException) -> bool:
    """Whether `error` comes from compiling (TorchDynamo, Inductor, a C++/CUDA compiler),
    as opposed to running out of memory or a bad input, which eager decoding would not fix."""
    module = type(error).__module__
    return module.startswith(("torch._dynamo", "torch._inductor")) or any(
        compile_error(inner) for inner in (error.__cause__, error.__context__) if inner is not None
    )


def use_eager(model: Any, error: BaseException) -> None:
    """Give up on compiling, for good: one log line, then the ordinary dynamic cache."""
    log.warning(
        "compiling the dialogue model failed (%s: %s); decoding eagerly from now on",
        type(error).__name__,
        str(error).splitlines()[0] if str(error) else "",
    )
    model.generation_config.cache_implementation = None
    model.generation_config.disable_compile = True
