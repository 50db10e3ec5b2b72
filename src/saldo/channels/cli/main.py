"""``saldo``: the command line for operators and developers.

Every command prints for people by default and JSON with ``--json``; every error is one line
on stderr with a non-zero exit code, and nothing is written.
"""

from __future__ import annotations

import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from saldo.channels.cli.balance import show_balance
from saldo.channels.cli.context import CliState, state
from saldo.channels.cli.entry import setup_failure
from saldo.channels.cli.lazy import LazyGroup
from saldo.channels.cli.render import (
    calendar_day,
    emit_json,
    fail,
    local_time,
    money,
    out,
    quantity,
    supported_locale,
    to_jsonable,
)
from saldo.domain.buckets import BucketKind
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money

# Each command imports its use case when it runs, and the other commands (operators, lines,
# orders, sms, worker, ...) are imported when they run (saldo.channels.cli.lazy): a command
# loads what it uses, not what the others use (docs/performance.md).
app = typer.Typer(
    cls=LazyGroup,
    help="Saldo: prepaid balances, validity and top-ups for mobile operators.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="Database schema.")
app.add_typer(db_app, name="db")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.callback()
def root(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(help="Overrides SALDO_DATABASE_URL (default sqlite:///./saldo.db)."),
    ] = None,
) -> None:
    ctx.obj = CliState(database_url=database_url)
    ctx.call_on_close(ctx.obj.close)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the database schema to the newest version (safe to repeat)."""
    saldo = state(ctx).saldo(check_schema=False)
    saldo.migrate()
    out.print(f"Database is up to date: {saldo.database_shown}")


@db_app.command("backup")
def db_backup(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The new file to write the copy to.")],
    new_installation: Annotated[
        bool,
        typer.Option(
            "--new-installation",
            help="The copy gets its own installation id: for a staging copy that shares a "
            "payment processor account with this database.",
        ),
    ] = False,
) -> None:
    """Write a consistent copy of the SQLite database to FILE, also while the demo, a server
    or a worker is using it (cp would miss what is still in saldo.db-wal). On PostgreSQL it
    says how to use pg_dump instead, and exits 1.

    Example: saldo db backup replay.db
    """
    saldo = state(ctx).saldo(check_schema=False)
    size = saldo.back_up(file, new_installation=new_installation)
    out.print(f"Backup written to {file} ({size:,} bytes); use it with", markup=False)
    out.print(f"  SALDO_DATABASE_URL=sqlite:///{file} saldo …", markup=False)


@app.command("balance")
def balance_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    as_json: JsonFlag = False,
) -> None:
    """Show a line's balances, validity, state and days before recycling.

    Example: saldo balance +573001234567
    """
    show_balance(state(ctx), msisdn=msisdn, as_json=as_json)


# AMOUNT may be typed as "-5": let it reach the amount parser, which explains the refusal.
@app.command("topup", context_settings={"ignore_unknown_options": True})
def topup_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    amount: Annotated[str, typer.Argument(help="Amount as people write it in the locale.")],
    key: Annotated[
        str | None,
        typer.Option(help="Idempotency key; repeat it to retry safely (default: a new one)."),
    ] = None,
    channel: Annotated[Channel, typer.Option(help="Where the top-up came from.")] = Channel.CLI,
    locale: Annotated[
        str | None,
        typer.Option(
            help="Locale of AMOUNT: es_AR, es_CO, fr_BE, nl_BE, en or zh_CN (default: the "
            "operator's).",
            callback=supported_locale,
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Top up a line's main balance and extend its validity.

    Example: saldo topup +573001234567 30.000 --key store-42-0001
    """
    from saldo.services.top_up import top_up_as_typed

    saldo = state(ctx).saldo()
    done = saldo.run(
        top_up_as_typed,
        msisdn=msisdn,
        amount=amount,
        locale=locale,
        channel=channel,
        idempotency_key=key if key is not None else f"cli-{uuid.uuid4()}",
        now=saldo.clock.now(),
    )
    receipt, shown = done.receipt, done.shown
    if as_json:
        emit_json(receipt)
        return
    replay = " (replayed: this key was already applied)" if receipt.replayed else ""
    out.print(f"Receipt {receipt.receipt_number}{replay}")
    out.print(f"top-up: {money(receipt.amount, shown.locale)} to {receipt.msisdn}")
    out.print(f"new balance: {money(receipt.balance, shown.locale)}")
    if receipt.bonus is not None:
        out.print(f"bonus: {money(receipt.bonus, shown.locale)}")
    out.print(f"valid until: {local_time(receipt.valid_until, shown.timezone)}")


