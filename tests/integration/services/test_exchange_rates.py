"""Exchange rates on SQLite and PostgreSQL: loading (all or nothing, once), the latest rate
of a pair, its inverse or a cross rate, the refusal of stale rates, quotes in the payer's
currency; and ``saldo fx`` on the command line.

The fixed clock reads Sunday 2026-11-22 15:00 UTC. The ECB sample is Friday's, published at
16:00 in Frankfurt (15:00 UTC): 48 hours old, too old for the default 24-hour limit.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from saldo.adapters.db import tables as t
from saldo.adapters.fx.errors import UnreadableRateFile
from saldo.bootstrap import Saldo, parse_rates_file
from saldo.channels.cli.main import run
from saldo.domain.fx import ExchangeRate, InvalidRate, StaleRate, UnknownRate
from saldo.domain.money import Money, UnknownCurrency
from saldo.services.exchange_rates import (
    LoadedRates,
    UnableToLoadRates,
    latest_rate,
    list_rates,
    load_rates,
    quote_price,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "eurofxref-daily.xml"
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
THREE_DAYS = timedelta(hours=72)
ECB_PUBLISHED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
BCRA_AT = datetime(2026, 11, 22, 13, 0, tzinfo=UTC)

ARS_CSV = "base,quote,rate,fetched_at\nUSD,ARS,1450.25,{at}\nEUR,ARS,1687.40,{at}\n"
COP_JSON: dict[str, Any] = {
    "source": "banrep",
    "fetched_at": "2026-11-22T12:00:00Z",
    "rates": [{"base": "USD", "quote": "COP", "rate": "3875.50"}],
}


def rate(base: str, quote: str, value: str, *, source: str, at: datetime) -> ExchangeRate:
    return ExchangeRate(base=base, quote=quote, rate=Decimal(value), source=source, fetched_at=at)


def given_file(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def given_rates(saldo: Saldo, tmp_path: Path) -> None:
    """The ECB sample, ARS against USD and EUR from "bcra", COP against USD from "banrep"."""
    ars = given_file(tmp_path, "ars.csv", ARS_CSV.format(at="2026-11-22T13:00:00Z"))
    cop = given_file(tmp_path, "cop.json", json.dumps(COP_JSON))
    for path, source in ((SAMPLE, None), (ars, "bcra"), (cop, None)):
        rates = parse_rates_file(path, fmt=None, source=source, now=NOW)
        load_rates(saldo.uow(), rates=rates, now=NOW)


def stored_count(saldo: Saldo) -> int:
    with saldo.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(t.exchange_rates)).scalar())


# -- loading ----------------------------------------------------------------------------------


def test_loaded_rates_come_back_with_every_digit_their_source_and_time(saldo: Saldo) -> None:
    rates = [
        rate("EUR", "GBP", "0.88130", source="ecb", at=ECB_PUBLISHED),
        rate("USD", "ARS", "1450.25000000000000000000000000000000001", source="x", at=BCRA_AT),
        rate("ARS", "USD", "0.000689536286847095", source="x", at=BCRA_AT),
        rate("EUR", "IDR", "19402.35", source="ecb", at=ECB_PUBLISHED),
    ]

    loaded = load_rates(saldo.uow(), rates=rates, now=NOW)

    assert loaded == LoadedRates(stored=4, unchanged=0)
    assert list_rates(saldo.uow()) == sorted(rates, key=lambda r: (r.base, r.quote))
    assert [str(r.rate) for r in list_rates(saldo.uow())][:2] == [
        "0.000689536286847095",
        "0.88130",
    ]
    with saldo.engine.connect() as connection:
        loaded_at = connection.execute(select(t.exchange_rates.c.loaded_at)).scalars().all()
    assert set(loaded_at) == {NOW}


def test_loading_the_same_file_again_stores_nothing_new(saldo: Saldo) -> None:
    rates = parse_rates_file(SAMPLE, fmt=None, source=None, now=NOW)
    load_rates(saldo.uow(), rates=rates, now=NOW)

    again = load_rates(saldo.uow(), rates=rates, now=NOW + timedelta(hours=1))

    assert again == LoadedRates(stored=0, unchanged=29)
    assert stored_count(saldo) == 29


def test_a_load_that_contradicts_a_stored_rate_stores_none_of_its_rates(saldo: Saldo) -> None:
    load_rates(saldo.uow(), rates=parse_rates_file(SAMPLE, fmt=None, source=None, now=NOW), now=NOW)
    new_and_contradicting = [
        rate("USD", "ARS", "1450.25", source="ecb", at=BCRA_AT),
        rate("EUR", "USD", "1.1700", source="ecb", at=ECB_PUBLISHED),
    ]

    with pytest.raises(UnableToLoadRates) as refused:
        load_rates(saldo.uow(), rates=new_and_contradicting, now=NOW)

    assert refused.value.message == (
        "ecb already gave EUR/USD at 2026-11-20 15:00 UTC as 1.1632, not 1.1700"
    )
    assert stored_count(saldo) == 29


def test_a_bad_file_stores_nothing(saldo: Saldo, tmp_path: Path) -> None:
    path = given_file(tmp_path, "ars.csv", "base,quote,rate\nUSD,ARS,1450.25\nEUR,ARS,1687,40\n")

    with pytest.raises(UnreadableRateFile, match=r"ars\.csv: line 3: 4 fields"):
        load_rates(
            saldo.uow(), rates=parse_rates_file(path, fmt=None, source="b", now=NOW), now=NOW
        )

    assert stored_count(saldo) == 0


@pytest.mark.parametrize(
    ("rates", "message"),
    [
        ([], "there are no rates to load"),
        (
            [rate("USD", "ARS", "1450.25", source="bcra", at=NOW + timedelta(minutes=6))],
            "the USD/ARS rate from bcra is stamped 2026-11-22 15:06 UTC, later than now",
        ),
        (
            [rate("USD", "ARS", "1450.25", source="b" * 65, at=BCRA_AT)],
            "a source name has at most 64 characters",
        ),
        (
            [rate("USD", "ARS", "1450." + "2" * 40, source="bcra", at=BCRA_AT)],
            "the USD/ARS rate has more than 40 characters",
        ),
    ],
)
def test_rates_that_cannot_be_stored_are_refused(
    saldo: Saldo, rates: list[ExchangeRate], message: str
) -> None:
    with pytest.raises(UnableToLoadRates) as refused:
        load_rates(saldo.uow(), rates=rates, now=NOW)

    assert refused.value.message == message
    assert stored_count(saldo) == 0


def test_a_cross_rate_is_not_stored_as_if_a_source_had_quoted_it(saldo: Saldo) -> None:
    from saldo.domain.fx import cross

    eur_cop = cross(
        rate("EUR", "USD", "1.1632", source="ecb", at=ECB_PUBLISHED),
        rate("USD", "COP", "3875.50", source="banrep", at=BCRA_AT),
    )

    with pytest.raises(UnableToLoadRates, match="cross rate via USD"):
        load_rates(saldo.uow(), rates=[eur_cop], now=NOW)


def test_a_rate_a_few_minutes_ahead_of_our_clock_is_accepted(saldo: Saldo) -> None:
    ahead = rate("USD", "ARS", "1450.25", source="bcra", at=NOW + timedelta(minutes=5))

    assert load_rates(saldo.uow(), rates=[ahead], now=NOW).stored == 1


# -- the rate a quote uses --------------------------------------------------------------------


def test_the_stored_pair_is_used_first(saldo: Saldo, tmp_path: Path) -> None:
    given_rates(saldo, tmp_path)

    found = latest_rate(saldo.uow(), base="USD", quote="ARS", max_age=DAY, now=NOW)

    assert found == rate("USD", "ARS", "1450.25", source="bcra", at=BCRA_AT)


def test_the_newest_of_a_pair_wins_over_older_ones(saldo: Saldo) -> None:
    older = rate("USD", "ARS", "1440.00", source="bcra", at=BCRA_AT - timedelta(hours=4))
    newer = rate("USD", "ARS", "1450.25", source="bcra", at=BCRA_AT)
    other_source = rate("USD", "ARS", "1449.00", source="mep", at=BCRA_AT - timedelta(hours=1))
    load_rates(saldo.uow(), rates=[newer, older, other_source], now=NOW)

    assert latest_rate(saldo.uow(), base="USD", quote="ARS", max_age=DAY, now=NOW) == newer
    assert list_rates(saldo.uow()) == [newer]


def test_the_inverse_is_used_when_only_the_other_way_is_stored(
    saldo: Saldo, tmp_path: Path
) -> None:
    given_rates(saldo, tmp_path)

    found = latest_rate(saldo.uow(), base="ARS", quote="USD", max_age=DAY, now=NOW)

    assert (found.pair, found.rate, found.source, found.via) == (
        "ARS/USD",
        Decimal("0.000689536286847"),
        "bcra",
        None,
    )


def test_a_fresh_inverse_is_used_when_the_stored_pair_is_stale(saldo: Saldo) -> None:
    stale = rate("USD", "ARS", "1300.00", source="old", at=NOW - timedelta(days=3))
    fresh = rate("ARS", "USD", "0.0008", source="new", at=BCRA_AT)
    load_rates(saldo.uow(), rates=[stale, fresh], now=NOW)

    found = latest_rate(saldo.uow(), base="USD", quote="ARS", max_age=DAY, now=NOW)

    assert (found.rate, found.source) == (Decimal("1250"), "new")


def test_a_cross_rate_through_the_euro_links_the_yuan_to_the_peso(
    saldo: Saldo, tmp_path: Path
) -> None:
    given_rates(saldo, tmp_path)

    found = latest_rate(saldo.uow(), base="CNY", quote="ARS", max_age=THREE_DAYS, now=NOW)

    assert (found.pair, found.via, found.source) == ("CNY/ARS", "EUR", "ecb+bcra")
    assert found.rate == Decimal("204.657368102")  # 1687.40 / 8.2450, to 12 digits
    assert found.fetched_at == ECB_PUBLISHED


def test_a_cross_rate_through_the_dollar_when_the_euro_does_not_link_them(
    saldo: Saldo, tmp_path: Path
) -> None:
    given_rates(saldo, tmp_path)

    found = latest_rate(saldo.uow(), base="EUR", quote="COP", max_age=THREE_DAYS, now=NOW)

    assert (found.pair, found.via, found.source) == ("EUR/COP", "USD", "ecb+banrep")
    assert found.rate == Decimal("4507.981600")  # 1.1632 × 3875.50


def test_a_cross_rate_with_a_stale_leg_is_refused(saldo: Saldo, tmp_path: Path) -> None:
    given_rates(saldo, tmp_path)

    with pytest.raises(StaleRate) as refused:
        latest_rate(saldo.uow(), base="CNY", quote="ARS", max_age=DAY, now=NOW)

    assert refused.value.age == timedelta(hours=48)
    assert refused.value.message == (
        "the CNY/ARS rate from ecb+bcra was fetched 2026-11-20 15:00 UTC, 2 d ago; quotes "
        "accept rates up to 24 h old"
    )


def test_a_stale_pair_is_refused_when_nothing_fresher_links_the_currencies(
    saldo: Saldo, tmp_path: Path
) -> None:
    given_rates(saldo, tmp_path)

    with pytest.raises(StaleRate, match="the EUR/USD rate from ecb"):
        latest_rate(saldo.uow(), base="EUR", quote="USD", max_age=DAY, now=NOW)


def test_currencies_no_rate_links_are_refused(saldo: Saldo, tmp_path: Path) -> None:
    given_rates(saldo, tmp_path)

    # CNY reaches EUR, but COP is quoted against USD only, and nothing links CNY to USD.
    with pytest.raises(UnknownRate) as refused:
        latest_rate(saldo.uow(), base="CNY", quote="COP", max_age=THREE_DAYS, now=NOW)

    assert refused.value.message == (
        "no rate links CNY and COP: load one for the pair, or for each of them against EUR or USD"
    )


def test_a_currency_needs_no_rate_to_itself(saldo: Saldo) -> None:
    with pytest.raises(InvalidRate, match="ARS to ARS needs no exchange rate"):
        latest_rate(saldo.uow(), base="ARS", quote="ARS", max_age=DAY, now=NOW)


def test_an_argentine_plan_is_quoted_in_dollars_with_the_spread(
    saldo: Saldo, tmp_path: Path
) -> None:
    given_rates(saldo, tmp_path)

    quote = quote_price(
        saldo.uow(),
        price=Money.of("25000.00", "ARS"),
        pay_in="USD",
        spread=Decimal("0.02"),
        rounding=ROUND_HALF_UP,
        max_age=DAY,
        now=NOW,
    )

    assert quote.to_pay == Money.of("17.59", "USD")  # 25,000 / (1450.25 × 0.98)
    assert quote.rate.rate == Decimal("1421.2450")
    assert quote.market_rate.rate == Decimal("1450.25")
    assert (quote.spread, quote.rounding) == (Decimal("0.02"), ROUND_HALF_UP)


def test_a_colombian_plan_is_quoted_in_yuan_is_refused_without_a_link(
    saldo: Saldo, tmp_path: Path
) -> None:
    given_rates(saldo, tmp_path)

    with pytest.raises(UnknownRate):
        quote_price(
            saldo.uow(),
            price=Money.of("50000", "COP"),
            pay_in="CNY",
            spread=Decimal("0"),
            rounding=ROUND_HALF_UP,
            max_age=THREE_DAYS,
            now=NOW,
        )


def test_a_payer_currency_saldo_keeps_no_money_in_is_refused(saldo: Saldo) -> None:
    with pytest.raises(UnknownCurrency):
        quote_price(
            saldo.uow(),
            price=Money.of("25000.00", "ARS"),
            pay_in="HUF",
            spread=Decimal("0"),
            rounding=ROUND_HALF_UP,
            max_age=DAY,
            now=NOW,
        )


# -- saldo fx ---------------------------------------------------------------------------------


class Cli:
    def __init__(self, saldo: Saldo, capsys: pytest.CaptureFixture[str]) -> None:
        self.saldo = saldo
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = run(["--database-url", self.saldo.settings.database_url, "fx", *args])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert (code, err) == (0, "")
        return out

    def refused(self, *args: str) -> str:
        """The one error line of a refused command, which printed and wrote nothing."""
        before = stored_count(self.saldo)
        code, out, err = self(*args)
        assert (code, out) == (1, "")
        assert err.count("\n") == 1
        assert err.startswith("saldo: error: ")
        assert stored_count(self.saldo) == before
        return err.removeprefix("saldo: error: ").rstrip("\n")


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(saldo_sqlite, capsys)


def an_hour_ago() -> str:
    """The CLI runs on the real clock."""
    return (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="seconds")


def latest_ecb_file(tmp_path: Path) -> Path:
    """The last file the ECB published before now: today's after 16:00 Frankfurt time, else
    yesterday's, so that its rates are under 24 h old at any hour the suite runs."""
    frankfurt = datetime.now(ZoneInfo("Europe/Berlin"))
    published_today = frankfurt.hour >= 16
    day = (
        frankfurt.date() if published_today else frankfurt.date() - timedelta(days=1)
    ).isoformat()
    text = SAMPLE.read_text().replace("2026-11-20", day)
    return given_file(tmp_path, "eurofxref-daily.xml", text)


