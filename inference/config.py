"""Configuration handed down by bot/settings.py; inference reads no environment itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class InferenceConfig:
    caption_model: str
    dialogue_model: str
    image_model: str = ""  # empty: no diffusion, the bubble goes on the original photo
    # A StableDiffusionSafetyChecker for image pipelines without their own; empty: none.
    safety_model: str = ""
    device: str = "auto"  # auto, cpu, cuda, cuda:N
    media_device: str = ""  # the media lane's models (speech, pictures); empty: `device`
    max_image_pixels: int = 40_000_000
    image_steps: int = 2
    image_strength: float = 0.5
    image_size: int = 512
    max_new_tokens: int = 160
    stage_timeout_s: float = 300.0  # running time of one job (queue time not counted)
    queue_timeout_s: float = 600.0  # time a job may wait for its turn
    queue_size: int = 64
    max_batch_size: int = 8
    torch_compile: bool | Literal["auto"] = "auto"  # auto: the fast decoding path on CUDA
    static_cache_tokens: int = 2048  # the fast path's KV cache a row; prompts are fitted to it
    batch_window_ms: float = 10.0  # requests reaching an idle worker wait this long for others
    seed: int = 0
    # MuseTalk 1.5 (musetalkV15/, sd-vae/, whisper/): lips that follow the voice; empty: the
    # painted mouth shapes. The VAE and Whisper may come from ids of their own.
    lipsync_model: str = ""
    lipsync_vae: str = ""  # empty: LIPSYNC_MODEL's sd-vae/
    lipsync_whisper: str = ""  # empty: LIPSYNC_MODEL's whisper/
    lipsync_batch_size: int = 16  # video frames per UNet call
    tts_model: str = ""  # empty: characters do not speak
    asr_model: str = ""  # empty: voice notes are not transcribed
    max_voice_seconds: float = 120.0  # the longest voice note heard, and voice spoken
    # OpenAI-compatible servers for speech and recognition (empty: the models run in-process).
    tts_api_base: str = ""
    tts_api_key: str = ""
    tts_api_model: str = ""  # the served name; empty: TTS_MODEL
    tts_api_voices: tuple[str, ...] = ()  # the served voices; empty: Kokoro-82M's
    asr_api_base: str = ""
    asr_api_key: str = ""
    asr_api_model: str = ""  # the served name; empty: ASR_MODEL
    # An OpenAI-compatible engine for caption and dialogue (empty: the models run in-process).
    llm_api_base: str = ""
    llm_api_key: str = ""
    llm_caption_model: str = ""  # served model names; empty: CAPTION_MODEL / DIALOGUE_MODEL
    llm_dialogue_model: str = ""
    llm_retries: int = 3  # attempts per request when a server is unreachable or overloaded
    # The served dialogue model's context when the engine does not say (0: learn it).
    llm_context_tokens: int = 0
