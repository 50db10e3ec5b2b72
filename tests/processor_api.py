"""A loopback HTTP server that answers like a payment processor's JSON API: each request is
recorded and gets the next queued answer. The Stripe and Mercado Pago adapter tests talk to
it; nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def query(self) -> dict[str, str]:
        """The query-string parameters, one value each."""
        return {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}

    def form(self) -> dict[str, str]:
        """The form-encoded parameters (Stripe's request format), one value each."""
        text = self.body.decode() if self.method == "POST" else urlsplit(self.path).query
        return {key: values[0] for key, values in parse_qs(text).items()}


@dataclass
class FakeApi:
    """Answers each request with the next queued (status, JSON); ``stall`` makes it wait."""

    answers: list[tuple[int, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    stall: bool = False
    released: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def answer(self, status: int, body: Any) -> None:
        self.answers.append((status, body))


@contextmanager
def fake_api(
    monkeypatch: pytest.MonkeyPatch, *, headers: dict[str, str] | None = None
) -> Iterator[FakeApi]:
    """A FakeApi served on 127.0.0.1 (every answer also carries ``headers``)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    fake = FakeApi()
    extra = headers or {}

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received = {name.lower(): value for name, value in self.headers.items()}
            fake.requests.append(
                Request(self.command, self.path, received, self.rfile.read(length))
            )
            if fake.stall:
                fake.released.wait(5)
                return
            status, body = fake.answers.pop(0)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        fake.released.set()
        server.shutdown()
        server.server_close()
