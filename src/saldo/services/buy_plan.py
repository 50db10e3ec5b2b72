"""Buying or renewing a plan paid from the line's main balance.

The price is debited in one conditional update (never below zero); the validity is extended
by the plan's calendar months in the operator's time zone (day clamped at month end), from
the current end of validity or from now if that has passed; the plan's minutes, SMS and data
are granted as buckets that expire with the new validity. A line in grace or suspension is
brought back: renewing is how a lapsing number is kept.

The operator's best plan promotion applies (or all of them, when its catalog stacks them): a
first-order discount lowers the price debited, free months lengthen the validity extension.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saldo.domain.buckets import BucketKind
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Operator, Plan
from saldo.domain.orders import OrderState
from saldo.domain.periods import renewed_until, require_aware
from saldo.domain.promotions import AppliedPromotion, best_plan_promotion
from saldo.services.fulfilment import Grant, fulfil_plan
from saldo.services.idempotency import check_key, committed_first, fingerprint, replay_of
from saldo.services.lines import line_record, line_with_buckets, live_state
from saldo.services.ports import DuplicateIdempotencyKey, LineRecord, LineWithBuckets, UnitOfWork
from saldo.services.reminders import alert_low_balance


class UnableToBuyPlan(SaldoError):
    code = "unable_to_buy_plan"


class UnknownPlan(UnableToBuyPlan):
    code = "unknown_plan"


class NotEnoughBalance(UnableToBuyPlan):
    code = "insufficient_balance"

    def __init__(self, message: str, *, plan: Plan, price: Money, balance: Money) -> None:
        super().__init__(message)
        self.plan = plan
        self.price = price
        self.balance = balance


def pay_from_balance(
    uow: UnitOfWork, *, record: LineRecord, plan: Plan, price: Money, now: datetime
) -> int:
    """Take ``price`` for ``plan`` from the line's main money (the line locked by the
    caller's open unit of work) with one conditional update, and alert the subscriber if the
    balance fell below its threshold; return the balance after. Raises NotEnoughBalance
    (nothing taken) when the balance does not cover the price."""
    balance = uow.accounts.change_balance(record.main_bucket_id, -price.minor)
    if balance is None:
        found = uow.lines.get_with_buckets(record.line.msisdn)
        current = Money(
            sum(b.balance for b in (found.buckets if found else ()) if b.kind is BucketKind.MAIN),
            price.currency,
        )
        raise NotEnoughBalance(
            f"{plan.name} costs {price}; the balance is {current}",
            plan=plan,
            price=price,
            balance=current,
        )
    alert_low_balance(
        uow,
        operator=record.operator,
        line=record.line,
        before=balance + price.minor,
        after=balance,
        now=now,
    )
    return balance


class PriceChanged(UnableToBuyPlan):
    """The plan no longer costs what the subscriber was quoted (a promotion ended, the
    catalog changed): nothing is charged, and they are told the new price."""

    code = "price_changed"

    def __init__(self, message: str, *, plan: Plan, price: Money) -> None:
        super().__init__(message)
        self.plan = plan
        self.price = price


@dataclass(frozen=True, slots=True)
class PlanPurchaseReceipt:
    purchase_id: int
    msisdn: str
    operator: str
    plan: Plan
    price: Money  # what was paid: the plan's price less any discount
    balance: Money
    valid_until: datetime
    created_at: datetime
    replayed: bool = False
    promotion: str | None = None  # the name of the promotion applied


def find_plan(operator: Operator, code: str) -> Plan:
    """The operator's plan with this code (case-insensitive); raise UnknownPlan otherwise."""
    wanted = code.strip().lower()
    for plan in operator.plans:
        if plan.code == wanted:
            return plan
    raise UnknownPlan(f"{operator.name} has no plan {code!r}")


@dataclass(frozen=True, slots=True)
class PlanQuote:
    """What buying a plan from the balance costs this line now, promotions applied."""

    plan: Plan
    price: Money
    promotion: str | None
    free_months: int
    balance: Money

    @property
    def affordable(self) -> bool:
        return self.balance >= self.price


def plan_promotion(
    uow: UnitOfWork, *, operator: Operator, line_id: int, plan: Plan, now: datetime
) -> AppliedPromotion | None:
    """The promotion a purchase of ``plan`` by this line gets now (first order or not,
    stackable or not), inside an open unit of work. Quotes and purchases both ask here, so
    what is quoted is what is charged."""
    return best_plan_promotion(
        plan,
        operator.promotions,
        first_order=is_first_order(uow, line_id=line_id),
        now=now,
        stackable=operator.promotions_stackable,
    )


def is_first_order(uow: UnitOfWork, *, line_id: int) -> bool:
    """Whether the line has never bought a plan (from its balance, or by a fulfilled order)."""
    return not (
        uow.plan_purchases.has_purchases(line_id)
        or uow.orders.recent(line_id=line_id, state=OrderState.FULFILLED, limit=1)
    )


def price_plan(uow: UnitOfWork, *, found: LineWithBuckets, plan: Plan, now: datetime) -> PlanQuote:
    """The quote for ``plan`` on a line read with its buckets, inside an open unit of work:
    the same promotion rules ``buy_plan`` applies."""
    operator = found.operator
    applied = plan_promotion(uow, operator=operator, line_id=found.line.id, plan=plan, now=now)
    main = sum(b.balance for b in found.buckets if b.kind is BucketKind.MAIN)
    return PlanQuote(
        plan=plan,
        price=plan.price if applied is None else plan.price - applied.discount,
        promotion=None if applied is None else applied.name,
        free_months=0 if applied is None else applied.free_months,
        balance=Money(main, operator.currency),
    )


