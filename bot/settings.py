"""All configuration, read once from the environment (and `.env`) and passed down as objects."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from inference.config import InferenceConfig

DEFAULT_CAPTION_MODEL = "Qwen/Qwen3-VL-2B-Instruct"
DEFAULT_DIALOGUE_MODEL = "Qwen/Qwen3-4B-Instruct-2507"
DEFAULT_IMAGE_MODEL = "stabilityai/sd-turbo"
DEFAULT_TTS_MODEL = "hexgrad/Kokoro-82M"
DEFAULT_ASR_MODEL = "openai/whisper-large-v3-turbo"
DEFAULT_SAFETY_MODEL = "CompVis/stable-diffusion-safety-checker"

IdSet = Annotated[frozenset[int], NoDecode]
NameList = Annotated[tuple[str, ...], NoDecode]
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token


class Settings(BaseSettings):
    """Every knob an operator can turn; names are the environment variables in upper case."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    database_url: str = "sqlite+aiosqlite:///data/photo_talk.sqlite3"
    # Put into DATABASE_URL as its password, quoted: any character is safe (compose.yaml).
    database_password: SecretStr | None = None

    caption_model: str = DEFAULT_CAPTION_MODEL
    dialogue_model: str = DEFAULT_DIALOGUE_MODEL
    image_model: str = DEFAULT_IMAGE_MODEL
    # MuseTalk 1.5's download layout (musetalkV15/unet.pth + musetalk.json, sd-vae/, whisper/):
    # the lips follow the voice. Empty: painted mouth shapes (with IMAGE_MODEL).
    lipsync_model: str = ""
    lipsync_vae: str = ""  # empty: LIPSYNC_MODEL's sd-vae/ (or e.g. stabilityai/sd-vae-ft-mse)
    lipsync_whisper: str = ""  # empty: LIPSYNC_MODEL's whisper/ (or e.g. openai/whisper-tiny)
    lipsync_batch_size: int = Field(default=16, ge=1, le=256)  # video frames per UNet call
    tts_model: str = DEFAULT_TTS_MODEL  # Kokoro or Bark; empty: characters only write
    asr_model: str = DEFAULT_ASR_MODEL  # empty: voice notes get "please write"
    # The longest voice note heard, and the longest voice a character speaks.
    max_voice_seconds: int = Field(default=120, ge=1, le=3600)
    # Checks pictures of image models that ship without a checker; empty disables.
    safety_model: str = DEFAULT_SAFETY_MODEL
    inference_device: str = "auto"
    media_device: str = ""  # speech, pictures, lip sync: another GPU (cuda:1); empty: the same
    image_steps: int = Field(default=2, ge=1, le=50)
    image_strength: float = Field(default=0.5, gt=0.0, le=1.0)
    image_size: int = Field(default=512, ge=64, le=2048)
    max_new_tokens: int = Field(default=160, ge=16, le=2048)
    max_batch_size: int = Field(default=8, ge=1, le=64)
    # auto: the fast decoding path (static cache + compile) on CUDA, eager on CPU
    torch_compile: Literal["auto"] | bool = "auto"
    # The fast path's KV cache, tokens a row: sized once, so GPU memory is known at start.
    static_cache_tokens: int = Field(default=2048, ge=256, le=32768)
    batch_window_ms: float = Field(default=10.0, ge=0, le=1000)
    warm_up: bool = True  # one small run of each model at start, before the first user
    stage_timeout_s: float = Field(default=300.0, gt=0)  # running time, not queue time
    queue_timeout_s: float = Field(default=600.0, gt=0)
    # An OpenAI-compatible engine (vLLM, SGLang, transformers serve) for caption and dialogue.
    llm_api_base: str = ""  # e.g. http://127.0.0.1:8000/v1; empty: the models run in-process
    llm_api_key: SecretStr | None = None
    llm_caption_model: str = ""  # the served names; empty: CAPTION_MODEL / DIALOGUE_MODEL
    llm_dialogue_model: str = ""
    llm_retries: int = Field(default=3, ge=1, le=10)
    # The served model's context (prompt + answer) when the engine does not report it.
    llm_context_tokens: int = Field(default=0, ge=0)
    # OpenAI-compatible servers for speech (audio/speech: Kokoro-FastAPI, vLLM-Omni) and
    # recognition (audio/transcriptions: vLLM, transformers serve); empty: in-process.
    tts_api_base: str = ""  # e.g. http://kokoro:8880/v1
    tts_api_key: SecretStr | None = None
    tts_api_model: str = ""  # the served name (Kokoro-FastAPI: kokoro); empty: TTS_MODEL
    tts_api_voices: NameList = ()  # the served voices; empty: Kokoro-82M's
    asr_api_base: str = ""  # e.g. http://whisper:8000/v1
    asr_api_key: SecretStr | None = None
    asr_api_model: str = ""  # the served name; empty: ASR_MODEL

    queue_size: int = Field(default=64, ge=1)
    history_turns: int = Field(default=40, ge=2, le=1000)
    max_download_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(default=40_000_000, ge=4096)
    max_photos_per_hour: int = Field(default=20, ge=0)
    max_jobs_per_user: int = Field(default=1, ge=1)
    allowed_user_ids: IdSet = frozenset()
    allowed_chat_ids: IdSet = frozenset()
    admin_user_ids: IdSet = frozenset()
    history_retention_days: int = Field(default=0, ge=0)
    log_message_text: bool = False
    log_level: str = "INFO"

    telegram_webhook_url: str = ""  # set: Telegram posts updates there instead of long polling
    telegram_webhook_secret: SecretStr | None = None  # required with a webhook URL
    telegram_webhook_listen: str = "0.0.0.0:8080"  # the webhook (+ /healthz, /metrics: see below)
    # host:port for /healthz and /metrics; in webhook mode, off the webhook's port when it
    # differs (empty there: they share the webhook's port; empty in polling mode: off).
    metrics_listen: str = ""
    shutdown_grace_s: float = Field(default=10.0, ge=0, le=60)  # running model work may finish
    # Messages taken but not answered before a crash or kill: answered at the next start when
    # this recent, else their senders are asked to send them again.
    recover_window_s: float = Field(default=600.0, ge=0)

    def webhook_problem(self) -> str | None:
        """Why webhook mode cannot start as configured (said before anything else runs)."""
        if not self.telegram_webhook_url:
            return None
        secret = (
            self.telegram_webhook_secret.get_secret_value() if self.telegram_webhook_secret else ""
        )
        if not secret:
            return (
                "TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL: anyone who finds "
                "the URL could otherwise post fake updates (1-256 characters of A-Z a-z 0-9 _ -)."
            )
        if not WEBHOOK_SECRET.fullmatch(secret):
            return "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ - only."
        return None

    def models_in_use(self) -> str:
        """What runs where, for the "ready" line an operator looks for."""
        served = f" served at {self.llm_api_base}" if self.llm_api_base.strip() else ""
        return ", ".join(
            f"{name} {value.strip() or 'off'}"
            for name, value in (
                ("caption", self.caption_model + served),
                ("dialogue", self.dialogue_model + served),
                ("image", self.image_model),
                ("lip sync", self.lipsync_model),
                ("voice", _served(self.tts_model, self.tts_api_base)),
                ("recognition", _served(self.asr_model, self.asr_api_base)),
            )
        )

    def secrets(self) -> list[str]:
        """What no log line may show: the bot token, the webhook secret, the server keys, the
        database password."""
        found = (
            self.telegram_bot_token,
            self.telegram_webhook_secret,
            self.llm_api_key,
            self.tts_api_key,
            self.asr_api_key,
            self.database_password,
        )
        return [secret.get_secret_value() for secret in found if secret is not None]

    @field_validator(
        "telegram_bot_token",
        "telegram_webhook_secret",
        "database_password",
        "tts_api_key",
        "asr_api_key",
        mode="before",
    )
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        """TELEGRAM_BOT_TOKEN= (set but empty) means "not set", not a token of nothing."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("allowed_user_ids", "allowed_chat_ids", "admin_user_ids", mode="before")
    @classmethod
    def _parse_id_list(cls, value: object) -> object:
        """Accept "1,2 3" from the environment as well as real lists."""
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(",", " ").split())
        return value

    @property
    def animates(self) -> bool:
        """Whether characters can move in videos: painted mouths or lip sync."""
        return bool(self.image_model.strip() or self.lipsync_model.strip())

    @field_validator("tts_api_voices", mode="before")
    @classmethod
    def _parse_name_list(cls, value: object) -> object:
        """Accept "af_heart, zf_xiaoxiao zm_yunxi" from the environment as well as lists."""
        if isinstance(value, str):
            return tuple(value.replace(",", " ").split())
        return value

    @cached_property
    def database(self) -> str:
        """DATABASE_URL with DATABASE_PASSWORD in it, if one is set."""
        if self.database_password is None:
            return self.database_url
        url = make_url(self.database_url).set(password=self.database_password.get_secret_value())
        return url.render_as_string(hide_password=False)

    @cached_property
    def inference(self) -> InferenceConfig:
        """The part of the settings the AI core needs."""
        return InferenceConfig(
            caption_model=self.caption_model,
            dialogue_model=self.dialogue_model,
            image_model=self.image_model.strip(),
            safety_model=self.safety_model.strip(),
            device=self.inference_device,
            media_device=self.media_device.strip(),
            max_image_pixels=self.max_image_pixels,
            image_steps=self.image_steps,
            image_strength=self.image_strength,
            image_size=self.image_size,
            max_new_tokens=self.max_new_tokens,
            stage_timeout_s=self.stage_timeout_s,
            queue_timeout_s=self.queue_timeout_s,
            batch_window_ms=self.batch_window_ms,
            queue_size=self.queue_size,
            max_batch_size=self.max_batch_size,
            torch_compile=self.torch_compile,
            static_cache_tokens=self.static_cache_tokens,
            lipsync_model=self.lipsync_model.strip(),
            lipsync_vae=self.lipsync_vae.strip(),
            lipsync_whisper=self.lipsync_whisper.strip(),
            lipsync_batch_size=self.lipsync_batch_size,
            tts_model=self.tts_model.strip(),
            asr_model=self.asr_model.strip(),
            max_voice_seconds=float(self.max_voice_seconds),
            llm_api_base=self.llm_api_base.strip(),
            llm_api_key=self.llm_api_key.get_secret_value() if self.llm_api_key else "",
            llm_caption_model=self.llm_caption_model.strip(),
            llm_dialogue_model=self.llm_dialogue_model.strip(),
            llm_retries=self.llm_retries,
            llm_context_tokens=self.llm_context_tokens,
            tts_api_base=self.tts_api_base.strip(),
            tts_api_key=_secret(self.tts_api_key),
            tts_api_model=self.tts_api_model.strip(),
            tts_api_voices=self.tts_api_voices,
            asr_api_base=self.asr_api_base.strip(),
            asr_api_key=_secret(self.asr_api_key),
            asr_api_model=self.asr_api_model.strip(),
        )


def _served(model: str, base: str) -> str:
    """'hexgrad/Kokoro-82M served at http://…' for the "ready" line; the model alone when local."""
    if not base.strip():
        return model
    return f"{model.strip() or 'a model'} served at {base.strip()}"


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""
