"""Top-up: money into a line's main balance, validity extended, the line brought back from
grace or suspension. Every caller sends an idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saldo.domain.buckets import BucketKind
from saldo.domain.ledger import OperatorAccount, transfer
from saldo.domain.lifecycle import LineState
from saldo.domain.lines import Channel, Line
from saldo.domain.money import Money, parse_money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Operator, Presentation
from saldo.domain.periods import end_of_local_day_after, require_aware
from saldo.domain.promotions import topup_bonus_for
from saldo.domain.topup import (
    TopUpReceipt,
    check_topup_amount,
    check_topup_currency,
    receipt_number,
    valid_until_after_topup,
    validity_days_for,
)
from saldo.services.idempotency import check_key, committed_first, fingerprint, replay_of
from saldo.services.lines import line_and_operator, line_record, live_state
from saldo.services.ports import (
    DuplicateIdempotencyKey,
    LineRecord,
    NewTopUp,
    StoredTopUp,
    TopUpBonus,
    UnitOfWork,
)


def top_up(
    uow: UnitOfWork,
    *,
    msisdn: str,
    amount: Money,
    channel: Channel,
    idempotency_key: str,
    now: datetime,
) -> TopUpReceipt:
    """Credit ``amount`` to the line's main money and extend its validity, exactly once per
    idempotency key.

    A replay of the same request returns the first receipt (``replayed=True``). Raises
    LineNotFound, WrongCurrency, AmountBelowMinimum, LineRecycled, IdempotencyKeyReused or
    InvalidIdempotencyKey; nothing is written then.
    """
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    key = check_key(idempotency_key)
    request = fingerprint("topup", number, amount.minor, amount.currency, channel.value)
    try:
        with uow:
            record = line_record(uow, number=number, for_update=True, topup_key=key)
            line, operator = record.line, record.operator
            if record.earlier_topup_id is not None:
                previous = uow.topups.get_by_key(operator_id=line.operator_id, idempotency_key=key)
                first = replay_of(previous, request=request, key=key)
                return replayed_receipt(first, line=line, operator=operator)
            receipt = credit_topup(
                uow,
                record=record,
                amount=amount,
                channel=channel,
                key=key,
                request=request,
                now=now,
            )
            uow.commit()
            return receipt
    except DuplicateIdempotencyKey:
        record, previous = committed_first(
            uow, msisdn=number, key=key, kept_in=lambda uow: uow.topups
        )
        first = replay_of(previous, request=request, key=key)
        return replayed_receipt(first, line=record.line, operator=record.operator)


@dataclass(frozen=True, slots=True)
class TopUpDone:
    """A top-up's receipt and how to show it to the line."""

    receipt: TopUpReceipt
    shown: Presentation


def top_up_as_typed(
    uow: UnitOfWork,
    *,
    msisdn: str,
    amount: str,
    locale: str | None,
    channel: Channel,
    idempotency_key: str,
    now: datetime,
) -> TopUpDone:
    """``top_up`` of an amount as a person typed it ("30.000"), read in ``locale`` (None: the
    operator's own) and the operator's currency. Raises InvalidAmount, and what ``top_up``
    raises; nothing is written then."""
    record = line_and_operator(uow, msisdn=msisdn)
    line, operator = record.line, record.operator
    parsed = parse_money(
        amount, currency=operator.currency, locale=locale or operator.default_locale
    )
    receipt = top_up(
        uow,
        msisdn=line.msisdn,
        amount=parsed,
        channel=channel,
        idempotency_key=idempotency_key,
        now=now,
    )
    return TopUpDone(receipt=receipt, shown=operator.presentation_for(line.language))


