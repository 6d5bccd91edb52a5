"""Where the models run: one explicit device and a dtype that suits it."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable

import torch

_CUDA = re.compile(r"cuda(?::(\d+))?")


def resolve_device(name: str) -> torch.device:
    """Turn INFERENCE_DEVICE ("auto", "cpu", "cuda", "cuda:N") into a device, failing loudly."""
    value = name.strip().lower()
    if value == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if value == "cpu":
        return torch.device("cpu")
    match = _CUDA.fullmatch(value)
    if match is None:
        raise ValueError(f"unknown inference device {name!r}: use auto, cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        raise ValueError(f"inference device {name!r} asks for CUDA, but CUDA is not available")
    index = int(match.group(1) or 0)
    if index >= torch.cuda.device_count():
        raise ValueError(
            f"inference device {name!r}: only {torch.cuda.device_count()} CUDA device(s) present"
        )
    return torch.device("cuda", index)


def default_dtype(device: torch.device) -> torch.dtype:
    """Half precision on GPUs (bf16 where supported, it does not overflow), fp32 on CPU."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def own_stream(device: torch.device) -> Callable[[], None] | None:
    """For a lane's thread: issue its CUDA kernels on a stream of its own. Torch's streams are
    non-blocking, so they run beside the other lane's (on the default stream) instead of
    queueing behind them. None off CUDA."""
    if device.type != "cuda":
        return None

    def use() -> None:
        torch.cuda.set_stream(torch.cuda.Stream(device))

    return use


def free_device_memory(_: BaseException) -> None:
    """After a failed stage (often CUDA out of memory) give the allocator its memory back."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
