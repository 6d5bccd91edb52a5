"""What users do in Telegram: each call builds a realistic update and queues it for the bot."""

from __future__ import annotations

import re
import time
from typing import Any

from .formatting import utf16_len
from .models import FakeChat, FakeMessage, FakeUser, MemberStatus, StoredFile
from .world import World

# Telegram's service accounts that author messages sent on behalf of a chat.
GROUP_ANONYMOUS_BOT = FakeUser(1087968824, "Group", "GroupAnonymousBot", None, is_bot=True)
CHANNEL_BOT = FakeUser(136817688, "Channel", "Channel_Bot", None, is_bot=True)
_AUTO_ENTITIES = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}")),
    ("url", re.compile(r"https?://[^\s]+")),
)


def auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram's clients detect: /commands, @mentions and links."""
    found = []
    for kind, pattern in _AUTO_ENTITIES:
        for match in pattern.finditer(text):
            offset = utf16_len(text[: match.start()])
            found.append({"type": kind, "offset": offset, "length": utf16_len(match.group())})
    return sorted(found, key=lambda e: e["offset"])


class UserActions:
    """Builders for incoming updates; each returns what it created (a message, a query id)."""

    world: World

    def _post(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        body: dict[str, Any],
        *,
        reply_to: FakeMessage | None = None,
        sender_chat: FakeChat | None = None,
        file: StoredFile | None = None,
    ) -> FakeMessage:
        chat = chat or user.private_chat()
        if reply_to is not None and reply_to.chat_id != chat.id:
            raise ValueError(f"reply_to is in chat {reply_to.chat_id}, not in chat {chat.id}")
        self.world.register(chat, user)
        sender = user
        if sender_chat is not None:
            sender = GROUP_ANONYMOUS_BOT if sender_chat.id == chat.id else CHANNEL_BOT
            body = {"sender_chat": sender_chat.to_json(), **body}
        message = self.world.add_message(chat, body, sender=sender, reply_to=reply_to, file=file)
        if self.world.bot_sees(chat, message):
            self.world.enqueue("message", dict(message.data))
        return message

    def _with_entities(
        self, key: str, text: str | None, entities: list[dict[str, Any]] | None
    ) -> dict[str, Any]:
        if text is None:
            return {}
        prefix = "" if key == "text" else "caption_"
        found = auto_entities(text) if entities is None else entities
        return {key: text, f"{prefix}entities": found} if found else {key: text}

    def send_text(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        text: str,
        reply_to: FakeMessage | None = None,
        entities: list[dict[str, Any]] | None = None,
        *,
        sender_chat: FakeChat | None = None,
    ) -> FakeMessage:
        """``user`` writes ``text`` in ``chat`` (None: their private chat with the bot)."""
        body = self._with_entities("text", text, entities)
        return self._post(user, chat, body, reply_to=reply_to, sender_chat=sender_chat)

    def send_photo(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        image_bytes: bytes,
        caption: str | None = None,
        reply_to: FakeMessage | None = None,
        *,
        sender_chat: FakeChat | None = None,
    ) -> FakeMessage:
        """``user`` sends a photo; its largest PhotoSize downloads as ``image_bytes``."""
        sizes, largest = self.world.store_photo(image_bytes, strict=False)
        body = {"photo": sizes, **self._with_entities("caption", caption, None)}
        return self._post(
            user, chat, body, reply_to=reply_to, sender_chat=sender_chat, file=largest
        )

    def send_document(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        reply_to: FakeMessage | None = None,
        *,
        file_size: int | None = None,
    ) -> FakeMessage:
        """``user`` sends a file (an image sent "as file" arrives like this); ``file_size`` may
        declare more than ``len(data)`` (a file too big for getFile)."""
        extension = "." + file_name.rpartition(".")[2]
        stored = self.world.store_file(data, "documents", extension, file_size=file_size)
        document = stored.to_json(file_name=file_name, mime_type=mime_type)
        body = {"document": document, **self._with_entities("caption", caption, None)}
        return self._post(user, chat, body, reply_to=reply_to, file=stored)

    def send_sticker(
        self, user: FakeUser, chat: FakeChat | None, emoji: str = "😀", data: bytes = b"RIFFWEBP"
    ) -> FakeMessage:
        stored = self.world.store_file(data, "stickers", ".webp")
        sticker = stored.to_json(
            width=512, height=512, is_animated=False, is_video=False, type="regular", emoji=emoji
        )
        return self._post(user, chat, {"sticker": sticker}, file=stored)

    def send_voice(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        data: bytes = b"OggS",
        duration: int = 2,
        reply_to: FakeMessage | None = None,
        *,
        file_size: int | None = None,
    ) -> FakeMessage:
        """A voice note; getFile serves ``data``. ``duration`` and ``file_size`` are what the
        update declares (they may lie, as a client's may)."""
        stored = self.world.store_file(data, "voice", ".oga", file_size=file_size)
        voice = stored.to_json(duration=duration, mime_type="audio/ogg")
        return self._post(user, chat, {"voice": voice}, reply_to=reply_to, file=stored)

    def send_audio(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        data: bytes,
        duration: int,
        file_name: str = "recording.m4a",
        mime_type: str = "audio/mp4",
        reply_to: FakeMessage | None = None,
    ) -> FakeMessage:
        """An audio file (MP3, M4A) sent with the music/audio picker."""
        stored = self.world.store_file(data, "music", "." + file_name.rpartition(".")[2])
        audio = stored.to_json(duration=duration, file_name=file_name, mime_type=mime_type)
        return self._post(user, chat, {"audio": audio}, reply_to=reply_to, file=stored)

    def send_video_note(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        data: bytes,
        duration: int,
        length: int = 240,
        reply_to: FakeMessage | None = None,
    ) -> FakeMessage:
        """A round video note (MP4: H.264 video and AAC audio)."""
        stored = self.world.store_file(data, "video_notes", ".mp4")
        note = stored.to_json(duration=duration, length=length)
        return self._post(user, chat, {"video_note": note}, reply_to=reply_to, file=stored)

    def send_video(
        self,
        user: FakeUser,
        chat: FakeChat | None,
        data: bytes = b"\x00\x00\x00\x18ftypmp42",
        caption: str | None = None,
        *,
        width: int = 640,
        height: int = 360,
        duration: int = 3,
    ) -> FakeMessage:
        stored = self.world.store_file(data, "videos", ".mp4")
        video = stored.to_json(width=width, height=height, duration=duration, mime_type="video/mp4")
        body = {"video": video, **self._with_entities("caption", caption, None)}
        return self._post(user, chat, body, file=stored)

    def edit_text(self, message: FakeMessage, text: str) -> FakeMessage:
        """The author edits their message: an ``edited_message`` update."""
        message.edits.append(dict(message.data))
        message.data.update(self._with_entities("text", text, None), edit_date=int(time.time()))
        self.world.enqueue("edited_message", dict(message.data))
        return message

    def press_button(
        self, user: FakeUser, chat: FakeChat | None, message: FakeMessage, callback_data: str
    ) -> str:
        """``user`` presses the inline button carrying ``callback_data``; returns the query id."""
        if message.deleted or callback_data not in message.button_data:
            raise ValueError(f"message {message.message_id} has no button {callback_data!r}")
        chat = chat or user.private_chat()
        self.world.register(chat, user)
        query_id = self.world.new_callback_id()
        query = {
            "id": query_id,
            "from": user.to_json(),
            "message": dict(message.data),
            "chat_instance": str(-abs(chat.id) * 7919),
            "data": callback_data,
        }
        self.world.enqueue("callback_query", query)
        return query_id

    def my_chat_member(
        self,
        user: FakeUser,
        chat: FakeChat,
        old_status: MemberStatus = "left",
        new_status: MemberStatus = "member",
    ) -> dict[str, Any]:
        """``user`` changes the bot's membership (adds it to a group, removes or blocks it)."""
        self.world.register(chat, user)
        self.world.members[(chat.id, self.world.bot.id)] = new_status
        bot = self.world.bot.to_json()
        update = {
            "chat": chat.to_json(),
            "from": user.to_json(),
            "date": int(time.time()),
            "old_chat_member": {"status": old_status, "user": bot}
            | ({"until_date": 0} if old_status == "kicked" else {}),
            "new_chat_member": {"status": new_status, "user": bot}
            | ({"until_date": 0} if new_status == "kicked" else {}),
        }
        joined = old_status in ("left", "kicked") and new_status not in ("left", "kicked")
        queued = self.world.enqueue("my_chat_member", update)
        if joined and chat.type != "private":
            self._post(user, chat, {"new_chat_members": [bot]})
        return queued

    def migrate_chat(
        self, old_chat: FakeChat, new_chat_id: int, *, by: FakeUser | None = None
    ) -> FakeChat:
        """A group becomes a supergroup: service messages in both chats, old id retired."""
        new_chat = FakeChat.supergroup(new_chat_id, old_chat.title or "Test supergroup")
        author = by or GROUP_ANONYMOUS_BOT
        self._post(author, old_chat, {"migrate_to_chat_id": new_chat_id})
        self.world.register(new_chat)
        for (chat_id, user_id), status in list(self.world.members.items()):
            if chat_id == old_chat.id:
                self.world.members[(new_chat_id, user_id)] = status
        self._post(author, new_chat, {"migrate_from_chat_id": old_chat.id})
        self.world.migrated[old_chat.id] = new_chat_id
        return new_chat
