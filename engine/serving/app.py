"""The model server of one endpoint: a bare ASGI application (no framework: on this path a framework's
routing, middleware and serialisers cost more than the model itself).

Routes:

- `GET /ping`: health, unauthenticated as SageMaker's is; 200 once the models are loaded.
- `POST /invocations` and `POST /endpoints/<name>/invocations` (the path SageMaker's runtime calls): predictions.
- `GET /metrics`: per-variant counts, errors and latency percentiles as JSON.

Invocations and metrics need `Authorization: Bearer <token>`. A request may pick a variant with
`X-Target-Variant` (SageMaker's TargetVariant) and, on a multi-model variant, a model with `TargetModel`
(or `X-Amzn-SageMaker-Target-Model`); `X-Inference-Id` sets the id recorded with a captured request. The answer
is `{"predictions": [...], "probabilities": [{class: p}...] (classifiers), "variant": ..., "inference_id": ...}`
with the variant also in `X-Variant` and `X-Amzn-Invoked-Production-Variant`.

The shadow variant's prediction, data capture and the metrics file are done after the response is sent, so
they never add to the caller's latency.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pandas as pd

from engine.training.errors import TrainingError
from engine.training.metrics import CLASSIFICATION, REGRESSION
from engine.training.model import EnsembleEstimator, TrainedModel, predict_proba

from .capture import DataCapture
from .config import EndpointConfig, VariantConfig, config_load
from .errors import ServingError
from .inputs import media_type, parse_body, rows_frame
from .metrics import EndpointMetrics
from .models import LoadedModel, ModelCache, model_load

logger = logging.getLogger("engine.serving")
CONFIG_VARIABLE = "STUDIO_ENDPOINT_CONFIG"
JSON_TYPE = "application/json"

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class ClientGone(Exception):
    """The client closed the connection before its request body arrived."""


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), default=_json_default).encode()


def predictions_document(model: LoadedModel, frame: pd.DataFrame) -> dict[str, Any]:
    """The model's answer for the rows of `frame`, in the response's shape: what `predict_frame` gives, built
    straight from the estimator's arrays for the common single-model classifiers and regressors (a DataFrame
    of results costs more than the prediction of one row)."""
    trained = model.model
    try:
        if isinstance(trained.estimator, EnsembleEstimator) or trained.problem_type not in (*CLASSIFICATION,
                                                                                             REGRESSION):
            return _from_frame(trained, trained.predict_frame(frame))
        x = trained.features(frame)  # the fitted flow's per-row steps, then the feature plan
    except TrainingError as error:
        raise ServingError(400, error.message, error.field) from None
    if trained.problem_type == REGRESSION:
        return {"predictions": np.asarray(trained.estimator.predict(x), dtype="float64").tolist()}
    proba = predict_proba(trained.estimator, x)
    codes = np.argmax(proba, axis=1) if proba is not None else np.asarray(trained.estimator.predict(x), int)
    document: dict[str, Any] = {"predictions": np.asarray(trained.classes, dtype=object)[codes].tolist()}
    if proba is not None:
        document["probabilities"] = [dict(zip(trained.classes, row, strict=True)) for row in proba.tolist()]
    return document


def _from_frame(trained: TrainedModel, out: pd.DataFrame) -> dict[str, Any]:
    if trained.problem_type in CLASSIFICATION:
        document: dict[str, Any] = {"predictions": out["prediction"].tolist()}
        columns = [f"probability_{label}" for label in trained.classes]
        if all(column in out.columns for column in columns):
            matrix = np.column_stack([out[column].to_numpy(dtype="float64") for column in columns])
            document["probabilities"] = [dict(zip(trained.classes, row, strict=True)) for row in matrix.tolist()]
        return document
    if trained.problem_type == REGRESSION:
        return {"predictions": out["prediction"].tolist()}
    return {"predictions": out.to_dict(orient="records")}


class EndpointApp:
    def __init__(self, config: EndpointConfig) -> None:
        """Load every model of the endpoint; a model that is missing or fails its checksum raises
        EndpointConfigError, and the server does not start."""
        self.config = config
        self.models: dict[str, LoadedModel] = {}
        self.caches: dict[str, ModelCache] = {}
        for variant in (*config.variants, *([config.shadow] if config.shadow else [])):
            self._load_variant(variant)
        self.capture = DataCapture(config.capture, config.name) if config.capture else None
        self.metrics = EndpointMetrics([variant.name for variant in config.variants], config.state_dir)
        self._random = random.Random()  # noqa: S311 - traffic splitting, not secrecy
        self._variant_names = [variant.name for variant in config.variants]
        self._weights = [variant.weight for variant in config.variants]
        self._invocation_paths = {"/invocations", f"/endpoints/{config.name}/invocations"}

    def _load_variant(self, variant: VariantConfig) -> None:
        if variant.model_directory is not None:
            self.caches[variant.name] = ModelCache(variant.model_directory, variant.cache_size, variant.models)
        else:
            assert variant.model is not None
            self.models[variant.name] = model_load(variant.model, variant.sha256, name=f"variant {variant.name}")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        path, method = scope["path"], scope["method"]
        try:
            if path == "/ping":
                self._allow(method, "GET")
                await _respond(send, 200, b'{"status":"Healthy"}')
            elif path in self._invocation_paths:
                self._allow(method, "POST")
                self._authenticate(headers)
                await self._invoke(headers, receive, send, started)
            elif path == "/metrics":
                self._allow(method, "GET")
                self._authenticate(headers)
                await _respond(send, 200, dumps({"endpoint": self.config.name, **self.metrics.report()}))
            else:
                raise ServingError(404, f"There is no route {path} on this endpoint.")
        except ServingError as error:
            await _respond(send, error.status, _error_body(error), _error_headers(error))
        except ClientGone:
            return

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The models and libraries stay for the life of the process: keeping them out of the garbage
                # collector's scans removes its longest pauses from the requests' tail latency.
                gc.collect()
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.capture is not None:
                    self.capture.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    @staticmethod
    def _allow(method: str, allowed: str) -> None:
        if method != allowed and not (allowed == "GET" and method == "HEAD"):
            raise ServingError(405, f"This route answers {allowed} only.")

    def _authenticate(self, headers: dict[str, str]) -> None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or not self.config.token_matches(token.strip()):
            raise ServingError(401, "Send the endpoint's token as 'Authorization: Bearer <token>'.",
                               "Authorization")

    def _choose(self, headers: dict[str, str]) -> str:
        wanted = headers.get("x-target-variant") or headers.get("x-amzn-sagemaker-target-variant")
        if wanted:
            if wanted not in self._variant_names:
                raise ServingError(400, f"This endpoint has no variant '{wanted}'.", "X-Target-Variant")
            return wanted
        if len(self._variant_names) == 1:
            return self._variant_names[0]
        return self._random.choices(self._variant_names, weights=self._weights)[0]

    def _model(self, variant: str, headers: dict[str, str]) -> LoadedModel:
        cache = self.caches.get(variant)
        if cache is None:
            return self.models[variant]
        target = headers.get("targetmodel") or headers.get("x-amzn-sagemaker-target-model")
        if not target:
            raise ServingError(400, f"Variant {variant} serves many models: name one in the TargetModel header.",
                               "TargetModel")
        return cache.get(target)

    async def _read(self, headers: dict[str, str], receive: Receive) -> bytes:
        limit = self.config.max_payload_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(int(declared))
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise self._too_large(size)
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def _too_large(self, size: int) -> ServingError:
        return ServingError(413, f"The request is {size:,} bytes; real-time invocations take at most "
                                 f"{self.config.max_payload_bytes:,} bytes. Send larger payloads to the endpoint's "
                                 "asynchronous invocations or run a batch transform.")

    def _frame(self, model: LoadedModel, body: bytes, content_type: str) -> pd.DataFrame:
        columns, rows = parse_body(body, content_type)
        return rows_frame(columns, rows, model.model.signature, strict_columns=not model.has_flow,
                          allow_missing=self.config.allow_missing)

    async def _invoke(self, headers: dict[str, str], receive: Receive, send: Send, started: float) -> None:
        content_type = headers.get("content-type", "")
        variant = self._choose(headers)
        inference_id = (headers.get("x-inference-id") or headers.get("x-amzn-sagemaker-inference-id")
                        or str(uuid.uuid4()))[:64]
        answer_headers = [(b"x-variant", variant.encode()), (b"x-amzn-invoked-production-variant", variant.encode()),
                          (b"x-inference-id", inference_id.encode("latin-1", "replace"))]
        model_ms = 0.0
        body = b""
        try:
            if media_type(content_type) not in ("application/json", "text/csv"):
                parse_body(b"", content_type)  # raises the 415 that names the supported types
            body = await self._read(headers, receive)
            model = self._model(variant, headers)
            frame = self._frame(model, body, content_type)
            model_started = time.perf_counter()
            document = predictions_document(model, frame)
            model_ms = (time.perf_counter() - model_started) * 1000
            answer = dumps({**document, "variant": variant, "inference_id": inference_id})
        except ClientGone:
            raise
        except Exception as failure:  # every failure becomes an answer, never a traceback
            error = failure if isinstance(failure, ServingError) else ServingError(
                500, "The model failed on this input; the error is in the endpoint's log.")
            if error.status >= 500:
                logger.exception("Variant %s of endpoint %s failed on a request", variant, self.config.name)
            await _respond(send, error.status, _error_body(error), answer_headers + _error_headers(error))
            self.metrics.record(variant, error.status, (time.perf_counter() - started) * 1000)
            return
        await _respond(send, 200, answer, answer_headers)
        self.metrics.record(variant, 200, (time.perf_counter() - started) * 1000, model_ms)
        # The caller has its answer; what follows costs it nothing.
        sampled = self.capture is not None and self.capture.sampled()
        if sampled:
            self._capture(variant, body, content_type, answer, inference_id)
        if self.config.shadow is not None:
            self._shadow(body, content_type, inference_id, sampled)
        try:
            self.metrics.save()
        except OSError as error:
            logger.warning("Endpoint %s could not save its metrics: %s", self.config.name, error)

    def _capture(self, variant: str, body: bytes, content_type: str, answer: bytes, inference_id: str) -> None:
        assert self.capture is not None
        try:
            self.capture.write(variant=variant, request_body=body, request_type=content_type, response_body=answer,
                               response_type=JSON_TYPE, inference_id=inference_id)
        except OSError as error:  # a full or unwritable disk loses captures, never answers
            logger.warning("Endpoint %s could not write captured data: %s", self.config.name, error)

    def _shadow(self, body: bytes, content_type: str, inference_id: str, sampled: bool) -> None:
        assert self.config.shadow is not None
        name = self.config.shadow.name
        started = time.perf_counter()
        try:
            # The shadow model may take other columns than the production one: it checks the body itself.
            model = self.models[name]
            answer = dumps({**predictions_document(model, self._frame(model, body, content_type)), "variant": name,
                            "inference_id": inference_id})
            status = 200
        except ServingError as error:
            answer, status = _error_body(error), error.status
        except Exception:
            logger.exception("The shadow variant %s of endpoint %s failed", name, self.config.name)
            answer, status = b'{"error":"the shadow model failed"}', 500
        self.metrics.record(name, status, (time.perf_counter() - started) * 1000)
        logger.info("shadow %s inference %s answered %s: %s", name, inference_id, status, answer[:2000].decode())
        if sampled:
            self._capture(name, body, content_type, answer, inference_id)


def _error_body(error: ServingError) -> bytes:
    return dumps({"error": error.message, **({"field": error.field} if error.field else {})})


def _error_headers(error: ServingError) -> list[tuple[bytes, bytes]]:
    return [(b"www-authenticate", b'Bearer realm="endpoint"')] if error.status == 401 else []


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def app_from_environment() -> EndpointApp:
    """The uvicorn factory: the endpoint named by the STUDIO_ENDPOINT_CONFIG file."""
    return EndpointApp(config_load(os.environ[CONFIG_VARIABLE]))
