"""The wired Saldo the CLI commands share, built once per invocation."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from saldo.bootstrap import Saldo, bootstrap
from saldo.config import Settings


@dataclass
class CliState:
    database_url: str | None = None
    _saldo: Saldo | None = field(default=None, repr=False)

    def saldo(self, *, check_schema: bool = True) -> Saldo:
        if self._saldo is None:
            settings = Settings(database_url=self.database_url) if self.database_url else None
            self._saldo = bootstrap(settings)
            if check_schema:
                self._saldo.check_schema()
        return self._saldo

    def close(self) -> None:
        if self._saldo is not None:
            self._saldo.close()


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_root().obj
    assert isinstance(found, CliState)
    return found
