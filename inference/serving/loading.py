"""All the models the bot needs, loaded once at start-up from an InferenceConfig."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from inference.config import InferenceConfig
from inference.errors import ModelUnavailable
from inference.face.fonts import warn_without_cjk_font
from inference.face.lipsync import UNET_CONFIG, UNET_FOLDER, UNET_WEIGHTS, LipSync
from inference.face.painter import TalkingPainter
from inference.face.safety import SafetyChecker
from inference.serving.device import default_dtype, resolve_device
from inference.serving.hub import model_folder, model_source
from inference.text.captioner import Captioner
from inference.text.dialogue import DialogueModel
from inference.text.fast_decoding import STATIC_CACHE_TOKENS
from inference.voice.asr import Transcriber
from inference.voice.bark_tts import BarkSpeech
from inference.voice.kokoro_tts import KokoroSpeech
from inference.voice.servers import SpeechServer, TranscriptionServer
from inference.voice.tts import SpeechModel, speech_kind

log = logging.getLogger(__name__)


@dataclass
class Models:
    """The loaded stages; `painter` is None when IMAGE_MODEL is empty (bubble on the photo),
    `speech` / `transcriber` when TTS_MODEL / ASR_MODEL is empty or a server does their work
    (`speech_server` at TTS_API_BASE, `transcription_server` at ASR_API_BASE), `captioner` and
    `dialogue` when a serving engine (LLM_API_BASE) does theirs."""

    captioner: Captioner | None
    dialogue: DialogueModel | None
    painter: TalkingPainter | None
    speech: SpeechModel | None = None
    transcriber: Transcriber | None = None
    lipsync: LipSync | None = None  # None when LIPSYNC_MODEL is empty (painted mouth shapes)
    # Where the media lane's models run (MEDIA_DEVICE; the text lane's device by default).
    media_device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    speech_server: SpeechServer | None = None
    transcription_server: TranscriptionServer | None = None


def load_models(config: InferenceConfig) -> Models:
    """Load every stage on the configured device; one checkpoint serves captioning and
    dialogue when CAPTION_MODEL == DIALOGUE_MODEL."""
    device = resolve_device(config.device)
    dtype = default_dtype(device)
    media_device = resolve_device(config.media_device) if config.media_device else device
    media_dtype = default_dtype(media_device)
    log.info("loading models on %s (%s), media on %s", device, dtype, media_device)
    warn_without_cjk_font()  # every line is drawn in a bubble, with or without IMAGE_MODEL
    # Every model's files first (cache or folder: no network), so a missing one fails now.
    served = bool(config.llm_api_base)  # caption and dialogue run on the serving engine
    one_model = config.dialogue_model.strip() == config.caption_model.strip()
    caption_source = None if served else model_source("CAPTION_MODEL", config.caption_model.strip())
    dialogue_source = (
        None if served or one_model else model_source("DIALOGUE_MODEL", config.dialogue_model)
    )
    image_source = model_source("IMAGE_MODEL", config.image_model) if config.image_model else ""
    speech_local = bool(config.tts_model) and not config.tts_api_base
    asr_local = bool(config.asr_model) and not config.asr_api_base
    speech_source = model_source("TTS_MODEL", config.tts_model) if speech_local else ""
    asr_source = model_source("ASR_MODEL", config.asr_model) if asr_local else ""
    lipsync_sources = lipsync_files(config) if config.lipsync_model else None
    # Every stage also runs under torch.inference_mode(); frozen weights (requires_grad_
    # False, set by each loader) keep autograd off in any thread, unlike set_grad_enabled.
    captioner, dialogue = None, None
    if caption_source is not None:
        captioner = Captioner.load(caption_source, device, dtype)
        if dialogue_source is None:
            dialogue = DialogueModel.from_captioner(captioner)
        else:
            dialogue = DialogueModel.load(dialogue_source, device, dtype)
    painter = None
    if image_source:
        painter = TalkingPainter.load(
            image_source,
            media_device,
            media_dtype,
            size=config.image_size,
            steps=config.image_steps,
            strength=config.image_strength,
        )
        if config.safety_model and getattr(painter.pipeline, "safety_checker", None) is None:
            safety_source = model_source("SAFETY_MODEL", config.safety_model)
            painter.safety = SafetyChecker.load(safety_source, media_device, media_dtype)
    speech = (
        load_speech(speech_source, media_device, media_dtype, config) if speech_source else None
    )
    transcriber = Transcriber.load(asr_source, device, dtype) if asr_source else None
    lipsync = None
    if lipsync_sources is not None:
        # Half precision on GPUs, as MuseTalk runs (fp16: its VAE and UNet were made in it).
        half = torch.float16 if media_device.type == "cuda" else torch.float32
        lipsync = LipSync.load(
            *lipsync_sources, media_device, half, batch_size=config.lipsync_batch_size
        )
    models = Models(
        captioner,
        dialogue,
        painter,
        speech,
        transcriber,
        lipsync=lipsync,
        media_device=media_device,
    )
    if config.tts_api_base:
        models.speech_server = SpeechServer(config)
    if config.asr_api_base:
        models.transcription_server = TranscriptionServer(config)
    if config.torch_compile is True and device.type != "cuda":
        log.info("TORCH_COMPILE is for CUDA devices; ignored on %s", device)
    elif config.torch_compile and device.type == "cuda":  # (the UNet: when MEDIA_DEVICE is too)
        # "auto" compiles decoding only (it falls back to eager by itself); the UNet, whose
        # compile has no such fall back, only when asked for with TORCH_COMPILE=true.
        compile_for_speed(
            models, pictures=config.torch_compile is True, cache_tokens=config.static_cache_tokens
        )
    return models


def load_speech(
    source: str, device: torch.device, dtype: torch.dtype, config: InferenceConfig
) -> SpeechModel:
    """The speech model a checkpoint holds: Kokoro (config.json + kokoro-v1_0.pth + voices/)
    or Bark (a transformers checkpoint); both stop at MAX_VOICE_SECONDS."""
    if speech_kind(source) == "kokoro":
        return KokoroSpeech.load(source, device, max_seconds=config.max_voice_seconds)
    return BarkSpeech.load(source, device, dtype, max_seconds=config.max_voice_seconds)


def lipsync_files(config: InferenceConfig) -> tuple[str, str, str]:
    """LIPSYNC_MODEL's folder (holding musetalkV15/), and where the VAE and Whisper come from:
    their own settings, else the sd-vae/ and whisper/ folders beside musetalkV15/."""
    patterns = [f"{UNET_FOLDER}/*", "sd-vae/*", "whisper/*"]
    folder = Path(model_folder("LIPSYNC_MODEL", config.lipsync_model, patterns))
    for name in (UNET_CONFIG, UNET_WEIGHTS):
        if not (folder / UNET_FOLDER / name).is_file():
            raise ModelUnavailable(
                f"LIPSYNC_MODEL={config.lipsync_model!r} has no {UNET_FOLDER}/{name} "
                "(MuseTalk 1.5's layout, e.g. the TMElyralab/MuseTalk repository)"
            )
    sources = []
    for setting, value, inside, example in (
        ("LIPSYNC_VAE", config.lipsync_vae, "sd-vae", "stabilityai/sd-vae-ft-mse"),
        ("LIPSYNC_WHISPER", config.lipsync_whisper, "whisper", "openai/whisper-tiny"),
    ):
        if not value and not (folder / inside).is_dir():
            raise ModelUnavailable(
                f"LIPSYNC_MODEL={config.lipsync_model!r} has no {inside}/ folder: set {setting} "
                f"(e.g. {example}) or add the folder"
            )
        sources.append(model_source(setting, value) if value else str(folder / inside))
    return str(folder), sources[0], sources[1]


def compile_for_speed(
    models: Models, pictures: bool = True, cache_tokens: int = STATIC_CACHE_TOKENS
) -> None:
    """torch.compile the two hot loops: the dialogue model's decoding step and the UNet.

    Compilation is lazy: it happens on the first calls (Actor.warm_up compiles every batch
    size the worker uses), once per new shape, on the worker thread that then serves them.
    """
    # Transformers compiles the decoding step itself when the KV cache has static shapes.
    if models.dialogue is not None:
        models.dialogue.use_fast_decoding(cache_tokens)
    if pictures and models.painter is not None:
        pipeline = models.painter.pipeline
        pipeline.unet = torch.compile(pipeline.unet)
    log.info("torch.compile on: the first calls of each shape will be slow")
