"""The CLI's tables at 80 columns (the width of a pipe or a file): phone numbers are never cut
short or wrapped; the other cells wrap, and nothing ends with an ellipsis."""

from __future__ import annotations

import pytest

from saldo.bootstrap import Saldo
from tests.cli import Cli

NUMBERS = ("+5491123456789", "+5491145678901", "+32470123456")


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(saldo_sqlite, capsys)


@pytest.fixture
def eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")


def _register_lines(cli: Cli) -> None:
    cli.ok("lines", "add", NUMBERS[0], "--operator", "movistar-ar", "--language", "es")
    cli.ok("lines", "add", NUMBERS[1], "--operator", "personal-ar", "--language", "zh")
    cli.ok("lines", "add", NUMBERS[2], "--operator", "proximus-be", "--language", "nl")


@pytest.mark.usefixtures("eighty_columns")
def test_lines_list_at_80_columns_shows_every_number_whole_on_one_row(cli: Cli) -> None:
    # given three lines, two of them with 13-digit Argentine numbers
    _register_lines(cli)

    # when they are listed at 80 columns
    shown = cli.ok("lines", "list")

    # then every row is 80 columns at most, each number stands whole, and nothing is cut
    assert max(len(row) for row in shown.splitlines()) <= 80
    for number in NUMBERS:
        assert number in shown
    assert "…" not in shown


@pytest.mark.usefixtures("eighty_columns")
def test_orders_listed_at_80_columns_show_the_whole_number_and_plan(cli: Cli) -> None:
    # given an order for a Movistar Argentina line
    _register_lines(cli)
    cli.ok("orders", "create", NUMBERS[0], "pack-mensual-1m", "--email", "ana@example.org")

    # when the orders are listed at 80 columns
    shown = cli.ok("orders", "list")

    # then the number stands whole on its row and no cell ends with an ellipsis
    assert max(len(row) for row in shown.splitlines()) <= 80
    assert NUMBERS[0] in shown
    assert "…" not in shown


@pytest.mark.usefixtures("eighty_columns")
def test_a_line_shown_at_80_columns_keeps_its_number_and_operator_whole(cli: Cli) -> None:
    # given a Movistar Argentina line
    _register_lines(cli)

    # when it is shown, and its balance asked, at 80 columns
    shown = cli.ok("lines", "show", NUMBERS[0]) + cli.ok("balance", NUMBERS[0])

    # then the number is whole and no cell ends with an ellipsis
    assert NUMBERS[0] in shown
    assert "…" not in shown
