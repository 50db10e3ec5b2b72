"""The one error a rate file reports: which file, where in it, and what is wrong."""

from __future__ import annotations

from saldo.domain.errors import SaldoError


class UnreadableRateFile(SaldoError):
    """A rate file that cannot be loaded; nothing from it is stored."""

    code = "unreadable_rate_file"

    def __init__(self, problem: str, *, file: str, where: str | None = None) -> None:
        super().__init__(f"{file}: {where}: {problem}" if where else f"{file}: {problem}")
        self.problem = problem
        self.file = file
        self.where = where
