"""``saldo lines email|alert|autotopup``: where a line's emails go, when it is warned of a
low balance, and its auto top-up."""

from __future__ import annotations

from typing import Annotated

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.lines import app
from saldo.channels.cli.render import money, out
from saldo.domain.email_address import mask_email
from saldo.services.auto_topup import AutoTopUpIncomplete, NoAutoTopUp, change_auto_topup
from saldo.services.lines import set_line_email, set_low_balance_alert

Msisdn = Annotated[str, typer.Argument(help="The number in international format.")]


@app.command("email")
def email_command(
    ctx: typer.Context,
    msisdn: Msisdn,
    address: Annotated[
        str | None, typer.Argument(help="The address; leave out with --forget.")
    ] = None,
    forget: Annotated[bool, typer.Option("--forget", help="Remove the address.")] = False,
) -> None:
    """Where the line's expiry reminders and receipts go by email. An address set here is
    not proven (sign-in codes never go to it); the subscriber proves one in the portal or
    the app.

    Example: saldo lines email +32470123456 ana@example.org
    """
    if (address is None) is not forget:
        raise typer.BadParameter("give an address, or --forget")
    saldo = state(ctx).saldo()
    line = saldo.run(set_line_email, msisdn=msisdn, email=address)
    shown = "no email" if line.email is None else mask_email(line.email)
    if line.email is not None and line.email_verified_at is None:
        # Only a code sent to it proves an address: sign-in codes never go to this one.
        shown += " (not proven by a code: no sign-in codes go there)"
    out.print(f"{line.msisdn}: {shown}.")


@app.command("alert")
def alert_command(
    ctx: typer.Context,
    msisdn: Msisdn,
    below: Annotated[
        str | None, typer.Option(help="Warn by SMS when main money falls below this.")
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Use the operator's threshold again.")
    ] = False,
) -> None:
    """When the line is warned that its main money runs low (the operator's threshold
    unless the subscriber chose one).

    Example: saldo lines alert +573001234567 --below 5.000
    """
    if (below is None) is not default:
        raise typer.BadParameter("give --below AMOUNT, or --default")
    saldo = state(ctx).saldo()
    alert = saldo.run(set_low_balance_alert, msisdn=msisdn, threshold=below)
    shown = (
        "never"
        if alert.threshold is None
        else f"below {money(alert.threshold, alert.presentation.locale)}"
    )
    whose = "its own" if alert.own else "the operator's"
    out.print(f"{alert.msisdn} is warned {shown} ({whose} threshold).")


@app.command("autotopup")
def autotopup_command(
    ctx: typer.Context,
    msisdn: Msisdn,
    below: Annotated[
        str | None, typer.Option(help="Top up when main money falls below this.")
    ] = None,
    amount: Annotated[str | None, typer.Option(help="How much to top up each time.")] = None,
    provider: Annotated[str, typer.Option(help="The processor that keeps the saved card.")] = (
        "sandbox"
    ),
    token: Annotated[
        str | None, typer.Option(help="The processor's token of the saved card.")
    ] = None,
    off: Annotated[bool, typer.Option("--off", help="Turn auto top-up off.")] = False,
) -> None:
    """Top the line up automatically when its main money falls below a threshold (where the
    operator offers it), with a saved card. The worker does it; a declined card is retried
    after 1 day, then 3 more, and the subscriber is told each time.

    Example: saldo lines autotopup +32470123456 --below 2,00 --amount 10 --token tok_approve
    """
    saldo = state(ctx).saldo()
    try:
        setting = saldo.run_paying(
            change_auto_topup,
            msisdn=msisdn,
            below=below,
            amount=amount,
            provider=provider,
            token=token,
            enabled=not off,
            now=saldo.clock.now(),
        )
    except NoAutoTopUp as error:
        raise typer.BadParameter(error.message) from None
    except AutoTopUpIncomplete:
        raise typer.BadParameter("--below, --amount and --token turn auto top-up on") from None
    if off:
        out.print(f"Auto top-up of {setting.msisdn} is off.")
        return
    locale = setting.presentation.locale
    out.print(
        f"Auto top-up of {setting.msisdn}: {money(setting.amount, locale)} whenever main "
        f"money falls below {money(setting.threshold, locale)}, paid with {setting.provider}."
    )
