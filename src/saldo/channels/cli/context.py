"""The wired Saldo the CLI commands share, built once per invocation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

    from saldo.bootstrap import Reader, Saldo
    from saldo.config import Settings


@dataclass
class CliState:
    database_url: str | None = None
    _saldo: Saldo | None = field(default=None, repr=False)
    _reader: Reader | None = field(default=None, repr=False)

    def saldo(self, *, check_schema: bool = True) -> Saldo:
        if self._saldo is None:
            # Imported here, not at the top: the database, its migrations and the payment
            # processors' SDKs are what a command costs to start, and `--help` needs none.
            from saldo.bootstrap import bootstrap

            settings = self._settings()
            self._saldo = bootstrap(settings)
            if check_schema:
                self._saldo.check_schema()
        return self._saldo

    def reader(self) -> Reader:
        """What a command that only reads a line's balance needs: on an SQLite file it
        starts without SQLAlchemy (saldo.bootstrap.Reader). The schema is checked."""
        if self._reader is None:
            from saldo.bootstrap import bootstrap_reader

            self._reader = bootstrap_reader(database_url=self.database_url or None)
            self._reader.check_schema()
        return self._reader

    def _settings(self) -> Settings | None:
        """The settings with ``--database-url``, when given: a read replica configured in the
        environment belongs to the environment's database, not to this one."""
        from saldo.config import Settings

        if not self.database_url:
            return None
        return Settings(database_url=self.database_url, read_database_url=None)

    def close(self) -> None:
        if self._saldo is not None:
            self._saldo.close()
        if self._reader is not None:
            self._reader.close()


def state(ctx: typer.Context) -> CliState:
    found = ctx.find_root().obj
    assert isinstance(found, CliState)
    return found
