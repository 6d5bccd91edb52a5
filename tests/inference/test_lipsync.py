"""MuseTalk 1.5's download layout, loaded by the product's loader, and what the model makes:
one repainted lower face per 25th of a second, batched across videos, following the voice."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from sample_photos import photo
from tiny_lipsync_checkpoints import WIDTH, build_lipsync_checkpoint

from inference.config import InferenceConfig
from inference.errors import ModelUnavailable
from inference.face.finder import find_face
from inference.face.lipsync import CROP_SIDE, LipSync
from inference.face.synced_video import face_crop, sync_box
from inference.serving.loading import load_models

RATE = 16_000


def config(**lipsync: str) -> InferenceConfig:
    """Lip sync only: caption and dialogue are "served" (never reached by these tests)."""
    return InferenceConfig(
        "unused", "unused", llm_api_base="http://127.0.0.1:9/v1", device="cpu", **lipsync
    )


def loaded(**lipsync: str) -> LipSync:
    model = load_models(config(**lipsync)).lipsync
    assert model is not None
    return model


def voice(seconds: float, seed: int = 0) -> np.ndarray:
    """Bursts of noise, like syllables, at Whisper's 16 kHz."""
    t = np.arange(int(seconds * RATE)) / RATE
    noise = np.random.default_rng(seed).standard_normal(len(t))
    return (0.3 * np.clip(np.sin(2 * np.pi * 3 * t), 0, None) * noise).astype(np.float32)


@pytest.fixture(scope="module")
def lipsync(tiny_lipsync: Path) -> LipSync:
    return loaded(lipsync_model=str(tiny_lipsync))


@pytest.fixture(scope="module")
def crop() -> np.ndarray:
    astronaut = photo("astronaut")
    face = find_face(astronaut)
    assert face is not None
    return face_crop(astronaut, sync_box(face, astronaut.size))


def test_musetalks_layout_loads_its_weights_with_sizes_from_its_configs(
    lipsync: LipSync, tiny_lipsync: Path
) -> None:
    saved = torch.load(tiny_lipsync / "musetalkV15" / "unet.pth", weights_only=True)
    assert torch.equal(lipsync.unet.state_dict()["conv_in.weight"], saved["conv_in.weight"])
    assert lipsync.unet.config.in_channels == 8 and lipsync.unet.config.out_channels == 4
    assert lipsync.unet.config.cross_attention_dim == lipsync.whisper.config.d_model == WIDTH
    assert lipsync.sample_rate == RATE
    for module in (lipsync.unet, lipsync.vae, lipsync.whisper):
        assert not module.training
        assert not any(p.requires_grad or p.is_meta for p in module.parameters())


def test_the_vae_and_whisper_may_come_from_folders_of_their_own(
    tiny_lipsync: Path, tmp_path: Path
) -> None:
    model, vae, whisper = tmp_path / "musetalk", tmp_path / "vae", tmp_path / "whisper"
    shutil.copytree(tiny_lipsync / "musetalkV15", model / "musetalkV15")
    shutil.copytree(tiny_lipsync / "sd-vae", vae)
    shutil.copytree(tiny_lipsync / "whisper", whisper)
    with pytest.raises(ModelUnavailable, match="LIPSYNC_VAE"):
        loaded(lipsync_model=str(model))
    own = loaded(lipsync_model=str(model), lipsync_vae=str(vae), lipsync_whisper=str(whisper))
    assert own.vae.config.latent_channels == 4


def test_a_folder_without_musetalks_unet_is_refused_with_its_name(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match=r"musetalkV15/musetalk\.json"):
        loaded(lipsync_model=str(tmp_path))


def test_a_whisper_of_another_width_than_the_unet_reads_is_refused(
    tiny_lipsync: Path, tmp_path: Path
) -> None:
    other = build_lipsync_checkpoint(tmp_path, width=WIDTH + 8)
    with pytest.raises(ValueError, match="LIPSYNC_WHISPER"):
        loaded(lipsync_model=str(tiny_lipsync), lipsync_whisper=str(other / "whisper"))


def test_a_frame_per_25th_of_a_second_each_the_lower_half_of_the_face(
    lipsync: LipSync, crop: np.ndarray
) -> None:
    for seconds, frames in [(0.5, 12), (0.1, 2), (1.02, 25)]:
        job = lipsync.prepare(crop, voice(seconds), 25)
        assert job.frames == tuple(range(frames))
        (mouths,) = lipsync.generate([job])
        assert mouths.shape == (frames, CROP_SIDE // 2, CROP_SIDE, 3)
        assert mouths.dtype == np.uint8


def test_the_mouths_follow_the_voice_and_change_frame_to_frame(
    lipsync: LipSync, crop: np.ndarray
) -> None:
    first = lipsync.generate([lipsync.prepare(crop, voice(0.6, seed=1), 25)])[0]
    again = lipsync.generate([lipsync.prepare(crop, voice(0.6, seed=1), 25)])[0]
    other = lipsync.generate([lipsync.prepare(crop, voice(0.6, seed=2), 25)])[0]
    assert np.array_equal(first, again)  # the same voice, the same mouths
    assert not np.array_equal(first, other)
    changed = [not np.array_equal(a, b) for a, b in itertools.pairwise(first)]
    assert sum(changed) >= 0.9 * len(changed)  # not a handful of cached images


def test_frames_of_several_videos_made_together_are_those_made_alone(
    lipsync: LipSync, crop: np.ndarray
) -> None:
    flipped = np.ascontiguousarray(crop[:, ::-1])
    jobs = [lipsync.prepare(crop, voice(0.5, 3), 25), lipsync.prepare(flipped, voice(0.3, 4), 25)]
    before = lipsync.batch_size
    lipsync.batch_size = 5  # 12 + 7 frames: a batch that mixes the two videos
    try:
        together = lipsync.generate(jobs)
    finally:
        lipsync.batch_size = before
    alone = [lipsync.generate([job])[0] for job in jobs]
    for a, b in zip(together, alone, strict=True):
        assert a.shape == b.shape
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 2


def test_a_picture_asks_for_one_frame_and_gets_that_frame(
    lipsync: LipSync, crop: np.ndarray
) -> None:
    sound = voice(0.6, 5)
    every = lipsync.generate([lipsync.prepare(crop, sound, 25)])[0]
    (one,) = lipsync.generate([lipsync.prepare(crop, sound, 25, frames=(13,))])
    assert one.shape[0] == 1
    assert np.abs(one[0].astype(int) - every[13].astype(int)).max() <= 2