def test_fx_load_list_and_convert_for_people(cli: Cli, tmp_path: Path) -> None:
    ars = given_file(tmp_path, "ars.csv", ARS_CSV.format(at=an_hour_ago()))

    loaded = cli.ok("load", str(ars), "--source", "bcra")
    listed = cli.ok("list")
    converted = cli.ok("convert", "25,000", "--from", "ARS", "--to", "USD", "--spread", "0.02")

    assert f"{ars}: 2 rate(s) from bcra, fetched up to " in loaded
    assert loaded.endswith("; 2 stored, 0 already stored\n")
    assert "USD/ARS" in listed and "1,450.25" in listed and "bcra" in listed
    assert "Quotes use rates up to 24 h old" in listed
    price, shown_rate, source, rounding = converted.splitlines()
    assert price == "ARS25,000.00 = $17.59"
    assert shown_rate == "rate: 1 USD = 1,421.24 ARS (market 1,450.25, less a 2 % spread)"
    assert source.startswith("source: bcra, fetched ")
    assert source.endswith(", 1 h ago (quotes accept up to 24 h)")
    assert rounding == "rounding: ROUND_HALF_UP"


def test_fx_commands_for_scripts(cli: Cli, tmp_path: Path) -> None:
    cop = given_file(tmp_path, "cop.json", json.dumps({**COP_JSON, "fetched_at": an_hour_ago()}))

    loaded = json.loads(cli.ok("load", str(cop), "--json"))
    listed = json.loads(cli.ok("list", "--json"))
    converted = json.loads(
        cli.ok("convert", "50.000", "--from", "COP", "--to", "USD", "--locale", "es_CO", "--json")
    )

    assert (loaded["stored"], loaded["unchanged"]) == (1, 0)
    assert loaded["rates"][0]["rate"] == "3875.50"
    assert [(r["base"], r["quote"], r["rate"], r["fresh"]) for r in listed] == [
        ("USD", "COP", "3875.50", True)
    ]
    assert converted["amount"] == {"amount": "50000.00", "currency": "COP", "minor": 5000000}
    assert converted["result"] == {"amount": "12.90", "currency": "USD", "minor": 1290}
    assert converted["rate"]["rate"] == "3875.50"
    assert converted["rate"]["source"] == "banrep"
    assert 3590 <= converted["rate"]["age_seconds"] <= 3700
    assert (converted["spread"], converted["rounding"]) == ("0", "ROUND_HALF_UP")
    assert converted["max_age_hours"] == 24


