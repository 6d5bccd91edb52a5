"""Bark (suno, MIT; transformers' `BarkModel`): text → 24 kHz speech, one voice preset per
`generate` call, so the lines of one voice are batched together. Selectable with
TTS_MODEL=suno/bark-small (or suno/bark)."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import torch
from transformers import AutoProcessor, BarkModel

from inference.errors import StageFailed
from inference.types import Speech
from inference.voice.tts import SpeechRequest, finished, joined
from inference.voice.voices import fitting_voice

log = logging.getLogger(__name__)

# Bark speaks about 13 s per generation; a longer line is spoken in pieces of this many
# characters (cut at sentence ends), all pieces of one voice in one batched call.
MAX_PIECE_CHARS = 120
# Semantic tokens (49.9 a second) a piece may use: ~10 per character covers slow Chinese
# speech; it only stops a runaway generation, a finished piece ends at its EOS.
TOKENS_PER_CHAR, MIN_TOKENS = 10, 64
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])|(?<=[.,，、:：])\s")


def pieces_of(line: str, limit: int = MAX_PIECE_CHARS) -> list[str]:
    """The line cut at sentence ends into pieces of at most `limit` characters."""
    sentences = [s.strip() for s in _SENTENCE_END.split(line) if s and s.strip()]
    pieces: list[str] = []
    for sentence in sentences:
        while len(sentence) > limit:  # one very long sentence: cut it where a word ends
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if pieces and len(pieces[-1]) + 1 + len(sentence) <= limit:
            pieces[-1] = f"{pieces[-1]} {sentence}"
        elif sentence:
            pieces.append(sentence)
    return pieces


class BarkSpeech:
    """Speaks lines in the characters' voices; lines of the same voice are batched."""

    def __init__(
        self,
        processor: Any,
        model: Any,
        device: torch.device,
        *,
        max_seconds: float = 120.0,
    ) -> None:
        self.processor = processor
        self.model = model
        self.device = device
        self.max_seconds = max_seconds
        self.sample_rate = int(model.generation_config.sample_rate)
        self._max_tokens = int(model.generation_config.semantic_config["max_new_tokens"])
        # Every preset read once, now: a broken one silences only the characters using it.
        self.presets: dict[str, dict[str, np.ndarray]] = {}
        broken = set()
        for name in self._preset_names(processor):
            try:
                history = processor("", voice_preset=name, return_tensors="np")["history_prompt"]
                self.presets[name] = {key: np.asarray(value) for key, value in history.items()}
            except Exception as exc:
                log.warning("voice preset %s is unusable (%s): that voice stays silent", name, exc)
                broken.add(name)
        self.broken = frozenset(broken)

    @classmethod
    def load(
        cls,
        model_id_or_path: str,
        device: torch.device,
        dtype: torch.dtype,
        *,
        max_seconds: float = 120.0,
    ) -> BarkSpeech:
        """Load from a Hugging Face id or a local folder (the same code path)."""
        processor = AutoProcessor.from_pretrained(model_id_or_path)
        # fp16, not bf16, on GPUs: what Bark was published and measured with.
        dtype = torch.float16 if device.type == "cuda" else dtype
        model: Any = BarkModel.from_pretrained(model_id_or_path, dtype=dtype)
        model.to(device).eval().requires_grad_(False)
        speech = cls(processor, model, device, max_seconds=max_seconds)
        log.info("speech model %s loaded (Bark, %d voices)", model_id_or_path, len(speech.voices))
        return speech

    @property
    def voices(self) -> list[str]:
        """The voice presets a character can get (Bark's v2 ones when there are any)."""
        return sorted(self.presets)

    @staticmethod
    def _preset_names(processor: Any) -> list[str]:
        names = list(getattr(processor, "available_voice_presets", None) or [])
        return sorted(n for n in names if n.startswith("v2/")) or sorted(names)

    def speak_batch(self, requests: list[SpeechRequest]) -> list[Speech | StageFailed]:
        """One Speech per request; Bark takes one voice per call, so each voice is a batch,
        and a voice that fails (a broken preset, a model error) loses only its own lines."""
        results: dict[int, Speech | StageFailed] = {}
        by_voice: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            by_voice.setdefault(request.voice, []).append(index)
        for voice, indexes in by_voice.items():
            try:
                history = self._history(voice)
                spoken = self._speak_same_voice([requests[i].line for i in indexes], history)
                for index, wave in zip(indexes, spoken, strict=True):
                    results[index] = finished(wave, self.sample_rate, self.max_seconds)
            except Exception as exc:
                if not isinstance(exc, StageFailed):
                    log.exception("speaking %d lines in voice %s failed", len(indexes), voice)
                failed = exc if isinstance(exc, StageFailed) else StageFailed(
                    f"speech failed: {type(exc).__name__}"
                )  # fmt: skip
                results.update(dict.fromkeys(indexes, failed))
        return [results[i] for i in range(len(requests))]

    def _history(self, voice: str) -> dict[str, np.ndarray] | None:
        """The preset's prompts; a voice kept from another model speaks with a fitting one."""
        if voice in self.broken:
            raise StageFailed(f"the voice preset {voice} could not be loaded")
        name = voice if voice in self.presets else fitting_voice(voice, self.voices)
        return self.presets.get(name)  # None: Bark's own default voice

    def _speak_same_voice(
        self, lines: list[str], history_prompt: dict[str, np.ndarray] | None
    ) -> list[np.ndarray]:
        pieces = [pieces_of(line) or [line] for line in lines]
        flat = [piece for line_pieces in pieces for piece in line_pieces]
        inputs = self.processor(flat, voice_preset=history_prompt, return_tensors="pt")
        history = inputs.pop("history_prompt", None)
        if history is not None:
            history = {key: value.to(self.device) for key, value in history.items()}
        budget = min(self._max_tokens, MIN_TOKENS + TOKENS_PER_CHAR * max(map(len, flat)))
        with torch.inference_mode():
            audio, lengths = self.model.generate(
                input_ids=inputs["input_ids"].to(self.device),
                attention_mask=inputs["attention_mask"].to(self.device),
                history_prompt=history,
                semantic_max_new_tokens=budget,
                return_output_lengths=True,
            )
        audio = audio.float().cpu().numpy()
        waves = [audio[i, : lengths[i]] for i in range(len(flat))]
        spoken, start = [], 0
        for line_pieces in pieces:
            spoken.append(joined(waves[start : start + len(line_pieces)], self.sample_rate))
            start += len(line_pieces)
        return spoken
