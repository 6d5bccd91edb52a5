"""Speech and recognition on their own servers (OpenAI-compatible): a line spoken at
TTS_API_BASE (`POST audio/speech`, as Kokoro-FastAPI and vLLM-Omni serve it), a voice note
heard at ASR_API_BASE (`POST audio/transcriptions`, as vLLM and `transformers serve` serve
Whisper). The servers batch across users themselves, so these calls bypass our worker."""

from __future__ import annotations

import asyncio
import logging

import httpx
import numpy as np

from inference.cleaning import clean_generation
from inference.config import InferenceConfig
from inference.errors import BadAudio, EngineRefused
from inference.language import detect_language
from inference.retrying import FIRST_RETRY_DELAY_S, RETRY_STATUSES, Overloaded, Server
from inference.types import Speech
from inference.voice.asr import MAX_TRANSCRIPT_CHARS, SAMPLE_RATE, Transcript
from inference.voice.codecs import decode_audio, encode_wav
from inference.voice.tts import finished
from inference.voice.voices import KOKORO_VOICES, fitting_voice

log = logging.getLogger(__name__)

SPEECH_RATE = 24_000  # what the served audio is decoded to (Kokoro's own rate, Opus-native)
# FLAC: lossless, streamable, and offered by OpenAI, Kokoro-FastAPI and vLLM-Omni alike.
SPEECH_FORMAT = "flac"


class SpeechServer:
    """Lines spoken by the server at TTS_API_BASE, returned as `Speech` (OGG/Opus for
    Telegram, the waveform for the video) like the in-process models' speech."""

    def __init__(self, config: InferenceConfig) -> None:
        self._server = Server(
            config.tts_api_base,
            key=config.tts_api_key,
            attempts=config.llm_retries,
            timeout_s=config.stage_timeout_s,
            serves="voices",
            log=log,
        )
        self._model = config.tts_api_model or config.tts_model
        self._voices = sorted(config.tts_api_voices or KOKORO_VOICES)
        self._max_seconds = config.max_voice_seconds

    @property
    def voices(self) -> list[str]:
        """The voices the server offers (TTS_API_VOICES, else Kokoro-82M's)."""
        return self._voices

    async def speak(self, line: str, voice: str) -> Speech:
        """The line in `voice`, as OpenAI's `audio.speech.create` asks for it."""
        if voice not in self._voices:
            voice = fitting_voice(voice, self._voices)  # a voice kept from another model
        body = {"model": self._model, "input": line, "voice": voice}
        body["response_format"] = SPEECH_FORMAT
        data = await self._server.call(lambda: self._post(body), first_delay=FIRST_RETRY_DELAY_S)
        try:
            wave = await asyncio.to_thread(
                decode_audio, data, SPEECH_RATE, self._max_seconds, cut=True
            )
        except BadAudio as exc:
            raise EngineRefused(f"the speech server sent no audio we can read: {exc}") from exc
        return await asyncio.to_thread(finished, wave, SPEECH_RATE, self._max_seconds)

    async def aclose(self) -> None:
        await self._server.aclose()

    async def _post(self, body: dict[str, str]) -> bytes:
        headers = {"Accept": "application/octet-stream"}
        response = await self._server.client().post("audio/speech", json=body, headers=headers)
        _raise_for_status(response, "speech")
        return response.content


class TranscriptionServer:
    """Voice notes heard by the server at ASR_API_BASE (a Whisper there)."""

    def __init__(self, config: InferenceConfig) -> None:
        self._server = Server(
            config.asr_api_base,
            key=config.asr_api_key,
            attempts=config.llm_retries,
            timeout_s=config.stage_timeout_s,
            serves="voice notes",
            log=log,
        )
        self._model = config.asr_api_model or config.asr_model

    async def transcribe(self, samples: np.ndarray) -> Transcript:
        """What was said in mono 16 kHz samples (sent as WAV, which every server reads); the
        language is the transcript's own (zh or en), as the server's JSON does not say it."""
        wav = await asyncio.to_thread(encode_wav, samples, SAMPLE_RATE)
        answer = await self._server.call(lambda: self._post(wav), first_delay=FIRST_RETRY_DELAY_S)
        text = clean_generation(str(answer.get("text") or ""), max_chars=MAX_TRANSCRIPT_CHARS)
        return Transcript(text, detect_language(text))

    async def aclose(self) -> None:
        await self._server.aclose()

    async def _post(self, wav: bytes) -> dict[str, object]:
        response = await self._server.client().post(
            "audio/transcriptions",
            files={"file": ("note.wav", wav, "audio/wav")},
            data={"model": self._model},
        )
        _raise_for_status(response, "recognition")
        answer = response.json()
        if not isinstance(answer, dict):
            raise EngineRefused("the recognition server answered without a transcript")
        return answer


def _raise_for_status(response: httpx.Response, what: str) -> None:
    """Overloaded: `Overloaded` (tried again); any other error: `EngineRefused`."""
    if response.status_code in RETRY_STATUSES:
        raise Overloaded(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        log.error(
            "the %s server refused a request: HTTP %d %s",
            what,
            response.status_code,
            response.text[:200],
        )
        raise EngineRefused(f"HTTP {response.status_code}")
