"""Lip sync with MuseTalk 1.5's weights: the lower half of a face crop repainted for every video
frame from the voice around that frame, in one UNet step (no denoising loop).

MuseTalk (github.com/TMElyralab/MuseTalk) is a diffusers `UNet2DConditionModel` whose input is
the VAE latents of the face with its lower half masked and of the whole face, and whose
cross-attention reads Whisper encoder features (every layer) of the audio around the frame.
`prepare` is CPU work (log-mel features); `generate` is the GPU part, batched across videos.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import WhisperFeatureExtractor, WhisperModel

log = logging.getLogger(__name__)

CROP_SIDE = 256  # MuseTalk was trained on 256 x 256 face crops, the lower half masked
CONTEXT_FRAMES = 2  # video frames of voice on either side of each frame (MuseTalk's window)
UNET_FOLDER = "musetalkV15"  # inside LIPSYNC_MODEL, as MuseTalk's download script lays it out
UNET_CONFIG, UNET_WEIGHTS = "musetalk.json", "unet.pth"


@dataclass(frozen=True, eq=False)
class LipSyncJob:
    """One video's input, prepared on the CPU by `LipSync.prepare`."""

    crop: np.ndarray  # the face, CROP_SIDE x CROP_SIDE x 3 uint8 RGB
    features: np.ndarray  # the voice's log-mel features, one row per 30 s segment (float32)
    voice_steps: int  # Whisper encoder steps the voice fills (the rest of a segment is padding)
    frames: tuple[int, ...]  # which video frames to make: all of them, or one for a picture
    fps: int


