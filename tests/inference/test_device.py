"""INFERENCE_DEVICE values."""

from __future__ import annotations

import pytest
import torch

from inference.serving.device import default_dtype, resolve_device


def test_auto_picks_cuda_only_when_present() -> None:
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device(" CPU ") == torch.device("cpu")


@pytest.mark.parametrize("name", ["gpu", "cuda:", "cuda:x", "cuda1", "tpu", ""])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown inference device"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_cuda_without_a_gpu_is_a_clear_error(name: str) -> None:
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device(name)


def test_dtypes() -> None:
    assert default_dtype(torch.device("cpu")) == torch.float32
    if torch.cuda.is_available():
        assert default_dtype(torch.device("cuda")) in (torch.bfloat16, torch.float16)
