"""Photo -> a plain description of the pictured person, from any image-text-to-text checkpoint."""

from __future__ import annotations

import inspect
import logging
import threading
from typing import Any

import torch
from PIL import Image
from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor, ProcessorMixin
from transformers.models.auto.processing_auto import (
    PROCESSOR_MAPPING_NAMES,
    processor_class_from_name,
)

from inference.cleaning import clean_generation, looks_garbled
from inference.images import fit_within

log = logging.getLogger(__name__)

FALLBACK_DESCRIPTION = "a person in a photo"
# Chat VLMs are asked about what an actor would need to play the person, not who they are.
PERSONA_QUESTION = (
    "Describe the person in this photo so that an actor could play them: apparent age, gender "
    "presentation, facial expression, hair, clothing, setting, era or photo style, and mood. "
    "Answer in one short paragraph. Do not guess who they are or give a name."
)
# Plain captioners are steered by a text prefix (BLIP) or need a task token (Florence-2).
CAPTION_PREFIXES = {"blip": "a photography of", "florence2": "<MORE_DETAILED_CAPTION>"}
MAX_IMAGE_SIDE = 768  # VLM token counts grow with pixels; faces are clear well below this
# The card needs age, looks, mood and setting: a short paragraph. Every token here is also
# paid again in each reply's prompt, and first on the photo path.
CAPTION_MAX_NEW_TOKENS = 64


class Captioner:
    """Describes photos; `chat_capable` VLMs answer a question, plain captioners just caption."""

    def __init__(self, processor: Any, model: Any, device: torch.device, chat_capable: bool):
        self.processor = processor
        self.model = model
        self.device = device
        self.chat_capable = chat_capable
        # Shared with DialogueModel.from_captioner: one fast tokenizer used from two places
        # at once raises "Already borrowed".
        self.tokenizer_lock = threading.Lock()
        tokenizer = getattr(processor, "tokenizer", None)
        if chat_capable and tokenizer is not None:
            tokenizer.padding_side = "left"  # decoder-only batches must end where generation starts

    @classmethod
    def load(cls, model_id_or_path: str, device: torch.device, dtype: torch.dtype) -> Captioner:
        """Load from a Hugging Face id or a local folder (the same code path)."""
        processor = load_processor(model_id_or_path)
        model: Any = AutoModelForImageTextToText.from_pretrained(model_id_or_path, dtype=dtype)
        model.to(device).eval().requires_grad_(False)
        chat_capable = bool(getattr(processor, "chat_template", None))
        log.info("caption model %s loaded (chat: %s)", model_id_or_path, chat_capable)
        return cls(processor, model, device, chat_capable)

    def describe(
        self, images: list[Image.Image], max_new_tokens: int = CAPTION_MAX_NEW_TOKENS
    ) -> list[str]:
        """One cleaned description per image, in one batched greedy `generate` call."""
        if not images:
            return []
        images = [fit_within(image.convert("RGB"), MAX_IMAGE_SIDE) for image in images]
        with torch.inference_mode():
            # 1. prompt: the chat template's question, or a caption prefix
            prompt = self._prompt()
            # 2. tensors on the model's device, pixels in the model's dtype
            inputs = self._inputs(images, prompt)
            # 3. greedy generation
            output = self.model.generate(
                **inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1
            )
        # 4. only the new text, cleaned; unusable text becomes a neutral description
        if self.chat_capable and not self.model.config.is_encoder_decoder:
            output = output[:, inputs["input_ids"].shape[1] :]
        with self.tokenizer_lock:
            texts = self.processor.batch_decode(output, skip_special_tokens=True)
        return [self._finish(text, prompt) for text in texts]

    def _prompt(self) -> str | None:
        if self.chat_capable:
            messages = [
                {
                    "role": "user",
                    "content": [{"type": "image"}, {"type": "text", "text": PERSONA_QUESTION}],
                }
            ]
            text: str = self.processor.apply_chat_template(messages, add_generation_prompt=True)
            return text
        return CAPTION_PREFIXES.get(self.model.config.model_type)

    def _inputs(self, images: list[Image.Image], prompt: str | None) -> Any:
        with self.tokenizer_lock:
            inputs = self._tokenize(images, prompt)
        return inputs.to(self.device, dtype=self.model.dtype)

    def _tokenize(self, images: list[Image.Image], prompt: str | None) -> Any:
        if self.chat_capable:
            # Multi-image processors want one list of images per prompt.
            inputs = self.processor(
                images=[[image] for image in images],
                text=[prompt] * len(images),
                padding=True,
                return_tensors="pt",
            )
        elif prompt is not None:
            inputs = self.processor(images=images, text=[prompt] * len(images), return_tensors="pt")
        else:
            inputs = self.processor(images=images, return_tensors="pt")
        return inputs

    def _finish(self, text: str, prompt: str | None) -> str:
        text = text.strip()
        if not self.chat_capable and prompt and text.lower().startswith(prompt.lower()):
            text = text[len(prompt) :]
        return usable_description(text)


def load_processor(model_id_or_path: str) -> Any:
    """The checkpoint's processor. Qwen-VL processors bundle a video processor that needs
    torchvision (no CPU wheel of it matches our torch): without it, the same processor is
    loaded without its video half, with the Pillow image processor. Photos need no video."""
    try:
        return AutoProcessor.from_pretrained(model_id_or_path)
    except ImportError as exc:
        images_only = _images_only_class(model_id_or_path)
        if images_only is None:
            raise ImportError(
                f"the processor of caption model {model_id_or_path!r} needs a package that is "
                f"not installed ({exc}). Install the GPU extra: pip install 'photo-talk[gpu]'"
            ) from exc
        log.info("%s: no torchvision, so its processor is loaded without video", model_id_or_path)
        return images_only.from_pretrained(model_id_or_path)


def _images_only_class(model_id_or_path: str) -> type[ProcessorMixin] | None:
    """The checkpoint's processor class minus its `video_processor` part, if it has one."""
    try:
        model_type = AutoConfig.from_pretrained(model_id_or_path).model_type
    except (OSError, ValueError):  # not found (offline, no such folder): nothing to adapt
        return None
    name = PROCESSOR_MAPPING_NAMES.get(model_type)
    full = processor_class_from_name(name) if name else None
    if full is None or "video_processor" not in inspect.signature(full.__init__).parameters:
        return None

    class ImagesOnly(full):  # type: ignore[valid-type,misc]
        # ProcessorMixin finds a processor's parts in its __init__ signature: video is left out.
        def __init__(
            self,
            image_processor: Any = None,
            tokenizer: Any = None,
            chat_template: str | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(
                image_processor, tokenizer, None, chat_template=chat_template, **kwargs
            )

    ImagesOnly.__name__ = ImagesOnly.__qualname__ = f"{full.__name__}ImagesOnly"
    return ImagesOnly


def usable_description(text: str) -> str:
    """A model's description cleaned for the persona prompt, or the neutral one if unusable."""
    text = clean_generation(text, max_chars=500)
    if looks_garbled(text):
        log.info("caption unusable (%r); using the neutral description", text[:80])
        return FALLBACK_DESCRIPTION
    return text
