"""Speech and recognition on their own servers (TTS_API_BASE, ASR_API_BASE).

Speech: a small aiohttp server answering like Kokoro-FastAPI (its model names, its voices, a
400 for anything else, FLAC streamed in chunks, real encoded audio), checked against the
request the OpenAI SDK's `audio.speech.create` sends. Recognition: a real `transformers
serve` with the tiny Whisper."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from aiohttp import web
from llm_server import LLMServer, free_port
from tiny_voice_checkpoints import TinyVoiceModels, voice_note

from inference import retrying
from inference.actor import Actor
from inference.config import InferenceConfig
from inference.errors import EngineRefused, EngineUnavailable, Unheard
from inference.serving.loading import load_models
from inference.types import Speech
from inference.voice.asr import SAMPLE_RATE, Transcriber
from inference.voice.codecs import decode_audio, encode_wav
from inference.voice.servers import SpeechServer, TranscriptionServer

RATE = 24_000
SECONDS_PER_CHARACTER = 0.05  # what the fake Kokoro-FastAPI speaks: a tone this long per character
KEY = "tts-secret"


@dataclass
class FakeKokoroFastAPI:
    """POST /v1/audio/speech as Kokoro-FastAPI answers it; `requests` holds what came."""

    voices: tuple[str, ...] = ("af_heart", "am_michael", "zf_xiaoxiao", "zm_yunxi")
    overloaded: int = 0  # answer this many requests with 503 first
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def speech(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "path": request.path, **body})
        if self.overloaded > 0:
            self.overloaded -= 1
            return web.json_response({"detail": "busy"}, status=503)
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return web.json_response({"detail": "unauthorized"}, status=401)
        if body.get("model") not in ("kokoro", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"):
            error = {"error": "invalid_model", "message": f"Unsupported model: {body.get('model')}"}
            return web.json_response({"detail": error}, status=400)
        if body.get("voice") not in self.voices:
            return web.json_response({"detail": {"error": "validation_error"}}, status=400)
        audio = flac(tone(len(body["input"]) * SECONDS_PER_CHARACTER))
        response = web.StreamResponse(headers={"Content-Type": "audio/flac"})
        response.enable_chunked_encoding()  # Kokoro-FastAPI streams by default
        await response.prepare(request)
        for start in range(0, len(audio), 4096):
            await response.write(audio[start : start + 4096])
        await response.write_eof()
        return response


def tone(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.4 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def flac(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="flac") as container:
        stream = container.add_stream("flac", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="flt", layout="mono")
        frame.sample_rate = RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


@pytest.fixture
async def kokoro_fastapi() -> AsyncIterator[tuple[FakeKokoroFastAPI, str]]:
    fake = FakeKokoroFastAPI()
    app = web.Application()
    app.router.add_post("/v1/audio/speech", fake.speech)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield fake, f"http://127.0.0.1:{port}/v1"
    await runner.cleanup()


def tts_config(base: str, **overrides: Any) -> InferenceConfig:
    values: dict[str, Any] = {
        "caption_model": "",
        "dialogue_model": "",
        "llm_api_base": "http://127.0.0.1:9/v1",  # nothing to load in-process for text
        "image_model": "",
        "device": "cpu",
        "tts_model": "hexgrad/Kokoro-82M",  # not cached, hub offline: must not be loaded
        "tts_api_base": base,
        "tts_api_key": KEY,
        "tts_api_model": "kokoro",
        "tts_api_voices": FakeKokoroFastAPI.voices,
    }
    return InferenceConfig(**(values | overrides))


async def test_our_request_is_the_openai_sdks_and_the_answer_a_speech(
    kokoro_fastapi: tuple[FakeKokoroFastAPI, str],
) -> None:
    from openai import AsyncOpenAI

    fake, base = kokoro_fastapi
    sdk = AsyncOpenAI(base_url=base, api_key=KEY)
    answer = await sdk.audio.speech.create(
        model="kokoro", voice="af_heart", input="Hello there!", response_format="flac"
    )
    assert decode_audio(answer.content, RATE, 60).size  # the fake answers the SDK too
    server = SpeechServer(tts_config(base))
    try:
        speech = await server.speak("Hello there!", "af_heart")
    finally:
        await server.aclose()
    theirs, ours = fake.requests
    for request in (theirs, ours):
        request["headers"] = {
            k.lower(): v
            for k, v in request["headers"].items()
            if k.lower() in ("authorization", "accept", "content-type")
        }
    assert ours == theirs  # path, JSON fields, auth, Accept: what the SDK sends
    assert ours["path"] == "/v1/audio/speech"
    assert isinstance(speech, Speech) and speech.sample_rate == RATE
    with av.open(io.BytesIO(speech.ogg_opus)) as container:
        assert container.streams.audio[0].codec_context.name == "opus"
    assert abs(speech.duration_s - 12 * SECONDS_PER_CHARACTER) < 0.05  # "Hello there!"
    assert np.abs(speech.samples).max() > 0.3  # the served tone, not silence


async def test_the_actor_speaks_through_the_server_without_loading_a_model(
    kokoro_fastapi: tuple[FakeKokoroFastAPI, str],
) -> None:
    fake, base = kokoro_fastapi
    config = tts_config(base, max_voice_seconds=1.0)
    actor = Actor(load_models(config), config)  # TTS_MODEL is a hub id nobody downloads
    try:
        assert actor.can_speak
        voice = actor.voice_for("一位年轻的女士在公园里微笑", "zh")
        assert voice == "zf_xiaoxiao"
        speech = await actor.speak("你好" * 40, voice)  # 4 s served, MAX_VOICE_SECONDS 1
        assert speech.duration_s == pytest.approx(1.0, abs=0.01)
        kept = await actor.speak("你好", "v2/zh_speaker_1")  # a Bark preset kept from before
        assert kept.duration_s > 0 and fake.requests[-1]["voice"] == "zm_yunxi"
    finally:
        await actor.aclose()
        actor.close()


async def test_an_overloaded_server_is_tried_again_a_wrong_one_refused(
    kokoro_fastapi: tuple[FakeKokoroFastAPI, str], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setattr("inference.voice.servers.FIRST_RETRY_DELAY_S", 0.01)
    fake, base = kokoro_fastapi
    fake.overloaded = 2
    server = SpeechServer(tts_config(base, llm_retries=3))
    try:
        assert (await server.speak("Hi.", "am_michael")).duration_s > 0
        assert len(fake.requests) == 3
        wrong = SpeechServer(tts_config(base, tts_api_model="hexgrad/Kokoro-82M"))
        with pytest.raises(EngineRefused):
            await wrong.speak("Hi.", "am_michael")
        await wrong.aclose()
        assert len(fake.requests) == 4  # a refusal is not tried again
    finally:
        await server.aclose()
    down = SpeechServer(tts_config(f"http://127.0.0.1:{free_port()}/v1", llm_retries=2))
    with caplog.at_level(logging.ERROR, logger="inference.voice.servers"):
        for _ in range(2):
            with pytest.raises(EngineUnavailable):
                await down.speak("Hi.", "am_michael")
    await down.aclose()
    assert len([r for r in caplog.records if "not answering" in r.getMessage()]) == 1
    assert retrying.FIRST_RETRY_DELAY_S == 0.5  # the shared default is untouched


def asr_config(server: LLMServer, whisper: Path, **overrides: Any) -> InferenceConfig:
    values: dict[str, Any] = {
        "caption_model": "",
        "dialogue_model": "",
        "llm_api_base": "http://127.0.0.1:9/v1",
        "image_model": "",
        "device": "cpu",
        "asr_model": "openai/whisper-large-v3-turbo",  # never loaded: the server hears
        "asr_api_base": server.base_url,
        "asr_api_model": str(whisper),  # transformers serve loads a model by its path
    }
    return InferenceConfig(**(values | overrides))


@pytest.mark.serving
async def test_voice_notes_are_heard_by_a_real_transformers_serve(
    llm_server: LLMServer, tiny_voice_models: TinyVoiceModels
) -> None:
    whisper = tiny_voice_models.transcriber
    samples = decode_audio(voice_note(2.0), SAMPLE_RATE, 60)
    server = TranscriptionServer(asr_config(llm_server, whisper))
    try:
        heard = await server.transcribe(samples)
    finally:
        await server.aclose()
    here = served_way(whisper, samples)
    assert heard.text and heard.text == here  # the same Whisper, on the audio we uploaded
    assert heard.language == "en"  # its words are Latin letters

    config = asr_config(llm_server, whisper)
    actor = Actor(load_models(config), config)
    try:
        assert actor.can_listen
        assert (await actor.transcribe(voice_note(2.0))).text == here
        with pytest.raises(Unheard):  # silence is caught before any upload
            await actor.transcribe(voice_note(2.0, loud=False))
    finally:
        await actor.aclose()
        actor.close()
    assert "audio/transcriptions" in llm_server.log.read_text(errors="replace")


def served_way(whisper: Path, samples: np.ndarray) -> str:
    """What `transformers serve` computes for our upload: the WAV read back with soundfile
    (its decoder), features, `generate` with the checkpoint's own settings, decoded."""
    import soundfile
    import torch

    local = Transcriber.load(str(whisper), torch.device("cpu"), torch.float32)
    audio, rate = soundfile.read(io.BytesIO(encode_wav(samples, SAMPLE_RATE)), dtype="float32")
    assert rate == SAMPLE_RATE
    inputs = local.processor(audio, sampling_rate=rate, return_tensors="pt")
    with torch.inference_mode():
        ids = local.model.generate(**inputs)[0].tolist()
    return str(local.processor.batch_decode([ids], skip_special_tokens=True)[0]).strip()


def test_the_settings_reach_the_servers() -> None:
    from bot.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        tts_api_base=" http://kokoro:8880/v1 ",
        tts_api_key="k1",
        tts_api_model="kokoro",
        tts_api_voices="af_heart, zf_xiaoxiao zm_yunxi",
        asr_api_base="http://whisper:8000/v1",
        asr_api_key="k2",
    )
    config = settings.inference
    assert (config.tts_api_base, config.tts_api_key, config.tts_api_model) == (
        "http://kokoro:8880/v1", "k1", "kokoro"
    )  # fmt: skip
    assert config.tts_api_voices == ("af_heart", "zf_xiaoxiao", "zm_yunxi")
    assert (config.asr_api_base, config.asr_api_key, config.asr_api_model) == (
        "http://whisper:8000/v1", "k2", ""
    )  # fmt: skip
    assert "voice hexgrad/Kokoro-82M served at http://kokoro:8880/v1" in settings.models_in_use()
    assert json.dumps(config.tts_api_voices)  # plain data, as everything crossing the boundary
