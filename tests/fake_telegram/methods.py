"""The Bot API methods the fake implements: one visible table, ``HANDLERS``.

Each handler takes the world and the validated parameters and returns the ``result`` JSON.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .messaging import MESSAGE_HANDLERS, Handler, Params
from .models import ApiError, FakeChat
from .videos import VIDEO_HANDLERS
from .webhook import get_webhook_info, set_webhook
from .world import World, scope_key

MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile's limit on api.telegram.org
COMMAND = re.compile(r"[a-z0-9_]{1,32}")


async def get_me(world: World, params: Params) -> Any:
    return world.bot.to_json() | {
        "can_join_groups": True,
        "can_read_all_group_messages": not world.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def delete_webhook(world: World, params: Params) -> Any:
    world.webhook = None
    if params.get("drop_pending_updates"):
        world.pending_updates.clear()
    return True


async def get_updates(world: World, params: Params) -> Any:
    limit = min(max(params.get("limit") or 100, 1), 100)
    timeout = max(params.get("timeout") or 0, 0)
    return await world.get_updates(
        params.get("offset"), limit, timeout, params.get("allowed_updates")
    )


async def set_my_commands(world: World, params: Params) -> Any:
    commands = params["commands"]
    for command in commands:
        if not COMMAND.fullmatch(str(command.get("command", ""))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise ApiError(400, "Bad Request: command description is empty")
    key = scope_key(params.get("scope"), params.get("language_code"))
    world.commands[key] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


async def get_my_commands(world: World, params: Params) -> Any:
    return world.commands.get(scope_key(params.get("scope"), params.get("language_code")), [])


async def delete_my_commands(world: World, params: Params) -> Any:
    world.commands.pop(scope_key(params.get("scope"), params.get("language_code")), None)
    return True


async def answer_callback_query(world: World, params: Params) -> Any:
    query_id = params["callback_query_id"]
    if query_id not in world.callback_answers or world.callback_answers[query_id] is not None:
        raise ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )
    if len(params.get("text") or "") > 200:
        raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
    world.callback_answers[query_id] = params
    return True


async def get_file(world: World, params: Params) -> Any:
    stored = world.files.get(params["file_id"])
    if stored is None:
        raise ApiError(400, "Bad Request: invalid file_id")
    if stored.file_size > MAX_DOWNLOAD:
        raise ApiError(400, "Bad Request: file is too big")
    return stored.to_json(file_path=stored.file_path)


def _member_json(world: World, chat: FakeChat, user_id: int) -> dict[str, Any]:
    user = world.users.get(user_id)
    if user is None:
        raise ApiError(400, "Bad Request: user not found")
    status = world.member_status(chat.id, user_id)
    member: dict[str, Any] = {"status": status, "user": user.to_json()}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        rights = (
            "can_be_edited is_anonymous can_manage_chat can_delete_messages "
            "can_manage_video_chats can_restrict_members can_promote_members can_change_info "
            "can_invite_users can_post_stories can_edit_stories can_delete_stories"
        )
        member |= {right: right != "can_be_edited" for right in rights.split()}
        member["is_anonymous"] = False
    elif status == "kicked":
        member["until_date"] = 0
    return member


async def get_chat_member(world: World, params: Params) -> Any:
    return _member_json(world, world.chat(params["chat_id"], sending=False), params["user_id"])


async def get_chat(world: World, params: Params) -> Any:
    chat = world.chat(params["chat_id"], sending=False)
    gifts = (
        "unlimited_gifts",
        "limited_gifts",
        "unique_gifts",
        "premium_subscription",
        "gifts_from_channels",
    )
    return chat.to_json() | {
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": dict.fromkeys(gifts, False),
    }


async def leave_chat(world: World, params: Params) -> Any:
    chat = world.chat(params["chat_id"])
    if chat.type == "private":
        raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
    old = _member_json(world, chat, world.bot.id)
    world.members[(chat.id, world.bot.id)] = "left"
    new = _member_json(world, chat, world.bot.id)
    world.enqueue(
        "my_chat_member",
        {
            "chat": chat.to_json(),
            "from": world.bot.to_json(),
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        },
    )
    return True


HANDLERS: dict[str, Handler] = {
    "getMe": get_me,
    "deleteWebhook": delete_webhook,
    "setWebhook": set_webhook,
    "getWebhookInfo": get_webhook_info,
    "getUpdates": get_updates,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "answerCallbackQuery": answer_callback_query,
    "getFile": get_file,
    "getChatMember": get_chat_member,
    "getChat": get_chat,
    "leaveChat": leave_chat,
    **MESSAGE_HANDLERS,
    **VIDEO_HANDLERS,
}
