"""The photo redrawn mid-sentence: a light img2img pass, blended back so the person stays them."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import torch
from diffusers import AutoPipelineForImage2Image
from PIL import Image, ImageDraw, ImageFilter

from inference.safety import SafetyChecker

log = logging.getLogger(__name__)

# First, not last: CLIP reads only 77 tokens, and long descriptions would push the cue out.
SPEAKING_CUE = "speaking, mouth open, expressive"
# Few-step (turbo/LCM/lightning) checkpoints are trained without classifier-free guidance.
FEW_STEP_MARKERS = ("turbo", "lcm", "lightning", "hyper")
GUIDANCE_SCALE = 4.0  # low: we only nudge the photo, strong guidance would repaint it
MIN_SIDE = 64


@dataclass(frozen=True)
class PaintResult:
    """The talking picture, and whether the pipeline's safety checker flagged it."""

    image: Image.Image
    flagged: bool


class TalkingPainter:
    """Wraps a diffusers img2img pipeline; `paint` is the one entry point."""

    def __init__(
        self,
        pipeline: Any,
        *,
        size: int = 512,
        steps: int = 2,
        strength: float = 0.5,
        guidance_scale: float = 0.0,
    ):
        if not 0.0 < strength <= 1.0:
            raise ValueError(f"image strength must be in (0, 1], not {strength}")
        self.pipeline = pipeline
        self.size = size
        self.strength = strength
        # img2img runs int(steps * strength) denoising steps: make sure that is at least one.
        self.steps = max(1, steps, math.ceil(1.0 / strength))
        while int(self.steps * strength) < 1:  # float rounding, e.g. 0.29999 * 4
            self.steps += 1
        self.guidance_scale = guidance_scale
        # For pipelines without a checker of their own (set by load_models from SAFETY_MODEL).
        self.safety: SafetyChecker | None = None

    @classmethod
    def load(
        cls,
        model_id_or_path: str,
        device: torch.device,
        dtype: torch.dtype,
        *,
        size: int = 512,
        steps: int = 2,
        strength: float = 0.5,
    ) -> TalkingPainter:
        """Load from a Hugging Face id or a local folder; a safety checker, if any, is kept."""
        pipeline = AutoPipelineForImage2Image.from_pretrained(model_id_or_path, dtype=dtype)
        pipeline.to(device)
        pipeline.set_progress_bar_config(disable=True)
        for component in pipeline.components.values():
            if isinstance(component, torch.nn.Module):
                component.eval().requires_grad_(False)
        few_step = steps <= 4 or any(m in model_id_or_path.lower() for m in FEW_STEP_MARKERS)
        guidance = 0.0 if few_step else GUIDANCE_SCALE
        log.info("image model %s loaded (%s, guidance %.1f)", model_id_or_path, dtype, guidance)
        return cls(pipeline, size=size, steps=steps, strength=strength, guidance_scale=guidance)

    def paint(self, image: Image.Image, description: str, seed: int) -> PaintResult:
        """Redraw `image` as the person speaking; the result has the original's size."""
        original = image.convert("RGB")
        # 1. the model's working size: long side = configured size, both sides multiples of 8
        work = original.resize(working_size(original.size, self.size), Image.Resampling.LANCZOS)
        # 2. a seeded, few-step img2img pass (CPU generator: the same seed works on any device)
        with torch.inference_mode():
            output = self.pipeline(
                prompt=f"{SPEAKING_CUE}, {description}",
                image=work,
                strength=self.strength,
                num_inference_steps=self.steps,
                guidance_scale=self.guidance_scale,
                generator=torch.Generator("cpu").manual_seed(seed),
                output_type="pil",
            )
        nsfw = getattr(output, "nsfw_content_detected", None) or []
        if any(nsfw) or (self.safety is not None and self.safety.flagged(output.images[0])):
            # The checker blacked the picture out; the caller decides what to send instead.
            return PaintResult(image=original, flagged=True)
        # 3. back to the original size, and only the mouth area taken from the painting
        painted = output.images[0].convert("RGB").resize(original.size, Image.Resampling.LANCZOS)
        return PaintResult(image=blend_mouth_area(original, painted), flagged=False)


def working_size(size: tuple[int, int], target: int) -> tuple[int, int]:
    """Scale so the long side is `target` (SD works best at its native size), sides // 8."""
    width, height = size
    scale = target / max(width, height)

    def side(value: int) -> int:
        return max(MIN_SIDE, int(value * scale) // 8 * 8)

    return side(width), side(height)


def mouth_mask(size: tuple[int, int]) -> Image.Image:
    """A soft ellipse over the lower-central part of where a portrait's face usually is.

    We have no face detector: in the selfies and portraits people send, the face is near the
    horizontal centre and the mouth a little below the middle. Everything outside this mask
    stays the original photo, so identity, background and framing cannot drift.
    """
    width, height = size
    mask = Image.new("L", size, 0)
    centre_x, centre_y = width * 0.5, height * 0.55
    radius_x, radius_y = width * 0.22, height * 0.2
    ImageDraw.Draw(mask).ellipse(
        (centre_x - radius_x, centre_y - radius_y, centre_x + radius_x, centre_y + radius_y),
        fill=255,
    )
    return mask.filter(ImageFilter.GaussianBlur(radius=max(1.0, min(width, height) * 0.06)))


def blend_mouth_area(original: Image.Image, painted: Image.Image) -> Image.Image:
    """The painting inside the soft mouth mask, the untouched photo everywhere else."""
    return Image.composite(painted, original, mouth_mask(original.size))
