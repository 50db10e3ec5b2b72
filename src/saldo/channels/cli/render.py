"""Output for the CLI: Rich tables for people, ``--json`` for scripts, errors as one line."""

from __future__ import annotations

import dataclasses
import enum
import json
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Column, Table

from saldo.domain.money import Money, format_money
from saldo.domain.periods import impossible_day
from saldo.i18n import data_text, minutes_text, number_text, rate_text

if TYPE_CHECKING:
    from rich.progress import Progress

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

# The CLI speaks English: amounts that belong to no one line (a CDR file's totals, a rate
# list) are written as in English; a line's own amounts, in the line's locale.
CLI_LOCALE = "en"

# CSV files given to the CLI: UTF-8, with or without the byte-order mark that spreadsheets
# write ("CSV UTF-8" in Excel), which would otherwise stick to the first column's name.
CSV_ENCODING = "utf-8-sig"


def phone_column(header: str) -> Column:
    """A column of phone numbers: a number is never wrapped nor cut short, whatever the
    terminal's width; the table's other columns give way (they wrap)."""
    return Column(header, no_wrap=True)


def new_table(*columns: str | Column, title: str | None = None, show_header: bool = True) -> Table:
    """A table for people: its cells wrap at spaces and fold a word longer than the column
    onto the next line, never ending it with an ellipsis (``phone_column`` never wraps)."""
    return Table(
        *(
            column if isinstance(column, Column) else Column(column, overflow="fold")
            for column in columns
        ),
        title=title,
        show_header=show_header,
    )


def to_jsonable(value: Any) -> Any:
    """Plain JSON for Saldo values: Money as ``{"amount": "12.50", "currency": "EUR",
    "minor": 1250}``, datetimes in ISO 8601 UTC."""
    if isinstance(value, Money):
        return {"amount": value.canonical(), "currency": value.currency, "minor": value.minor}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple: an object
        return {name: to_jsonable(getattr(value, name)) for name in value._fields}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2) + "\n")


def fail(message: str) -> None:
    """One line on stderr, no markup, no traceback."""
    sys.stderr.write(f"saldo: error: {message}\n")


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def calendar_day(text: str) -> date:
    """A date option's parser: a day written YYYY-MM-DD that exists in the calendar, in the
    years 2000 to 2199 (the end of 9999-12-31 west of UTC is past the last day Python has)."""
    import typer  # imported by the commands that parse; `saldo balance` may run without it

    written = text.strip()
    if not _DAY.fullmatch(written):
        raise typer.BadParameter(f"{text!r} is not a date written YYYY-MM-DD")
    try:
        day = date.fromisoformat(written)
    except ValueError:
        raise typer.BadParameter(impossible_day(written) or f"{written} does not exist") from None
    if not 2000 <= day.year <= 2199:  # as worker --now
        raise typer.BadParameter(f"{written} is not a day Saldo takes (years 2000 to 2199)")
    return day


def supported_locale(value: str | None) -> str | None:
    """``--locale``'s check: one of the locales Saldo reads and writes money in."""
    import typer

    from saldo.i18n import LOCALES  # the catalogs are loaded only by the commands that talk

    if value is not None and value not in LOCALES:
        raise typer.BadParameter(f"{value!r} is not a supported locale ({', '.join(LOCALES)})")
    return value


def local_time(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")


def money(value: Money, locale: str) -> str:
    return format_money(value, locale=locale)


def quantity(kind: str, amount: int, locale: str) -> str:
    """Allowances for people, grouped as in ``locale``: minutes, SMS, megabytes."""
    if kind == "voice":
        return minutes_text(amount, locale=locale)
    if kind == "data":
        return data_text(amount, locale=locale)
    if kind == "sms":
        return f"{number_text(amount, locale=locale)} SMS"
    return number_text(amount, locale=locale)


def shown_rate(value: Decimal, locale: str) -> str:
    """An exchange rate for people (saldo.i18n.rate_text); --json keeps the exact decimal."""
    return rate_text(value, locale=locale)


def progress(*, quiet: bool) -> Progress:
    """A progress bar on stderr, for long work; hidden for --json and when not a terminal."""
    # Imported here: only the few commands that show one need it.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,
    )