class LipSync:
    """MuseTalk's UNet, the VAE and the Whisper encoder on one device; `generate` is the one
    entry point for the GPU."""

    def __init__(
        self,
        unet: Any,
        vae: Any,
        whisper: Any,
        features: WhisperFeatureExtractor,
        *,
        batch_size: int = 16,
    ) -> None:
        self.unet, self.vae, self.whisper, self.features = unet, vae, whisper, features
        self.batch_size = max(1, batch_size)
        self.device, self.dtype = unet.device, unet.dtype
        width = whisper.config.d_model
        if unet.config.cross_attention_dim != width:
            raise ValueError(
                f"the lip-sync UNet attends over {unet.config.cross_attention_dim} features, but "
                f"the Whisper encoder gives {width}: LIPSYNC_WHISPER is not the one it was made for"
            )
        if unet.config.in_channels != 2 * vae.config.latent_channels:
            raise ValueError("the lip-sync UNet does not take two VAE latents (not MuseTalk's)")
        # Whisper's encoder steps per second of voice: 1500 per 30 s segment = 50.
        self.steps_per_s = whisper.config.max_source_positions / features.chunk_length
        self._timestep = torch.zeros(1, device=self.device, dtype=torch.long)

    @classmethod
    def load(
        cls,
        model_folder: str,
        vae_source: str,
        whisper_source: str,
        device: torch.device,
        dtype: torch.dtype,
        *,
        batch_size: int = 16,
    ) -> LipSync:
        """LIPSYNC_MODEL's `musetalkV15/` (config + plain state dict), the VAE and Whisper."""
        folder = Path(model_folder) / UNET_FOLDER
        config = json.loads((folder / UNET_CONFIG).read_text(encoding="utf-8"))
        with torch.device("meta"):  # no random init of 0.8 B parameters about to be replaced
            unet = UNet2DConditionModel.from_config(config)
        state = torch.load(folder / UNET_WEIGHTS, map_location="cpu", weights_only=True, mmap=True)
        unet.load_state_dict({k: v.to(dtype) for k, v in state.items()}, strict=True, assign=True)
        # MuseTalk's download has sd-vae-ft-mse as a .bin only: say so, or diffusers warns.
        pickled = Path(vae_source).is_dir() and not any(Path(vae_source).glob("*.safetensors"))
        vae = AutoencoderKL.from_pretrained(
            vae_source, dtype=dtype, use_safetensors=False if pickled else None
        )
        whisper = WhisperModel.from_pretrained(whisper_source, dtype=dtype).get_encoder()
        features = WhisperFeatureExtractor.from_pretrained(whisper_source)
        for module in (unet, vae, whisper):
            module.to(device).eval().requires_grad_(False)
        log.info("lip-sync model %s loaded (%s)", model_folder, dtype)
        return cls(unet, vae, whisper, features, batch_size=batch_size)

    @property
    def sample_rate(self) -> int:
        """The voice's sample rate `prepare` takes (Whisper's, 16 kHz)."""
        return int(self.features.sampling_rate)

    def frame_count(self, samples: int, fps: int) -> int:
        """Video frames for a voice of `samples` samples."""
        return max(1, math.floor(samples / self.sample_rate * fps))

    def prepare(
        self, crop: np.ndarray, voice: np.ndarray, fps: int, frames: tuple[int, ...] | None = None
    ) -> LipSyncJob:
        """CPU work: the voice (at `sample_rate`) as log-mel features, 30 s a row."""
        segment = int(self.features.n_samples)
        pieces = [voice[i : i + segment] for i in range(0, max(1, len(voice)), segment)]
        mel = self.features(
            pieces, sampling_rate=self.sample_rate, return_tensors="np"
        ).input_features
        steps = math.floor(len(voice) / self.sample_rate * self.steps_per_s)
        count = self.frame_count(len(voice), fps)
        chosen = tuple(range(count)) if frames is None else tuple(min(f, count - 1) for f in frames)
        return LipSyncJob(
            np.ascontiguousarray(crop, dtype=np.uint8), mel.astype(np.float32), steps, chosen, fps
        )

    def generate(self, jobs: list[LipSyncJob]) -> list[np.ndarray]:
        """Per job, the lower half of the repainted face crop for each of its frames:
        (frames, CROP_SIDE // 2, CROP_SIDE, 3) uint8. Frames of all jobs share UNet calls."""
        with torch.inference_mode():
            # 1. every job's voice through the Whisper encoder in one batch
            voices = self._voice_windows(jobs)
            # 2. the masked and the whole face, as VAE latents, once per job (a still photo)
            faces = self._face_latents(jobs)
            # 3. the frames of all jobs in batches: one UNet step, then the VAE decoder
            work = [(j, i) for j, windows in enumerate(voices) for i in range(len(windows))]
            halves: list[list[np.ndarray]] = [[] for _ in jobs]
            for start in range(0, len(work), self.batch_size):
                batch = work[start : start + self.batch_size]
                jobs_of = torch.tensor([j for j, _ in batch], device=self.device)
                audio = torch.stack([voices[j][i] for j, i in batch])
                latents = self.unet(
                    faces.index_select(0, jobs_of),
                    self._timestep,
                    encoder_hidden_states=audio,
                ).sample
                pixels = self._decode(latents)
                for (j, _), half in zip(batch, pixels, strict=True):
                    halves[j].append(half)
        return [np.stack(h) if h else np.empty((0, *self.half_shape), np.uint8) for h in halves]

    @property
    def half_shape(self) -> tuple[int, int, int]:
        return CROP_SIDE // 2, CROP_SIDE, 3

    def _voice_windows(self, jobs: list[LipSyncJob]) -> list[torch.Tensor]:
        """Per job (frames, window steps x layers, width): the encoder's states around each
        frame, time-major, plus a sinusoidal position code (as MuseTalk was trained)."""
        mel = torch.from_numpy(np.concatenate([job.features for job in jobs]))
        states = self.whisper(
            mel.to(self.device, self.dtype), output_hidden_states=True
        ).hidden_states
        stacked = torch.stack(states, dim=2)  # segments, steps, layers, width
        out, row = [], 0
        for job in jobs:
            segments = len(job.features)
            voice = stacked[row : row + segments].flatten(0, 1)[: job.voice_steps]
            row += segments
            per_frame = self.steps_per_s / job.fps  # 2 encoder steps per video frame
            before = math.ceil(per_frame) * CONTEXT_FRAMES
            window = round(per_frame * (2 * CONTEXT_FRAMES + 1))
            shape = voice.shape[1:]
            padded = torch.cat(
                [voice.new_zeros(before, *shape), voice, voice.new_zeros(window + before, *shape)]
            )
            starts = torch.tensor(
                [math.floor(f * per_frame) for f in job.frames], device=self.device
            )
            steps = starts[:, None] + torch.arange(window, device=self.device)[None, :]
            windows = padded[steps].flatten(1, 2)  # frames, window x layers, width
            out.append(windows + _position_code(windows.shape[1], windows.shape[2], windows))
        return out

    def _face_latents(self, jobs: list[LipSyncJob]) -> torch.Tensor:
        """(jobs, 2 x latent channels, h, w): the face with its lower half blacked out, and the
        whole face, each through the VAE encoder (its mean: the same frame every time)."""
        crops = torch.from_numpy(np.stack([job.crop for job in jobs])).to(self.device)
        whole = crops.permute(0, 3, 1, 2).to(self.dtype) / 127.5 - 1.0
        masked = whole.clone()
        masked[:, :, CROP_SIDE // 2 :, :] = -1.0  # black, as MuseTalk masks it
        scale = self.vae.config.scaling_factor
        encoded = self.vae.encode(torch.cat([masked, whole])).latent_dist.mode() * scale
        return torch.cat([encoded[: len(jobs)], encoded[len(jobs) :]], dim=1)

    def _decode(self, latents: torch.Tensor) -> list[np.ndarray]:
        images = self.vae.decode(latents / self.vae.config.scaling_factor).sample
        pixels = ((images / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
        lower = pixels[:, :, CROP_SIDE // 2 :, :].permute(0, 2, 3, 1)
        return list(lower.cpu().numpy())


def _position_code(length: int, width: int, like: torch.Tensor) -> torch.Tensor:
    """The transformer's sinusoidal position code: sin on even features, cos on odd ones."""
    position = torch.arange(length, dtype=torch.float32)[:, None]
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    code = torch.zeros(length, width)
    code[:, 0::2] = torch.sin(position * rate)
    code[:, 1::2] = torch.cos(position * rate[: width // 2])
    return code.to(like.device, like.dtype)
