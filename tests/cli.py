"""Running ``saldo`` in-process against a test's database, as the integration tests do."""

from __future__ import annotations

import json

import pytest

from saldo.bootstrap import Saldo
from saldo.channels.cli.main import run


class Cli:
    """``cli(*args)`` runs ``saldo`` on the test's database and returns (exit code, stdout,
    stderr); ``ok``, ``json`` and ``refused`` also check how it ended."""

    def __init__(self, saldo: Saldo, capsys: pytest.CaptureFixture[str]) -> None:
        self.saldo = saldo
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = run(["--database-url", self.saldo.settings.database_url, *args])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert (code, err) == (0, ""), err
        return out

    def json(self, *args: str) -> object:
        return json.loads(self.ok(*args, "--json"))

    def refused(self, *args: str) -> str:
        """The one line on stderr of a command refused with exit code 1, without its
        ``saldo: error:`` prefix."""
        code, out, err = self(*args)
        assert (code, out) == (1, "")
        assert err.count("\n") == 1
        return err.removeprefix("saldo: error: ").rstrip("\n")
