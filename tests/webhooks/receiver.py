"""A real HTTP receiver on loopback for webhook tests: a threaded `http.server` that records every
request it is sent (headers, raw body) and answers as the test says. It can be stopped and started
again on the same port, to play an endpoint that is down for a while."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    status: int = 0  # what the receiver answered

    @property
    def delivery_id(self) -> str:
        return self.headers["x-stateset-delivery-id"]


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.respond: Callable[[Received], int] = lambda _request: 200
        self.delay = 0.0  # seconds to take before answering
        self.port = 0
        self.in_flight: dict[str, int] = {}
        self.most_in_flight: dict[str, int] = {}  # per delivery id: the most requests open at once
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                key = request.headers.get("x-stateset-delivery-id", "")
                with receiver._lock:
                    receiver.in_flight[key] = receiver.in_flight.get(key, 0) + 1
                    receiver.most_in_flight[key] = max(receiver.most_in_flight.get(key, 0), receiver.in_flight[key])
                try:
                    if receiver.delay:
                        time.sleep(receiver.delay)
                    request.status = receiver.respond(request)
                    with receiver._lock:
                        receiver.requests.append(request)
                    self.send_response(request.status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                finally:
                    with receiver._lock:
                        receiver.in_flight[key] -= 1

            def log_message(self, *_args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def answered(self, status: int = 200) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.status == status]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 60) -> None:
        """Until `condition()` holds (a generous deadline: failing it means the delivery never came)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout}s; received {len(self.requests)} requests")
            await asyncio.sleep(0.02)
