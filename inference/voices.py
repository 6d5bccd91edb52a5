"""Choosing a character's voice once, from what the caption model saw, among the speech
model's voice presets."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Literal

from inference.types import Language

Gender = Literal["female", "male"]

# Bark's v2 presets (Suno's speaker library): which ones sound female. The rest sound male.
FEMALE_PRESETS = frozenset({"v2/en_speaker_9", "v2/zh_speaker_4", "v2/zh_speaker_6",
                            "v2/zh_speaker_7", "v2/zh_speaker_9"})  # fmt: skip

_FEMALE = re.compile(
    r"\b(woman|women|girl|lady|female|mother|grandmother|she|her|wife|queen|actress)\b"
    r"|[女她妈奶姐妹婆姑娘阿姨]"
)
_MALE = re.compile(
    r"\b(man|men|boy|gentleman|male|father|grandfather|he|his|him|husband|king|actor)\b"
    r"|[男他爸爷哥弟叔伯]"
)


def apparent_gender(description: str) -> Gender | None:
    """The gender the description suggests, or None when it says nothing or both equally."""
    lowered = description.lower()
    female, male = len(_FEMALE.findall(lowered)), len(_MALE.findall(lowered))
    if female == male:
        return None
    return "female" if female > male else "male"


def preset_language(preset: str) -> str:
    """'v2/zh_speaker_4' → 'zh' (the accent the preset speaks with)."""
    return preset.rsplit("/", 1)[-1].split("_", 1)[0]


def choose_voice(description: str, language: Language, presets: Sequence[str]) -> str:
    """One preset for this character: its language's presets of the apparent gender, picked
    stably from the description (so a retry or a restart gives the same voice); '' if none."""
    if not presets:
        return ""
    own = [p for p in presets if preset_language(p) == language] or list(presets)
    gender = apparent_gender(description)
    if gender is not None:
        fitting = [p for p in own if (p in FEMALE_PRESETS) == (gender == "female")]
        own = fitting or own
    digest = hashlib.sha256(description.encode()).digest()
    return sorted(own)[digest[0] % len(own)]
