"""A ``Mailer`` that keeps emails in memory, for tests and the demo."""

from __future__ import annotations

from saldo.domain.email_address import mask_email
from saldo.services.ports.mail import MailNotSent, OutgoingEmail


class FakeMailer:
    """Records every accepted email in ``sent``, in order, exactly as given (a retried send
    with the same ``message_id`` is recorded again, as a real server would take it again).
    After ``fail_with(reason)`` every send raises MailNotSent and records nothing, until
    ``stop_failing()``."""

    def __init__(self) -> None:
        self.sent: list[OutgoingEmail] = []
        self._failure: str | None = None

    def send(self, email: OutgoingEmail) -> None:
        """Record the email; raise MailNotSent instead while told to fail."""
        if self._failure is not None:
            raise MailNotSent(
                f"the fake mail server did not take email {email.message_id} to "
                f"{mask_email(email.to)}: {self._failure}"
            )
        self.sent.append(email)

    def fail_with(self, reason: str) -> None:
        """Make every following send fail with ``reason``."""
        self._failure = reason

    def stop_failing(self) -> None:
        self._failure = None
