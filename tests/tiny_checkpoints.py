"""Tiny, seeded, randomly initialised real-architecture checkpoints, saved like hub folders.

They load through the same `from_pretrained` code paths as real weights, so the loaders are
tested for real; their text output is nonsense, which exercises the fallback paths too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

# Both scripts appear so byte-level BPE learns merges for Latin words and CJK characters.
CORPUS = [
    "Hello! Nice to meet you. I am a person in a photo, and I like to talk.",
    "a photography of a woman smiling, wearing a red coat, in a park, sunny day",
    "a man with glasses sitting in an office, old photo, black and white",
    "Name: Anna. Personality: warm, curious. Speaking style: short and friendly.",
    "你好！很高兴认识你。我是照片里的人，我喜欢聊天。",
    "一位穿着红色外套的女士在公园里微笑，阳光明媚。",
    "名字：小明。性格：热情，好奇。说话风格：简短友好。",
    "What do you want to talk about today? 今天你想聊什么？",
]

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class TinyModels:
    """Folders of the three tiny checkpoints."""

    caption: Path
    dialogue: Path
    image: Path


def build_caption_checkpoint(folder: Path) -> Path:
    """BLIP captioner: tiny ViT + BERT-style decoder, with a local WordPiece vocab."""
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    words = sorted({w.strip(".,!:").lower() for line in CORPUS[:4] for w in line.split()})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", *words]
    folder.mkdir(parents=True, exist_ok=True)
    vocab_file = folder / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(vocab_file))
    tokenizer.bos_token = "[DEC]"
    image_processor = BlipImageProcessor(size={"height": 32, "width": 32})
    processor = BlipProcessor(image_processor=image_processor, tokenizer=tokenizer)

    torch.manual_seed(0)
    config = BlipConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 128,  # the prefix and 96 new tokens (describe default)
            "bos_token_id": vocab.index("[DEC]"),
            "eos_token_id": vocab.index("[SEP]"),
            "sep_token_id": vocab.index("[SEP]"),
            "pad_token_id": 0,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
            "projection_dim": 32,
            "initializer_range": 0.02,  # the default (1e-10) makes every image look the same
        },
        projection_dim=32,
        image_text_hidden_size=32,
    )
    model = BlipForConditionalGeneration(config).eval()
    # At random-init scale the decoder hardly hears the image and captions every photo alike;
    # louder cross-attention makes captions differ by image, so swapped batch rows show.
    with torch.no_grad():
        for name, parameter in model.text_decoder.named_parameters():
            if "crossattention.self.value" in name or "crossattention.output.dense" in name:
                parameter.mul_(5.0)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_dialogue_tokenizer() -> object:
    """Byte-level BPE over English and Chinese with ChatML special tokens."""
    return _byte_level_tokenizer(
        ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        bos_token=None,
        eos_token="<|im_end|>",
        chat_template=CHATML_TEMPLATE,
    )


def _byte_level_tokenizer(
    specials: list[str], bos_token: str | None, eos_token: str, chat_template: str | None
) -> Any:
    """Byte-level BPE over CORPUS; `specials[0]` pads, the rest are special tokens too."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(CORPUS * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=bos_token,
        eos_token=eos_token,
        pad_token=specials[0],
        unk_token=None,
        additional_special_tokens=specials[1:],
        chat_template=chat_template,
    )


# The context of the tiny chat models (rotary positions: the number changes no weights).
CONTEXT_TOKENS = 2048


def build_dialogue_checkpoint(folder: Path) -> Path:
    """Qwen2-architecture causal LM (2 layers, hidden 32) with a ChatML tokenizer."""
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer = build_dialogue_tokenizer()
    vocab_size = len(tokenizer)  # type: ignore[arg-type]
    eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")  # type: ignore[attr-defined]
    pad_id = tokenizer.convert_tokens_to_ids("<|endoftext|>")  # type: ignore[attr-defined]
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        # Its byte-level tokenizer spends a token per byte: a character's system prompt alone
        # is ~650 tokens, so the context is as long as a real model's few thousand words.
        max_position_embeddings=CONTEXT_TOKENS,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        tie_word_embeddings=False,  # tied tiny embeddings collapse to one repeated token
    )
    model = Qwen2ForCausalLM(config).eval()
    model.generation_config = GenerationConfig(eos_token_id=eos_id, pad_token_id=pad_id)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)  # type: ignore[attr-defined]
    return folder


