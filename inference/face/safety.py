"""A safety checker for image pipelines that ship without one (sd-turbo, SDXL, inpainting).

diffusers' StableDiffusionSafetyChecker scores a picture's CLIP embedding against fixed
concept embeddings; a score above a concept's threshold flags the picture, which is then not
sent. It loads from its own id or folder (`SAFETY_MODEL`), next to any image model.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch
from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
from PIL import Image
from transformers import CLIPImageProcessor

log = logging.getLogger(__name__)


class SafetyChecker:
    """Flags pictures the checker model finds unsafe; `flagged` is the one entry point."""

    def __init__(self, model: Any, processor: Any, device: torch.device):
        self.model = model
        self.processor = processor
        self.device = device

    @classmethod
    def load(cls, model_id_or_path: str, device: torch.device, dtype: torch.dtype) -> SafetyChecker:
        """Load the checker and its CLIP image processor from a Hugging Face id or a folder."""
        processor = CLIPImageProcessor.from_pretrained(model_id_or_path)
        model: Any = StableDiffusionSafetyChecker.from_pretrained(model_id_or_path, dtype=dtype)
        model.to(device).eval().requires_grad_(False)
        log.info("safety checker %s loaded", model_id_or_path)
        return cls(model, processor, device)

    def flagged(self, image: Image.Image) -> bool:
        """Whether the picture must not be sent."""
        pixels = self.processor(images=[image.convert("RGB")], return_tensors="pt").pixel_values
        clip_input = pixels.to(self.device, dtype=self.model.dtype)
        # The checker also blacks out flagged images; it gets a placeholder, we keep ours.
        placeholder = [np.zeros((1, 1, 3), dtype=np.float32)]
        with torch.inference_mode():
            _, has_nsfw = self.model(clip_input=clip_input, images=placeholder)
        return bool(has_nsfw[0])
