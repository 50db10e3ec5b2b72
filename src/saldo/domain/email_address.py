"""Email addresses: checked when a subscriber gives one, only ever masked in logs. A refusal
shows the person what they typed (see ``errors.quoted``)."""

from __future__ import annotations

import re

from saldo.domain.errors import SaldoError, quoted


def mask_email(address: str) -> str:
    """An address safe for logs: the first character of the mailbox and the whole domain
    kept, the rest of the mailbox always shown as three stars whatever its length
    (``a***@example.org``). Text without a mailbox and a domain is hidden whole (``***``)."""
    mailbox, at, domain = address.rpartition("@")
    if not at or not mailbox or not domain:
        return "***"
    return f"{mailbox[0]}***@{domain}"


_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
)


class InvalidEmail(SaldoError, ValueError):
    code = "invalid_email"


def check_email(address: str) -> str:
    """``address`` stripped, if it is one plain ASCII address (``ana@example.org``; an
    internationalised domain in its ``xn--`` form); raise InvalidEmail otherwise."""
    stripped = address.strip()
    if len(stripped) > 254 or not _ADDRESS.fullmatch(stripped):
        raise InvalidEmail(f"{quoted(stripped)} is not an email address")
    return stripped