# SmolVLM-Instruct's template: list-of-parts content only, "<image>" where the picture goes.
SMOLVLM_TEMPLATE = (
    "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}"
    "{% if message['content'][0]['type'] == 'image' %}{{ ':' }}{% else %}{{ ': ' }}{% endif %}"
    "{% for line in message['content'] %}"
    "{% if line['type'] == 'text' %}{{ line['text'] }}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}"
    "{% endfor %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def build_chat_vlm_checkpoint(folder: Path) -> Path:
    """Idefics3 (SmolVLM) chat VLM: 16 px images, 4 image tokens, a 2-layer Llama text model.

    Qwen2-VL/Qwen3-VL processors need torchvision (their video processor), which this CPU
    environment cannot install; Idefics3 loads with Pillow alone.
    """
    from transformers import (
        GenerationConfig,
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3Processor,
    )
    from transformers.models.idefics3.image_processing_pil_idefics3 import (
        Idefics3ImageProcessorPil,
    )

    specials = [
        "<|endoftext|>",
        "<|im_start|>",
        "<end_of_utterance>",
        "<fake_token_around_image>",
        "<image>",
        "<global-img>",
    ]
    # Like many VLMs, the template lives on the processor only, not on the tokenizer.
    tokenizer = _byte_level_tokenizer(
        specials, bos_token="<|im_start|>", eos_token="<end_of_utterance>", chat_template=None
    )
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in specials}
    # One 16x16 tile per image (no splitting): (16 / 4) ** 2 patches / scale_factor ** 2 = 4.
    image_processor = Idefics3ImageProcessorPil(
        do_image_splitting=False, size={"longest_edge": 16}, max_image_size={"longest_edge": 16}
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        image_seq_len=4,
        chat_template=SMOLVLM_TEMPLATE,
    )
    special_ids = {
        "bos_token_id": ids["<|im_start|>"],
        "eos_token_id": ids["<end_of_utterance>"],
        "pad_token_id": ids["<|endoftext|>"],
    }
    torch.manual_seed(0)
    config = Idefics3Config(
        text_config={
            "model_type": "llama",
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": CONTEXT_TOKENS,
            "tie_word_embeddings": False,  # tied tiny embeddings collapse to one repeated token
            # Wider than the 0.02 default, or greedy text hardly depends on the prompt.
            "initializer_range": 0.1,
            **special_ids,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "image_size": 16,
            "patch_size": 4,
        },
        scale_factor=2,
        image_token_id=ids["<image>"],
        tie_word_embeddings=False,
        pad_token_id=special_ids["pad_token_id"],
    )
    model = Idefics3ForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(**special_ids)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


