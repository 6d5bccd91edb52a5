"""Text → a character's voice: what every speech model takes and gives, and which model a
checkpoint folder holds (Kokoro: `kokoro_tts`, the default; Bark: `bark_tts`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from inference.errors import StageFailed
from inference.types import Speech
from inference.voice.codecs import encode_ogg_opus

PAUSE_S = 0.12  # between the pieces of one line
FADE_S = 0.05  # a voice cut at MAX_VOICE_SECONDS fades out instead of clicking

SpeechKind = Literal["kokoro", "bark"]


@dataclass(frozen=True)
class SpeechRequest:
    """Speak `line` with the voice `voice` (a name the model lists in `voices`)."""

    line: str
    voice: str


class SpeechModel(Protocol):
    """What the worker's speech stage calls: one batch of many users' lines at a time."""

    @property
    def voices(self) -> list[str]:
        """The voice names a character can get."""
        ...

    def speak_batch(self, requests: list[SpeechRequest]) -> list[Speech | StageFailed]:
        """One Speech per request, or for that request alone the StageFailed that lost it
        (an unusable line, a voice that would not load, a model error on that line)."""
        ...


def speech_kind(folder_or_id: str) -> SpeechKind:
    """Kokoro (its config.json has an `istftnet` decoder) or Bark (a transformers config),
    from the checkpoint's config.json: a local folder, or a hub id (only that file fetched)."""
    folder = Path(folder_or_id)
    if folder.is_dir():
        config_file = folder / "config.json"
        if not config_file.is_file():
            return "bark"  # transformers' loader then says what the folder lacks
    else:
        from huggingface_hub import hf_hub_download

        config_file = Path(hf_hub_download(folder_or_id, "config.json"))
    config = json.loads(config_file.read_text(encoding="utf-8"))
    return "kokoro" if "istftnet" in config else "bark"


def joined(waves: list[np.ndarray], sample_rate: int) -> np.ndarray:
    """The pieces of one line, one after the other with a short pause between them."""
    pause = np.zeros(int(PAUSE_S * sample_rate), dtype=np.float32)
    parts = [part for wave in waves for part in (wave, pause)][:-1]
    return np.concatenate(parts).astype(np.float32) if parts else pause[:0]


def finished(wave: np.ndarray, sample_rate: int, max_seconds: float) -> Speech:
    """The voice to send: clipped to [-1, 1] (the models do not clip), at most `max_seconds`
    long (faded out where it is cut), encoded as OGG/Opus for Telegram."""
    wave = np.clip(wave, -1.0, 1.0).astype(np.float32)
    limit = int(max_seconds * sample_rate)
    if len(wave) > limit:
        wave = wave[:limit].copy()
        fade = min(len(wave), int(FADE_S * sample_rate))
        wave[len(wave) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return Speech(encode_ogg_opus(wave, sample_rate), wave, sample_rate)
