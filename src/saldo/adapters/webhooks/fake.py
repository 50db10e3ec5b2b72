"""A ``WebhookSender`` that keeps requests in memory, for tests and the demo."""

from __future__ import annotations

from collections.abc import Mapping

from saldo.services.ports.webhooks import WebhookNotSent, WebhookRequest, shown_url


class FakeWebhookSender:
    """Records every accepted request in ``sent``, in order, exactly as given (a retried
    request is recorded again, as a real endpoint would receive it again). After
    ``fail_with(reason)`` every send raises WebhookNotSent and records nothing, until
    ``stop_failing()``."""

    def __init__(self) -> None:
        self.sent: list[WebhookRequest] = []
        self._failure: str | None = None

    def send(self, *, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """Record the request; raise WebhookNotSent instead while told to fail."""
        if self._failure is not None:
            raise WebhookNotSent(f"{shown_url(url)} did not take the request: {self._failure}")
        self.sent.append(WebhookRequest(url=url, body=body, headers=dict(headers)))

    def fail_with(self, reason: str) -> None:
        """Make every following send fail with ``reason``."""
        self._failure = reason

    def stop_failing(self) -> None:
        self._failure = None
