"""Data capture in SageMaker's format: one JSON line per sampled request, in hourly files
`<directory>/<endpoint>/<variant>/YYYY/MM/DD/HH/<endpoint>-<host>-<pid>.jsonl`.

```json
{"captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": "...",
                                   "encoding": "CSV"},
                 "endpointOutput": {"observedContentType": "application/json", "mode": "OUTPUT", "data": "...",
                                    "encoding": "JSON"}},
 "eventMetadata": {"eventId": "...", "inferenceId": "...", "inferenceTime": "2026-11-23T18:00:00Z"},
 "eventVersion": "0"}
```

Each record is one `write` on a file opened with O_APPEND, so lines from several threads or processes never
interleave, and each process writes its own file, so a reader never sees another writer's half line. The
server writes after the response has gone, so a capture never delays the caller.
"""

from __future__ import annotations

import base64
import json
import os
import random
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path

from .config import CaptureConfig

ENCODINGS = {"application/json": "JSON", "text/csv": "CSV"}


def _payload(body: bytes, content_type: str, mode: str) -> dict[str, str]:
    encoding = ENCODINGS.get(content_type.split(";", 1)[0].strip().lower(), "BASE64")
    if encoding != "BASE64":
        try:
            data = body.decode("utf-8")
        except UnicodeDecodeError:
            encoding = "BASE64"
    if encoding == "BASE64":
        data = base64.b64encode(body).decode("ascii")
    return {"observedContentType": content_type, "mode": mode, "data": data, "encoding": encoding}


def capture_record(*, request_body: bytes, request_type: str, response_body: bytes, response_type: str,
                   inference_id: str, when: datetime) -> dict:
    return {
        "captureData": {"endpointInput": _payload(request_body, request_type, "INPUT"),
                        "endpointOutput": _payload(response_body, response_type, "OUTPUT")},
        "eventMetadata": {"eventId": str(uuid.uuid4()), "inferenceId": inference_id,
                          "inferenceTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"},
        "eventVersion": "0",
    }


class DataCapture:
    def __init__(self, config: CaptureConfig, endpoint: str) -> None:
        self.config = config
        self.endpoint = endpoint
        # Sampling, not secrecy: the standard generator is the right tool.
        self._random = random.Random()  # noqa: S311
        self._host = socket.gethostname().split(".")[0] or "host"
        self._descriptors: dict[Path, int] = {}
        self._hour = ""
        self.written = 0

    def sampled(self) -> bool:
        return self._random.random() * 100 < self.config.percentage

    def path(self, variant: str, when: datetime) -> Path:
        return (self.config.directory / self.endpoint / variant / when.strftime("%Y/%m/%d/%H")
                / f"{self.endpoint}-{self._host}-{os.getpid()}.jsonl")

    def write(self, *, variant: str, request_body: bytes, request_type: str, response_body: bytes,
              response_type: str, inference_id: str) -> Path:
        when = datetime.now(UTC)
        record = capture_record(request_body=request_body, request_type=request_type, response_body=response_body,
                                response_type=response_type, inference_id=inference_id, when=when)
        line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()
        path = self.path(variant, when)
        hour = when.strftime("%Y%m%d%H")
        if hour != self._hour:  # the hour turned: last hour's files are complete
            self.close()
            self._hour = hour
        descriptor = self._descriptors.get(path)
        if descriptor is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._descriptors[path] = descriptor
        os.write(descriptor, line)
        self.written += 1
        return path

    def close(self) -> None:
        for descriptor in self._descriptors.values():
            os.close(descriptor)
        self._descriptors.clear()
