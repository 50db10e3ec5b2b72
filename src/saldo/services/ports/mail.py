"""The port for sending one email to a subscriber (order receipts, renewal confirmations).

Use cases and the outbox worker see only ``Mailer`` and ``OutgoingEmail``: plain data,
already rendered in the line's language. The real adapter speaks SMTP
(``saldo.adapters.email.smtp``); ``saldo.adapters.email.fake`` keeps emails in memory, and
one contract test (tests/integration/adapters/email/test_mailer.py) holds both to the same
behaviour. Nothing here names SMTP, MIME or a transfer encoding: turning the value into a
multipart/alternative message is the adapter's job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from saldo.domain.email_address import DOT_ATOM, is_email_address
from saldo.domain.errors import SaldoError

_MESSAGE_ID = re.compile(DOT_ATOM)
_MAX_MESSAGE_ID = 200
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")
_HEADER_NAME = re.compile(r"[!-9;-~]+")
# Headers the adapter writes from the value itself; extra headers may not replace them.
_OWN_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "sender",
        "reply-to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
        "content-language",
    }
)


class MailNotSent(SaldoError):
    """The mail server did not take the email for delivery: it refused the recipient, the
    sender or the login, or could not be reached in time.

    The message says why, with the recipient masked and never a password. Whether a retry is
    safe is the caller's decision: after a timeout during the send the server may have taken
    the email all the same, which is why every attempt carries the caller's ``message_id``."""

    code = "mail_not_sent"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One email, already written in the recipient's language.

    - ``to``: one ASCII address (``ana@example.org``; an internationalised domain in its
      ``xn--`` form);
    - ``subject``, ``text`` and ``html``: the same content as plain text and as HTML; any
      Unicode (Chinese, ``ñ``, ``€``) arrives intact;
    - ``language``: the BCP 47 tag of that language (``es-AR``, ``zh-CN``), sent as
      ``Content-Language``;
    - ``message_id``: the caller's stable id for this email (the outbox row's key): letters,
      digits and ``!#$%&'*+/=?^_`{|}~-``, dot-separated, at most 200 characters. A retried
      send passes the same id, so the recipient's mail program sees the same Message-ID;
    - ``reply_to``: where answers go, when not to the sender;
    - ``headers``: further headers (``Auto-Submitted``, ``List-Unsubscribe``); they may not
      replace the ones above or the MIME ones.

    Raises ValueError when a field could not travel as given (a second address, a line
    break in the subject, an id outside the set above).
    """

    to: str
    subject: str
    text: str
    html: str
    language: str
    message_id: str
    reply_to: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, address in (("to", self.to), ("reply_to", self.reply_to)):
            if address is not None and not is_email_address(address):
                raise ValueError(f"{name} must be one email address")
        if len(self.message_id) > _MAX_MESSAGE_ID or not _MESSAGE_ID.fullmatch(self.message_id):
            raise ValueError(f"message_id {self.message_id!r} cannot go into a Message-ID")
        if not _LANGUAGE.fullmatch(self.language):
            raise ValueError(f"language {self.language!r} is not a BCP 47 tag")
        if _has_line_break(self.subject):
            raise ValueError("the subject must be one line")
        for name, value in self.headers.items():
            if not _HEADER_NAME.fullmatch(name) or name.lower() in _OWN_HEADERS:
                raise ValueError(f"{name!r} cannot be an extra header")
            if _has_line_break(value):
                raise ValueError(f"the {name} header must be one line")


def _has_line_break(text: str) -> bool:
    # The email package reads headers back with str.splitlines(), so every line break it
    # knows (not only CR and LF) would cut a header or smuggle in another.
    return text.splitlines() not in ([], [text])


class Mailer(Protocol):
    def send(self, email: OutgoingEmail) -> None:
        """Hand ``email`` to the mail server for delivery, from the sender the adapter was
        configured with, as one message with a plain-text and an HTML alternative.

        Returning means the server accepted it for its recipient; it does not mean it
        reached the inbox (a bounce may still come). The Message-ID carries
        ``email.message_id``, so a retried send is recognisable as the same email.

        Raises MailNotSent when the server did not take the email.
        """
        ...
