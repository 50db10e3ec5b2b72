"""``saldo balance`` run by the entry point without Typer prints, refuses and exits exactly as
through Typer (saldo.channels.cli.entry), compared byte for byte in fresh interpreters."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line

THROUGH_TYPER = "import sys\nfrom saldo.channels.cli.main import run\nsys.exit(run(sys.argv[1:]))\n"


def _saldo(args: list[str], *, through_typer: bool, cwd: Path) -> tuple[int, str, str]:
    command = ["-c", THROUGH_TYPER, *args] if through_typer else ["-m", "saldo", *args]
    finished = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
        cwd=cwd,
    )
    return finished.returncode, finished.stdout, finished.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["balance", "+573001234567"],
        ["balance", "--json", "+573001234567"],
        ["balance", "+573009999999"],
        ["balance", "not-a-number"],
        ["--database-url=sqlite:///missing.db", "balance", "+573001234567"],
    ],
    ids=["table", "json", "unknown", "invalid", "missing-database"],
)
def test_a_balance_prints_refuses_and_exits_as_through_typer(
    saldo_sqlite: Saldo, tmp_path: Path, args: list[str]
) -> None:
    # given a database with a Claro Colombia line, named by SALDO_DATABASE_URL
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo_sqlite.clock.now(),
    )
    os.environ["SALDO_DATABASE_URL"] = saldo_sqlite.settings.database_url
    try:
        # when `saldo ARGS` runs through the entry point, and through Typer
        without = _saldo(args, through_typer=False, cwd=tmp_path)
        with_typer = _saldo(args, through_typer=True, cwd=tmp_path)
    finally:
        del os.environ["SALDO_DATABASE_URL"]

    # then both printed the same bytes on each stream and exited with the same code
    assert without == with_typer
    assert without[0] == (0 if args[-1] == "+573001234567" and "missing" not in args[0] else 1)
