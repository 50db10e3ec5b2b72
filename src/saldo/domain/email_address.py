"""Email addresses in logs and errors: only ever masked."""

from __future__ import annotations


def mask_email(address: str) -> str:
    """An address safe for logs: the first character of the mailbox and the whole domain
    kept, the rest of the mailbox always shown as three stars whatever its length
    (``a***@example.org``). Text without a mailbox and a domain is hidden whole (``***``)."""
    mailbox, at, domain = address.rpartition("@")
    if not at or not mailbox or not domain:
        return "***"
    return f"{mailbox[0]}***@{domain}"
