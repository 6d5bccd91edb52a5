"""Tiny, seeded, random-weight Bark (speech) and Whisper (recognition) checkpoints, saved like
hub folders so the product's own loaders read them. Full-size builders share the layout."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

# Bark's own token layout (suno/bark's configs): these ids are fixed by its generation code.
BARK_VOCAB = {"semantic": (129_600, 10_048), "coarse": (12_096, 12_096), "fine": (1_056, 1_056)}
# Voice presets the tiny speech checkpoint ships (a female and a male voice per language).
TINY_PRESETS = ("v2/en_speaker_6", "v2/en_speaker_9", "v2/zh_speaker_1", "v2/zh_speaker_4")
WHISPER_SPECIALS = [
    "<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|zh|>", "<|translate|>",
    "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>",
]  # fmt: skip


@dataclass(frozen=True)
class TinyVoiceModels:
    speech: Path
    transcriber: Path


def build_speech_checkpoint(
    folder: Path,
    *,
    hidden: int = 16,
    layers: int = 2,
    heads: int = 2,
    codec: dict[str, Any] | None = None,
    max_semantic_tokens: int = 8,
    short_windows: bool = True,
    presets: tuple[str, ...] = TINY_PRESETS,
) -> Path:
    """A Bark model (semantic, coarse, fine GPTs + EnCodec) with a WordPiece tokenizer and
    voice presets; the defaults are tiny, `tests/bench` passes bark-small's sizes."""
    from transformers import BarkConfig, BarkModel, BarkProcessor, BertTokenizer, EncodecConfig
    from transformers.models.bark.generation_configuration_bark import (
        BarkCoarseGenerationConfig,
        BarkFineGenerationConfig,
        BarkGenerationConfig,
        BarkSemanticGenerationConfig,
    )

    torch.manual_seed(0)
    size = {"hidden_size": hidden, "num_layers": layers, "num_heads": heads, "block_size": 1024}
    sub = {
        name: {**size, "input_vocab_size": vocab[0], "output_vocab_size": vocab[1]}
        for name, vocab in BARK_VOCAB.items()
    }
    codec_config = EncodecConfig(
        **(
            codec
            or {
                "num_filters": 2,
                "hidden_size": 16,
                "codebook_dim": 16,
                "num_residual_layers": 1,
                "num_lstm_layers": 1,
            }
        ),
        sampling_rate=24_000,
        codebook_size=1024,
        upsampling_ratios=[8, 5, 4, 2],  # 24 kHz / 320 = 75 frames a second, as Bark needs
        target_bandwidths=[1.5, 3.0, 6.0, 12.0, 24.0],
    )
    config = BarkConfig(
        semantic_config=sub["semantic"],
        coarse_acoustics_config=sub["coarse"],
        fine_acoustics_config={**sub["fine"], "n_codes_total": 8, "n_codes_given": 1},
        codec_config=codec_config.to_dict(),
    )
    model = BarkModel(config).eval()
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    # Bark attends over long fixed windows (256 text, 630 coarse, 1024 fine positions); the
    # tiny model looks at short ones so a test speaks in a fraction of a second on a CPU.
    windows: list[dict[str, int]] = [{}, {}, {}]
    if short_windows:
        windows = [
            {"max_input_semantic_length": 64},
            {"max_coarse_history": 60, "max_coarse_input_length": 64, "sliding_window_len": 30},
            {"max_fine_history_length": 64, "max_fine_input_length": 128},
        ]
    # BarkGenerationConfig cannot save itself in transformers 5.x; its JSON is what the hub has.
    semantic = BarkSemanticGenerationConfig(max_new_tokens=max_semantic_tokens, **windows[0])
    generation = BarkGenerationConfig(
        semantic_config=semantic.to_dict(),
        coarse_acoustics_config=BarkCoarseGenerationConfig(**windows[1]).to_dict(),
        fine_acoustics_config=BarkFineGenerationConfig(**windows[2]).to_dict(),
    )
    (folder / "generation_config.json").write_text(json.dumps(generation.to_dict()))

    words = ["hello", "world", "nice", "to", "meet", "you", "i", "am", "a", "photo"]
    chars = sorted(set("你好很高兴认识我是照片里的人今天想聊什么"))
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words, *chars]))
    BarkProcessor(BertTokenizer(vocab=str(vocab_file))).save_pretrained(folder)
    _save_presets(folder, presets)
    return folder


