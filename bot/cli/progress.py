"""A spinner with the stage name for the terminal; plain lines when output is not a terminal."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import time
from collections.abc import AsyncIterator
from typing import TextIO

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


@contextlib.asynccontextmanager
async def progress(label: str, stream: TextIO | None = None) -> AsyncIterator[None]:
    """Show `label` while the body runs; the event loop stays free, so the spinner turns."""
    out = stream or sys.stderr
    started = time.perf_counter()
    if not out.isatty():
        print(f"… {label}", file=out, flush=True)
        yield
        return
    spinner = asyncio.create_task(_spin(label, out, started))
    try:
        yield
    finally:
        spinner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await spinner
        out.write(f"\r\033[K✓ {label} ({time.perf_counter() - started:.1f} s)\n")
        out.flush()


async def _spin(label: str, out: TextIO, started: float) -> None:
    for frame in itertools.cycle(_FRAMES):
        out.write(f"\r{frame} {label} {time.perf_counter() - started:.0f} s")
        out.flush()
        await asyncio.sleep(0.1)
