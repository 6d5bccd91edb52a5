"""The documentation stays true: links resolve, the README's commands are the ones CI runs,
every setting is documented, and the README stays one screen."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bot.settings import Settings
from inference.voice.phonemes import ENGLISH_TAGGER_WHEEL

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
CI = ROOT / ".ci" / "run"
README_MAX_LINES = 150

_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(markdown: str) -> str:
    """The text outside code blocks and inline code, where links live."""
    return _INLINE_CODE.sub("", _FENCE.sub("", markdown))


def code_lines(markdown: str) -> list[str]:
    """Every line inside the fenced code blocks."""
    return [line for block in _FENCE.findall(markdown) for line in block.splitlines()[1:-1]]


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub makes for the headings: lower case, punctuation dropped, spaces to
    hyphens, repeats numbered."""
    found: set[str] = set()
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "")
        slug = re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def ci_commands() -> list[str]:
    """The commands `.ci/run` runs in its main environment, as a reader would type them."""
    commands = []
    for raw in CI.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #")[0].strip()
        if line.startswith("python -m"):  # not .venv-bare/bin/python: the operator's install
            commands.append(normalise(line))
    return commands


def normalise(command: str) -> str:
    """`python -m pip install -q "${pins[@]}" -e ".[dev]"` → `pip install -c constraints.txt
    -e .[dev]`: the words a reader types, without quiet flags or quoting."""
    words = shlex.split(command.replace('"${pins[@]}"', "-c constraints.txt"))
    if words[:3] == ["python", "-m", "pip"]:
        words = [word for word in words[2:] if word != "-q"]
    return " ".join(words)


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_points_at_a_file_and_anchor_that_exist(page: Path) -> None:
    broken = []
    for target in _LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in anchors(file.read_text(encoding="utf-8")):
            broken.append(f"{target}: no such heading")
    assert broken == []


def test_the_readme_links_every_page_of_the_docs() -> None:
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for target in _LINK.findall(prose(README.read_text(encoding="utf-8")))
    }
    assert [page.name for page in DOCS if page.resolve() not in linked] == []


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    assert "python -m pytest -q" in ci_commands()
    readme = code_lines(README.read_text(encoding="utf-8"))
    assert "python -m pytest -q" in [line.strip() for line in readme]


def test_the_readme_install_is_the_one_ci_runs() -> None:
    """The README's first install line is .ci/run's pip lines, in their order."""
    installs = [c for c in ci_commands() if c.startswith("pip install") and "--upgrade" not in c]
    assert installs == ["pip install torch==2.13.0", "pip install -c constraints.txt -e .[dev]"]
    readme = [
        [normalise(part.strip()) for part in line.split("#")[0].split("&&")]
        for line in code_lines(README.read_text(encoding="utf-8"))
        if line.startswith("pip install")
    ]
    assert installs in readme


def test_the_readme_installs_the_english_tagger_the_voice_names() -> None:
    assert f"pip install {ENGLISH_TAGGER_WHEEL}" in code_lines(README.read_text(encoding="utf-8"))


def test_every_setting_is_in_the_configuration_page() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in page]
    assert missing == []


def test_the_readme_fits_one_screen() -> None:
    assert len(README.read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES
