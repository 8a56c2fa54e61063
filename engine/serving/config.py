"""An endpoint's configuration: the JSON file the studio writes for one model server.

```json
{
  "name": "churn",
  "token_sha256": "<hex sha256 of the bearer token>",
  "variants": [
    {"name": "A", "model": "/models/a.zip", "sha256": "<hex>", "weight": 3},
    {"name": "B", "model_directory": "/models/many", "cache_size": 8, "weight": 1}
  ],
  "shadow": {"name": "candidate", "model": "/models/c.zip", "sha256": "<hex>"},
  "max_payload_bytes": 6291456,
  "allow_missing": true,
  "capture": {"percentage": 20, "directory": "/captures"},
  "state_dir": "/run/endpoints/churn"
}
```

A variant serves one bundle (`model` + the sha256 of the whole file) or, as a multi-model variant, the
bundles of one directory chosen per request by the `TargetModel` header (`models` may map their file names to
sha256 values; then only those files are served and each is checked). Only the token's hash is kept.
`state_dir`, when set, is where each server process leaves its metrics so that any process can report the
whole endpoint's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import EndpointConfigError

DEFAULT_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # SageMaker's real-time limit
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


def token_hash(token: str) -> str:
    """The hash kept instead of a token. Tokens are long random strings made by the studio, so a plain
    sha256 is enough: there is no password to guess from it."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class VariantConfig:
    name: str
    weight: float = 1.0
    model: Path | None = None
    sha256: str = ""
    model_directory: Path | None = None
    cache_size: int = 4
    models: dict[str, str] | None = None  # multi-model: file name -> sha256, when the studio lists them

    @property
    def multi_model(self) -> bool:
        return self.model_directory is not None


@dataclass(frozen=True)
class CaptureConfig:
    percentage: float
    directory: Path


@dataclass(frozen=True)
class EndpointConfig:
    name: str
    token_sha256: str
    variants: tuple[VariantConfig, ...]
    shadow: VariantConfig | None = None
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    allow_missing: bool = True
    capture: CaptureConfig | None = None
    state_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(token_hash(token), self.token_sha256)

    def variant(self, name: str) -> VariantConfig | None:
        return next((variant for variant in self.variants if variant.name == name), None)


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not NAME.match(value):
        raise EndpointConfigError(f"The {what} name must be 1 to 128 letters, digits, '.', '_' or '-'.")
    return value


def _variant(data: Any, *, shadow: bool = False) -> VariantConfig:
    if not isinstance(data, dict):
        raise EndpointConfigError("Each variant must be an object.")
    name = _name(data.get("name"), "variant")
    weight = data.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight >= 0:
        raise EndpointConfigError(f"The weight of variant {name} must be a number ≥ 0.")
    if data.get("model"):
        sha = str(data.get("sha256", "")).lower()
        if not SHA256.match(sha):
            raise EndpointConfigError(f"Variant {name} needs the sha256 of its model file.")
        return VariantConfig(name=name, weight=float(weight), model=Path(str(data["model"])), sha256=sha)
    if data.get("model_directory") and not shadow:
        cache_size = data.get("cache_size", 4)
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise EndpointConfigError(f"The model cache of variant {name} must hold at least 1 model.")
        models = data.get("models")
        if models is not None:
            if not isinstance(models, dict) or not all(
                    isinstance(key, str) and isinstance(value, str) and SHA256.match(value.lower())
                    for key, value in models.items()):
                raise EndpointConfigError(f"The models of variant {name} must map file names to sha256 values.")
            models = {key: value.lower() for key, value in models.items()}
        return VariantConfig(name=name, weight=float(weight), model_directory=Path(str(data["model_directory"])),
                             cache_size=cache_size, models=models)
    raise EndpointConfigError(f"Variant {name} names no model" + ("." if shadow else " and no model directory."))


def config_parse(data: Any) -> EndpointConfig:
    if not isinstance(data, dict):
        raise EndpointConfigError("The endpoint configuration must be a JSON object.")
    name = _name(data.get("name"), "endpoint")
    token = str(data.get("token_sha256", "")).lower()
    if not SHA256.match(token):
        raise EndpointConfigError("The endpoint configuration needs the sha256 of its token (token_sha256).")
    raw_variants = data.get("variants")
    if not isinstance(raw_variants, list) or not raw_variants:
        raise EndpointConfigError("An endpoint needs at least one production variant.")
    variants = tuple(_variant(item) for item in raw_variants)
    names = [variant.name for variant in variants]
    if len(set(names)) != len(names):
        raise EndpointConfigError("Two variants have the same name.")
    if sum(variant.weight for variant in variants) <= 0:
        raise EndpointConfigError("At least one variant needs a weight above 0.")
    shadow = _variant(data["shadow"], shadow=True) if data.get("shadow") else None
    if shadow is not None and shadow.name in names:
        raise EndpointConfigError("The shadow variant needs a name of its own.")
    limit = data.get("max_payload_bytes", DEFAULT_MAX_PAYLOAD_BYTES)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise EndpointConfigError("max_payload_bytes must be a positive whole number.")
    capture = None
    if data.get("capture"):
        raw = data["capture"]
        percentage = raw.get("percentage", 100) if isinstance(raw, dict) else None
        if isinstance(percentage, bool) or not isinstance(percentage, int | float) or not 0 <= percentage <= 100:
            raise EndpointConfigError("The capture percentage must be a number from 0 to 100.")
        if not raw.get("directory"):
            raise EndpointConfigError("Data capture needs a directory.")
        capture = CaptureConfig(percentage=float(percentage), directory=Path(str(raw["directory"])))
    state_dir = Path(str(data["state_dir"])) if data.get("state_dir") else None
    return EndpointConfig(name=name, token_sha256=token, variants=variants, shadow=shadow, max_payload_bytes=limit,
                          allow_missing=bool(data.get("allow_missing", True)), capture=capture, state_dir=state_dir)


def config_load(path: Path | str) -> EndpointConfig:
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise EndpointConfigError(f"The endpoint configuration {path} cannot be read: {error.strerror}.") from None
    except ValueError:
        raise EndpointConfigError(f"The endpoint configuration {path} is not valid JSON.") from None
    return config_parse(data)
