"""``saldo balance``: a line's balances, validity, state and days before recycling.

Kept apart from ``saldo.channels.cli.main`` so that the command can also run without Typer
(``saldo.channels.cli.entry``): it imports neither Typer nor Pydantic."""

from __future__ import annotations

from rich.table import Column

from saldo.channels.cli.context import CliState
from saldo.channels.cli.render import emit_json, local_time, money, new_table, out, quantity
from saldo.domain.money import Money


def show_balance(cli: CliState, *, msisdn: str, as_json: bool) -> None:
    """Print the balance of the line with ``msisdn`` (a table, or JSON with ``as_json``)."""
    from saldo.services.inquire_balance import inquire_balance

    reader = cli.reader()
    view = reader.run(inquire_balance, msisdn=msisdn, now=reader.clock.now())
    if as_json:
        emit_json(view)
        return
    table = new_table(
        "balance",
        Column("amount", justify="right", overflow="fold"),
        "expires",
        title=f"{view.msisdn} · {view.operator_name} ({view.operator})",
    )
    for bucket in view.buckets:
        amount = (
            money(Money(bucket.amount, bucket.unit), view.locale)
            if bucket.kind.is_money
            else quantity(bucket.kind.value, bucket.amount, view.locale)
        )
        expires = local_time(bucket.expires_at, view.timezone) if bucket.expires_at else "—"
        table.add_row(bucket.kind.value, amount, expires)
    out.print(table)
    out.print(f"state: {view.state.value}")
    out.print(f"valid until: {local_time(view.valid_until, view.timezone)}")
    out.print(f"days before the number is recycled: {view.days_until_recycling}")
