"""``saldo lines``: register subscriber lines and look them up."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.render import (
    CSV_ENCODING,
    emit_json,
    err,
    local_time,
    new_table,
    out,
    phone_column,
    progress,
)
from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import LineState
from saldo.domain.operator import SimKind
from saldo.services.lines import (
    LineView,
    NewLine,
    import_lines,
    list_lines,
    register_line,
    show_line,
)

app = typer.Typer(help="Register subscriber lines, import them from CSV, look them up.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

CSV_COLUMNS = ("msisdn", "operator", "iccid", "sim_kind", "language")


class BadCsv(SaldoError):
    code = "bad_csv"


def line_dict(line: LineView) -> dict[str, object]:
    return {
        "msisdn": line.msisdn,
        "operator": line.operator,
        "iccid": line.iccid,
        "sim_kind": line.sim_kind,
        "language": line.language,
        "state": line.state,
        "activated_at": line.activated_at,
        "valid_until": line.valid_until,
    }


@app.command("add")
def add_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number, international or national format.")],
    operator: Annotated[str, typer.Option("--operator", "-o", help="Operator slug.")],
    iccid: Annotated[str | None, typer.Option(help="SIM card number (19-20 digits).")] = None,
    esim: Annotated[bool, typer.Option("--esim", help="The line is an eSIM.")] = False,
    language: Annotated[
        str | None, typer.Option(help="es, fr, nl, en or zh (default: the operator's first).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Register a line.

    Example: saldo lines add 3001234567 --operator claro-co --language es
    """
    saldo = state(ctx).saldo()
    view = saldo.run(
        register_line,
        new_line=NewLine(
            msisdn=msisdn,
            operator=operator,
            iccid=iccid,
            sim_kind=SimKind.ESIM if esim else SimKind.PHYSICAL,
            language=language,
        ),
        now=saldo.clock.now(),
    )
    if as_json:
        emit_json(line_dict(view))
        return
    out.print(
        f"Added {view.msisdn} on {view.operator}, valid until {view.valid_until:%Y-%m-%d %H:%M} UTC"
    )


@app.command("show")
def show_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    as_json: JsonFlag = False,
) -> None:
    """Show one line."""
    saldo = state(ctx).saldo()
    line = saldo.run(show_line, msisdn=msisdn, now=saldo.clock.now())
    if as_json:
        emit_json(line_dict(line))
        return
    table = new_table("", "", show_header=False)
    for key, value in line_dict(line).items():
        table.add_row(key, _cell(value))
    out.print(table)


def _cell(value: object) -> str:
    """A value of `lines show` for people: times as everywhere else in the CLI."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return local_time(value, "UTC")
    return str(value)


@app.command("list")
def list_command(
    ctx: typer.Context,
    operator: Annotated[str | None, typer.Option("--operator", "-o")] = None,
    line_state: Annotated[LineState | None, typer.Option("--state")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: JsonFlag = False,
) -> None:
    """List lines, optionally of one operator or in one state."""
    saldo = state(ctx).saldo()
    found = saldo.run(
        list_lines,
        now=saldo.clock.now(),
        operator=operator,
        state=line_state,
        limit=limit,
        offset=offset,
    )
    if as_json:
        emit_json([line_dict(line) for line in found])
        return
    table = new_table(
        phone_column("msisdn"), "operator", "state", "sim", "language", "valid until (UTC)"
    )
    for line in found:
        table.add_row(
            line.msisdn,
            line.operator,
            line.state.value,
            line.sim_kind.value,
            line.language,
            local_time(line.valid_until, "UTC"),
        )
    out.print(table)


@app.command("import")
def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV with a header: " + ",".join(CSV_COLUMNS))],
    as_json: JsonFlag = False,
) -> None:
    """Import lines from CSV. Valid rows are added; each rejected row is reported with its
    reason. Exits 0 when every row was imported, 3 when some were rejected.

    Columns: msisdn and operator are required; iccid, sim_kind (physical or esim) and
    language may be empty.
    """
    total = _count_rows(file)
    saldo = state(ctx).saldo()
    with progress(quiet=as_json) as bar:
        task = bar.add_task("importing lines", total=total)
        report = saldo.run(
            import_lines,
            rows=_read_rows(file),
            now=saldo.clock.now(),
            on_rows=lambda done: bar.advance(task, done),
        )
    if as_json:
        emit_json(
            {
                "imported": report.imported,
                "rejected": [{"row": row, "reason": reason} for row, reason in report.rejected],
            }
        )
    else:
        for row, reason in report.rejected:
            err.print(f"row {row}: {reason}", markup=False)
        out.print(f"Imported {report.imported} line(s); rejected {len(report.rejected)}.")
    if report.rejected:
        raise typer.Exit(3)


def _count_rows(file: Path) -> int:
    try:
        with file.open(encoding=CSV_ENCODING, newline="") as handle:
            header = next(csv.reader(handle), None)
            if header is None:
                raise BadCsv(f"{file} is empty")
            missing = [c for c in ("msisdn", "operator") if c not in [h.strip() for h in header]]
            if missing:
                raise BadCsv(f"{file}: missing column(s): {', '.join(missing)}")
            return sum(1 for _ in handle)
    except OSError as error:
        raise BadCsv(f"{file}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise BadCsv(f"{file}: is not UTF-8 text") from None


def _read_rows(file: Path) -> Iterator[tuple[int, NewLine | SaldoError]]:
    sim_kinds = {kind.value: kind for kind in SimKind}
    with file.open(encoding=CSV_ENCODING, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        # Columns found as csv.DictReader finds them (a repeated name: its last column),
        # their names stripped of spaces.
        columns = {
            name.strip(): index for name, index in dict(zip(header, itertools.count())).items()
        }
        # A column the file lacks reads as the empty cell added after the last one.
        width = len(header)
        at_msisdn, at_operator, at_iccid, at_kind, at_language = (
            columns.get(name, width) for name in CSV_COLUMNS
        )
        for raw in reader:
            if not raw:
                continue  # a blank line, skipped as csv.DictReader skips it
            number = reader.line_num  # the row's line in the file, blank lines counted
            cells = raw[:width] if len(raw) >= width else raw + [""] * (width - len(raw))
            cells.append("")
            msisdn, operator = cells[at_msisdn].strip(), cells[at_operator].strip()
            iccid, sim_kind = cells[at_iccid].strip(), cells[at_kind].strip()
            language = cells[at_language].strip()
            if not msisdn or not operator:
                yield number, BadCsv("msisdn and operator are required")
                continue
            kind = sim_kinds.get(sim_kind or SimKind.PHYSICAL.value)
            if kind is None:
                yield number, BadCsv(f"sim_kind {sim_kind!r} is not physical or esim")
                continue
            yield (
                number,
                NewLine(
                    msisdn=msisdn,
                    operator=operator,
                    iccid=iccid or None,
                    sim_kind=kind,
                    language=language or None,
                ),
            )
