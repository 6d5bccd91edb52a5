"""Tiny, seeded, random-weight Kokoro and Bark (speech) and Whisper (recognition) checkpoints,
saved like hub folders so the product's own loaders read them, and a tiny spaCy English tagger
installed like en_core_web_sm for Kokoro's English G2P. Full-size builders share the layout."""

from __future__ import annotations

import json
import warnings
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


# The phoneme alphabet misaki writes and Kokoro-82M v1.0 reads (its config.json "vocab", 114
# symbols; 0 is the boundary token). The ids are Kokoro's own, so a full-size model built here
# reads the same inputs as the real one.
KOKORO_VOCAB = {
    ";": 1, ":": 2, ",": 3, ".": 4, "!": 5, "?": 6, "—": 9, "…": 10, '"': 11, "(": 12,
    ")": 13, "“": 14, "”": 15, " ": 16, "\u0303": 17, "ʣ": 18, "ʥ": 19, "ʦ": 20, "ʨ": 21,
    "ᵝ": 22, "\uab67": 23, "A": 24, "I": 25, "O": 31, "Q": 33, "S": 35, "T": 36, "W": 39,
    "Y": 41, "ᵊ": 42, "a": 43, "b": 44, "c": 45, "d": 46, "e": 47, "f": 48, "h": 50, "i": 51,
    "j": 52, "k": 53, "l": 54, "m": 55, "n": 56, "o": 57, "p": 58, "q": 59, "r": 60, "s": 61,
    "t": 62, "u": 63, "v": 64, "w": 65, "x": 66, "y": 67, "z": 68, "ɑ": 69, "ɐ": 70, "ɒ": 71,
    "æ": 72, "β": 75, "ɔ": 76, "ɕ": 77, "ç": 78, "ɖ": 80, "ð": 81, "ʤ": 82, "ə": 83, "ɚ": 85,
    "ɛ": 86, "ɜ": 87, "ɟ": 90, "ɡ": 92, "ɥ": 99, "ɨ": 101, "ɪ": 102, "ʝ": 103, "ɯ": 110,
    "ɰ": 111, "ŋ": 112, "ɳ": 113, "ɲ": 114, "ɴ": 115, "ø": 116, "ɸ": 118, "θ": 119, "œ": 120,
    "ɹ": 123, "ɾ": 125, "ɻ": 126, "ʁ": 128, "ɽ": 129, "ʂ": 130, "ʃ": 131, "ʈ": 132, "ʧ": 133,
    "ʊ": 135, "ʋ": 136, "ʌ": 138, "ɣ": 139, "ɤ": 140, "χ": 142, "ʎ": 143, "ʒ": 147, "ʔ": 148,
    "ˈ": 156, "ˌ": 157, "ː": 158, "ʰ": 162, "ʲ": 164, "↓": 169, "→": 171, "↗": 172, "↘": 173,
    "ᵻ": 177,
}  # fmt: skip
# The five parts of a Kokoro checkpoint (kokoro-v1_0.pth is a dict of their state dicts).
KOKORO_PARTS = ("bert", "bert_encoder", "predictor", "text_encoder", "decoder")
# The smallest Kokoro its code builds: hidden_dim 512, style_dim 128 and the decoder's 512
# channels are fixed by the code, the rest shrunk. max_dur 1 gives every phoneme exactly one
# frame, so a piece of n phonemes lasts 600 * (n + 2) samples at 24 kHz.
TINY_KOKORO = {
    "hidden_dim": 512, "style_dim": 128, "n_layer": 1, "max_dur": 1, "dropout": 0.2,
    "text_encoder_kernel_size": 3, "n_mels": 80,
    "plbert": {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64,
               "num_hidden_layers": 1, "embedding_size": 16, "max_position_embeddings": 512},
    "istftnet": {"upsample_rates": [10, 6], "upsample_kernel_sizes": [20, 12],
                 "gen_istft_n_fft": 20, "gen_istft_hop_size": 5,
                 "upsample_initial_channel": 512, "resblock_kernel_sizes": [3],
                 "resblock_dilation_sizes": [[1, 3, 5]]},
}  # fmt: skip
# Kokoro-82M's own config.json values (hexgrad/Kokoro-82M), for the full-size benchmark.
KOKORO_82M = {
    "hidden_dim": 512, "style_dim": 128, "n_layer": 3, "max_dur": 50, "dropout": 0.2,
    "text_encoder_kernel_size": 5, "n_mels": 80, "dim_in": 64, "max_conv_dim": 512,
    "multispeaker": True,
    "plbert": {"hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 2048,
               "max_position_embeddings": 512, "num_hidden_layers": 12, "dropout": 0.1},
    "istftnet": {"upsample_kernel_sizes": [20, 12], "upsample_rates": [10, 6],
                 "gen_istft_hop_size": 5, "gen_istft_n_fft": 20,
                 "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
                 "resblock_kernel_sizes": [3, 7, 11], "upsample_initial_channel": 512},
}  # fmt: skip
# Voices the tiny Kokoro ships: a female and a male voice per language, and British English.
TINY_KOKORO_VOICES = ("af_heart", "am_michael", "bf_emma", "zf_xiaoxiao", "zm_yunxi")
SAMPLES_PER_PHONEME = 600  # with max_dur 1: one frame, 600 samples at 24 kHz


