"""What the fake Telegram knows: chats, their messages, files, members and pending updates."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import time
from typing import TYPE_CHECKING, Any

from .models import ApiError, FakeChat, FakeMessage, FakeUser, MemberStatus, StoredFile

if TYPE_CHECKING:
    from .webhook import WebhookTarget

# Telegram leaves these out unless allowed_updates names them.
OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
PHOTO_SIDES = (90, 320, 800)  # thumbnail sizes Telegram derives from a photo


def _thumbnail(image: Any, side: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((side, side))
    buffer = io.BytesIO()
    copy.convert("RGB").save(buffer, format="JPEG", quality=80)
    return buffer.getvalue(), copy.width, copy.height


class World:
    """All state of the fake, shared by the HTTP methods and the test-side builders."""

    def __init__(self, bot: FakeUser, *, privacy_mode: bool = False) -> None:
        self.bot = bot
        self.privacy_mode = privacy_mode
        self.chats: dict[int, FakeChat] = {}
        self.users: dict[int, FakeUser] = {bot.id: bot}
        self.messages: dict[int, dict[int, FakeMessage]] = {}
        self.files: dict[str, StoredFile] = {}
        self.photo_sizes: dict[str, list[dict[str, Any]]] = {}
        self.members: dict[tuple[int, int], MemberStatus] = {}
        self.migrated: dict[int, int] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_answers: dict[str, dict[str, Any] | None] = {}
        self.chat_actions: list[tuple[int, str]] = []
        self.drafts: list[tuple[int, int, str]] = []  # chat id, draft id, text
        self.pending_updates: list[dict[str, Any]] = []
        self.allowed_updates: list[str] | None = None
        self.webhook: WebhookTarget | None = None  # set: updates are POSTed, getUpdates refused
        self.closed = False
        self._update_ids = itertools.count(812_345_001)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(4_235_000_000_000_001)
        self._wakeup = asyncio.Event()
        self._changed = asyncio.Event()  # for the webhook sender: new updates or a new target
        self._poll_generation = 0

    # --- chats and members -------------------------------------------------------------------

    def register(self, chat: FakeChat, *users: FakeUser) -> None:
        self.chats.setdefault(chat.id, chat)
        for user in users:
            self.users.setdefault(user.id, user)
            self.members.setdefault((chat.id, user.id), "member")

    def member_status(self, chat_id: int, user_id: int) -> MemberStatus:
        return self.members.get((chat_id, user_id), "member" if user_id == self.bot.id else "left")

    def chat(self, chat_id: int | str, *, sending: bool = True) -> FakeChat:
        """The chat ``chat_id`` names, failing as Telegram does when the bot can't use it."""
        if isinstance(chat_id, str):
            name = chat_id.removeprefix("@").lower()
            found = [c for c in self.chats.values() if (c.username or "").lower() == name]
            if not found:
                raise ApiError(400, "Bad Request: chat not found")
            chat = found[0]
        elif chat_id in self.migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self.migrated[chat_id],
            )
        elif chat_id not in self.chats:
            raise ApiError(400, "Bad Request: chat not found")
        else:
            chat = self.chats[chat_id]
        status = self.member_status(chat.id, self.bot.id)
        if sending and chat.type == "private" and status == "kicked":
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if sending and chat.type != "private" and status in ("left", "kicked"):
            what = "was kicked from" if status == "kicked" else "is not a member of"
            raise ApiError(403, f"Forbidden: bot {what} the {chat.type} chat")
        return chat

    def bot_sees(self, chat: FakeChat, message: FakeMessage) -> bool:
        """Group privacy mode: a bot that is not an admin gets commands, mentions, replies
        to its own messages and service messages only."""
        if not self.privacy_mode or chat.type == "private":
            return True
        if self.member_status(chat.id, self.bot.id) in ("administrator", "creator"):
            return True
        data = message.data
        text = str(data.get("text") or data.get("caption") or "")
        replied_to = (data.get("reply_to_message") or {}).get("from", {}).get("id")
        content = {"text", "caption", "photo", "document", "sticker", "voice", "video"}
        return (
            text.startswith("/")
            or f"@{self.bot.username}".lower() in text.lower()
            or replied_to == self.bot.id
            or not content & data.keys()
        )

    # --- messages ----------------------------------------------------------------------------

    def add_message(
        self,
        chat: FakeChat,
        body: dict[str, Any],
        *,
        sender: FakeUser,
        reply_to: FakeMessage | None = None,
        file: StoredFile | None = None,
    ) -> FakeMessage:
        counter = self._message_ids.setdefault(chat.id, itertools.count(1))
        data: dict[str, Any] = {
            "message_id": next(counter),
            "from": sender.to_json(),
            "chat": chat.to_json(),
            "date": int(time.time()),
        }
        if reply_to is not None:
            data["reply_to_message"] = reply_to.as_reply_target()
        data.update(body)
        message = FakeMessage(data, from_bot=sender.id == self.bot.id, file=file)
        self.messages.setdefault(chat.id, {})[message.message_id] = message
        return message

    def find_message(self, chat_id: int, message_id: int) -> FakeMessage | None:
        message = self.messages.get(chat_id, {}).get(message_id)
        return None if message is None or message.deleted else message

    def chat_messages(self, chat_id: int) -> list[FakeMessage]:
        return [m for m in self.messages.get(chat_id, {}).values() if not m.deleted]

    # --- files -------------------------------------------------------------------------------

    def store_file(
        self, data: bytes, folder: str, extension: str = "", file_size: int | None = None
    ) -> StoredFile:
        stored = StoredFile.create(data, folder, extension, file_size)
        self.files[stored.file_id] = stored
        return stored

    def store_photo(self, data: bytes, *, strict: bool) -> tuple[list[dict[str, Any]], StoredFile]:
        """PhotoSize list (smallest first) whose largest entry holds ``data`` itself.

        ``strict``: reject bytes Pillow can't decode, as Telegram rejects a bot's upload.
        """
        from PIL import Image, UnidentifiedImageError

        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError):
            if strict:
                raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from None
            image = None
        sizes: list[dict[str, Any]] = []
        width, height = (image.width, image.height) if image else (1280, 960)
        if image and (width + height > 10_000 or max(width, height) > 20 * min(width, height)):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        for side in PHOTO_SIDES:
            if side >= max(width, height):
                break
            thumb, w, h = _thumbnail(image, side) if image else (b"thumbnail", side, side)
            stored = self.store_file(thumb, "photos", ".jpg")
            sizes.append(stored.to_json(width=w, height=h))
        largest = self.store_file(data, "photos", ".jpg")
        sizes.append(largest.to_json(width=width, height=height))
        self.photo_sizes[largest.file_id] = sizes
        return sizes, largest

    # --- updates -----------------------------------------------------------------------------

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.pending_updates.append(update)
        self.wake_up()
        return update

    def wake_up(self) -> None:
        """Something to deliver may have appeared: wake the long poll and the webhook sender."""
        self._wakeup.set()
        self._changed.set()

    async def wait_for_change(self) -> None:
        await self._changed.wait()
        self._changed.clear()

    def confirm(self, update_id: int) -> None:
        """The bot took this update (its webhook answered 2xx): it is not sent again."""
        self.pending_updates = [u for u in self.pending_updates if u["update_id"] != update_id]

    def new_callback_id(self) -> str:
        query_id = str(next(self._callback_ids))
        self.callback_answers[query_id] = None
        return query_id

    def close(self) -> None:
        self.closed = True
        self.wake_up()

    def deliverable(self, limit: int) -> list[dict[str, Any]]:
        """The next updates of kinds the bot asked for, oldest first."""
        allowed = set(self.allowed_updates or [])
        keep: list[dict[str, Any]] = []
        for update in self.pending_updates:
            kind = next(k for k in update if k != "update_id")
            if kind in allowed or (not allowed and kind not in OPT_IN_UPDATES):
                keep.append(update)
        self.pending_updates = keep  # updates of kinds not allowed are never delivered
        return keep[:limit]

    async def get_updates(
        self, offset: int | None, limit: int, wait_seconds: float, allowed: list[str] | None
    ) -> list[dict[str, Any]]:
        """Long polling: confirm updates below ``offset``, wait up to ``wait_seconds`` for more."""
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if allowed is not None:
            self.allowed_updates = allowed
        if offset is not None and offset < 0:
            self.pending_updates = self.pending_updates[offset:]
        elif offset is not None:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._wakeup.set()  # an older long poll still waiting loses, as on Telegram
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            ready = self.deliverable(limit)
            if ready or self.closed or loop.time() >= deadline:
                return ready
            self._wakeup.clear()
            try:
                async with asyncio.timeout(deadline - loop.time()):
                    await self._wakeup.wait()
            except TimeoutError:
                pass


def scope_key(scope: dict[str, Any] | None, language_code: str | None) -> tuple[str, str]:
    """Key under which setMyCommands stores a command list."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""
