"""Kokoro-82M (hexgrad, Apache-2.0; StyleTTS 2 with an iSTFTNet decoder): phonemes → 24 kHz
speech. The model takes one piece of up to 510 phonemes per call and no batch, so a batch of
lines is a loop; every voice pack is loaded once at start."""

from __future__ import annotations

import json
import logging
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inference.errors import ModelUnavailable, StageFailed
from inference.types import Speech
from inference.voice.phonemes import Phonemizer, load_phonemizer
from inference.voice.tts import SpeechRequest, finished, joined
from inference.voice.voices import fitting_voice

log = logging.getLogger(__name__)

SAMPLE_RATE = 24_000
# The voice packs have a row per phoneme count up to this, and the model reads this many
# phonemes plus its two boundary tokens (512 positions).
MAX_PHONEMES = 510
# Weight files Kokoro publishes, and the hub id each belongs to. The id is kept for local
# folders too: the Chinese G2P version follows it (v1.0: pinyin path; v1.1-zh: its own).
WEIGHTS = {
    "kokoro-v1_0.pth": "hexgrad/Kokoro-82M",
    "kokoro-v1_1-zh.pth": "hexgrad/Kokoro-82M-v1.1-zh",
}
HUB_FILES = ["config.json", "kokoro-*.pth", "voices/*.pt"]
# A line is cut at its sentence ends: Chinese ones always, Latin ones before a space.
_SENTENCE_END = re.compile(r"(?<=[。！？；…\n])|(?<=[.!?;])\s+")
# Phonemes that make no sound of their own: a piece of only these is silence, not speech.
_SOUNDLESS = frozenset(' ;:,.!?—…"()“”')


class KokoroSpeech:
    """Speaks lines in the characters' voices; each line in sentence pieces, joined."""

    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        model: Any,
        packs: dict[str, torch.Tensor],
        phonemizer: Phonemizer,
        *,
        broken: frozenset[str] = frozenset(),
        max_seconds: float = 120.0,
        max_phonemes: int = MAX_PHONEMES,
    ) -> None:
        self.model = model
        self.packs = packs  # voice name → [510, 1, 256] style vectors, on the model's device
        self.phonemizer = phonemizer
        self.broken = broken  # packs that would not load: their voices fail, the rest speak
        self.max_seconds = max_seconds
        self.max_phonemes = min(max_phonemes, MAX_PHONEMES)  # per model call
        self._sounds = frozenset(model.vocab) - _SOUNDLESS

    @classmethod
    def load(
        cls, model_id_or_path: str, device: torch.device, *, max_seconds: float = 120.0
    ) -> KokoroSpeech:
        """Load config.json, kokoro-v1_0.pth and voices/*.pt from a local folder or a hub id
        (float32 everywhere: 82 M parameters need no half precision)."""
        from kokoro import KModel

        folder = Path(model_id_or_path)
        if not folder.is_dir():
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(model_id_or_path, allow_patterns=HUB_FILES))
        weights = next((folder / name for name in WEIGHTS if (folder / name).is_file()), None)
        if weights is None:
            raise ModelUnavailable(
                f"TTS_MODEL={model_id_or_path!r} holds no Kokoro weights ({', '.join(WEIGHTS)})."
            )
        repo_id = WEIGHTS[weights.name]
        with warnings.catch_warnings():  # LSTM dropout and weight_norm notices from its code
            warnings.simplefilter("ignore")
            model: Any = KModel(
                repo_id=repo_id, config=str(folder / "config.json"), model=str(weights)
            )
        _check_every_weight_loaded(model, weights, model_id_or_path)
        model.to(device).eval().requires_grad_(False)
        style = 2 * int(json.loads((folder / "config.json").read_text())["style_dim"])
        packs, broken = voice_packs(folder / "voices", style, device)
        phonemizer = load_phonemizer(None if repo_id.endswith("/Kokoro-82M") else "1.1")
        phonemizer("你好，Kokoro。")  # loads jieba's dictionary now, not for the first user
        log.info("speech model %s loaded (Kokoro, %d voices)", model_id_or_path, len(packs))
        return cls(model, packs, phonemizer, broken=broken, max_seconds=max_seconds)

    @property
    def voices(self) -> list[str]:
        return sorted(self.packs)

    def speak_batch(self, requests: list[SpeechRequest]) -> list[Speech | StageFailed]:
        """One Speech per request; a line that cannot be spoken (nothing speakable, a voice
        that did not load, a model error) loses only its own voice."""
        results: list[Speech | StageFailed] = []
        for request in requests:
            try:
                results.append(self.speak(request))
            except StageFailed as failed:
                log.warning("a line got no voice: %s", failed)
                results.append(failed)
            except Exception as exc:
                log.exception("speaking one line failed")
                results.append(StageFailed(f"speech failed: {type(exc).__name__}"))
        return results

    def speak(self, request: SpeechRequest) -> Speech:
        """The line in its voice, piece after piece, at most `max_seconds` long."""
        pack = self._pack(request.voice)
        pieces = self.pieces(request.line, british=request.voice.startswith("b"))
        if not pieces:
            raise StageFailed("nothing in the line can be spoken")
        waves: list[np.ndarray] = []
        spoken, limit = 0, int(self.max_seconds * SAMPLE_RATE)
        for phonemes in pieces:
            if spoken >= limit:
                break  # the rest would be cut anyway
            with torch.inference_mode():
                audio = self.model(phonemes, pack[len(phonemes) - 1])
            waves.append(audio.float().cpu().numpy().reshape(-1))
            spoken += len(waves[-1])
        return finished(joined(waves, SAMPLE_RATE), SAMPLE_RATE, self.max_seconds)

    def pieces(self, line: str, *, british: bool = False) -> list[str]:
        """The line's phonemes in pieces of whole sentences, each at most `max_phonemes` (a
        longer sentence is cut at a comma or space); pieces with no sound are dropped."""
        pieces: list[str] = []
        for sentence in filter(str.strip, _SENTENCE_END.split(line)):
            for phonemes in self._fitting(sentence.strip(), british):
                if not self._sounds.intersection(phonemes):
                    continue
                if pieces and len(pieces[-1]) + 1 + len(phonemes) <= self.max_phonemes:
                    pieces[-1] = f"{pieces[-1]} {phonemes}"
                else:
                    pieces.append(phonemes)
        return pieces

    def _fitting(self, text: str, british: bool) -> list[str]:
        phonemes = self.phonemizer(text, british=british)
        if len(phonemes) <= self.max_phonemes:
            return [phonemes]
        if len(text) < 2:
            return [phonemes[: self.max_phonemes]]
        middle = len(text) // 2
        cuts = [i + 1 for i, ch in enumerate(text[:-1]) if ch in "，,、：:" or ch.isspace()]
        cut = min(cuts, key=lambda i: abs(i - middle)) if cuts else middle
        return self._fitting(text[:cut].strip(), british) + self._fitting(
            text[cut:].strip(), british
        )

    def _pack(self, voice: str) -> torch.Tensor:
        if voice in self.packs:
            return self.packs[voice]
        if voice in self.broken:
            raise StageFailed(f"the voice pack of {voice} could not be loaded")
        fitting = fitting_voice(voice, self.voices)  # a voice kept from another model
        if not fitting:
            raise StageFailed("the speech model has no voices")
        return self.packs[fitting]


