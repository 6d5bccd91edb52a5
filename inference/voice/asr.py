"""A voice note → what the user said: a Whisper checkpoint through transformers, with its own
language detection (we answer in zh or en, whatever was heard)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSpeechSeq2Seq, AutoProcessor

from inference.cleaning import clean_generation
from inference.language import detect_language
from inference.types import Language

log = logging.getLogger(__name__)

_LANGUAGE_TAG = re.compile(r"<\|[a-z]{2,3}\|>")  # <|en|>, <|zh|>, <|yue|>; not <|transcribe|>
SAMPLE_RATE = 16_000  # what every Whisper feature extractor expects
MAX_TRANSCRIPT_CHARS = 4000  # 2 minutes of fast speech
WINDOW_S = 30  # Whisper hears 30 s at a time; longer notes are cut into windows, batched


@dataclass(frozen=True)
class Transcript:
    """What was heard, and in which language (None: neither Chinese nor English)."""

    text: str
    language: Language | None


class Transcriber:
    """Transcribes batches of mono 16 kHz waveforms, one `generate` call per batch."""

    def __init__(self, processor: Any, model: Any, device: torch.device) -> None:
        self.processor = processor
        self.model = model
        self.device = device

    @classmethod
    def load(cls, model_id_or_path: str, device: torch.device, dtype: torch.dtype) -> Transcriber:
        """Load from a Hugging Face id or a local folder (the same code path)."""
        processor = AutoProcessor.from_pretrained(model_id_or_path)
        model: Any = AutoModelForSpeechSeq2Seq.from_pretrained(model_id_or_path, dtype=dtype)
        model.to(device).eval().requires_grad_(False)
        log.info("recognition model %s loaded", model_id_or_path)
        return cls(processor, model, device)

    def transcribe_batch(self, waves: list[np.ndarray]) -> list[Transcript]:
        """One Transcript per waveform; every 30 s window of every note in one batch."""
        window = WINDOW_S * SAMPLE_RATE
        owners: list[int] = []
        chunks: list[np.ndarray] = []
        for index, wave in enumerate(waves):
            for start in range(0, max(len(wave), 1), window):
                chunks.append(wave[start : start + window])
                owners.append(index)
        features = self.processor.feature_extractor(
            chunks, sampling_rate=SAMPLE_RATE, return_tensors="pt"
        ).input_features.to(self.device, self.model.dtype)
        with torch.inference_mode():
            # No language given: Whisper detects it and writes its token right after the start.
            output = self.model.generate(features, task="transcribe", return_dict_in_generate=True)
        sequences = output.sequences  # with the prompt: <|startoftranscript|> <|xx|> ...
        tokenizer = self.processor.tokenizer
        texts = tokenizer.batch_decode(sequences, skip_special_tokens=True)
        heard: list[list[str]] = [[] for _ in waves]
        languages: list[list[str]] = [[] for _ in waves]
        for owner, text, tokens in zip(owners, texts, sequences.tolist(), strict=True):
            heard[owner].append(text.strip())
            languages[owner].append(_language_token(tokenizer, tokens))
        results = []
        for parts, tags in zip(heard, languages, strict=True):
            text = clean_generation(" ".join(p for p in parts if p), max_chars=MAX_TRANSCRIPT_CHARS)
            results.append(Transcript(text, _language(tags, text)))
        return results


def _language_token(tokenizer: Any, tokens: list[int]) -> str:
    """The '<|xx|>' language tag Whisper wrote right after <|startoftranscript|>."""
    for token in tokenizer.convert_ids_to_tokens(tokens[:4]):
        if isinstance(token, str) and _LANGUAGE_TAG.fullmatch(token):
            return token
    return ""


def _language(tags: list[str], text: str) -> Language | None:
    """Whisper's own detection when it says zh or en, else what the words look like."""
    for tag in tags:
        if tag in ("<|zh|>", "<|yue|>"):
            return "zh"
        if tag == "<|en|>":
            return "en"
    return detect_language(text)
