"""Where a model's files come from: a local folder, the Hugging Face cache, or the hub.

A cached model loads from its cache folder, so a machine without network starts as it would
online. A model that is neither cached nor reachable fails at once with one clear sentence,
instead of minutes of download retries.
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import GatedRepoError, HFValidationError, RepositoryNotFoundError
from huggingface_hub.file_download import repo_folder_name
from huggingface_hub.utils import validate_repo_id

from inference.errors import ModelUnavailable

PROBE_TIMEOUT_S = 10.0


def model_source(setting: str, model: str) -> str:
    """The folder to load `model` from (`setting` names it for the operator: CAPTION_MODEL…),
    or the hub id itself when it must be downloaded and the hub answers."""
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    cached = cached_snapshot(model)
    if cached is not None:
        return str(cached)
    if constants.HF_HUB_OFFLINE:
        raise ModelUnavailable(_advice(setting, model, "HF_HUB_OFFLINE is set"))
    try:
        HfApi().model_info(model, timeout=PROBE_TIMEOUT_S)
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        reason = f"the hub has no such model, or it needs a token (HF_TOKEN): {type(exc).__name__}"
        raise ModelUnavailable(_advice(setting, model, reason)) from None
    except Exception as exc:  # the probe's only job: any other failure means "not reachable"
        reason = f"{constants.ENDPOINT} did not answer: {type(exc).__name__}"
        raise ModelUnavailable(_advice(setting, model, reason)) from None
    return model


def cached_snapshot(model: str) -> Path | None:
    """The cached snapshot of `model`'s main branch, as the hub client left it, or None.

    Not `snapshot_download(local_files_only=True)`: it refuses a snapshot its cached file
    listing shows incomplete, and from_pretrained downloads only what it needs (the shards
    of one format, no README). Loading from the folder finds what it needs or says what is
    missing.
    """
    try:
        validate_repo_id(model)
    except HFValidationError:
        return None  # not an id (the probe says so)
    repo = Path(constants.HF_HUB_CACHE) / repo_folder_name(repo_id=model, repo_type="model")
    try:
        commit = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        return None
    snapshot = repo / "snapshots" / commit
    if not commit or not snapshot.is_dir() or not any(snapshot.iterdir()):
        return None
    return snapshot


def model_folder(setting: str, model: str, patterns: list[str]) -> str:
    """Like `model_source`, but always a folder: a hub id is downloaded first (only the files
    matching `patterns`), for checkpoints read file by file rather than by `from_pretrained`."""
    source = model_source(setting, model)
    if Path(source).is_dir():
        return source
    return str(snapshot_download(source, allow_patterns=patterns))


def _advice(setting: str, model: str, reason: str) -> str:
    return (
        f"{setting}={model!r} could not be downloaded ({reason}). Set {setting} to a local "
        f"folder with the model, or download it first where the hub is reachable "
        f"(`hf download {model}`, then copy the Hugging Face cache or HF_HOME here)."
    )
