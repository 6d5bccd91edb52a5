"""sendVideoNote, sendVideo and sendAnimation: uploads are opened as Telegram's servers would,
so a bot that sends something that is not a playable MP4, or a video note that is not square,
hears about it here rather than in production."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from .messaging import Params, send_media
from .models import ApiError, StoredFile, UploadedFile
from .world import World

MAX_NOTE_SECONDS = 60
MAX_NOTE_LENGTH = 640


@dataclass(frozen=True)
class VideoInfo:
    """What Telegram reads from an uploaded video."""

    width: int
    height: int
    duration: int
    has_sound: bool


def probe(data: bytes) -> VideoInfo:
    """Open an upload as MP4 and decode its first frame; anything else is refused."""
    import av

    try:
        with av.open(io.BytesIO(data), format="mp4") as container:
            streams = container.streams
            if not streams.video:
                raise ApiError(400, "Bad Request: VIDEO_FILE_INVALID")
            video = streams.video[0]
            next(container.decode(video=0))
            seconds = (container.duration or 0) / 1_000_000
            return VideoInfo(
                width=video.codec_context.width,
                height=video.codec_context.height,
                duration=math.ceil(seconds),
                has_sound=bool(streams.audio),
            )
    except (av.FFmpegError, StopIteration, ValueError):
        raise ApiError(400, "Bad Request: VIDEO_FILE_INVALID") from None


def _upload(world: World, params: Params, key: str) -> tuple[StoredFile, VideoInfo | None]:
    value = params[key]
    if isinstance(value, UploadedFile):
        info = probe(value.data)
        return world.store_file(value.data, "videos", ".mp4"), info
    if value in world.files:
        return world.files[value], None
    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")


async def send_video_note(world: World, params: Params) -> Any:
    stored, info = _upload(world, params, "video_note")
    if info is not None:
        if info.width != info.height:
            raise ApiError(400, "Bad Request: VIDEO_NOTE_NOT_SQUARE")  # the fake's strictness
        if info.width > MAX_NOTE_LENGTH or info.duration > MAX_NOTE_SECONDS:
            raise ApiError(400, "Bad Request: VIDEO_NOTE_TOO_LONG")
    length = params.get("length") or (info.width if info else 240)
    duration = params.get("duration") or (info.duration if info else 0)
    body = {"video_note": stored.to_json(length=length, duration=duration)}
    return send_media(world, params, body, stored)


async def send_video(world: World, params: Params) -> Any:
    return _send_video(world, params, "video")


async def send_animation(world: World, params: Params) -> Any:
    return _send_video(world, params, "animation")


def _send_video(world: World, params: Params, kind: str) -> Any:
    stored, info = _upload(world, params, kind)
    meta = {
        "width": params.get("width") or (info.width if info else 0),
        "height": params.get("height") or (info.height if info else 0),
        "duration": params.get("duration") or (info.duration if info else 0),
        "mime_type": "video/mp4",
    }
    return send_media(world, params, {kind: stored.to_json(**meta)}, stored)


VIDEO_HANDLERS = {
    "sendVideoNote": send_video_note,
    "sendVideo": send_video,
    "sendAnimation": send_animation,
}
