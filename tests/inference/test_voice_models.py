"""Speech (tiny Bark, still selectable) and recognition (tiny Whisper) through the product's
loaders, choosing voices, and the audio plumbing around them (PyAV in-process: OGG/Opus, M4A,
MP4, WAV). Kokoro, the default voice, has its own tests (test_kokoro_voice.py)."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
import torch
from tiny_voice_checkpoints import TINY_PRESETS, TinyVoiceModels, voice_note

from inference.errors import AudioTooLong, BadAudio, StageFailed
from inference.text.card import apparent_gender
from inference.types import Language, Speech
from inference.voice.asr import SAMPLE_RATE, Transcriber
from inference.voice.bark_tts import BarkSpeech, pieces_of
from inference.voice.codecs import decode_audio, encode_ogg_opus, encode_wav, is_silent, resample
from inference.voice.tts import SpeechRequest
from inference.voice.voices import (
    FEMALE_PRESETS,
    KOKORO_VOICES,
    WELL_RATED,
    choose_voice,
    fitting_voice,
    voice_gender,
    voice_language,
)

CPU = torch.device("cpu")


def probe(data: bytes) -> tuple[str, str, int]:
    """(container, codec, sample rate) of encoded audio."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        return container.format.name, stream.codec_context.name, stream.codec_context.sample_rate


@pytest.fixture(scope="module")
def speech(tiny_voice_models: TinyVoiceModels) -> BarkSpeech:
    return BarkSpeech.load(str(tiny_voice_models.bark), CPU, torch.float32)


@pytest.fixture(scope="module")
def transcriber(tiny_voice_models: TinyVoiceModels) -> Transcriber:
    return Transcriber.load(str(tiny_voice_models.transcriber), CPU, torch.float32)


def test_speech_is_ogg_opus_with_the_waveform_the_video_follows(speech: BarkSpeech) -> None:
    assert speech.voices == sorted(TINY_PRESETS) == sorted(speech.presets)  # read at start
    requests = [
        SpeechRequest("Hello! Nice to meet you.", "v2/en_speaker_9"),
        SpeechRequest("你好，很高兴认识你。", "v2/zh_speaker_4"),
        SpeechRequest("Hello 你好, mixed.", "v2/en_speaker_9"),
        SpeechRequest("A Kokoro voice kept from before speaks with a fitting preset.", "zf_xiaoyi"),
    ]
    spoken = speech.speak_batch(requests)
    assert len(spoken) == len(requests)
    for said in spoken:
        assert isinstance(said, Speech)
        assert probe(said.ogg_opus)[:2] == ("ogg", "opus")
        assert said.sample_rate == 24_000 and said.samples.dtype == np.float32
        assert said.samples.ndim == 1 and said.duration_s > 0
        assert np.abs(said.samples).max() <= 1.0
        heard_back = decode_audio(said.ogg_opus, said.sample_rate, 60)
        assert abs(len(heard_back) - len(said.samples)) < 0.1 * said.sample_rate


def test_a_broken_preset_loses_only_its_own_lines(speech: BarkSpeech) -> None:
    broken = BarkSpeech(speech.processor, speech.model, CPU)
    broken.presets.pop("v2/zh_speaker_4")
    broken.broken = frozenset({"v2/zh_speaker_4"})
    results = broken.speak_batch(
        [SpeechRequest("你好。", "v2/zh_speaker_4"), SpeechRequest("Hello.", "v2/en_speaker_6")]
    )
    assert isinstance(results[0], StageFailed) and isinstance(results[1], Speech)


def test_a_long_line_is_spoken_in_sentence_pieces_and_joined(speech: BarkSpeech) -> None:
    line = "This is one sentence. " * 12
    pieces = pieces_of(line)
    assert len(pieces) > 1 and all(len(p) <= 120 for p in pieces)
    assert " ".join(pieces).split() == line.split()
    short, long = speech.speak_batch(
        [SpeechRequest("One sentence.", "v2/en_speaker_6"), SpeechRequest(line, "v2/en_speaker_6")]
    )
    assert isinstance(short, Speech) and isinstance(long, Speech)
    assert long.duration_s > short.duration_s * (len(pieces) - 0.5)


def test_pieces_cut_chinese_at_its_own_punctuation() -> None:
    line = "今天天气很好。" * 30
    pieces = pieces_of(line, limit=40)
    assert all(p.endswith("。") and len(p) <= 40 for p in pieces)
    assert "".join(pieces).replace(" ", "") == line


def voice_for(description: str, language: Language, presets: list[str]) -> str:
    """The voice the actor gives a new character."""
    return choose_voice(description, language, presets, apparent_gender(description))


