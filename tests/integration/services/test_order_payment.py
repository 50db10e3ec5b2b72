"""What must not lose or double money when things go wrong around a payment, on SQLite and
PostgreSQL: the process dying right after the processor charged, a retry that the processor
refuses after a lost answer, two payments for one order at the same moment."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.adapters.payments import sandbox as cards
from saldo.bootstrap import Saldo
from saldo.domain.lines import Channel
from saldo.domain.numbering import mask_msisdn
from saldo.domain.orders import OrderState
from saldo.services.audit import audit_ledger
from saldo.services.auto_renewal import RenewalOutcome, renew_due, set_auto_renewal
from saldo.services.lines import NewLine, add_line
from saldo.services.order_payment import PaymentInProgress, pay_order
from saldo.services.orders import (
    PlacedBy,
    UnableToOrder,
    create_order,
    order_details,
)
from saldo.services.ports.payments import (
    PaymentProvider,
    PaymentRefused,
    PaymentResult,
    PaymentTimedOut,
)
from saldo.services.reconciliation import reconcile_payments
from tests.payments import Flaky

LINE = "+5491155551234"  # movistar-ar


@pytest.fixture
def placed(saldo: Saldo, clock: FixedClock) -> tuple[Saldo, int]:
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now())
    order = create_order(
        saldo.uow(), msisdn=LINE, plan_code="pack-mensual-1m", pay_in="ARS", method="card",
        email=None, channel=Channel.WEB, placed_by=PlacedBy.SUBSCRIBER, idempotency_key="o-1",
        max_rate_age=timedelta(hours=1), now=clock.now(),
    )  # fmt: skip
    return saldo, order.id


def sandbox(saldo: Saldo) -> cards.SandboxProvider:
    real = saldo.payment_providers()["sandbox"]
    assert isinstance(real, cards.SandboxProvider)
    return real


def charges(saldo: Saldo) -> int:
    """Payments the sandbox took, less those it gave back."""
    db = sqlite3.connect(saldo.settings.sandbox_path)
    try:
        taken = db.execute("SELECT COUNT(*) FROM payments WHERE settled = 'succeeded'").fetchone()
        refunds = db.execute("SELECT COUNT(*) FROM refunds").fetchone()
    finally:
        db.close()
    return int(taken[0]) - int(refunds[0])


def fulfilments(saldo: Saldo, order_id: int) -> int:
    with saldo.engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(
                    t.ledger_transactions.c.event_type == "order",
                    t.ledger_transactions.c.event_id == order_id,
                )
            ).scalar_one()
        )


def test_a_process_that_dies_after_the_charge_loses_nothing(
    placed: tuple[Saldo, int], clock: FixedClock
) -> None:
    saldo, order_id = placed
    dying: dict[str, PaymentProvider] = {"sandbox": Flaky(sandbox(saldo), [RuntimeError("killed")])}

    with pytest.raises(RuntimeError):
        pay_order(
            saldo.uow(), dying, order_id=order_id, provider="sandbox",
            source=cards.APPROVE, idempotency_key="p-1", now=clock.now(),
        )  # fmt: skip
    clock.advance(timedelta(minutes=1))
    done = reconcile_payments(saldo.uow(), saldo.payment_providers(), now=clock.now())

    assert (done.checked, done.settled) == (1, 1)
    assert order_details(saldo.uow(), order_id=order_id).order.state is OrderState.FULFILLED
    assert (charges(saldo), fulfilments(saldo, order_id)) == (1, 1)
    assert audit_ledger(saldo.uow()).clean


def test_a_retry_refused_after_a_lost_answer_is_never_taken_for_a_decline(
    placed: tuple[Saldo, int], clock: FixedClock
) -> None:
    saldo, order_id = placed
    flaky: dict[str, PaymentProvider] = {
        "sandbox": Flaky(
            sandbox(saldo), [PaymentTimedOut("no answer"), PaymentRefused("key reused")]
        )
    }

    first = pay_order(
        saldo.uow(), flaky, order_id=order_id, provider="sandbox",
        source=cards.APPROVE, idempotency_key="p-1", now=clock.now(),
    )  # fmt: skip
    with pytest.raises(PaymentInProgress):
        pay_order(
            saldo.uow(), flaky, order_id=order_id, provider="sandbox",
            source=cards.DECLINE, idempotency_key="p-1", now=clock.now(),
        )  # fmt: skip
    with pytest.raises(PaymentInProgress):  # nor may a second payment start meanwhile
        pay_order(
            saldo.uow(), flaky, order_id=order_id, provider="sandbox",
            source=cards.APPROVE, idempotency_key="p-2", now=clock.now(),
        )  # fmt: skip
    clock.advance(timedelta(minutes=1))
    reconcile_payments(saldo.uow(), saldo.payment_providers(), now=clock.now())

    assert first.state is OrderState.AWAITING_PAYMENT
    assert order_details(saldo.uow(), order_id=order_id).order.state is OrderState.FULFILLED
    assert (charges(saldo), fulfilments(saldo, order_id)) == (1, 1)


def test_two_payments_for_one_order_at_the_same_moment_charge_once(
    placed: tuple[Saldo, int], clock: FixedClock
) -> None:
    saldo, order_id = placed
    providers = saldo.payment_providers()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def pay(key: str) -> None:
        start.wait()
        try:
            paid = pay_order(
                saldo.uow(), providers, order_id=order_id, provider="sandbox",
                source=cards.APPROVE, idempotency_key=key, now=clock.now(),
            )  # fmt: skip
            outcomes.append(paid.state.value)
        except UnableToOrder as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=pay, args=(key,)) for key in ("p-1", "p-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) in (
        ["fulfilled", "order_not_payable"],
        ["fulfilled", "payment_in_progress"],
    )
    assert (charges(saldo), fulfilments(saldo, order_id)) == (1, 1)
    assert audit_ledger(saldo.uow()).clean


def test_the_reconciliation_pass_runs_the_auto_renewals_that_are_due(
    placed: tuple[Saldo, int], clock: FixedClock
) -> None:
    saldo, _ = placed
    set_auto_renewal(
        saldo.uow(), msisdn=LINE, plan_code="pack-mensual-1m", provider="sandbox",
        token="tok_approve", providers=["sandbox"], fallback_to_balance=False, days_before=3,
        email=None, enabled=True, now=clock.now(),
    )  # fmt: skip
    clock.advance(timedelta(days=28))

    counts = renew_due(
        saldo.uow(), saldo.payment_providers(), max_rate_age=timedelta(hours=1), now=clock.now()
    )

    assert counts[RenewalOutcome.RENEWED] == 1


class Recording(Flaky):
    """The sandbox, keeping what each request told the processor."""

    def __init__(self, real: cards.SandboxProvider) -> None:
        super().__init__(real, [])
        self.descriptions: list[str] = []

    def create_payment(self, **request: object) -> PaymentResult:
        self.descriptions.append(str(request["description"]))
        return super().create_payment(**request)


def test_the_processor_sees_the_order_but_never_the_subscriber_s_whole_number(
    placed: tuple[Saldo, int], clock: FixedClock
) -> None:
    saldo, order_id = placed
    recording = Recording(sandbox(saldo))

    pay_order(
        saldo.uow(), {"sandbox": recording}, order_id=order_id, provider="sandbox",
        source=cards.APPROVE, idempotency_key="p-1", now=clock.now(),
    )  # fmt: skip

    (description,) = recording.descriptions
    assert description.startswith(f"Order {order_id}: pack-mensual-1m for ")
    assert LINE not in description and description.endswith(mask_msisdn(LINE))
