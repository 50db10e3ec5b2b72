"""``saldo orders quote`` on SQLite: the price with tax broken out, the promotion applied, and
for a payer in another currency the rate (loaded with ``saldo fx load``), its spread, the
payment method's fee and the total. The CLI runs on the real clock, so rates are stamped
relative to it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line
from tests.cli import Cli

MOVISTAR_AR = "+5491155551234"  # movistar-ar: card 3.5 %, PayPal 4.4 % + $300, 2 % spread
TIGO = "+573201234567"  # tigo-co: 20 % off the first plan; card 3.5 %


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """An ARS and a COP line; USD/ARS from an hour ago (bcra), USD/COP from three days ago."""
    now = saldo_sqlite.clock.now()
    for msisdn, operator in ((MOVISTAR_AR, "movistar-ar"), (TIGO, "tigo-co")):
        add_line(saldo_sqlite.uow(), new_line=NewLine(msisdn=msisdn, operator=operator), now=now)
    cli = Cli(saldo_sqlite, capsys)
    real_now = datetime.now(UTC)
    fresh = (real_now - timedelta(hours=1)).isoformat(timespec="seconds")
    old = (real_now - timedelta(days=3)).isoformat(timespec="seconds")
    rates = tmp_path / "rates.csv"
    rates.write_text(f"base,quote,rate,fetched_at\nUSD,ARS,1450.25,{fresh}\n", encoding="utf-8")
    cli.ok("fx", "load", str(rates), "--source", "bcra")
    stale = tmp_path / "cop.csv"
    stale.write_text(f"base,quote,rate,fetched_at\nUSD,COP,3875.50,{old}\n", encoding="utf-8")
    cli.ok("fx", "load", str(stale), "--source", "banrep")
    return cli


def test_an_ars_plan_paid_in_usd_shows_tax_rate_spread_fee_and_total(cli: Cli) -> None:
    shown = cli.ok(
        "orders", "quote", MOVISTAR_AR, "pack-mensual-1m",
        "--addon", "datos-5gb", "--pay-in", "usd", "--method", "paypal",
    )  # fmt: skip

    lines = [" ".join(line.split()) for line in shown.splitlines()]
    assert "Pack Mensual 30 días + 5 GB extra" in shown
    assert "│ price (tax included) │ $13.500,00 │" in lines
    assert "│ net │ $11.157,02 │" in lines
    assert "│ tax (21 %) │ $2.342,98 │" in lines
    assert "│ rate (less a 2 % spread) │ 1 USD = 1.421,24 ARS │" in lines
    assert "│ market rate │ 1 USD = 1.450,25 ARS │" in lines
    assert "│ rate source │ bcra, 1 h old │" in lines
    assert "│ in USD │ US$9,50 │" in lines
    assert "│ fee (paypal) │ US$0,63 │" in lines
    assert "│ total │ US$10,13 │" in lines
    assert "promotion" not in shown


def test_a_quote_for_scripts_has_every_part_with_exact_amounts(cli: Cli) -> None:
    quoted = json.loads(cli.ok("orders", "quote", TIGO, "paquete-todo-1m", "--json"))

    assert quoted == {
        "msisdn": TIGO,
        "plan": "paquete-todo-1m",
        "addons": [],
        "gross": {"amount": "27000.00", "currency": "COP", "minor": 2700000},
        "promotion": "20 % en tu primer paquete",
        "discount": {"amount": "5400.00", "currency": "COP", "minor": 540000},
        "free_months": 0,
        "price": {"amount": "21600.00", "currency": "COP", "minor": 2160000},
        "tax_rate": "0.19",
        "net": {"amount": "18151.00", "currency": "COP", "minor": 1815100},
        "tax": {"amount": "3449.00", "currency": "COP", "minor": 344900},
        "pay_in": "COP",
        "rate": None,
        "market_rate": None,
        "spread": None,
        "converted": {"amount": "21600.00", "currency": "COP", "minor": 2160000},
        "method": "card",
        "fee": {"amount": "756.00", "currency": "COP", "minor": 75600},
        "total": {"amount": "22356.00", "currency": "COP", "minor": 2235600},
    }


def test_a_quote_in_usd_for_scripts_names_the_rates(cli: Cli) -> None:
    quoted = json.loads(
        cli.ok("orders", "quote", MOVISTAR_AR, "pack-mensual-1m", "--pay-in", "USD", "--json")
    )

    assert (quoted["rate"]["base"], quoted["rate"]["quote"]) == ("USD", "ARS")
    assert (quoted["rate"]["rate"], quoted["market_rate"]["rate"]) == ("1421.2450", "1450.25")
    assert (quoted["rate"]["source"], quoted["spread"]) == ("bcra", "0.02")
    # 9000 / 1421.245 = 6.3325... → 6.33; 3.5 % of it = 0.22155 → 0.22
    assert quoted["converted"]["amount"] == "6.33"
    assert (quoted["fee"]["amount"], quoted["total"]["amount"]) == ("0.22", "6.55")


def test_a_stale_rate_is_refused_in_one_line(cli: Cli) -> None:
    error = cli.refused("orders", "quote", TIGO, "paquete-todo-1m", "--pay-in", "USD")

    assert "the USD/COP rate from banrep was fetched" in error
    assert error.endswith("quotes accept rates up to 24 h old")


def test_an_unknown_plan_add_on_or_method_is_refused(cli: Cli) -> None:
    assert cli.refused("orders", "quote", TIGO, "oro") == "Tigo has no plan 'oro'"
    assert (
        cli.refused("orders", "quote", TIGO, "paquete-todo-1m", "--addon", "datos-99gb")
        == "Tigo has no add-on 'datos-99gb'"
    )
    assert cli.refused("orders", "quote", TIGO, "paquete-todo-1m", "--method", "cash").startswith(
        "'cash' is not a payment method"
    )
    assert (
        cli.refused("orders", "quote", TIGO, "paquete-todo-1m", "--pay-in", "USD", "--method",
                    "balance")
        == "the line's balance pays in COP, not USD"
    )  # fmt: skip


def test_a_dutch_speaking_line_sees_its_plan_and_add_on_named_in_dutch(cli: Cli) -> None:
    # given a Proximus line that speaks Dutch (the operator's first language is French)
    now = cli.saldo.clock.now()
    dutch = NewLine(msisdn="+32475987654", operator="proximus-be", language="nl")
    add_line(cli.saldo.uow(), new_line=dutch, now=now)

    # when its order is quoted
    shown = cli.ok("orders", "quote", "+32475987654", "mobile-smart-1m", "--addon", "data-5gb")

    # then the title names the plan and the add-on as its SMS and receipt do
    assert "Mobile Smart 1 maand + 5 GB extra" in shown
    assert "mois" not in shown
