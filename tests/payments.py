"""Payment processors that fail on cue, for the tests of what must survive a failure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from saldo.adapters.payments import sandbox as cards
from saldo.domain.money import Money
from saldo.services.ports.payments import PaymentEvent, PaymentResult


class Flaky:
    """The sandbox, with the failures a test asks for on the next ``create_payment`` calls
    (after the sandbox has taken the payment, as when the answer is lost on the way)."""

    name = "sandbox"

    def __init__(self, real: cards.SandboxProvider, failures: list[Exception]) -> None:
        self._real = real
        self._failures = failures

    def create_payment(self, **request: object) -> PaymentResult:
        result = self._real.create_payment(**request)  # type: ignore[arg-type]
        if self._failures:
            raise self._failures.pop(0)
        return result

    def fetch_payment(self, reference: str) -> PaymentResult:
        return self._real.fetch_payment(reference)

    def find_payment(self, *, idempotency_key: str, order_reference: str) -> PaymentResult | None:
        return self._real.find_payment(
            idempotency_key=idempotency_key, order_reference=order_reference
        )

    def refund(self, reference: str, *, amount: Money, idempotency_key: str) -> None:
        self._real.refund(reference, amount=amount, idempotency_key=idempotency_key)

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> PaymentEvent:
        return self._real.parse_webhook(body=body, headers=headers, now=now)
