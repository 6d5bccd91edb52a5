"""Stored rows as what the AI core takes: personas and turns (no Telegram here)."""

from __future__ import annotations

from collections.abc import Sequence

from inference.types import Language, Persona, Turn
from storage.queries import GROUP_WIDE_USER_ID
from storage.records import CharacterRecord, MessageRecord


def persona_of(character: CharacterRecord) -> Persona:
    """The character card stored with a character."""
    language: Language = "zh" if character.language == "zh" else "en"
    return Persona(
        name=character.persona_name,
        traits=character.persona_traits,
        speaking_style=character.persona_style,
        description=character.description,
        language=language,
    )


def turns_of(messages: Sequence[MessageRecord], *, group: bool) -> list[Turn]:
    """Stored messages as model turns; in groups each user turn keeps its speaker's name."""
    return [
        Turn(
            role="user" if m.role == "user" else "character",
            text=m.text,
            speaker=m.author_name if group and m.role == "user" else None,
        )
        for m in messages
    ]


def active_key(chat_id: int, user_id: int, *, group: bool) -> tuple[int, int]:
    """Private chats keep an active character per user, groups one for the whole chat."""
    return (chat_id, GROUP_WIDE_USER_ID if group else user_id)
