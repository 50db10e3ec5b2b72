"""``saldo orders create|pay|show|list|cancel|reconcile|autorenew``: placing orders, paying
them and keeping their receipts."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.orders import JsonFlag, app
from saldo.channels.cli.render import (
    emit_json,
    err,
    local_time,
    money,
    new_table,
    out,
    phone_column,
    to_jsonable,
)
from saldo.channels.notifications import notification_renderer
from saldo.channels.receipts import receipt_html, receipt_text
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.orders import OrderState
from saldo.services.auto_renewal import AutoRenewalNeedsPlan, RenewalOutcome, change_auto_renewal
from saldo.services.order_payment import CardNumberRefused, checkout
from saldo.services.orders import (
    OrderDetails,
    PlacedBy,
    cancel_order,
    order_details,
    order_listing,
    place_order,
)
from saldo.services.outbox import Renderer
from saldo.services.ports import StoredOrder
from saldo.services.ports.mail import Mailer
from saldo.services.reconciliation import reconcile_now
from saldo.services.settlement import BALANCE

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo

OrderId = Annotated[int, typer.Argument(help="The order's number.", min=1)]


class UnwritableFile(SaldoError):
    code = "unwritable_file"


@app.command("create")
def create_command(
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
    email: Annotated[
        str | None, typer.Option(help="Where the receipt goes once the order is fulfilled.")
    ] = None,
    agent: Annotated[bool, typer.Option(help="Placed by an agent for the subscriber.")] = False,
    key: Annotated[str | None, typer.Option(help="Idempotency key (default: a new one).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Place an order at today's quote; the rate is locked for 15 minutes. Pay it with
    `saldo orders pay`.

    Example: saldo orders create +5491155550000 pack-mensual-1m --pay-in USD --email ana@example.org
    """
    saldo = state(ctx).saldo()
    placed = saldo.run(
        place_order,
        msisdn=msisdn,
        plan_code=plan,
        addon_codes=tuple(addon or ()),
        pay_in=pay_in,
        method=method,
        email=email,
        channel=Channel.CLI,
        placed_by=PlacedBy.AGENT if agent else PlacedBy.SUBSCRIBER,
        idempotency_key=key or f"cli-{uuid.uuid4()}",
        max_rate_age=timedelta(hours=saldo.settings.fx_max_age_hours),
        now=saldo.clock.now(),
    )
    order, shown = placed.order, placed.presentation
    if as_json:
        emit_json(_order_json(order))
        return
    total = Money(order.terms.total, order.terms.pay_in)
    out.print(
        f"Order {order.id}: {order.terms.plan_code} for {order.msisdn}, "
        f"{money(total, shown.locale)} by {order.terms.method}; "
        f"quote valid until {local_time(order.expires_at, shown.timezone)}."
    )
    how = (
        f"saldo orders pay {order.id}"
        if order.terms.method == BALANCE
        else f"saldo orders pay {order.id} --card 4242424242424242"
    )
    out.print(f"Pay it: {how}")


