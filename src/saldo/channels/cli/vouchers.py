"""``saldo vouchers``: scratch-card PINs for stores and third-party resellers."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.render import (
    calendar_day,
    emit_json,
    local_time,
    money,
    new_table,
    out,
    progress,
)
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.vouchers import format_pin
from saldo.services.vouchers import (
    GeneratedVoucher,
    generate_vouchers_as_typed,
    redeem_voucher_shown,
    void_batch,
    voucher_batches,
)

app = typer.Typer(help="Generate, list, void and redeem voucher PINs.")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class ExportRefused(SaldoError):
    code = "export_refused"


@app.command("generate")
def generate_command(
    ctx: typer.Context,
    operator: Annotated[str, typer.Option("--operator", "-o", help="Operator slug.")],
    value: Annotated[str, typer.Option(help="Face value, in the operator's locale.")],
    count: Annotated[int, typer.Option(min=1, max=1_000_000, help="How many vouchers.")],
    expires: Annotated[
        date,
        typer.Option(
            parser=calendar_day,
            metavar="YYYY-MM-DD",
            help="Last day of validity (operator's local date), at most 5 years ahead.",
        ),
    ],
    out_file: Annotated[
        Path, typer.Option("--out", help="CSV file for the PINs (must not exist yet).")
    ],
    created_by: Annotated[str, typer.Option("--by", help="Who orders the batch.")] = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Generate a batch of vouchers and write their PINs to a new CSV file.

    The PINs are shown once, in that file (created readable by its owner only): Saldo keeps
    only keyed hashes. Example:

        saldo vouchers generate --operator claro-co --value 10.000 --count 500 \\
            --expires 2027-06-30 --out claro-co-10000.csv
    """
    saldo = state(ctx).saldo()
    with progress(quiet=as_json) as bar:
        task = bar.add_task("generating PINs", total=count)
        made = saldo.run(
            generate_vouchers_as_typed,
            operator=operator,
            value=value,
            count=count,
            expires_on=expires,
            created_by=created_by,
            pin_key=saldo.pin_key,
            now=saldo.clock.now(),
            on_vouchers=lambda done: bar.advance(task, done),
            deliver=lambda made: export_pins(
                out_file, made.vouchers, value=made.value, expires=expires.isoformat()
            ),
        )
    batch, face = made.batch, made.batch.value
    summary = {
        "batch_id": batch.batch_id,
        "operator": operator,
        "count": len(batch.vouchers),
        "value": face,
        "expires_at": batch.expires_at,
        "file": str(out_file),
    }
    if as_json:
        emit_json(summary)
        return
    out.print(
        f"Batch {batch.batch_id}: {len(batch.vouchers)} vouchers of "
        f"{money(face, made.shown.locale)} for {operator}, PINs in {out_file}"
    )


def export_pins(
    path: Path, vouchers: Sequence[GeneratedVoucher], *, value: Money, expires: str
) -> None:
    """Write the PINs to a new file readable by its owner only; raise ExportRefused (and
    write nothing) when the file exists or cannot be created."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ExportRefused(f"{path} exists; PINs are never written over another file") from None
    except OSError as error:
        raise ExportRefused(f"{path}: cannot be created ({error.strerror})") from None
    try:
        _write_pins(descriptor, vouchers, value=value, expires=expires)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _write_pins(
    descriptor: int, vouchers: Sequence[GeneratedVoucher], *, value: Money, expires: str
) -> None:
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["serial", "pin", "value", "currency", "expires"])
        for voucher in vouchers:
            writer.writerow(
                [
                    voucher.serial,
                    format_pin(voucher.pin),
                    value.canonical(),
                    value.currency,
                    expires,
                ]
            )


@app.command("list")
def list_command(
    ctx: typer.Context,
    operator: Annotated[str | None, typer.Option("--operator", "-o")] = None,
    as_json: JsonFlag = False,
) -> None:
    """List voucher batches with how many were redeemed."""
    saldo = state(ctx).saldo()
    listing = saldo.run(voucher_batches, operator=operator, now=saldo.clock.now())
    batches, locales = listing.batches, listing.locales
    if as_json:
        emit_json(batches)
        return
    table = new_table("batch", "value", "count", "redeemed", "expired", "expires (UTC)", "voided")
    for batch in batches:
        table.add_row(
            str(batch.id),
            money(Money(batch.value, batch.currency), locales[batch.operator_id]),
            str(batch.count),
            str(batch.redeemed),
            str(batch.expired),
            local_time(batch.expires_at, "UTC"),
            local_time(batch.voided_at, "UTC") if batch.voided_at else "",
        )
    out.print(table)


@app.command("void")
def void_command(
    ctx: typer.Context,
    batch_id: Annotated[int, typer.Argument(help="The batch to void.")],
    operator: Annotated[str | None, typer.Option("--operator", "-o")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Void every unredeemed voucher of a batch (a lost or stolen box of cards)."""
    saldo = state(ctx).saldo()
    voided = saldo.run(void_batch, batch_id=batch_id, operator=operator, now=saldo.clock.now())
    if as_json:
        emit_json({"batch_id": batch_id, "voided": voided})
        return
    out.print(f"Batch {batch_id}: {voided} voucher(s) voided")


@app.command("redeem")
def redeem_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    pin: Annotated[str, typer.Argument(help="The 16-digit PIN (spaces allowed).")],
    as_json: JsonFlag = False,
) -> None:
    """Top a line up with a voucher PIN, as a store clerk would."""
    saldo = state(ctx).saldo()
    done = saldo.run(
        redeem_voucher_shown,
        msisdn=msisdn,
        pin=pin,
        channel=Channel.STORE,
        pin_key=saldo.pin_key,
        now=saldo.clock.now(),
    )
    receipt, where = done.receipt, done.shown.locale
    if as_json:
        emit_json(receipt)
        return
    amount, balance = money(receipt.amount, where), money(receipt.balance, where)
    if receipt.replayed:  # this line had used the PIN already: nothing credited now
        out.print(
            f"Receipt {receipt.receipt_number} (already applied to this line: no new credit): "
            f"{amount}, balance then {balance}"
        )
        return
    out.print(f"Receipt {receipt.receipt_number}: {amount} → balance {balance}")
