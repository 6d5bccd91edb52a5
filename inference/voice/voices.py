"""Choosing a character's voice once, from what the caption model saw, among the speech
model's voices: Kokoro's ('zf_xiaoxiao': language, gender, name) or Bark's presets
('v2/zh_speaker_4')."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from inference.types import Gender, Language

# Bark's v2 presets (Suno's speaker library): which ones sound female. The rest sound male.
FEMALE_PRESETS = frozenset({"v2/en_speaker_9", "v2/zh_speaker_4", "v2/zh_speaker_6",
                            "v2/zh_speaker_7", "v2/zh_speaker_9"})  # fmt: skip
# Kokoro-82M v1.0's voices in our two languages: the first letter is the language (a: American
# English, b: British English, z: Mandarin), the second the gender (f, m). What a speech server
# running Kokoro offers when TTS_API_VOICES does not say otherwise.
KOKORO_VOICES = (
    "af_alloy", "af_aoede", "af_bella", "af_heart", "af_jessica", "af_kore", "af_nicole",
    "af_nova", "af_river", "af_sarah", "af_sky", "am_adam", "am_echo", "am_eric", "am_fenrir",
    "am_liam", "am_michael", "am_onyx", "am_puck", "am_santa", "bf_alice", "bf_emma",
    "bf_isabella", "bf_lily", "bm_daniel", "bm_fable", "bm_george", "bm_lewis",
    "zf_xiaobei", "zf_xiaoni", "zf_xiaoxiao", "zf_xiaoyi",
    "zm_yunjian", "zm_yunxi", "zm_yunxia", "zm_yunyang",
)  # fmt: skip
# The English ones graded C- or better in Kokoro's VOICES.md (its Mandarin voices are all
# graded D, alike): a character gets one of these when its language and gender have any.
WELL_RATED = frozenset({
    "af_heart", "af_bella", "af_nicole", "af_aoede", "af_kore", "af_sarah", "af_alloy",
    "af_nova", "af_sky", "am_fenrir", "am_michael", "am_puck", "bf_emma", "bf_isabella",
    "bm_fable", "bm_george",
})  # fmt: skip
_KOKORO_LANGUAGES = {"a": "en", "b": "en", "z": "zh", "j": "ja", "e": "es", "f": "fr",
                     "h": "hi", "i": "it", "p": "pt"}  # fmt: skip


def voice_language(voice: str) -> str:
    """The accent a voice speaks with: 'zh', 'en', other codes, or '' when unknown."""
    if voice.startswith("v2/") or "_speaker_" in voice:  # Bark: 'v2/zh_speaker_4'
        return voice.rsplit("/", 1)[-1].split("_", 1)[0]
    if len(voice) > 3 and voice[2] == "_" and voice[1] in "fm":  # Kokoro: 'zf_xiaoxiao'
        return _KOKORO_LANGUAGES.get(voice[0], "")
    return ""


def voice_gender(voice: str) -> Gender | None:
    """How a voice sounds: Kokoro's names say it, Bark's presets are listed above."""
    if voice.startswith("v2/") or "_speaker_" in voice:
        return "female" if voice in FEMALE_PRESETS else "male"
    if voice_language(voice):
        return "female" if voice[1] == "f" else "male"
    return None


def choose_voice(
    description: str, language: Language, voices: Sequence[str], gender: Gender | None
) -> str:
    """One voice for this character: its language's voices of `gender` (the card's
    `apparent_gender`), the well rated ones first, picked stably from the description (so a
    retry or a restart gives the same voice); '' if there are none."""
    return _stable_pick(description, _fitting(voices, language, gender))


def fitting_voice(voice: str, voices: Sequence[str]) -> str:
    """A voice kept from another speech model (Bark's 'v2/zh_speaker_4' after a switch to
    Kokoro, or back): one of `voices` with its language and gender, the same every time."""
    return _stable_pick(voice, _fitting(voices, voice_language(voice), voice_gender(voice)))


def _fitting(voices: Sequence[str], language: str, gender: Gender | None) -> list[str]:
    own = [v for v in voices if voice_language(v) == language] or list(voices)
    if gender is not None:
        own = [v for v in own if voice_gender(v) == gender] or own
    return [v for v in own if v in WELL_RATED] or own


def _stable_pick(key: str, voices: list[str]) -> str:
    if not voices:
        return ""
    digest = hashlib.sha256(key.encode()).digest()
    return sorted(voices)[digest[0] % len(voices)]
