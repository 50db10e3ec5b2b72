"""Two workers renewing one line at once, on SQLite and PostgreSQL: the second replays the
first's order and payment (the same keys), and a declined attempt is counted, scheduled and
told to the subscriber once, whichever worker records it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.bootstrap import Saldo
from saldo.services import auto_renewal
from saldo.services.auto_renewal import RenewalOutcome, renew_automatically, set_auto_renewal
from saldo.services.lines import NewLine, add_line
from saldo.services.order_payment import pay_order

LINE = "+5491155551234"  # movistar-ar: 30 days of validity on activation


def renew(saldo: Saldo, *, late: timedelta = timedelta()) -> RenewalOutcome:
    return renew_automatically(
        saldo.uow(),
        saldo.payment_providers(),
        msisdn=LINE,
        max_rate_age=timedelta(hours=24),
        now=saldo.clock.now() + late,
    ).outcome


def test_a_declined_attempt_seen_by_two_workers_is_counted_and_told_once(
    saldo: Saldo, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now())
    set_auto_renewal(
        saldo.uow(), msisdn=LINE, plan_code="pack-mensual-1m", provider="sandbox",
        token="tok_decline", providers=saldo.payment_providers().keys(),
        fallback_to_balance=False, days_before=3, email=None, enabled=True, now=clock.now(),
    )  # fmt: skip
    clock.advance(timedelta(days=28))
    # Given a second worker that runs the whole attempt, a minute later by its clock, while
    # the first is paying (both read the setting before either recorded anything),
    second: list[RenewalOutcome] = []

    def paying(*args: Any, **kwargs: Any) -> Any:
        try:
            return pay_order(*args, **kwargs)
        finally:
            if not second:
                second.append(RenewalOutcome.NOT_DUE)  # running
                second[0] = renew(saldo, late=timedelta(minutes=1))

    monkeypatch.setattr(auto_renewal, "pay_order", paying)

    # when the first worker's attempt is declined too,
    first = renew(saldo)

    # then both say a retry is scheduled, the failure is counted once and told once.
    assert (first, second) == (RenewalOutcome.RETRY_LATER, [RenewalOutcome.RETRY_LATER])
    with saldo.engine.connect() as db:
        failures = db.execute(select(t.auto_renewals.c.failures)).scalar_one()
        told = db.execute(
            select(t.outbox.c.key).where(t.outbox.c.key.like("auto-renewal-failed-%"))
        ).all()
        orders = db.execute(select(t.orders.c.id)).all()
        payments = db.execute(select(t.payments.c.status)).all()
    assert failures == 1
    assert len(told) == 1
    assert len(orders) == 1 and [p.status for p in payments] == ["failed"]