def test_a_voice_fits_the_description_and_stays_the_same() -> None:
    assert apparent_gender("a smiling old woman in a red coat") == "female"
    assert apparent_gender("一位戴眼镜的男士坐在办公室里") == "male"
    assert apparent_gender("a person in a photo") is None
    woman = choose_voice(
        "a young woman laughing", "en", TINY_PRESETS, apparent_gender("a young woman laughing")
    )
    assert woman == "v2/en_speaker_9" and woman in FEMALE_PRESETS
    assert voice_for("一位老爷爷", "zh", TINY_PRESETS) == "v2/zh_speaker_1"
    again = [voice_for("someone at a desk", "zh", TINY_PRESETS) for _ in range(3)]
    assert len(set(again)) == 1 and again[0].startswith("v2/zh")
    assert voice_for("a man", "en", []) == ""


def test_kokoro_voices_fit_language_and_gender_and_prefer_well_rated_ones() -> None:
    assert (voice_language("zf_xiaoxiao"), voice_gender("zf_xiaoxiao")) == ("zh", "female")
    assert (voice_language("bm_george"), voice_gender("bm_george")) == ("en", "male")
    assert (voice_language("v2/zh_speaker_4"), voice_gender("v2/zh_speaker_4")) == ("zh", "female")
    women = {voice_for(f"a young woman, photo {n}", "en", list(KOKORO_VOICES)) for n in range(40)}
    men = {voice_for(f"an old man, photo {n}", "zh", list(KOKORO_VOICES)) for n in range(40)}
    assert women <= WELL_RATED and all(v[1] == "f" and v[0] in "ab" for v in women)
    assert len(women) >= 5  # different characters sound different
    assert men == {"zm_yunjian", "zm_yunxi", "zm_yunxia", "zm_yunyang"}
    # A voice kept from Bark, after the switch: same language and gender, the same each time.
    kept = {fitting_voice("v2/zh_speaker_4", list(KOKORO_VOICES)) for _ in range(3)}
    assert len(kept) == 1 and next(iter(kept)).startswith("zf_")
    assert fitting_voice("zm_yunxi", list(TINY_PRESETS)) == "v2/zh_speaker_1"


@pytest.mark.parametrize("fmt", ["ogg", "mp4"])
def test_user_audio_decodes_to_16_khz_mono(fmt: str) -> None:
    samples = decode_audio(voice_note(2.0, fmt=fmt), SAMPLE_RATE, 60)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) / SAMPLE_RATE - 2.0) < 0.1
    assert not is_silent(samples, SAMPLE_RATE)
    assert is_silent(decode_audio(voice_note(2.0, loud=False), SAMPLE_RATE, 60), SAMPLE_RATE)


def test_bad_audio_is_refused_with_a_reason() -> None:
    for data in (b"", b"not audio at all" * 50, voice_note(1.0)[:60]):
        with pytest.raises(BadAudio):
            decode_audio(data, SAMPLE_RATE, 60)
    with pytest.raises(AudioTooLong):
        decode_audio(voice_note(5.0), SAMPLE_RATE, 2)


def test_served_audio_is_cut_where_a_note_would_be_refused() -> None:
    note = voice_note(5.0)
    with pytest.raises(AudioTooLong):
        decode_audio(note, SAMPLE_RATE, 2)
    assert len(decode_audio(note, SAMPLE_RATE, 2, cut=True)) == 2 * SAMPLE_RATE
    wav = encode_wav(decode_audio(note, SAMPLE_RATE, 60), SAMPLE_RATE)
    assert probe(wav) == ("wav", "pcm_s16le", SAMPLE_RATE)


def test_encoding_resamples_rates_opus_cannot_take() -> None:
    tone = np.sin(np.arange(22_050) / 8).astype(np.float32) * 0.2
    assert probe(encode_ogg_opus(tone, 22_050)) == ("ogg", "opus", 48_000)
    assert len(resample(tone, 22_050, 16_000)) == pytest.approx(16_000, abs=64)


def test_transcripts_are_batched_windowed_and_tagged_with_a_language(
    transcriber: Transcriber,
) -> None:
    short = decode_audio(voice_note(2.0), SAMPLE_RATE, 120)
    long = np.concatenate([short] * 20)  # 40 s: two 30 s windows of one note
    one, two = transcriber.transcribe_batch([short, long])
    assert one.language in ("zh", "en") and two.language in ("zh", "en")
    assert one.text and any(ch.isalpha() for ch in one.text)
    # The long note is heard window by window; each window alone gives the same words.
    first, second = transcriber.transcribe_batch(
        [long[: 30 * SAMPLE_RATE], long[30 * SAMPLE_RATE :]]
    )
    assert two.text == f"{first.text} {second.text}".strip()
