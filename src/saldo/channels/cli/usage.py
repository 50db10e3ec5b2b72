"""``saldo cdr import`` (call detail records rated and charged) and ``saldo lines usage``."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.lines import app as lines_app
from saldo.channels.cli.render import (
    CLI_LOCALE,
    CSV_ENCODING,
    emit_json,
    err,
    money,
    new_table,
    out,
    progress,
    quantity,
    to_jsonable,
)
from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.periods import impossible_day
from saldo.domain.rating import Service
from saldo.services.cdr_import import import_usage
from saldo.services.charge_usage import MAX_QUANTITY, UsageEvent, usage_report

app = typer.Typer(help="Rate and charge call detail records (CDRs) from other systems.")

CDR_COLUMNS = ("record_id", "msisdn", "type", "start_time", "quantity", "destination")
_KINDS = {Service.VOICE: "voice", Service.SMS: "sms", Service.DATA: "data"}


class BadCdr(SaldoError):
    code = "bad_cdr"


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CSV file with the columns of docs/usage.md.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Rate and charge every record of a CDR file, in batches (constant memory), each
    record id once: importing a file again changes nothing. Bad rows are reported and skipped;
    exit code 3 when some were.

    Example: saldo cdr import cdrs-2026-11-22.csv
    """
    saldo = state(ctx).saldo()
    try:
        handle = file.open(newline="", encoding=CSV_ENCODING)
    except OSError as error:
        raise BadCdr(f"cannot read {file}: {error.strerror}") from None
    with handle, progress(quiet=as_json) as bar:
        task = bar.add_task("Charging CDRs", total=None)
        summary = saldo.run(
            import_usage,
            rows=_rows(handle, name=str(file)),
            now=saldo.clock.now(),
            on_row=lambda: bar.advance(task),
        )
    if as_json:
        emit_json(summary)
    else:
        money_text = ", ".join(
            money(Money(v, c), CLI_LOCALE) for c, v in sorted(summary.money.items())
        )
        out.print(
            f"{summary.charged} record(s) charged ({money_text or 'no money'}), "
            f"{summary.duplicates} already charged, {summary.rejected} rejected."
        )
        for currency, short in sorted(summary.shortfall.items()):
            out.print(f"Not covered by any balance: {money(Money(short, currency), CLI_LOCALE)}")
        for row, reason in summary.rejections:
            err.print(f"row {row}: {reason}", markup=False, highlight=False)
    if summary.rejected:
        raise typer.Exit(3)


def _rows(handle: Iterable[str], *, name: str) -> Iterator[tuple[int, UsageEvent | SaldoError]]:
    reader = csv.DictReader(handle)
    missing = [c for c in CDR_COLUMNS[:5] if c not in (reader.fieldnames or [])]
    if missing:
        raise BadCdr(
            f"{name} needs the columns {', '.join(CDR_COLUMNS)}; missing {_column_words(missing)}"
        )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as error:
            # The file cannot be read on from here: say where, and stop.
            raise BadCdr(f"{name}, row {reader.line_num + 1}: {error}") from None
        number = reader.line_num  # the row's line in the file, blank lines counted
        try:
            yield number, _event(row)
        except (BadCdr, ValueError) as error:
            yield number, error if isinstance(error, BadCdr) else BadCdr(str(error))


def _event(row: dict[str, str]) -> UsageEvent:
    record_id = (row.get("record_id") or "").strip()
    if not record_id or len(record_id) > 128:
        raise BadCdr("record_id is 1 to 128 characters")
    try:
        service = Service((row.get("type") or "").strip().lower())
    except ValueError:
        raise BadCdr(f"type {row.get('type')!r} is not voice, sms or data") from None
    written = (row.get("start_time") or "").strip()
    try:
        started_at = datetime.fromisoformat(written)
    except ValueError:
        why = impossible_day(written)
        raise BadCdr(
            f"start_time {why}" if why else f"start_time {row.get('start_time')!r} is not ISO 8601"
        ) from None
    if started_at.tzinfo is None:
        raise BadCdr("start_time needs its UTC offset (2026-11-22T14:03:00-03:00)")
    text = (row.get("quantity") or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 13 or int(text) > MAX_QUANTITY:
        raise BadCdr(
            f"quantity {text[:20]!r} is not a whole number of seconds, messages or bytes "
            f"up to {MAX_QUANTITY:,}"
        )
    destination = (row.get("destination") or "").strip() or None
    return UsageEvent(
        record_id=record_id,
        msisdn=(row.get("msisdn") or "").strip(),
        service=service,
        started_at=started_at,
        quantity=int(text),
        destination=destination,
    )


@lines_app.command("usage")
def usage_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    days: Annotated[int, typer.Option(help="How many days back, today included.", min=1)] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """A line's use per day: minutes, SMS and data, what allowances covered and the money
    charged.

    Example: saldo lines usage +573001234567 --days 7
    """
    saldo = state(ctx).saldo()
    report = saldo.run(usage_report, msisdn=msisdn, days=days, now=saldo.clock.now())
    days_used, locale = report.days, report.shown.locale
    if as_json:
        emit_json(to_jsonable(days_used))
        return
    table = new_table("day", "service", "events", "used", "from allowances", "money")
    for day in days_used:
        table.add_row(
            day.day.isoformat(),
            day.service,
            str(day.events),
            quantity(_KINDS[Service(day.service)], day.used, locale),
            quantity(_KINDS[Service(day.service)], day.allowance_used, locale),
            money(Money(day.money, day.currency), locale),
        )
    out.print(table)


def _column_words(names: list[str]) -> str:
    return f"the column {names[0]}" if len(names) == 1 else f"the columns {', '.join(names)}"
