"""The person in the photo, seen talking: the talking picture and the talking video of a line,
from the face found once per photo, painted mouth states and (with LIPSYNC_MODEL) lip-synced
frames. Model work goes to the media lane and the rest to the CPU pool, both handed in by
the Actor (this module knows neither: it runs what it is given)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

import numpy as np
from PIL import Image

from inference.face.animation import Animator, Film, Mouths, talking_picture
from inference.face.finder import Face, find_face
from inference.face.lipsync import LipSync, LipSyncJob
from inference.face.painter import MouthStates, TalkingPainter
from inference.face.synced_video import (
    lip_sync_job,
    loudest_frame,
    render_synced_video,
    synced_picture,
)
from inference.face.video import FPS, MAX_SECONDS, TalkingVideo
from inference.types import Persona, Speech, TalkingPicture

# Faces found (or not) in this many photos stay in memory, keyed by their pixels.
FACE_CACHE_SIZE = 256

Submit = Callable[[str, object, Hashable], Awaitable[Any]]  # a model job on its lane
OnCpu = Callable[..., Awaitable[Any]]  # `function(*args)` in the CPU pool
TimedOnCpu = Callable[[str, Callable[[], Any]], Awaitable[Any]]  # the same, timed as a kind
Resample = Callable[[np.ndarray, int, int], np.ndarray]  # mono samples, from rate, to rate


class TalkingFace:
    """Talking pictures and videos; owns the caches of found faces and painted mouths."""

    def __init__(
        self,
        painter: TalkingPainter | None,
        lipsync: LipSync | None,
        *,
        submit: Submit,
        on_cpu: OnCpu,
        timed_on_cpu: TimedOnCpu,
        resample: Resample,
        seed: int,
    ) -> None:
        self.animator = Animator(painter, seed=seed)
        self._painter = painter
        self._lipsync = lipsync
        self._submit = submit
        self._on_cpu = on_cpu
        self._timed_on_cpu = timed_on_cpu
        self._resample = resample
        self._seed = seed
        self._faces: OrderedDict[str, Face | None] = OrderedDict()

    def can_animate(self, *, voice: bool) -> bool:
        """Whether a video can be made: lip sync (LIPSYNC_MODEL) follows a voice, painted mouth
        shapes (IMAGE_MODEL) follow a voice or the text."""
        return (self._lipsync is not None and voice) or self._painter is not None

    def lip_sync_batch(self, jobs: list[LipSyncJob]) -> list[np.ndarray]:
        """The media lane's "lipsync" stage."""
        assert self._lipsync is not None  # jobs come only with a lip-sync model
        return self._lipsync.generate(jobs)

    async def picture(
        self,
        image: Image.Image,
        persona: Persona,
        line: str,
        speech: Speech | None,
        chat_key: Hashable,
    ) -> TalkingPicture:
        """The person drawn with the mouth open, the line in a bubble that points at the mouth:
        with lip sync and a voice, the frame of the voice's loudest moment; else painted.

        No face found (or no model to move it): the photo itself, the bubble off the face.
        """
        face = await self.face_of(image)
        if face is not None and self._lipsync is not None and speech is not None:
            loudest = loudest_frame(speech.samples, speech.sample_rate, FPS)
            mouth = await self._lip_sync(image, face, speech, (loudest,), chat_key)
            drawn = await self._on_cpu(synced_picture, image, face, mouth[0])
            picture: TalkingPicture = await self._on_cpu(talking_picture, drawn, face, None, line)
            return picture
        states = None
        if face is not None and self._painter is not None:
            states = await self.mouth_states(image, face, persona.description, chat_key)
            if states.flagged:
                return TalkingPicture(jpeg=b"", flagged=True)
        painted: TalkingPicture = await self._on_cpu(talking_picture, image, face, states, line)
        return painted

    async def video(
        self,
        image: Image.Image,
        persona: Persona,
        line: str,
        speech: Speech | None,
        square: bool,
        chat_key: Hashable,
    ) -> TalkingVideo | None:
        """The person saying `line` (with `speech` as sound, when given): a square video for a
        round video note, else the whole photo. Lip-synced with LIPSYNC_MODEL and a voice,
        else painted mouth shapes. None without a face or a model that can move it."""
        if not self.can_animate(voice=speech is not None):
            return None
        face = await self.face_of(image)
        if face is None:
            return None
        states = None
        if self._painter is not None:  # painted states: the fallback, and the blink
            states = await self.mouth_states(image, face, persona.description, chat_key)
            if states.flagged:
                return None
        # Blending or compositing, and encoding, need no model: the CPU pool, so the media
        # lane goes on meanwhile.
        if self._lipsync is not None and speech is not None:
            mouths = await self._lip_sync(image, face, speech, None, chat_key)
            blink = states.frame(image, "closed", blink=True) if states and states.blink else None
            synced: TalkingVideo = await self._timed_on_cpu(
                "video",
                lambda: render_synced_video(
                    image,
                    face,
                    mouths,
                    speech,
                    line,
                    square=square,
                    seed=self._seed,
                    blink_photo=blink,
                ),
            )
            return synced
        assert states is not None  # can_animate: without lip sync there is a painter
        film = Film(image, states, line, speech, square)
        painted: TalkingVideo = await self._timed_on_cpu(
            "video", lambda: self.animator.render_video(film)
        )
        return painted

    async def face_of(self, image: Image.Image) -> Face | None:
        """The face that talks in `image` (the largest confident one), or None; found once
        per photo (kept for the FACE_CACHE_SIZE latest), off the event loop."""
        key = await self._on_cpu(_pixels_key, image)
        if key in self._faces:
            self._faces.move_to_end(key)
            return self._faces[key]
        face: Face | None = await self._on_cpu(find_face, image)
        self._faces[key] = face
        while len(self._faces) > FACE_CACHE_SIZE:
            self._faces.popitem(last=False)
        return face

    def forget(self, descriptions: list[str]) -> int:
        """Forget what was found and painted of these characters' faces (/forget): nothing of
        their photos stays in memory (found faces are cheap to find again: all go). Returns
        how many cached faces went."""
        found = len(self._faces)
        self._faces.clear()
        return found + self.animator.forget(set(descriptions))

    async def mouth_states(
        self, image: Image.Image, face: Face, description: str, chat_key: Hashable
    ) -> MouthStates:
        """The face's painted mouth states (the media lane's "mouths" stage, cached)."""
        states: MouthStates = await self._submit(
            "mouths", Mouths(image, face, description), chat_key
        )
        return states

    async def lip_sync(
        self, image: Image.Image, face: Face, speech: Speech, chat_key: Hashable
    ) -> np.ndarray:
        """Every frame's repainted lower face (the warm-up runs it once)."""
        return await self._lip_sync(image, face, speech, None, chat_key)

    async def _lip_sync(
        self,
        image: Image.Image,
        face: Face,
        speech: Speech,
        frames: tuple[int, ...] | None,
        chat_key: Hashable,
    ) -> np.ndarray:
        """The repainted lower faces of the video's frames (or of `frames` only): the crop and
        the voice's features in the CPU pool, the models on the media lane."""
        job = await self._on_cpu(self._prepare, image, face, speech, frames)
        mouths: np.ndarray = await self._submit("lipsync", job, chat_key)
        return mouths

    def _prepare(
        self, image: Image.Image, face: Face, speech: Speech, frames: tuple[int, ...] | None
    ) -> LipSyncJob:
        """CPU work before the lip-sync stage: the voice at Whisper's rate (cut at the video's
        cap), the face crop and the log-mel features."""
        assert self._lipsync is not None
        cap = int(MAX_SECONDS * speech.sample_rate)
        samples = np.asarray(speech.samples, dtype=np.float32)[:cap]
        voice = self._resample(samples, speech.sample_rate, self._lipsync.sample_rate)
        return lip_sync_job(self._lipsync, image, face, voice, frames)


def _pixels_key(image: Image.Image) -> str:
    return f"{hashlib.sha1(image.tobytes()).hexdigest()}-{image.mode}-{image.size}"
