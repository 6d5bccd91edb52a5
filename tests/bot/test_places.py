"""Menus and answers worded for where they are read: a private chat or a group (issue 12,
item 9)."""

from __future__ import annotations

from typing import Any

from fake_telegram import FakeChat, FakeTelegram, FakeUser
from reliability_kit import exchange

from bot.texts import TEXTS


async def test_private_chats_and_groups_get_their_own_command_menus(
    telegram: FakeTelegram, bot: Any
) -> None:
    private = {c["command"] for c in telegram.commands({"type": "all_private_chats"})}
    groups = {
        c["command"]: c["description"] for c in telegram.commands({"type": "all_group_chats"})
    }
    assert "talk" not in private and "new" in private
    assert "talk" in groups and "new" not in groups and "start" not in groups
    assert groups["forget"] == TEXTS["cmd_forget_group"]["en"]
    in_groups_zh = telegram.commands({"type": "all_group_chats"}, "zh")
    zh = {c["command"]: c["description"] for c in in_groups_zh}
    assert zh["talk"] == TEXTS["cmd_talk"]["zh"]


async def test_answers_are_worded_for_the_place_they_are_read(
    telegram: FakeTelegram, bot: Any, alice: FakeUser
) -> None:
    assert (await exchange(telegram, alice, "/talk")).params["text"] == TEXTS["talk_private"]["en"]
    assert (await exchange(telegram, alice, "/new")).params["text"] == TEXTS["new_photo"]["en"]
    group = telegram.add_chat(FakeChat.group(-6001, "Family"), alice)
    for command, key in (
        ("/new", "talk_needs_photo"),
        ("/help", "help_group"),
        ("/characters", "talk_needs_photo"),
        ("/image", "talk_needs_photo"),
    ):
        said = telegram.send_text(alice, group, command)
        answer = await telegram.wait_for(
            "sendMessage", lambda c, m=said: c.message.reply_to_message_id == m.message_id
        )
        assert answer.params["text"] == TEXTS[key]["en"]