@dataclass(frozen=True)
class TinyVoiceModels:
    speech: Path  # Kokoro, the default voice
    transcriber: Path
    bark: Path
    english_tagger: Path  # a folder to put on sys.path: it holds en_core_web_sm


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


def build_kokoro_checkpoint(
    folder: Path,
    *,
    sizes: dict[str, Any] | None = None,
    voices: tuple[str, ...] = TINY_KOKORO_VOICES,
    compact: bool = True,
    frames_per_phoneme: float | None = None,
) -> Path:
    """A Kokoro folder as hexgrad/Kokoro-82M lays it out: config.json, kokoro-v1_0.pth (the
    five parts' state dicts, keys prefixed "module." like the released file) and
    voices/<name>.pt (float32 [510, 1, 256] style packs). `compact`: every tensor a slice of
    one random buffer, so the ~48 M-parameter tiny model is a 13 MB file; `sizes`: another
    architecture (KOKORO_82M for the benchmark's full size); `frames_per_phoneme`: random
    weights would hold every phoneme for about max_dur / 2 frames (0.6 s at full size), so
    the benchmark sets the duration head to a natural pace instead (real speech: ~3)."""
    from kokoro import KModel

    folder.mkdir(parents=True, exist_ok=True)
    config = {"vocab": KOKORO_VOCAB, "n_token": 178, **(sizes or TINY_KOKORO)}
    (folder / "config.json").write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    torch.manual_seed(0)
    empty = folder / "no-weights.pth"
    torch.save({}, empty)  # the real constructor builds the modules; nothing to load yet
    # Compact: only the shapes are needed (the values come from one buffer), so the modules
    # are built on the meta device, without initialising 48 M random numbers.
    device = torch.device("meta") if compact else torch.device("cpu")
    try:
        with warnings.catch_warnings(), device:
            warnings.simplefilter("ignore")  # LSTM dropout and weight_norm notices
            model = KModel(
                repo_id="hexgrad/Kokoro-82M", config=str(folder / "config.json"), model=str(empty)
            )
    finally:
        empty.unlink()
    if frames_per_phoneme is not None:
        # Duration = sum over max_dur bins of sigmoid(logit): equal logits give the pace.
        head = model.predictor.duration_proj.linear_layer
        share = frames_per_phoneme / config["max_dur"]
        with torch.no_grad():
            head.weight.zero_()
            head.bias.fill_(float(np.log(share / (1 - share))))
    state = {part: getattr(model, part).state_dict() for part in KOKORO_PARTS}
    if compact:
        size = max(t.numel() for tensors in state.values() for t in tensors.values())
        pool = torch.randn(size + 1024, generator=torch.Generator().manual_seed(0)) * 0.05
        state = {
            part: {
                key: pool[(i * 131) % 1024 :][: t.numel()].view(t.shape).to(t.dtype)
                for i, (key, t) in enumerate(tensors.items())
            }
            for part, tensors in state.items()
        }
    torch.save(
        {part: {f"module.{k}": t for k, t in tensors.items()} for part, tensors in state.items()},
        folder / "kokoro-v1_0.pth",
    )
    (folder / "voices").mkdir(exist_ok=True)
    for index, name in enumerate(voices):
        generator = torch.Generator().manual_seed(index)
        pack = torch.randn(510, 1, 256, generator=generator) * 0.1
        torch.save(pack, folder / "voices" / f"{name}.pt")
    return folder


