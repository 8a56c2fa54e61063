"""A serverless endpoint answers at most `max_concurrency` invocations at once."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.serving.errors import ServingError
from engine.serving.supervisor import RUNNING, ServerlessEndpoint

release = threading.Event()
arrived = threading.Event()


class SlowHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        arrived.set()
        release.wait(10)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


class RunningServer:
    """Stands in for an EndpointProcess that is already up."""

    state = RUNNING
    pid = 1

    def __init__(self, port: int) -> None:
        self.host, self.port = "127.0.0.1", port


def test_an_invocation_over_the_concurrency_limit_is_a_429() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = ServerlessEndpoint(RunningServer(server.server_address[1]), max_concurrency=1)  # type: ignore[arg-type]
    answers = []
    first = threading.Thread(target=lambda: answers.append(endpoint.invoke("/invocations", b"{}", {})))
    try:
        first.start()
        assert arrived.wait(10)
        with pytest.raises(ServingError) as refused:
            endpoint.invoke("/invocations", b"{}", {})
        assert refused.value.status == 429
        release.set()
        first.join(10)
        assert answers[0].status == 200 and answers[0].cold_start_seconds is None
        assert endpoint.invoke("/invocations", b"{}", {}).status == 200  # the slot was given back
    finally:
        release.set()
        server.shutdown()
