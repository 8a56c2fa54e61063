"""Loading the models an endpoint serves: each file is checked against the sha256 the studio recorded before
it is opened (the bundle then checks its estimator file against its own manifest), and a multi-model variant
keeps the models it was asked for in an LRU cache."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from engine.training.errors import TrainingError
from engine.training.model import TrainedModel, bundle_load, serving_steps

from .errors import EndpointConfigError, ServingError

TARGET_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


@dataclass
class LoadedModel:
    name: str
    model: TrainedModel
    sha256: str
    has_flow: bool  # a data flow runs before the plan, so input columns may differ from the signature


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def model_load(path: Path, expected_sha256: str, *, name: str = "") -> LoadedModel:
    """Load a bundle whose file must hash to `expected_sha256`; raises EndpointConfigError otherwise."""
    shown = name or path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise EndpointConfigError(f"The model file of {shown} cannot be read ({error.strerror}).") from None
    actual = hashlib.sha256(data).hexdigest()
    if expected_sha256 and actual != expected_sha256:
        raise EndpointConfigError(f"The model file of {shown} does not match its checksum (expected "
                                  f"{expected_sha256[:12]}…, found {actual[:12]}…): it was changed after it was "
                                  "registered, so it is not served.")
    try:
        model = bundle_load(data)
    except TrainingError as error:
        raise EndpointConfigError(f"The model of {shown} cannot be served: {error.message}") from None
    return LoadedModel(name=shown, model=model, sha256=actual, has_flow=bool(serving_steps(model.flow)))


class ModelCache:
    """The bundles of one directory, loaded on first use and kept while among the `size` most recently used."""

    def __init__(self, directory: Path, size: int, checksums: dict[str, str] | None = None) -> None:
        self.directory = directory.resolve()
        self.size = size
        self.checksums = checksums
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self.loads = 0
        self.evictions = 0

    def names(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def get(self, target: str) -> LoadedModel:
        with self._lock:
            found = self._models.get(target)
            if found is not None:
                self._models.move_to_end(target)
                return found
        loaded = self._load(target)
        with self._lock:
            self._models[target] = loaded
            self._models.move_to_end(target)
            self.loads += 1
            while len(self._models) > self.size:
                self._models.popitem(last=False)
                self.evictions += 1
        return loaded

    def _load(self, target: str) -> LoadedModel:
        if not TARGET_MODEL.match(target) or target in (".", ".."):
            raise ServingError(400, "The TargetModel header must name a model file (letters, digits, '.', '_', "
                                    "'-').", "TargetModel")
        expected = ""
        if self.checksums is not None:
            if target not in self.checksums:
                raise ServingError(404, f"This endpoint has no model '{target}'.", "TargetModel")
            expected = self.checksums[target]
        path = (self.directory / target).resolve()
        if path.parent != self.directory or not path.is_file():
            raise ServingError(404, f"This endpoint has no model '{target}'.", "TargetModel")
        try:
            return model_load(path, expected, name=target)
        except EndpointConfigError as error:
            raise ServingError(422, error.message, "TargetModel") from None
