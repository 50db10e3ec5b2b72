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


# RFC 5322 dot-atom-text: what the local part of an address without quotes, and the left
# side of a Message-ID, may hold.
DOT_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
# One ASCII address as a person types it: no display name, no list, no angle brackets.
_ADDRESS = re.compile(DOT_ATOM + r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def is_email_address(text: str) -> bool:
    """Whether ``text`` is exactly one plain ASCII address (``ana@example.org``; an
    internationalised domain in its ``xn--`` form)."""
    return _ADDRESS.fullmatch(text) is not None


class InvalidEmail(SaldoError, ValueError):
    code = "invalid_email"


def check_email(address: str) -> str:
    """``address`` stripped, if it is one plain ASCII address (``ana@example.org``; an
    internationalised domain in its ``xn--`` form); raise InvalidEmail otherwise."""
    stripped = address.strip()
    if len(stripped) > 254 or not is_email_address(stripped):
        raise InvalidEmail(f"{quoted(stripped)} is not an email address")
    return stripped
