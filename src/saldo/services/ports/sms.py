"""The port for sending one SMS to a subscriber (mobile-terminated, "MT").

Use cases and the outbox worker see only ``SmsSender``. The first adapter speaks Kannel's
``sendsms`` HTTP interface (``saldo.adapters.sms.kannel``); an SMPP 3.4 adapter implements
the same Protocol later, so nothing here names HTTP, Kannel or a data coding: choosing GSM-7
or UCS-2 for the text is the adapter's job. ``saldo.adapters.sms.fake`` keeps messages in
memory, and one contract test (tests/integration/adapters/sms/test_sms_sender.py) holds every
adapter to the same behaviour.
"""

from __future__ import annotations

from typing import Protocol

from saldo.domain.errors import SaldoError


class SmsNotSent(SaldoError):
    """The gateway did not take the message for delivery: it refused it (wrong credentials,
    a number it will not route, a full queue) or could not be reached in time.

    The message says why, with the number masked. Whether a retry is safe is the caller's
    decision: after a timeout the gateway may have taken the message all the same, which is
    why every attempt carries the caller's ``message_id``."""

    code = "sms_not_sent"


class SmsSender(Protocol):
    def send(self, *, to: str, sender: str, text: str, message_id: str) -> None:
        """Hand ``text`` to the gateway for delivery to ``to`` (E.164), shown as coming from
        ``sender`` (a short code such as ``121`` or an alphanumeric name).

        Returning means the gateway accepted the message; it does not mean the phone has it
        (that is what delivery reports are for). Any text is accepted: characters outside
        the GSM 03.38 alphabet (Chinese, ``á``, ``–``) make the adapter send the whole message
        as UCS-2 so it arrives intact. ``message_id`` is the caller's stable id for this
        message (the outbox row's key): a retried send passes the same id, and adapters put
        it where a repeated attempt can be recognised (Kannel's adapter logs it beside the
        masked number with every attempt).

        Raises SmsNotSent when the gateway did not take the message.
        """
        ...