def credit_topup(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    amount: Money,
    channel: Channel,
    key: str,
    request: str,
    now: datetime,
    paid_ahead: bool = False,
) -> TopUpReceipt:
    """Apply a top-up inside the caller's open unit of work (the line already locked): the
    credit, its ledger transaction, the validity, and the bonus of a top-up promotion (a
    BONUS bucket credited from the operator's PROMOTIONS account in the same ledger
    transaction). Used by ``top_up``, by auto top-up and by voucher redemption, which claims
    its voucher in the same transaction. ``paid_ahead``: the amount was taken under the
    operator's bounds of its day (a voucher sold then): only its currency is checked now."""
    line, operator, main = record.line, record.operator, record.main_bucket_id
    assert operator.id is not None
    if paid_ahead:
        check_topup_currency(amount, rules=operator.topup)
    else:
        online = channel in (Channel.WEB, Channel.APP)
        check_topup_amount(amount, rules=operator.topup, online=online)
    state_before = live_state(line=line, operator=operator, now=now)
    days = validity_days_for(amount, rules=operator.topup)
    valid_until = valid_until_after_topup(
        valid_until=line.valid_until, validity_days=days, timezone=operator.timezone, now=now
    )
    topup = NewTopUp(
        operator_id=operator.id,
        line_id=line.id,
        idempotency_key=key,
        request_fingerprint=request,
        amount=amount.minor,
        currency=amount.currency,
        channel=channel.value,
        validity_days=days,
        state_before=state_before,
        valid_until_before=line.valid_until,
        valid_until_after=valid_until,
        now=now,
    )
    source = uow.accounts.operator_account(
        operator_id=operator.id, kind=OperatorAccount.TOPUPS, unit=amount.currency, now=now
    )
    postings = transfer(
        from_account=source, to_account=main, unit=amount.currency, amount=amount.minor
    )
    memo = f"top-up via {channel.value}"
    earned = topup_bonus_for(amount, operator.promotions, now)
    bonus: TopUpBonus | None = None
    if earned is not None:
        promotion, credit = earned
        bucket = uow.accounts.open_bucket(
            operator_id=operator.id,
            line_id=line.id,
            kind=BucketKind.BONUS,
            unit=credit.currency,
            expires_at=end_of_local_day_after(
                now, promotion.bonus_validity_days, timezone=operator.timezone
            ),
            now=now,
        )
        bonus = TopUpBonus(bucket_id=bucket, amount=credit.minor)
        promotions = uow.accounts.operator_account(
            operator_id=operator.id, kind=OperatorAccount.PROMOTIONS, unit=credit.currency, now=now
        )
        postings += transfer(
            from_account=promotions, to_account=bucket, unit=credit.currency, amount=credit.minor
        )
        memo = f"{memo}, bonus {promotion.code}"
    # Every write at once (one round trip on PostgreSQL), the bonus's with them.
    topup_id, balance = uow.topups.credit(
        topup,
        main_bucket_id=main,
        bonus=bonus,
        postings=postings,
        memo=memo,
        reactivate=line.state is not LineState.ACTIVE,
    )
    return TopUpReceipt(
        topup_id=topup_id,
        receipt_number=receipt_number(topup_id, operator_slug=operator.slug),
        msisdn=line.msisdn,
        operator=operator.slug,
        amount=amount,
        balance=Money(balance, amount.currency),
        valid_until=valid_until,
        state_before=state_before,
        channel=channel,
        created_at=now,
        bonus=None if earned is None else earned[1],
    )


def replayed_receipt(previous: StoredTopUp, *, line: Line, operator: Operator) -> TopUpReceipt:
    """The receipt of a top-up already applied, given again (``replayed=True``)."""
    return TopUpReceipt(
        topup_id=previous.id,
        receipt_number=receipt_number(previous.id, operator_slug=operator.slug),
        msisdn=line.msisdn,
        operator=operator.slug,
        amount=Money(previous.amount, previous.currency),
        balance=Money(previous.balance_after, previous.currency),
        valid_until=previous.valid_until_after,
        state_before=previous.state_before,
        channel=Channel(previous.channel),
        created_at=previous.created_at,
        replayed=True,
        bonus=None if previous.bonus is None else Money(previous.bonus, previous.currency),
    )
