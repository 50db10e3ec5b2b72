"""``saldo orders quote``: what an order costs, shown before anything is paid. The other
``saldo orders`` commands are in ``ordering``."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.fx import percent_text, rate_json
from saldo.channels.cli.render import emit_json, money, new_table, out, shown_rate, to_jsonable
from saldo.domain.fx import describe_age, rate_age, rate_text
from saldo.services.quotes import LineQuote, quote_for_line

app = typer.Typer(help="Quote, place and pay plan orders; keep their receipts.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("quote")
def quote_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    plan: Annotated[str, typer.Argument(help="The plan's code, e.g. pack-mensual-1m.")],
    addon: Annotated[
        list[str] | None, typer.Option("--addon", help="An add-on's code; repeat for more.")
    ] = None,
    pay_in: Annotated[
        str | None, typer.Option("--pay-in", help="The payer's currency (default: the line's).")
    ] = None,
    method: Annotated[
        str, typer.Option(help="card, debit_card, paypal, wallet or balance.")
    ] = "card",
    as_json: JsonFlag = False,
) -> None:
    """Show what an order costs: the price with tax broken out, the promotion applied, and
    for a payer in another currency the rate, its spread, source and age, the payment
    method's fee and the total. Rates older than SALDO_FX_MAX_AGE_HOURS are refused.

    Example: saldo orders quote +5491155550000 pack-mensual-1m --pay-in USD --method paypal
    """
    saldo = state(ctx).saldo()
    now = saldo.clock.now()
    shown = saldo.run(
        quote_for_line,
        msisdn=msisdn,
        plan_code=plan,
        addon_codes=tuple(addon or ()),
        pay_in=pay_in,
        method=method,
        max_rate_age=timedelta(hours=saldo.settings.fx_max_age_hours),
        now=now,
    )
    if as_json:
        emit_json(_quote_json(shown, now=now))
        return
    _print_quote(shown, now=now)


def _print_quote(shown: LineQuote, *, now: datetime) -> None:
    quoted, locale = shown.quote, shown.presentation.locale
    table = new_table("", "", title=" + ".join(shown.names), show_header=False)
    table.columns[1].justify = "right"
    table.add_row("price (tax included)", money(quoted.gross, locale))
    if quoted.promotion is not None:
        extra = f", {quoted.free_months} month(s) free" if quoted.free_months else ""
        table.add_row(f"promotion: {quoted.promotion}{extra}", money(-quoted.discount, locale))
        table.add_row("price after promotion", money(quoted.price, locale))
    table.add_row("net", money(quoted.net, locale))
    table.add_row(f"tax ({percent_text(quoted.tax_rate)} %)", money(quoted.tax, locale))
    if quoted.rate is not None and quoted.market_rate is not None:
        rate, market = quoted.rate, quoted.market_rate
        spread = percent_text(quoted.spread or Decimal(0))
        table.add_row(
            f"rate (less a {spread} % spread)",
            f"1 {rate.base} = {shown_rate(rate.rate, locale)} {rate.quote}",
        )
        market_rate = shown_rate(market.rate, locale)
        table.add_row("market rate", f"1 {market.base} = {market_rate} {market.quote}")
        via = f" via {rate.via}" if rate.via else ""
        age = describe_age(rate_age(rate, now=now))
        table.add_row("rate source", f"{rate.source}{via}, {age} old")
        table.add_row(f"in {quoted.pay_in}", money(quoted.converted, locale))
    table.add_row(f"fee ({quoted.method.value})", money(quoted.fee, locale))
    table.add_row("total", money(quoted.total, locale))
    out.print(table)


def _quote_json(shown: LineQuote, *, now: datetime) -> dict[str, Any]:
    quoted = shown.quote
    return {
        "msisdn": shown.msisdn,
        "plan": quoted.plan.code,
        "addons": [addon.code for addon in quoted.addons],
        "gross": to_jsonable(quoted.gross),
        "promotion": quoted.promotion,
        "discount": to_jsonable(quoted.discount),
        "free_months": quoted.free_months,
        "price": to_jsonable(quoted.price),
        "tax_rate": rate_text(quoted.tax_rate),
        "net": to_jsonable(quoted.net),
        "tax": to_jsonable(quoted.tax),
        "pay_in": quoted.pay_in,
        "rate": None if quoted.rate is None else rate_json(quoted.rate, now=now),
        "market_rate": (
            None if quoted.market_rate is None else rate_json(quoted.market_rate, now=now)
        ),
        "spread": None if quoted.spread is None else rate_text(quoted.spread),
        "converted": to_jsonable(quoted.converted),
        "method": quoted.method.value,
        "fee": to_jsonable(quoted.fee),
        "total": to_jsonable(quoted.total),
    }
