"""``saldo lines email|alert|autotopup``: where a line's emails go, when it is warned of a
low balance, and its auto top-up."""

from __future__ import annotations

from typing import Annotated

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.lines import app
from saldo.channels.cli.render import money, out
from saldo.domain.email_address import mask_email
from saldo.domain.money import Money, parse_money
from saldo.services.auto_topup import set_auto_topup
from saldo.services.lines import find_line, set_line_email, set_low_balance_alert

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
    """Where the line's expiry reminders and receipts go by email.

    Example: saldo lines email +32470123456 ana@example.org
    """
    if (address is None) is not forget:
        raise typer.BadParameter("give an address, or --forget")
    saldo = state(ctx).saldo()
    line = saldo.run(set_line_email, msisdn=msisdn, email=address)
    shown = "no email" if line.email is None else mask_email(line.email)
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
    line = saldo.run(find_line, msisdn=msisdn)
    with saldo.uow().reading() as uow:
        operator = uow.operators.get(line.operator_id)
    assert operator is not None
    threshold = None
    if below is not None:
        threshold = parse_money(below, currency=operator.currency, locale=operator.default_locale)
    changed, in_force = saldo.run(set_low_balance_alert, msisdn=line.msisdn, threshold=threshold)
    shown = (
        "never"
        if in_force is None
        else f"below {money(in_force, operator.locale_for(changed.language))}"
    )
    whose = "the operator's" if threshold is None else "its own"
    out.print(f"{changed.msisdn} is warned {shown} ({whose} threshold).")


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
    line = saldo.run(find_line, msisdn=msisdn)
    with saldo.uow().reading() as uow:
        operator = uow.operators.get(line.operator_id)
        current = uow.auto_topups.get(line.id)
    assert operator is not None
    if off:
        if current is None:
            raise typer.BadParameter(f"{line.msisdn} has no auto top-up")
        below_money = Money(current.threshold, current.currency)
        amount_money = Money(current.amount, current.currency)
        provider, token = current.provider, current.token
    else:
        if below is None or amount is None or token is None:
            raise typer.BadParameter("--below, --amount and --token turn auto top-up on")
        locale = operator.default_locale
        below_money = parse_money(below, currency=operator.currency, locale=locale)
        amount_money = parse_money(amount, currency=operator.currency, locale=locale)
    saldo.run(
        set_auto_topup,
        msisdn=line.msisdn,
        threshold=below_money,
        amount=amount_money,
        provider=provider,
        token=token,
        providers=saldo.payment_providers().keys(),
        enabled=not off,
        now=saldo.clock.now(),
    )
    if off:
        out.print(f"Auto top-up of {line.msisdn} is off.")
        return
    locale = operator.locale_for(line.language)
    out.print(
        f"Auto top-up of {line.msisdn}: {money(amount_money, locale)} whenever main money "
        f"falls below {money(below_money, locale)}, paid with {provider}."
    )
