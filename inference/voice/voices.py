"""Choosing a character's voice once, from what the caption model saw, among the speech
model's voice presets."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from inference.types import Gender, Language

# Bark's v2 presets (Suno's speaker library): which ones sound female. The rest sound male.
FEMALE_PRESETS = frozenset({"v2/en_speaker_9", "v2/zh_speaker_4", "v2/zh_speaker_6",
                            "v2/zh_speaker_7", "v2/zh_speaker_9"})  # fmt: skip


def preset_language(preset: str) -> str:
    """'v2/zh_speaker_4' → 'zh' (the accent the preset speaks with)."""
    return preset.rsplit("/", 1)[-1].split("_", 1)[0]


def choose_voice(
    description: str, language: Language, presets: Sequence[str], gender: Gender | None
) -> str:
    """One preset for this character: its language's presets of `gender` (the card's
    `apparent_gender`), picked stably from the description (so a retry or a restart gives
    the same voice); '' if none."""
    if not presets:
        return ""
    own = [p for p in presets if preset_language(p) == language] or list(presets)
    if gender is not None:
        fitting = [p for p in own if (p in FEMALE_PRESETS) == (gender == "female")]
        own = fitting or own
    digest = hashlib.sha256(description.encode()).digest()
    return sorted(own)[digest[0] % len(own)]
