"""First run on a machine that cannot reach the model hub (issue 12, item 16).

`photo-talk chat` and `photo-talk run` as real subprocesses, with HF_ENDPOINT pointing at a
closed local port and an empty or prepared Hugging Face cache: a model that is not there
fails at once with one sentence; cached models start without the network.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fake_hub import FakeHub
from fake_telegram import FakeTelegram
from PIL import Image
from tiny_checkpoints import TinyModels

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 120  # importing torch on a busy 2-core machine; retries would take many minutes


def closed_port() -> int:
    """A local port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def offline_env(hf_home: Path, **settings: str) -> dict[str, str]:
    """The environment of a user whose hub is unreachable (the test suite's own offline
    switches removed, so the code has to find out by itself)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TELEGRAM_", "HF_", "TRANSFORMERS_", "CAPTION_", "DIALOGUE_"))
        and k not in ("IMAGE_MODEL", "SAFETY_MODEL", "TTS_MODEL", "ASR_MODEL")
    }
    env.update(
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PYTHONIOENCODING="utf-8",
        HF_HOME=str(hf_home),
        HF_ENDPOINT=f"http://127.0.0.1:{closed_port()}",
        INFERENCE_DEVICE="cpu",
        MAX_NEW_TOKENS="16",
        IMAGE_SIZE="64",
        **settings,
    )
    return env


def cache(hf_home: Path, repo_id: str, folder: Path) -> None:
    """Put `folder` into the Hugging Face cache as `repo_id`, as a download would have."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(folder, repo / "snapshots" / commit)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")


def photo(tmp_path: Path) -> Path:
    path = tmp_path / "face.jpg"
    Image.new("RGB", (96, 128), (180, 140, 120)).save(path)
    return path


def chat(
    env: dict[str, str], cwd: Path, *args: str, said: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat", *args],
        cwd=cwd,
        env=env,
        input=said,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT_S,
    )


def test_chat_without_the_hub_and_without_the_model_fails_with_one_clear_line(
    tmp_path: Path,
) -> None:
    env = offline_env(tmp_path / "hf", CAPTION_MODEL="someone/not-downloaded-vlm")
    run = chat(env, tmp_path, str(photo(tmp_path)))
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("CAPTION_MODEL='someone/not-downloaded-vlm' could not be downloaded")
    assert "did not answer" in last and "local folder" in last and "hf download" in last
    assert "Traceback" not in run.stderr and "Retrying" not in run.stderr


def test_chat_with_cached_models_starts_without_the_network(
    tmp_path: Path, tiny_models: TinyModels
) -> None:
    hf_home = tmp_path / "hf"
    cache(hf_home, "tiny/caption", tiny_models.caption)
    cache(hf_home, "tiny/dialogue", tiny_models.dialogue)
    cache(hf_home, "tiny/image", tiny_models.image)
    env = offline_env(
        hf_home,
        CAPTION_MODEL="tiny/caption",
        DIALOGUE_MODEL="tiny/dialogue",
        IMAGE_MODEL="tiny/image",
        SAFETY_MODEL="",
        TTS_MODEL="",
        ASR_MODEL="",
    )
    run = chat(env, tmp_path, str(photo(tmp_path)), "--out", str(tmp_path), said="hello\n")
    assert run.returncode == 0, run.stderr
    assert "could not be downloaded" not in run.stderr
    assert list(tmp_path.glob("*.jpg")) != [tmp_path / "face.jpg"]  # the picture was drawn


async def test_run_without_the_hub_fails_with_one_clear_line(tmp_path: Path) -> None:
    async with FakeTelegram() as telegram:
        env = offline_env(
            tmp_path / "hf",
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_API_BASE_URL=telegram.base_url,
            TELEGRAM_FILE_BASE_URL=telegram.base_file_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}",
            IMAGE_MODEL="someone/not-downloaded-painter",
            CAPTION_MODEL=str(tmp_path),  # a folder: no download needed (and never loaded)
            DIALOGUE_MODEL=str(tmp_path),
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), TIMEOUT_S)
        except TimeoutError:
            process.kill()
            pytest.fail("photo-talk run kept trying instead of failing")
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 1
    assert lines[-1].startswith("IMAGE_MODEL='someone/not-downloaded-painter' could not be")
    assert "Traceback" not in stderr.decode()


def sharded_repo(folder: Path, dialogue: Path) -> Path:
    """The tiny dialogue checkpoint as hub repositories look: weights in shards, and files
    `from_pretrained` never fetches (a README, the original weights)."""
    from transformers import AutoModelForCausalLM

    shutil.copytree(dialogue, folder, ignore=shutil.ignore_patterns("*.safetensors*"))
    AutoModelForCausalLM.from_pretrained(dialogue).save_pretrained(folder, max_shard_size="20KB")
    (folder / "README.md").write_text("# tiny/dialogue\n", encoding="utf-8")
    (folder / "original").mkdir()
    (folder / "original" / "consolidated.pth").write_bytes(b"\0" * 1024)
    assert len(list(folder.glob("model-*.safetensors"))) > 1
    return folder


def test_a_model_from_pretrained_downloaded_starts_again_offline(
    tmp_path: Path, tiny_models: TinyModels
) -> None:
    """The Hugging Face cache as the hub client writes it: `photo-talk chat` downloads the
    dialogue model from a (fake, local) hub through from_pretrained, which fetches only the
    files it needs; then the same command starts with the hub gone (HF_HUB_OFFLINE=1)."""
    hf_home = tmp_path / "hf"
    settings = {
        "CAPTION_MODEL": str(tiny_models.caption),
        "DIALOGUE_MODEL": "tiny/dialogue",
        "IMAGE_MODEL": "",
        "SAFETY_MODEL": "",
        "TTS_MODEL": "",
        "ASR_MODEL": "",
    }
    with FakeHub() as hub:
        hub.add("tiny/dialogue", sharded_repo(tmp_path / "repo", tiny_models.dialogue))
        online = offline_env(hf_home, **settings) | {"HF_ENDPOINT": hub.endpoint}
        first = chat(online, tmp_path, str(photo(tmp_path)), said="hello\n")
    assert first.returncode == 0, first.stderr
    snapshot = next((hf_home / "hub" / "models--tiny--dialogue" / "snapshots").iterdir())
    fetched = {p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file()}
    assert "README.md" not in fetched and "model.safetensors.index.json" in fetched  # in part

    again = chat(
        offline_env(hf_home, HF_HUB_OFFLINE="1", **settings),
        tmp_path,
        str(photo(tmp_path)),
        said="hello\n",
    )
    assert again.returncode == 0, again.stderr
    assert "could not be downloaded" not in again.stderr


def test_a_start_prints_no_routine_library_notices(tmp_path: Path, tiny_models: TinyModels) -> None:
    """What transformers and the kernels hub repeat at every start about what the README
    already says (no torchvision: Pillow image processors; offline: no publisher check)."""
    env = offline_env(
        tmp_path / "hf",
        HF_HUB_OFFLINE="1",
        CAPTION_MODEL=str(tiny_models.caption),  # BLIP: its image processor needs torchvision
        DIALOGUE_MODEL=str(tiny_models.dialogue),
        IMAGE_MODEL="",
        SAFETY_MODEL="",
        TTS_MODEL="",
        ASR_MODEL="",
    )
    run = chat(env, tmp_path, str(photo(tmp_path)), said="hello\n")
    assert run.returncode == 0, run.stderr
    assert "requires torchvision" not in run.stderr
    assert "publisher trust check" not in run.stderr
