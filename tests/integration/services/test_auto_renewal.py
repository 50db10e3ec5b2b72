"""Auto-renewal on SQLite and PostgreSQL: renewing with a saved token a few days before the
validity ends, the retry rule (after 1 day, then 3 more, then the balance when allowed, then
the subscriber is told), and refusing to keep a card number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.bootstrap import Saldo
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.orders import OrderState
from saldo.services.audit import audit_ledger
from saldo.services.auto_renewal import (
    RenewalOutcome,
    UnableToSetAutoRenewal,
    renew_automatically,
    renew_due,
    set_auto_renewal,
)
from saldo.services.lines import NewLine, add_line
from saldo.services.orders import list_orders
from saldo.services.top_up import top_up

LINE = "+5491155551234"  # movistar-ar: 30 days of validity on activation; plan $9.000


@pytest.fixture
def line(saldo: Saldo, clock: FixedClock) -> Saldo:
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now())
    return saldo


def enable(saldo: Saldo, *, provider: str = "sandbox", token: str | None = "tok_approve",
           fallback: bool = False) -> None:  # fmt: skip
    set_auto_renewal(
        saldo.uow(), msisdn=LINE, plan_code="pack-mensual-1m", provider=provider, token=token,
        providers=saldo.payment_providers().keys(), fallback_to_balance=fallback,
        days_before=3, email=None, enabled=True, now=saldo.clock.now(),
    )  # fmt: skip


def renew(saldo: Saldo) -> RenewalOutcome:
    return renew_automatically(
        saldo.uow(), saldo.payment_providers(), msisdn=LINE,
        max_rate_age=timedelta(hours=24), now=saldo.clock.now(),
    ).outcome  # fmt: skip


def valid_until(saldo: Saldo) -> str:
    with saldo.uow().reading() as uow:
        record = uow.lines.get_by_msisdn(LINE)
        assert record is not None
        return f"{record.line.valid_until:%Y-%m-%d}"


def test_the_plan_renews_itself_three_days_before_the_validity_ends(
    line: Saldo, clock: FixedClock
) -> None:
    enable(line)

    clock.advance(timedelta(days=26))  # the validity ends on 23 December, 00:00 local
    early = renew(line)
    clock.advance(timedelta(days=2))
    due = renew(line)
    again = renew(line)

    assert (early, due, again) == (
        RenewalOutcome.NOT_DUE,
        RenewalOutcome.RENEWED,
        RenewalOutcome.NOT_DUE,
    )
    assert valid_until(line) == "2027-01-23"
    (order,) = list_orders(line.uow(), msisdn=LINE, state=None, limit=10)
    assert (order.placed_by, order.channel, order.state) == (
        "auto_renewal",
        "auto",
        OrderState.FULFILLED,
    )
    assert audit_ledger(line.uow()).clean


def test_a_declined_renewal_is_retried_after_one_then_three_days_then_from_the_balance(
    line: Saldo, clock: FixedClock
) -> None:
    enable(line, token="tok_decline", fallback=True)
    top_up(
        line.uow(), msisdn=LINE, amount=Money.of("10000", "ARS"), channel=Channel.STORE,
        idempotency_key="t1", now=clock.now(),
    )  # fmt: skip
    clock.advance(timedelta(days=58))  # the top-up made it 60 days: renew 3 days before

    outcomes = [renew(line)]
    clock.advance(timedelta(hours=23))
    outcomes.append(renew(line))
    clock.advance(timedelta(hours=1))
    outcomes.append(renew(line))
    clock.advance(timedelta(days=3))
    outcomes.append(renew(line))
    outcomes.append(renew(line))

    assert outcomes == [
        RenewalOutcome.RETRY_LATER,  # declined; again in a day
        RenewalOutcome.NOT_DUE,
        RenewalOutcome.RETRY_LATER,  # declined; again in three days
        RenewalOutcome.RETRY_LATER,  # declined; the balance next
        RenewalOutcome.RENEWED,  # paid from the balance
    ]
    orders = list_orders(line.uow(), msisdn=LINE, state=None, limit=10)
    assert [o.terms.method for o in orders] == ["balance", "card", "card", "card"]
    assert audit_ledger(line.uow()).clean


def test_after_the_last_failed_attempt_auto_renewal_stops_and_the_subscriber_is_told(
    line: Saldo, clock: FixedClock
) -> None:
    enable(line, token="tok_insufficient_funds")
    clock.advance(timedelta(days=28))

    outcomes = [renew(line)]
    for days in (1, 3):
        clock.advance(timedelta(days=days))
        outcomes.append(renew(line))
    clock.advance(timedelta(days=1))
    outcomes.append(renew(line))

    assert outcomes == [
        RenewalOutcome.RETRY_LATER,
        RenewalOutcome.RETRY_LATER,
        RenewalOutcome.GAVE_UP,
        RenewalOutcome.NOT_DUE,  # turned off
    ]
    with line.engine.connect() as connection:
        told = connection.execute(select(t.outbox.c.channel, t.outbox.c.payload)).all()
    assert [channel for channel, _ in told] == ["sms"] * 3  # every failure is told
    assert [payload["kind"] for _, payload in told] == ["auto_renewal_failed"] * 3
    assert [payload["retry_at"] is None for _, payload in told] == [False, False, True]


def test_a_card_number_is_never_kept_as_a_saved_method(line: Saldo) -> None:
    with pytest.raises(UnableToSetAutoRenewal, match="card number"):
        enable(line, token="4242 4242 4242 4242")


def test_a_processor_needs_a_token(line: Saldo) -> None:
    with pytest.raises(UnableToSetAutoRenewal, match="token"):
        enable(line, token=None)


def test_a_declining_card_then_an_approving_one_renews_once(line: Saldo, clock: FixedClock) -> None:
    enable(line, token="tok_decline")
    clock.advance(timedelta(days=28))

    declined = renew(line)
    enable(line, token="tok_approve")  # the subscriber saves another card
    approved = renew(line)
    again = renew(line)

    assert (declined, approved, again) == (
        RenewalOutcome.RETRY_LATER,
        RenewalOutcome.RENEWED,
        RenewalOutcome.NOT_DUE,
    )
    fulfilled = list_orders(line.uow(), msisdn=LINE, state=OrderState.FULFILLED, limit=10)
    assert len(fulfilled) == 1
    assert audit_ledger(line.uow()).clean


def test_the_renewals_due_are_found_past_any_page_of_lines_that_are_not(
    line: Saldo, clock: FixedClock
) -> None:
    others = ["+5491155551235", "+5491155551236", "+5491155551237", "+5491155551238"]
    for number in others:
        add_line(line.uow(), new_line=NewLine(msisdn=number, operator="movistar-ar"),
                 now=clock.now())  # fmt: skip
        set_auto_renewal(
            line.uow(), msisdn=number, plan_code="pack-mensual-1m", provider="balance",
            token=None, providers=[], fallback_to_balance=False, days_before=0, email=None,
            enabled=True, now=clock.now(),
        )  # fmt: skip
    enable(line)  # LINE was added first, but renews 3 days before: the only one due
    clock.advance(timedelta(days=28))

    counts = renew_due(
        line.uow(), line.payment_providers(), max_rate_age=timedelta(hours=1),
        now=clock.now(), limit=2,
    )  # fmt: skip

    assert (counts[RenewalOutcome.RENEWED], counts[RenewalOutcome.NOT_DUE]) == (1, 4)
