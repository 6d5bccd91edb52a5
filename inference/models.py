"""All the models the bot needs, loaded once at start-up from an InferenceConfig."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from inference.captioner import Captioner
from inference.config import InferenceConfig
from inference.device import default_dtype, resolve_device
from inference.dialogue import DialogueModel
from inference.painter import TalkingPainter

log = logging.getLogger(__name__)

# TORCH_COMPILE sizes the dialogue's static KV cache for this many tokens: enough for a long
# chat's prompt, and one shape for every call (a longer prompt grows it, and recompiles once).
# The whole context window (up to 8192) would make every decoding step read a mostly empty cache.
COMPILED_CACHE_TOKENS = 2048


@dataclass
class Models:
    """The loaded stages; `painter` is None when IMAGE_MODEL is empty (bubble on the photo)."""

    captioner: Captioner
    dialogue: DialogueModel
    painter: TalkingPainter | None


def load_models(config: InferenceConfig) -> Models:
    """Load every stage on the configured device; one checkpoint serves captioning and
    dialogue when CAPTION_MODEL == DIALOGUE_MODEL."""
    device = resolve_device(config.device)
    dtype = default_dtype(device)
    log.info("loading models on %s (%s)", device, dtype)
    # Every stage also runs under torch.inference_mode(); frozen weights (requires_grad_
    # False, set by each loader) keep autograd off in any thread, unlike set_grad_enabled.
    captioner = Captioner.load(config.caption_model, device, dtype)
    if config.dialogue_model.strip() == config.caption_model.strip():
        dialogue = DialogueModel.from_captioner(captioner)
    else:
        dialogue = DialogueModel.load(config.dialogue_model, device, dtype)
    painter = None
    if config.image_model.strip():
        painter = TalkingPainter.load(
            config.image_model.strip(),
            device,
            dtype,
            size=config.image_size,
            steps=config.image_steps,
            strength=config.image_strength,
        )
    models = Models(captioner=captioner, dialogue=dialogue, painter=painter)
    if config.torch_compile:
        if device.type == "cuda":
            compile_for_speed(models)
        else:
            log.info("TORCH_COMPILE is for CUDA devices; ignored on %s", device)
    return models


def compile_for_speed(models: Models) -> None:
    """torch.compile the two hot loops: the dialogue model's decoding step and the UNet.

    Compilation is lazy: it happens on the first calls (Actor.warm_up), once per new shape
    (batch size, picture size), on the worker thread that then serves them.
    """
    # Transformers compiles the decoding step itself when the KV cache has static shapes.
    dialogue = models.dialogue.model
    dialogue.generation_config.cache_implementation = "static"
    dialogue.generation_config.max_cache_len = min(
        models.dialogue.context_window, COMPILED_CACHE_TOKENS
    )
    if models.painter is not None:
        pipeline = models.painter.pipeline
        pipeline.unet = torch.compile(pipeline.unet)
    log.info("torch.compile on: the first calls of each shape will be slow")