def _save_presets(folder: Path, presets: tuple[str, ...]) -> None:
    """Speaker embeddings laid out as on the hub: speaker_embeddings_path.json + .npy files."""
    rng = np.random.default_rng(0)
    index: dict[str, Any] = {"repo_or_path": str(folder)}
    for name in presets:
        arrays = {
            "semantic_prompt": rng.integers(0, 10_000, 40),
            "coarse_prompt": rng.integers(0, 1024, (2, 60)),
            "fine_prompt": rng.integers(0, 1024, (8, 60)),
        }
        entry = {}
        for key, array in arrays.items():
            relative = f"speaker_embeddings/{name.replace('/', '_')}_{key}.npy"
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            np.save(folder / relative, array)
            entry[key] = relative
        index[name] = entry
    (folder / "speaker_embeddings_path.json").write_text(json.dumps(index))


def build_transcriber_checkpoint(
    folder: Path,
    *,
    d_model: int = 16,
    encoder_layers: int = 1,
    decoder_layers: int = 1,
    heads: int = 2,
    mel_bins: int = 80,
    vocab_size: int = 0,
    max_length: int = 24,
) -> Path:
    """A Whisper encoder-decoder with a byte-level tokenizer holding Whisper's special tokens
    (start, zh/en language tags, task tags), so language detection runs for real."""
    from tokenizers import pre_tokenizers
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )

    torch.manual_seed(0)
    vocab = {ch: i for i, ch in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    # Full-size: filler words up to the real vocabulary size (the output layer's real cost).
    for n in range(vocab_size - len(vocab) - len(WHISPER_SPECIALS)):
        vocab[f"Ġword{n}"] = len(vocab)
    for token in WHISPER_SPECIALS:
        vocab[token] = len(vocab)
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[])
    tokenizer.add_special_tokens({"additional_special_tokens": WHISPER_SPECIALS[1:]})
    ids = {token: vocab[token] for token in WHISPER_SPECIALS}
    end, start = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = WhisperConfig(
        vocab_size=len(vocab),
        num_mel_bins=mel_bins,
        d_model=d_model,
        encoder_layers=encoder_layers,
        decoder_layers=decoder_layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=d_model * 4,
        decoder_ffn_dim=d_model * 4,
        max_target_positions=448,
        pad_token_id=end,
        bos_token_id=end,
        eos_token_id=end,
        decoder_start_token_id=start,
        suppress_tokens=None,
        begin_suppress_tokens=None,
    )
    model = WhisperForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=start,
        bos_token_id=end,
        eos_token_id=end,
        pad_token_id=end,
        max_length=max_length,
        is_multilingual=True,
        lang_to_id={"<|en|>": ids["<|en|>"], "<|zh|>": ids["<|zh|>"]},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"],
        # Real Whisper suppresses tokens too; here all but letters and spaces, so the random
        # decoder writes readable (nonsense) words rather than broken UTF-8 bytes.
        suppress_tokens=[i for t, i in vocab.items() if len(t) == 1 and not _wordlike(t)],
    )
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    WhisperProcessor(WhisperFeatureExtractor(feature_size=mel_bins), tokenizer).save_pretrained(
        folder
    )
    return folder


def _wordlike(byte_char: str) -> bool:
    """A byte-level alphabet character that stands for an ASCII letter or a space ('Ġ')."""
    return byte_char == "Ġ" or (byte_char.isascii() and byte_char.isalpha())


def build_voice_models(root: Path) -> TinyVoiceModels:
    return TinyVoiceModels(
        speech=build_speech_checkpoint(root / "speech"),
        transcriber=build_transcriber_checkpoint(root / "transcriber"),
    )


def voice_note(
    seconds: float = 2.0, *, loud: bool = True, sample_rate: int = 48_000, fmt: str = "ogg"
) -> bytes:
    """A voice note like Telegram's (OGG/Opus), or an M4A/MP4 audio file: a voiced,
    syllable-like tone, or silence."""
    import av

    from inference.voice.codecs import encode_ogg_opus

    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = (
        (0.3 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)))
        if loud
        else 0 * t
    )
    samples = wave.astype(np.float32)
    if fmt == "ogg":
        return encode_ogg_opus(samples, sample_rate)
    import io

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as container:
        stream = container.add_stream("aac", rate=sample_rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()