def _check_every_weight_loaded(model: Any, weights: Path, name: str) -> None:
    """Kokoro's loader skips tensors whose names do not match, silently: a checkpoint of
    another layout would speak noise. Every saved tensor must have its place, and every
    place its tensor."""
    saved = torch.load(weights, map_location="cpu", weights_only=True, mmap=True)
    unused, missing = 0, 0
    for part, tensors in saved.items():
        own = set(getattr(model, part).state_dict()) if hasattr(model, part) else set()
        keys = {key.removeprefix("module.") for key in tensors}
        unused += len(keys - own)
        missing += len(own - keys)
    if unused or missing:
        raise ModelUnavailable(
            f"TTS_MODEL={name!r}: {weights.name} does not fit the architecture in its "
            f"config.json ({unused} saved tensors have no place, {missing} places no tensor)."
        )


def voice_packs(
    folder: Path, style: int, device: torch.device
) -> tuple[dict[str, torch.Tensor], frozenset[str]]:
    """Every voices/<name>.pt that is a [≥510, 1, style] float tensor; the others are named
    once in the log, and only the characters with those voices lose their voice."""
    packs: dict[str, torch.Tensor] = {}
    broken: set[str] = set()
    for path in sorted(folder.glob("*.pt")):
        try:
            pack = torch.load(path, map_location="cpu", weights_only=True)
            shape_ok = pack.ndim == 3 and pack.shape[0] >= MAX_PHONEMES
            if not (shape_ok and tuple(pack.shape[1:]) == (1, style)):
                raise ValueError(f"shape {tuple(pack.shape)}")
            packs[path.stem] = pack.float().to(device)
        except Exception as exc:
            log.warning("voice pack %s is unusable (%s): that voice stays silent", path, exc)
            broken.add(path.stem)
    if not packs:
        log.warning("no usable voice packs in %s: characters will not speak", folder)
    return packs, frozenset(broken)
