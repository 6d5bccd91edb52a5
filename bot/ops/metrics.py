"""What operators watch: Prometheus counters and histograms, and the health check behind /healthz.

One registry per application (not prometheus-client's global one), so two bots in one process
(the tests) never share counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import Update

log = logging.getLogger(__name__)

# Stage latencies run from milliseconds (a caption on a GPU) to minutes (a video on a CPU).
STAGE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
DATABASE_CHECK_S = 3.0
HEALTH_TTL_S = 1.0


class Metrics:
    """The bot's counters; `render()` is the /metrics page."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "photo_talk_updates", "Telegram updates received, by kind", ["kind"],
            registry=self.registry,
        )  # fmt: skip
        self.answers = Counter(
            "photo_talk_answers_sent", "Bot API sends that succeeded, by method", ["method"],
            registry=self.registry,
        )  # fmt: skip
        self.errors = Counter(
            "photo_talk_errors", "Updates whose handling failed, by exception type", ["error"],
            registry=self.registry,
        )  # fmt: skip
        self.stage_seconds = Histogram(
            "photo_talk_stage_seconds", "Model stage time from queueing to result, by stage",
            ["stage"], buckets=STAGE_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.queue_depth = Gauge(
            "photo_talk_queue_depth", "Model jobs waiting or running", registry=self.registry
        )
        self.gpu_memory = Gauge(
            "photo_talk_gpu_memory_bytes", "Accelerator memory in use by the models",
            registry=self.registry,
        )  # fmt: skip

    def watch(self, queue_depth: Callable[[], int], gpu_memory: Callable[[], int | None]) -> None:
        """Read the gauges from the actor whenever Prometheus scrapes."""
        self.queue_depth.set_function(queue_depth)
        self.gpu_memory.set_function(lambda: float(gpu_memory() or 0))

    def count_update(self, update: Update) -> None:
        self.updates.labels(update_kind(update)).inc()

    def count_sent(self, method: str) -> None:
        self.answers.labels(method).inc()

    def count_error(self, error: BaseException | None) -> None:
        self.errors.labels(type(error).__name__).inc()

    def observe_stage(self, stage: str, seconds: float) -> None:
        """Called on the worker thread after each job (prometheus-client is thread-safe)."""
        self.stage_seconds.labels(stage).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


def update_kind(update: Update) -> str:
    """A small, fixed set of labels: what the user sent, or which kind of update it is."""
    message = update.message or update.edited_message
    if message is None:
        kinds = ("callback_query", "my_chat_member", "chat_member", "channel_post")
        return next((k for k in kinds if getattr(update, k) is not None), "other")
    if message.text is not None:
        return "command" if message.text.startswith("/") else "text"
    for kind in ("photo", "document", "voice", "audio", "video", "video_note", "sticker"):
        if getattr(message, kind):
            return kind
    return "other_message"


@dataclass(frozen=True)
class Health:
    """What /healthz reports: "starting" until the models are loaded and warmed up, then "ok"
    only while the worker takes work (no job stuck past STAGE_TIMEOUT_S) and the database
    answers."""

    models: bool
    worker: bool
    database: bool

    @property
    def status(self) -> str:
        if not self.models:
            return "starting"
        return "ok" if self.worker and self.database else "unhealthy"


class HealthCheck:
    """`probe()`'s answer, asked at most once every `ttl_s`: whoever polls /healthz, however
    often, costs the database one query a second. Callers meanwhile share the last answer."""

    def __init__(self, probe: Callable[[], Awaitable[Health]], ttl_s: float = HEALTH_TTL_S):
        self._probe = probe
        self._ttl_s = ttl_s
        self._lock = asyncio.Lock()
        self._last: Health | None = None
        self._at = 0.0

    async def __call__(self) -> Health:
        async with self._lock:  # requests arriving together wait for one probe
            now = asyncio.get_running_loop().time()
            if self._last is None or now - self._at >= self._ttl_s:
                self._last, self._at = await self._probe(), now
            return self._last


async def database_reachable(engine: AsyncEngine) -> bool:
    """The database answers, and holds our schema, within a few seconds."""
    try:
        async with asyncio.timeout(DATABASE_CHECK_S), engine.connect() as connection:
            await connection.execute(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:
        log.warning("health: database unreachable (%s)", type(exc).__name__)
        return False
    return True
