"""The person's mouth repainted mid-word, with inpainting: only the mouth (and, for a blink,
the eyes) change; every other pixel stays the photo's."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from diffusers import AutoPipelineForInpainting
from PIL import Image, ImageChops

from inference.face.finder import Face, soft_mask
from inference.face.safety import SafetyChecker

log = logging.getLogger(__name__)

Mouth = Literal["closed", "half", "open", "round"]
MOUTHS: tuple[Mouth, ...] = ("closed", "half", "open", "round")
# "closed" is the photo itself. Cues go first: CLIP reads only 77 tokens.
PAINTED_CUES: dict[str, str] = {
    "half": "talking, mouth slightly open",
    "open": "speaking, mouth open, expressive",
    "round": "lips rounded saying oo",
    "blink": "eyes closed, blinking",
}
# Few-step (turbo/LCM/lightning) checkpoints are trained without classifier-free guidance.
FEW_STEP_MARKERS = ("turbo", "lcm", "lightning", "hyper")
GUIDANCE_SCALE = 4.0


@dataclass(frozen=True, eq=False)
class MouthStates:
    """One character's face painted once in each mouth state (and blinking), as small patches
    that are pasted onto the photo per video frame; `flagged` by the safety checker."""

    face: Face
    mouths: dict[str, Image.Image] = field(default_factory=dict)  # state -> face.mouth patch
    blink: Image.Image | None = None  # face.eyes patch
    flagged: bool = False

    def frame(self, photo: Image.Image, mouth: Mouth = "open", blink: bool = False) -> Image.Image:
        """`photo` (the one the states were painted on) with this mouth and eyes."""
        out = photo.convert("RGB")
        if mouth != "closed" and mouth in self.mouths:
            box = self.face.mouth
            out.paste(self.mouths[mouth], box[:2], soft_mask(photo.size, box).crop(box))
        if blink and self.blink is not None:
            box = self.face.eyes
            out.paste(self.blink, box[:2], soft_mask(photo.size, box).crop(box))
        return out


class TalkingPainter:
    """Wraps a diffusers inpainting pipeline; `paint_states` is the one entry point."""

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
        # Diffusers runs int(steps * strength) denoising steps: make sure that is at least one.
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
        """Load IMAGE_MODEL (an SD/SDXL/Turbo checkpoint, or an inpainting one) for inpainting."""
        pipeline = AutoPipelineForInpainting.from_pretrained(model_id_or_path, dtype=dtype)
        pipeline.to(device)
        pipeline.set_progress_bar_config(disable=True)
        for component in pipeline.components.values():
            if isinstance(component, torch.nn.Module):
                component.eval().requires_grad_(False)
        few_step = steps <= 4 or any(m in model_id_or_path.lower() for m in FEW_STEP_MARKERS)
        guidance = 0.0 if few_step else GUIDANCE_SCALE
        log.info("image model %s loaded (%s, guidance %.1f)", model_id_or_path, dtype, guidance)
        return cls(pipeline, size=size, steps=steps, strength=strength, guidance_scale=guidance)

    def paint_states(
        self, image: Image.Image, face: Face, description: str, seed: int
    ) -> MouthStates:
        """Every painted mouth state and the blink in one batched inpainting call."""
        photo = image.convert("RGB")
        # 1. one mask over the mouth and the eyes; each state keeps only its own part of it
        mask = ImageChops.lighter(
            soft_mask(photo.size, face.mouth), soft_mask(photo.size, face.eyes)
        )
        face_w = face.box[2] - face.box[0]
        # 2. one call, one prompt per state: only the face's crop goes through the model
        with torch.inference_mode():
            output = self.pipeline(
                prompt=[f"{cue}, {description}" for cue in PAINTED_CUES.values()],
                image=photo,
                mask_image=mask,
                padding_mask_crop=max(8, face_w // 2),
                height=self.size,
                width=self.size,
                strength=self.strength,
                num_inference_steps=self.steps,
                guidance_scale=self.guidance_scale,
                generator=torch.Generator("cpu").manual_seed(seed),
                output_type="pil",
            )
        nsfw = getattr(output, "nsfw_content_detected", None) or []
        checker = self.safety
        if any(nsfw) or (checker is not None and any(map(checker.flagged, output.images))):
            return MouthStates(face=face, flagged=True)  # the caller sends no picture, no video
        # 3. small patches: the mouth from each mouth state, the eyes from the blink
        painted = dict(zip(PAINTED_CUES, output.images, strict=True))
        blink = painted.pop("blink")
        return MouthStates(
            face=face,
            mouths={name: img.convert("RGB").crop(face.mouth) for name, img in painted.items()},
            blink=blink.convert("RGB").crop(face.eyes),
        )