@app.command("pay")
def pay_command(
    ctx: typer.Context,
    order_id: OrderId,
    provider: Annotated[
        str | None,
        typer.Option(help="balance, sandbox, stripe or mercadopago (default: as quoted)."),
    ] = None,
    card: Annotated[
        str | None, typer.Option(help="A sandbox test card number (see docs/orders.md).")
    ] = None,
    token: Annotated[
        str | None, typer.Option(help="A processor's token for a saved card or wallet.")
    ] = None,
    key: Annotated[str | None, typer.Option(help="Idempotency key (default: a new one).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Confirm the order and pay it. A declined card leaves the order payable with another
    card; a payment that stays pending is settled by `saldo orders reconcile` or the
    processor's webhook. The receipt is emailed when SALDO_SMTP_URL is set.

    Example: saldo orders pay 12 --card 4242424242424242
    """
    saldo = state(ctx).saldo()
    try:
        paid = saldo.run_paying(
            checkout,
            order_id=order_id,
            provider=provider,
            card=card,
            token=token,
            idempotency_key=key or f"cli-{uuid.uuid4()}",
            mailer=_mailer(saldo),
            render=_renderer(saldo),
            now=saldo.clock.now(),
        )
    except CardNumberRefused as refused:
        raise typer.BadParameter(
            f"--card is for sandbox test cards; give {refused.provider} a --token"
        ) from None
    order = paid.order
    if paid.receipts.failed and not as_json:
        err.print(f"{paid.receipts.failed} receipt email(s) not sent yet; they will be retried.")
    if as_json:
        emit_json(_order_json(order))
        return
    if order.state is OrderState.FULFILLED and order.valid_until_after is not None:
        out.print(
            f"Order {order.id} paid and fulfilled: receipt {order.receipt_number}, "
            f"valid until {local_time(order.valid_until_after, paid.presentation.timezone)}."
        )
    else:
        out.print(
            f"Order {order.id} is {order.state}: the payment is pending at {paid.provider}; "
            "`saldo orders reconcile` asks again."
        )


@app.command("show")
def show_command(
    ctx: typer.Context,
    order_id: OrderId,
    receipt: Annotated[bool, typer.Option("--receipt", help="Print the receipt as text.")] = False,
    html: Annotated[
        Path | None, typer.Option(help="Write the receipt as a printable HTML page.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """An order with its quote, history and payments; its receipt once fulfilled.

    Example: saldo orders show 12 --html receipt-12.html
    """
    saldo = state(ctx).saldo()
    details = saldo.run(order_details, order_id=order_id, with_receipt=bool(receipt or html))
    if details.receipt is not None:
        kept = details.receipt
        if html:
            try:
                html.write_text(receipt_html(kept), encoding="utf-8")
            except OSError as error:
                raise UnwritableFile(f"{html}: cannot be written ({error.strerror})") from None
            err.print(f"Receipt {kept.receipt_number} written to {html}")
        if receipt:
            out.print(receipt_text(kept), markup=False)
        return
    if as_json:
        emit_json(_details_json(details))
        return
    _print_details(details)


@app.command("list")
def list_command(
    ctx: typer.Context,
    line: Annotated[str | None, typer.Option(help="Only this number's orders.")] = None,
    order_state: Annotated[
        OrderState | None, typer.Option("--state", help="Only orders in this state.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Orders, newest first.

    Example: saldo orders list --line +5491155550000 --state fulfilled
    """
    saldo = state(ctx).saldo()
    listed = saldo.run(order_listing, msisdn=line, state=order_state, limit=limit)
    if as_json:
        emit_json([_order_json(item.order) for item in listed])
        return
    table = new_table(
        "order", phone_column("number"), "plan", "state", "total", "placed", "receipt"
    )
    for order, locale in ((item.order, item.presentation.locale) for item in listed):
        table.add_row(
            str(order.id),
            order.msisdn,
            order.terms.plan_code,
            order.state.value,
            money(Money(order.terms.total, order.terms.pay_in), locale),
            f"{order.created_at:%Y-%m-%d %H:%M}",
            order.receipt_number or "",
        )
    out.print(table)


@app.command("cancel")
def cancel_command(
    ctx: typer.Context,
    order_id: OrderId,
    reason: Annotated[str, typer.Option(help="Kept in the order's history.")] = "cancelled",
) -> None:
    """Cancel an order not yet paid; a payment still pending is refunded if it succeeds."""
    saldo = state(ctx).saldo()
    order = saldo.run(cancel_order, order_id=order_id, reason=reason, now=saldo.clock.now())
    out.print(f"Order {order.id} is {order.state}.")


@app.command("reconcile")
def reconcile_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Expire unpaid orders whose quote ran out, run the auto-renewals that are due, ask
    processors about pending payments that are due (backing off), make the refunds due and
    send receipts waiting in the outbox. Safe to run from cron every minute."""
    saldo = state(ctx).saldo()
    round_ = saldo.run_paying(
        reconcile_now,
        max_rate_age=timedelta(hours=saldo.settings.fx_max_age_hours),
        mailer=_mailer(saldo),
        render=_renderer(saldo),
        now=saldo.clock.now(),
    )
    done, sent = round_.payments, round_.receipts.sent
    summary = {
        **to_jsonable(done),
        "expired": round_.expired,
        "auto_renewals": {outcome.value: count for outcome, count in round_.renewals.items()},
        "receipts_sent": sent,
    }
    if as_json:
        emit_json(summary)
        return
    out.print(
        f"{done.checked} payment(s) checked: {done.settled} settled, "
        f"{done.still_pending} still pending; {done.refunded} refunded; "
        f"{round_.expired} order(s) expired; "
        f"{round_.renewals[RenewalOutcome.RENEWED]} line(s) renewed automatically; "
        f"{sent} receipt(s) sent."
    )


@app.command("autorenew")
def autorenew_command(
    ctx: typer.Context,
    msisdn: Annotated[str, typer.Argument(help="The number in international format.")],
    plan: Annotated[str | None, typer.Option(help="The plan to renew.")] = None,
    provider: Annotated[
        str, typer.Option(help="balance, or the processor that keeps the saved method.")
    ] = BALANCE,
    token: Annotated[
        str | None, typer.Option(help="The processor's token of the saved card or wallet.")
    ] = None,
    fallback_to_balance: Annotated[
        bool, typer.Option(help="After the last failed retry, try the balance once.")
    ] = False,
    days_before: Annotated[int, typer.Option(help="Renew this many days before expiry.")] = 3,
    email: Annotated[str | None, typer.Option(help="Where receipts go.")] = None,
    off: Annotated[bool, typer.Option("--off", help="Turn auto-renewal off.")] = False,
) -> None:
    """Turn a line's auto-renewal on with a plan and a saved method (or off). The lifecycle
    worker renews it; a failed attempt is retried after 1 day, then 3 more, then the
    subscriber is told.

    Example: saldo orders autorenew +5491155550000 --plan pack-mensual-1m
    --provider sandbox --token tok_approve
    """
    saldo = state(ctx).saldo()
    try:
        renewal = saldo.run_paying(
            change_auto_renewal,
            msisdn=msisdn,
            plan_code=plan,
            provider=provider,
            token=token,
            fallback_to_balance=fallback_to_balance,
            days_before=days_before,
            email=email,
            enabled=not off,
            now=saldo.clock.now(),
        )
    except AutoRenewalNeedsPlan:
        raise typer.BadParameter("--plan is needed to turn auto-renewal on") from None
    setting = renewal.setting
    if off:
        out.print(f"Auto-renewal of {renewal.msisdn} is off.")
        return
    balance_after = setting.fallback_to_balance and setting.provider != BALANCE
    out.print(
        f"Auto-renewal of {renewal.msisdn}: {setting.plan_code}, {setting.days_before} day(s) "
        f"before expiry, paid with {setting.provider}"
        + (" (then the balance)" if balance_after else "")
        + "."
    )


def _mailer(saldo: Saldo) -> Mailer | None:
    """Where receipts are sent at once: the SMTP server when one is configured (or, in
    development, the outbox folder); SMS and webhooks are the worker's."""
    return saldo.notification_senders().email


def _renderer(saldo: Saldo) -> Renderer:
    return notification_renderer(webhook_secret=saldo.webhook_secret)


def _order_json(order: StoredOrder) -> dict[str, Any]:
    terms = order.terms
    return {
        "id": order.id,
        "msisdn": order.msisdn,
        "state": order.state.value,
        "plan": terms.plan_code,
        "addons": list(terms.addon_codes),
        "price": to_jsonable(Money(terms.price, terms.currency)),
        "net": to_jsonable(Money(terms.net, terms.currency)),
        "tax": to_jsonable(Money(terms.tax, terms.currency)),
        "tax_rate": terms.tax_rate,
        "promotion": terms.promotion,
        "pay_in": terms.pay_in,
        "rate": terms.rate,
        "market_rate": terms.market_rate,
        "spread": terms.spread,
        "method": terms.method,
        "fee": to_jsonable(Money(terms.fee, terms.pay_in)),
        "total": to_jsonable(Money(terms.total, terms.pay_in)),
        "channel": order.channel,
        "placed_by": order.placed_by,
        "expires_at": to_jsonable(order.expires_at),
        "created_at": to_jsonable(order.created_at),
        "paid_at": to_jsonable(order.paid_at),
        "fulfilled_at": to_jsonable(order.fulfilled_at),
        "receipt_number": order.receipt_number,
        "valid_until": to_jsonable(order.valid_until_after),
    }


def _details_json(details: OrderDetails) -> dict[str, Any]:
    return {
        **_order_json(details.order),
        "history": to_jsonable(list(details.history)),
        "payments": [
            {
                "provider": p.provider,
                "reference": p.reference,
                "status": p.status.value,
                "amount": to_jsonable(Money(p.amount, p.currency)),
                "decline_code": p.decline_code,
                "card_last4": p.card_last4,
                "refunded_at": to_jsonable(p.refunded_at),
                "created_at": to_jsonable(p.created_at),
            }
            for p in details.payments
        ],
    }


def _print_details(details: OrderDetails) -> None:
    order, terms, locale = details.order, details.order.terms, details.presentation.locale
    total = Money(terms.total, terms.pay_in)
    out.print(
        f"Order {order.id} — {terms.plan_code} for {order.msisdn}: {order.state.value}, "
        f"{money(total, locale)} by {terms.method}"
        + (f", receipt {order.receipt_number}" if order.receipt_number else "")
    )
    history = new_table("when (UTC)", "from", "to", "reason", title="history")
    for event in details.history:
        history.add_row(
            f"{event.created_at:%Y-%m-%d %H:%M:%S}",
            event.from_state or "",
            event.to_state,
            event.reason,
        )
    out.print(history)
    if details.payments:
        payments = new_table("provider", "reference", "status", "amount", "card", "note")
        for p in details.payments:
            note = p.decline_code or ("refunded" if p.refunded_at else "")
            payments.add_row(
                p.provider,
                p.reference or "",
                p.status.value,
                money(Money(p.amount, p.currency), locale),
                f"•••• {p.card_last4}" if p.card_last4 else "",
                note,
            )
        out.print(payments)
