"""Text → a character's voice: Bark (transformers' `BarkModel`) with one voice preset each."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import AutoProcessor, BarkModel

from inference.types import Speech
from inference.voice.codecs import encode_ogg_opus

log = logging.getLogger(__name__)

# Bark speaks about 13 s per generation; a longer line is spoken in pieces of this many
# characters (cut at sentence ends), all pieces of one voice in one batched call.
MAX_PIECE_CHARS = 120
# Semantic tokens (49.9 a second) a piece may use: ~10 per character covers slow Chinese
# speech; it only stops a runaway generation, a finished piece ends at its EOS.
TOKENS_PER_CHAR, MIN_TOKENS = 10, 64
PAUSE_S = 0.12  # between the pieces of one line
_SENTENCE_END = re.compile(r"(?<=[。！？!?；;…\n])|(?<=[.,，、:：])\s")


@dataclass(frozen=True)
class SpeechRequest:
    """Speak `line` with the voice preset `voice` ('' = the model's default voice)."""

    line: str
    voice: str


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


class SpeechModel:
    """Speaks lines in the characters' voices; lines of the same voice are batched."""

    def __init__(self, processor: Any, model: Any, device: torch.device) -> None:
        self.processor = processor
        self.model = model
        self.device = device
        self.sample_rate = int(model.generation_config.sample_rate)
        self._max_tokens = int(model.generation_config.semantic_config["max_new_tokens"])

    @classmethod
    def load(cls, model_id_or_path: str, device: torch.device, dtype: torch.dtype) -> SpeechModel:
        """Load from a Hugging Face id or a local folder (the same code path)."""
        processor = AutoProcessor.from_pretrained(model_id_or_path)
        # fp16, not bf16, on GPUs: what Bark was published and measured with.
        dtype = torch.float16 if device.type == "cuda" else dtype
        model: Any = BarkModel.from_pretrained(model_id_or_path, dtype=dtype)
        model.to(device).eval().requires_grad_(False)
        log.info(
            "speech model %s loaded (%d voices)", model_id_or_path, len(cls._presets(processor))
        )
        return cls(processor, model, device)

    @property
    def voices(self) -> list[str]:
        """The voice presets a character can get (Bark's v2 ones when there are any)."""
        return self._presets(self.processor)

    @staticmethod
    def _presets(processor: Any) -> list[str]:
        names = list(getattr(processor, "available_voice_presets", None) or [])
        return sorted(n for n in names if n.startswith("v2/")) or sorted(names)

    def speak_batch(self, requests: list[SpeechRequest]) -> list[Speech]:
        """One Speech per request; Bark takes one voice per call, so each voice is a batch."""
        waves: dict[int, np.ndarray] = {}
        by_voice: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            by_voice.setdefault(request.voice, []).append(index)
        for voice, indexes in by_voice.items():
            spoken = self._speak_same_voice([requests[i].line for i in indexes], voice)
            waves.update(zip(indexes, spoken, strict=True))
        return [self._speech(waves[i]) for i in range(len(requests))]

    def _speak_same_voice(self, lines: list[str], voice: str) -> list[np.ndarray]:
        pieces = [pieces_of(line) or [line] for line in lines]
        flat = [piece for line_pieces in pieces for piece in line_pieces]
        inputs = self.processor(
            flat, voice_preset=voice if voice in self.voices else None, return_tensors="pt"
        )
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
        pause = np.zeros(int(PAUSE_S * self.sample_rate), dtype=np.float32)
        spoken, start = [], 0
        for line_pieces in pieces:
            parts = waves[start : start + len(line_pieces)]
            start += len(line_pieces)
            joined = [part for wave in parts for part in (wave, pause)][:-1]
            spoken.append(np.concatenate(joined).astype(np.float32))
        return spoken

    def _speech(self, wave: np.ndarray) -> Speech:
        wave = np.clip(wave, -1.0, 1.0).astype(np.float32)
        return Speech(encode_ogg_opus(wave, self.sample_rate), wave, self.sample_rate)
