"""``saldo lines history``: a line's movements in a month for the operator's staff, as a table,
JSON, the statement's CSV or its PDF."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Column

from saldo.channels.cli.context import state
from saldo.channels.cli.lines import app as lines_app
from saldo.channels.cli.render import (
    CLI_LOCALE,
    emit_json,
    money,
    new_table,
    out,
)
from saldo.domain.errors import SaldoError
from saldo.services.history import line_statement


class UnableToWrite(SaldoError):
    code = "unable_to_write"


@lines_app.command("history")
def history_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    month: Annotated[
        str | None,
        typer.Option(help="The month, YYYY-MM, in the operator's time zone (default: this one)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print the statement's CSV (docs/api.md's columns).")
    ] = False,
    pdf: Annotated[
        Path | None,
        typer.Option("--pdf", help="Write the statement as a PDF, in the line's language."),
    ] = None,
) -> None:
    """A line's movements in a month (top-ups, vouchers, plans, usage, adjustments, refunds)
    with the balance they left, and its opening and closing balances.

    Example: saldo lines history +573001234567 --month 2026-11 --pdf statement.pdf
    """
    if as_json and as_csv:
        raise typer.BadParameter("choose --json or --csv, not both")
    saldo = state(ctx).saldo()
    statement = saldo.run(line_statement, msisdn=msisdn, month=month, now=saldo.clock.now())
    if pdf is not None:
        from saldo.channels.statements import statement_pdf

        document = statement_pdf(statement)
        try:
            pdf.write_bytes(document)
        except OSError as error:
            raise UnableToWrite(f"cannot write {pdf}: {error.strerror}") from None
    if as_json:
        emit_json(statement)
        return
    if as_csv:
        from saldo.channels.statements import statement_csv

        sys.stdout.write(statement_csv(statement))
        return
    timezone = statement.shown.timezone
    out.print(
        f"{statement.msisdn_masked} ({statement.operator_name}), {statement.month} "
        f"({timezone}): "
        f"opening {money(statement.opening, CLI_LOCALE)}, "
        f"closing {money(statement.closing, CLI_LOCALE)}",
        highlight=False,
    )
    # The day of the month and the time, the kind and the amounts keep to one line; the item
    # and the receipt fold. The channel is in --json and --csv.
    table = new_table(
        *(Column(name, no_wrap=True) for name in ("day", "kind")),
        Column("item", overflow="fold", min_width=8),
        *(Column(name, no_wrap=True) for name in ("amount", "balance")),
        Column("receipt", overflow="fold", min_width=8),
    )
    for movement in statement.movements:
        table.add_row(
            movement.at.astimezone(ZoneInfo(timezone)).strftime("%d %H:%M"),
            movement.kind.value,
            movement.item or "",
            money(movement.amount, CLI_LOCALE),
            "" if movement.balance_after is None else money(movement.balance_after, CLI_LOCALE),
            movement.receipt or "",
        )
    out.print(table)
    totals = statement.totals
    out.print(
        f"In {money(totals.credits, CLI_LOCALE)}, out {money(totals.debits, CLI_LOCALE)}"
        + (f"; PDF written to {pdf}" if pdf is not None else ""),
        highlight=False,
    )
