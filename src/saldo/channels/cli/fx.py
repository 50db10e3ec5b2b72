"""``saldo fx``: exchange rates for quotes in the payer's currency."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.render import (
    CLI_LOCALE,
    emit_json,
    money,
    new_table,
    out,
    shown_rate,
    supported_locale,
    to_jsonable,
)
from saldo.domain.fx import (
    ROUNDING_MODES,
    ExchangeRate,
    describe_age,
    is_fresh,
    parse_spread,
    rate_age,
    rate_text,
)
from saldo.domain.money import parse_money
from saldo.services.exchange_rates import list_rates, load_rates, quote_price

app = typer.Typer(help="Load, list and convert with exchange rates.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("load")
def load_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The rate file.")],
    source: Annotated[
        str | None,
        typer.Option(help="Where the rates come from (required for CSV; default 'ecb' for XML)."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="ecb, csv or json (default: by extension or content)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Load exchange rates from a file, all or none: the ECB's daily XML, or CSV or JSON for
    the currencies the ECB does not publish (ARS, COP). Loading a file again stores nothing.

    Examples: saldo fx load eurofxref-daily.xml
              saldo fx load usd-ars.csv --source bcra
    """
    from saldo.bootstrap import parse_rates_file

    saldo = state(ctx).saldo()
    now = saldo.clock.now()
    rates = parse_rates_file(file, fmt=fmt, source=source, now=now)
    loaded = saldo.run(load_rates, rates=rates, now=now)
    if as_json:
        emit_json(
            {
                "file": str(file),
                "stored": loaded.stored,
                "unchanged": loaded.unchanged,
                "rates": [rate_json(rate, now=now) for rate in rates],
            }
        )
        return
    sources = ", ".join(sorted({rate.source for rate in rates}))
    newest = max(rate.fetched_at for rate in rates)
    out.print(
        f"{file}: {len(rates)} rate(s) from {sources}, fetched up to {_utc(newest)}; "
        f"{loaded.stored} stored, {loaded.unchanged} already stored"
    )


@app.command("list")
def list_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the latest rate of every pair, with its source and age."""
    saldo = state(ctx).saldo()
    now = saldo.clock.now()
    max_age = _max_age(ctx)
    rates = saldo.run(list_rates)
    if as_json:
        emit_json(
            [
                {**rate_json(rate, now=now), "fresh": is_fresh(rate, max_age=max_age, now=now)}
                for rate in rates
            ]
        )
        return
    table = new_table("pair", "rate", "source", "fetched (UTC)", "age", "usable")
    for rate in rates:
        table.add_row(
            rate.pair,
            shown_rate(rate.rate, CLI_LOCALE),
            rate.source,
            _utc(rate.fetched_at),
            describe_age(rate_age(rate, now=now)),
            "yes" if is_fresh(rate, max_age=max_age, now=now) else "stale",
        )
    out.print(table)
    out.print(f"Quotes use rates up to {describe_age(max_age)} old (SALDO_FX_MAX_AGE_HOURS).")


# AMOUNT may be typed as "-5": let it reach the amount parser, which explains the refusal.
@app.command("convert", context_settings={"ignore_unknown_options": True})
def convert_command(
    ctx: typer.Context,
    amount: Annotated[str, typer.Argument(help="The price, as people write it in --locale.")],
    from_currency: Annotated[str, typer.Option("--from", help="Currency of the price, e.g. ARS.")],
    to_currency: Annotated[str, typer.Option("--to", help="The payer's currency, e.g. USD.")],
    spread: Annotated[
        str, typer.Option(help="Margin taken from the payer, as a fraction: 0.02 is 2 %.")
    ] = "0",
    rounding: Annotated[
        str, typer.Option(help=f"How the result is rounded: {', '.join(sorted(ROUNDING_MODES))}.")
    ] = ROUND_HALF_UP,
    locale: Annotated[
        str,
        typer.Option(
            help="Locale AMOUNT is written in: es_AR, es_CO, fr_BE, nl_BE, en or zh_CN.",
            callback=supported_locale,
        ),
    ] = "en",
    as_json: JsonFlag = False,
) -> None:
    """Show what a payer pays in their currency for a price in another: the rate used (the
    first fresh one of the pair, its inverse, a cross rate through EUR, then through USD),
    its source and age, the spread and the rounding. Rates older than
    SALDO_FX_MAX_AGE_HOURS are refused.

    Example: saldo fx convert 25,000 --from ARS --to USD --spread 0.02
    """
    saldo = state(ctx).saldo()
    now = saldo.clock.now()
    max_age = _max_age(ctx)
    price = parse_money(amount, currency=from_currency.upper(), locale=locale)
    quote = saldo.run(
        quote_price,
        price=price,
        pay_in=to_currency.upper(),
        spread=parse_spread(spread),
        rounding=rounding,
        max_age=max_age,
        now=now,
    )
    if as_json:
        emit_json(
            {
                "amount": to_jsonable(quote.price),
                "result": to_jsonable(quote.to_pay),
                "rate": rate_json(quote.rate, now=now),
                "market_rate": rate_json(quote.market_rate, now=now),
                "spread": rate_text(quote.spread),
                "rounding": quote.rounding,
                "max_age_hours": saldo.settings.fx_max_age_hours,
            }
        )
        return
    rate, market = quote.rate, quote.market_rate
    out.print(f"{money(quote.price, locale)} = {money(quote.to_pay, locale)}")
    shown = f"rate: 1 {rate.base} = {shown_rate(rate.rate, locale)} {rate.quote}"
    if quote.spread:
        market_rate = shown_rate(market.rate, locale)
        shown += f" (market {market_rate}, less a {percent_text(quote.spread)} % spread)"
    out.print(shown)
    how = f", a cross rate via {rate.via}" if rate.via else ""
    out.print(
        f"source: {rate.source}{how}, fetched {_utc(rate.fetched_at)}, "
        f"{describe_age(rate_age(rate, now=now))} ago (quotes accept up to "
        f"{describe_age(max_age)})"
    )
    out.print(f"rounding: {quote.rounding}")


def _max_age(ctx: typer.Context) -> timedelta:
    return timedelta(hours=state(ctx).saldo().settings.fx_max_age_hours)


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def rate_json(rate: ExchangeRate, *, now: datetime) -> dict[str, Any]:
    """A rate for scripts: the rate as exact decimal text, never a JSON number."""
    return {
        "base": rate.base,
        "quote": rate.quote,
        "rate": rate_text(rate.rate),
        "source": rate.source,
        "via": rate.via,
        "fetched_at": rate.fetched_at.isoformat(),
        "age_seconds": int(rate_age(rate, now=now).total_seconds()),
    }


def percent_text(fraction: Decimal) -> str:
    """A fraction as a percentage for people: 0.02 → "2", 0.015 → "1.5"."""
    return rate_text((fraction * 100).normalize())
