"""The Bot API method signatures the fake validates requests against.

The full machine-readable spec lives in ``<repo>/../shared/telegram-bot-api.json`` (data from
PaulSonOfLars/telegram-bot-api-spec, MIT, Copyright (c) 2020 Paul Larsen). A trimmed copy of
the methods the fake implements is vendored next to this module; regenerate it with
``python -m tests.fake_telegram --vendor``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .models import ApiError, UploadedFile

PACKAGE_DIR = Path(__file__).resolve().parent
SHARED_SPEC = PACKAGE_DIR.parents[2] / "shared" / "telegram-bot-api.json"
VENDORED_SPEC = PACKAGE_DIR / "bot_api_methods.json"
ATTRIBUTION = (
    "Trimmed from the Telegram Bot API spec by PaulSonOfLars/telegram-bot-api-spec "
    "(MIT licence, Copyright (c) 2020 Paul Larsen). Regenerate: "
    "python -m tests.fake_telegram --vendor"
)


@dataclass(frozen=True)
class Field:
    """One parameter of a Bot API method."""

    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    """A Bot API method: its exact name and its parameters."""

    name: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _method_from_json(raw: dict[str, Any]) -> MethodSpec:
    fields = tuple(
        Field(f["name"], tuple(f["types"]), bool(f["required"])) for f in raw.get("fields", [])
    )
    return MethodSpec(raw["name"], fields)


@cache
def load_methods(path: Path | None = None) -> dict[str, MethodSpec]:
    """Methods by lower-cased name (Telegram's method names are case-insensitive)."""
    source = path or (SHARED_SPEC if SHARED_SPEC.is_file() else VENDORED_SPEC)
    raw = json.loads(source.read_text(encoding="utf-8"))
    return {name.lower(): _method_from_json(m) for name, m in raw["methods"].items()}


def _coerce_one(field: Field, value: Any) -> Any:
    types = field.types
    if isinstance(value, UploadedFile):
        if "InputFile" in types:
            return value
        raise ApiError(400, f"Bad Request: {field.name} must not be a file")
    if "InputFile" in types or types == ("String",):
        return value if isinstance(value, str) else json.dumps(value)
    if "Integer" in types:
        if isinstance(value, bool):
            raise ApiError(400, f"Bad Request: {field.name} must be a valid Integer")
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            if "String" in types:  # chat_id also takes "@channelusername"
                return str(value)
            raise ApiError(400, f"Bad Request: {field.name} must be a valid Integer") from None
    if "Float" in types or "Float number" in types:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: {field.name} must be a valid Number") from None
    if types == ("Boolean",):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0", ""):
            return False
        raise ApiError(400, f"Bad Request: {field.name} must be a valid Boolean")
    # Objects and arrays arrive JSON-encoded in form and multipart requests.
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise ApiError(400, f"Bad Request: can't parse {field.name} JSON object") from None
    expect_list = all(t.startswith("Array of") for t in types)
    if expect_list != isinstance(value, list) or not isinstance(value, list | dict):
        raise ApiError(400, f"Bad Request: can't parse {field.name} JSON object")
    return value


def coerce_params(spec: MethodSpec, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate ``raw`` against ``spec``: required fields present, values of the right type.

    Unknown parameter names are kept as they came, as Telegram ignores them.
    """
    files = {k: v for k, v in raw.items() if isinstance(v, UploadedFile)}
    params: dict[str, Any] = {}
    for name, value in raw.items():
        field = spec.field(name)
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            value = files[value[9:]]
        params[name] = value if field is None else _coerce_one(field, value)
    for field in spec.fields:
        if field.required and params.get(field.name) in (None, ""):
            if field.name == "text" and spec.name == "sendMessage":
                raise ApiError(400, "Bad Request: message text is empty")
            raise ApiError(400, f"Bad Request: {field.name} is empty")
    return params


def vendor(methods: list[str], destination: Path = VENDORED_SPEC) -> None:
    """Write the trimmed spec of ``methods`` from the shared full spec."""
    full = json.loads(SHARED_SPEC.read_text(encoding="utf-8"))
    trimmed = {
        name: {
            "name": name,
            "fields": [
                {"name": f["name"], "types": f["types"], "required": f["required"]}
                for f in full["methods"][name].get("fields", [])
            ],
            "returns": full["methods"][name].get("returns", []),
        }
        for name in sorted(methods)
    }
    document = {"attribution": ATTRIBUTION, "version": full["version"], "methods": trimmed}
    destination.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vendor", action="store_true", help="rewrite bot_api_methods.json")
    args = parser.parse_args()
    if args.vendor:
        from .methods import HANDLERS

        vendor(list(HANDLERS))
        print(f"wrote {VENDORED_SPEC} ({len(HANDLERS)} methods)")
    else:
        parser.print_help()
