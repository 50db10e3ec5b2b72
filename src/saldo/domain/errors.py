"""The root of the errors Saldo reports to people.

Each error is defined beside the code that raises it and carries a machine-readable ``code``
(``amount_below_minimum``, ``line_not_found``, ...). Channels catch ``SaldoError`` and turn it
into the subscriber's language, an API 4xx or one line on the CLI's stderr.
"""

from __future__ import annotations


class SaldoError(Exception):
    code: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def quoted(text: str, *, limit: int = 40) -> str:
    """What a person typed, for an error that tells them: quoted with its special characters
    escaped (a newline cannot split the one line of an error), and cut after ``limit``
    characters with how long it was (``'aaaa…' (312 characters)``)."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit] + '…'!r} ({len(text)} characters)"