def quote_plan(uow: UnitOfWork, *, msisdn: str, plan_code: str, now: datetime) -> PlanQuote:
    """What the plan would cost the line now, from its balance. Raises LineNotFound or
    UnknownPlan."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    with uow.reading():
        found = line_with_buckets(uow, number=number)
        return price_plan(uow, found=found, plan=find_plan(found.operator, plan_code), now=now)


def buy_plan(
    uow: UnitOfWork,
    *,
    msisdn: str,
    plan_code: str,
    channel: Channel,
    idempotency_key: str,
    now: datetime,
    expected_price: Money | None = None,
    saldo_key: bool = False,
) -> PlanPurchaseReceipt:
    """Buy the plan with the line's main money, exactly once per idempotency key. With
    ``expected_price`` (the price the subscriber was quoted) a different price today raises
    PriceChanged instead of charging it. ``saldo_key`` marks an idempotency key of Saldo's own
    (``internal_key``: a confirmed offer, a USSD session), which no outside caller may use.

    Raises LineNotFound, UnknownPlan, NotEnoughBalance, LineRecycled, IdempotencyKeyReused;
    nothing is written then.
    """
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    key = check_key(idempotency_key, internal_allowed=saldo_key)
    request = fingerprint("plan", number, plan_code.strip().lower(), channel.value)
    try:
        with uow:
            record = line_record(uow, number=number, for_update=True)
            plan = find_plan(record.operator, plan_code)
            assert record.operator.id is not None
            previous = uow.plan_purchases.get_by_key(
                operator_id=record.operator.id, idempotency_key=key
            )
            if previous is None:
                receipt = _buy(
                    uow,
                    expected_price=expected_price,
                    record=record,
                    plan=plan,
                    channel=channel,
                    key=key,
                    request=request,
                    now=now,
                )
                uow.commit()
                return receipt
    except DuplicateIdempotencyKey:
        record, previous = committed_first(
            uow, msisdn=number, key=key, kept_in=lambda uow: uow.plan_purchases
        )
        plan = find_plan(record.operator, plan_code)
    previous = replay_of(previous, request=request, key=key)
    return PlanPurchaseReceipt(
        purchase_id=previous.id,
        msisdn=number,
        operator=record.operator.slug,
        plan=plan,
        price=Money(previous.price, previous.currency),
        balance=Money(previous.balance_after, previous.currency),
        valid_until=previous.valid_until_after,
        created_at=previous.created_at,
        replayed=True,
        promotion=_promotion_name(record.operator, previous.promotion),
    )


def _promotion_name(operator: Operator, codes: str | None) -> str | None:
    """The name shown for the stored promotion code(s); the code itself if the catalog no
    longer lists it."""
    if codes is None:
        return None
    names = {promotion.code: promotion.name for promotion in operator.promotions}
    return " + ".join(names.get(code, code) for code in codes.split("+"))


def _buy(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    plan: Plan,
    channel: Channel,
    key: str,
    request: str,
    now: datetime,
    expected_price: Money | None,
) -> PlanPurchaseReceipt:
    line, operator, main = record.line, record.operator, record.main_bucket_id
    assert operator.id is not None
    live_state(line=line, operator=operator, now=now)
    applied = plan_promotion(uow, operator=operator, line_id=line.id, plan=plan, now=now)
    price = plan.price if applied is None else plan.price - applied.discount
    if expected_price is not None and price != expected_price:
        raise PriceChanged(
            f"{plan.name} now costs {price}, not the {expected_price} quoted",
            plan=plan,
            price=price,
        )
    free_months = 0 if applied is None else applied.free_months
    balance = pay_from_balance(uow, record=record, plan=plan, price=price, now=now)
    # The purchase row needs the new end of validity before the ledger can point at it.
    valid_until = renewed_until(
        line.valid_until, plan.months + free_months, timezone=operator.timezone, now=now
    )
    purchase_id = uow.plan_purchases.add(
        operator_id=operator.id,
        line_id=line.id,
        plan_code=plan.code,
        months=plan.months,
        price=price.minor,
        currency=price.currency,
        channel=channel.value,
        idempotency_key=key,
        request_fingerprint=request,
        valid_until_before=line.valid_until,
        valid_until_after=valid_until,
        balance_after=balance,
        now=now,
        promotion=None if applied is None else applied.code,
    )
    fulfilled = fulfil_plan(
        uow,
        operator=operator,
        line=line,
        months=plan.months + free_months,
        grants=[Grant(plan.allowances)],
        price=price,
        paid_from=main,
        event_type="plan_purchase",
        event_id=purchase_id,
        memo=f"{plan.code} via {channel.value}",
        now=now,
        balances_after={main: balance},
    )
    assert fulfilled.valid_until == valid_until
    return PlanPurchaseReceipt(
        purchase_id=purchase_id,
        msisdn=line.msisdn,
        operator=operator.slug,
        plan=plan,
        price=price,
        balance=Money(balance, price.currency),
        valid_until=valid_until,
        created_at=now,
        promotion=None if applied is None else applied.name,
    )
