"""The painted face: mouth states painted once per photo on the media lane and kept,
pictures with the mouth open, and videos that follow the voice (composed in the CPU pool)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from PIL import Image

from inference.face.bubble import draw_speech_bubble
from inference.face.finder import Face
from inference.face.painter import MouthStates, TalkingPainter
from inference.face.video import TalkingVideo, render_video
from inference.images import encode_jpeg
from inference.types import Speech, TalkingPicture

# Mouth states of this many photos stay in memory (a few small patches each), so a
# character's pictures and videos after the first cost no painting.
MOUTH_CACHE_SIZE = 64


@dataclass(frozen=True)
class Mouths:
    """A "mouths" job: paint the mouth states of the face in this photo."""

    image: Image.Image
    face: Face
    description: str


@dataclass(frozen=True)
class Film:
    """A "video" job: the person saying `line`, with `speech` as sound when given."""

    image: Image.Image
    states: MouthStates
    line: str
    speech: Speech | None
    square: bool


class Animator:
    """Paints mouth states (the media lane's "mouths" stage, with a bounded cache of them)
    and renders videos from them (in the CPU pool)."""

    def __init__(self, painter: TalkingPainter | None, *, seed: int) -> None:
        self._painter = painter
        self._seed = seed
        self._cache: OrderedDict[tuple[str, str], MouthStates] = OrderedDict()
        self._cache_lock = threading.Lock()  # painted on the media lane, forgotten on the loop

    def paint_mouths(self, jobs: list[Mouths]) -> list[MouthStates]:
        """Each photo's mouth states, from the cache or one inpainting call."""
        assert self._painter is not None  # the actor asks only when there is an image model
        results = []
        for job in jobs:
            key = (hashlib.sha1(job.image.tobytes()).hexdigest(), job.description)
            with self._cache_lock:
                states = self._cache.get(key)
            if states is None or states.face != job.face:
                states = self._painter.paint_states(
                    job.image, job.face, job.description, self._seed
                )
            with self._cache_lock:
                self._cache[key] = states
                self._cache.move_to_end(key)
                while len(self._cache) > MOUTH_CACHE_SIZE:
                    self._cache.popitem(last=False)
            results.append(states)
        return results

    def forget(self, descriptions: set[str]) -> int:
        """Drop the mouth states painted for these characters' photos; how many went."""
        with self._cache_lock:
            gone = [key for key in self._cache if key[1] in descriptions]
            for key in gone:
                del self._cache[key]
        return len(gone)

    def render_video(self, film: Film) -> TalkingVideo:
        """The film's frames composed and encoded (CPU only: no model is used)."""
        return render_video(
            film.image, film.states, film.line, film.speech, square=film.square, seed=self._seed
        )


def talking_picture(
    image: Image.Image, face: Face | None, states: MouthStates | None, line: str
) -> TalkingPicture:
    """The photo (mouth open when painted) with the line in a bubble, as JPEG."""
    photo = states.frame(image, "open") if states is not None else image
    return TalkingPicture(jpeg=encode_jpeg(draw_speech_bubble(photo, line, face=face)))
