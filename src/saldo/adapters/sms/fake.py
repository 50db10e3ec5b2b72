"""An ``SmsSender`` that keeps messages in memory, for tests and the demo."""

from __future__ import annotations

from dataclasses import dataclass

from saldo.domain.numbering import mask_msisdn
from saldo.services.ports.sms import SmsNotSent


@dataclass(frozen=True, slots=True)
class SentSms:
    """One message as the sender was given it."""

    to: str
    sender: str
    text: str
    message_id: str


class FakeSmsSender:
    """Records every accepted message in ``sent``, in order, exactly as given (a retried
    send with the same ``message_id`` is recorded again, as a real gateway would send it
    again). After ``fail_with(reason)`` every send raises SmsNotSent and records nothing,
    until ``stop_failing()``."""

    def __init__(self) -> None:
        self.sent: list[SentSms] = []
        self._failure: str | None = None

    def send(self, *, to: str, sender: str, text: str, message_id: str) -> None:
        """Record the message; raise SmsNotSent instead while told to fail."""
        if self._failure is not None:
            raise SmsNotSent(
                f"the fake gateway did not take message {message_id} to {mask_msisdn(to)}: "
                f"{self._failure}"
            )
        self.sent.append(SentSms(to=to, sender=sender, text=text, message_id=message_id))

    def fail_with(self, reason: str) -> None:
        """Make every following send fail with ``reason``."""
        self._failure = reason

    def stop_failing(self) -> None:
        self._failure = None
