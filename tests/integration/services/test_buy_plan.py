"""Buying a plan with the line's main balance, on SQLite and PostgreSQL: the price debited
once, the validity moved by calendar months in the operator's zone, the plan's minutes, SMS
and data granted until then, and a lapsing line brought back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.bootstrap import Saldo
from saldo.domain.buckets import BucketKind
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.periods import add_months, add_months_local, local_date, start_of_local_day
from saldo.services.audit import audit_ledger
from saldo.services.buy_plan import (
    NotEnoughBalance,
    PlanPurchaseReceipt,
    UnknownPlan,
    buy_plan,
)
from saldo.services.idempotency import IdempotencyKeyReused, InvalidIdempotencyKey
from saldo.services.inquire_balance import BalanceView, inquire_balance
from saldo.services.lines import LineRecycled, NewLine, add_line
from saldo.services.top_up import top_up

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
BOGOTA = "America/Bogota"
CLARO = "+573001234567"
MIB = 1024 * 1024

# A line added at NOW (10:00 in Bogotá) is valid for 30 days: to the end of 22 December.
INITIAL_VALID_UNTIL = datetime(2026, 12, 23, 5, 0, tzinfo=UTC)
# A top-up of 50.000 COP or more at NOW grants 90 days: to the end of 20 February 2027.
VALID_UNTIL_AFTER_50K = datetime(2027, 2, 21, 5, 0, tzinfo=UTC)


def cop(amount: str) -> Money:
    return Money.of(amount, "COP")


def given_line(saldo: Saldo, *amounts: str) -> None:
    """A Claro Colombia line added now and topped up with each amount in turn."""
    now = saldo.clock.now()
    add_line(saldo.uow(), new_line=NewLine(msisdn=CLARO, operator="claro-co"), now=now)
    for number, amount in enumerate(amounts):
        top_up(
            saldo.uow(),
            msisdn=CLARO,
            amount=cop(amount),
            channel=Channel.STORE,
            idempotency_key=f"topup-{number}",
            now=now,
        )


def buy(
    saldo: Saldo,
    plan_code: str = "todo-incluido-1m",
    key: str = "plan-1",
    channel: Channel = Channel.SMS,
) -> PlanPurchaseReceipt:
    return buy_plan(
        saldo.uow(),
        msisdn=CLARO,
        plan_code=plan_code,
        channel=channel,
        idempotency_key=key,
        now=saldo.clock.now(),
    )


def balance(saldo: Saldo) -> BalanceView:
    return inquire_balance(saldo.uow(), msisdn=CLARO, now=saldo.clock.now())


def plan_purchases(saldo: Saldo) -> int:
    with saldo.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(t.plan_purchases)).scalar_one()
        )


def expiries(view: BalanceView, kind: BucketKind) -> set[datetime | None]:
    return {bucket.expires_at for bucket in view.buckets if bucket.kind is kind}


def test_a_line_with_50000_buys_the_one_month_plan_and_keeps_20000(saldo: Saldo) -> None:
    given_line(saldo, "50000")
    before = balance(saldo)
    assert before.valid_until == VALID_UNTIL_AFTER_50K

    receipt = buy(saldo)

    assert receipt.price == cop("30000")
    assert receipt.balance == cop("20000")
    assert receipt.plan.code == "todo-incluido-1m"
    assert receipt.operator == "claro-co"
    assert not receipt.replayed
    assert balance(saldo).main == cop("20000")


def test_the_one_month_plan_moves_validity_by_one_calendar_month_in_bogota(
    saldo: Saldo,
) -> None:
    given_line(saldo, "50000")

    receipt = buy(saldo)

    expected = add_months_local(VALID_UNTIL_AFTER_50K, 1, timezone=BOGOTA)
    assert expected == datetime(2027, 3, 21, 5, 0, tzinfo=UTC)  # midnight, 21 March, Bogotá
    assert receipt.valid_until == expected
    assert balance(saldo).valid_until == expected


def test_the_one_month_plan_grants_its_minutes_sms_and_data_until_the_new_validity(
    saldo: Saldo,
) -> None:
    given_line(saldo, "50000")

    receipt = buy(saldo)

    view = balance(saldo)
    assert view.voice_seconds == 1000 * 60
    assert view.sms == 500
    assert view.data_bytes == 12288 * MIB
    for kind in (BucketKind.VOICE, BucketKind.SMS, BucketKind.DATA):
        assert expiries(view, kind) == {receipt.valid_until}
    assert expiries(view, BucketKind.MAIN) == {None}


def test_a_plan_purchase_is_written_to_a_clean_ledger(saldo: Saldo) -> None:
    given_line(saldo, "50000")

    receipt = buy(saldo, channel=Channel.USSD)

    report = audit_ledger(saldo.uow())
    assert report.clean
    assert report.transactions == 2
    with saldo.engine.connect() as connection:
        stored = connection.execute(
            select(t.plan_purchases).where(t.plan_purchases.c.id == receipt.purchase_id)
        ).one()
    assert stored.plan_code == "todo-incluido-1m"
    assert stored.price == cop("30000").minor
    assert stored.channel == "ussd"
    assert stored.valid_until_before == VALID_UNTIL_AFTER_50K
    assert stored.valid_until_after == receipt.valid_until
    assert stored.balance_after == cop("20000").minor


def test_the_twelve_month_plan_can_take_the_whole_balance(saldo: Saldo) -> None:
    given_line(saldo, "320000")

    receipt = buy(saldo, "todo-incluido-12m")

    assert receipt.balance == cop("0")
    assert receipt.valid_until == add_months_local(VALID_UNTIL_AFTER_50K, 12, timezone=BOGOTA)
    assert receipt.valid_until == datetime(2028, 2, 21, 5, 0, tzinfo=UTC)
    view = balance(saldo)
    assert view.main == cop("0")
    assert view.voice_seconds == 12000 * 60
    assert view.sms == 6000
    assert view.data_bytes == 147456 * MIB
    assert expiries(view, BucketKind.DATA) == {receipt.valid_until}
    assert audit_ledger(saldo.uow()).clean


def test_a_second_plan_extends_validity_from_the_end_of_the_first(saldo: Saldo) -> None:
    given_line(saldo, "50000", "10000")
    first = buy(saldo, key="plan-1")

    second = buy(saldo, key="plan-2")

    assert second.valid_until == add_months_local(first.valid_until, 1, timezone=BOGOTA)
    assert second.valid_until == datetime(2027, 4, 21, 5, 0, tzinfo=UTC)
    assert second.balance == cop("0")
    assert balance(saldo).voice_seconds == 2 * 1000 * 60
    assert audit_ledger(saldo.uow()).clean


def test_validity_ending_on_the_31st_moves_to_the_last_day_of_february(
    saldo: Saldo, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 11, 1, 15, 0, tzinfo=UTC))
    given_line(saldo, "50000")
    valid_until = balance(saldo).valid_until
    # 90 days from 1 November run to the end of 30 January: midnight, 31 January, Bogotá.
    assert valid_until == datetime(2027, 1, 31, 5, 0, tzinfo=UTC)

    receipt = buy(saldo)

    assert receipt.valid_until == add_months_local(valid_until, 1, timezone=BOGOTA)
    assert receipt.valid_until == datetime(2027, 2, 28, 5, 0, tzinfo=UTC)


def test_a_plan_on_a_lapsed_line_runs_from_today_to_local_midnight(
    saldo: Saldo, clock: FixedClock
) -> None:
    given_line(saldo, "10000", "10000", "10000")
    assert balance(saldo).valid_until == INITIAL_VALID_UNTIL
    clock.set(datetime(2027, 1, 5, 15, 0, tzinfo=UTC))  # 10:00 in Bogotá

    receipt = buy(saldo)

    # to the end of 5 February, Bogotá time: validity always ends at local midnight
    assert receipt.valid_until == datetime(2027, 2, 6, 0, 0, tzinfo=ZoneInfo(BOGOTA))


def test_a_line_in_grace_that_buys_a_plan_becomes_active(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo, "10000", "10000", "10000")
    clock.set(INITIAL_VALID_UNTIL + timedelta(days=10))
    with saldo.engine.begin() as connection:
        connection.execute(update(t.lines).values(state=LineState.GRACE.value))
    assert balance(saldo).state is LineState.GRACE

    buy(saldo)

    view = balance(saldo)
    assert view.state is LineState.ACTIVE
    assert view.main == cop("0")
    assert view.voice_seconds == 1000 * 60
    with saldo.engine.connect() as connection:
        stored = connection.execute(select(t.lines.c.state)).scalar_one()
    assert stored == "active"


def test_a_suspended_line_that_buys_a_plan_becomes_active(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo, "10000", "10000", "10000")
    clock.set(INITIAL_VALID_UNTIL + timedelta(days=45))
    assert balance(saldo).state is LineState.SUSPENDED

    receipt = buy(saldo)

    assert balance(saldo).state is LineState.ACTIVE
    today = local_date(clock.now(), timezone=BOGOTA)
    assert receipt.valid_until == start_of_local_day(
        add_months(today, 1) + timedelta(days=1), timezone=BOGOTA
    )


def test_a_line_past_suspension_cannot_buy_a_plan(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo, "50000")
    # Claro Colombia: 30 days of grace, then 60 of suspension.
    clock.set(VALID_UNTIL_AFTER_50K + timedelta(days=90))
    transactions = audit_ledger(saldo.uow()).transactions

    with pytest.raises(LineRecycled):
        buy(saldo)

    assert plan_purchases(saldo) == 0
    assert audit_ledger(saldo.uow()).transactions == transactions
    assert balance(saldo).main == cop("50000")
    assert balance(saldo).valid_until == VALID_UNTIL_AFTER_50K


def test_not_enough_balance_is_refused_with_the_price_and_the_balance(saldo: Saldo) -> None:
    given_line(saldo, "20000")

    with pytest.raises(NotEnoughBalance) as refused:
        buy(saldo)

    assert refused.value.price == cop("30000")
    assert refused.value.balance == cop("20000")
    assert refused.value.plan.code == "todo-incluido-1m"


def test_a_refused_purchase_writes_nothing(saldo: Saldo) -> None:
    given_line(saldo, "20000")
    before = balance(saldo)
    transactions = audit_ledger(saldo.uow()).transactions

    with pytest.raises(NotEnoughBalance):
        buy(saldo)

    after = balance(saldo)
    assert after.main == before.main == cop("20000")
    assert after.valid_until == before.valid_until
    assert (after.voice_seconds, after.sms, after.data_bytes) == (0, 0, 0)
    assert plan_purchases(saldo) == 0
    report = audit_ledger(saldo.uow())
    assert report.transactions == transactions
    assert report.clean


def test_a_line_with_no_money_is_told_its_balance_is_zero(saldo: Saldo) -> None:
    given_line(saldo)

    with pytest.raises(NotEnoughBalance) as refused:
        buy(saldo)

    assert refused.value.balance == cop("0")


@pytest.mark.parametrize("code", ["todo-incluido-2m", "plan-total-1m", "datos-5gb", ""])
def test_a_plan_the_operator_does_not_sell_is_refused(saldo: Saldo, code: str) -> None:
    given_line(saldo, "50000")

    with pytest.raises(UnknownPlan):
        buy(saldo, code)

    assert plan_purchases(saldo) == 0
    assert balance(saldo).main == cop("50000")


def test_a_plan_code_is_read_whatever_its_case_and_spacing(saldo: Saldo) -> None:
    given_line(saldo, "50000")

    receipt = buy(saldo, " TODO-Incluido-1M ")

    assert receipt.plan.code == "todo-incluido-1m"


def test_the_same_key_replays_the_first_purchase_and_charges_once(
    saldo: Saldo, clock: FixedClock
) -> None:
    given_line(saldo, "50000", "10000")
    first = buy(saldo, key="same-key")
    clock.advance(timedelta(minutes=5))

    again = buy(saldo, key="same-key")

    assert again.replayed and not first.replayed
    assert again.purchase_id == first.purchase_id
    assert again.balance == first.balance == cop("30000")
    assert again.valid_until == first.valid_until
    assert again.created_at == first.created_at == NOW
    view = balance(saldo)
    assert view.main == cop("30000")
    assert view.voice_seconds == 1000 * 60
    assert plan_purchases(saldo) == 1
    report = audit_ledger(saldo.uow())
    assert report.clean and report.transactions == 3


def test_the_same_key_with_another_plan_is_refused(saldo: Saldo) -> None:
    given_line(saldo, "50000", "50000")
    buy(saldo, "todo-incluido-1m", key="same-key")

    with pytest.raises(IdempotencyKeyReused):
        buy(saldo, "todo-incluido-3m", key="same-key")

    assert balance(saldo).main == cop("70000")
    assert plan_purchases(saldo) == 1


def test_an_outside_caller_cannot_take_a_key_saldo_keeps_for_itself(saldo: Saldo) -> None:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="+573001234567", operator="claro-co"),
        now=saldo.clock.now(),
    )

    with pytest.raises(InvalidIdempotencyKey):
        buy_plan(
            saldo.uow(),
            msisdn="+573001234567",
            plan_code="todo-incluido-1m",
            channel=Channel.APP,
            idempotency_key="~offer:1",
            now=saldo.clock.now(),
        )
