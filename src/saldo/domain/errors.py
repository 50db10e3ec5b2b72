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
