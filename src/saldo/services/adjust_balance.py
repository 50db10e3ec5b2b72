"""Manual adjustments by operator staff: a credit or a debit of one bucket, with a reason and
the person who made it, written to the ledger like any other movement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from saldo.domain.buckets import BucketKind, unit_of
from saldo.domain.errors import SaldoError
from saldo.domain.ledger import OperatorAccount, transfer
from saldo.domain.money import MAX_MINOR, Money, parse_money, smallest_amount
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Presentation
from saldo.domain.periods import require_aware
from saldo.services.charge_usage import MAX_QUANTITY
from saldo.services.idempotency import check_key, committed_first, fingerprint, replay_of
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import line_and_operator, line_record
from saldo.services.ports import DuplicateIdempotencyKey, StoredAdjustment, UnitOfWork
from saldo.services.reminders import alert_low_balance

# No bucket takes more in one go: money as any amount Saldo takes (10^15 minor units), data
# as usage is (a terabyte), talk and SMS as a person could use them (a million minutes is
# nearly two years of talk without a break; a million SMS): a typo of a few zeros is refused,
# and a balance stays far from the 64-bit limit of its column.
MAX_ALLOWANCE: Final = {
    BucketKind.VOICE: 1_000_000 * 60,
    BucketKind.SMS: 1_000_000,
    BucketKind.DATA: MAX_QUANTITY,
}
_ALLOWANCE_UNITS: Final = {
    BucketKind.VOICE: "1,000,000 minutes (60,000,000 seconds)",
    BucketKind.SMS: "1,000,000 SMS",
    BucketKind.DATA: f"{MAX_QUANTITY:,} bytes (a terabyte)",
}
# The reason is kept in the ledger's memo and shown in the audit trail: a sentence, not a
# file. An actor is a person's name or login (its column holds 128 characters).
MAX_REASON: Final = 200
MAX_ACTOR: Final = 128


class UnableToAdjust(SaldoError):
    code = "unable_to_adjust"


class InsufficientBalance(UnableToAdjust):
    code = "insufficient_balance"


@dataclass(frozen=True, slots=True)
class AdjustmentReceipt:
    adjustment_id: int
    msisdn: str
    kind: BucketKind
    unit: str
    amount: int
    balance: int
    created_at: datetime
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class AdjustmentDone:
    """An adjustment's receipt, how to show it, the expiry its bucket was given and the
    line's total in that kind of balance afterwards (every bucket of the kind)."""

    receipt: AdjustmentReceipt
    shown: Presentation
    expires_at: datetime | None
    line_total: int


def adjust_as_typed(
    uow: UnitOfWork,
    *,
    msisdn: str,
    kind: BucketKind,
    amount: str,
    debit: bool,
    reason: str,
    actor: str,
    idempotency_key: str,
    now: datetime,
    expires_on: date | None = None,
) -> AdjustmentDone:
    """``adjust_balance`` of an amount as staff typed it: money in the operator's locale and
    currency, or a whole number of seconds, SMS or bytes; ``debit`` takes it away. A bucket
    "expiring on 2026-12-31" lasts to the end of that day in the operator's time zone. Raises
    InvalidAmount, UnableToAdjust and what ``adjust_balance`` raises; nothing is written then."""
    record = line_and_operator(uow, msisdn=msisdn)
    line, operator = record.line, record.operator
    if kind.is_money:
        minor = parse_money(
            amount, currency=operator.currency, locale=operator.default_locale
        ).minor
    elif amount.isascii() and amount.isdigit() and int(amount) > 0:
        minor = int(amount)  # adjust_balance bounds it
    else:
        raise UnableToAdjust(
            f"{amount!r}: allowances are whole positive numbers of seconds, SMS or bytes"
        )
    expires_at = None
    if expires_on is not None:
        day_end = datetime.combine(expires_on, time.max, tzinfo=ZoneInfo(operator.timezone))
        expires_at = day_end.astimezone(UTC)
    receipt = adjust_balance(
        uow,
        msisdn=line.msisdn,
        kind=kind,
        amount=-minor if debit else minor,
        reason=reason,
        actor=actor,
        idempotency_key=idempotency_key,
        expires_at=expires_at,
        now=now,
    )
    view = inquire_balance(uow, msisdn=line.msisdn, now=now)
    return AdjustmentDone(
        receipt=receipt,
        shown=operator.presentation_for(line.language),
        expires_at=expires_at,
        line_total=sum(bucket.amount for bucket in view.buckets if bucket.kind is kind),
    )


