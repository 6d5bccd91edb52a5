"""Helpers the bot tests import by name (a conftest cannot be imported reliably)."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

from fake_telegram import FakeTelegram
from PIL import Image, ImageDraw
from tiny_checkpoints import TinyModels

from bot.settings import Settings
from inference.config import InferenceConfig


def tiny_inference_config(tiny_models: TinyModels, **overrides: Any) -> InferenceConfig:
    values: dict[str, Any] = {
        "caption_model": str(tiny_models.caption),
        "dialogue_model": str(tiny_models.dialogue),
        "image_model": str(tiny_models.image),
        "device": "cpu",
        "image_size": 64,
        "max_new_tokens": 24,
    }
    values.update(overrides)
    return InferenceConfig(**values)


BACKENDS = ["sqlite", "postgresql"]  # what `backend` may be parametrized over (see conftest)


def bot_settings(
    telegram: FakeTelegram, database: Path | str, tiny_models: TinyModels, **overrides: Any
) -> Settings:
    """Settings for the bot under test; `database`: a SQLite file, or any database URL."""
    values: dict[str, Any] = {
        "telegram_bot_token": telegram.token,
        "telegram_api_base_url": telegram.base_url,
        "telegram_file_base_url": telegram.base_file_url,
        "database_url": database
        if isinstance(database, str)
        else f"sqlite+aiosqlite:///{database}",
        "caption_model": str(tiny_models.caption),
        "dialogue_model": str(tiny_models.dialogue),
        "image_model": str(tiny_models.image),
        "safety_model": "",  # the default is a hub id; tests that check pictures pass a folder
        "inference_device": "cpu",
        "image_size": 64,
        "max_new_tokens": 24,
        "tts_model": "",  # the voice tests lend the bot an actor that speaks and listens
        "asr_model": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (for the bot's own HTTP server)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def photo_bytes(
    color: tuple[int, int, int] = (180, 140, 120), size: tuple[int, int] = (96, 128)
) -> bytes:
    """A small JPEG: a face-coloured oval on a background, enough for the tiny models."""
    image = Image.new("RGB", size, (40, 60, 90))
    ImageDraw.Draw(image).ellipse((20, 20, size[0] - 20, size[1] - 30), fill=color)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()
