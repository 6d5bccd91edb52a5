"""``FakeTelegram``: a Bot API HTTP server on 127.0.0.1 that tests drive and inspect."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import secrets
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from .builders import UserActions
from .methods import HANDLERS
from .models import (
    ApiError,
    FakeChat,
    FakeMessage,
    FakeUser,
    Fault,
    Hold,
    MemberStatus,
    SentCall,
    StoredFile,
)
from .spec import coerce_params, load_methods
from .webhook import Delivery, WebhookSender
from .wire import drop_connection, error_response, injected_error, read_params
from .world import World, scope_key

log = logging.getLogger(__name__)
ChatRef = FakeChat | int
T = TypeVar("T")


def _chat_id(chat: ChatRef) -> int:
    return chat.id if isinstance(chat, FakeChat) else chat


class FakeTelegram(UserActions):
    """A fake Bot API server: point PTB's ``base_url``/``base_file_url`` at it.

    Use as ``async with FakeTelegram() as tg:``. Everything the bot calls is in ``calls``;
    the builders (``send_text``, ``send_photo``, ...) queue updates for the bot to poll.
    """

    def __init__(
        self,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "photo_talk_test_bot",
        bot_name: str = "Photo Talk",
        privacy_mode: bool = False,
    ) -> None:
        """``privacy_mode``: in groups where the bot is no admin, deliver only what Telegram
        delivers to a bot with group privacy on (off by default, like an admin bot)."""
        self.bot = FakeUser(bot_id, bot_name, bot_username, language_code=None, is_bot=True)
        self.token = f"{bot_id}:AAF{secrets.token_urlsafe(24)}"
        self.world = World(self.bot, privacy_mode=privacy_mode)
        self.calls: list[SentCall] = []
        self.port = 0
        self._claimed: set[int] = set()
        self._faults: dict[str, deque[Fault]] = {}
        self._offline = False
        self._in_flight = 0
        self._last_activity = 0.0
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._webhook_sender = WebhookSender(self.world, on_delivery=self._changed.set)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        # Cancel a handler when its client goes away, as an abandoned long poll must end.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self._webhook_sender.start()
        return self

    async def stop(self) -> None:
        await self._webhook_sender.stop()
        self.world.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- fault injection ---------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 2,
        description: str | None = None,
        count: int = 1,
    ) -> None:
        """The next ``count`` calls of ``method`` fail with ``status`` (429: flood control)."""
        fault = Fault(status, description, retry_after if status == 429 else None)
        self._faults.setdefault(method.lower(), deque()).extend([fault] * count)

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """The next ``count`` calls of ``method`` are carried out, but answered ``seconds`` late."""
        self._faults.setdefault(method.lower(), deque()).extend([Fault(delay=seconds)] * count)

    def hold_next(self, method: str) -> Hold:
        """The next call of ``method`` is received but not carried out (nothing is sent)
        until ``release``d: what a bot killed while waiting for it leaves behind."""
        hold = Hold()
        self._faults.setdefault(method.lower(), deque()).append(Fault(hold=hold))
        return hold

    def set_offline(self, offline: bool = True) -> None:
        """While offline every request gets its connection dropped without an answer."""
        self._offline = offline

    # --- test-side setup and inspection ------------------------------------------------------

    def add_chat(self, chat: FakeChat, *members: FakeUser) -> FakeChat:
        self.world.register(chat, *members)
        return chat

    def set_member(self, chat: FakeChat, user: FakeUser, status: MemberStatus) -> None:
        """What getChatMember answers for ``user`` (the bot included) in ``chat``."""
        self.world.register(chat)
        self.world.users.setdefault(user.id, user)
        self.world.members[(chat.id, user.id)] = status

    def register_file(
        self, data: bytes, *, file_size: int | None = None, folder: str = "documents"
    ) -> StoredFile:
        """A file getFile knows; ``file_size`` may claim more than ``len(data)`` (too big)."""
        return self.world.store_file(data, folder, file_size=file_size)

    def messages(self, chat: ChatRef) -> list[FakeMessage]:
        """All messages in ``chat`` (users' and the bot's), deletions and edits applied."""
        return self.world.chat_messages(_chat_id(chat))

    def bot_messages(self, chat: ChatRef) -> list[FakeMessage]:
        return [m for m in self.messages(chat) if m.from_bot]

    def calls_to(self, method: str) -> list[SentCall]:
        """Successful calls of ``method``, in order."""
        return [c for c in self.calls if c.ok and c.method.lower() == method.lower()]

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, Any]]:
        return self.world.commands.get(scope_key(scope, language_code), [])

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        return self.world.callback_answers.get(query_id)

    @property
    def chat_actions(self) -> list[tuple[int, str]]:
        return list(self.world.chat_actions)

    def drafts(self, chat: ChatRef) -> list[tuple[int, str]]:
        """The drafts (draft id, text) the bot streamed into ``chat``, in order."""
        chat_id = _chat_id(chat)
        return [(draft, text) for cid, draft, text in self.world.drafts if cid == chat_id]

    @property
    def webhook_deliveries(self) -> list[Delivery]:
        """Every POST of an update to the bot's webhook, with the status it answered."""
        return list(self.world.webhook.deliveries) if self.world.webhook else []

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by the bot."""
        return list(self.world.pending_updates)

    # --- waiting -----------------------------------------------------------------------------

    async def _until(self, check: Callable[[], T | None], seconds: float, what: str) -> T:
        try:
            async with asyncio.timeout(seconds):
                while not (found := check()):
                    self._changed.clear()
                    await self._changed.wait()
                return found
        except TimeoutError:
            recent = ", ".join(f"{c.method}{'' if c.ok else '!'}" for c in self.calls[-15:])
            raise AssertionError(
                f"timed out after {seconds}s waiting for {what}; last calls: [{recent}]"
            ) from None

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[SentCall], bool] | None = None,
        timeout: float = 10,  # noqa: ASYNC109 (a test-facing deadline, like pytest's)
    ) -> SentCall:
        """The earliest successful ``method`` call matching ``predicate`` that no earlier
        ``wait_for`` returned (waiting for it if needed)."""

        def check() -> SentCall | None:
            for call in self.calls:
                if (
                    call.ok
                    and id(call) not in self._claimed
                    and call.method.lower() == method.lower()
                    and (predicate is None or predicate(call))
                ):
                    self._claimed.add(id(call))
                    return call
            return None

        return await self._until(check, timeout, f"a {method} call")

    async def wait_for_messages(
        self,
        chat: ChatRef,
        count: int,
        timeout: float = 10,  # noqa: ASYNC109
    ) -> list[FakeMessage]:
        """The bot's messages in ``chat`` once there are at least ``count`` of them."""
        found = await self._until(
            lambda: m if len(m := self.bot_messages(chat)) >= count else None,
            timeout,
            f"{count} bot message(s) in chat {_chat_id(chat)}",
        )
        return found

    async def wait_idle(self, quiet: float = 0.1, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until every update was fetched and confirmed and the bot went ``quiet``."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            while True:
                busy = bool(self.world.pending_updates) or self._in_flight > 0
                remaining = quiet - (loop.time() - self._last_activity)
                if not busy and remaining <= 0:
                    return
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(quiet / 4 if busy else remaining):
                        await self._changed.wait()

    # --- HTTP --------------------------------------------------------------------------------

    def _record(self, call: SentCall) -> None:
        if call.method != "getUpdates":
            self.calls.append(call)
        self._changed.set()

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if self._offline:
            drop_connection(request)
        token, name = request.match_info["token"], request.match_info["method"]
        if ":" not in token:
            return error_response(ApiError(404, "Not Found"))
        if token != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        spec = load_methods().get(name.lower())
        if spec is None:
            return error_response(ApiError(404, "Not Found"))
        if spec.name == "getUpdates":  # a long poll is waiting, not work in flight
            return await self._answer(request, spec.name, spec)
        self._in_flight += 1
        try:
            return await self._answer(request, spec.name, spec)
        finally:
            self._in_flight -= 1
            self._last_activity = asyncio.get_running_loop().time()
            self._changed.set()

    async def _answer(self, request: web.Request, name: str, spec: Any) -> web.StreamResponse:
        call = SentCall(name, {})
        faults = self._faults.get(name.lower())
        fault = faults.popleft() if faults else None
        try:
            call.params = coerce_params(spec, await read_params(request))
            if fault is not None and fault.status is not None:
                raise injected_error(fault)
            if fault is not None and fault.hold is not None:
                fault.hold.received.set()
                await fault.hold.released.wait()
            handler = HANDLERS.get(name)
            if handler is None:
                log.warning("the fake Bot API does not implement %s", name)
                raise ApiError(400, f"Bad Request: {name} is not implemented by FakeTelegram")
            result = await handler(self.world, call.params)
        except ApiError as error:
            call.error = error.description
            self._record(call)
            return error_response(error)
        if isinstance(result, FakeMessage):
            call.message, result = result, result.data
        call.result = copy.deepcopy(result)  # the answer as it was, before any later edit
        self._record(call)
        body = {"ok": True, "result": result}
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        return web.json_response(body)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if self._offline:
            drop_connection(request)
        if request.match_info["token"] != self.token:
            return error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        stored = next((f for f in self.world.files.values() if f.file_path == path), None)
        if stored is None:
            return error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")
