"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# huggingface_hub reads these once, when first imported: set them before any test module does.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from llm_server import LLMServer, transformers_serve
from postgres_cluster import MIGRATED, PostgresCluster, find_bin_dir
from tiny_checkpoints import (
    TinyModels,
    build_all,
    build_chat_vlm_checkpoint,
    build_safety_checker,
)
from tiny_lipsync_checkpoints import build_lipsync_checkpoint
from tiny_voice_checkpoints import TinyVoiceModels, build_voice_models

from storage.migrate import upgrade_database


@pytest.fixture(scope="session", autouse=True)
def offline_hub() -> Iterator[None]:
    """No test reaches the Hugging Face Hub: every model loads from a local folder."""
    from huggingface_hub import constants

    assert constants.is_offline_mode(), "huggingface_hub was imported before tests/conftest.py"
    yield


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    """Tiny random BLIP, Qwen2 and Stable Diffusion checkpoints, built once per session."""
    return build_all(tmp_path_factory.mktemp("tiny_models"))


@pytest.fixture(scope="session")
def tiny_chat_vlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Idefics3 (SmolVLM) chat VLM folder, built once per session."""
    return build_chat_vlm_checkpoint(tmp_path_factory.mktemp("tiny_chat_vlm"))


@pytest.fixture(scope="session")
def tiny_safety_checkers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny safety checker folders: "flags" flags every picture, "passes" none."""
    root = tmp_path_factory.mktemp("tiny_safety")
    return {
        "flags": build_safety_checker(root / "flags", flags_everything=True),
        "passes": build_safety_checker(root / "passes", flags_everything=False),
    }


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL server for the session (Debian's `postgresql` package).

    Skipped with the reason when the server binaries are missing; under CI it must run.
    """
    bin_dir = find_bin_dir()
    if bin_dir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI installs Debian's postgresql package (.ci/run)")
        pytest.skip(reason)
    cluster = PostgresCluster(bin_dir).start()
    try:
        upgrade_database(cluster.create_database(name=MIGRATED))
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def tiny_voice_models(tmp_path_factory: pytest.TempPathFactory) -> TinyVoiceModels:
    """Tiny random Kokoro and Bark (speech) and Whisper (recognition) folders, built once per
    session, and a tiny English tagger importable as en_core_web_sm (for Kokoro's English)."""
    models = build_voice_models(tmp_path_factory.mktemp("tiny_voice_models"))
    sys.path.insert(0, str(models.english_tagger))  # as `pip install` of its wheel would
    importlib.invalidate_caches()
    return models


@pytest.fixture(scope="session")
def tiny_lipsync(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random MuseTalk 1.5 folder (musetalkV15/, sd-vae/, whisper/), built once."""
    return build_lipsync_checkpoint(tmp_path_factory.mktemp("tiny_lipsync"))


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMServer]:
    """A real `transformers serve` on 127.0.0.1 (once per session; tests name the tiny
    checkpoint folders as the served models)."""
    with transformers_serve(tmp_path_factory.mktemp("llm_server") / "serve.log") as server:
        yield server