@app.command("adjust", context_settings={"ignore_unknown_options": True})
def adjust_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    amount: Annotated[
        str,
        typer.Argument(help="Money in the operator's locale, or seconds / SMS / bytes."),
    ],
    reason: Annotated[str, typer.Option(help="Why, for the audit trail.")],
    actor: Annotated[str, typer.Option(help="Who makes the adjustment.")],
    bucket: Annotated[BucketKind, typer.Option(help="Which balance.")] = BucketKind.MAIN,
    debit: Annotated[bool, typer.Option("--debit", help="Take the amount away.")] = False,
    expires: Annotated[
        date | None,
        typer.Option(
            parser=calendar_day,
            metavar="YYYY-MM-DD",
            help="Expiry date of a bonus or allowance bucket.",
        ),
    ] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Credit (or --debit) one of a line's balances by hand, with a reason and an actor.

    Example: saldo adjust +5491123456789 500 --reason "network outage goodwill" --actor ana
    """
    from saldo.services.adjust_balance import adjust_as_typed

    saldo = state(ctx).saldo()
    done = saldo.run(
        adjust_as_typed,
        msisdn=msisdn,
        kind=bucket,
        amount=amount,
        debit=debit,
        reason=reason,
        actor=actor,
        idempotency_key=key if key is not None else f"cli-{uuid.uuid4()}",
        expires_on=expires,
        now=saldo.clock.now(),
    )
    receipt, shown = done.receipt, done.shown
    if as_json:
        emit_json(receipt)
        return

    def shown_amount(amount: int) -> str:
        if bucket.is_money:
            return money(Money(amount, receipt.unit), shown.locale)
        return quantity(bucket.value, amount, shown.locale)

    which = (
        f"bucket expiring {local_time(done.expires_at, shown.timezone)}"
        if done.expires_at
        else "bucket"
    )
    out.print(
        f"Adjustment {receipt.adjustment_id}{' (replayed)' if receipt.replayed else ''}: "
        f"{bucket.value} {which} now {shown_amount(receipt.balance)}; "
        f"line total {shown_amount(done.line_total)}"
    )


@app.command("audit")
def audit_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Recompute every balance from the ledger; exit 1 naming the first difference."""
    from saldo.services.audit import audit_ledger

    report = state(ctx).saldo().run(audit_ledger)
    if as_json:
        emit_json({**to_jsonable(report), "clean": report.clean})
    elif report.clean:
        out.print(
            f"Ledger clean: {report.transactions} transactions, {report.entries} entries, "
            f"{report.buckets} line balances agree."
        )
    if report.clean:
        return
    if report.drifted:
        drift = report.drifted[0]
        fail(
            f"line {drift.msisdn}: {drift.kind} balance is {drift.cached} "
            f"but its ledger sums to {drift.ledger} (account {drift.account_id})"
        )
    if report.unbalanced:
        bad = report.unbalanced[0]
        fail(f"transaction {bad.transaction_id} does not balance in {bad.unit} ({bad.total})")
    raise typer.Exit(1)


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Default: SALDO_HOST or 127.0.0.1.")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: SALDO_PORT or 8000.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Server processes on the one port. Default: SALDO_WORKERS or 1."
        ),
    ] = None,
) -> None:
    """Run the HTTP server (health, metrics, OpenAPI at /docs). Exit code 4 when the port
    is taken, 1 when one of several server processes died (the others are stopped)."""
    from saldo.channels.api.server import CannotListen, ServerProcessDied, listen, serve

    saldo = state(ctx).saldo()
    try:
        listening = listen(host=host or saldo.settings.host, port=port or saldo.settings.port)
    except CannotListen as error:
        fail(error.message)
        raise typer.Exit(4) from None
    processes = workers or saldo.settings.workers
    if processes > 1:
        shown_host, shown_port = listening.getsockname()[:2]
        out.print(
            f"Saldo: {processes} server processes on http://{shown_host}:{shown_port}; "
            "Ctrl-C or SIGTERM stops them all."
        )
    try:
        serve(saldo, listening=listening, workers=processes)
    except ServerProcessDied as error:
        fail(error.message)
        raise typer.Exit(1) from None


@app.command("demo")
def demo_command(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option(help="Start the server afterwards.")] = True,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: SALDO_PORT or 8000.")
    ] = None,
) -> None:
    """Set up a ready-to-use demo: database, the seven demo operators, demo lines with money
    and validity; then serve on http://127.0.0.1:8000. Running it again duplicates nothing.
    Exit code 4 when the port is taken (nothing is set up then)."""
    from saldo.channels.api.server import CannotListen
    from saldo.channels.cli.demo import run_demo

    saldo = state(ctx).saldo(check_schema=False)
    try:
        run_demo(saldo, serve=serve, port=port or saldo.settings.port)
    except CannotListen as error:
        fail(error.message)
        raise typer.Exit(4) from None


@app.command("hotline")
def hotline_command(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Default: SALDO_HOTLINE_HOST or 127.0.0.1.")
    ] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: SALDO_HOTLINE_PORT or 5060.")
    ] = None,
) -> None:
    """Answer the hotline's SIP calls (UDP and TCP) until Ctrl-C or SIGTERM (docs/hotline.md).
    Exit code 4 when the port is taken."""
    import logging

    from saldo.channels.hotline.endpoint import hotline_endpoint
    from saldo.channels.hotline.sip import CannotServeHotline

    saldo = state(ctx).saldo()
    logging.basicConfig(
        level=saldo.settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    endpoint = hotline_endpoint(saldo, host=host, port=port)

    def ready() -> None:
        out.print(f"Hotline on {endpoint.address} (UDP and TCP); Ctrl-C stops it.", markup=False)

    try:
        endpoint.serve(ready=ready)
    except CannotServeHotline as error:
        fail(error.message)
        raise typer.Exit(4) from None


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv``; return the exit code. Errors never show a traceback."""
    command = typer.main.get_command(app)
    if not (sys.argv[1:] if argv is None else argv):
        argv = ["--help"]
    try:
        result = command.main(args=argv, prog_name="saldo", standalone_mode=False)
    except SaldoError as error:
        fail(error.message)
        return 1
    except typer.Exit as error:
        return int(error.exit_code)
    except typer.Abort:
        fail("aborted")
        return 130
    except typer.TyperException as error:
        # Usage errors: a missing argument, an unknown option, a bad value.
        if type(error).__name__ == "NoArgsIsHelpError":
            return 2
        format_message = getattr(error, "format_message", None)
        message = format_message() if callable(format_message) else str(error)
        fail(str(message).replace("\n", " "))
        return int(getattr(error, "exit_code", 2))
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        message = setup_failure(error)
        if message is None:
            raise
        fail(message)
        return 1
    return result if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
