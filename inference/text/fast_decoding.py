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
# The static cache holds this many tokens: a long chat's prompt plus a reply, one shape for
# every call (a longer prompt grows it and recompiles once). The whole context window would
# make every decoding step read a mostly empty cache.
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


def use_static_cache(model: Any, context_window: int) -> None:
    """Let `generate` decode with a static cache, which transformers compiles on CUDA."""
    model.generation_config.cache_implementation = "static"
    model.generation_config.max_cache_len = min(context_window, STATIC_CACHE_TOKENS)
    model.generation_config.disable_compile = False


def use_eager(model: Any, error: BaseException) -> None:
    """Give up on compiling, for good: one log line, then the ordinary dynamic cache."""
    log.warning(
        "compiling the dialogue model failed (%s: %s); decoding eagerly from now on",
        type(error).__name__,
        str(error).splitlines()[0] if str(error) else "",
    )
    model.generation_config.cache_implementation = None
    model.generation_config.disable_compile = True