def adjust_balance(
    uow: UnitOfWork,
    *,
    msisdn: str,
    kind: BucketKind,
    amount: int,
    reason: str,
    actor: str,
    idempotency_key: str,
    now: datetime,
    expires_at: datetime | None = None,
) -> AdjustmentReceipt:
    """Add ``amount`` (minor units, seconds, SMS or bytes; negative to debit) to the line's
    bucket of ``kind`` that expires at ``expires_at`` (None: never).

    A debit below zero raises InsufficientBalance. Also raises LineNotFound, UnableToAdjust
    (zero amount, more than MAX_MINOR or MAX_ALLOWANCE, no reason or actor, a reason longer
    than MAX_REASON or an actor longer than MAX_ACTOR characters, expiry on main money),
    IdempotencyKeyReused; nothing is written then.
    """
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    key = check_key(idempotency_key)
    if amount == 0:
        raise UnableToAdjust("an adjustment moves a non-zero amount")
    if kind.is_money and abs(amount) > MAX_MINOR:
        raise UnableToAdjust(f"an adjustment moves at most {MAX_MINOR:,} minor units")
    if not kind.is_money and abs(amount) > MAX_ALLOWANCE[kind]:
        raise UnableToAdjust(f"an allowance is at most {_ALLOWANCE_UNITS[kind]} in one adjustment")
    if not reason.strip() or not actor.strip():
        raise UnableToAdjust("an adjustment needs a reason and the name of who made it")
    if len(reason.strip()) > MAX_REASON:
        raise UnableToAdjust(
            f"a reason is at most {MAX_REASON} characters (this one has {len(reason.strip())})"
        )
    if len(actor.strip()) > MAX_ACTOR:
        raise UnableToAdjust(
            f"an actor's name is at most {MAX_ACTOR} characters (this one has {len(actor.strip())})"
        )
    if kind is BucketKind.MAIN and expires_at is not None:
        raise UnableToAdjust("main money does not expire on its own date")
    expiry = None if expires_at is None else require_aware(expires_at)
    if expiry is not None and expiry <= now:
        raise UnableToAdjust("that expiry has already passed")
    request = fingerprint("adjust", number, kind.value, amount, expiry, reason, actor)
    try:
        with uow:
            record = line_record(uow, number=number, for_update=True)
            line, operator = record.line, record.operator
            assert operator.id is not None
            previous = uow.adjustments.get_by_key(operator_id=operator.id, idempotency_key=key)
            if previous is not None:
                first = replay_of(previous, request=request, key=key)
                return _replay(first, msisdn=number, kind=kind)
            unit = unit_of(kind, currency=operator.currency)
            if kind.is_money and amount % smallest_amount(unit):
                raise UnableToAdjust(f"amounts in {unit} are whole units")
            bucket = uow.accounts.open_bucket(
                operator_id=operator.id,
                line_id=line.id,
                kind=kind,
                unit=unit,
                expires_at=expiry,
                now=now,
            )
            balance = uow.accounts.change_balance(bucket, amount)
            if balance is None:
                shown = Money(-amount, unit) if kind.is_money else f"{-amount} {unit.lower()}"
                raise InsufficientBalance(f"the {kind.value} balance is lower than {shown}")
            if kind is BucketKind.MAIN and amount < 0:
                alert_low_balance(
                    uow, operator=operator, line=line, before=balance - amount, after=balance,
                    now=now,
                )  # fmt: skip
            adjustment_id = uow.adjustments.add(
                operator_id=operator.id,
                line_id=line.id,
                account_id=bucket,
                idempotency_key=key,
                request_fingerprint=request,
                amount=amount,
                unit=unit,
                reason=reason.strip(),
                actor=actor.strip(),
                balance_after=balance,
                now=now,
            )
            counterpart = uow.accounts.operator_account(
                operator_id=operator.id, kind=OperatorAccount.ADJUSTMENTS, unit=unit, now=now
            )
            source, target = (counterpart, bucket) if amount > 0 else (bucket, counterpart)
            uow.ledger.record(
                operator_id=operator.id,
                line_id=line.id,
                event_type="adjustment",
                event_id=adjustment_id,
                postings=transfer(
                    from_account=source, to_account=target, unit=unit, amount=abs(amount)
                ),
                balances_after={bucket: balance},
                memo=f"{actor.strip()}: {reason.strip()}",
                now=now,
            )
            uow.commit()
            return AdjustmentReceipt(
                adjustment_id=adjustment_id,
                msisdn=number,
                kind=kind,
                unit=unit,
                amount=amount,
                balance=balance,
                created_at=now,
            )
    except DuplicateIdempotencyKey:
        _, previous = committed_first(
            uow, msisdn=number, key=key, kept_in=lambda uow: uow.adjustments
        )
        return _replay(replay_of(previous, request=request, key=key), msisdn=number, kind=kind)


def _replay(previous: StoredAdjustment, *, msisdn: str, kind: BucketKind) -> AdjustmentReceipt:
    """The receipt of an adjustment already made, given again (``replayed=True``)."""
    return AdjustmentReceipt(
        adjustment_id=previous.id,
        msisdn=msisdn,
        kind=kind,
        unit=previous.unit,
        amount=previous.amount,
        balance=previous.balance_after,
        created_at=previous.created_at,
        replayed=True,
    )
