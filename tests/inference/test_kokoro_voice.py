"""The default voice, Kokoro-82M, through the product's loader: a tiny random checkpoint of
its real architecture (kokoro's own KModel code), misaki's real Chinese G2P and its English
G2P on a tiny trained tagger. With max_dur 1 every phoneme lasts one frame, so the length of
what is spoken tells how many phonemes the model was given."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import torch
from tiny_voice_checkpoints import (
    KOKORO_PARTS,
    SAMPLES_PER_PHONEME,
    TINY_KOKORO_VOICES,
    TinyVoiceModels,
    tiny_kokoro_samples,
)

from inference.errors import ModelUnavailable, StageFailed
from inference.serving.loading import load_speech
from inference.types import Speech
from inference.voice import phonemes as phonemes_module
from inference.voice.codecs import decode_audio
from inference.voice.kokoro_tts import MAX_PHONEMES, KokoroSpeech, voice_packs
from inference.voice.tts import PAUSE_S, SpeechRequest, speech_kind

CPU = torch.device("cpu")
RATE = 24_000
MIXED = "我昨天去了 Central Park，天气 really nice，你也应该去看看。"


@pytest.fixture(scope="module")
def kokoro(tiny_voice_models: TinyVoiceModels) -> KokoroSpeech:
    return KokoroSpeech.load(str(tiny_voice_models.speech), CPU)


def expected_samples(speech: KokoroSpeech, pieces: list[str]) -> int:
    """What the tiny model says for these pieces: one frame per phoneme it knows, plus its
    two boundary frames, per piece, and a pause between pieces."""
    frames = [sum(ch in speech.model.vocab for ch in piece) + 2 for piece in pieces]
    pauses = int(PAUSE_S * RATE) * (len(pieces) - 1)
    return SAMPLES_PER_PHONEME * sum(frames) + pauses


def test_the_checkpoint_kind_is_read_from_its_folder(tiny_voice_models: TinyVoiceModels) -> None:
    assert speech_kind(str(tiny_voice_models.speech)) == "kokoro"
    assert speech_kind(str(tiny_voice_models.bark)) == "bark"
    loaded = load_speech(str(tiny_voice_models.speech), CPU, torch.float32, _config())
    assert isinstance(loaded, KokoroSpeech) and loaded.max_seconds == 7


def test_every_saved_tensor_is_in_the_model(
    kokoro: KokoroSpeech, tiny_voice_models: TinyVoiceModels
) -> None:
    saved = torch.load(tiny_voice_models.speech / "kokoro-v1_0.pth", weights_only=True)
    count = 0
    for part in KOKORO_PARTS:
        own = getattr(kokoro.model, part).state_dict()
        assert set(own) == {key.removeprefix("module.") for key in saved[part]}
        for key, tensor in saved[part].items():
            assert torch.equal(own[key.removeprefix("module.")], tensor), key
            count += 1
    assert count > 400  # the five parts' tensors, all of them
    assert kokoro.voices == sorted(TINY_KOKORO_VOICES)


def test_a_checkpoint_of_another_layout_is_refused_not_spoken(
    tiny_voice_models: TinyVoiceModels, tmp_path: Path
) -> None:
    folder = shutil.copytree(tiny_voice_models.speech, tmp_path / "renamed")
    weights = torch.load(folder / "kokoro-v1_0.pth", weights_only=True)
    weights["decoder"] = {f"module.old.{k[7:]}": v for k, v in weights["decoder"].items()}
    torch.save(weights, folder / "kokoro-v1_0.pth")
    with pytest.raises(ModelUnavailable, match="does not fit"):
        KokoroSpeech.load(str(folder), CPU)


@pytest.mark.parametrize(
    ("line", "voice"),
    [
        ("Hello! It is so nice to meet you.", "af_heart"),
        ("你好，很高兴认识你。", "zf_xiaoxiao"),
        (MIXED, "zm_yunxi"),
        ("Lovely weather, isn't it? I read 42 books in 2024.", "bf_emma"),
    ],
)
def test_lines_are_spoken_from_their_phonemes(kokoro: KokoroSpeech, line: str, voice: str) -> None:
    [spoken] = kokoro.speak_batch([SpeechRequest(line, voice)])
    assert isinstance(spoken, Speech)
    with av.open(io.BytesIO(spoken.ogg_opus)) as container:
        assert container.format.name == "ogg"
        assert container.streams.audio[0].codec_context.name == "opus"
    assert spoken.sample_rate == RATE and spoken.samples.dtype == np.float32
    assert np.abs(spoken.samples).max() <= 1.0
    assert len(spoken.samples) == tiny_kokoro_samples(kokoro, line, voice)
    heard_back = decode_audio(spoken.ogg_opus, RATE, 60)
    assert abs(len(heard_back) - len(spoken.samples)) < 0.1 * RATE


def test_a_mixed_line_reads_each_script_with_its_own_g2p(kokoro: KokoroSpeech) -> None:
    [phonemes] = kokoro.pieces(MIXED)
    assert not any(word in phonemes for word in ("Central", "Park", "really", "nice"))
    assert {"↓", "↗"} <= set(phonemes)  # Mandarin tones from the Chinese G2P
    assert "ˈ" in phonemes  # English stress from the English G2P
    assert phonemes.index("ˈ") > phonemes.index("↗")  # in the order it was written
    british = kokoro.pieces("Park", british=True)[0]
    assert british != kokoro.pieces("Park")[0]  # the voice's accent picks the English G2P
    assert "fˈɔɹTi tˈu" in kokoro.pieces("I read 42 books.")[0]  # numbers said as words


def test_a_long_line_is_cut_at_sentence_ends_and_spoken_whole(kokoro: KokoroSpeech) -> None:
    chinese = "今天天气很好，我们去公园散步，看到很多人在放风筝。" * 6  # 150 characters
    pieces = kokoro.pieces(chinese)
    assert len(pieces) > 1 and all(len(p) <= MAX_PHONEMES for p in pieces)
    assert sum(p.count(".") for p in pieces) == 6  # every sentence, none cut off
    english = "This is one sentence that goes on. " * 20
    assert all(p.endswith(".") for p in kokoro.pieces(english))
    no_end = "一" * 700  # no punctuation at all: cut anyway, never truncated
    assert sum(p.count("→") for p in kokoro.pieces(no_end)) == 700  # yi, first tone, each
    # Spoken: pieces of at most 40 phonemes here, so the tiny model says little each time.
    short = KokoroSpeech(kokoro.model, kokoro.packs, kokoro.phonemizer, max_phonemes=40)
    line = "今天天气很好。我们去公园散步吧！Nice to see you. 你好吗？"
    pieces = short.pieces(line)
    assert len(pieces) == 3 and all(len(p) <= 40 for p in pieces)  # short ones share
    [spoken] = short.speak_batch([SpeechRequest(line, "zf_xiaoxiao")])
    assert isinstance(spoken, Speech)
    assert len(spoken.samples) == expected_samples(kokoro, pieces)  # all of them, one voice


def test_the_voice_stops_at_max_voice_seconds(kokoro: KokoroSpeech) -> None:
    short = KokoroSpeech(kokoro.model, kokoro.packs, kokoro.phonemizer, max_seconds=1.5)
    calls: list[str] = []
    original = short.model

    def counting(phonemes: str, style: torch.Tensor) -> torch.Tensor:
        calls.append(phonemes)
        return original(phonemes, style)  # type: ignore[no-any-return]

    short.model = counting
    line = "This is one sentence that goes on and on. " * 12
    [spoken] = short.speak_batch([SpeechRequest(line, "am_michael")])
    assert isinstance(spoken, Speech)
    assert len(spoken.samples) == int(1.5 * RATE)
    assert np.abs(spoken.samples[-10:]).max() < 0.01  # faded out, not cut mid-sound
    assert len(calls) < len(short.pieces(line))  # no work for what is never heard


def test_one_bad_line_or_voice_loses_only_its_own_voice(
    kokoro: KokoroSpeech, tiny_voice_models: TinyVoiceModels, tmp_path: Path, caplog: Any
) -> None:
    folder = shutil.copytree(tiny_voice_models.speech / "voices", tmp_path / "voices")
    (folder / "zf_broken.pt").write_bytes(b"not a voice pack")
    torch.save(torch.zeros(510, 1, 64), folder / "af_narrow.pt")
    with caplog.at_level(logging.WARNING, logger="inference.voice.kokoro_tts"):
        packs, broken = voice_packs(folder, 256, CPU)
    assert broken == {"zf_broken", "af_narrow"} and set(packs) == set(TINY_KOKORO_VOICES)
    assert len(caplog.records) == 2  # each bad pack named once
    speech = KokoroSpeech(kokoro.model, packs, kokoro.phonemizer, broken=broken)
    original = speech.model

    def failing_on_one_line(phonemes: str, style: torch.Tensor) -> torch.Tensor:
        if "tʰjɛ→n" in phonemes:  # 天: this line's model call fails (say, out of memory)
            raise RuntimeError("CUDA out of memory")
        return original(phonemes, style)  # type: ignore[no-any-return]

    speech.model = failing_on_one_line
    results = speech.speak_batch(
        [
            SpeechRequest("Hello there.", "af_heart"),
            SpeechRequest("🙂🙂 こんにちは", "af_heart"),  # nothing Kokoro can say
            SpeechRequest("你好。", "zf_broken"),  # its pack did not load
            SpeechRequest("今天很好。", "zf_xiaoxiao"),  # the model fails on this one
            SpeechRequest("你好。", "zf_xiaoxiao"),
        ]
    )
    assert [type(r).__name__ for r in results] == [
        "Speech", "StageFailed", "StageFailed", "StageFailed", "Speech"
    ]  # fmt: skip
    assert all(isinstance(r, StageFailed) for r in results[1:4])


def test_a_voice_kept_from_bark_speaks_with_a_fitting_kokoro_voice(kokoro: KokoroSpeech) -> None:
    spoken = []
    for voice in ("v2/zh_speaker_4", "zf_xiaoxiao", "zm_yunxi"):
        torch.manual_seed(0)  # the decoder's excitation noise, the same for each
        [speech] = kokoro.speak_batch([SpeechRequest("你好。", voice)])
        assert isinstance(speech, Speech)
        spoken.append(speech.samples)
    kept, female, male = spoken
    assert np.array_equal(kept, female)  # Bark's female Chinese voice → the female zh voice
    assert not np.array_equal(kept, male)


def test_without_the_english_tagger_loading_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(phonemes_module, "ENGLISH_TAGGER", "en_core_web_missing")
    with pytest.raises(ModelUnavailable) as failure:
        phonemes_module.load_phonemizer(None)
    message = str(failure.value)
    assert "\n" not in message and "en_core_web_missing" in message
    assert "pip install https://github.com/explosion/spacy-models/releases/download/" in message


def _config() -> Any:
    from inference.config import InferenceConfig

    return InferenceConfig(caption_model="", dialogue_model="", max_voice_seconds=7)
