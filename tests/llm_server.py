"""A real OpenAI-compatible serving engine for the tests: `transformers serve` on 127.0.0.1,
serving the tiny checkpoints on CPU (models load on their first request, by folder path)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_S = 180.0  # about 10 s alone; the CI machine may be busy
# The served models read this many tokens, prompt and answer (`--max-model-len`): as short as a
# vLLM started to fit a small GPU, so prompts must be fitted (the tiny tokenizers spend a token
# per byte: a character's system prompt alone is about 650).
CONTEXT_TOKENS = 768


@dataclass(frozen=True)
class LLMServer:
    """Where the engine listens (`base_url` ends in /v1, as LLM_API_BASE does) and its log."""

    base_url: str
    log: Path
    context_tokens: int = CONTEXT_TOKENS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def transformers_serve(log: Path) -> Iterator[LLMServer]:
    """Start `transformers serve` in a child process; stop it afterwards."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "transformers.cli.transformers",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--device",
        "cpu",
        "--dtype",
        "float32",
        "--max-model-len",
        str(CONTEXT_TOKENS),
    ]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_healthy(f"http://127.0.0.1:{port}/health", process, log)
        yield LLMServer(f"http://127.0.0.1:{port}/v1", log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"transformers serve exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"transformers serve did not start:\n{log.read_text()[-3000:]}")
