"""Errors the bot turns into friendly messages; each is one thing a user can be told."""


class InferenceError(Exception):
    """Base class for everything inference raises on purpose."""


class BadImage(InferenceError):
    """The bytes are not an image we can read (not an image, truncated, corrupt)."""


class ImageTooLarge(BadImage):
    """The image declares more pixels than we are willing to decode."""


class UnsupportedImage(BadImage):
    """The image is of a kind we do not animate (e.g. animated GIF/WebP)."""


class Busy(InferenceError):
    """The worker queue is full; the caller should ask the user to try again soon."""


class ShuttingDown(InferenceError):
    """The bot is stopping: this job was not run (or not finished in the grace period)."""


class StageFailed(InferenceError):
    """A model stage raised (e.g. CUDA out of memory); the worker has recovered."""


class StageTimeout(StageFailed):
    """A model stage took longer than its time limit."""


class BadAudio(InferenceError):
    """The bytes are not audio we can read (not audio, truncated, corrupt, no sound stream)."""


class AudioTooLong(BadAudio):
    """The audio lasts longer than MAX_VOICE_SECONDS."""


class Unheard(InferenceError):
    """The audio holds nothing we could understand (silence, noise, no words)."""


class ModelUnavailable(InferenceError):
    """A configured model is neither a local folder, nor cached, nor downloadable now."""


class EngineUnavailable(StageFailed):
    """A serving engine (LLM_API_BASE, TTS_API_BASE, ASR_API_BASE) did not answer, even after
    retries."""


class EngineRefused(StageFailed):
    """A serving engine answered with an error that trying again will not fix (e.g. a wrong
    model name)."""
