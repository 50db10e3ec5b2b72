"""The WebhookSender contract: every adapter (the in-memory fake, the stdlib HTTP one) delivers
a signed JSON event exactly as given, and says so with WebhookNotSent when it cannot.

For HTTP, "arrives" means a real server on 127.0.0.1 (``http.server`` in a thread) received
the POST with the same body and headers. Only loopback addresses are used."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

import pytest

from saldo.adapters.webhooks.fake import FakeWebhookSender
from saldo.adapters.webhooks.http import HttpWebhookSender
from saldo.services.ports.webhooks import WebhookNotSent, WebhookSender

BODY = '{"data":{"msisdn":"+32470123456","to":"grace"},"id":"line-7-grace","op":"é中"}'.encode()
HEADERS = {
    "Content-Type": "application/json",
    "Saldo-Signature": "t=1795359600,v1=" + "ab" * 32,
    "Saldo-Event-Id": "line-7-grace",
}
TOKEN_PATH = "/hooks/tok_s3cret"


@dataclass(frozen=True)
class Arrival:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Endpoint:
    """What the loopback server answers, and what it received."""

    status: int = 204
    delay: float = 0.0
    location: str | None = None
    received: list[Arrival] = field(default_factory=list)


def _handler(endpoint: Endpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            endpoint.received.append(Arrival(self.path, body, dict(self.headers.items())))
            time.sleep(endpoint.delay)
            self.send_response(endpoint.status)
            if endpoint.location:
                self.send_header("Location", endpoint.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, str]]:
    state = Endpoint()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Delivery(Protocol):
    url: str

    @property
    def sender(self) -> WebhookSender: ...

    def arrived(self) -> Arrival: ...

    def nothing_arrived(self) -> bool: ...

    def failing_sender(self) -> WebhookSender: ...


class FakeDelivery:
    url = "https://hooks.example.org" + TOKEN_PATH

    def __init__(self) -> None:
        self.fake = FakeWebhookSender()
        self.sender: WebhookSender = self.fake

    def arrived(self) -> Arrival:
        sent = self.fake.sent.pop(0)
        return Arrival(TOKEN_PATH, sent.body, dict(sent.headers))

    def nothing_arrived(self) -> bool:
        return not self.fake.sent

    def failing_sender(self) -> WebhookSender:
        self.fake.fail_with("told to fail")
        return self.fake


class HttpDelivery:
    def __init__(self, endpoint: Endpoint, base: str) -> None:
        self.endpoint = endpoint
        self.url = base + TOKEN_PATH
        self.sender: WebhookSender = HttpWebhookSender(timeout=5)

    def arrived(self) -> Arrival:
        return self.endpoint.received.pop(0)

    def nothing_arrived(self) -> bool:
        return not self.endpoint.received

    def failing_sender(self) -> WebhookSender:
        self.endpoint.status = 500
        return self.sender


@pytest.fixture(params=["fake", "http"])
def delivery(request: pytest.FixtureRequest) -> Delivery:
    if request.param == "fake":
        return FakeDelivery()
    state, base = request.getfixturevalue("endpoint")
    return HttpDelivery(state, base)


def test_a_signed_event_arrives_exactly_as_sent(delivery: Delivery) -> None:
    delivery.sender.send(url=delivery.url, body=BODY, headers=HEADERS)

    arrival = delivery.arrived()
    assert arrival.path == TOKEN_PATH
    assert arrival.body == BODY
    assert {name: arrival.headers[name] for name in HEADERS} == HEADERS


def test_a_refused_event_raises_webhook_not_sent_without_the_url_s_token(
    delivery: Delivery,
) -> None:
    sender = delivery.failing_sender()

    with pytest.raises(WebhookNotSent) as raised:
        sender.send(url=delivery.url, body=BODY, headers=HEADERS)

    assert raised.value.code == "webhook_not_sent"
    assert "tok_s3cret" not in str(raised.value)


# -- the HTTP adapter's own behaviour ---------------------------------------------------------


def test_a_redirect_is_not_followed_and_counts_as_not_delivered(
    endpoint: tuple[Endpoint, str],
) -> None:
    state, base = endpoint
    state.status, state.location = 307, base + "/elsewhere"

    with pytest.raises(WebhookNotSent, match="HTTP 307"):
        HttpWebhookSender(timeout=5).send(url=base + TOKEN_PATH, body=BODY, headers=HEADERS)

    assert [arrival.path for arrival in state.received] == [TOKEN_PATH]


def test_an_endpoint_that_does_not_answer_in_time_raises_webhook_not_sent(
    endpoint: tuple[Endpoint, str],
) -> None:
    state, base = endpoint
    state.delay = 1.5

    with pytest.raises(WebhookNotSent, match="could not be reached"):
        HttpWebhookSender(timeout=0.5).send(url=base + TOKEN_PATH, body=BODY, headers=HEADERS)


def test_an_endpoint_nobody_listens_on_raises_webhook_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(WebhookNotSent, match="could not be reached"):
        HttpWebhookSender(timeout=2).send(
            url=f"http://127.0.0.1:{port}{TOKEN_PATH}", body=BODY, headers=HEADERS
        )


def test_a_proxy_from_the_environment_is_never_used(
    endpoint: tuple[Endpoint, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, base = endpoint
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")

    HttpWebhookSender(timeout=5).send(url=base + TOKEN_PATH, body=BODY, headers=HEADERS)

    assert state.received[0].body == BODY
