"""Everything the bot asks of the database, one module per job, all reachable as `queries.x`.

Each function takes the session first and never commits: the caller owns the transaction
(`async with session.begin(): ...`). Results are records, never ORM rows.
"""

from storage.models import GROUP_WIDE_USER_ID
from storage.queries.arrivals import keep_arrival, settle_arrivals, unanswered_arrivals
from storage.queries.characters import (
    character_by_share_code,
    create_character,
    get_active_character,
    get_character,
    recent_characters,
    set_active_character,
    set_character_voice,
    set_share_code,
)
from storage.queries.chats import get_chat_settings, set_chat_video, set_chat_voice
from storage.queries.messages import (
    add_message,
    add_sent_messages,
    character_for_telegram_message,
    clear_history,
    delete_turns,
    last_character_turn,
    last_turns,
    set_telegram_message_id,
    unsent_line_after,
    user_turns_for,
)
from storage.queries.privacy import (
    forget_user,
    forget_user_in_chat,
    migrate_chat,
    prune_history,
    stats,
)
from storage.queries.users import get_user_language, set_user_language, upsert_user

__all__ = [
    "GROUP_WIDE_USER_ID",
    "add_message",
    "add_sent_messages",
    "character_by_share_code",
    "character_for_telegram_message",
    "clear_history",
    "create_character",
    "delete_turns",
    "forget_user",
    "forget_user_in_chat",
    "get_active_character",
    "get_character",
    "get_chat_settings",
    "get_user_language",
    "keep_arrival",
    "last_character_turn",
    "last_turns",
    "migrate_chat",
    "prune_history",
    "recent_characters",
    "set_active_character",
    "set_character_voice",
    "set_chat_video",
    "set_chat_voice",
    "set_share_code",
    "set_telegram_message_id",
    "set_user_language",
    "settle_arrivals",
    "stats",
    "unanswered_arrivals",
    "unsent_line_after",
    "upsert_user",
    "user_turns_for",
]