def test_fx_load_reads_the_ecb_file_and_a_cross_rate_is_shown_as_one(
    cli: Cli, tmp_path: Path
) -> None:
    ars = given_file(tmp_path, "ars.csv", ARS_CSV.format(at=an_hour_ago()))
    cli.ok("load", str(latest_ecb_file(tmp_path)))
    cli.ok("load", str(ars), "--source", "bcra")

    converted = cli.ok("convert", "100", "--from", "CNY", "--to", "ARS", "--rounding", "ROUND_DOWN")

    assert converted.splitlines()[:2] == [
        "CN¥100.00 = ARS20,465.73",
        "rate: 1 ARS = 0.00488622 CNY",
    ]
    assert "source: bcra+ecb, a cross rate via EUR, fetched " in converted
    assert "rounding: ROUND_DOWN" in converted


def test_fx_load_twice_stores_nothing_new(cli: Cli, tmp_path: Path) -> None:
    ecb = latest_ecb_file(tmp_path)
    cli.ok("load", str(ecb))

    again = cli.ok("load", str(ecb), "--format", "ecb")

    assert again.endswith("; 0 stored, 29 already stored\n")


def test_fx_list_marks_stale_rates(cli: Cli, tmp_path: Path) -> None:
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds")
    cli.ok("load", str(given_file(tmp_path, "ars.csv", ARS_CSV.format(at=old))), "--source", "b")

    listed = json.loads(cli.ok("list", "--json"))

    assert {rate["fresh"] for rate in listed} == {False}
    assert "stale" in cli.ok("list")