# A handful of tagged sentences: enough for a tiny tagger to tell numbers, words and
# punctuation apart (misaki reads numbers as words only when they are tagged CD).
_TAGGED = [
    ("Hello world , I read 42 books in 2024 .", "UH NN , PRP VBD CD NNS IN CD ."),
    ("It is so nice to meet you !", "PRP VBZ RB JJ TO VB PRP ."),
    ("My sister took 3 photos of the old house .", "PRP$ NN VBD CD NNS IN DT JJ NN ."),
    ("Do you like the park ?", "VBP PRP VB DT NN ."),
    ("We went there in 1985 , and it was lovely .", "PRP VBD RB IN CD , CC PRP VBD JJ ."),
]


def build_english_tagger(root: Path) -> Path:
    """A tiny spaCy pipeline (tok2vec + tagger, trained for a second on the sentences above)
    laid out as the installed en_core_web_sm 3.8.0 package is (package, data folder,
    dist-info), under `root`: put `root` on sys.path (or PYTHONPATH) and misaki's English G2P
    loads it as the real one. The real one is not on PyPI, so tests cannot install it."""
    import spacy
    from spacy.training import Example

    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec")
    nlp.add_pipe("tagger")
    examples = [
        Example.from_dict(nlp.make_doc(text), {"tags": tags.split()}) for text, tags in _TAGGED
    ]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(30):
        nlp.update(examples, sgd=optimizer)
    nlp.meta.update({"name": "core_web_sm", "version": "3.8.0"})
    package = root / "en_core_web_sm"
    package.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(package / "en_core_web_sm-3.8.0")
    (package / "meta.json").write_text(json.dumps(nlp.meta), encoding="utf-8")
    (package / "__init__.py").write_text(
        "from spacy.util import load_model_from_init_py\n\n\n"
        "def load(**overrides):\n    return load_model_from_init_py(__file__, **overrides)\n"
    )
    dist_info = root / "en_core_web_sm-3.8.0.dist-info"
    dist_info.mkdir(exist_ok=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: en_core_web_sm\nVersion: 3.8.0\n"
    )
    return root


def tiny_kokoro_samples(speech: Any, line: str, voice: str) -> int:
    """How many samples the tiny Kokoro (max_dur 1) speaks for `line`: one frame per phoneme
    it knows plus two boundary frames, per piece, and a pause between pieces. `speech`: the
    loaded KokoroSpeech."""
    from inference.voice.tts import PAUSE_S

    pieces = speech.pieces(line, british=voice.startswith("b"))
    frames = sum(sum(ch in speech.model.vocab for ch in piece) + 2 for piece in pieces)
    return SAMPLES_PER_PHONEME * frames + int(PAUSE_S * 24_000) * (len(pieces) - 1)


def build_voice_models(root: Path) -> TinyVoiceModels:
    return TinyVoiceModels(
        speech=build_kokoro_checkpoint(root / "kokoro"),
        transcriber=build_transcriber_checkpoint(root / "transcriber"),
        bark=build_speech_checkpoint(root / "bark"),
        english_tagger=build_english_tagger(root / "english_tagger"),
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
