"""The CLI writes each kind of value one way: a line's money in the line's locale (as a top-up
receipt does), allowances grouped as in that locale, exchange rates to six significant
digits; ``--json`` keeps the canonical values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line
from tests.cli import Cli

CLARO_CO = "+573001234567"  # Spanish (Colombia): $10.000
MOVISTAR_AR = "+5491155551234"  # Spanish (Argentina): $9.315,00


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    for msisdn, operator in ((CLARO_CO, "claro-co"), (MOVISTAR_AR, "movistar-ar")):
        add_line(
            saldo_sqlite.uow(),
            new_line=NewLine(msisdn=msisdn, operator=operator),
            now=saldo_sqlite.clock.now(),
        )
    return Cli(saldo_sqlite, capsys)


def test_a_voucher_redemption_prints_money_as_a_top_up_does(cli: Cli, tmp_path: Path) -> None:
    # given a Claro Colombia voucher of 10.000 pesos
    cards = tmp_path / "cards.csv"
    cli.ok(
        "vouchers", "generate", "--operator", "claro-co", "--value", "10.000", "--count", "1",
        "--expires", "2027-06-30", "--out", str(cards),
    )  # fmt: skip
    pin = cards.read_text(encoding="utf-8").splitlines()[1].split(",")[1]

    # when a clerk redeems it for the line, and a top-up follows
    redeemed = cli.ok("vouchers", "redeem", CLARO_CO, pin)
    topped = cli.ok("topup", CLARO_CO, "30.000")

    # then both write pesos the Colombian way, and the batch list does too
    assert redeemed.rstrip().endswith(": $10.000 → balance $10.000")
    assert "top-up: $30.000 to" in topped
    assert "$10.000" in cli.ok("vouchers", "list")


def test_an_order_s_total_reads_the_same_when_created_shown_and_listed(cli: Cli) -> None:
    # given an order for a Movistar Argentina line, as `orders create` prints it
    created = cli.ok("orders", "create", MOVISTAR_AR, "pack-mensual-1m")
    total = re.search(r", (\$[\d.,]+) by card", created)
    assert total is not None, created

    # when the order is shown and listed
    shown = cli.ok("orders", "show", "1")
    listed = cli.ok("orders", "list")

    # then each writes the same amount, the Argentine way
    assert total.group(1) == "$9.315,00"
    assert f"{total.group(1)} by card" in shown
    assert total.group(1) in listed
    assert "ARS" not in shown + listed


def test_voice_minutes_are_grouped_like_data(cli: Cli) -> None:
    # given a line with ten million seconds of voice and two gigabytes of data
    for bucket, amount in (("voice", "10000000"), ("data", str(2048 * 1024 * 1024))):
        cli.ok("adjust", CLARO_CO, amount, "--bucket", bucket, "--reason", "test", "--actor", "ana")

    # when its balance is shown
    shown = cli.ok("balance", CLARO_CO)

    # then minutes and megabytes are both grouped the Colombian way
    assert "166.666 min 40 s" in shown
    assert "2.048 MB" in shown


def test_a_line_shown_writes_its_times_as_every_other_command_does(cli: Cli) -> None:
    # given a Claro Colombia line
    # when it is shown
    shown = cli.ok("lines", "show", CLARO_CO)
    listed = cli.ok("lines", "list")

    # then its validity reads as in `lines list`, to the minute in UTC, not as Python prints it
    valid_until = re.search(r"valid_until\s+│ (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", shown)
    assert valid_until is not None, shown
    assert valid_until.group(1).split()[0] in listed
    assert "+00:00" not in shown
