"""Which command lines ``saldo``'s entry point runs itself (a plain balance inquiry) and which
it leaves to Typer (saldo.channels.cli.entry)."""

from __future__ import annotations

import pytest

from saldo.channels.cli.entry import BalanceCommand, balance_command


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["balance", "+573001234567"], BalanceCommand(None, "+573001234567", False)),
        (["balance", "+573001234567", "--json"], BalanceCommand(None, "+573001234567", True)),
        (["balance", "--json", "+573001234567"], BalanceCommand(None, "+573001234567", True)),
        (["balance", "3001234567"], BalanceCommand(None, "3001234567", False)),
        (
            ["--database-url", "sqlite:///x.db", "balance", "+573001234567"],
            BalanceCommand("sqlite:///x.db", "+573001234567", False),
        ),
        (
            ["--database-url=sqlite:///x.db", "balance", "--json", "+573001234567"],
            BalanceCommand("sqlite:///x.db", "+573001234567", True),
        ),
    ],
)
def test_a_plain_balance_inquiry_is_run_without_typer(
    argv: list[str], expected: BalanceCommand
) -> None:
    assert balance_command(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--help"],
        ["balance"],
        ["balance", "--help"],
        ["balance", "+573001234567", "--help"],
        ["balance", "+573001234567", "--json", "--json"],
        ["balance", "+573001234567", "+573001234568"],
        ["balance", "-5"],
        ["balance", "--", "+573001234567"],
        ["balance", ""],
        ["balance", "+573001234567", "--jso"],
        ["balance", "+573001234567", "--json=1"],
        ["topup", "+573001234567", "1.000"],
        ["Balance", "+573001234567"],
        ["--database-url", "balance", "+573001234567"],
        ["--database-url=", "balance", "+573001234567"],
        ["--database-url", "-x", "balance", "+573001234567"],
        ["--database-urls=x", "balance", "+573001234567"],
        ["--database-url", "sqlite:///x.db"],
        ["--database-url", "a", "--database-url", "b", "balance", "+573001234567"],
        ["balance", "+573001234567", "--database-url", "sqlite:///x.db"],
    ],
)
def test_any_other_command_line_is_left_to_typer(argv: list[str]) -> None:
    assert balance_command(argv) is None
