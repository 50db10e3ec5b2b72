"""Ports of conversations: what the SMS and USSD channels remember between messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PendingConfirmation:
    id: int
    action: str
    argument: str


class ConversationRepository(Protocol):
    """What self-service channels remember between messages: gateway message ids with the
    reply given, confirmations waiting for a "yes", and USSD sessions."""

    def recall_reply(self, *, channel: str, message_id: str) -> str | None: ...

    def remember_reply(self, *, channel: str, message_id: str, reply: str, now: datetime) -> None:
        """Keep the reply; a second reply for the same message id is ignored."""
        ...

    def ask_confirmation(
        self, *, line_id: int, action: str, argument: str, expires_at: datetime, now: datetime
    ) -> None:
        """Wait for a confirmation; any earlier question to the line is dropped."""
        ...

    def take_confirmation(self, *, line_id: int, now: datetime) -> PendingConfirmation | None:
        """The line's unexpired pending confirmation, marked resolved; None if none."""
        ...

    def touch_ussd_session(
        self, *, session_id: str, msisdn: str, now: datetime, idle: timedelta, restart: bool
    ) -> datetime | None:
        """Record activity on a USSD session and return when it started; None when it has
        been silent for longer than ``idle`` (then nothing is recorded, unless ``restart``,
        which starts it again now)."""
        ...
