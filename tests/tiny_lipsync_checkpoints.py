"""A tiny, seeded, random-weight MuseTalk 1.5 checkpoint in its download layout:

    musetalkV15/musetalk.json  the UNet2DConditionModel's config (8 channels in, 4 out)
    musetalkV15/unet.pth       its plain state dict
    sd-vae/                    an AutoencoderKL (config.json + diffusion_pytorch_model.bin)
    whisper/                   a WhisperModel (config.json + pytorch_model.bin) and its
                               feature extractor (preprocessor_config.json)

It loads through the product's own loader. Its mouths are noise that changes with the voice,
which is what the tests need: frames that differ, made from the right inputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

WIDTH = 16  # the Whisper width, and so the UNet's cross-attention width


def build_lipsync_checkpoint(folder: Path, *, width: int = WIDTH) -> Path:
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import WhisperConfig, WhisperModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=32,
        in_channels=8,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        # Attention only at the coarser level (16 x 16): 32 x 32 attention is most of the time.
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=width,
        attention_head_dim=8,
    )
    # Four blocks, as sd-vae-ft-mse has: a 256 x 256 face becomes 32 x 32 latents.
    vae = AutoencoderKL(
        block_out_channels=(4, 8, 8, 8),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        latent_channels=4,
        layers_per_block=1,
        norm_num_groups=4,
        sample_size=256,
        mid_block_add_attention=False,  # 32 x 32 attention per frame: most of a tiny VAE's time
    )

    config = WhisperConfig(
        d_model=width,
        encoder_layers=2,
        encoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_layers=1,
        decoder_attention_heads=2,
        decoder_ffn_dim=32,
        num_mel_bins=80,
        vocab_size=64,
        max_target_positions=32,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=1,
        decoder_start_token_id=1,
    )
    return save_lipsync_layout(folder, unet, vae, WhisperModel(config).eval())


def save_lipsync_layout(folder: Path, unet: Any, vae: Any, whisper: Any) -> Path:
    """The three models as MuseTalk's download script lays them out (weights as .pth/.bin)."""
    from transformers import WhisperFeatureExtractor

    unet_folder = folder / "musetalkV15"
    unet_folder.mkdir(parents=True, exist_ok=True)
    (unet_folder / "musetalk.json").write_text(json.dumps(dict(unet.config), indent=1))
    torch.save(unet.state_dict(), unet_folder / "unet.pth")
    vae.save_pretrained(folder / "sd-vae", safe_serialization=False)
    whisper_folder = folder / "whisper"
    whisper.config.save_pretrained(whisper_folder)
    torch.save(whisper.state_dict(), whisper_folder / "pytorch_model.bin")
    bins = whisper.config.num_mel_bins
    WhisperFeatureExtractor(feature_size=bins).save_pretrained(whisper_folder)
    return folder
