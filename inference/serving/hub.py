"""Where a model's files come from: a local folder, the Hugging Face cache, or the hub.

A cached model loads from its cache folder, so a machine without network starts as it would
online. A model that is neither cached nor reachable fails at once with one clear sentence,
instead of minutes of download retries.
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import HfApi, constants, snapshot_download
from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

from inference.errors import ModelUnavailable

PROBE_TIMEOUT_S = 10.0


def model_source(setting: str, model: str) -> str:
    """The folder to load `model` from (`setting` names it for the operator: CAPTION_MODEL…),
    or the hub id itself when it must be downloaded and the hub answers."""
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser())
    try:
        return str(snapshot_download(model, local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError):
        pass  # not in the cache (or not a valid id: the probe says which)
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
