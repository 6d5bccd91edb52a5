"""A fake Telegram Bot API server for end-to-end tests of the bot (loopback only)."""

from .builders import auto_entities
from .models import ApiError, FakeChat, FakeMessage, FakeUser, SentCall, StoredFile, UploadedFile
from .server import FakeTelegram

__all__ = [
    "ApiError",
    "FakeChat",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "SentCall",
    "StoredFile",
    "UploadedFile",
    "auto_entities",
]
