"""The small value types a test sees: users, chats, messages, recorded calls, files."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, Literal

ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

_file_counter = itertools.count(1)


class ApiError(Exception):
    """A Bot API error answer: HTTP status, Telegram's description, optional parameters."""

    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user who talks to the bot."""

    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        return data

    def private_chat(self) -> FakeChat:
        return FakeChat.private(self)


@dataclass(frozen=True)
class FakeChat:
    """A chat: a user's private chat with the bot, a group, a supergroup or a channel."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    first_name: str | None = None

    @classmethod
    def private(cls, user: FakeUser) -> FakeChat:
        return cls(user.id, "private", username=user.username, first_name=user.first_name)

    @classmethod
    def group(cls, id: int, title: str = "Test group") -> FakeChat:
        return cls(id, "group", title=title)

    @classmethod
    def supergroup(cls, id: int, title: str = "Test supergroup") -> FakeChat:
        return cls(id, "supergroup", title=title)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class UploadedFile:
    """A file part of a multipart request (what the bot uploaded)."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class StoredFile:
    """A file Telegram keeps: reachable by getFile and the download route."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int

    @classmethod
    def create(cls, data: bytes, folder: str, extension: str, file_size: int | None) -> StoredFile:
        n = next(_file_counter)
        return cls(
            file_id=f"AgACAgIAAxkBAAI{n:05d}{secrets.token_urlsafe(24)}",
            file_unique_id=f"AQAD{n:05d}{secrets.token_hex(4)}",
            file_path=f"{folder}/file_{n}{extension}",
            data=data,
            file_size=len(data) if file_size is None else file_size,
        )

    def to_json(self, **extra: Any) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            **extra,
        }


@dataclass
class FakeMessage:
    """A message in a chat as Telegram holds it: ``data`` is its Bot API JSON."""

    data: dict[str, Any]
    from_bot: bool = False
    file: StoredFile | None = None
    deleted: bool = False
    edits: list[dict[str, Any]] = field(default_factory=list)
    reactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def message_id(self) -> int:
        return int(self.data["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.data["chat"]["id"])

    @property
    def text(self) -> str | None:
        return self.data.get("text")

    @property
    def caption(self) -> str | None:
        return self.data.get("caption")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.data.get("entities") or self.data.get("caption_entities") or [])

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.data.get("reply_markup")

    @property
    def reply_to_message_id(self) -> int | None:
        replied = self.data.get("reply_to_message")
        return int(replied["message_id"]) if replied else None

    @property
    def file_bytes(self) -> bytes | None:
        """Bytes of the photo's largest size, the document, voice or video."""
        return self.file.data if self.file else None

    @property
    def button_data(self) -> list[str]:
        """Every inline button's callback_data, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    def as_reply_target(self) -> dict[str, Any]:
        """The JSON nested as ``reply_to_message`` (Telegram nests one level only)."""
        return {k: v for k, v in self.data.items() if k != "reply_to_message"}


@dataclass
class SentCall:
    """One Bot API request the bot made, in order.

    ``result`` is the answer as sent; ``message`` is the live message it created or changed
    (later edits and deletion applied); ``error`` is Telegram's description when it failed.
    """

    method: str
    params: dict[str, Any]
    message: FakeMessage | None = None
    result: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def chat_id(self) -> int | str | None:
        return self.params.get("chat_id")

    @property
    def text(self) -> str | None:
        """The text Telegram answered with (entities parsed), else the ``text`` parameter."""
        if isinstance(self.result, dict) and "text" in self.result:
            return str(self.result["text"])
        return self.params.get("text")


@dataclass
class Fault:
    """An injected failure or delay for the next call of a method."""

    status: int | None = None
    description: str | None = None
    retry_after: int | None = None
    delay: float = 0.0
    # Received, then not carried out until released: as if Telegram never got it.
    hold: Hold | None = None


class Hold:
    """A call held before it is carried out (`FakeTelegram.hold_next`)."""

    def __init__(self) -> None:
        self.received = asyncio.Event()
        self.released = asyncio.Event()
