"""The package map of ARCHITECTURE.md, kept: who may import whom, read from every import
statement in the source (TYPE_CHECKING and function-level imports included)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CAPABILITIES = ("text", "voice", "face")
# The shared modules at the top of inference/ that everything below may use.
SHARED = {"types", "errors", "config", "images", "language", "writing", "cleaning", "retrying"}


def modules(package: str) -> dict[str, set[str]]:
    """Module name ("inference.text.lines") -> every module it imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[name] = imported
    return found


def offenders(package: str, banned: tuple[str, ...], where: str = "") -> list[str]:
    """`module -> import` pairs of `package` (modules under `where` only) that import a
    banned top-level name or module prefix."""
    bad = []
    for module, imported in modules(package).items():
        if not module.startswith(where or package):
            continue
        for name in sorted(imported):
            if any(name == b or name.startswith(b + ".") for b in banned):
                bad.append(f"{module} -> {name}")
    return bad


@pytest.mark.parametrize(
    ("package", "banned"),
    [
        ("inference", ("telegram", "sqlalchemy", "bot", "storage", "alembic")),
        ("storage", ("telegram", "torch", "transformers", "diffusers", "bot", "inference")),
    ],
)
def test_inference_and_storage_never_import_telegram_or_each_other(
    package: str, banned: tuple[str, ...]
) -> None:
    assert offenders(package, banned) == []


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_a_capability_imports_no_other_capability_and_not_serving(capability: str) -> None:
    others = tuple(f"inference.{name}" for name in (*CAPABILITIES, "serving", "actor"))
    banned = tuple(name for name in others if name != f"inference.{capability}")
    assert offenders("inference", banned, where=f"inference.{capability}") == []


def test_the_shared_modules_import_nothing_above_them() -> None:
    above = tuple(f"inference.{name}" for name in (*CAPABILITIES, "serving", "actor"))
    bad = [
        pair
        for module in SHARED
        for pair in offenders("inference", above, where=f"inference.{module}")
    ]
    assert bad == []


def test_serving_never_reaches_up_to_the_facade() -> None:
    assert offenders("inference", ("inference.actor",), where="inference.serving") == []


def test_the_worker_knows_jobs_not_models() -> None:
    """The worker runs any stage: it imports no model code and no capability."""
    banned = ("torch", "transformers", "diffusers", *(f"inference.{c}" for c in CAPABILITIES))
    assert offenders("inference", banned, where="inference.serving.worker") == []


def test_inference_keeps_few_modules_at_its_top() -> None:
    top = sorted(p.stem for p in (ROOT / "inference").glob("*.py") if p.stem != "__init__")
    assert set(top) == SHARED | {"actor"}
    assert len(top) <= 9


@pytest.mark.parametrize(
    "package",
    sorted(
        str(init.parent.relative_to(ROOT))
        for name in ("bot", "inference", "storage")
        for init in (ROOT / name).rglob("__init__.py")
        if "migrations" not in init.parts
    ),
)
def test_every_package_says_what_it_holds(package: str) -> None:
    docstring = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text()))
    assert docstring, f"{package}/__init__.py has no docstring"