@pytest.fixture
def cli_with_rates(cli: Cli, tmp_path: Path) -> Cli:
    """USD/ARS from an hour ago (bcra), USD/COP from three days ago (banrep), and bad files."""
    at = an_hour_ago()
    fresh = given_file(tmp_path, "ars.csv", ARS_CSV.format(at=at))
    cli.ok("load", str(fresh), "--source", "bcra")
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat(timespec="seconds")
    stale = given_file(tmp_path, "cop.csv", f"base,quote,rate,fetched_at\nUSD,COP,3875.50,{old}\n")
    cli.ok("load", str(stale), "--source", "banrep")
    given_file(tmp_path, "bad.csv", "base,quote,rate\nUSD,BRL,5.31\nUSD,MXN,18,2\n")
    given_file(
        tmp_path,
        "floats.json",
        '{"source": "x", "rates": [{"base": "USD", "quote": "CLP", "rate": 940.5}]}',
    )
    given_file(tmp_path, "again.csv", ARS_CSV.format(at=at).replace("1450.25", "1460.00"))
    return cli


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["load", "{dir}/bad.csv", "--source", "x"],
            "{dir}/bad.csv: line 3: 4 fields, the header has 3 (write rates with a decimal "
            "point: 1.0876)",
        ),
        (
            ["load", "{dir}/floats.json"],
            "{dir}/floats.json: rates[0].rate: 940.5 is a JSON number; write it as a string "
            '("940.5") so that no float rounds it',
        ),
        (
            ["load", "{dir}/ars.csv"],
            "{dir}/ars.csv: a CSV file does not name its source: give one (saldo fx load "
            "--source NAME)",
        ),
        (["load", "{dir}/none.csv", "--source", "x"], "{dir}/none.csv: cannot be read (*)"),
        (
            ["load", "{dir}/ars.csv", "--source", "x", "--format", "xlsx"],
            "{dir}/ars.csv: unknown format 'xlsx': use ecb, csv or json",
        ),
        (
            ["load", "{dir}/again.csv", "--source", "bcra"],
            "bcra already gave USD/ARS at * UTC as 1450.25, not 1460.00",
        ),
        (
            ["convert", "50000", "--from", "COP", "--to", "USD"],
            "the USD/COP rate from banrep was fetched * UTC, 3 d ago; quotes accept rates up "
            "to 24 h old",
        ),
        (
            ["convert", "100", "--from", "BRL", "--to", "USD"],
            "no rate links USD and BRL: load one for the pair, or for each of them against EUR "
            "or USD",
        ),
        (
            ["convert", "1.005", "--from", "ARS", "--to", "USD"],
            "1.005 has more than 2 decimal places for ARS",
        ),
        (
            ["convert", "-5", "--from", "ARS", "--to", "USD"],
            "'-5' is negative; amounts here must be positive",
        ),
        (
            ["convert", "100", "--from", "ARS", "--to", "USD", "--spread", "2%"],
            "'2%' is not a spread like 0.02 (for 2 %)",
        ),
        (
            ["convert", "100", "--from", "ARS", "--to", "USD", "--rounding", "HALF_UP"],
            "'HALF_UP' is not a rounding mode; use one of ROUND_HALF_UP, ...",
        ),
        (["convert", "100", "--from", "ARS", "--to", "XYZ"], "unknown currency 'XYZ'"),
        (["convert", "100", "--from", "ARS", "--to", "ARS"], "ARS to ARS needs no exchange rate"),
    ],
)
def test_a_bad_fx_command_prints_one_line_and_writes_nothing(
    cli_with_rates: Cli, tmp_path: Path, args: list[str], expected: str
) -> None:
    message = cli_with_rates.refused(*(arg.replace("{dir}", str(tmp_path)) for arg in args))

    pattern = ".*".join(re.escape(part) for part in expected.split("*"))
    assert re.fullmatch(pattern.replace(re.escape("{dir}"), re.escape(str(tmp_path))), message)
