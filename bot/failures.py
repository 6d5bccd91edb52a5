"""Which friendly sentence (a key of bot.texts) answers which inference error."""

from __future__ import annotations

from inference.errors import (
    BadImage,
    Busy,
    EngineUnavailable,
    ImageTooLarge,
    ShuttingDown,
    UnsupportedImage,
)


def failure_key(error: BaseException) -> str:
    """The text key telling the user what went wrong, in words they can act on."""
    if isinstance(error, ImageTooLarge):
        return "image_too_large"
    if isinstance(error, UnsupportedImage):
        return "animated"
    if isinstance(error, BadImage):
        return "not_an_image"
    if isinstance(error, Busy):
        return "busy"
    if isinstance(error, ShuttingDown):
        return "restarting"
    if isinstance(error, EngineUnavailable):
        return "engine_down"
    return "try_again"
