"""A real HTTP server standing in for a partner's or site's webhook endpoint: it keeps every
request it gets (headers and raw body) and answers with the status the test sets, failing the
first `fail_first` requests or every one while `down`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec


class Received(msgspec.Struct, frozen=True):
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answers = 0
        self.fail_first = 0
        self.down = False
        self.url = ""
        self._lock = threading.Lock()

    def status(self) -> int:
        with self._lock:
            self.answers += 1
            return 503 if self.down or self.answers <= self.fail_first else 204

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def keep(self, request: Received) -> None:
        with self._lock:
            self.requests.append(request)


@contextmanager
def webhook_receiver() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver.status()
            if status < 300:
                receiver.keep(
                    Received(
                        path=self.path,
                        headers={k.lower(): v for k, v in self.headers.items()},
                        body=body,
                    )
                )
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/carebridge"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
