"""The actor who plays the person in the photo: the async facade the bot and the terminal chat
use. Every model call runs on a lane: text (transcription, caption, dialogue) or media
(speech, painting, lip sync); CPU work in the lanes' pool (serving/lanes.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from inference.config import InferenceConfig
from inference.errors import EngineUnavailable, StageFailed, Unheard
from inference.face.finder import Face, face_in
from inference.face.talking import TalkingFace
from inference.face.video import TalkingVideo
from inference.images import decode_image
from inference.language import reply_language
from inference.serving.device import free_device_memory, own_stream
from inference.serving.lanes import Lanes
from inference.serving.loading import Models, load_models
from inference.serving.worker import Stage, run_each
from inference.text.card import (
    Introduction,
    apparent_gender,
    introduction_request,
    parse_persona,
    persona_request,
)
from inference.text.engine import Engine, LocalEngine
from inference.text.fast_decoding import batch_buckets_up_to
from inference.text.lines import IntroductionRequest, Job, LineRequest, write_batch
from inference.text.prompts import first_line_request, reply_request
from inference.text.remote_engine import PromptTooLong, RemoteEngine
from inference.types import (
    ChatRequest,
    DraftCallback,
    Language,
    Persona,
    Retry,
    Speech,
    TalkingPicture,
    Turn,
)
from inference.voice.asr import SAMPLE_RATE, Transcript
from inference.voice.codecs import decode_audio, is_silent, resample
from inference.voice.tts import SpeechRequest
from inference.voice.voices import choose_voice

log = logging.getLogger(__name__)

_WARM_UP_CHAT = "warm-up"


class Actor:
    """Photo → description → persona → first line → talking picture, and replies."""

    def __init__(self, models: Models, config: InferenceConfig) -> None:
        self._models = models
        self._config = config
        self._face = TalkingFace(
            models.painter,
            models.lipsync,
            submit=self._submit,
            on_cpu=self._on_cpu,
            timed_on_cpu=self._timed_on_cpu,
            resample=resample,
            seed=config.seed,
        )
        # A transcript gates a reply, and a reply goes before a new photo's caption.
        text = [
            Stage("warm-up", -1, run_each, 1),
            Stage("transcribe", 0, self._transcribe_batch, config.max_batch_size),
        ]
        engine: Engine
        if models.captioner is not None and models.dialogue is not None:
            text += [
                Stage("text", 1, self._write_batch, config.max_batch_size),
                Stage("caption", 2, models.captioner.describe, config.max_batch_size),
            ]
            engine = LocalEngine(self._submit, models.dialogue)
        else:  # caption and dialogue are served by an engine that batches by itself
            engine = RemoteEngine(config)
        self._engine = engine
        # A voice is heard before its picture is seen; lip-synced frames come after both.
        media = [
            Stage("speech", 0, self._voice_batch, config.max_batch_size),
            Stage("mouths", 1, self._face.animator.paint_mouths, 1),
            Stage("lipsync", 2, self._face.lip_sync_batch, config.max_batch_size),
        ]
        self._lanes = Lanes(
            text,
            media,
            queue_size=config.queue_size,
            on_failure=free_device_memory,
            batch_window_s=config.batch_window_ms / 1000,
            media_on_start=own_stream(models.media_device),
        )

    @classmethod
    def load(cls, config: InferenceConfig) -> Actor:
        """Load every model (slow: call it off the event loop)."""
        return cls(load_models(config), config)

    @property
    def queue_depth(self) -> int:
        """Jobs waiting or running on both lanes."""
        return self._lanes.depth

    @property
    def can_speak(self) -> bool:
        """Whether characters get a voice (TTS_MODEL or TTS_API_BASE is set)."""
        return self._models.speech is not None or self._models.speech_server is not None

    @property
    def can_listen(self) -> bool:
        """Whether voice notes are transcribed (ASR_MODEL or ASR_API_BASE is set)."""
        return self._models.transcriber is not None or self._models.transcription_server is not None

    def can_animate(self, *, voice: bool) -> bool:
        """Whether a video can be made: lip sync (LIPSYNC_MODEL) follows a voice, painted mouth
        shapes (IMAGE_MODEL) follow a voice or the text."""
        return self._face.can_animate(voice=voice)

    @property
    def max_voice_seconds(self) -> float:
        return self._config.max_voice_seconds

    @property
    def working(self) -> bool:
        """Both lanes are alive and taking jobs (the health check's "worker")."""
        return self._lanes.alive

    @property
    def stuck(self) -> bool:
        """A model job has run past STAGE_TIMEOUT_S and still holds its lane (a hung GPU):
        its users were told to try again, and nothing else runs there until it ends."""
        return self._lanes.busy_for > self._config.stage_timeout_s

    def observe_stages(self, callback: Callable[[str, float], None] | None) -> None:
        """Have `callback(kind, seconds)` called (on a lane's thread) after every job."""
        self._lanes.observe(callback)

    def memory_in_use(self) -> int | None:
        """Bytes of CUDA memory torch holds for this process; None without CUDA."""
        import torch

        return int(torch.cuda.memory_allocated()) if torch.cuda.is_available() else None

    def latencies(self, kind: str) -> list[float]:
        """Recent seconds from queueing to result for 'transcribe', 'text', 'caption', 'speech',
        'mouths' or 'video' jobs."""
        return self._lanes.latencies(kind)

    async def decode(self, data: bytes) -> Image.Image:
        """Untrusted bytes → an upright RGB image, or a `BadImage` error (off the loop)."""
        return await self._lanes.on_cpu(decode_image, data, self._config.max_image_pixels)

    async def describe(self, image: Image.Image, *, chat_key: Hashable = 0) -> str:
        """What the caption model sees in the photo."""
        description: str = await self._engine.describe(image, chat_key)
        return description

    async def create_persona(
        self, description: str, language: Language, *, chat_key: Hashable = 0
    ) -> Persona:
        """A character card for the pictured person."""
        text = await self._engine.write(persona_request(description, language), chat_key, None)
        return parse_persona(text, description, language)

    async def introduce(
        self,
        description: str,
        language: Language,
        *,
        chat_key: Hashable = 0,
        on_draft: DraftCallback | None = None,
    ) -> Introduction:
        """The character card and what the person says first, from ONE generation (the
        photo path's shortest way to the first line); `on_draft` sees the first words."""
        request = introduction_request(description, language)
        job = IntroductionRequest(request, description, language)
        introduction: Introduction = await self._engine.write(job, chat_key, on_draft)
        return introduction

    async def first_line(
        self,
        persona: Persona,
        *,
        chat_key: Hashable = 0,
        on_draft: DraftCallback | None = None,
    ) -> str:
        """What the person says first, in the first person; `on_draft` (on the event loop)
        sees the line as it is written."""
        line: str = await self._engine.write(
            LineRequest(first_line_request(persona), persona, "first"), chat_key, on_draft
        )
        return line

    async def reply(
        self,
        persona: Persona,
        history: Sequence[Turn],
        text: str,
        *,
        speaker: str | None = None,
        language: Language | None = None,
        chat_key: Hashable = 0,
        on_draft: DraftCallback | None = None,
    ) -> str:
        """The character's answer to `text`; in `language`, else in the language of `text`.

        `on_draft` is called on the event loop with the answer so far while it is generated
        (only text that passes the output checks); the returned line is the checked one and
        may differ (a garbled draft is retried, a recited prompt becomes a stock line)."""
        persona = replace(persona, language=reply_language(text, persona.language, language))
        for attempt in (1, 2):
            # Fitting the history to the context tokenizes it many times: not on the loop.
            request = await self._lanes.on_cpu(
                reply_request,
                persona,
                list(history),
                text,
                speaker,
                self._engine.count_tokens,
                await self._engine.context_window(),
                self._config.max_new_tokens,
            )
            try:
                line: str = await self._engine.write(
                    LineRequest(request, persona, "reply"), chat_key, on_draft
                )
            except PromptTooLong:
                if attempt == 2:
                    raise
                log.info("a reply did not fit the served model's context; fitting it again")
                continue
            return line
        raise AssertionError("unreachable")  # pragma: no cover

    async def talking_image(
        self,
        image: Image.Image,
        persona: Persona,
        line: str,
        *,
        speech: Speech | None = None,
        chat_key: Hashable = 0,
    ) -> TalkingPicture:
        """The person drawn saying `line` (lip-synced to `speech` when it can be), the line in
        a bubble that points at the mouth; no face: the photo, the bubble off the face."""
        return await self._face.picture(image, persona, line, speech, chat_key)

    async def talking_video(
        self,
        image: Image.Image,
        persona: Persona,
        line: str,
        speech: Speech | None = None,
        *,
        square: bool = True,
        chat_key: Hashable = 0,
    ) -> TalkingVideo | None:
        """The person saying `line` (with `speech` as sound, when given): a square video for a
        round video note, else the whole photo. None without a face or a model to move it."""
        return await self._face.video(image, persona, line, speech, square, chat_key)

    async def face_of(self, image: Image.Image) -> Face | None:
        """The face that talks in `image`, or None (found once per photo)."""
        return await self._face.face_of(image)

    def forget_faces(self, descriptions: list[str]) -> int:
        """Forget what was found and painted of these characters' faces (/forget)."""
        return self._face.forget(descriptions)

    def voice_for(self, description: str, language: Language) -> str:
        """The voice a new character gets (kept with it, so it always sounds the same)."""
        speech = self._models.speech_server or self._models.speech
        voices = speech.voices if speech else []
        return choose_voice(description, language, voices, apparent_gender(description))

    async def speak(self, line: str, voice: str, *, chat_key: Hashable = 0) -> Speech:
        """The line spoken in `voice`: OGG/Opus to send and the waveform (for the video).
        Raises `StageFailed` when this line gets no voice (the others of its batch do)."""
        if self._models.speech_server is not None:  # it batches by itself
            return await self._models.speech_server.speak(line, voice)
        if self._models.speech is None:
            raise StageFailed("no speech model (TTS_MODEL is empty)")
        speech: Speech | StageFailed = await self._submit(
            "speech", SpeechRequest(line, voice), chat_key
        )
        if isinstance(speech, StageFailed):  # this row's own failure, returned by the stage
            raise speech
        return speech

    async def transcribe(self, data: bytes, *, chat_key: Hashable = 0) -> Transcript:
        """What the user said in a voice note, audio file or video note.

        Raises `BadAudio` (unreadable or too long) or `Unheard` (silence, no words)."""
        if not self.can_listen:
            raise StageFailed("no recognition model (ASR_MODEL is empty)")
        limit = self._config.max_voice_seconds
        samples = await self._lanes.on_cpu(decode_audio, data, SAMPLE_RATE, limit)
        if is_silent(samples, SAMPLE_RATE):
            raise Unheard("silence")
        transcript: Transcript
        if self._models.transcription_server is not None:  # it batches by itself
            transcript = await self._models.transcription_server.transcribe(samples)
        else:
            transcript = await self._submit("transcribe", samples, chat_key)
        if not any(ch.isalpha() for ch in transcript.text):
            raise Unheard("no words")
        return transcript

    async def warm_up(self) -> float:
        """One small caption, line and picture through the worker, so the first user pays for
        no compilation or cuDNN autotuning (on the fast path: every batch size the worker
        uses is compiled here); returns the seconds it took."""
        started = time.perf_counter()
        dialogue = self._models.dialogue
        if dialogue is not None and dialogue.fast:
            hello = ChatRequest([{"role": "user", "content": "Hello!"}], max_new_tokens=4)
            for size in batch_buckets_up_to(self._config.max_batch_size):
                compiled = time.perf_counter()
                await self._submit("warm-up", lambda n=size: dialogue.generate([hello] * n), "")
                log.info("batch of %d compiled in %.1f s", size, time.perf_counter() - compiled)
        photo = _warm_up_photo()
        description = ""
        hello = ChatRequest([{"role": "user", "content": "Hello!"}], max_new_tokens=8)
        try:
            description = await self.describe(photo, chat_key=_WARM_UP_CHAT)
            await self._engine.write(hello, _WARM_UP_CHAT, None)
        except EngineUnavailable:
            pass  # logged by the engine; pictures still work, and the engine may come later
        face = face_in((20, 20, 76, 98), photo.size)  # the drawn face: no detector needed
        if self._models.painter is not None:
            await self._face.mouth_states(photo, face, description, _WARM_UP_CHAT)
        if self._models.lipsync is not None:
            silence = Speech(b"", np.zeros(SAMPLE_RATE // 2, np.float32), SAMPLE_RATE)
            await self._face.lip_sync(photo, face, silence, _WARM_UP_CHAT)
        try:  # a voice server down now may come later; texts and pictures need no voice
            if self.can_speak:
                voice = self.voice_for(description, "en")
                await self.speak("Hello!", voice, chat_key=_WARM_UP_CHAT)
            if self._models.transcriber is not None:
                await self._submit("transcribe", np.zeros(SAMPLE_RATE, np.float32), _WARM_UP_CHAT)
        except StageFailed as exc:
            log.warning("voice warm-up failed: %s", exc)
        return time.perf_counter() - started

    def close(self, grace_s: float = 10.0) -> None:
        """Stop both lanes: queued jobs fail with `ShuttingDown` at once, running batches have
        `grace_s` seconds to finish (blocks that long at most: call it off the event loop)."""
        self._lanes.close(grace_s)

    async def aclose(self) -> None:
        """Close the serving engines' connections (on the event loop that opened them)."""
        await self._engine.aclose()
        for server in (self._models.speech_server, self._models.transcription_server):
            if server is not None:
                await server.aclose()

    async def _submit(self, kind: str, payload: object, chat_key: Hashable) -> Any:
        return await self._lanes.submit(
            kind,
            payload,
            chat_key=chat_key,
            limit_s=self._config.stage_timeout_s,
            queue_limit_s=self._config.queue_timeout_s,
        )

    def _write_batch(self, jobs: list[Job]) -> list[str | Introduction | Retry]:
        assert self._models.dialogue is not None  # the "text" stage exists only with it
        return write_batch(self._models.dialogue.generate, jobs)

    async def _on_cpu(self, function: Callable[..., Any], *args: Any) -> Any:
        return await self._lanes.on_cpu(function, *args)

    async def _timed_on_cpu(self, kind: str, function: Callable[[], Any]) -> Any:
        return await self._lanes.timed_on_cpu(kind, function)

    def _voice_batch(self, requests: list[SpeechRequest]) -> list[Speech | StageFailed]:
        """Many users' lines at once; a row that fails is returned as its `StageFailed`."""
        assert self._models.speech is not None
        return self._models.speech.speak_batch(requests)

    def _transcribe_batch(self, waves: list[np.ndarray]) -> list[Transcript]:
        assert self._models.transcriber is not None
        return self._models.transcriber.transcribe_batch(waves)


def _warm_up_photo() -> Image.Image:
    """A 3:4 portrait (the usual phone photo shape), so compiled image shapes are reused."""
    image = Image.new("RGB", (96, 128), (40, 60, 90))
    ImageDraw.Draw(image).ellipse((20, 20, 76, 98), fill=(180, 140, 120))
    return image
