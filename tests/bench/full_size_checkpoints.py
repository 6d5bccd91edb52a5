"""The default models' architectures at their published sizes, with RANDOM weights, saved like hub
folders so the benchmark loads them through the product's own loaders (no download needed).

Speed depends on shapes, not on what the weights say, so these time like the real models, with
two differences the benchmark reports: random text seldom ends early (every generation uses its
whole budget) and reads as garbled (the pipeline retries it once, then uses a stock line).
`scale` < 1 shrinks layers and widths for a CPU smoke run; its figures mean nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ (tiny tokenizers)

from tiny_checkpoints import (
    TinyModels,
    _clip_tokenizer,
    build_dialogue_tokenizer,
    save_img2img_pipeline,
)


def _n(value: int, scale: float, multiple: int = 1, minimum: int = 1) -> int:
    """`value` scaled, rounded down to `multiple`, at least `minimum` (exact when scale is 1)."""
    if scale >= 1:
        return value
    return max(minimum, int(value * scale) // multiple * multiple)


def build_dialogue(folder: Path, scale: float, dtype: torch.dtype) -> Path:
    """Qwen3-4B-Instruct-2507's shape: Qwen3ForCausalLM, hidden 2560, 36 layers, 32 query and
    8 key/value heads of 128, MLP 9728, vocabulary 151936, tied embeddings (4.0 B parameters)."""
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    tokenizer: Any = build_dialogue_tokenizer()  # ChatML; its ids are a subset of the vocab
    eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad_id = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    kv_heads = _n(8, scale)
    heads = _n(32, scale, multiple=kv_heads, minimum=kv_heads)
    config = Qwen3Config(
        vocab_size=151936,
        hidden_size=_n(2560, scale, multiple=64, minimum=64),
        intermediate_size=_n(9728, scale, multiple=64, minimum=128),
        num_hidden_layers=_n(36, scale),
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=128 if scale >= 1 else 32,
        max_position_embeddings=262144,
        rope_theta=5_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    model = _random(Qwen3ForCausalLM, config, dtype)
    model.generation_config = GenerationConfig(eos_token_id=eos_id, pad_token_id=pad_id)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def build_caption(folder: Path, scale: float, dtype: torch.dtype) -> Path:
    """A same-size stand-in for Qwen3-VL-2B (2.1 B): BLIP with a ViT-L/16 at 384 px (576
    patches) and a 28-layer, 2048-wide text decoder (about 2.2 B parameters). Qwen3-VL itself
    needs its hub tokenizer and processor, which an offline machine does not have."""
    from transformers import (
        BertTokenizer,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    folder.mkdir(parents=True, exist_ok=True)
    words = [f"w{i}" for i in range(30_000)]  # BERT-sized vocabulary, words irrelevant
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(folder / "vocab.txt"))
    tokenizer.bos_token = "[DEC]"
    side = 384 if scale >= 1 else 64
    processor = BlipProcessor(
        image_processor=BlipImageProcessor(size={"height": side, "width": side}),
        tokenizer=tokenizer,
    )
    vision_hidden = _n(1024, scale, multiple=64, minimum=64)
    text_hidden = _n(2048, scale, multiple=64, minimum=64)
    config = BlipConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": text_hidden,
            "intermediate_size": 4 * text_hidden,
            "num_hidden_layers": _n(28, scale),
            "num_attention_heads": max(1, text_hidden // 128),
            "encoder_hidden_size": vision_hidden,
            "max_position_embeddings": 512,
            "bos_token_id": vocab.index("[DEC]"),
            "eos_token_id": vocab.index("[SEP]"),
            "sep_token_id": vocab.index("[SEP]"),
            "pad_token_id": 0,
        },
        vision_config={
            "hidden_size": vision_hidden,
            "intermediate_size": 4 * vision_hidden,
            "num_hidden_layers": _n(24, scale),
            "num_attention_heads": max(1, vision_hidden // 64),
            "image_size": side,
            "patch_size": 16,
            "initializer_range": 0.02,
        },
    )
    model = _random(BlipForConditionalGeneration, config, dtype)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def build_image(folder: Path, scale: float, dtype: torch.dtype) -> Path:
    """stabilityai/sd-turbo's shape (SD 2.1): UNet 320/640/1280/1280 with linear projections and
    1024-wide cross attention, the 4-level VAE, OpenCLIP ViT-H's 23-layer text encoder, and an
    Euler scheduler with trailing timesteps. 'turbo' in the folder name: guidance 0."""
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer: Any = _clip_tokenizer(folder.parent / "_clip_tokenizer")
    text_hidden = _n(1024, scale, multiple=64, minimum=64)
    channels = tuple(_n(c, scale, multiple=64, minimum=64) for c in (320, 640, 1280, 1280))
    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=4,
        out_channels=4,
        block_out_channels=channels,
        layers_per_block=_n(2, scale),
        attention_head_dim=tuple(max(1, c // 64) for c in channels),  # heads of 64 channels
        cross_attention_dim=text_hidden,
        use_linear_projection=True,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
    ).to(dtype)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=tuple(_n(c, scale, 32, 32) for c in (128, 256, 512, 512)),
        layers_per_block=_n(2, scale),
        latent_channels=4,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        sample_size=768,
    ).to(dtype)
    text_encoder = _random(
        CLIPTextModel,
        CLIPTextConfig(
            vocab_size=49408,
            hidden_size=text_hidden,
            intermediate_size=4 * text_hidden,
            num_hidden_layers=_n(23, scale),
            num_attention_heads=max(1, text_hidden // 64),
            max_position_embeddings=77,
            hidden_act="gelu",
            projection_dim=512,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        ),
        dtype,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )
    return save_img2img_pipeline(folder, vae, text_encoder, tokenizer, unet, scheduler)


def build_lipsync(folder: Path, scale: float, dtype: torch.dtype) -> Path:
    """MuseTalk 1.5 in its download layout: its UNet (SD 1.x sizes: 320-640-1280-1280, two
    layers a block, 8 heads; 8 channels in, 4 out, cross-attention over 384 Whisper features,
    0.86 B), sd-vae-ft-mse's AutoencoderKL (128-256-512-512, 84 M) and whisper-tiny (384 wide,
    4 layers, 39 M). `scale` < 1 narrows the UNet and the VAE for a CPU smoke run."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from tiny_lipsync_checkpoints import save_lipsync_layout
    from transformers import WhisperConfig, WhisperModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=8,
        out_channels=4,
        block_out_channels=tuple(
            _n(c, scale, multiple=32, minimum=32) for c in (320, 640, 1280, 1280)
        ),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        cross_attention_dim=384,
        attention_head_dim=8,
        flip_sin_to_cos=True,
        freq_shift=0,
    ).to(dtype)
    vae = AutoencoderKL(
        block_out_channels=tuple(
            _n(c, scale, multiple=32, minimum=32) for c in (128, 256, 512, 512)
        ),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=2,
        norm_num_groups=32,
        sample_size=256,
    ).to(dtype)
    whisper = WhisperModel(
        WhisperConfig(
            d_model=384,
            encoder_layers=4,
            encoder_attention_heads=6,
            encoder_ffn_dim=1536,
            decoder_layers=4,
            decoder_attention_heads=6,
            decoder_ffn_dim=1536,
            num_mel_bins=80,
            vocab_size=51865,
            max_source_positions=1500,
            max_target_positions=448,
        )
    ).to(dtype)
    return save_lipsync_layout(folder, unet.eval(), vae.eval(), whisper.eval())


def build_full_size(root: Path, scale: float = 1.0, device: str = "cpu") -> TinyModels:
    """All three under `root` (full size: ~17 GB of bf16 safetensors; build on the GPU)."""
    dtype = torch.bfloat16 if scale >= 1 else torch.float32
    with torch.device(device):  # random init of billions of weights is minutes on a CPU
        return TinyModels(
            caption=build_caption(root / "caption", scale, dtype),
            dialogue=build_dialogue(root / "dialogue", scale, dtype),
            image=build_image(root / "image-turbo", scale, dtype),
        )


def _random(model_class: Any, config: Any, dtype: torch.dtype) -> Any:
    torch.manual_seed(0)
    return model_class(config).to(dtype).eval()