# Qwen-VL's ChatML template, cut down: text or typed parts; an image becomes its pad tokens.
QWEN_VL_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_qwen3_vl_checkpoint(folder: Path) -> Path:
    """Qwen3-VL (the default caption model's architecture): a one-block vision tower, a
    2-layer text model, 32-64 px images, saved as the hub folder is laid out.

    The processor cannot be built here (its video half needs torchvision), so its parts are
    saved as the hub has them: tokenizer, image processor config, chat template, and a video
    processor config that CPU installs must be able to skip.
    """
    from transformers import GenerationConfig, Qwen3VLConfig, Qwen3VLForConditionalGeneration
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    specials = [
        "<|endoftext|>",
        "<|im_start|>",
        "<|im_end|>",
        "<|vision_start|>",
        "<|vision_end|>",
        "<|image_pad|>",
        "<|video_pad|>",
    ]
    tokenizer = _byte_level_tokenizer(
        specials, bos_token=None, eos_token="<|im_end|>", chat_template=None
    )
    ids = {token: tokenizer.convert_tokens_to_ids(token) for token in specials}
    patches = {"patch_size": 16, "merge_size": 2, "temporal_patch_size": 2}
    image_processor = Qwen2VLImageProcessorPil(min_pixels=32 * 32, max_pixels=64 * 64, **patches)
    torch.manual_seed(0)
    config = Qwen3VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "head_dim": 8,
            "max_position_embeddings": 512,
            "rope_scaling": {"rope_type": "default", "mrope_section": [1, 1, 2]},
            "tie_word_embeddings": False,
            "initializer_range": 0.1,  # wider than the default, so text depends on the input
        },
        vision_config={
            "depth": 1,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 4,
            "out_hidden_size": 32,
            "spatial_merge_size": 2,
            "num_position_embeddings": 16,
            "deepstack_visual_indexes": [0],
            **{k: v for k, v in patches.items() if k != "merge_size"},
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    model = Qwen3VLForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        eos_token_id=ids["<|im_end|>"], pad_token_id=ids["<|endoftext|>"]
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    image_processor.save_pretrained(folder)
    processor_class = {"processor_class": "Qwen3VLProcessor"}
    _update_json(folder / "preprocessor_config.json", processor_class)
    video = {"video_processor_type": "Qwen3VLVideoProcessor", **patches, **processor_class}
    _update_json(folder / "video_preprocessor_config.json", video)
    (folder / "chat_template.jinja").write_text(QWEN_VL_TEMPLATE, encoding="utf-8")
    return folder


def _update_json(path: Path, values: dict[str, Any]) -> None:
    found = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    path.write_text(json.dumps(found | values, indent=2), encoding="utf-8")


def _clip_tokenizer(folder: Path) -> object:
    """A hub-free CLIP tokenizer: characters plus a few merges; 77 tokens like the real one."""
    from transformers import CLIPTokenizer

    letters = "abcdefghijklmnopqrstuvwxyz"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for ch in letters + ",.!":
        vocab[ch] = len(vocab)
        vocab[ch + "</w>"] = len(vocab)
    merges = ["t h", "th e</w>", "i n", "o n</w>", "e r</w>"]
    for merge in merges:
        vocab["".join(merge.split())] = len(vocab)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")
    return CLIPTokenizer(
        vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"), model_max_length=77
    )


def build_image_checkpoint(folder: Path) -> Path:
    """Stable Diffusion img2img: tiny UNet, VAE and CLIP text encoder, DDIM scheduler."""
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = _clip_tokenizer(folder / "_tokenizer_src")
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=32,
    )
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=32,
        sample_size=32,
    )
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(tokenizer),  # type: ignore[arg-type]
            max_position_embeddings=77,
            projection_dim=32,
        )
    )
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    return save_img2img_pipeline(folder, vae, text_encoder, tokenizer, unet, scheduler)


def build_safety_checker(folder: Path, *, flags_everything: bool) -> Path:
    """diffusers' StableDiffusionSafetyChecker on a tiny CLIP vision tower, with its CLIP image
    processor. Its concept thresholds decide: below any cosine (-1.5) every picture is flagged,
    above every cosine (1.5) none is."""
    from diffusers.pipelines.stable_diffusion.safety_checker import (
        StableDiffusionSafetyChecker,
    )
    from transformers import CLIPConfig, CLIPImageProcessor

    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "vocab_size": 64,
            "bos_token_id": 0,
            "eos_token_id": 1,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    checker = StableDiffusionSafetyChecker(config).eval()
    with torch.no_grad():
        checker.concept_embeds.normal_()
        checker.special_care_embeds.normal_()
        checker.concept_embeds_weights.fill_(-1.5 if flags_everything else 1.5)
        checker.special_care_embeds_weights.fill_(1.5)
    checker.save_pretrained(folder)
    CLIPImageProcessor(
        size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
    ).save_pretrained(folder)
    return folder


def build_all(root: Path) -> TinyModels:
    """Build the three checkpoints under `root` (a couple of seconds on a laptop CPU)."""
    return TinyModels(
        caption=build_caption_checkpoint(root / "caption"),
        dialogue=build_dialogue_checkpoint(root / "dialogue"),
        image=build_image_checkpoint(root / "image"),
    )


def save_img2img_pipeline(
    folder: Path, vae: Any, text_encoder: Any, tokenizer: Any, unet: Any, scheduler: Any
) -> Path:
    """Save SD img2img components as a pipeline folder that AutoPipelineForImage2Image loads."""
    from diffusers import StableDiffusionImg2ImgPipeline

    pipe: Any = StableDiffusionImg2ImgPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder
