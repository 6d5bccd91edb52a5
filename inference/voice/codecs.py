"""Audio in and out, in-process with PyAV (no ffmpeg binary): user notes in, OGG/Opus out."""

from __future__ import annotations

import io
import logging
from typing import cast

import av
import numpy as np
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream

from inference.errors import AudioTooLong, BadAudio

log = logging.getLogger(__name__)

# Opus runs at 48 kHz inside; 24 kHz input (the speech model's rate) is one of its own rates.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
# Below this loudness (RMS of the loudest second) a note is treated as silence.
SILENCE_RMS = 0.003


def decode_audio(
    data: bytes, sample_rate: int, max_seconds: float, *, cut: bool = False
) -> np.ndarray:
    """Untrusted bytes (OGG/Opus voice note, MP3/M4A audio, MP4 video note, a speech server's
    FLAC) → mono float32 at `sample_rate`; `BadAudio` when unreadable, `AudioTooLong` past
    `max_seconds` (or, with `cut`, only its first `max_seconds`)."""
    limit = int(max_seconds * sample_rate)
    pieces: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.audio:
                raise BadAudio("no audio stream")
            stream = container.streams.audio[0]
            resampler = AudioResampler(format="flt", layout="mono", rate=sample_rate)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    piece = out.to_ndarray().reshape(-1)
                    pieces.append(piece)
                    total += len(piece)
                if total > limit and cut:
                    break
                if total > limit:  # declared durations can lie: count what is decoded
                    raise AudioTooLong(f"longer than {max_seconds:.0f} s")
            else:
                for out in resampler.resample(None):
                    pieces.append(out.to_ndarray().reshape(-1))
    except BadAudio:
        raise
    except (av.FFmpegError, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise BadAudio(f"undecodable audio: {type(exc).__name__}") from exc
    if not pieces:
        raise BadAudio("no audio samples")
    samples = np.concatenate(pieces).astype(np.float32, copy=False)
    if cut:
        samples = samples[:limit]
    return np.clip(samples, -1.0, 1.0)


def is_silent(samples: np.ndarray, sample_rate: int) -> bool:
    """True when not one second of the audio is louder than a whisper of noise."""
    if len(samples) == 0:
        return True
    window = max(1, sample_rate)
    usable = len(samples) // window * window
    seconds = samples[:usable].reshape(-1, window) if usable else samples[None, :]
    loudest = float(np.sqrt(np.mean(np.square(seconds, dtype=np.float64), axis=1)).max())
    return loudest < SILENCE_RMS


def encode_ogg_opus(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono float samples → an OGG container with one Opus stream (what sendVoice wants)."""
    if sample_rate not in OPUS_RATES:
        samples, sample_rate = resample(samples, sample_rate, 48000), 48000
    # Speech: 32 kb/s is transparent enough for a voice message.
    return _encode(samples, sample_rate, "ogg", "libopus", bit_rate=32000)


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """Mono float samples → 16-bit PCM WAV, the upload every recognition server reads."""
    return _encode(samples, sample_rate, "wav", "pcm_s16le")


def _encode(
    samples: np.ndarray, sample_rate: int, container_format: str, codec: str, bit_rate: int = 0
) -> bytes:
    """Mono float samples encoded with `codec` into a `container_format` file, in memory."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container_format) as container:
        stream = cast(AudioStream, container.add_stream(codec, rate=sample_rate, layout="mono"))
        if bit_rate:
            stream.bit_rate = bit_rate
        frame = AudioFrame.from_ndarray(
            np.ascontiguousarray(np.clip(samples, -1.0, 1.0), dtype=np.float32)[None, :],
            format="flt",
            layout="mono",
        )
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Mono float32 samples at another rate (PyAV's swresample)."""
    if from_rate == to_rate or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    frame = AudioFrame.from_ndarray(
        np.ascontiguousarray(samples, dtype=np.float32)[None, :], format="flt", layout="mono"
    )
    frame.sample_rate = from_rate
    resampler = AudioResampler(format="flt", layout="mono", rate=to_rate)
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.float32, copy=False) if out else samples[:0]
