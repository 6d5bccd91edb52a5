"""Plain values handed to callers; ORM rows never leave `storage`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

# The same two words as inference.types.Role (storage may not import inference: the bot
# translates a stored turn into a model turn); tests/test_one_definition.py keeps them equal.
Role = Literal["user", "character"]
# What a message the bot sent for a line carried (storage.models.SENT_KINDS).
SentKind = Literal["text", "voice", "picture", "video"]


@dataclass(frozen=True, slots=True)
class CharacterRecord:
    """A character as stored: who made it where, the photo and the persona."""

    id: int
    chat_id: int
    owner_id: int | None
    photo_file_id: str
    description: str
    persona_name: str
    persona_traits: str
    persona_style: str
    language: str
    share_code: str | None
    source_character_id: int | None
    created_at: datetime
    voice: str | None = None
    photo_author_id: int | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One stored turn; `author_id` is None for the character's own lines."""

    id: int
    character_id: int
    chat_id: int
    author_id: int | None
    author_name: str
    role: Role
    text: str
    telegram_message_id: int | None
    created_at: datetime
    spoken: bool = False


@dataclass(frozen=True, slots=True)
class Stats:
    """Row counts for the admin's /stats."""

    users: int
    characters: int
    messages: int


@dataclass(frozen=True, slots=True)
class Pruned:
    """What the retention job removed: old turns, and the characters and users they left
    with no turn at all."""

    messages: int
    characters: int
    users: int


@dataclass(frozen=True, slots=True)
class ChatSettingsRecord:
    """A chat's /voice and /video choices; None = never chosen, the chat type decides."""

    chat_id: int
    voice: bool | None
    video: bool | None


@dataclass(frozen=True, slots=True)
class ArrivalRecord:
    """A message taken from Telegram and not yet answered: the update as it came."""

    update_id: int
    chat_id: int
    user_id: int | None
    telegram_message_id: int
    payload: str
    received_at: datetime
