"""Requests to OpenAI-compatible servers (LLM_API_BASE, TTS_API_BASE, ASR_API_BASE), tried
again while the server is unreachable or overloaded: which answers deserve another try, the
pauses between tries, and one log line when a server goes away and one when it is back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

from inference.errors import EngineUnavailable

CONNECT_TIMEOUT_S = 5.0
FIRST_RETRY_DELAY_S = 0.5  # then doubled: 0.5 s, 1 s, 2 s...
# Servers answer these when overloaded or restarting: worth another try.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

T = TypeVar("T")


class Overloaded(Exception):
    """An answer that says: try again later (429, 503, ...)."""


class Server:
    """One server as the bot sees it, up or down: a call that cannot reach it (connection
    failure, timeout, `Overloaded`) is tried `attempts` times with a doubling pause, then
    `EngineUnavailable`; `log` gets one line when it goes and one when it is back."""

    def __init__(
        self,
        base: str,
        *,
        key: str,
        attempts: int,
        timeout_s: float,
        serves: str,
        log: logging.Logger,
    ) -> None:
        self.base = base.rstrip("/") + "/"
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._attempts = max(1, attempts)
        self._timeout = httpx.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S)
        self._serves = serves  # what fails while it is down: "captions and replies", ...
        self._log = log
        self._down = False
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> httpx.AsyncClient:
        """The HTTP client of the running event loop (connections belong to one loop: the bot
        has one, tests many)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(
                base_url=self.base, headers=self.headers, timeout=self._timeout
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the connections (on the event loop that opened them)."""
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    async def call(
        self, request: Callable[[], Awaitable[T]], first_delay: float = FIRST_RETRY_DELAY_S
    ) -> T:
        """`await request()`, tried again while the server cannot answer it."""
        delay = first_delay
        for attempt in range(1, self._attempts + 1):
            try:
                result = await request()
            except (httpx.TransportError, Overloaded) as exc:
                if attempt == self._attempts:
                    if not self._down:
                        self._log.error(
                            "serving engine at %s is not answering (%s); %s fail until it is back",
                            self.base,
                            type(exc).__name__,
                            self._serves,
                        )
                    self._down = True
                    raise EngineUnavailable(str(exc) or type(exc).__name__) from exc
                await asyncio.sleep(delay)
                delay *= 2
            else:
                if self._down:
                    self._log.info("serving engine at %s is answering again", self.base)
                self._down = False
                return result
        raise AssertionError("unreachable")  # pragma: no cover
