"""Scratch-card vouchers: generating a batch, redeeming a PIN, voiding a batch.

A PIN is redeemed once, even when two handsets send it at the same moment: the voucher is
claimed by one conditional update, in the same transaction as the top-up it pays for. A line
that types five wrong PINs within 24 hours may not redeem for the next 24 hours.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money, parse_money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Presentation
from saldo.domain.periods import add_months_local, require_aware
from saldo.domain.topup import TopUpReceipt, WrongCurrency, check_topup_amount
from saldo.domain.vouchers import (
    PIN_LENGTH,
    WRONG_PIN_BLOCK,
    WRONG_PIN_WINDOW,
    MalformedPin,
    VoucherState,
    blocked_until,
    pin_from_random_digits,
    pin_hash,
    read_pin,
    wrong_pins_left,
)
from saldo.services.idempotency import fingerprint, internal_key
from saldo.services.lines import line_and_operator, line_record
from saldo.services.operators import UnknownOperator, get_operator
from saldo.services.ports import LineRecord, UnitOfWork, VoucherBatch
from saldo.services.top_up import credit_topup, replayed_receipt


class UnableToRedeem(SaldoError):
    code = "unable_to_redeem"


class WrongPin(UnableToRedeem):
    code = "wrong_pin"

    def __init__(self, message: str, *, attempts_left: int) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left


class RedemptionBlocked(UnableToRedeem):
    code = "redemption_blocked"

    def __init__(self, message: str, *, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class VoucherAlreadyUsed(UnableToRedeem):
    code = "voucher_used"


class VoucherExpired(UnableToRedeem):
    code = "voucher_expired"


class VoucherVoided(UnableToRedeem):
    code = "voucher_void"


class UnableToGenerate(SaldoError):
    code = "unable_to_generate"


# A printed card outlives its price list only so long: a date further ahead is a typo
# (2207 for 2027) more often than a plan.
MAX_YEARS_VALID: Final = 5


class UnknownBatch(SaldoError):
    code = "unknown_batch"


@dataclass(frozen=True, slots=True)
class GeneratedVoucher:
    serial: str
    pin: str


@dataclass(frozen=True, slots=True)
class GeneratedBatch:
    batch_id: int
    operator: str
    value: Money
    expires_at: datetime
    vouchers: tuple[GeneratedVoucher, ...]


@dataclass(frozen=True, slots=True)
class BatchMade:
    """A new batch, PINs included, and how to show its amounts (the operator's own)."""

    batch: GeneratedBatch
    shown: Presentation


@dataclass(frozen=True, slots=True)
class BatchListing:
    """Voucher batches, and the locale each operator's amounts are shown in (by its id)."""

    batches: list[VoucherBatch]
    locales: Mapping[int, str]


@dataclass(frozen=True, slots=True)
class RedemptionDone:
    """A voucher's top-up receipt and how to show it to the line."""

    receipt: TopUpReceipt
    shown: Presentation


def random_pin_digits() -> str:
    """15 random digits, each uniform and independent: one number below 10**15, drawn from
    the system's source at once (a draw per digit cost ten times more)."""
    return f"{secrets.randbelow(10 ** (PIN_LENGTH - 1)):0{PIN_LENGTH - 1}d}"


def generate_vouchers(
    uow: UnitOfWork,
    *,
    operator: str,
    value: Money,
    count: int,
    expires_at: datetime,
    created_by: str,
    pin_key: bytes,
    now: datetime,
    random_digits: Callable[[], str] = random_pin_digits,
    on_vouchers: Callable[[int], None] | None = None,
    deliver: Callable[[GeneratedBatch], None] | None = None,
) -> GeneratedBatch:
    """Make ``count`` vouchers worth ``value`` each, valid until ``expires_at``, and store
    them (PINs as keyed hashes only). The PINs are in the result and nowhere else.

    ``deliver`` receives the batch, PINs included, before it is committed: when it raises
    (the export file could not be written), nothing is stored, so no voucher ever exists
    whose PIN nobody has. ``on_vouchers`` is told how many new PINs each round drew.

    Raises UnknownOperator, WrongCurrency, AmountBelowMinimum, AmountAboveMaximum or
    UnableToGenerate.
    """
    now = require_aware(now)
    expires_at = require_aware(expires_at)
    if not 1 <= count <= 1_000_000:
        raise UnableToGenerate("a batch holds from 1 to 1,000,000 vouchers")
    if expires_at <= now:
        raise UnableToGenerate("the vouchers would already be expired")
    latest = add_months_local(now, 12 * MAX_YEARS_VALID, timezone="UTC")
    if expires_at > latest:
        raise UnableToGenerate(
            f"vouchers expire at most {MAX_YEARS_VALID} years ahead (by {latest:%Y-%m-%d})"
        )
    with uow:
        found = uow.operators.get_by_slug(operator)
        if found is None or found.id is None:
            raise UnknownOperator(f"no operator {operator!r}")
        if value.currency != found.currency:
            raise WrongCurrency(f"vouchers here are in {found.currency}, not {value.currency}")
        check_topup_amount(value, rules=found.topup)  # a voucher is a top-up, paid ahead
        hashed = _new_pins(
            uow, count=count, pin_key=pin_key, draw=random_digits, on_pins=on_vouchers
        )
        pins = list(hashed.values())
        batch_id, serials = uow.vouchers.add_batch(
            operator_id=found.id,
            value=value.minor,
            currency=value.currency,
            expires_at=expires_at,
            pin_hashes=list(hashed),
            created_by=created_by,
            now=now,
        )
        batch = GeneratedBatch(
            batch_id=batch_id,
            operator=operator,
            value=value,
            expires_at=expires_at,
            vouchers=tuple(
                GeneratedVoucher(serial=serial, pin=pin)
                for serial, pin in zip(serials, pins, strict=True)
            ),
        )
        if deliver is not None:
            deliver(batch)
        uow.commit()
    return batch


def generate_vouchers_as_typed(
    uow: UnitOfWork,
    *,
    operator: str,
    value: str,
    count: int,
    expires_on: date,
    created_by: str,
    pin_key: bytes,
    now: datetime,
    on_vouchers: Callable[[int], None] | None = None,
    deliver: Callable[[GeneratedBatch], None] | None = None,
) -> BatchMade:
    """``generate_vouchers`` of a face value as staff typed it in the operator's locale and
    currency, valid to the end of ``expires_on`` in the operator's time zone. Raises
    InvalidAmount and what ``generate_vouchers`` raises; nothing is stored then."""
    found = get_operator(uow, slug=operator)
    face = parse_money(value, currency=found.currency, locale=found.default_locale)
    last_day = datetime.combine(expires_on, time.max, tzinfo=ZoneInfo(found.timezone))
    batch = generate_vouchers(
        uow,
        operator=operator,
        value=face,
        count=count,
        expires_at=last_day.astimezone(UTC),
        created_by=created_by,
        pin_key=pin_key,
        now=now,
        on_vouchers=on_vouchers,
        deliver=deliver,
    )
    return BatchMade(batch=batch, shown=found.presentation())


def _new_pins(
    uow: UnitOfWork,
    *,
    count: int,
    pin_key: bytes,
    draw: Callable[[], str],
    on_pins: Callable[[int], None] | None,
) -> dict[str, str]:
    """``count`` PINs that are neither repeated in the batch nor issued before (any such PIN
    is drawn again), each under its keyed hash, in the order drawn."""
    pins: dict[str, str] = {}
    while len(pins) < count:
        fresh: dict[str, str] = {}
        while len(pins) + len(fresh) < count:
            pin = pin_from_random_digits(draw())
            hashed = pin_hash(pin, key=pin_key)
            if hashed not in pins and hashed not in fresh:
                fresh[hashed] = pin
        for hashed in uow.vouchers.taken_pin_hashes(list(fresh)):
            del fresh[hashed]
        pins.update(fresh)
        if on_pins is not None:
            on_pins(len(fresh))
    return pins


def redeem_voucher(
    uow: UnitOfWork,
    *,
    msisdn: str,
    pin: str,
    channel: Channel,
    pin_key: bytes,
    now: datetime,
) -> TopUpReceipt:
    """Top the line up with the voucher whose PIN was typed, and use the voucher up.

    Raises LineNotFound, RedemptionBlocked, WrongPin (with the attempts left),
    VoucherAlreadyUsed, VoucherExpired, VoucherVoided, LineRecycled. A refused PIN changes no
    balance; it is only counted against the line. The PIN of a voucher this line already used
    (a gateway's retry, a subscriber sending it twice) gets that top-up's receipt again,
    marked replayed, and is not counted.
    """
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    with uow:
        record = line_record(uow, number=number, for_update=True)
        line, operator = record.line, record.operator
        assert operator.id is not None
        history = uow.vouchers.wrong_attempts_since(
            line_id=line.id, since=now - WRONG_PIN_WINDOW - WRONG_PIN_BLOCK
        )
        until = blocked_until(history, now=now)
        if until is not None:
            raise RedemptionBlocked(
                f"too many wrong PINs: try again after {until:%Y-%m-%d %H:%M} UTC", until=until
            )
        try:
            typed = read_pin(pin)
        except MalformedPin as error:
            refusal: UnableToRedeem = WrongPin(error.message, attempts_left=0)
            claimed = None
        else:
            hashed = pin_hash(typed, key=pin_key)
            claimed = uow.vouchers.claim(
                pin_hash=hashed, operator_id=operator.id, line_id=line.id, now=now
            )
            if claimed is None:
                outcome = _unclaimed(uow, hashed=hashed, record=record, now=now)
                if isinstance(outcome, TopUpReceipt):
                    return outcome  # this line's own voucher, sent again: its receipt
                refusal = outcome
        if claimed is None:
            uow.vouchers.record_attempt(
                operator_id=operator.id, line_id=line.id, succeeded=False, now=now
            )
            uow.commit()
            history.append(now)
            until = blocked_until(history, now=now)
            if until is not None:
                raise RedemptionBlocked(
                    f"too many wrong PINs: try again after {until:%Y-%m-%d %H:%M} UTC", until=until
                )
            if isinstance(refusal, WrongPin):
                refusal.attempts_left = wrong_pins_left(history, now=now)
            raise refusal
        receipt = credit_topup(
            uow,
            record=record,
            amount=Money(claimed.value, claimed.currency),
            channel=channel,
            key=internal_key("voucher", claimed.id),
            request=fingerprint("voucher", claimed.serial, number),
            now=now,
            paid_ahead=True,  # its value was checked against the bounds when it was sold
        )
        uow.vouchers.link_topup(claimed.id, topup_id=receipt.topup_id)
        uow.vouchers.record_attempt(
            operator_id=operator.id, line_id=line.id, succeeded=True, now=now
        )
        uow.commit()
        return receipt


def _unclaimed(
    uow: UnitOfWork, *, hashed: str, record: LineRecord, now: datetime
) -> TopUpReceipt | UnableToRedeem:
    """Why a PIN could not be claimed; or, when its voucher already topped this very line up,
    that top-up's receipt. Another operator's PIN reads as a wrong PIN."""
    operator = record.operator
    assert operator.id is not None
    status = uow.vouchers.status(pin_hash=hashed)
    if status is None or status.operator_id != operator.id:
        return WrongPin("no such PIN", attempts_left=0)
    if status.state is VoucherState.REDEEMED:
        earlier = uow.topups.get_by_key(
            operator_id=operator.id, idempotency_key=internal_key("voucher", status.id)
        )
        if earlier is not None and earlier.line_id == record.line.id:
            return replayed_receipt(earlier, line=record.line, operator=operator)
        return VoucherAlreadyUsed("this PIN was already used")
    if status.state is VoucherState.VOID:
        return VoucherVoided("this PIN was cancelled")
    uow.vouchers.mark_expired(status.id, now=now)
    return VoucherExpired("this PIN has expired")


def redeem_voucher_shown(
    uow: UnitOfWork,
    *,
    msisdn: str,
    pin: str,
    channel: Channel,
    pin_key: bytes,
    now: datetime,
) -> RedemptionDone:
    """``redeem_voucher``, with how to show its receipt to the line; raises what it raises."""
    receipt = redeem_voucher(uow, msisdn=msisdn, pin=pin, channel=channel, pin_key=pin_key, now=now)
    record = line_and_operator(uow, msisdn=receipt.msisdn)
    return RedemptionDone(
        receipt=receipt, shown=record.operator.presentation_for(record.line.language)
    )


def void_batch(
    uow: UnitOfWork, *, batch_id: int, operator: str | None = None, now: datetime
) -> int:
    """Void every unredeemed voucher of the batch; return how many. Raises UnknownBatch."""
    with uow:
        operator_id = None
        if operator is not None:
            found = uow.operators.get_by_slug(operator)
            if found is None:
                raise UnknownOperator(f"no operator {operator!r}")
            operator_id = found.id
        voided = uow.vouchers.void_batch(batch_id, operator_id=operator_id, now=require_aware(now))
        if voided < 0:
            raise UnknownBatch(f"no voucher batch {batch_id}")
        uow.commit()
    return voided


def list_batches(
    uow: UnitOfWork, *, now: datetime, operator: str | None = None
) -> list[VoucherBatch]:
    with uow.reading():
        operator_id = None
        if operator is not None:
            found = uow.operators.get_by_slug(operator)
            if found is None:
                raise UnknownOperator(f"no operator {operator!r}")
            operator_id = found.id
        return uow.vouchers.batches(operator_id=operator_id, now=require_aware(now))


def voucher_batches(uow: UnitOfWork, *, now: datetime, operator: str | None = None) -> BatchListing:
    """``list_batches``, with the locale each operator's amounts are shown in."""
    batches = list_batches(uow, now=now, operator=operator)
    with uow.reading():
        locales = {found.id: found.default_locale for found in uow.operators.list()}
    return BatchListing(
        batches=batches,
        locales={key: value for key, value in locales.items() if key is not None},
    )
